/**
 * Catch-up measurement pass: each signature is fixed a few seconds into its attack and measured
 * live from then on (measurement.ts); this pass re-reads the source (a replayable one) from the start up to that point
 * and measures the packets the live pass could not, so coverage and collateral are counted over
 * the whole capture by running the compiled signature, never estimated. The read stops at the
 * last signature's fix time.
 *
 * Every signature begins with `ip.dst == victim` (or the victim prefix), so a packet bound
 * elsewhere matches none: plain Ethernet/IPv4 frames whose destination is no victim are skipped
 * without decoding.
 */
import { decodeFrame } from '../../decode/frame.js';
import type { PacketSource } from '../../sources/capture/source.js';
import { classify } from './classify.js';
import type { Measurement } from './measurement.js';
import type { Track } from './track.js';

class Stop extends Error {}

export async function catchUp(source: PacketSource, tracks: Track[], baseSec: number): Promise<void> {
  const ms: Measurement[] = [];
  for (const tr of tracks) if (tr.measurement) ms.push(tr.measurement);
  await catchUpMeasurements(source, ms, baseSec);
}

/** The catch-up pass for some measurements (their tracks' lockSec and activeWins are final). */
export async function catchUpMeasurements(source: PacketSource, ms: Measurement[], baseSec: number): Promise<void> {
  let until = 0;
  for (const m of ms) if (m.track.lockSec > until) until = m.track.lockSec;
  if (ms.length === 0) return;
  // Victim → the last second still to measure for it (its latest-fixed signature's lock second):
  // a packet to a victim whose signatures are all fixed by its time was measured live.
  const exact = new Map<number, number>();
  const prefixes: Array<{ net: number; mask: number; until: number }> = [];
  let anyV6 = false;
  for (const m of ms) {
    const tr = m.track;
    if (tr.fam === 6) {
      anyV6 = true;
      continue;
    }
    const a = tr.addr;
    const u = (((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0;
    if (tr.isPrefix) {
      const mask = tr.prefixLen === 0 ? 0 : (0xffffffff << (32 - tr.prefixLen)) >>> 0;
      prefixes.push({ net: (u & mask) >>> 0, mask, until: tr.lockSec });
    } else exact.set(u, Math.max(exact.get(u) ?? Number.NEGATIVE_INFINITY, tr.lockSec));
  }
  // Destinations as int32 (a uint32 above 2^31 is a heap number: one allocation per packet).
  const ex = Int32Array.from(exact.keys(), (u) => u | 0);
  const exUntil = Float64Array.from(exact.values());
  const few = ex.length <= 16;
  const pNet = Int32Array.from(prefixes, (p) => p.net | 0);
  const pMask = Int32Array.from(prefixes, (p) => p.mask | 0);
  const pUntil = Float64Array.from(prefixes, (p) => p.until);
  const n = ms.length;
  /**
   * Can the frame at b[o..] be a victim's packet before its signature was fixed? Plain Ethernet
   * IPv4 that is no tunnel is decided by its destination bytes; anything else is decoded.
   */
  const candidate = (b: Uint8Array, o: number, caplen: number, linkType: number, sec: number): boolean => {
    if (sec >= until) throw new Stop();
    if (linkType !== 1 || caplen < 34 || b[o + 12] !== 0x08 || b[o + 13] !== 0x00 || ((b[o + 14] as number) & 0xf0) !== 0x40) return true;
    const proto = b[o + 23] as number;
    const d = ((b[o + 30] as number) << 24) | ((b[o + 31] as number) << 16) | ((b[o + 32] as number) << 8) | (b[o + 33] as number);
    let hit = false;
    if (few) for (let k = 0; !hit && k < ex.length; k++) hit = ex[k] === d && sec < (exUntil[k] as number);
    else hit = sec < (exact.get(d >>> 0) ?? Number.NEGATIVE_INFINITY);
    for (let k = 0; !hit && k < pNet.length; k++) hit = (d & (pMask[k] as number)) === pNet[k] && sec < (pUntil[k] as number);
    if (hit || proto === 47 || proto === 4 || proto === 41) return true;
    if (proto !== 17) return false;
    // UDP may be VXLAN (any inner packet) or Teredo (inner IPv6) carrying a victim's packet: only then decode.
    const ihl = ((b[o + 14] as number) & 15) * 4;
    const dp = caplen >= 14 + ihl + 4 ? ((b[o + 14 + ihl + 2] as number) << 8) | (b[o + 14 + ihl + 3] as number) : 0;
    return dp === 4789 || (dp === 3544 && anyV6);
  };
  try {
    await source.read(
      (v) => {
        // Only candidates get here (the reader's prefilter).
        v.reset();
        decodeFrame(v);
        if (v.ipVersion === 0) return;
        const w = v.tsSec - baseSec;
        let c = -1;
        for (let k = 0; k < n; k++) {
          const m = ms[k] as Measurement;
          const tr = m.track;
          if (v.tsSec >= tr.lockSec || !m.toVictim(v)) continue;
          if (c < 0) c = classify(v);
          m.see(v, c, tr.activeWins.has(w));
        }
      },
      { decode: false, prefilter: candidate, streamApps: false },
    );
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
}
