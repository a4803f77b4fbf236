/**
 * GET /api/sensors (src/server/sensors-api.ts) on SQLite and PostgreSQL: 401 without
 * credentials; the sensors of the stored per-second summaries with their first and last second,
 * their rates over the last minute, and `stale` for one silent for more than 10 s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Summary } from '../../src/incidents/store/store.js';
import { BACKENDS } from '../incidents/store/backends.js';
import { call, type ServerFixture, startServer, stopServer } from './server-fixture.js';

function row(sensor: string, second: number, packets: number): Summary {
  return { sensor, second, packets, bytes: packets * 100, requests: sensor === 'edge' ? 5 : 0, by_protocol: {}, by_vector: {}, by_victim: {} };
}

for (const backend of BACKENDS) {
  describe(`sensors API (${backend.name})`, () => {
    let f: ServerFixture;
    const now = Math.floor(Date.now() / 1000);
    before(async () => {
      f = await startServer(backend);
      const rows: Summary[] = [];
      // "edge": heard an hour ago and over the last 30 s, 600 packets a second
      rows.push(row('edge', now - 3600, 10));
      for (let s = now - 30; s <= now; s++) rows.push(row('edge', s, 600));
      // "old-tap": its last summary 40 s ago
      for (let s = now - 100; s <= now - 40; s++) rows.push(row('old-tap', s, 60));
      await f.store.writeSummaries(rows);
    });
    after(() => stopServer(f));

    it('401 without credentials', async () => {
      assert.equal((await call(f, 'GET', '/api/sensors')).status, 401);
    });

    it('each sensor heard from: first and last seen, last-minute rates, stale when silent over 10 s', async () => {
      const r = await call(f, 'GET', '/api/sensors', { token: f.tokens.viewer });
      assert.equal(r.status, 200);
      const list = (await r.json()) as {
        name: string;
        first_seen: string;
        last_seen: string;
        stale: boolean;
        silent_s: number;
        last_minute: { packets_per_s: number; bits_per_s: number; requests_per_s: number };
      }[];
      assert.deepEqual(
        list.map((s) => s.name),
        ['edge', 'old-tap'],
      );
      const [edge, tap] = list as [(typeof list)[number], (typeof list)[number]];
      assert.equal(edge.first_seen, new Date((now - 3600) * 1000).toISOString());
      assert.ok(Date.parse(edge.last_seen) >= (now - 1) * 1000);
      assert.equal(edge.stale, false);
      // 31 seconds of 600 packets in the last minute (give or take the second the clock turned)
      assert.ok(Math.abs(edge.last_minute.packets_per_s - (31 * 600) / 60) <= 600 / 60 + 1e-9, String(edge.last_minute.packets_per_s));
      assert.equal(edge.last_minute.bits_per_s, edge.last_minute.packets_per_s * 800);
      assert.ok(edge.last_minute.requests_per_s > 0);
      assert.equal(tap.stale, true);
      assert.ok(tap.silent_s >= 40);
      assert.equal(tap.last_seen, new Date((now - 40) * 1000).toISOString());
      assert.ok(tap.last_minute.packets_per_s > 0 && tap.last_minute.packets_per_s <= (21 * 60) / 60);
    });
  });
}
