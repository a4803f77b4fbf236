/**
 * IP lists: importers for the formats lists come in, and the combination rules.
 *
 * Formats: plain (one entry per line, `#`, `;` and `//` comments, trailing notes after
 * whitespace), Spamhaus DROP/EDROP (`prefix ; SBLnnn`), FireHOL netsets (one entry per line,
 * `#` comments, nothing else on the line), CSV (a chosen column by index or header name,
 * optional weight column, quoted fields) and JSON (an array of strings or objects, an object
 * holding such an array, or NDJSON such as Spamhaus' drop_v4.json). Entries are addresses,
 * CIDR prefixes (host bits cleared, with a warning) or `a-b` ranges (split into prefixes).
 *
 * Bad lines are collected as problems with their line number; they never stop the import.
 *
 * Kinds: `block` and `allow` lists act before the rules, and an allow list wins over every
 * block list; `reputation` lists give a weight (per list, or per entry from a CSV column);
 * every list is also a named list `$name` for rule expressions.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import { compareBytes, formatPrefix, maskBytes, type Prefix, parsePrefixes } from '../core/net/prefix.js';
import { IpTrie } from '../core/net/trie.js';
import type { PacketView } from '../decode/view.js';

export type ListFormat = 'plain' | 'spamhaus' | 'firehol' | 'csv' | 'json';
export type ListKind = 'block' | 'allow' | 'reputation' | 'named';

export interface ListEntry {
  prefix: Prefix;
  /** 1-based line of the source text. */
  line: number;
  /** Per-entry weight (CSV weight column, JSON weight field), when the source gives one. */
  weight?: number;
  /** What followed the entry: a Spamhaus SBL id, a trailing comment, a JSON field. */
  note?: string;
}

export interface ListProblem {
  line: number;
  message: string;
  /** `error`: the line was skipped; `warning`: it was taken with a fix (e.g. host bits cleared). */
  severity: 'error' | 'warning';
}

export interface ImportOptions {
  format?: ListFormat | 'auto';
  /** CSV: column index (0-based) or header name of the address column. Default 0. */
  column?: number | string;
  /** CSV: column index or header name holding a per-entry weight. */
  weightColumn?: number | string;
  /** CSV: delimiter; default: the first of `,` `;` tab found in the first data line. */
  delimiter?: string;
  /** CSV: the first line is a header (default: true when `column` is a name, else detected). */
  header?: boolean;
  /** JSON: property holding the address in object items (default: cidr, ip, prefix, network, address, ip_prefix, ipv6_prefix). */
  field?: string;
  /** JSON: property holding a weight in object items. */
  weightField?: string;
}

export interface ParsedList {
  format: ListFormat;
  entries: ListEntry[];
  problems: ListProblem[];
}

const JSON_FIELDS = ['cidr', 'ip', 'prefix', 'network', 'address', 'ip_prefix', 'ipv6_prefix', 'net', 'range'];

/** Guess the format from the text (and the file name when given). */
export function detectFormat(text: string, fileName = ''): ListFormat {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.json') || lower.endsWith('.ndjson')) return 'json';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.netset') || lower.endsWith('.ipset')) return 'firehol';
  const head = text.trimStart();
  if (head.startsWith('[') || head.startsWith('{')) return 'json';
  const sample = text.slice(0, 65536);
  if (/^\s*[0-9a-fA-F:.]+\/\d+\s*;\s*SBL\d+/m.test(sample)) return 'spamhaus';
  return 'plain';
}

export function parseList(text: string, opts: ImportOptions = {}, fileName = ''): ParsedList {
  const format = opts.format === undefined || opts.format === 'auto' ? detectFormat(text, fileName) : opts.format;
  const entries: ListEntry[] = [];
  const problems: ListProblem[] = [];
  const take = (token: string, line: number, extra: { weight?: number; note?: string } = {}): void => {
    const ps = parsePrefixes(token);
    if (typeof ps === 'string') {
      problems.push({ line, message: ps, severity: 'error' });
      return;
    }
    const slash = token.indexOf('/');
    if (slash > 0 && ps.length === 1) {
      const p = ps[0] as Prefix;
      const raw = parsePrefixes(token.slice(0, slash));
      if (Array.isArray(raw) && compareBytes((raw[0] as Prefix).addr, maskBytes((raw[0] as Prefix).addr, p.len)) !== 0) {
        problems.push({
          line,
          message: `host bits set in "${token}", taken as ${formatPrefix(p)}`,
          severity: 'warning',
        });
      }
    }
    for (const p of ps) {
      const e: ListEntry = { prefix: p, line };
      if (extra.weight !== undefined) e.weight = extra.weight;
      if (extra.note !== undefined && extra.note !== '') e.note = extra.note;
      entries.push(e);
    }
  };
  switch (format) {
    case 'plain':
    case 'firehol':
    case 'spamhaus':
      parseLines(text, format, take, problems);
      break;
    case 'csv':
      parseCsv(text, opts, take, problems);
      break;
    case 'json':
      parseJson(text, opts, take, problems);
      break;
  }
  return { format, entries, problems };
}

