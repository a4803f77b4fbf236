/**
 * The attacks' own traffic by vector, live: packets/s and bits/s of the L3/4 vectors and
 * requests/s of the L7 ones, one line per vector in that vector's fixed colour. Three small
 * charts side by side rather than one with a unit switch: on shift the question is "how big is
 * it", and all three units answer it at a glance without a click.
 */
import { Chart, type Series } from '../../Chart.js';
import type { Second } from '../../live.js';
import { L7_VECTORS, vectorColour } from '../../vectors.js';

type Measure = 'packets' | 'bits' | 'requests';

/** One series per vector that had any of this measure in the window, sorted by name. */
function perVector(seconds: readonly Second[], measure: Measure, keep: (vector: string) => boolean): Series[] {
  const seen = new Set<string>();
  for (const s of seconds) for (const [v, t] of Object.entries(s.traffic_by_vector ?? {})) if (keep(v) && (measure === 'requests' ? t.requests : t.packets) > 0) seen.add(v);
  return [...seen].sort().map((v) => ({
    label: v,
    colour: vectorColour(v),
    values: seconds.map((s) => {
      const t = s.traffic_by_vector?.[v];
      if (t === undefined) return 0;
      return measure === 'packets' ? t.packets : measure === 'bits' ? t.bytes * 8 : t.requests;
    }),
  }));
}

export function VectorTraffic({ seconds }: { seconds: readonly Second[] }) {
  const x = seconds.map((s) => s.second);
  const l34 = (v: string) => !L7_VECTORS.has(v);
  const packets = perVector(seconds, 'packets', l34);
  const bits = perVector(seconds, 'bits', l34);
  const requests = perVector(seconds, 'requests', (v) => L7_VECTORS.has(v));
  if (packets.length === 0 && requests.length === 0)
    return (
      <p class="empty" data-empty="traffic-by-vector">
        No attack traffic in this window: when an attack is detected, its packets, bits and requests per second show here by vector.
      </p>
    );
  return (
    <div class="charts charts-3">
      {packets.length > 0 && <Chart name="vector-packets" title="Attack packets per second by vector" unit="pps" x={x} series={packets} />}
      {bits.length > 0 && <Chart name="vector-bits" title="Attack bits per second by vector" unit="bps" x={x} series={bits} />}
      {requests.length > 0 && <Chart name="vector-requests" title="Attack requests per second by vector (L7)" unit="rps" x={x} series={requests} />}
    </div>
  );
}
