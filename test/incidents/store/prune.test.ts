/**
 * Retention (Store.prune) on SQLite and PostgreSQL: old closed incidents go with their alerts,
 * timeline, observables, mitigations and the notifications about them; open ones never, nor a
 * closed one with an alert seen since the cutoff, nor a recently closed one; summaries before
 * their own cutoff go; a dry run counts exactly what the real run then deletes and changes
 * nothing; a second run finds nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore } from '../../../src/incidents/store/open.js';
import type { Store, Summary } from '../../../src/incidents/store/store.js';
import type { IncidentStatus } from '../../../src/model/incident.js';
import { BACKENDS } from './backends.js';
import { alert } from './fixtures.js';

const OLD = '2026-06-01T00:00:00Z';
const CUTOFF = '2026-09-01T00:00:00Z';
const RECENT = '2026-12-01T00:00:00Z';
const SUMMARY_CUTOFF = Date.parse('2026-11-01T00:00:00Z') / 1000;

/** A ticket with two alerts, three timeline entries, two observables, a mitigation and two notifications, last changed at `changed`. */
async function ticket(store: Store, i: number, status: IncidentStatus, changed: string, alertSeen = OLD): Promise<number> {
  const inc = await store.createIncident({ title: `t${i}`, severity: 'high', at: OLD });
  for (const k of [0, 1]) {
    const a = alert(i * 10 + k, { id: `p-${i}-${k}`, fingerprint: `fp-${i}-${k}`, first_seen: OLD, last_seen: alertSeen, incident_id: inc.number });
    await store.upsertAlert(a);
    await store.enqueue([{ key: `alert:${a.id}:0`, target: 'hook', topic: 'alert.start', payload: { type: 'alert.start', incident: { number: inc.number, title: `t${i}` } } }]);
  }
  for (const text of ['raised', 'peak', 'ended']) await store.appendTimeline(inc.number, { at: OLD, kind: 'note', actor: 'palisade', text, data: null });
  await store.addObservables(inc.number, [
    { kind: 'ip', value: `198.51.100.${i}`, first_seen: OLD },
    { kind: 'prefix', value: '203.0.113.0/24', first_seen: OLD },
  ]);
  await store.upsertMitigation(inc.number, { target: 'nftables', state: 'removed', hits: 10 }, OLD);
  await store.updateIncident(inc.number, { status }, changed);
  return inc.number;
}

function summary(second: number): Summary {
  return { sensor: 's1', second, packets: 1, bytes: 60, requests: 0, by_protocol: {}, by_vector: {}, by_victim: {} };
}

for (const backend of BACKENDS) {
  describe(`prune on ${backend.name}`, { timeout: 120_000 }, () => {
    it('deletes old closed incidents with everything of theirs and old summaries; keeps the rest', async () => {
      const db = await backend.create();
      const store = await openStore(db.spec);
      try {
        const resolved = await ticket(store, 1, 'resolved', OLD);
        const falsePositive = await ticket(store, 2, 'false_positive', OLD);
        const open = await ticket(store, 3, 'investigating', OLD);
        const recent = await ticket(store, 4, 'resolved', RECENT);
        const seenSince = await ticket(store, 5, 'resolved', OLD, RECENT);
        // a notification about nothing in particular, old: not an incident's, so kept
        await store.enqueue([{ key: 'other', target: 'hook', topic: 'test', payload: { text: 'hello' } }]);
        const oldSecond = SUMMARY_CUTOFF - 86_400;
        await store.writeSummaries([summary(oldSecond), summary(oldSecond + 1), summary(SUMMARY_CUTOFF), summary(SUMMARY_CUTOFF + 5)]);
        const opts = { incidentsBefore: CUTOFF, summariesBefore: SUMMARY_CUTOFF };

        const dry = await store.prune({ ...opts, dryRun: true });
        const expected = { incidents: [resolved, falsePositive], alerts: 4, timeline: 6, observables: 4, mitigations: 2, outbox: 4, summaries: 2 };
        assert.deepEqual(dry, expected);
        assert.ok(await store.getIncident(resolved), 'a dry run deletes nothing');
        assert.equal((await store.readSummaries(0, 2 ** 31)).length, 4);

        assert.deepEqual(await store.prune(opts), expected);
        assert.equal(await store.getIncident(resolved), null);
        assert.equal(await store.getIncident(falsePositive), null);
        assert.equal(await store.getAlert('p-1-0'), null);
        assert.equal((await store.listAlerts({ incident: resolved })).length, 0);
        for (const kept of [open, recent, seenSince]) {
          const inc = await store.getIncident(kept);
          assert.ok(inc, `#${kept} kept`);
          assert.equal(inc.alerts.length, 2);
          assert.equal(inc.timeline.length, 3);
          assert.equal(inc.observables.length, 2);
          assert.equal(inc.mitigations.length, 1);
        }
        // the kept incidents' notifications and the other one are still queued
        assert.deepEqual(await store.outboxBacklog(), { pending: 7, dead: 0 });
        assert.deepEqual(
          (await store.readSummaries(0, 2 ** 31)).map((s) => s.second),
          [SUMMARY_CUTOFF, SUMMARY_CUTOFF + 5],
        );
        // a new incident still gets a new number (numbers are never reused)
        assert.equal((await store.createIncident({ title: 'next', severity: 'low' })).number, 6);

        assert.deepEqual(await store.prune(opts), { incidents: [], alerts: 0, timeline: 0, observables: 0, mitigations: 0, outbox: 0, summaries: 0 });
      } finally {
        await store.close();
        await db.drop();
      }
    });

    it('inside a transaction that fails, nothing is deleted', async () => {
      const db = await backend.create();
      const store = await openStore(db.spec);
      try {
        const n = await ticket(store, 1, 'resolved', OLD);
        await assert.rejects(
          store.transaction(async (tx) => {
            await tx.prune({ incidentsBefore: CUTOFF, summariesBefore: SUMMARY_CUTOFF });
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.ok(await store.getIncident(n));
        assert.equal((await store.listAlerts({ incident: n })).length, 2);
      } finally {
        await store.close();
        await db.drop();
      }
    });
  });
}