function parseLines(
  text: string,
  format: 'plain' | 'firehol' | 'spamhaus',
  take: (token: string, line: number, extra?: { weight?: number; note?: string }) => void,
  problems: ListProblem[],
): void {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let s = (lines[i] as string).replace(/\r$/, '');
    if (format === 'spamhaus') {
      // `1.10.16.0/20 ; SBL256894`; comment lines start with `;`.
      const semi = s.indexOf(';');
      const note = semi >= 0 ? s.slice(semi + 1).trim() : '';
      s = (semi >= 0 ? s.slice(0, semi) : s).trim();
      if (s === '') continue;
      take(s, lineNo, { note });
      continue;
    }
    let note = '';
    const hash = s.indexOf('#');
    if (hash >= 0) {
      note = s.slice(hash + 1).trim();
      s = s.slice(0, hash);
    }
    if (format === 'plain') {
      for (const mark of [';', '//']) {
        const k = s.indexOf(mark);
        if (k >= 0) {
          note = s.slice(k + mark.length).trim();
          s = s.slice(0, k);
        }
      }
    }
    s = s.trim();
    if (s === '') continue;
    const parts = s.split(/\s+/);
    if (parts.length > 1) {
      if (format === 'firehol') {
        problems.push({
          line: lineNo,
          message: `expected one address or prefix per line, found "${s}"`,
          severity: 'error',
        });
        continue;
      }
      note = parts.slice(1).join(' ');
    }
    take(parts[0] as string, lineNo, { note });
  }
}

/** Split one CSV line (RFC 4180 quoting: "a,b" and "" for a quote). */
function splitCsv(line: string, delim: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (q) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          cur += '"';
          i++;
        } else q = false;
      } else cur += c;
    } else if (c === '"' && cur.trim() === '') {
      q = true;
      cur = '';
    } else if (c === delim) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

function parseCsv(text: string, opts: ImportOptions, take: (token: string, line: number, extra?: { weight?: number; note?: string }) => void, problems: ListProblem[]): void {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  let first = 0;
  while (first < lines.length && ((lines[first] as string).trim() === '' || (lines[first] as string).trimStart().startsWith('#'))) first++;
  if (first >= lines.length) return;
  const firstLine = lines[first] as string;
  const delim = opts.delimiter ?? [',', ';', '\t'].find((d) => firstLine.includes(d)) ?? ',';
  const col = opts.column ?? 0;
  const headerCells = splitCsv(firstLine, delim);
  let header = opts.header;
  if (header === undefined) {
    header = typeof col === 'string' || typeof opts.weightColumn === 'string' || typeof parsePrefixes(headerCells[typeof col === 'number' ? col : 0] ?? '') === 'string';
  }
  const resolve = (c: number | string, what: string): number => {
    if (typeof c === 'number') return c;
    if (!header) throw new InputError(`CSV ${what} "${c}" is a name but the file has no header line`, 'E_INPUT');
    const k = headerCells.findIndex((h) => h.toLowerCase() === c.toLowerCase());
    if (k < 0) throw new InputError(`CSV ${what} "${c}" is not in the header (${headerCells.join(', ')})`, 'E_INPUT');
    return k;
  };
  const ci = resolve(col, 'column');
  const wi = opts.weightColumn === undefined ? -1 : resolve(opts.weightColumn, 'weight column');
  for (let i = header ? first + 1 : first; i < lines.length; i++) {
    const raw = lines[i] as string;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const cells = splitCsv(raw, delim);
    const v = cells[ci];
    if (v === undefined || v === '') {
      problems.push({
        line: i + 1,
        message: `no value in column ${ci + 1}`,
        severity: 'error',
      });
      continue;
    }
    const extra: { weight?: number } = {};
    if (wi >= 0) {
      const w = Number(cells[wi]);
      if (!Number.isFinite(w)) {
        problems.push({
          line: i + 1,
          message: `weight "${cells[wi] ?? ''}" in column ${wi + 1} is not a number`,
          severity: 'error',
        });
        continue;
      }
      extra.weight = w;
    }
    take(v, i + 1, extra);
  }
}

