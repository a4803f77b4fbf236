/**
 * Templates and options templates of NetFlow v9 and IPFIX, keyed per (exporter, domain, template
 * id): each Domain holds its own Map by id (ids are small integers, so the lookup per data set
 * does not allocate). The cache bounds them all together:
 *
 *  - at most `maxTemplates` templates (default 100,000), and
 *  - at most `maxFields` fields across them (default 2,000,000),
 *
 * evicting the oldest-learnt first when either is exceeded. Measured (template-cache.test.ts):
 * 100,000 templates of 20 fields take 31.6 MB of heap, 332 bytes each — about 90 bytes of Template
 * object, 150 of typed-array headers, 30 of map entry, and 12 bytes per field (element id and op,
 * length, PEN). Worst case with the defaults: 100,000 × ~270 B + 2,000,000 fields × 12 B ≈ 51 MB,
 * plus the domain table (0.8 MB for 16,384 exporter/domain pairs).
 *
 * A refresh with the same layout keeps the existing object (exporters resend templates every few
 * seconds, and that must not allocate); a changed layout replaces it.
 */
import type { Domain } from './domains.js';
import { isCounter, Op, opFor, varlenOp } from './elements.js';
import type { FlowStats } from './stats.js';

/** Marks a variable-length field (RFC 7011 §7) in Template.lens. */
export const VARLEN = 65535;

/** Words per field in Template.fields. */
export const FIELD_WORDS = 3;

export class Template {
  /** Still in its domain's map (false once withdrawn, replaced or evicted). */
  live = true;
  readonly fieldCount: number;
  /** Sum of fixed lengths, or -1 when a field is variable-length. */
  readonly fixedLen: number;
  /** Shortest possible record (a variable-length field takes at least its 1 length byte). */
  readonly minLen: number;
  /** True when some field carries packets or bytes. */
  readonly hasCounters: boolean;

  constructor(
    readonly domain: Domain,
    readonly id: number,
    readonly options: boolean,
    /** Scope fields come first (options templates), this many of them. */
    readonly scopeCount: number,
    /**
     * FIELD_WORDS words per field: element id | op << 16, length (VARLEN for variable), PEN (0 for
     * IETF elements). One typed array per template: each typed array costs ~150 bytes of headers,
     * which is most of a template's memory.
     */
    readonly fields: Uint32Array,
  ) {
    const n = fields.length / FIELD_WORDS;
    this.fieldCount = n;
    let fixed = 0;
    let min = 0;
    let varlen = false;
    let counters = false;
    for (let i = 0; i < n; i++) {
      const l = fields[i * FIELD_WORDS + 1] as number;
      if (l === VARLEN) {
        varlen = true;
        min += 1;
      } else {
        fixed += l;
        min += l;
      }
      if (isCounter(this.op(i))) counters = true;
    }
    this.fixedLen = varlen ? -1 : fixed;
    this.minLen = min;
    this.hasCounters = counters;
  }

  ie(i: number): number {
    return (this.fields[i * FIELD_WORDS] as number) & 0xffff;
  }

  op(i: number): Op {
    return ((this.fields[i * FIELD_WORDS] as number) >>> 16) as Op;
  }

  len(i: number): number {
    return this.fields[i * FIELD_WORDS + 1] as number;
  }

  pen(i: number): number {
    return this.fields[i * FIELD_WORDS + 2] as number;
  }
}

/** Largest field count a template may have: a 65,535-byte set holds at most this many 4-byte specifiers. */
export const MAX_TEMPLATE_FIELDS = 16383;

/**
 * Scratch for the template being read: the parsers fill it field by field, then `put` compares it
 * with what the domain has and allocates only for a new or changed layout.
 */
export class TemplateScratch {
  readonly ies = new Uint16Array(MAX_TEMPLATE_FIELDS);
  readonly pens = new Uint32Array(MAX_TEMPLATE_FIELDS);
  readonly lens = new Uint16Array(MAX_TEMPLATE_FIELDS);
  count = 0;
  scopeCount = 0;
}

export interface TemplateCacheOptions {
  maxTemplates?: number;
  maxFields?: number;
}

export class TemplateCache {
  readonly maxTemplates: number;
  readonly maxFields: number;
  /** Live templates and their fields. */
  count = 0;
  fields = 0;
  /** Learnt order, oldest first, for eviction; dead entries are skipped and compacted away. */
  private order: Template[] = [];
  private head = 0;

