/**
 * Signature search: from the reservoir sample of what a victim received, find a conjunction of
 * packet-field constraints that keeps (almost) every attack packet and drops as many of the
 * victim's other packets as possible, and write it in the Rules language.
 *
 * Greedy set cover: start from the destination and the class's defining constraint (flags, a
 * protocol, a reflector source port, ...), then repeatedly add the candidate — one value, a small
 * set of values, or a quantile range of one field — that removes the most remaining non-attack
 * packets while losing at most 0.2% of the attack's. Fields with one value across the attack
 * (destination port, window) are added last: they cost nothing and make the rule narrower.
 * The result is checked for real later, by compiling it and running it over the capture.
 */
import { formatIpv4, formatIpv6 } from '../../core/net/ip.js';
import { Cls } from './classify.js';
import type { VictimSample } from './sample.js';
import { SAMPLE_COLUMNS, SEARCH_FIELDS, type SearchField, searchField } from './signature-fields.js';
import type { Track } from './track.js';

type Field = SearchField;

const udp = (s: VictimSample, r: number) => s.l4[r] === 17;

type Constraint = { field: Field; kind: 'set'; values: number[] } | { field: Field; kind: 'notset'; values: number[] } | { field: Field; kind: 'range'; lo: number; hi: number };

function matches(c: Constraint, s: VictimSample, r: number): boolean {
  const x = c.field.get(s, r);
  if (Number.isNaN(x)) return false;
  if (c.kind === 'set') return c.values.includes(x);
  if (c.kind === 'notset') return !c.values.includes(x);
  return x >= c.lo && x <= c.hi;
}

function text(c: Constraint): string {
  const f = c.field;
  const fmt = (x: number) => (f.hex ? `0x${x.toString(16).padStart(2, '0')}` : String(x));
  if (c.kind === 'set') return c.values.length === 1 ? `${f.name} == ${fmt(c.values[0] as number)}` : `${f.name} in {${c.values.map(fmt).join(' ')}}`;
  if (c.kind === 'notset') return c.values.length === 1 ? `${f.name} != ${fmt(c.values[0] as number)}` : `not ${f.name} in {${c.values.map(fmt).join(' ')}}`;
  return c.lo === c.hi ? `${f.name} == ${fmt(c.lo)}` : `${f.name} in {${c.lo}..${c.hi}}`;
}

export interface Signature {
  expression: string;
  /** The destination constraint and the other top-level conjuncts, as Rules-language text. */
  dst: string;
  parts: string[];
  /** `(parts) or ip.frag_offset > 0`: the reflection's non-first fragments are included. */
  fragAlt: boolean;
  /** Traffic classes whose packets to the victim form the attack. */
  classes: number[];
  /** The victim port when the attack aims at one. */
  port?: number;
  /** Distinct sources in the sample's attack rows and whether a few of them carry it all. */
  fewSources: string[] | null;
  /** On the sample: share of attack rows kept, and estimated non-attack packets matched (stdin fallback). */
  sampleCoverage: number;
  sampleOther: number;
  /** The class-defining conjuncts alone (flags, protocol, service port, the target port): what a source list is combined with. */
  baseParts: string[];
  /** A source-list signature: the list's name and its addresses (`parts` holds `ip.src in $name`). */
  list?: { name: string; addresses: string[] };
  /** The same signature with the list written out as a set, for measuring it (lists are not compiled by name). */
  measured?: string;
}

const LOSS_STEP = 0.004;
const LOSS_TOTAL = 0.008;
const SET_SHARE = 0.997;

