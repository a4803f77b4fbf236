/**
 * From detector tracks to Attack records (DESIGN.md "Attack"): merge what belongs together,
 * derive each signature, measure it over the capture, and attach the mitigation rules.
 */
import { isoTime } from '../core/time.js';
import { buildMitigation } from '../export/mitigation.js';
import { PROTO_NAMES } from '../scheme/packet.js';
import { CLS_VECTOR, Cls } from './classify.js';
import type { Detector, Track } from './detector.js';
import { type MeasurePlan, type MeasureResult, measure } from './measure.js';
import { findSignature, type Signature, signatureText, victimText } from './signature.js';
import type { Attack } from './types.js';

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

function isReflection(c: number): boolean {
  return c >= Cls.DNS_RESP && c <= Cls.UDP_REFL;
}

/** Fragments of a reflection's large replies go to the same victim at the same time: one attack. */
function fragShare(tr: Track): number {
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

export interface BuildOptions {
  /** The capture path for the measurement pass; null (stdin) measures on the samples instead. */
  path: string | null;
}

export async function buildAttacks(det: Detector, opts: BuildOptions): Promise<Attack[]> {
  const tracks = det.finish();
  if (tracks.length === 0) return [];
  const base = det.baseSecond;
  // A fragment "flood" riding along a reflection on the same victim is that reflection's tail.
  const keep: Track[] = [];
  const withFrag = new Set<Track>();
  for (const tr of tracks) {
    if (tr.cls === Cls.FRAG) {
      const host = tracks.find((o) => o !== tr && isReflection(o.cls) && o.key === tr.key && o.start <= tr.end && tr.start <= o.end);
      if (host) {
        withFrag.add(host);
        host.start = Math.min(host.start, tr.start);
        host.end = Math.max(host.end, tr.end);
        continue;
      }
    }
    keep.push(tr);
  }
  let inAttacks = 0;
  for (const tr of keep) inAttacks += tr.windowPackets;
  const others = Math.max(det.packets - inAttacks, 1);
  const sigs: Signature[] = keep.map((tr) => findSignature(tr, withFrag.has(tr) || (isReflection(tr.cls) && fragShare(tr) >= 0.2), others));
  const plans: MeasurePlan[] = keep.map((tr, k) => ({ track: tr, expression: (sigs[k] as Signature).expression, classes: (sigs[k] as Signature).classes }));
  let measured: MeasureResult | null = null;
  if (opts.path !== null) measured = await measure(opts.path, plans, base);
  const iso = (rel: number) => {
    const sec = Math.floor(rel / 1e9);
    return isoTime(base + sec, Math.round(rel - sec * 1e9));
  };
  return keep.map((tr, k): Attack => {
    const sig = sigs[k] as Signature;
    const m = measured?.attacks[k];
    const vector = CLS_VECTOR[tr.cls] as Attack['vector'];
    const id = `attack-${k + 1}`;
    const victim: Attack['victim'] = tr.isPrefix ? { prefix: `${victimText(tr)}/${tr.prefixLen}`, protocol: protocolOf(tr) } : { ip: victimText(tr), protocol: protocolOf(tr) };
    if (sig.port !== undefined) victim.port = sig.port;
    const mit = mitigationFor(sig, id, `${vector} on ${victim.ip ?? victim.prefix}`);
    const packets = m ? m.packets : tr.windowPackets;
    const unique = m ? m.uniqueSources : 0;
    const coverage = m ? (m.packets === 0 ? 0 : m.matchedAttack / m.packets) : 1;
    const collateral = m && measured ? (measured.nonAttack === 0 ? 0 : m.matchedOther / measured.nonAttack) : 0;
    return {
      id,
      vector,
      victim,
      start: iso(m && m.first >= 0 ? m.first : tr.start),
      end: iso(m && m.last >= 0 ? m.last : tr.end),
      detected_at: iso(tr.detected),
      packets,
      bytes: m ? m.bytes : tr.windowBytes,
      peak_pps: m ? m.peakPps : tr.peakPps,
      peak_bps: m ? m.peakBps : tr.peakBps,
      sources: {
        unique,
        spoofed_likely: !isReflection(tr.cls) && tr.cls !== Cls.TCP_SYNACK && tr.cls !== Cls.DNS_QUERY && unique >= 1000 && unique >= 0.2 * packets,
        top: m ? m.top : [],
      },
      signature: { expression: sig.expression, coverage: round6(coverage), collateral: round6(collateral) },
      mitigation: mit,
    };
  });
}

/**
 * The ruleset carries the whole signature; each firewall gets the signature minus the
 * constraints it cannot express (iptables has no TCP-window or UDP-length match, ...), which is a
 * broader rule, said so in a comment at its top.
 */
function mitigationFor(sig: Signature, id: string, description: string): Attack['mitigation'] {
  const full = buildMitigation({ expression: sig.expression, id, description });
  const out = { ruleset: full.ruleset, nftables: full.nftables, iptables: full.iptables };
  for (const target of ['nftables', 'iptables'] as const) {
    const bad = full.problems.filter((p) => p.target === target);
    if (bad.length === 0) continue;
    let parts = sig.parts;
    let fragAlt = sig.fragAlt;
    const dropped: string[] = [];
    for (let attempt = 0; attempt < 8; attempt++) {
      const expr = signatureText(sig.dst, parts, fragAlt);
      const m = buildMitigation({ expression: expr, id, description });
      const probs = m.problems.filter((p) => p.target === target);
      if (probs.length === 0) {
        const note = `# broadened for ${target}: ${dropped.join('; ')} cannot be expressed there\n`;
        const text = m[target];
        // Keep a shebang on the first line.
        const nl = text.startsWith('#!') ? text.indexOf('\n') + 1 : 0;
        out[target] = text.slice(0, nl) + note + text.slice(nl);
        break;
      }
      const bad0 = probs[0]?.problem.span;
      const at = bad0 ? bad0.start : -1;
      const hit = parts.find((p) => at >= 0 && expr.indexOf(p) <= at && at < expr.indexOf(p) + p.length);
      if (hit) {
        dropped.push(hit);
        parts = parts.filter((p) => p !== hit);
      } else if (fragAlt) {
        dropped.push('ip.frag_offset > 0');
        fragAlt = false;
      } else break;
    }
  }
  return out;
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