function parseJson(text: string, opts: ImportOptions, take: (token: string, line: number, extra?: { weight?: number; note?: string }) => void, problems: ListProblem[]): void {
  const lineAt = makeLineAt(text);
  // Items are located in the text by searching forward for their string, for line numbers.
  let cursor = 0;
  const locate = (s: string): number => {
    const k = text.indexOf(JSON.stringify(s), cursor);
    if (k < 0) return lineAt(cursor);
    cursor = k + 1;
    return lineAt(k);
  };
  const visitItem = (item: unknown, fallbackLine: number): void => {
    if (typeof item === 'string') {
      take(item, locate(item));
      return;
    }
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      const o = item as Record<string, unknown>;
      const key = opts.field ?? JSON_FIELDS.find((f) => typeof o[f] === 'string');
      const v = key === undefined ? undefined : o[key];
      if (typeof v !== 'string') {
        // Metadata records in NDJSON feeds (e.g. Spamhaus' {"type":"metadata",...}) are skipped.
        if (o.type === 'metadata') return;
        problems.push({
          line: fallbackLine,
          message: `object has no address field (${opts.field ?? JSON_FIELDS.join(', ')})`,
          severity: 'error',
        });
        return;
      }
      const line = locate(v);
      const extra: { weight?: number; note?: string } = {};
      if (opts.weightField !== undefined) {
        const w = o[opts.weightField];
        if (typeof w !== 'number') {
          problems.push({
            line,
            message: `"${opts.weightField}" is not a number`,
            severity: 'error',
          });
          return;
        }
        extra.weight = w;
      }
      const note = o.sblid ?? o.comment ?? o.description;
      if (typeof note === 'string') extra.note = note;
      take(v, line, extra);
      return;
    }
    problems.push({
      line: fallbackLine,
      message: `expected a string or an object, found ${JSON.stringify(item)?.slice(0, 40)}`,
      severity: 'error',
    });
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // NDJSON: one JSON value per line.
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const s = (lines[i] as string).trim();
      if (s === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch (e) {
        problems.push({
          line: i + 1,
          message: `not JSON: ${(e as Error).message}`,
          severity: 'error',
        });
        continue;
      }
      cursor = text.indexOf(s, cursor);
      visitItem(v, i + 1);
    }
    return;
  }
  const visitArray = (a: unknown[]): void => {
    for (const item of a) {
      if (item !== null && typeof item === 'object') {
        // Step to this object's opening brace (the text is searched forward for line numbers).
        const k = text.indexOf('{', cursor + (cursor === 0 && text.trimStart().startsWith('{') ? text.indexOf('{') + 1 : 0));
        if (k >= 0) cursor = k + 1;
      }
      visitItem(item, lineAt(cursor));
    }
  };
  if (Array.isArray(doc)) visitArray(doc);
  else if (doc !== null && typeof doc === 'object') {
    const o = doc as Record<string, unknown>;
    let found = false;
    for (const v of Object.values(o)) {
      if (Array.isArray(v)) {
        visitArray(v);
        found = true;
      }
    }
    if (!found) visitItem(doc, 1);
  } else {
    problems.push({
      line: 1,
      message: 'expected a JSON array or object',
      severity: 'error',
    });
  }
}

function makeLineAt(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (off) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= off) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

export interface ListSpec {
  name: string;
  kind?: ListKind;
  /** Reputation weight of a match (entries may carry their own). Default 100 for reputation lists. */
  weight?: number;
  /** Which address an allow/block list tests: the source (default), the destination, or either. */
  match?: 'src' | 'dst' | 'either';
}

/** A named IP list: its prefixes in a trie whose values are entry weights. */
export class IpList {
  readonly name: string;
  readonly kind: ListKind;
  readonly weight: number;
  readonly match: 'src' | 'dst' | 'either';
  readonly trie = new IpTrie<number>();
  readonly problems: ListProblem[] = [];
  /** Where the entries came from (file names), for messages. */
  readonly sources: string[] = [];

  constructor(spec: ListSpec) {
    if (!/^[a-z0-9_]+$/.test(spec.name)) throw new InputError(`list name "${spec.name}": use lowercase letters, digits and _ (it is written $${spec.name} in rules)`, 'E_INPUT');
    this.name = spec.name;
    this.kind = spec.kind ?? 'named';
    this.weight = spec.weight ?? (this.kind === 'reputation' ? 100 : 0);
    this.match = spec.match ?? 'src';
  }

  get size(): number {
    return this.trie.size;
  }

  addEntries(parsed: ParsedList, source = 'inline'): this {
    this.sources.push(source);
    for (const e of parsed.entries) this.trie.insert(e.prefix, e.weight ?? this.weight);
    this.problems.push(...parsed.problems);
    return this;
  }

  addText(text: string, opts: ImportOptions = {}, source = 'inline'): this {
    return this.addEntries(parseList(text, opts, source), source);
  }