export function victimText(tr: Track): string {
  if (tr.fam === 4) {
    const a = tr.addr;
    const u = (((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0;
    return formatIpv4(u);
  }
  return formatIpv6(tr.addr);
}

/**
 * The victim constraint. A tunnel flood's victim is the encapsulating header's destination (the
 * detector keys GRE packets by it): `ip.*` describes the innermost packet, so it is `outer.ip.dst`.
 */
export function victimExpr(tr: Track): string {
  const f = tr.cls === Cls.GRE ? 'outer.ip.dst' : 'ip.dst';
  return tr.isPrefix ? `${f} in {${victimText(tr)}/${tr.prefixLen}}` : `${f} == ${victimText(tr)}`;
}

/** Constraints that define the class itself. */
function classBase(cls: number, A: number[], s: VictimSample, share: number): { text: string; test: (r: number) => boolean; extra: Constraint[] } {
  const flagsField = searchField('tcp.flags');
  switch (cls) {
    case Cls.TCP_SYN:
    case Cls.TCP_SYNACK:
    case Cls.TCP_ACK:
    case Cls.TCP_RST:
    case Cls.TCP_ANOMALY: {
      const vals = topValues(A, s, flagsField, 8, Math.min(share + 0.001, 0.998));
      const c: Constraint = { field: flagsField, kind: 'set', values: vals ?? [] };
      return { text: '', test: () => true, extra: vals ? [c] : [] };
    }
    case Cls.UDP:
      return { text: 'ip.proto == "udp"', test: (r) => s.proto[r] === 17, extra: [] };
    case Cls.ICMP: {
      const v6 = A.length > 0 && s.proto[A[0] as number] === 58;
      return { text: `ip.proto == "${v6 ? 'icmpv6' : 'icmp'}"`, test: (r) => s.proto[r] === (v6 ? 58 : 1), extra: [] };
    }
    case Cls.FRAG:
      return { text: 'ip.frag_offset > 0', test: (r) => (s.frag[r] as number) > 0, extra: [] };
    case Cls.DNS_QUERY:
      return { text: 'udp.dstport == 53', test: (r) => udp(s, r) && s.dport[r] === 53, extra: [] };
    case Cls.GRE:
      return { text: '', test: () => true, extra: [] };
    case Cls.IPPROTO: {
      const f = searchField('ip.proto.num');
      const vals = topValues(A, s, f, 8, 0.99);
      return { text: '', test: () => true, extra: vals ? [{ field: f, kind: 'set', values: vals }] : [] };
    }
    default: {
      // Reflection: the service's source port(s).
      const sp = searchField('udp.srcport');
      const vals = topValues(A, s, sp, 4, 0.99);
      return { text: '', test: () => true, extra: vals ? [{ field: sp, kind: 'set', values: vals }] : [] };
    }
  }
}

/** The fewest most common values of a field covering `share` of rows, or null if more than `max`. */
function topValues(rows: number[], s: VictimSample, f: Field, max: number, share: number): number[] | null {
  const e = histogram(rows, s, f).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const out: number[] = [];
  let cum = 0;
  for (const [x, n] of e) {
    if (cum >= share * rows.length) break;
    if (out.length >= max) return null;
    out.push(x);
    cum += n;
  }
  if (cum < share * rows.length) return null;
  return out.sort((a, b) => a - b);
}

/** Counts of small integer values (most fields), reused between calls; zero between calls. */
const SMALL = new Int32Array(65536);
const seenSmall = new Int32Array(65536);

/** [value, rows] for each value of a field among rows (NaN: no value): in a typed array when every value is a small integer. */
function histogram(rows: number[], s: VictimSample, f: Field): Array<[number, number]> {
  let n = 0;
  let small = true;
  for (const r of rows) {
    const x = f.get(s, r);
    if (Number.isNaN(x)) continue;
    if (!(x >= 0 && x <= 65535 && x === Math.floor(x) && !Object.is(x, -0))) {
      small = false;
      break;
    }
    if ((SMALL[x] as number) === 0) seenSmall[n++] = x;
    SMALL[x] = (SMALL[x] as number) + 1;
  }
  const out: Array<[number, number]> = [];
  if (small) {
    for (let k = 0; k < n; k++) {
      const x = seenSmall[k] as number;
      out.push([x, SMALL[x] as number]);
      SMALL[x] = 0;
    }
    return out;
  }
  for (let k = 0; k < n; k++) SMALL[seenSmall[k] as number] = 0;
  const h = new Map<number, number>();
  for (const r of rows) {
    const x = f.get(s, r);
    if (Number.isNaN(x)) continue;
    h.set(x, (h.get(x) ?? 0) + 1);
  }
  return [...h.entries()];
}

export function findSignature(tr: Track, extraFrag: boolean, otherTotal: number): Signature {
  const s = tr.sampler;
  if (tr.cls === Cls.GRE) return greSignature(tr);
  // A UDP flood's random source ports sometimes land on a reflector's port: same attack.
  const classes = tr.cls === Cls.UDP ? [Cls.UDP, Cls.UDP_REFL] : extraFrag ? [tr.cls, Cls.FRAG] : [tr.cls];
  const A: number[] = [];
  const B: number[] = [];
  const scratch = new Float64Array(s.rows);
  for (let r = 0; r < s.rows; r++) {
    const t = s.t[r] as number;
    const inTime = t >= tr.start && t <= tr.end;
    const c = s.cls[r] as number;
    if (inTime && (c === tr.cls || (tr.cls === Cls.UDP && c === Cls.UDP_REFL))) A.push(r);
    else if (!(inTime && extraFrag && c === Cls.FRAG)) B.push(r);
  }
  // The victim's ordinary traffic of the same class (ACKs of its real connections, ...) is mixed
  // into the attack rows at the rate learnt before the attack: that share may be left out.
  const meanPps = tr.windows > 0 ? tr.windowPackets / tr.windows : 0;
  const fb = meanPps > 0 ? Math.min(0.3, tr.baseRate / meanPps) : 0;
  const lossStep = LOSS_STEP + fb;
  const lossTotal = LOSS_TOTAL + fb;
  const setShare = SET_SHARE - fb;
  const base = classBase(tr.cls, A, s, setShare);
  const cons: Constraint[] = [...base.extra];
  let aliveB = B.filter((r) => base.test(r) && cons.every((c) => matches(c, s, r)));
  let aliveA = A.filter((r) => base.test(r) && cons.every((c) => matches(c, s, r)));
  const nA = Math.max(A.length, 1);
  let lost = A.length - aliveA.length;
  // Each sample row stands for seen/rows packets; stop once what still matches is negligible
  // against everything else in the capture (a stray packet is not worth a constraint).
  const scale = s.rows > 0 ? s.seen / s.rows : 1;
  const negligible = () => (aliveB.length * scale) / Math.max(otherTotal, 1) < 0.0001;
  for (let step = 0; step < 6 && aliveB.length > 0 && !negligible(); step++) {
    let best: { c: Constraint; keepB: number; keepA: number[] } | null = null;
    for (const f of SEARCH_FIELDS) {
      if (cons.some((c) => c.field.name === f.name)) continue;
      // A scan's ports are a sweep: the ones sampled so far say nothing of the next probes.
      if (tr.vector === 'scanner' && (f.name === 'tcp.dstport' || f.name === 'udp.dstport')) continue;
      const cands: Constraint[] = [];
      const set = topValues(aliveA, s, f, 8, setShare);
      if (set) cands.push({ field: f, kind: 'set', values: set });
      if (!f.setOnly) {
        // A typed array sorts numerically in native code (this runs per field and step).
        let nv = 0;
        for (const r of aliveA) {
          const x = f.get(s, r);
          if (!Number.isNaN(x)) scratch[nv++] = x;
        }
        if (nv >= 0.998 * aliveA.length && nv > 0) {
          const vals = scratch.subarray(0, nv).sort();
          const q = 0.0005 + fb / 2;
          const lo = vals[Math.floor(vals.length * q)] as number;
          const hi = vals[Math.ceil(vals.length * (1 - q)) - 1] as number;
          if (lo > f.min || hi < f.max) cands.push({ field: f, kind: 'range', lo, hi });
        }
      }
      // Exclusions: the values most common among the remaining other packets, if the attack
      // hardly uses them (a random-port flood next to the victim's DNS and NTP).
      // Only values that recur among them (a service port), not one-off ephemeral ports.
      const minRows = Math.max(3, 0.05 * aliveB.length);
      const topB = histogram(aliveB, s, f)
        .filter((e) => e[1] >= minRows)
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, 4)
        .map((e) => e[0]);
      if (topB.length > 0 && !f.hex) cands.push({ field: f, kind: 'notset', values: topB.sort((a, b) => a - b) });
      for (const c of cands) {
        const keepA = aliveA.filter((r) => matches(c, s, r));
        const loss = (aliveA.length - keepA.length) / nA;
        if (loss > lossStep || (lost + aliveA.length - keepA.length) / nA > lossTotal) continue;
        let keepB = 0;
        for (const r of aliveB) if (matches(c, s, r)) keepB++;
        if (keepB >= aliveB.length) continue;
        const better =
          !best ||
          keepB < best.keepB ||
          (keepB === best.keepB && keepA.length > best.keepA.length) ||
          (keepB === best.keepB && keepA.length === best.keepA.length && c.kind === 'set' && best.c.kind === 'range');
        if (better) best = { c, keepB, keepA };
      }
    }
    if (!best) break;
    cons.push(best.c);
    lost += aliveA.length - best.keepA.length;
    aliveA = best.keepA;
    aliveB = aliveB.filter((r) => matches(best.c, s, r));
  }
  // A small separate cluster of lengths among the attack rows is the victim's own traffic of the
  // same class (solicited DNS answers next to amplified ones, ...): cut it off at the gap.
  if (!cons.some((c) => c.field.name === 'ip.len') && aliveA.length >= 100) {
    const f = searchField('ip.len');
    const vals = aliveA.map((r) => f.get(s, r)).sort((a, b) => a - b);
    const span = (vals[vals.length - 1] as number) - (vals[0] as number);
    const edge = Math.floor(vals.length * Math.max(lossStep, 0.02));
    let lo = vals[0] as number;
    let hi = vals[vals.length - 1] as number;
    for (let k = 1; k <= edge; k++) {
      if ((vals[k] as number) - (vals[k - 1] as number) >= 0.2 * span) lo = vals[k] as number;
      const j = vals.length - k;
      if ((vals[j] as number) - (vals[j - 1] as number) >= 0.2 * span) hi = vals[j - 1] as number;
    }
    if (lo > (vals[0] as number) || hi < (vals[vals.length - 1] as number)) {
      const c: Constraint = { field: f, kind: 'range', lo, hi };
      cons.push(c);
      aliveA = aliveA.filter((r) => matches(c, s, r));
    }
  }
  // Free narrowing: a single value across the whole attack (a targeted port, a tool's window).
  let port: number | undefined;
  let portPart = '';
  for (const name of ['tcp.dstport', 'udp.dstport', 'tcp.window']) {
    if (base.text.includes(name)) continue;
    const f = searchField(name);
    // A destination port shared by 99% of the attack rows is the target (the rest: the victim's
    // own traffic of the class); other fields must be near-unanimous.
    const one = topValues(aliveA, s, f, 1, name === 'tcp.window' ? 0.999 - fb : 0.99 - fb);
    if (one && aliveA.length >= 20) {
      if (name !== 'tcp.window') {
        port = one[0];
        portPart = `${name} == ${one[0]}`;
      }
      if (!cons.some((c) => c.field.name === name)) cons.push({ field: f, kind: 'set', values: one });
    }
  }
  // A handful of sources carrying it all (unspoofed bots, a lab attacker): name them.
  let fewSources: string[] | null = null;
  if (tr.fam === 4 && aliveA.length >= 20) {
    const srcField: Field = { name: 'ip.src', get: SAMPLE_COLUMNS['ip.src'] as SearchField['get'], min: 0, max: 0xffffffff };
    const few = topValues(aliveA, s, srcField, 4, 0.999 - fb);
    if (few) fewSources = few.map((u) => formatIpv4(u >>> 0));
  }
  const parts = [base.text, ...cons.map(text)].filter((x) => x !== '');
  if (fewSources) parts.unshift(fewSources.length === 1 ? `ip.src == ${fewSources[0]}` : `ip.src in {${fewSources.join(' ')}}`);
  if (tr.cls === Cls.DNS_QUERY) {
    port = 53;
    // The zone under attack: random labels, one suffix (compared lower-cased: resolvers and
    // tools randomise letter case).
    let best = '';
    let bestN = 0;
    let all = 0;
    for (const [z, n] of s.zones) {
      all += n;
      if (n > bestN) {
        best = z;
        bestN = n;
      }
    }
    if (all > 0 && bestN >= 0.9 * all && /^\.[a-z0-9_.-]+$/.test(best)) parts.push(`ends_with(lower(dns.qname), "${best}")`);
  }
  const baseParts = [base.text, ...base.extra.map(text)].filter((x) => x !== '');
  if (portPart !== '') baseParts.push(portPart);
  const sig: Signature = {
    expression: signatureText(victimExpr(tr), parts, extraFrag),
    dst: victimExpr(tr),
    parts,
    fragAlt: extraFrag,
    classes,
    fewSources,
    sampleCoverage: A.length === 0 ? 0 : aliveA.length / A.length,
    sampleOther: aliveB.length * scale,
    baseParts,
  };
  if (port !== undefined) sig.port = port;
  return sig;
}

/** `dst and p1 and p2 ...`, or `dst and ((p1 and ...) or ip.frag_offset > 0)`. */
export function signatureText(dst: string, parts: string[], fragAlt: boolean): string {
  let inner = parts.join(' and ');
  if (fragAlt) inner = inner === '' ? 'ip.frag_offset > 0' : `(${inner}) or ip.frag_offset > 0`;
  return inner === '' ? dst : `${dst} and ${fragAlt ? `(${inner})` : inner}`;
}

export function isReflection(c: number): boolean {
  return c >= Cls.DNS_RESP && c <= Cls.UDP_REFL;
}

/** Non-first fragments per reflected reply in the victim's sample during the attack. */
export function fragShare(tr: Track): number {
  const s = tr.sampler;
  let main = 0;
  let frag = 0;
  for (let r = 0; r < s.rows; r++) {
    const t = s.t[r] as number;
    if (t < tr.start || t > tr.end) continue;
    if (s.cls[r] === tr.cls) main++;
    else if (s.cls[r] === Cls.FRAG) frag++;
  }
  return main === 0 ? 0 : frag / main;
}

/** Addresses a source list may hold (an nftables set or ipset of this size loads in milliseconds). */
export const LIST_MAX = 20_000;
/** Sample rows per distinct source from which the sources repeat (a spoofed flood's do not). */
const LIST_REPEAT = 3;

/**
 * The source-list alternative to a field signature, when no packet field separates the attack
 * (a botnet of real stacks): the sources of the attack rows — packets of the class that belong to
 * no conversation — minus those that completed a handshake with the victim (`completed`), as a
 * named list, combined with the class constraints. Null when the sources look spoofed (they do not
 * repeat) or there are more than LIST_MAX of them.
 */
export function sourceListSignature(tr: Track, field: Signature, name: string, completed: (row: number) => boolean): Signature | null {
  const s = tr.sampler;
  const seen = new Map<string, number>();
  let rows = 0;
  for (let r = 0; r < s.rows; r++) {
    const t = s.t[r] as number;
    if (t < tr.start || t > tr.end || !field.classes.includes(s.cls[r] as number)) continue;
    rows++;
    if (completed(r)) continue;
    const ip = s.fam[r] === 6 ? formatIpv6(s.src6.subarray(r * 16, r * 16 + 16)) : formatIpv4(s.src4[r] as number);
    seen.set(ip, (seen.get(ip) ?? 0) + 1);
    if (seen.size > LIST_MAX) return null;
  }
  if (rows < 50 || seen.size === 0 || rows < LIST_REPEAT * seen.size) return null;
  return listSignature(field, name, [...seen.keys()].sort());
}

/**
 * The source-list signature from every source the victim's source table counted for the attack's
 * class over the whole attack (sample.ts `sources`), minus those that completed a handshake with
 * the victim's attacked port: null when the table overflowed (spoofed), the sources do not repeat
 * or there are more than LIST_MAX.
 */
export function finalSourceList(tr: Track, field: Signature, name: string, packets: number, completed: (src4: number) => boolean): Signature | null {
  const s = tr.sampler;
  if (s.sourcesFull || tr.fam !== 4) return null;
  const out: string[] = [];
  for (const [src] of s.sourcesOf(tr.cls)) {
    if (completed(src)) continue;
    out.push(formatIpv4(src));
    if (out.length > LIST_MAX) return null;
  }
  if (out.length === 0 || packets < LIST_REPEAT * out.length) return null;
  return listSignature(field, name, out.sort());
}

function listSignature(field: Signature, name: string, addresses: string[]): Signature {
  const parts = [...field.baseParts, `ip.src in $${name}`];
  const inline = [...field.baseParts, `ip.src in {${addresses.join(' ')}}`];
  return {
    ...field,
    expression: signatureText(field.dst, parts, false),
    parts,
    fragAlt: false,
    fewSources: null,
    list: { name, addresses },
    measured: signatureText(field.dst, inline, false),
  };
}

/**
 * A GRE flood: the outer header's destination and protocol. The sample's header fields are the
 * inner packet's (random in a flood), and a rule mixing inner and outer fields cannot be exported
 * (a firewall sees only the outer header), so the signature stays on the outer header.
 */
function greSignature(tr: Track): Signature {
  const parts = ['outer.ip.proto == "gre"'];
  let n = 0;
  const s = tr.sampler;
  for (let r = 0; r < s.rows; r++) if (s.cls[r] === Cls.GRE && (s.t[r] as number) >= tr.start && (s.t[r] as number) <= tr.end) n++;
  return {
    expression: signatureText(victimExpr(tr), parts, false),
    dst: victimExpr(tr),
    parts,
    fragAlt: false,
    classes: [Cls.GRE],
    fewSources: null,
    sampleCoverage: n > 0 ? 1 : 0,
    sampleOther: 0,
    baseParts: parts,
  };
}
