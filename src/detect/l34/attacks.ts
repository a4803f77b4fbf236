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
import { catchUp } from './catch-up.js';
import { Cls } from './classify.js';
import type { Detector } from './detector.js';
import type { MeasureCounts, Measurement } from './measurement.js';
import { isReflection, type Signature, victimText } from './signature.js';
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
  signature: SignatureParts;
}

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
  caughtUp?: () => Promise<Map<number, MeasureCounts>>;
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
      tr.measurement.absorb(c);
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
  return keep.map((tr, k): Detection => {
    const sig = tr.signature as Signature;
    const m = tr.measurement as Measurement;
    const vector = tr.vector;
    const id = `attack-${k + 1}`;
    const victim: Attack['victim'] = tr.isPrefix ? { prefix: `${victimText(tr)}/${tr.prefixLen}`, protocol: protocolOf(tr) } : { ip: victimText(tr), protocol: protocolOf(tr) };
    if (sig.port !== undefined) victim.port = sig.port;
    // Nothing measured (stdin, and the attack was over before its signature was fixed): the
    // detector's window counts and the signature's figures on the victim's sample.
    const estimated = m.packets === 0;
    const packets = estimated ? tr.windowPackets : m.packets;
    const unique = m.sources.estimate();
    const coverage = estimated ? sig.sampleCoverage : m.matchedAttack / packets;
    const collateral = estimated ? sig.sampleOther / Math.max(opts.totalPackets - packets, 1) : nonAttack === 0 ? 0 : m.matchedOther / nonAttack;
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
        spoofed_likely: !isReflection(tr.cls) && tr.cls !== Cls.TCP_SYNACK && tr.cls !== Cls.DNS_QUERY && unique >= 1000 && unique >= 0.2 * packets,
        top: topSources(tr, sig.classes, packets),
      },
      signature: {
        expression: sig.expression,
        coverage: round6(Math.min(1, coverage)),
        collateral: round6(Math.min(1, collateral)),
      },
    };
    return { attack, signature: { dst: sig.dst, parts: sig.parts, fragAlt: sig.fragAlt } };
  });
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
