/**
 * The admin's storage and notifications routes (src/server/storage-api.ts) on SQLite and
 * PostgreSQL: admin only (403 for an operator, 401 without credentials, CSRF like every change);
 * the store described; a prune by hand dry-run first (counts, deletes nothing, not audited), then
 * for real (deleted, audited with the counts); a body error names its field; the outbox backlog.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LATEST_VERSION } from '../../src/incidents/store/migrations.js';
import type { Summary } from '../../src/incidents/store/store.js';
import { BACKENDS } from '../incidents/store/backends.js';
import { call, refusals, type ServerFixture, startServer, stopServer } from './server-fixture.js';

const DAY = 86_400;

function row(second: number): Summary {
  return { sensor: 'tap', second, packets: 1, bytes: 60, requests: 0, by_protocol: {}, by_vector: {}, by_victim: {} };
}

for (const backend of BACKENDS) {
  describe(`storage API (${backend.name})`, () => {
    let f: ServerFixture;
    const now = Math.floor(Date.now() / 1000);
    before(async () => {
      f = await startServer(backend);
      // 3 summaries 100 days old, 2 from the last minute
      await f.store.writeSummaries([row(now - 100 * DAY), row(now - 100 * DAY + 1), row(now - 100 * DAY + 2), row(now - 30), row(now - 20)]);
    });
    after(() => stopServer(f));

    it('admin only: 401 without credentials, 403 for an operator, CSRF refused', async () => {
      for (const path of ['/api/storage', '/api/notifications']) {
        assert.equal((await call(f, 'GET', path)).status, 401);
        assert.equal((await call(f, 'GET', path, { token: f.tokens.operator })).status, 403);
      }
      const r = await refusals(f, 'POST', '/api/storage/prune', { incidents_days: 30 }, 'operator');
      assert.deepEqual(r, { anonymous: 401, weaker: 403, noCsrf: 403 });
    });

    it('describes the store, prunes by hand (dry run first), and shows the outbox backlog', async () => {
      const t = f.tokens.admin;
      const info = (await (await call(f, 'GET', '/api/storage', { token: t })).json()) as {
        backend: string;
        schema_version: number;
        summaries: { sensors: number; oldest: string };
      };
      assert.equal(info.backend, backend.name);
      assert.equal(info.schema_version, LATEST_VERSION);
      assert.equal(info.summaries.sensors, 1);
      assert.equal(info.summaries.oldest, new Date((now - 100 * DAY) * 1000).toISOString());

      const bad = await call(f, 'POST', '/api/storage/prune', { token: t, body: { incidents_days: 0 } });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { field: string }).field, 'incidents_days');

      const dry = (await (await call(f, 'POST', '/api/storage/prune', { token: t, body: { incidents_days: 30, dry_run: true } })).json()) as {
        dry_run: boolean;
        summaries: number;
      };
      assert.deepEqual([dry.dry_run, dry.summaries], [true, 3]);
      assert.equal((await f.store.readSummaries(0, now + 1)).length, 5, 'a dry run deletes nothing');

      const done = (await (await call(f, 'POST', '/api/storage/prune', { token: t, body: { incidents_days: 30, summaries_days: 7 } })).json()) as {
        dry_run: boolean;
        summaries: number;
      };
      assert.deepEqual([done.dry_run, done.summaries], [false, 3]);
      assert.equal((await f.store.readSummaries(0, now + 1)).length, 2);
      const audit = (await (await call(f, 'GET', '/api/audit', { token: t })).json()) as { action: string; detail: { summaries: number; summaries_days: number } }[];
      const prunes = audit.filter((e) => e.action === 'storage.prune');
      assert.equal(prunes.length, 1, 'the real prune is audited, the dry run is not');
      assert.deepEqual([prunes[0]?.detail.summaries, prunes[0]?.detail.summaries_days], [3, 7]);

      const outbox = (await (await call(f, 'GET', '/api/notifications', { token: t })).json()) as { pending: number; dead: number };
      assert.deepEqual(outbox, { pending: 0, dead: 0 });
    });
  });
}
