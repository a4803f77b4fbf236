/**
 * Tickets opened and merged through the API (src/server/incidents-api.ts) on SQLite and
 * PostgreSQL: the refusals (401, 403 for a viewer, CSRF, the field of a bad body), a ticket for
 * alerts (moved out of their incident, timeline events on both), an empty one with a title, and
 * a merge that keeps both timelines and all the alerts, each with its audit row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Incident } from '../../src/model/incident.js';
import { BACKENDS } from '../incidents/store/backends.js';
import { alert } from '../incidents/store/fixtures.js';
import { call, refusals, type ServerFixture, startServer, stopServer } from './server-fixture.js';

async function json<T>(r: Response | Promise<Response>): Promise<T> {
  return (await (await r).json()) as T;
}

for (const backend of BACKENDS) {
  describe(`incidents API: create and merge (${backend.name})`, () => {
    let f: ServerFixture;
    const ids: string[] = [];
    let first: number;
    before(async () => {
      f = await startServer(backend);
      for (let i = 1; i <= 3; i++) {
        const { alert: a } = await f.store.upsertAlert(alert(i, { fingerprint: `tcp_syn_flood|203.0.113.${i}|fields`, severity: i === 2 ? 'critical' : 'medium' }));
        ids.push(a.id);
      }
      const inc = await f.store.createIncident({ title: 'SYN floods', severity: 'medium' });
      for (const id of ids) await f.store.linkAlert(inc.number, id);
      first = inc.number;
    });
    after(() => stopServer(f));

    it('refuses without credentials (401), a viewer (403), a cookie change without CSRF (403), and names the field of a bad body', async () => {
      for (const [path, body] of [
        ['/api/incidents', { title: 'x' }],
        [`/api/incidents/${first}/merge`, { into: first + 1 }],
      ] as const) {
        const r = await refusals(f, 'POST', path, body, 'viewer');
        assert.deepEqual(r, { anonymous: 401, weaker: 403, noCsrf: 403 }, path);
      }
      const bad: [string, unknown, string, RegExp][] = [
        ['/api/incidents', { title: '' }, 'title', /^title: expected the ticket's title/],
        ['/api/incidents', { alerts: 'a' }, 'alerts', /^alerts: expected the ids/],
        ['/api/incidents', { severity: 'huge', title: 'x' }, 'severity', /^severity: expected one of/],
        ['/api/incidents', {}, 'title', /^title: missing; an incident without alerts needs a title/],
        ['/api/incidents', { alerts: ['nope'] }, 'alerts', /^alerts: no alert nope/],
        [`/api/incidents/${first}/merge`, {}, 'into', /^into: missing/],
        [`/api/incidents/${first}/merge`, { into: 'two' }, 'into', /^into: expected the number/],
        [`/api/incidents/${first}/merge`, { into: first }, 'into', /cannot be merged into itself/],
      ];
      for (const [path, body, field, message] of bad) {
        const r = await call(f, 'POST', path, { token: f.tokens.operator, body });
        assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}`);
        const got = await json<{ field: string; error: string }>(r);
        assert.equal(got.field, field);
        assert.match(got.error, message);
      }
      assert.equal((await f.store.listIncidents({})).length, 1, 'nothing was created by the refused calls');
    });

    it('opens a ticket for alerts (moved out of theirs, severity the highest) and an empty one with a title, then merges them', async () => {
      const t = f.tokens.operator;
      const made = await call(f, 'POST', '/api/incidents', { token: t, body: { alerts: [ids[1], ids[2]] } });
      assert.equal(made.status, 201);
      const inc = await json<Incident>(made);
      assert.equal(inc.title, 'tcp_syn_flood on 203.0.113.2');
      assert.equal(inc.severity, 'critical');
      assert.deepEqual([...inc.alerts].sort(), [ids[1], ids[2]].sort());
      assert.deepEqual(
        inc.timeline.map((e) => [e.kind, e.actor]),
        [
          ['alert_moved', 'operator'],
          ['alert_moved', 'operator'],
        ],
      );
      const old = (await f.store.getIncident(first)) as Incident;
      assert.deepEqual(old.alerts, [ids[0]]);
      assert.equal(old.timeline.filter((e) => e.kind === 'alert_moved').length, 2);

      const empty = await json<Incident>(call(f, 'POST', '/api/incidents', { token: t, body: { title: 'customer reports slowness', severity: 'low', customer: 'shop' } }));
      assert.equal(empty.title, 'customer reports slowness');
      assert.equal(empty.customer, 'shop');
      assert.deepEqual(empty.alerts, []);
      assert.deepEqual(
        empty.timeline.map((e) => [e.kind, e.actor]),
        [['opened', 'operator']],
      );

      const merge = await call(f, 'POST', `/api/incidents/${inc.number}/merge`, { token: t, body: { into: empty.number } });
      assert.equal(merge.status, 200);
      const kept = await json<Incident>(merge);
      assert.equal(kept.number, empty.number);
      assert.deepEqual([...kept.alerts].sort(), [ids[1], ids[2]].sort(), 'the alerts moved');
      const kinds = kept.timeline.map((e) => e.kind);
      assert.ok(kinds.includes('opened') && kinds.filter((k) => k === 'alert_moved').length >= 2, `both timelines kept: ${kinds.join(', ')}`);
      const gone = (await f.store.getIncident(inc.number)) as Incident;
      assert.equal(gone.merged_into, empty.number);
      assert.equal(gone.status, 'resolved');
      assert.equal((await call(f, 'POST', `/api/incidents/${inc.number}/merge`, { token: t, body: { into: first } })).status, 409, 'already merged');
      assert.equal((await call(f, 'POST', `/api/incidents/${first}/merge`, { token: t, body: { into: inc.number } })).status, 409, 'into a merged one');
      assert.equal((await call(f, 'POST', '/api/incidents/999999/merge', { token: t, body: { into: first } })).status, 404);

      const audit = await json<{ action: string; target: string; detail: Record<string, unknown> }[]>(call(f, 'GET', '/api/audit?actor=operator', { token: f.tokens.admin }));
      assert.deepEqual(audit.map((a) => [a.action, a.target]).reverse(), [
        ['incident.create', `incident:${inc.number}`],
        ['incident.create', `incident:${empty.number}`],
        ['incident.merge', `incident:${inc.number}`],
      ]);
      assert.deepEqual(audit.at(-1)?.detail.from, [first]);
    });
  });
}
