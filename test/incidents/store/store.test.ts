/**
 * One suite, run against SQLite and PostgreSQL (Hono's router habit): every Store method, two
 * handles on one database (incident numbers, outbox claims), migrations run again, and a child
 * process killed with SIGKILL mid-stream losing nothing it was told was stored.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { after, before, describe, type TestContext, it as test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { PalisadeError } from '../../../src/core/errors.js';
import { LATEST_VERSION, migrate } from '../../../src/incidents/store/migrations.js';
import { openStore, parseStoreSpec } from '../../../src/incidents/store/open.js';
import { openPostgres } from '../../../src/incidents/store/postgres.js';
import { alertRow } from '../../../src/incidents/store/rows.js';
import { openSqlite } from '../../../src/incidents/store/sqlite.js';
import type { Store, Summary } from '../../../src/incidents/store/store.js';
import { schemaProblem } from '../../../src/model/validate.js';
import { BACKENDS, type TestDb } from './backends.js';
import { alert } from './fixtures.js';

const WRITER = fileURLToPath(new URL('./writer.ts', import.meta.url));

/** Runs the writer child; resolves with its output lines (and kills it after `killAfter` lines when set). */
function runWriter(args: string[], killAfter?: number, timeoutMs = 60_000): Promise<{ lines: string[]; signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let partial = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer ${args[0]} took over ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      if (killAfter !== undefined && !killed && lines.length >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // A line cut by the kill was never wholly printed, so it was never reported as stored.
      resolve({ lines, signal, code, stderr });
    });
  });
}

