/**
 * Catch-up measurement pass: each signature is fixed a few seconds into its attack and measured
 * live from then on (measurement.ts); this pass re-reads the source (a replayable one) from the start up to that point
 * and measures the packets the live pass could not, so coverage and collateral are counted over
 * the whole capture by running the compiled signature, never estimated. The read stops at the
 * last signature's fix time.
 *
 * A packet's class depends on the connection state before it (conn-state.ts), so this pass runs
 * its own connection table over every packet up to its stop, in capture order, as the detection
 * pass did: both reach the same classes. Plain IPv4 packets bound for no victim update the table
 * from their bytes without being decoded.
 */

import { decodeFrame } from '../../decode/frame.js';
import type { PacketSource } from '../../sources/capture/source.js';
import { classify } from './classify.js';
import { ConnState, stateClass } from './conn-state.js';
import type { Measurement } from './measurement.js';
import type { Track } from './track.js';

class Stop extends Error {}

export async function catchUp(source: PacketSource, tracks: Track[], baseSec: number): Promise<void> {
  const ms: Measurement[] = [];
  for (const tr of tracks) {
    if (tr.measurement) ms.push(tr.measurement);
    if (tr.listMeasurement) ms.push(tr.listMeasurement);
  }
  await catchUpMeasurements(source, ms, baseSec);
}

/** The catch-up pass for some measurements (their tracks' lockSec and activeWins are final). */
export async function catchUpMeasurements(source: PacketSource, ms: Measurement[], baseSec: number): Promise<void> {
  let until = 0;
  for (const m of ms) if (m.track.lockSec > until) until = m.track.lockSec;
  if (ms.length === 0) return;
  const conns = new ConnState();
  // Victim → the last second still to measure for it (its latest-fixed signature's lock second):
  // a packet to a victim whose signatures are all fixed by its time was measured live.
  const exact = new Map<number, number>();
  const prefixes: Array<{ net: number; mask: number; until: number }> = [];
  for (const m of ms) {
    const tr = m.track;
    if (tr.fam === 6) continue;
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
   * Decode the frame at b[o..]? A plain Ethernet IPv4 TCP or UDP packet (no options, no
   * fragment, no tunnel port, headers captured) bound for no victim only updates the connection
   * table, from its bytes — the same numbers the decoder would give it; anything else is decoded
   * and goes through the same table in the callback. Each frame updates the table once, in
   * capture order, as in the detection pass.
   */
  const candidate = (b: Uint8Array, o: number, caplen: number, linkType: number, sec: number): boolean => {
    if (sec >= until) throw new Stop();
    if (linkType !== 1 || caplen < 34 || b[o + 12] !== 0x08 || b[o + 13] !== 0x00 || b[o + 14] !== 0x45) return true;
    const proto = b[o + 23] as number;
    const d = ((b[o + 30] as number) << 24) | ((b[o + 31] as number) << 16) | ((b[o + 32] as number) << 8) | (b[o + 33] as number);
    let hit = false;
    if (few) for (let k = 0; !hit && k < ex.length; k++) hit = ex[k] === d && sec < (exUntil[k] as number);
    else hit = sec < (exact.get(d >>> 0) ?? Number.NEGATIVE_INFINITY);
    for (let k = 0; !hit && k < pNet.length; k++) hit = (d & (pMask[k] as number)) === pNet[k] && sec < (pUntil[k] as number);
    if (hit || (proto !== 6 && proto !== 17)) return hit || proto === 47 || proto === 4 || proto === 41;
    const l4min = proto === 6 ? 20 : 8;
    const total = ((b[o + 16] as number) << 8) | (b[o + 17] as number);
    if (((((b[o + 20] as number) << 8) | (b[o + 21] as number)) & 0x3fff) !== 0 || total < 20 + l4min || caplen < 34 + l4min) return true;
    const sp = ((b[o + 34] as number) << 8) | (b[o + 35] as number);
    const dp = ((b[o + 36] as number) << 8) | (b[o + 37] as number);
    if (proto === 17 && (dp === 4789 || dp === 3544 || sp === 3544)) return true;
    const s = ((b[o + 26] as number) << 24) | ((b[o + 27] as number) << 16) | ((b[o + 28] as number) << 8) | (b[o + 29] as number);
    if (proto === 6) {
      const seq = ((b[o + 38] as number) << 24) | ((b[o + 39] as number) << 16) | ((b[o + 40] as number) << 8) | (b[o + 41] as number);
      const ack = ((b[o + 42] as number) << 24) | ((b[o + 43] as number) << 16) | ((b[o + 44] as number) << 8) | (b[o + 45] as number);
      conns.observe4(s, d, sp, dp, 6, b[o + 47] as number, seq, ack, sec - baseSec);
    } else conns.observe4(s, d, sp, dp, 17, 0, 0, 0, sec - baseSec);
    return false;
  };
  // Views made from flows come decoded, and without frame bytes for the prefilter to read.
  const predecoded = source.decoded === true;
  try {
    await source.read(
      (v) => {
        // Decoded frames only (the prefilter above).
        if (!predecoded) {
          v.reset();
          decodeFrame(v);
        }
        if (v.ipVersion === 0) return;
        const w = v.tsSec - baseSec;
        const c = stateClass(conns, v, classify(v), w);
        for (let k = 0; k < n; k++) {
          const m = ms[k] as Measurement;
          const tr = m.track;
          if (v.tsSec >= tr.lockSec || !m.toVictim(v)) continue;
          m.see(v, c, m.inSpan(w));
        }
      },
      { decode: false, prefilter: candidate, streamApps: false },
    );
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
}