  addFile(path: string, opts: ImportOptions = {}): this {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new InputError(`list ${this.name}: ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, 'E_INPUT');
    }
    return this.addText(text, opts, path);
  }

  has4(addr: number): boolean {
    return this.trie.lookup4(addr) >= 0;
  }

  has6(buf: Uint8Array, off: number): boolean {
    return this.trie.lookup6(buf, off) >= 0;
  }

  /** Weight of the longest matching entry, 0 when none. */
  weight4(addr: number): number {
    const id = this.trie.lookup4(addr);
    return id < 0 ? 0 : this.trie.value(id);
  }

  weight6(buf: Uint8Array, off: number): number {
    const id = this.trie.lookup6(buf, off);
    return id < 0 ? 0 : this.trie.value(id);
  }

  /** Does the packet's source (or destination) address fall in the list? False for non-IP packets. */
  hasSrc(v: PacketView): boolean {
    if (v.ipVersion === 4) return this.trie.lookup4(v.src4) >= 0;
    if (v.ipVersion === 6) return this.trie.lookup6(v.buf, v.src6Off) >= 0;
    return false;
  }

  hasDst(v: PacketView): boolean {
    if (v.ipVersion === 4) return this.trie.lookup4(v.dst4) >= 0;
    if (v.ipVersion === 6) return this.trie.lookup6(v.buf, v.dst6Off) >= 0;
    return false;
  }

  /** Does the packet match the list the way `match` says? */
  matches(v: PacketView): boolean {
    if (this.match === 'src') return this.hasSrc(v);
    if (this.match === 'dst') return this.hasDst(v);
    return this.hasSrc(v) || this.hasDst(v);
  }

  /**
   * The list as a minimal set of non-overlapping prefixes per family (prefixes inside another
   * listed prefix are dropped; the covered addresses are exactly the same), sorted. This is what
   * exporters put into nftables interval sets and ipsets.
   */
  cover(): { v4: Prefix[]; v6: Prefix[] } {
    const all = [...this.trie.entries()].map((e) => e.prefix);
    const out = { v4: [] as Prefix[], v6: [] as Prefix[] };
    for (const fam of [4, 6] as const) {
      const ps = all.filter((p) => p.family === fam).sort((a, b) => compareBytes(a.addr, b.addr) || a.len - b.len);
      const keep: Prefix[] = [];
      for (const p of ps) {
        const last = keep[keep.length - 1];
        if (last !== undefined && last.len <= p.len && compareBytes(maskBytes(p.addr, last.len), last.addr) === 0) continue;
        keep.push(p);
      }
      if (fam === 4) out.v4 = keep;
      else out.v6 = keep;
    }
    return out;
  }
}

/** Verdicts of the allow/block lists. */
export enum ListVerdict {
  NONE = 0,
  ALLOW = 1,
  BLOCK = 2,
}

/**
 * The lists of a ruleset or config. Allow lists win over block lists; reputation is the sum of
 * the weights of matching reputation lists, capped at 100.
 */
export class ListSet {
  private readonly byName = new Map<string, IpList>();
  private allow: IpList[] = [];
  private block: IpList[] = [];
  private reputation: IpList[] = [];

  add(list: IpList): this {
    if (this.byName.has(list.name)) throw new InputError(`list "${list.name}" is defined twice`, 'E_INPUT');
    this.byName.set(list.name, list);
    if (list.kind === 'allow') this.allow.push(list);
    else if (list.kind === 'block') this.block.push(list);
    else if (list.kind === 'reputation') this.reputation.push(list);
    return this;
  }

  get(name: string): IpList | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): IpList[] {
    return [...this.byName.values()];
  }

  allowLists(): IpList[] {
    return this.allow;
  }

  blockLists(): IpList[] {
    return this.block;
  }

  /** The allow list that matches the packet, if any (these win over block lists). */
  allowedBy(v: PacketView): IpList | null {
    for (const l of this.allow) if (l.matches(v)) return l;
    return null;
  }

  /** The block list that matches the packet, if any; null when an allow list matches first. */
  blockedBy(v: PacketView): IpList | null {
    if (this.allowedBy(v) !== null) return null;
    for (const l of this.block) if (l.matches(v)) return l;
    return null;
  }

  verdict(v: PacketView): ListVerdict {
    if (this.allowedBy(v) !== null) return ListVerdict.ALLOW;
    for (const l of this.block) if (l.matches(v)) return ListVerdict.BLOCK;
    return ListVerdict.NONE;
  }

  /** Reputation score of an IPv4 address: sum of matching reputation weights, 0–100. */
  reputation4(addr: number): number {
    let s = 0;
    for (const l of this.reputation) s += l.weight4(addr);
    return s > 100 ? 100 : s;
  }

  reputation6(buf: Uint8Array, off: number): number {
    let s = 0;
    for (const l of this.reputation) s += l.weight6(buf, off);
    return s > 100 ? 100 : s;
  }

  reputationSrc(v: PacketView): number {
    if (v.ipVersion === 4) return this.reputation4(v.src4);
    if (v.ipVersion === 6) return this.reputation6(v.buf, v.src6Off);
    return 0;
  }
}