for (const backend of BACKENDS) {
  describe(`store on ${backend.name}`, { timeout: 240_000 }, () => {
    let db: TestDb;
    let store: Store;
    /** PostgreSQL down: every test fails with the one message that says so (not cancelled, not skipped). */
    let setupError: unknown = null;
    before(async () => {
      try {
        db = await backend.create();
        store = await openStore(db.spec);
      } catch (err) {
        setupError = err;
      }
    });
    const it = (name: string, fn: (t: TestContext) => Promise<void>) =>
      test(name, async (t) => {
        if (setupError !== null) throw setupError;
        await fn(t);
      });
    after(async () => {
      await store?.close();
      await db?.drop();
    });

    /** A database of the test's own, for what needs a fresh one (numbers, migrations). */
    async function fresh<T>(fn: (spec: string) => Promise<T>): Promise<T> {
      const own = await backend.create();
      try {
        return await fn(own.spec);
      } finally {
        await own.drop();
      }
    }

    it('opens at the latest schema version, and opening again changes nothing', async () => {
      assert.equal(store.backend, backend.name);
      assert.equal(await store.schemaVersion(), LATEST_VERSION);
      const again = await openStore(db.spec);
      assert.equal(await again.schemaVersion(), LATEST_VERSION);
      await again.close();
    });

    it('upgrades a database of an older version in place, keeping its rows', async () => {
      await fresh(async (spec) => {
        // A database as the first release left it: version 1, one alert without the later columns.
        const h = backend.name === 'sqlite' ? openSqlite(spec) : await openPostgres(spec);
        assert.equal(await migrate(h.db, backend.name, spec, 1), 1);
        const { reasons: _r, service: _s, customer: _c, ...v1 } = alertRow(alert(70, { id: 'old-alert', fingerprint: 'fp-old' }));
        await sql`INSERT INTO alerts (${sql.join(Object.keys(v1).map((k) => sql.ref(k)))}) VALUES (${sql.join(Object.values(v1))})`.execute(h.db);
        // and a per-second summary of before migration 4 (no traffic by vector)
        await sql`INSERT INTO summaries (sensor, second, packets, bytes, requests, by_protocol, by_vector, by_victim) VALUES ('s-old', 1790000000, 5, 300, 0, '{}', '{"udp_flood":1}', '{}')`.execute(
          h.db,
        );
        await h.db.destroy();
        const s = await openStore(spec);
        try {
          assert.equal(await s.schemaVersion(), LATEST_VERSION);
          const old = await s.getAlert('old-alert');
          assert.deepEqual([old?.fingerprint, old?.reasons, old?.customer], ['fp-old', [], null]);
          const [sum] = await s.readSummaries(1_790_000_000, 1_790_000_001);
          assert.deepEqual([sum?.packets, sum?.by_vector, sum?.traffic_by_vector], [5, { udp_flood: 1 }, {}], 'an old summary reads with an empty traffic by vector');
          const r = await s.upsertAlert(alert(70, { fingerprint: 'fp-old', kind: 'update', reasons: ['peak doubled'], customer: 'acme', service: 'www' }));
          assert.deepEqual([r.created, r.alert.id, r.alert.reasons, r.alert.customer, r.alert.service], [false, 'old-alert', ['peak doubled'], 'acme', 'www']);
          assert.deepEqual(
            (await s.listAlerts({ customer: 'acme' })).map((a) => a.id),
            ['old-alert'],
          );
        } finally {
          await s.close();
        }
      });
    });

    it('upserts one alert per fingerprint, updated in place, until it ends', async () => {
      const first = alert(1, { fingerprint: 'fp-upsert' });
      const r1 = await store.upsertAlert(first);
      assert.equal(r1.created, true);
      assert.equal(r1.alert.id, first.id);
      assert.equal(r1.alert.state, 'open');
      assert.equal(r1.alert.revision, 0);
      assert.equal(schemaProblem(r1.alert, 'alert'), null);

      const r2 = await store.upsertAlert({ ...alert(1, { fingerprint: 'fp-upsert' }), kind: 'update', score: 80, last_seen: '2026-12-06T05:00:30Z', peak: 50, growing: true });
      assert.equal(r2.created, false);
      assert.equal(r2.alert.id, first.id, 'the open alert keeps its id');
      assert.equal(r2.alert.first_seen, '2026-12-06T05:00:02.000Z');
      assert.equal(r2.alert.last_seen, '2026-12-06T05:00:30.000Z');
      assert.equal(r2.alert.score, 80);
      assert.equal(r2.alert.peak, 100, 'the peak is the highest seen');
      assert.equal(r2.alert.growing, true);
      assert.equal(r2.alert.revision, 1);
      assert.equal((await store.findOpenAlert('fp-upsert'))?.id, first.id);

      const r3 = await store.upsertAlert({ ...alert(1, { fingerprint: 'fp-upsert' }), kind: 'end' });
      assert.equal(r3.alert.id, first.id);
      assert.equal(r3.alert.state, 'ended');
      assert.equal(await store.findOpenAlert('fp-upsert'), null);

      const r4 = await store.upsertAlert(alert(1, { fingerprint: 'fp-upsert' }));
      assert.equal(r4.created, true, 'after the end, the same fingerprint raises a new alert');
      assert.notEqual(r4.alert.id, first.id);
      assert.equal((await store.getAlert(first.id))?.state, 'ended');
      assert.equal(await store.getAlert('nope'), null);
    });

    it('keeps triage state and incident across updates', async () => {
      const a = alert(2, { fingerprint: 'fp-triage' });
      await store.upsertAlert(a);
      assert.equal(await store.ackAlert(a.id, 'ana', '2026-12-06T05:01:00Z'), true);
      const acked = await store.getAlert(a.id);
      assert.equal(acked?.state, 'acknowledged');
      assert.equal(acked?.acked_by, 'ana');
      assert.equal(acked?.acked_at, '2026-12-06T05:01:00.000Z');
      assert.equal(await store.silenceAlert(a.id, 'sil-1'), true);
      assert.equal((await store.getAlert(a.id))?.state, 'silenced');
      const upd = await store.upsertAlert({ ...alert(2, { fingerprint: 'fp-triage' }), kind: 'update' });
      assert.equal(upd.alert.state, 'silenced', 'an update keeps the triage state');
      assert.equal(upd.alert.silenced_by, 'sil-1');
      assert.equal(await store.unsilenceAlert(a.id), true);
      assert.equal((await store.getAlert(a.id))?.state, 'acknowledged', 'unsilenced back to acknowledged');
      assert.equal(await store.unsilenceAlert(a.id), false, 'not silenced any more');
      assert.equal(await store.ackAlert('nope', 'ana'), false);
      await store.upsertAlert({ ...alert(2, { fingerprint: 'fp-triage' }), kind: 'end' });
      assert.equal(await store.ackAlert(a.id, 'bob'), false, 'an ended alert is not acknowledged again');
      assert.equal(await store.silenceAlert(a.id, 'bob'), false);
    });

    it('lists alerts by score with filters', async () => {
      await fresh(async (spec) => {
        const s = await openStore(spec);
        try {
          await s.upsertAlert(alert(10, { fingerprint: 'l1', score: 10, severity: 'low', last_seen: '2026-12-06T05:00:00Z' }));
          await s.upsertAlert(alert(11, { fingerprint: 'l2', score: 90, severity: 'critical', last_seen: '2026-12-06T06:00:00Z' }));
          await s.upsertAlert(alert(12, { fingerprint: 'l3', score: 50, severity: 'high', vector: 'udp_flood', last_seen: '2026-12-06T07:00:00Z' }));
          await s.upsertAlert({ ...alert(13, { fingerprint: 'l4', score: 99 }), kind: 'end' });
          assert.deepEqual(
            (await s.listAlerts()).map((a) => a.fingerprint),
            ['l4', 'l2', 'l3', 'l1'],
          );
          assert.deepEqual(
            (await s.listAlerts({ state: 'open' })).map((a) => a.fingerprint),
            ['l2', 'l3', 'l1'],
          );
          assert.deepEqual(
            (await s.listAlerts({ severity: ['critical', 'low'] })).map((a) => a.fingerprint),
            ['l2', 'l1'],
          );
          assert.deepEqual(
            (await s.listAlerts({ vector: 'udp_flood' })).map((a) => a.fingerprint),
            ['l3'],
          );
          assert.deepEqual(
            (await s.listAlerts({ since: '2026-12-06T06:00:00Z', state: ['open'] })).map((a) => a.fingerprint),
            ['l2', 'l3'],
          );
          assert.equal((await s.listAlerts({ limit: 2 })).length, 2);
          assert.equal((await s.listAlerts({ sensor: 'elsewhere' })).length, 0);
          assert.equal((await s.listAlerts({ state: [] })).length, 0);
        } finally {
          await s.close();
        }
      });
    });

    it('adds, lists, removes and expires silences (expiry unsilences their alerts)', async () => {
      const s1 = await store.addSilence({ expression: 'alert.vector == "udp_flood"', until: '2026-12-06T06:00:00Z', created_by: 'ana', reason: 'drill' });
      const s2 = await store.addSilence({ expression: 'true', until: '2026-12-06T08:00:00Z', created_by: 'bob', reason: 'maintenance' });
      assert.match(s1.id, /^[0-9a-f-]{36}$/);
      assert.equal(s1.until, '2026-12-06T06:00:00.000Z');
      assert.deepEqual((await store.listSilences()).map((s) => s.id).sort(), [s1.id, s2.id].sort());
      assert.deepEqual(
        (await store.listSilences('2026-12-06T07:00:00Z')).map((s) => s.id),
        [s2.id],
      );
      const a = alert(20, { fingerprint: 'fp-silenced' });
      await store.upsertAlert(a);
      await store.silenceAlert(a.id, s1.id);
      const gone = await store.expireSilences('2026-12-06T07:00:00Z');
      assert.deepEqual(
        gone.map((s) => s.id),
        [s1.id],
      );
      assert.equal((await store.getAlert(a.id))?.state, 'open', 'the expired silence no longer holds the alert');
      assert.equal(await store.removeSilence(s2.id), true);
      assert.equal(await store.removeSilence(s2.id), false);
      assert.deepEqual(await store.listSilences(), []);
    });

    it('creates incidents with increasing numbers and reads them whole', async () => {
      await fresh(async (spec) => {
        const s = await openStore(spec);
        try {
          const one = await s.createIncident({ title: 'SYN flood on 203.0.113.1', severity: 'high', customer: 'acme', tags: ['l4'], at: '2026-12-06T05:00:00Z' });
          const two = await s.createIncident({ title: 'second', severity: 'low' });
          assert.equal(one.number, 1);
          assert.equal(two.number, 2);
          assert.equal(one.status, 'new');
          const a = alert(30, { fingerprint: 'fp-inc' });
          await s.upsertAlert(a);
          assert.equal(await s.linkAlert(1, a.id), true);
          assert.equal(await s.linkAlert(1, 'nope'), false);
          const ev = await s.appendTimeline(1, { at: '2026-12-06T05:00:03Z', kind: 'alert_raised', actor: 'palisade', text: 'alert raised', data: { alert: a.id } });
          assert.ok(typeof ev.id === 'number' && ev.id > 0);
          await s.appendTimeline(1, { at: '2026-12-06T05:00:04Z', kind: 'note', actor: 'ana', text: 'looking', data: null });
          assert.equal(
            await s.addObservables(1, [
              { kind: 'ip', value: '198.51.100.1' },
              { kind: 'ja3', value: 'abc' },
            ]),
            2,
          );
          assert.equal(
            await s.addObservables(1, [
              { kind: 'ip', value: '198.51.100.1' },
              { kind: 'asn', value: '64500' },
            ]),
            1,
            'duplicates are skipped',
          );
          const m1 = await s.upsertMitigation(1, { target: 'nftables', ruleset: { rules: ['r1'] }, state: 'applying' });
          assert.equal(m1.id, 'nftables');
          const m2 = await s.upsertMitigation(1, { target: 'nftables', state: 'applied', hits: 1234 });
          assert.deepEqual(m2.ruleset, { rules: ['r1'] }, 'a change without a ruleset keeps it');
          assert.equal(m2.hits, 1234);
          assert.equal((await s.upsertMitigation(1, { target: 'nftables', state: 'applied' })).hits, 1234);
          const got = await s.getIncident(1);
          assert.ok(got);
          assert.equal(schemaProblem(got, 'incident'), null);
          assert.deepEqual(got.alerts, [a.id]);
          assert.deepEqual(
            got.timeline.map((e) => e.kind),
            ['alert_raised', 'note'],
          );
          assert.deepEqual(got.timeline[0]?.data, { alert: a.id });
          assert.equal(got.timeline[1]?.data, null);
          assert.equal(got.observables.length, 3);
          assert.deepEqual(
            got.mitigations.map((m) => [m.target, m.state, m.hits]),
            [['nftables', 'applied', 1234]],
          );
          assert.equal(got.customer, 'acme');
          assert.deepEqual(got.tags, ['l4']);
          assert.equal((await s.getAlert(a.id))?.incident_id, 1);
          assert.equal(await s.getIncident(99), null);
          await assert.rejects(
            s.appendTimeline(99, { at: '2026-12-06T05:00:00Z', kind: 'note', actor: 'x', text: 'x', data: null }),
            (e: unknown) => e instanceof PalisadeError && e.code === 'E_INPUT',
          );
          await assert.rejects(s.addObservables(99, []), PalisadeError);
          await assert.rejects(s.upsertMitigation(99, { target: 'edge', state: 'applied' }), PalisadeError);
        } finally {
          await s.close();
        }
      });
    });

    it('updates, filters and lists incidents', async () => {
      await fresh(async (spec) => {
        const s = await openStore(spec);
        try {
          await s.createIncident({ title: 'a', severity: 'high', customer: 'acme', at: '2026-12-06T05:00:00Z' });
          await s.createIncident({ title: 'b', severity: 'low', customer: 'other', at: '2026-12-06T05:00:00Z' });
          assert.equal(
            await s.updateIncident(1, { status: 'investigating', assignee: 'ana', tags: ['x', 'y'], title: 'A', severity: 'critical', customer: 'acme2' }, '2026-12-06T06:00:00Z'),
            true,
          );
          assert.equal(await s.updateIncident(7, { status: 'resolved' }), false);
          const one = await s.getIncident(1);
          assert.deepEqual(
            [one?.status, one?.assignee, one?.tags, one?.title, one?.severity, one?.customer, one?.updated_at],
            ['investigating', 'ana', ['x', 'y'], 'A', 'critical', 'acme2', '2026-12-06T06:00:00.000Z'],
          );
          const a = alert(40, { fingerprint: 'fp-list-inc', incident_id: 2 });
          await s.upsertAlert(a);
          const all = await s.listIncidents();
          assert.deepEqual(
            all.map((i) => i.number),
            [2, 1],
          );
          assert.deepEqual(all[0]?.alerts, [a.id]);
          assert.deepEqual(
            (await s.listIncidents({ status: 'investigating' })).map((i) => i.number),
            [1],
          );
          assert.deepEqual(
            (await s.listIncidents({ severity: ['low'] })).map((i) => i.number),
            [2],
          );
          assert.deepEqual(
            (await s.listIncidents({ customer: 'other' })).map((i) => i.number),
            [2],
          );
          assert.deepEqual(
            (await s.listIncidents({ assignee: 'ana' })).map((i) => i.number),
            [1],
          );
          assert.deepEqual(
            (await s.listIncidents({ since: '2026-12-06T05:30:00Z' })).map((i) => i.number),
            [1],
          );
        } finally {
          await s.close();
        }
      });
    });

    it('moves an alert between incidents and merges one incident into another', async () => {
      await fresh(async (spec) => {
        const s = await openStore(spec);
        try {
          const a = await s.createIncident({ title: 'a', severity: 'medium' });
          const b = await s.createIncident({ title: 'b', severity: 'critical' });
          const x = alert(50, { fingerprint: 'fp-x' });
          const y = alert(51, { fingerprint: 'fp-y' });
          await s.upsertAlert(x);
          await s.upsertAlert(y);
          await s.linkAlert(a.number, x.id);
          await s.linkAlert(b.number, y.id);
          assert.equal(await s.moveAlert(x.id, b.number, 'ana', '2026-12-06T05:10:00Z'), true);
          assert.equal(await s.moveAlert('nope', b.number, 'ana'), false);
          assert.deepEqual((await s.getIncident(a.number))?.alerts, []);
          assert.deepEqual(((await s.getIncident(b.number))?.alerts ?? []).sort(), [x.id, y.id].sort());
          assert.equal((await s.getIncident(a.number))?.timeline.at(-1)?.kind, 'alert_moved');
          await s.moveAlert(x.id, a.number, 'ana', '2026-12-06T05:11:00Z');

          await s.appendTimeline(b.number, { at: '2026-12-06T05:05:00Z', kind: 'note', actor: 'bob', text: 'b note', data: null });
          await s.addObservables(a.number, [{ kind: 'ip', value: '198.51.100.1', first_seen: '2026-12-06T05:20:00Z' }]);
          await s.addObservables(b.number, [
            { kind: 'ip', value: '198.51.100.1', first_seen: '2026-12-06T05:01:00Z' },
            { kind: 'prefix', value: '198.51.100.0/24' },
          ]);
          await s.upsertMitigation(a.number, { target: 'nftables', ruleset: 'a', state: 'applied', hits: 1 });
          await s.upsertMitigation(b.number, { target: 'nftables', ruleset: 'b', state: 'applied', hits: 2 });
          await s.upsertMitigation(b.number, { target: 'edge', ruleset: 'e', state: 'suggested' });

          const merged = await s.mergeIncidents(a.number, b.number, 'ana', '2026-12-06T05:30:00Z');
          assert.equal(merged.severity, 'critical', 'the merged incident is as severe as the worse of the two');
          assert.deepEqual([...merged.alerts].sort(), [x.id, y.id].sort());
          assert.ok(merged.timeline.some((e) => e.text === 'b note'));
          assert.equal(merged.timeline.at(-1)?.kind, 'merged');
          assert.equal(merged.observables.length, 2);
          assert.equal(merged.observables.find((o) => o.kind === 'ip')?.first_seen, '2026-12-06T05:01:00.000Z');
          assert.deepEqual(merged.mitigations.map((m) => m.id).sort(), ['edge', 'nftables', `nftables@${b.number}`]);
          const gone = await s.getIncident(b.number);
          assert.equal(gone?.merged_into, a.number);
          assert.equal(gone?.status, 'resolved');
          assert.deepEqual(gone?.alerts, []);
          assert.deepEqual(
            gone?.timeline.map((e) => e.kind),
            ['merged'],
          );
          assert.deepEqual(gone?.observables, []);
          assert.deepEqual(gone?.mitigations, []);
          await assert.rejects(s.mergeIncidents(a.number, b.number, 'ana'), /already merged/);
          await assert.rejects(s.mergeIncidents(a.number, a.number, 'ana'), PalisadeError);
          await assert.rejects(s.mergeIncidents(a.number, 42, 'ana'), /no incident #42/);
        } finally {
          await s.close();
        }
      });
    });

    it('queues outbox events idempotently, claims with a lease, marks delivered or failed', async () => {
      await fresh(async (spec) => {
        const s = await openStore(spec);
        try {
          const t0 = '2026-12-06T05:00:00.000Z';
          const n = await s.enqueue([
            { key: 'k1', target: 'hook', topic: 'alert.start', payload: { a: 1 }, due: t0 },
            { key: 'k1', target: 'slack', topic: 'alert.start', payload: { a: 1 }, due: t0 },
            { key: 'k2', target: 'hook', topic: 'alert.end', payload: { a: 2 }, due: '2026-12-06T05:10:00Z' },
          ]);
          assert.equal(n, 3);
          assert.equal(await s.enqueue([{ key: 'k1', target: 'hook', topic: 'alert.start', payload: {}, due: t0 }]), 0, 'the same key and target twice is one event');
          const c1 = await s.claimOutbox('w1', 10, 60_000, '2026-12-06T05:01:00Z');
          assert.deepEqual(
            c1.map((i) => [i.key, i.target]),
            [
              ['k1', 'hook'],
              ['k1', 'slack'],
            ],
          );
          assert.deepEqual(c1[0]?.payload, { a: 1 });
          assert.equal(c1[0]?.lease_until, '2026-12-06T05:02:00.000Z');
          assert.deepEqual(await s.claimOutbox('w2', 10, 60_000, '2026-12-06T05:01:30Z'), [], 'leased items are not handed out twice');
          const [hook, slack] = c1;
          assert.ok(hook && slack);
          assert.equal(await s.markDelivered(hook.id, 'w2'), false, 'only the lease holder marks it');
          assert.equal(await s.markDelivered(hook.id, 'w1'), true);
          assert.equal(await s.markFailed(slack.id, 'w1', 'HTTP 503', '2026-12-06T05:05:00Z'), true);
          assert.deepEqual(await s.claimOutbox('w2', 10, 60_000, '2026-12-06T05:03:00Z'), [], 'not before its retry time');
          const c2 = await s.claimOutbox('w2', 10, 60_000, '2026-12-06T05:06:00Z');
          assert.deepEqual(
            c2.map((i) => [i.key, i.target, i.attempts, i.last_error]),
            [['k1', 'slack', 1, 'HTTP 503']],
          );
          // w2 dies holding the lease: after it ends, another claimer gets the item.
          const c3 = await s.claimOutbox('w3', 10, 60_000, '2026-12-06T05:08:00Z');
          assert.deepEqual(
            c3.map((i) => i.key),
            ['k1'],
          );
          assert.equal(await s.markDelivered(c3[0]?.id ?? 0, 'w2'), false, 'the expired holder lost it');
          assert.equal(await s.markFailed(c3[0]?.id ?? 0, 'w3', 'gone', null), true);
          assert.deepEqual(await s.outboxBacklog(), { pending: 1, dead: 1 });
          const c4 = await s.claimOutbox('w3', 10, 60_000, '2026-12-06T05:20:00Z');
          assert.deepEqual(
            c4.map((i) => i.key),
            ['k2'],
            'delivered and dead items are never handed out again',
          );
          assert.equal(await s.markDelivered(c4[0]?.id ?? 0, 'w3'), true);
          assert.deepEqual(await s.outboxBacklog(), { pending: 0, dead: 1 });
          assert.equal(await s.markDelivered(c4[0]?.id ?? 0, 'w3', '2026-12-06T05:21:00Z'), false, 'delivered once');
          assert.equal(await s.pruneOutbox('2026-12-06T05:00:00Z'), 0, 'nothing delivered that early');
          assert.equal(await s.pruneOutbox('2099-01-01T00:00:00Z'), 2, 'the two delivered items go; the dead one stays');
          assert.deepEqual(await s.outboxBacklog(), { pending: 0, dead: 1 });
        } finally {
          await s.close();
        }
      });
    });

    it('commits a transaction whole or not at all', async () => {
      const a = alert(60, { fingerprint: 'fp-tx' });
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.upsertAlert(a);
          await tx.enqueue([{ key: 'tx-1', target: 'hook', topic: 'alert.start', payload: {} }]);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.getAlert(a.id), null);
      await store.transaction(async (tx) => {
        await tx.upsertAlert(a);
        await tx.enqueue([{ key: 'tx-1', target: 'hook', topic: 'alert.start', payload: {} }]);
      });
      assert.ok(await store.getAlert(a.id));
      assert.equal(await store.enqueue([{ key: 'tx-1', target: 'hook', topic: 'alert.start', payload: {} }]), 0);
    });

    it('writes per-second summaries in batches, reads a range, deletes old ones', async () => {
      const rows: Summary[] = Array.from({ length: 1200 }, (_, i) => ({
        sensor: i % 2 ? 's1' : 's2',
        second: 1_790_000_000 + Math.floor(i / 2),
        packets: 5_000_000_000 + i,
        bytes: i * 100,
        requests: i,
        by_protocol: { tcp: i },
        by_vector: (i % 10 === 0 ? { tcp_syn_flood: i } : {}) as Record<string, number>,
        by_victim: { '203.0.113.1': i },
        // rows written before migration 4 have none: written so here too, they read as {}
        ...(i % 10 === 0 && { traffic_by_vector: { tcp_syn_flood: { packets: i, bytes: i * 60, requests: 0 }, http_flood: { packets: 0, bytes: 0, requests: 3 } } }),
      }));
      await store.writeSummaries(rows);
      await store.writeSummaries([{ ...(rows[0] as Summary), packets: 7 }]);
      const got = await store.readSummaries(1_790_000_000, 1_790_000_010);
      assert.equal(got.length, 20);
      assert.deepEqual(
        got.slice(0, 2).map((s) => s.sensor),
        ['s1', 's2'],
        'by second, then sensor',
      );
      assert.deepEqual(got[1], { ...rows[0], packets: 7 }, 'a row with its traffic by vector reads back as written');
      assert.deepEqual(got[0]?.traffic_by_vector, {}, 'a row without reads an empty traffic by vector');
      assert.equal(got[0]?.packets, 5_000_000_001, 'counts beyond 32 bits come back as numbers');
      assert.equal((await store.readSummaries(1_790_000_000, 1_790_000_010, 's1')).length, 10);
      assert.equal(await store.deleteSummariesBefore(1_790_000_100), 200);
      assert.equal((await store.readSummaries(0, 2_000_000_000)).length, 1000);
      assert.deepEqual(await store.summarySensors(), [
        { sensor: 's1', first: 1_790_000_100, last: 1_790_000_599 },
        { sensor: 's2', first: 1_790_000_100, last: 1_790_000_599 },
      ]);
    });

    it('disables an account (its sessions deleted) and enables it again; lists and deletes its tokens', async () => {
      const at = '2026-12-06T05:00:00.000Z';
      assert.equal(await store.createAccount({ name: 'dora', role: 'operator', password_hash: 'x', created_at: at, created_by: 'test' }), true);
      await store.createSession({ id_hash: 'h1', account: 'dora', csrf: 'c', created_at: at, expires_at: '2999-01-01T00:00:00.000Z' });
      for (const id of ['tok-b', 'tok-a']) await store.addToken({ id, account: 'dora', name: id, secret_hash: 'h', created_at: at });
      assert.equal(await store.setAccountDisabled('dora', true), true);
      assert.equal((await store.getAccount('dora'))?.disabled, true);
      assert.equal(await store.getSession('h1', at), null, 'its session went with it');
      assert.equal(await store.setAccountDisabled('dora', false), true);
      assert.equal((await store.getAccount('dora'))?.disabled, false);
      assert.equal(await store.setAccountDisabled('nobody', true), false);
      assert.deepEqual(
        (await store.listTokens('dora')).map((t) => t.id),
        ['tok-a', 'tok-b'],
      );
      assert.equal(await store.deleteToken('tok-a'), true);
      assert.equal(await store.deleteToken('tok-a'), false);
      assert.equal(await store.getToken('tok-a'), null);
      assert.deepEqual(
        (await store.listTokens()).map((t) => t.id),
        ['tok-b'],
      );
    });

    it('two handles on one database: incident numbers never collide, a claim goes to one claimer', async () => {
      await fresh(async (spec) => {
        const s1 = await openStore(spec);
        const s2 = await openStore(spec);
        try {
          const made = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? s1 : s2).createIncident({ title: `c${i}`, severity: 'low' })));
          const numbers = made.map((i) => i.number).sort((x, y) => x - y);
          assert.deepEqual(
            numbers,
            Array.from({ length: 40 }, (_, i) => i + 1),
          );
          await s1.enqueue(Array.from({ length: 60 }, (_, i) => ({ key: `c${i}`, target: 'hook', topic: 't', payload: i })));
          const claimed: number[] = [];
          const claimer = async (s: Store, owner: string) => {
            for (;;) {
              const items = await s.claimOutbox(owner, 3, 60_000);
              if (items.length === 0) return;
              for (const it of items) {
                claimed.push(it.id);
                assert.equal(await s.markDelivered(it.id, owner), true);
              }
            }
          };
          await Promise.all([claimer(s1, 'a'), claimer(s2, 'b'), claimer(s1, 'c'), claimer(s2, 'd')]);
          assert.equal(claimed.length, 60);
          assert.equal(new Set(claimed).size, 60, 'no item was handed to two claimers');
        } finally {
          await s1.close();
          await s2.close();
        }
      });
    });

    it('two processes on one new database: migrations run once, incident numbers never collide, each outbox item delivered once', async () => {
      await fresh(async (spec) => {
        // Both open the empty database at once: each runs the migrations, one applies them.
        const [p1, p2] = await Promise.all([runWriter(['incidents', spec, '25']), runWriter(['incidents', spec, '25'])]);
        const s = await openStore(spec);
        try {
          assert.equal(p1.code, 0, p1.stderr);
          assert.equal(p2.code, 0, p2.stderr);
          const numbers = [...p1.lines, ...p2.lines].map(Number).sort((x, y) => x - y);
          assert.deepEqual(
            numbers,
            Array.from({ length: 50 }, (_, i) => i + 1),
          );
          await s.enqueue(Array.from({ length: 80 }, (_, i) => ({ key: `p${i}`, target: 'hook', topic: 't', payload: i })));
          const [c1, c2] = await Promise.all([runWriter(['claim', spec, 'p1']), runWriter(['claim', spec, 'p2'])]);
          assert.equal(c1.code, 0, c1.stderr);
          const ids = [...c1.lines, ...c2.lines];
          assert.equal(ids.length, 80);
          assert.equal(new Set(ids).size, 80);
          assert.deepEqual(await s.outboxBacklog(), { pending: 0, dead: 0 });
        } finally {
          await s.close();
        }
      });
    });

    it('kill -9 mid-stream loses nothing that was reported as stored', async (t) => {
      await fresh(async (spec) => {
        const run = await runWriter(['stream', spec], 600);
        assert.equal(run.signal, 'SIGKILL', `the writer was to be killed; stderr: ${run.stderr}`);
        const s = await openStore(spec);
        try {
          const incident = Number(run.lines.find((l) => l.startsWith('incident '))?.split(' ')[1]);
          const got = await s.getIncident(incident);
          assert.ok(got, 'the incident is there');
          const timelineIds = new Set(got.timeline.map((e) => e.id));
          const claimed = new Set((await s.claimOutbox('check', 100_000, 60_000)).map((i) => i.key));
          let alerts = 0;
          let events = 0;
          let outbox = 0;
          for (const line of run.lines) {
            const [what, id] = line.split(' ');
            if (what === 'alert') {
              alerts++;
              assert.ok(await s.getAlert(id as string), `alert ${id} was reported stored`);
            } else if (what === 'timeline') {
              events++;
              assert.ok(timelineIds.has(Number(id)), `timeline event ${id} was reported stored`);
            } else if (what === 'outbox') {
              outbox++;
              assert.ok(claimed.has(id as string), `outbox event ${id} was reported stored`);
              assert.equal((await s.getAlert((id as string).split(':')[1] as string))?.revision, 1, 'its alert update committed with it');
            }
          }
          assert.ok(alerts >= 150 && events >= 150 && outbox >= 150, `the stream ran (${alerts} alerts, ${events} events, ${outbox} outbox rows)`);
          t.diagnostic(`kill -9 on ${backend.name}: ${alerts} alerts, ${events} timeline events, ${outbox} outbox rows reported stored, all found`);
        } finally {
          await s.close();
        }
      });
    });
  });
}

