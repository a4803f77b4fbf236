/**
 * The incident report's input (src/incidents/report-input.ts) and what src/report makes of it:
 * the span (attacks and sightings, a minute either side), the sensors' summaries added up per
 * second (other sensors' and other times' left out), the alerts in their latest stored state,
 * and a report without summaries that says the share of traffic is unknown instead of 0 %.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { incidentReportInput, incidentSpan, mergeSummaries, reportInputOf, SPAN_MARGIN_S } from '../../src/incidents/report-input.js';
import { openStore } from '../../src/incidents/store/open.js';
import type { Summary } from '../../src/incidents/store/store.js';
import type { Incident } from '../../src/model/incident.js';
import { buildIncidentReport, renderHtml, renderMarkdown } from '../../src/report/index.js';
import { SENSOR, seedIncident } from './incident-seed.js';
import { BACKENDS } from './store/backends.js';
import { alert } from './store/fixtures.js';

const T0 = Date.parse('2026-12-06T05:00:00Z') / 1000;

function row(sensor: string, second: number, packets: number, byVector: Record<string, number> = {}): Summary {
  return { sensor, second, packets, bytes: packets * 100, requests: 0, by_protocol: {}, by_vector: byVector, by_victim: {} };
}

const ticket: Incident = {
  number: 7,
  title: 'SYN flood on 203.0.113.0/24',
  customer: 'acme',
  status: 'new',
  severity: 'high',
  assignee: null,
  tags: [],
  alerts: [],
  timeline: [],
  observables: [],
  mitigations: [],
  created_at: '2026-12-06T05:00:02.000Z',
  updated_at: '2026-12-06T05:10:00.000Z',
};

describe('incident report input', () => {
  it('the span covers the attacks and the sightings, with a minute either side', () => {
    // fixtures' attack: 05:00:00 to 05:01:00; sightings 05:00:02 and 05:03:00
    const a = alert(1, { last_seen: '2026-12-06T05:03:00Z' });
    assert.deepEqual(incidentSpan(ticket, [a]), { from: T0 - SPAN_MARGIN_S, to: T0 + 180 + 1 + SPAN_MARGIN_S });
    assert.deepEqual(incidentSpan(ticket, [], 0), { from: T0 + 2, to: T0 + 601 }, "no alerts: the ticket's own life");
  });

  it('summaries: the sensors of its alerts, inside the span, added up per second', () => {
    const a = alert(1, { sensor: 's1' });
    const b = alert(2, { sensor: 's2', first_seen: '2026-12-06T05:00:01Z' });
    const rows = [
      row('s1', T0, 10, { tcp_syn_flood: 1 }),
      row('s2', T0, 5, { tcp_syn_flood: 1, udp_flood: 1 }),
      row('s1', T0 + 1, 7),
      row('s3', T0, 1_000_000),
      row('s1', T0 - 3600, 1_000_000),
    ];
    const input = reportInputOf(ticket, [a, b], { from: T0 - 60, to: T0 + 120 }, rows);
    assert.deepEqual(input.traffic.sensors, ['s1', 's2']);
    assert.deepEqual(
      input.traffic.seconds.map((s) => [s.second - T0, s.packets, s.bytes, s.open_by_vector]),
      [
        [0, 15, 1500, { tcp_syn_flood: 2, udp_flood: 1 }],
        [1, 7, 700, {}],
      ],
    );
    assert.deepEqual(
      input.alerts.map((x) => x.id),
      [b.id, a.id],
      'first seen first',
    );
    assert.deepEqual(mergeSummaries([]), []);
  });

  it('a report without summaries says the share is unknown, never 0 % or NaN', () => {
    const input = reportInputOf(ticket, [alert(1)], { from: T0 - 60, to: T0 + 120 }, []);
    const d = buildIncidentReport(input, { now: new Date('2026-12-07T00:00:00Z') });
    assert.equal(d.incident?.packets, 0);
    assert.match(d.summary.effect, /No per-second summary of its sensor is stored for this span, so its share of all traffic is not known\./);
    const html = renderHtml(d);
    const md = renderMarkdown(d);
    for (const out of [html, md]) {
      assert.ok(!out.includes('NaN'), 'no NaN');
      assert.match(out, /share of all packets not known/);
    }
    assert.match(md, /^No per-second summary is stored for this span\.$/m);
    assert.equal(d.customer, 'acme', "the ticket's customer by default");
  });

  it('a sensor that counts requests only (HTTP inputs): the chart and the figures are in requests', () => {
    const a = alert(1, { sensor: 'web' });
    const rows = [0, 1, 2].map((i) => ({ ...row('web', T0 + i, 0), bytes: 0, requests: 100 * (i + 1) }));
    const d = buildIncidentReport(reportInputOf(ticket, [a], { from: T0 - 60, to: T0 + 120 }, rows));
    assert.equal(d.unit.many, 'requests');
    assert.equal(d.incident?.requests, 600);
    assert.equal(d.incident?.peak_rps, 300);
    assert.equal(
      d.timeline.total.reduce((x, y) => x + y, 0),
      600,
    );
    assert.equal(d.analysis.traffic.peak.pps_1s, 300);
    assert.match(d.summary.effect, / of the 600 requests the sensor counted over the span \(/);
    assert.match(renderHtml(d), /<span data-k="stored_requests" data-v="600">600<\/span>/);
    assert.match(renderMarkdown(d), /^\| Peak requests \(1 s\) \| 300 requests\/s \|$/m);
  });

  for (const backend of BACKENDS.filter((b) => b.name === 'sqlite')) {
    it(`from the store (${backend.name}): the ticket, its alerts as last stored, the summaries of its span`, async () => {
      const db = await backend.create();
      const store = await openStore(db.spec);
      try {
        const seeded = await seedIncident(store);
        const input = await incidentReportInput(store, seeded.number);
        assert.ok(input);
        assert.equal(input.incident.number, seeded.number);
        assert.deepEqual(
          input.alerts.map((a) => [a.vector, a.state, a.kind]),
          [
            ['tcp_syn_flood', 'ended', 'end'],
            ['http_flood', 'ended', 'end'],
          ],
        );
        // the latest state: the SYN flood's end time from its last event
        assert.equal(input.alerts[0]?.attack.end, '2026-12-06T10:00:05Z');
        assert.deepEqual(input.traffic.sensors, [SENSOR]);
        assert.deepEqual(
          input.traffic.seconds.map((s) => [s.second, s.packets, s.bytes]),
          seeded.summaries.map((s) => [s.second, s.packets, s.bytes]),
        );
        assert.equal(await incidentReportInput(store, 999), null);
      } finally {
        await store.close();
        await db.drop();
      }
    });
  }
});
