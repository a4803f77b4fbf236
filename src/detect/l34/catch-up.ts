/**
 * Catch-up measurement pass: each signature is fixed a few seconds into its attack and measured
 * live from then on (measurement.ts); this pass re-reads the source (a replayable one) from the start up to that point
 * and measures the packets the live pass could not, so coverage and collateral are counted over
 * the whole capture by running the compiled signature, never estimated. The read stops at the
 * last signature's fix time.
 *
 * A packet's class depends on the connection state before it (conn-state.ts), so this pass
 * decodes every packet up to its stop and runs its own connection table over them in capture
 * order, exactly as the detection pass did: both reach the same classes.
 */
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
  const n = ms.length;
  try {
    await source.read(
      (v) => {
        if (v.tsSec >= until) throw new Stop();
        if (v.ipVersion === 0) return;
        const w = v.tsSec - baseSec;
        const c = stateClass(conns, v, classify(v), w);
        for (let k = 0; k < n; k++) {
          const m = ms[k] as Measurement;
          const tr = m.track;
          if (v.tsSec >= tr.lockSec || !m.toVictim(v)) continue;
          m.see(v, c, tr.activeWins.has(w));
        }
      },
      { streamApps: false },
    );
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
  }
}
