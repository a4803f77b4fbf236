/**
 * A sensor's per-second summaries of a capture, as SensorNode publishes them: its detector's
 * windows (Detector.onWindowRows) and packets per second, through JSON as over the bus. For the
 * correlator tests that play sensors without starting monitor processes.
 */
import type { SecondSummary } from '../../src/analyze/monitor.js';
import { type SummaryMessage, sensorSummary } from '../../src/cluster/summary-message.js';
import { Detector } from '../../src/detect/l34/detector.js';
import { readCapture } from '../../src/sources/capture/capture.js';

export async function sensorWindows(file: string, node: string, site = 'lab'): Promise<{ messages: SummaryMessage[]; attacks: number }> {
  const det = new Detector({});
  const rows = new Map<number, Uint8Array>();
  const packets = new Map<number, number>();
  det.onWindowRows = (second, r) => rows.set(second, r.slice());
  await readCapture(file, (v) => {
    packets.set(v.tsSec, (packets.get(v.tsSec) ?? 0) + 1);
    det.add(v);
  });
  const ended = det.finish();
  const messages: SummaryMessage[] = [];
  for (const second of [...new Set([...rows.keys(), ...packets.keys()])].sort((a, b) => a - b)) {
    const s: SecondSummary = { second, packets: packets.get(second) ?? 0, bytes: 0, requests: 0, attacks: 0, byProtocol: {}, byVector: {}, byVictim: {}, trafficByVector: {} };
    messages.push(JSON.parse(JSON.stringify(sensorSummary(site, node, s, rows.get(second) ?? null, 0))) as SummaryMessage);
  }
  return { messages, attacks: ended.length };
}
