/**
 * From detector tracks to Attack records (DESIGN.md "Attack"): merge what belongs together,
 * derive each signature and measure it over the capture. The mitigation rules are not
 * detection's: the orchestrator (analyze/) attaches them from each signature's parts.
 */
import { formatIpv4, formatIpv6 } from '../../core/net/ip.js';
import { PROTO_NAMES } from '../../core/net/protocols.js';
import { isoTime } from '../../core/time.js';
import type { Attack } from '../../model/attack.js';
import type { PacketSource } from '../../sources/capture/source.js';
import { catchUp, catchUpMeasurements } from './catch-up.js';
import { Cls } from './classify.js';
import type { Detector } from './detector.js';
import { Measurement } from './measurement.js';
import { finalSourceList, isReflection, type Signature, victimText } from './signature.js';
import type { CaughtCounts } from './thread.js';
import type { Track } from './track.js';

/** An attack as detection reports it: everything but the mitigation rules. */
export type DetectedAttack = Omit<Attack, 'mitigation'>;

/** A signature's pieces, for rules that must leave out what a target cannot express (signature.ts signatureText). */
export interface SignatureParts {
  /** The destination constraint. */
  dst: string;
  /** The other top-level conjuncts. */
  parts: string[];
  /** `(parts) or ip.frag_offset > 0`. */
  fragAlt: boolean;
}

export interface Detection {
  attack: DetectedAttack;
  /** The signature's pieces; when no signature met the bar, the class constraints alone (for a rate limit). */
  signature: SignatureParts;
}

/**
 * The bar a signature must meet, measured over the capture, to be emitted: it keeps this share
 * of the attack's packets and matches at most this share of the others.
 */
export const COVERAGE_BAR = 0.98;
export const COLLATERAL_BAR = 0.001;
/**
 * Fewer other packets matched than MIN_OTHER, or fewer other packets in the whole capture than
 * MIN_BASE, is within the bar whatever the share: a share of a few dozen packets (a lab capture
 * of nothing but the attack) says nothing about real users.
 */
const MIN_OTHER = 10;
const MIN_BASE = 1000;

function protocolOf(tr: Track): string {
  const c = tr.cls;
  if (c >= Cls.TCP_SYN && c <= Cls.TCP_ANOMALY) return 'tcp';
  if (c === Cls.ICMP) return tr.fam === 6 ? 'icmpv6' : 'icmp';
  if (c === Cls.GRE) return 'gre';
  if (c === Cls.IPPROTO || c === Cls.FRAG) {
    const s = tr.sampler;
    const seen = new Map<number, number>();
    for (let r = 0; r < s.rows; r++) if (s.cls[r] === c) seen.set(s.proto[r] as number, (seen.get(s.proto[r] as number) ?? 0) + 1);
    if (seen.size === 1) {
      const p = [...seen.keys()][0] as number;
      return PROTO_NAMES[p] ?? `ip-${p}`;
    }
    return 'ip';
  }
  return 'udp';
}

export interface BuildOptions {
  /** The source to read again for the catch-up pass; null (stdin: not replayable) leaves what the live pass measured. */
  replay: PacketSource | null;
  /** Every packet of the capture (the collateral denominator counts non-IP frames too). */
  totalPackets: number;
  /**
   * The catch-up counts another thread took for some tracks (by track id), so this pass skips
   * them (thread.ts); called once the detector has finished.
   */
  caughtUp?: () => Promise<Map<number, CaughtCounts>>;
}

