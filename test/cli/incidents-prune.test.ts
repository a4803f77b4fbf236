/**
 * `palisade incidents prune` on SQLite and PostgreSQL: --dry-run says what would go and deletes
 * nothing, the real run deletes the old closed ticket with its alert and the old summaries and
 * keeps the open one, --json gives the counts; the age flags are required and checked (exit 2).
 */
import assert from 'node:assert/strict';
import { describe, it as test } from 'node:test';
import type { Store } from '../../src/incidents/store/store.js';
import { BACKENDS } from '../incidents/store/backends.js';
import { alert } from '../incidents/store/fixtures.js';
import { cli, seededStore } from './store-cli-run.js';

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

for (const backend of BACKENDS) {
  describe(`palisade incidents prune on ${backend.name}`, { timeout: 120_000 }, () => {
    let store: Store;
    let old = 0;
    let open = 0;
    const suite = seededStore(backend, async (st) => {
      store = st;
      old = (await store.createIncident({ title: 'old flood', severity: 'high', at: ago(200) })).number;
      open = (await store.createIncident({ title: 'still open', severity: 'high', at: ago(200) })).number;
      await store.upsertAlert(alert(1, { first_seen: ago(200), last_seen: ago(200), incident_id: old }));
      await store.upsertAlert(alert(2, { first_seen: ago(200), last_seen: ago(200), incident_id: open }));
      await store.appendTimeline(old, { at: ago(199), kind: 'status', actor: 'alice', text: 'new → resolved', data: null });
      await store.updateIncident(old, { status: 'resolved' }, ago(199));
      await store.updateIncident(open, { status: 'investigating' }, ago(199));
      const second = (days: number) => Math.floor((Date.now() - days * DAY) / 1000);
      await store.writeSummaries(
        [second(100), second(40), second(1)].map((s) => ({ sensor: 's1', second: s, packets: 1, bytes: 1, requests: 0, by_protocol: {}, by_vector: {}, by_victim: {} })),
      );
    });
    const { it, run } = suite;

    it('the age flags: required, and a duration', async () => {
      const none = await run('incidents', 'prune');
      assert.equal(none.code, 2);
      assert.match(none.stderr, /--older-than/);
      const bad = await run('incidents', 'prune', '--older-than', 'soon');
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--older-than takes a duration such as 90s, 30m, 2h, 1d or 1w, not "soon"/);
    });

    it('--dry-run says what would go and deletes nothing', async () => {
      const r = await run('incidents', 'prune', '--older-than', '90d', '--summaries-older-than', '30d', '--dry-run');
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stdout,
        new RegExp(
          `^would delete 1 closed incident \\(#${old}\\) last changed before \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC: 1 alert, 1 timeline entry, 0 observables, 0 mitigations, 0 notifications\\nwould delete 2 per-second summaries before .* UTC\\ndry run: nothing was deleted\\n$`,
        ),
      );
      assert.ok(await store.getIncident(old));
    });

    it('deletes the old closed ticket and old summaries, keeps the open one; --json counts', async () => {
      const r = await run('incidents', 'prune', '--older-than', '90d', '--json');
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as { dry_run: boolean; deleted: Record<string, unknown> };
      assert.equal(j.dry_run, false);
      assert.deepEqual(j.deleted, { incidents: 1, incident_numbers: [old], alerts: 1, timeline: 1, observables: 0, mitigations: 0, outbox: 0, summaries: 1 });
      assert.equal((await run('incidents', 'show', String(old))).code, 1);
      assert.equal((await run('incidents', 'show', String(open))).code, 0);
      assert.equal((await store.readSummaries(0, 2 ** 31)).length, 2);
      const again = await run('incidents', 'prune', '--older-than', '90d');
      assert.match(again.stdout, /^deleted 0 closed incidents last changed before /);
    });
  });
}

test('incidents prune --help: what goes, what never does, examples', async () => {
  const r = await cli(['incidents', 'prune', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /An open incident is\s+never deleted/);
  assert.match(r.stdout, /Examples:\n {2}palisade incidents prune --older-than 90d --dry-run/);
});