describe('store: bad input is a PalisadeError', () => {
  test('parses the database string', () => {
    assert.deepEqual(parseStoreSpec('x.db'), { backend: 'sqlite', file: 'x.db' });
    assert.deepEqual(parseStoreSpec('sqlite:x.db'), { backend: 'sqlite', file: 'x.db' });
    assert.deepEqual(parseStoreSpec('sqlite:///tmp/x.db'), { backend: 'sqlite', file: '/tmp/x.db' });
    assert.deepEqual(parseStoreSpec('postgresql://h/db'), { backend: 'postgres', url: 'postgresql://h/db' });
    for (const bad of ['', '  ', 'sqlite:', 'mysql://h/db'])
      assert.throws(
        () => parseStoreSpec(bad),
        (e: unknown) => e instanceof PalisadeError && e.code === 'E_CONFIG',
        bad,
      );
  });

  test('a malformed or unreachable PostgreSQL', async () => {
    await assert.rejects(openStore('postgres://'), (e: unknown) => e instanceof PalisadeError && e.code === 'E_CONFIG');
    await assert.rejects(openStore('postgres://postgres@127.0.0.1:5432/test?schema=bad-name;'), (e: unknown) => e instanceof PalisadeError && e.code === 'E_CONFIG');
    await assert.rejects(
      openStore('postgres://postgres@127.0.0.1:1/test'),
      (e: unknown) => e instanceof PalisadeError && e.code === 'E_DEPENDENCY' && /not reachable/.test(e.message),
    );
    await assert.rejects(openStore('postgres://postgres@127.0.0.1:5432/no_such_database_here'), (e: unknown) => e instanceof PalisadeError && e.code === 'E_CONFIG');
  });

  test('a SQLite file that is not a database, or in a folder that does not exist', async () => {
    const db = await (BACKENDS[0] as (typeof BACKENDS)[0]).create();
    try {
      writeFileSync(db.spec, 'this is not a database, it is a text file long enough to have a header of its own..........');
      await assert.rejects(openStore(db.spec), (e: unknown) => e instanceof PalisadeError && e.code === 'E_INPUT' && /not a SQLite database/.test(e.message));
      await assert.rejects(openStore('/no/such/folder/x.db'), (e: unknown) => e instanceof PalisadeError && e.code === 'E_INPUT');
    } finally {
      await db.drop();
    }
  });

  test('a schema newer than the code', async () => {
    for (const backend of BACKENDS) {
      const db = await backend.create();
      try {
        const s = await openStore(db.spec);
        await s.transaction(async () => {});
        await s.close();
        // Written as a later Palisade would have: a version beyond LATEST_VERSION.
        const h = backend.name === 'sqlite' ? openSqlite(db.spec) : await openPostgres(db.spec);
        await h.db
          .insertInto('palisade_migrations')
          .values({ version: LATEST_VERSION + 1, name: 'future', applied_at: new Date().toISOString() })
          .execute();
        await h.db.destroy();
        await assert.rejects(openStore(db.spec), (e: unknown) => e instanceof PalisadeError && e.code === 'E_DEPENDENCY' && /newer/.test(e.message), backend.name);
      } finally {
        await db.drop();
      }
    }
  });
});
