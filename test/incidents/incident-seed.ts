/**
 * An incident as the monitor leaves it in the store, for the incident report tests: an L3/4
 * attack (a SYN flood with its signature) and an L7 attack (an HTTP flood) on one victim, fed
 * through the alert book and the recorder (so the alerts, the automatic timeline and the
 * observables are the monitor's own), then a person's note and status change, an applied
 * mitigation with its hits, and per-second summaries of the sensor (and of another sensor, and
 * outside the span, which the report must leave out).
 */
import type { DetectedAttack } from '../../src/detect/l34/attacks.js';
import { AlertBook } from '../../src/incidents/alerts.js';
import { IncidentRecorder } from '../../src/incidents/recorder.js';
import type { Store, Summary } from '../../src/incidents/store/store.js';
import { ServiceMap } from '../../src/incidents/triage.js';
import { liveAttack } from './attack-fixture.js';

export const SENSOR = 'edge-1';
export const SYN_SIG = 'ip.dst == 203.0.113.10 and tcp.dstport == 443 and tcp.flags == 0x02';

export function synFlood(over: Partial<DetectedAttack> = {}): DetectedAttack {
  return liveAttack({ id: 'syn-1', signature: { expression: SYN_SIG, coverage: 0.99, collateral: 0 }, ...over });
}

export function httpFlood(over: Partial<DetectedAttack> = {}): DetectedAttack {
  return liveAttack({
    id: 'http-1',
    vector: 'http_flood',
    victim: { ip: '203.0.113.10', port: 443, protocol: 'http', host: 'shop.example' },
    start: '2026-12-06T10:00:02Z',
    end: '2026-12-06T10:00:06Z',
    detected_at: '2026-12-06T10:00:03Z',
    packets: 24_000,
    bytes: 0,
    requests: 24_000,
    peak_pps: 8_000,
    peak_bps: 0,
    peak_rps: 8_000,
    sources: { unique: 120, spoofed_likely: false, top: [{ ip: '198.51.100.7', packets: 900 }] },
    evidence: {
      out_of_state: null,
      handshakes_completed: null,
      sources_per_packet: 0.005,
      spoofed_likely: false,
      separating_fields: [],
      signature: 'none',
      field_signature: { expression: 'http.host eq "shop.example"', coverage: 0.6, collateral: 0.2 },
    },
    ...over,
  });
}

/** The sensor's seconds in the incident's span: 10:00:00 to 10:00:07, the attacks open in some. */
export function spanSummaries(): Summary[] {
  const t0 = Date.parse('2026-12-06T10:00:00Z') / 1000;
  return Array.from({ length: 8 }, (_, i) => {
    const syn = i <= 5 ? 1 : 0;
    const http = i >= 2 && i <= 6 ? 1 : 0;
    const by_vector: Record<string, number> = {};
    if (syn) by_vector.tcp_syn_flood = 1;
    if (http) by_vector.http_flood = 1;
    return {
      sensor: SENSOR,
      second: t0 + i,
      packets: 1000 + i * 20_000,
      bytes: (1000 + i * 20_000) * 64,
      requests: 0,
      by_protocol: {},
      by_vector,
      by_victim: (syn + http > 0 ? { '203.0.113.10': syn + http } : {}) as Record<string, number>,
    };
  });
}

export interface Seeded {
  number: number;
  /** The sensor's summaries inside the span (what the report's figures must equal). */
  summaries: Summary[];
}

export async function seedIncident(store: Store): Promise<Seeded> {
  let now = Date.parse('2026-12-06T10:00:01Z');
  const clock = () => now;
  const book = new AlertBook({ sensor: SENSOR, services: new ServiceMap([]), now: clock });
  const rec = new IncidentRecorder(store, { sensor: SENSOR, now: clock });
  const feed = async (a: DetectedAttack, ended = false) => {
    const e = book.observe(a, 1000, ended);
    return e === null ? null : rec.record(e);
  };
  const first = await feed(synFlood());
  if (first === null) throw new Error('the SYN flood raised no alert');
  now = Date.parse('2026-12-06T10:00:03Z');
  await feed(httpFlood());
  await store.appendTimeline(first.incident, { at: '2026-12-06T10:00:04Z', kind: 'note', actor: 'alice', text: 'customer confirmed: not a load test', data: null });
  await store.upsertMitigation(
    first.incident,
    { id: 'nft-syn-1', target: 'nftables', state: 'applied', hits: 424_242, ruleset: { rules: [{ id: 'r1', expression: SYN_SIG, action: 'block' }] } },
    '2026-12-06T10:00:05Z',
  );
  now = Date.parse('2026-12-06T10:00:07Z');
  await feed(synFlood({ end: '2026-12-06T10:00:05Z' }), true);
  await feed(httpFlood(), true);
  await store.updateIncident(first.incident, { status: 'resolved', assignee: 'alice', tags: ['ddos', 'acme'] }, '2026-12-06T10:05:00Z');
  await store.appendTimeline(first.incident, { at: '2026-12-06T10:05:00Z', kind: 'status', actor: 'alice', text: 'monitoring → resolved: quiet for 5 minutes', data: null });
  const inSpan = spanSummaries();
  const t0 = inSpan[0]?.second as number;
  await store.writeSummaries([
    ...inSpan,
    // another sensor's traffic at the same time, and this sensor's long before the incident
    { ...(inSpan[3] as Summary), sensor: 'other-sensor', packets: 7_777_777, bytes: 1 },
    { ...(inSpan[3] as Summary), second: t0 - 3600, packets: 9_999_999 },
  ]);
  return { number: first.incident, summaries: inSpan };
}
