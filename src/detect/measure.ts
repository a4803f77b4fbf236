/**
 * Measurement pass: run each attack's compiled signature over the capture and count, exactly,
 * how many of the attack's packets it matches (coverage) and how many other packets (collateral),
 * with the attack's totals, 1-second peaks and sources.
 *
 * An attack's packets are those of its traffic classes sent to its victim between its start and
 * end. Every signature begins with `ip.dst == victim` (or the victim prefix), so a packet bound
 * elsewhere can match no signature: frames whose plain Ethernet/IPv4 destination is not a victim
 * are counted and skipped without decoding, which keeps this second read cheap.
 */
import { formatIpv4, formatIpv6 } from '../core/ip.js';
import { decodeFrame } from '../decode/frame.js';
import { type PacketView, Tunnel } from '../decode/view.js';
import { compile } from '../rules/compile.js';
import { packetScheme } from '../scheme/packet.js';
import { readCapture } from '../sources/capture.js';
import { classify } from './classify.js';
import type { Track } from './detector.js';
import { hashBytes, mix32 } from './sketch/hash.js';
import { HyperLogLog } from './sketch/hll.js';

export interface MeasurePlan {
  track: Track;
  expression: string;
  classes: number[];
}

export interface Measured {
  packets: number;
  bytes: number;
  matchedAttack: number;
  matchedOther: number;
  peakPps: number;
  peakBps: number;
  uniqueSources: number;
  top: Array<{ ip: string; packets: number }>;
  first: number;
  last: number;
}

export interface MeasureResult {
  attacks: Measured[];
  /** Packets that belong to no attack (the collateral denominator). */
  nonAttack: number;
  total: number;
}

interface Live {
  plan: MeasurePlan;
  test: (v: PacketView) => boolean;
  mask: number;
  m: Measured;
  hll: HyperLogLog;
  binSec: number;
  binPk: number;
  binBy: number;
}

