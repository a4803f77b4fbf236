/**
 * GET /api/attacks/{id} (src/server/attacks-api.ts) on SQLite and PostgreSQL: 401 without
 * credentials, 404 for an unknown alert; the attack's facts and the per-second traffic of its
 * alert's sensor over the attack's window with a minute either side (another sensor's seconds
 * and seconds outside the window left out); a long attack averaged into steps.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Summary } from '../../src/incidents/store/store.js';
import type { Alert } from '../../src/model/alert.js';
import { attackWindow, MAX_POINTS, stepPoints } from '../../src/server/attacks-api.js';
import { BACKENDS } from '../incidents/store/backends.js';
import { alert, attack } from '../incidents/store/fixtures.js';
import { call, type ServerFixture, startServer, stopServer } from './server-fixture.js';

/** 2026-12-06T05:00:00Z, the fixture attack's start (it ends a minute later). */
const START = Date.parse('2026-12-06T05:00:00Z') / 1000;

function row(sensor: string, second: number, packets: number, open = 0): Summary {
  return {
    sensor,
    second,
    packets,
    bytes: packets * 60,
    requests: 0,
    by_protocol: {},
    by_vector: open > 0 ? { tcp_syn_flood: open } : {},
    by_victim: {},
    // of the seconds with the attack open, all but 100 packets are the attack's; another vector's traffic is not this one's
    traffic_by_vector: open > 0 ? { tcp_syn_flood: { packets: packets - 100, bytes: (packets - 100) * 60, requests: 0 }, udp_flood: { packets: 7, bytes: 7, requests: 0 } } : {},
  };
}

interface AttackAnswer {
  alert: { id: string; state: string; sensor: string; incident_id: number | null };
  attack: { id: string; vector: string; peak_pps: number; signature: { coverage: number; collateral: number } };
  traffic: {
    sensor: string;
    from: number;
    to: number;
    step_s: number;
    truncated: boolean;
    points: { second: number; packets: number; bytes: number; open: number; vector: { packets: number; bytes: number; requests: number }; seconds: number }[];
  };
}

for (const backend of BACKENDS) {
  describe(`attacks API (${backend.name})`, () => {
    let f: ServerFixture;
    let seeded: Alert;
    before(async () => {
      f = await startServer(backend);
      seeded = (await f.store.upsertAlert(alert(7, { sensor: 'edge', first_seen: '2026-12-06T05:00:02Z', last_seen: '2026-12-06T05:01:00Z' }))).alert;
      const rows: Summary[] = [];
      // the window is [START - 60, START + 60 + 1 + 60): quiet before and after, the flood in between
      for (let s = START - 120; s < START + 200; s++) rows.push(row('edge', s, s >= START && s <= START + 60 ? 5000 : 100, s >= START + 2 && s <= START + 60 ? 1 : 0));
      // another sensor's seconds in the same window are not this attack's traffic
      for (let s = START; s < START + 10; s++) rows.push(row('other', s, 999_999));
      await f.store.writeSummaries(rows);
    });
    after(() => stopServer(f));

    it('401 without credentials, 404 for an alert that is not there', async () => {
      assert.equal((await call(f, 'GET', `/api/attacks/${seeded.id}`)).status, 401);
      const r = await call(f, 'GET', '/api/attacks/no-such-alert', { token: f.tokens.viewer });
      assert.equal(r.status, 404);
      assert.match(((await r.json()) as { error: string }).error, /no attack with alert id no-such-alert/);
    });

    it("a viewer reads the attack's facts and its sensor's traffic over the window, a minute either side", async () => {
      const r = await call(f, 'GET', `/api/attacks/${encodeURIComponent(seeded.id)}`, { token: f.tokens.viewer });
      assert.equal(r.status, 200);
      const got = (await r.json()) as AttackAnswer;
      assert.equal(got.alert.id, seeded.id);
      assert.equal(got.alert.state, 'open');
      assert.equal(got.attack.id, 'atk-7');
      assert.equal(got.attack.vector, 'tcp_syn_flood');
      assert.deepEqual(got.attack.signature.coverage, 1);
      const t = got.traffic;
      assert.equal(t.sensor, 'edge');
      assert.equal(t.from, START - 60);
      assert.equal(t.to, START + 60 + 1 + 60);
      assert.equal(t.step_s, 1);
      assert.equal(t.truncated, false);
      assert.equal(t.points.length, t.to - t.from, 'one point a second, the other sensor and the seconds outside left out');
      assert.deepEqual(
        t.points.map((p) => p.second),
        Array.from({ length: t.to - t.from }, (_v, i) => t.from + i),
      );
      const at = (s: number) => t.points.find((p) => p.second === s);
      assert.equal(at(START - 1)?.packets, 100);
      assert.equal(at(START + 5)?.packets, 5000, "the other sensor's second is not added in");
      assert.ok(
        t.points.every((p) => p.seconds === 1),
        'one summary a second',
      );
      assert.equal(at(START + 30)?.packets, 5000);
      assert.equal(at(START + 30)?.bytes, 5000 * 60);
      assert.equal(at(START + 30)?.open, 1);
      assert.deepEqual(at(START + 30)?.vector, { packets: 4900, bytes: 4900 * 60, requests: 0 }, "the attack's vector's own traffic");
      assert.deepEqual(at(START - 1)?.vector, { packets: 0, bytes: 0, requests: 0 });
      assert.equal(at(START + 61)?.packets, 100);
    });
  });
}

describe('attack windows and steps', () => {
  it('a long attack: the last MAX_SPAN_S seconds, averaged into steps of at most MAX_POINTS points', () => {
    const a = alert(1, {
      attack: { ...attack(1), start: '2026-12-01T00:00:00Z', end: '2026-12-02T00:00:00Z' },
      first_seen: '2026-12-01T00:00:01Z',
      last_seen: '2026-12-02T00:00:00Z',
    });
    const w = attackWindow(a);
    assert.equal(w.truncated, true);
    assert.equal(w.to, Date.parse('2026-12-02T00:00:00Z') / 1000 + 61);
    assert.equal(w.to - w.from, 6 * 3600);
    const step = Math.ceil((w.to - w.from) / MAX_POINTS);
    assert.equal(step, 12);
    // 24 seconds: two steps; the first lacks a second (averaged over the 11 it has), the second has all 12
    const rows = Array.from({ length: 24 }, (_v, i) => row('edge', w.from + i, i < 12 ? 120 : 240, 1)).filter((r) => r.second !== w.from + 5);
    const points = stepPoints(rows, 'tcp_syn_flood', w.from, step);
    assert.deepEqual(
      points.map((p) => [p.second, p.packets, p.open, p.seconds]),
      [
        [w.from, 120, 1, 11],
        [w.from + 12, 240, 1, 12],
      ],
    );
  });
});