  constructor(
    private readonly stats: FlowStats,
    opts: TemplateCacheOptions = {},
  ) {
    this.maxTemplates = Math.max(1, opts.maxTemplates ?? 100_000);
    this.maxFields = Math.max(MAX_TEMPLATE_FIELDS, opts.maxFields ?? 2_000_000);
  }

  /**
   * Learn (or refresh) template `id` of `domain` from the scratch. `v9` marks NetFlow v9, whose
   * options scope fields are not elements. Returns the live template, or null when it was refused.
   */
  put(domain: Domain, id: number, options: boolean, s: TemplateScratch, v9: boolean): Template | null {
    const n = s.count;
    const old = domain.templates.get(id);
    if (old !== undefined && old.options === options && sameLayout(old, s)) {
      this.stats.templateRefreshes++;
      return old;
    }
    const fields = new Uint32Array(n * FIELD_WORDS);
    for (let i = 0; i < n; i++) {
      const ie = s.ies[i] as number;
      const pen = s.pens[i] as number;
      const len = s.lens[i] as number;
      if (pen !== 0) this.stats.enterpriseFields++;
      let op = len === VARLEN ? (pen === 0 ? varlenOp(ie) : Op.SKIP) : opFor(ie, pen, len, v9 && options && i < s.scopeCount);
      if (op === -1) {
        this.stats.oddFieldLengths++;
        op = Op.SKIP;
      } else if (op === Op.START_TIMEVAL || op === Op.END_TIMEVAL) this.stats.timestampLen16++;
      fields[i * FIELD_WORDS] = (ie | (op << 16)) >>> 0;
      fields[i * FIELD_WORDS + 1] = len;
      fields[i * FIELD_WORDS + 2] = pen;
    }
    const t = new Template(domain, id, options, s.scopeCount, fields);
    if (t.minLen === 0) {
      // Every field is zero bytes long: a data set would hold endless records. Refuse it.
      this.stats.malformedTemplates++;
      return null;
    }
    if (old !== undefined) {
      this.stats.templateChanges++;
      this.drop(old);
    } else if (options) this.stats.optionsTemplates++;
    else this.stats.templates++;
    domain.templates.set(id, t);
    this.count++;
    this.fields += n;
    this.order.push(t);
    this.evict();
    return t.live ? t : null;
  }

  /** Withdraw one template (IPFIX field count 0); returns whether it existed. */
  withdraw(domain: Domain, id: number): boolean {
    const t = domain.templates.get(id);
    if (t === undefined) return false;
    this.drop(t);
    this.stats.templateWithdrawals++;
    return true;
  }

  /** Withdraw all (options) templates of a domain (IPFIX template id 2 / 3 with field count 0). */
  withdrawAll(domain: Domain, options: boolean): void {
    for (const t of [...domain.templates.values()]) {
      if (t.options === options) {
        this.drop(t);
        this.stats.templateWithdrawals++;
      }
    }
  }

  /** Forget every template of a domain that is going away (domain table eviction). */
  dropDomain(domain: Domain): void {
    for (const t of [...domain.templates.values()]) this.drop(t);
  }

  private drop(t: Template): void {
    if (!t.live) return;
    t.live = false;
    if (t.domain.templates.get(t.id) === t) t.domain.templates.delete(t.id);
    this.count--;
    this.fields -= t.fieldCount;
  }

  private evict(): void {
    while (this.count > this.maxTemplates || this.fields > this.maxFields) {
      const t = this.order[this.head++];
      if (t === undefined) break;
      if (t.live) {
        this.drop(t);
        this.stats.templateEvictions++;
      }
    }
    // Compact the learnt-order list once it is mostly dead entries, so it stays O(live templates).
    if (this.head >= 1024 && this.head * 2 >= this.order.length) {
      this.order = this.order.slice(this.head).filter((t) => t.live);
      this.head = 0;
    } else if (this.order.length > 4 * this.maxTemplates + 1024) {
      this.order = this.order.slice(this.head).filter((t) => t.live);
      this.head = 0;
    }
  }
}

function sameLayout(t: Template, s: TemplateScratch): boolean {
  const n = s.count;
  if (t.fieldCount !== n || t.scopeCount !== s.scopeCount) return false;
  const f = t.fields;
  for (let i = 0, o = 0; i < n; i++, o += FIELD_WORDS) {
    if (((f[o] as number) & 0xffff) !== s.ies[i] || f[o + 1] !== s.lens[i] || f[o + 2] !== s.pens[i]) return false;
  }
  return true;
}