/** Does the packet go to the track's victim (outer destination for GRE, as the detector keys it)? */
export function toVictim(tr: Track, v: PacketView): boolean {
  const gre = (v.tunnel & Tunnel.GRE) !== 0;
  const fam = gre ? v.outerIpVersion : v.ipVersion;
  if (fam !== tr.fam) return false;
  const a = tr.addr;
  if (fam === 4) {
    const d = gre ? v.outerDst4 : v.dst4;
    const bits = tr.isPrefix ? tr.prefixLen : 32;
    const want = (((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0;
    if (bits === 0) return true;
    const m = bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    return (d & m) >>> 0 === (want & m) >>> 0;
  }
  const off = gre ? v.outerDst6Off : v.dst6Off;
  if (off < 0) return false;
  const bits = tr.isPrefix ? tr.prefixLen : 128;
  const b = v.buf;
  for (let k = 0; k < 16 && k * 8 < bits; k++) {
    const left = bits - k * 8;
    const m = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if (((b[off + k] as number) & m) !== ((a[k] as number) & m)) return false;
  }
  return true;
}

function newMeasured(): Measured {
  return { packets: 0, bytes: 0, matchedAttack: 0, matchedOther: 0, peakPps: 0, peakBps: 0, uniqueSources: 0, top: [], first: -1, last: -1 };
}

export async function measure(path: string, plans: MeasurePlan[], baseSec: number): Promise<MeasureResult> {
  const lives: Live[] = plans.map((plan) => {
    let mask = 0;
    for (const c of plan.classes) mask |= 1 << c;
    return {
      plan,
      test: compile(plan.expression, packetScheme),
      mask,
      m: newMeasured(),
      hll: new HyperLogLog(12),
      binSec: -1,
      binPk: 0,
      binBy: 0,
    };
  });
  // Quick filter: IPv4 destinations (and /24s...) of every victim, for undecoded Ethernet frames.
  const exact = new Set<number>();
  const prefixes: Array<{ net: number; mask: number }> = [];
  let anyV6 = false;
  for (const p of plans) {
    const tr = p.track;
    if (tr.fam === 6) {
      anyV6 = true;
      continue;
    }
    const a = tr.addr;
    const u = (((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0;
    if (tr.isPrefix) {
      const m = tr.prefixLen === 0 ? 0 : (0xffffffff << (32 - tr.prefixLen)) >>> 0;
      prefixes.push({ net: (u & m) >>> 0, mask: m });
    } else exact.add(u);
  }
  let total = 0;
  let inAttack = 0;
  const n = lives.length;
  await readCapture(
    path,
    (v) => {
      total++;
      const b = v.buf;
      const o = v.frameOff;
      // Plain Ethernet + IPv4 (no VLAN, not a tunnel protocol): decide by the destination bytes.
      if (v.linkType === 1 && v.caplen >= 34 && b[o + 12] === 0x08 && b[o + 13] === 0x00 && ((b[o + 14] as number) & 0xf0) === 0x40) {
        const proto = b[o + 23] as number;
        if (proto !== 47 && proto !== 4 && proto !== 41 && proto !== 17) {
          const d = (((b[o + 30] as number) << 24) | ((b[o + 31] as number) << 16) | ((b[o + 32] as number) << 8) | (b[o + 33] as number)) >>> 0;
          let hit = exact.has(d);
          for (let k = 0; !hit && k < prefixes.length; k++) {
            const p = prefixes[k] as { net: number; mask: number };
            hit = (d & p.mask) >>> 0 === p.net;
          }
          if (!hit) return;
        } else if (proto === 17 && !anyV6 && prefixes.length === 0) {
          // UDP may be VXLAN/Teredo: decode only when the outer destination could be a victim or the port is a tunnel's.
          const d = (((b[o + 30] as number) << 24) | ((b[o + 31] as number) << 16) | ((b[o + 32] as number) << 8) | (b[o + 33] as number)) >>> 0;
          const ihl = ((b[o + 14] as number) & 15) * 4;
          const dp = v.caplen >= 14 + ihl + 4 ? ((b[o + 14 + ihl + 2] as number) << 8) | (b[o + 14 + ihl + 3] as number) : 0;
          if (!exact.has(d) && dp !== 4789 && dp !== 3544) return;
        }
      }
      v.reset();
      decodeFrame(v);
      if (v.ipVersion === 0) return;
      const t = (v.tsSec - baseSec) * 1e9 + v.tsNsec;
      let c = -1;
      let member = false;
      for (let k = 0; k < n; k++) {
        const L = lives[k] as Live;
        const tr = L.plan.track;
        if (!toVictim(tr, v)) continue;
        const hit = L.test(v);
        if (c < 0) c = classify(v);
        const isMember = t >= tr.start && t <= tr.end && (L.mask & (1 << c)) !== 0;
        if (isMember) {
          member = true;
          const m = L.m;
          m.packets++;
          m.bytes += v.wirelen;
          if (hit) m.matchedAttack++;
          if (m.first < 0) m.first = t;
          m.last = t;
          if (v.tsSec !== L.binSec) {
            if (L.binPk > m.peakPps) m.peakPps = L.binPk;
            if (L.binBy * 8 > m.peakBps) m.peakBps = L.binBy * 8;
            L.binSec = v.tsSec;
            L.binPk = 0;
            L.binBy = 0;
          }
          L.binPk++;
          L.binBy += v.wirelen;
          const gre = (v.tunnel & Tunnel.GRE) !== 0;
          if ((gre ? v.outerIpVersion : v.ipVersion) === 4) {
            const s = gre ? v.outerSrc4 : v.src4;
            L.hll.add(mix32(s));
          } else {
            const so = gre ? v.outerSrc6Off : v.src6Off;
            if (so >= 0) L.hll.add(hashBytes(v.buf, so, 16));
          }
        } else if (hit) L.m.matchedOther++;
      }
      if (member) inAttack++;
    },
    { decode: false },
  );
  for (const L of lives) {
    const m = L.m;
    if (L.binPk > m.peakPps) m.peakPps = L.binPk;
    if (L.binBy * 8 > m.peakBps) m.peakBps = L.binBy * 8;
    m.uniqueSources = L.hll.estimate();
    m.top = topSources(L.plan, m.packets);
  }
  return { attacks: lives.map((l) => l.m), nonAttack: total - inAttack, total };
}

/**
 * Top sources of an attack, from the victim's sample (the attack rows, scaled to the attack's
 * packet count): counting every packet's source in a frequent-items table would cost more than
 * the rest of this pass under a spoofed flood.
 */
function topSources(plan: MeasurePlan, packets: number): Array<{ ip: string; packets: number }> {
  const tr = plan.track;
  const s = tr.sampler;
  const counts = new Map<string, number>();
  let rows = 0;
  for (let r = 0; r < s.rows; r++) {
    const t = s.t[r] as number;
    if (t < tr.start || t > tr.end || !plan.classes.includes(s.cls[r] as number)) continue;
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