export async function buildAttacks(det: Detector, opts: BuildOptions): Promise<Detection[]> {
  const tracks = det.finish();
  if (tracks.length === 0) return [];
  const base = det.baseSecond;
  if (opts.replay !== null) {
    const done = opts.caughtUp ? await opts.caughtUp() : null;
    const rest = tracks.filter((tr) => {
      const c = done?.get(tr.id);
      if (c === undefined || tr.measurement === null) return true;
      tr.measurement.absorb(c.counts);
      if (c.list && tr.listMeasurement) tr.listMeasurement.absorb(c.list);
      return false;
    });
    await catchUp(opts.replay, rest, base);
  }
  // A fragment flood riding along a reflection whose signature took its fragments in is that
  // reflection's tail, not an attack of its own.
  const keep = tracks.filter(
    (tr) => !(tr.cls === Cls.FRAG && tracks.some((o) => o !== tr && o.signature?.fragAlt === true && o.key === tr.key && o.start <= tr.end && tr.start <= o.end)),
  );
  let inAttacks = 0;
  for (const tr of keep) inAttacks += tr.measurement ? tr.measurement.packets : 0;
  const nonAttack = Math.max(opts.totalPackets - inAttacks, 0);
  const iso = (rel: number) => {
    const sec = Math.floor(rel / 1e9);
    return isoTime(base + sec, Math.round(rel - sec * 1e9));
  };
  const figures = (x: Signature, mm: Measurement | null, estimated: boolean, packets: number): Figures =>
    estimated || mm === null
      ? { coverage: x.sampleCoverage, collateral: x.sampleOther / Math.max(opts.totalPackets - packets, 1), other: x.sampleOther, base: opts.totalPackets - packets }
      : { coverage: mm.matchedAttack / Math.max(mm.packets, 1), collateral: nonAttack === 0 ? 0 : mm.matchedOther / nonAttack, other: mm.matchedOther, base: nonAttack };
  // Where neither the field signature nor the list fixed at lock time meets the bar, the list of
  // every source that sent the attack (over its whole course) is measured in one more pass.
  const finals = new Map<Track, { sig: Signature; m: Measurement }>();
  if (opts.replay !== null) {
    for (const tr of keep) {
      const sig = tr.signature as Signature;
      const m = tr.measurement as Measurement;
      if (m.packets === 0) continue;
      const listFig = tr.listSignature ? figures(tr.listSignature, tr.listMeasurement, false, m.packets) : null;
      if (chooseSignature(figures(sig, m, false, m.packets), listFig) !== null) continue;
      const a = tr.addr;
      const victim4 = (((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0;
      const port = sig.port;
      const fl = finalSourceList(tr, sig, `attack_${tr.id}_sources`, m.packets, (src) => port !== undefined && det.conns.completed(src, victim4, port));
      if (!fl) continue;
      const span = { fam: tr.fam, addr: tr.addr, isPrefix: tr.isPrefix, prefixLen: tr.prefixLen, lockSec: Number.POSITIVE_INFINITY, activeWins: tr.activeWins };
      finals.set(tr, { sig: fl, m: new Measurement(span, fl.measured ?? fl.expression, fl.classes, base) });
    }
    if (finals.size > 0)
      await catchUpMeasurements(
        opts.replay,
        [...finals.values()].map((f) => f.m),
        base,
      );
  }
  return keep.map((tr, k): Detection => {
    const sig = tr.signature as Signature;
    const m = tr.measurement as Measurement;
    const vector = tr.vector;
    const id = `attack-${k + 1}`;
    const victim = victimRecord(tr, sig);
    // Nothing measured (stdin, and the attack was over before its signature was fixed): the
    // detector's window counts and the signature's figures on the victim's sample.
    const estimated = m.packets === 0;
    const packets = estimated ? tr.windowPackets : m.packets;
    const unique = m.sources.estimate();
    const fieldFig = figures(sig, m, estimated, packets);
    const final = finals.get(tr);
    const list = final ? final.sig : tr.listSignature;
    const listFig = final ? figures(final.sig, final.m, false, packets) : list ? figures(list, tr.listMeasurement, estimated, packets) : null;
    const pick = chooseSignature(fieldFig, listFig);
    const chosen = pick === 'fields' ? sig : pick === 'list' ? list : null;
    const fig = pick === 'list' && listFig ? listFig : fieldFig;
    // Sources are counted per record: against a sampled or flow source's records, not the packets
    // they stand for (1:10 sampling would otherwise make every spoofed flood look like ten packets a source).
    const s = tr.sampler;
    const perRecord = s.records > 0 && s.seen > s.records ? s.seen / s.records : 1;
    const records = packets / perRecord;
    const spoofed = spoofedLikely(tr, unique, records, perRecord);
    const ev = evidence(tr, det, sig, chosen, fieldFig, list, listFig, unique, records, spoofed);
    const attack: DetectedAttack = {
      id,
      vector,
      victim,
      start: iso(m.first >= 0 ? m.first : tr.start),
      end: iso(m.last >= 0 ? m.last : tr.end),
      detected_at: iso(tr.detected),
      packets,
      bytes: estimated ? tr.windowBytes : m.bytes,
      peak_pps: tr.peakPps,
      peak_bps: tr.peakBps,
      sources: {
        unique,
        spoofed_likely: spoofed,
        top: topSources(tr, sig.classes, packets),
      },
      signature: signatureRecord(chosen, fig),
      confidence: ev.confidence,
      evidence: ev.evidence,
    };
    if (chosen) return { attack, signature: { dst: chosen.dst, parts: chosen.parts, fragAlt: chosen.fragAlt } };
    // No signature: the class constraints alone, for a rate limit.
    return { attack, signature: { dst: sig.dst, parts: sig.baseParts, fragAlt: false } };
  });
}

/** A signature's figures as measured: coverage, collateral, and the other packets it matched. */
export interface Figures {
  coverage: number;
  collateral: number;
  other: number;
  /** Non-attack packets the collateral is a share of. */
  base: number;
}

/**
 * Which signature to emit: the field signature if it meets both bars, else the source list if
 * that does, else none (the mitigation is then a rate limit: a block rule that misses the attack
 * or drops real users is worse). A handful of other packets matched is no evidence of harm (a short
 * capture has few others, mostly the attack's own stragglers).
 */
export function chooseSignature(field: Figures, list: Figures | null): 'fields' | 'list' | null {
  const meets = (f: Figures) => f.coverage >= COVERAGE_BAR && (f.collateral <= COLLATERAL_BAR || f.other < MIN_OTHER || f.base < MIN_BASE);
  if (meets(field)) return 'fields';
  if (list && meets(list)) return 'list';
  return null;
}

/** Classes judged by connection state (conn-state.ts stateClass): their evidence includes the out-of-state share. */
const STATEFUL = new Set<number>([
  Cls.GRE,
  Cls.TCP_SYN,
  Cls.TCP_SYNACK,
  Cls.TCP_ACK,
  Cls.TCP_RST,
  Cls.UDP,
  Cls.DNS_RESP,
  Cls.NTP_MONLIST,
  Cls.SSDP_RESP,
  Cls.MEMCACHED_RESP,
  Cls.CLDAP_RESP,
  Cls.CHARGEN,
  Cls.SNMP_RESP,
  Cls.UDP_REFL,
]);

/**
 * Why the detector believes it, and how sure it is. From the victim's sample during the attack:
 * the share of the class's packets that belonged to no conversation (a flash crowd's belong to
 * real ones), for SYN floods the share of sending sources that ever completed a handshake with the
 * victim, how spoofed the sources look, and which fields the signature separates by.
 *
 * Confidence is a plain score, not a probability: 0.5, plus 0.25 when nearly all the class's
 * packets are out of state (stateful classes) or the class is one no ordinary stack sends, plus
 * 0.15 when a signature meets the bar, plus 0.1 when it lasted 5 s or more; minus 0.4 when most
 * of the class's packets were in real conversations. Clipped to [0, 1].
 */
function evidence(
  tr: Track,
  det: Detector,
  field: Signature,
  chosen: Signature | null,
  fieldFig: { coverage: number; collateral: number },
  list: Signature | null,
  listFig: { coverage: number; collateral: number } | null,
  unique: number,
  packets: number,
  spoofed: boolean,
): { confidence: number; evidence: DetectedAttack['evidence'] } {
  const s = tr.sampler;
  let raw = 0;
  let out = 0;
  const srcs = new Set<string>();
  let completed = 0;
  for (let r = 0; r < s.rows; r++) {
    const t = s.t[r] as number;
    if (t < tr.start || t > tr.end || s.raw[r] !== tr.cls) continue;
    raw++;
    if (s.cls[r] === tr.cls) out++;
    if (tr.cls === Cls.TCP_SYN && srcs.size < 20_000) {
      const k = s.fam[r] === 6 ? formatIpv6(s.src6.subarray(r * 16, r * 16 + 16)) : String(s.src4[r]);
      if (!srcs.has(k)) {
        srcs.add(k);
        if (det.completedRow(tr, r)) completed++;
      }
    }
  }
  const stateful = STATEFUL.has(tr.cls);
  const outShare = stateful && raw > 0 ? out / raw : null;
  const separating = chosen ? chosen.parts.filter((p) => !chosen.baseParts.includes(p)).map((p) => /^[a-z0-9_.()]+/.exec(p)?.[0] ?? p) : [];
  let conf = 0.5;
  if (outShare !== null ? outShare >= 0.9 : tr.cls === Cls.TCP_ANOMALY || tr.cls === Cls.FRAG || tr.cls === Cls.IPPROTO || tr.cls === Cls.GRE) conf += 0.25;
  if (chosen) conf += 0.15;
  if (tr.windows >= 5) conf += 0.1;
  if (outShare !== null && outShare < 0.5) conf -= 0.4;
  const ev: DetectedAttack['evidence'] = {
    out_of_state: outShare === null ? null : round6(outShare),
    handshakes_completed: tr.cls === Cls.TCP_SYN && srcs.size > 0 ? round6(completed / srcs.size) : null,
    sources_per_packet: round6(Math.min(1, unique / Math.max(packets, 1))),
    spoofed_likely: spoofed,
    separating_fields: [...new Set(separating)],
    signature: chosen ? (chosen.list ? 'source_list' : 'fields') : 'none',
    field_signature: { expression: field.expression, coverage: round6(Math.min(1, fieldFig.coverage)), collateral: round6(Math.min(1, fieldFig.collateral)) },
  };
  if (listFig && tr.listSignature)
    ev.source_list = { size: tr.listSignature.list?.addresses.length ?? 0, coverage: round6(Math.min(1, listFig.coverage)), collateral: round6(Math.min(1, listFig.collateral)) };
  return { confidence: round6(Math.max(0, Math.min(1, conf))), evidence: ev };
}

/**
 * Top sources of an attack, from the victim's sample (its attack rows, scaled to the attack's
 * packet count): a frequent-items table over every packet would cost more than detection itself
 * under a spoofed flood.
 */
function topSources(tr: Track, classes: number[], packets: number): Array<{ ip: string; packets: number }> {
  const s = tr.sampler;
  const counts = new Map<string, number>();
  let rows = 0;
  for (let r = 0; r < s.rows; r++) {
    const t = s.t[r] as number;
    if (t < tr.start || t > tr.end || !classes.includes(s.cls[r] as number)) continue;
    rows++;
    const ip = s.fam[r] === 6 ? formatIpv6(s.src6.subarray(r * 16, r * 16 + 16)) : formatIpv4(s.src4[r] as number);
    counts.set(ip, (counts.get(ip) ?? 0) + 1);
  }
  if (rows === 0) return [];
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, 5)
    .map(([ip, n]) => ({ ip, packets: Math.round((n * packets) / rows) }));
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * An attack while it lasts, as a live consumer (the monitor) reports it: what the detector knows
 * at this window — its window figures, the signature once fixed (its figures on the victim's
 * sample: nothing is read twice live) and the sources seen. `totalPackets`: every packet so far
 * (the collateral denominator). The record `buildAttacks` makes at the end of a file supersedes it.
 */
export function liveAttack(tr: Track, det: Detector, totalPackets: number): DetectedAttack {
  const base = det.baseSecond;
  const iso = (rel: number): string => {
    const sec = Math.floor(rel / 1e9);
    return isoTime(base + sec, Math.round(rel - sec * 1e9));
  };
  const packets = tr.windowPackets;
  const sig = tr.signature;
  const s = tr.sampler;
  const perRecord = s.records > 0 && s.seen > s.records ? s.seen / s.records : 1;
  const m = tr.measurement;
  const unique = m !== null && m.packets > 0 ? m.sources.estimate() : sampledSources(tr);
  const records = packets / perRecord;
  const spoofed = spoofedLikely(tr, unique, records, perRecord);
  const victim = victimRecord(tr, sig);
  const fieldFig = sig === null ? { coverage: 0, collateral: 0 } : { coverage: sig.sampleCoverage, collateral: sig.sampleOther / Math.max(totalPackets - packets, 1) };
  const list = tr.listSignature;
  const listFig =
    list === null
      ? null
      : { coverage: list.sampleCoverage, collateral: list.sampleOther / Math.max(totalPackets - packets, 1), other: list.sampleOther, base: totalPackets - packets };
  const pick = sig === null ? null : chooseSignature({ ...fieldFig, other: sig.sampleOther, base: totalPackets - packets }, listFig);
  const chosen = pick === 'fields' ? sig : pick === 'list' ? list : null;
  const fig = pick === 'list' && listFig ? listFig : fieldFig;
  const ev =
    sig === null
      ? {
          confidence: 0.5,
          evidence: {
            out_of_state: null,
            handshakes_completed: null,
            sources_per_packet: round6(Math.min(1, unique / Math.max(records, 1))),
            spoofed_likely: spoofed,
            separating_fields: [],
            signature: 'none' as const,
            field_signature: { expression: '', coverage: 0, collateral: 0 },
          },
        }
      : evidence(tr, det, sig, chosen, fieldFig, list, listFig, unique, records, spoofed);
  return {
    id: `attack-${tr.id}`,
    vector: tr.vector,
    victim,
    start: iso(tr.start),
    end: iso(tr.end),
    detected_at: iso(tr.detected),
    packets,
    bytes: tr.windowBytes,
    peak_pps: tr.peakPps,
    peak_bps: tr.peakBps,
    sources: { unique, spoofed_likely: spoofed, top: topSources(tr, sig?.classes ?? [tr.cls], packets) },
    signature: signatureRecord(chosen, fig),
    confidence: ev.confidence,
    evidence: ev.evidence,
  };
}

/** The Attack record's signature: the chosen one (fields or source list) with its figures. */
function signatureRecord(chosen: Signature | null, fig: { coverage: number; collateral: number }): DetectedAttack['signature'] {
  if (chosen === null) return null;
  return {
    expression: chosen.expression,
    coverage: round6(Math.min(1, fig.coverage)),
    collateral: round6(Math.min(1, fig.collateral)),
    kind: chosen.list ? 'source_list' : 'fields',
    ...(chosen.list && { list: { name: chosen.list.name, addresses: chosen.list.addresses } }),
  };
}

/** The victim as the record names it: an address or a prefix, its protocol, and the signature's port. */
function victimRecord(tr: Track, sig: Signature | null): Attack['victim'] {
  const victim: Attack['victim'] = tr.isPrefix ? { prefix: `${victimText(tr)}/${tr.prefixLen}`, protocol: protocolOf(tr) } : { ip: victimText(tr), protocol: protocolOf(tr) };
  if (sig?.port !== undefined) victim.port = sig.port;
  return victim;
}

/** Spoofed sources are likely when nearly every record has a new source (not for reflections, whose sources are real servers). */
function spoofedLikely(tr: Track, unique: number, records: number, perRecord: number): boolean {
  return !isReflection(tr.cls) && tr.cls !== Cls.TCP_SYNACK && tr.cls !== Cls.DNS_QUERY && unique >= 1000 / perRecord && unique >= 0.2 * records;
}

/** Distinct sources of the attack's class in the victim's sample (a floor before the live measurement starts). */
function sampledSources(tr: Track): number {
  const s = tr.sampler;
  const seen = new Set<number | string>();
  for (let r = 0; r < s.rows; r++) {
    if (s.cls[r] !== tr.cls) continue;
    seen.add(s.fam[r] === 6 ? formatIpv6(s.src6.subarray(r * 16, r * 16 + 16)) : (s.src4[r] as number));
  }
  return seen.size;
}
