/**
 * `palisade incidents` against a store seeded through the Store API, on SQLite and on PostgreSQL
 * (a schema of the test's own, made and dropped as the store suite does): the ticket list, one
 * ticket with its timeline in time order, observables, mitigations and alerts, and each change a
 * person makes — assign, note, status, merge, move — as the store then holds it and as the
 * timeline tells it; --json valid against schema/incident.schema.json; the exit codes.
 */
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { describe, it as test } from 'node:test';
import type { Store } from '../../src/incidents/store/store.js';
import type { Incident } from '../../src/model/incident.js';
import { schemaErrors } from '../../src/model/validate.js';
import { BACKENDS } from '../incidents/store/backends.js';
import { alert } from '../incidents/store/fixtures.js';
import { cli, cliProcess, seededStore } from './store-cli-run.js';

/** The timeline lines of `incidents show`, without the time (changes made now carry today's). */
function timeline(show: string): string[] {
  const at = show.indexOf('\ntimeline (');
  return show
    .slice(at + 1)
    .split('\n')
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => l.replace(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}/, '').replace(/\s+/g, ' '));
}

for (const backend of BACKENDS) {
  describe(`palisade incidents on ${backend.name}`, { timeout: 120_000 }, () => {
    let store: Store;
    const ids = { big: 'alert-5e000000-big', small: 'alert-6f000000-small', udp: 'alert-7a000000-udp' };
    const suite = seededStore(backend, async (st) => {
      store = st;
      const one = await store.createIncident({ title: 'SYN flood on 203.0.113.0/24', severity: 'high', customer: 'acme', at: '2026-12-06T05:00:02Z' });
      const two = await store.createIncident({ title: 'UDP flood on 198.51.100.9', severity: 'medium', customer: 'beta', status: 'investigating', assignee: 'carol' });
      await store.createIncident({ title: 'old scan', severity: 'low', status: 'resolved' });
      await store.upsertAlert(alert(5, { id: ids.small, score: 40, incident_id: one.number }));
      await store.upsertAlert(alert(6, { id: ids.big, score: 80, severity: 'critical', incident_id: one.number }));
      await store.upsertAlert(alert(7, { id: ids.udp, score: 55, vector: 'udp_flood', fingerprint: 'udp_flood|198.51.100.9|fields', incident_id: two.number }));
      for (const [n, a] of [
        [one.number, ids.small],
        [one.number, ids.big],
        [two.number, ids.udp],
      ] as const)
        await store.linkAlert(n, a);
      // Written out of time order: show prints them in time order.
      await store.appendTimeline(one.number, { at: '2026-12-06T05:01:00Z', kind: 'peak', actor: 'sensor-1', text: 'peak 2.0 Gbit/s', data: null });
      await store.appendTimeline(one.number, {
        at: '2026-12-06T05:00:02Z',
        kind: 'alert_raised',
        actor: 'sensor-1',
        text: 'critical tcp_syn_flood on 203.0.113.6',
        data: { alert: ids.big },
      });
      await store.addObservables(one.number, [
        { kind: 'prefix', value: '203.0.113.0/24', first_seen: '2026-12-06T05:00:02Z' },
        { kind: 'ip', value: '198.51.100.1', first_seen: '2026-12-06T05:00:03Z' },
        // Eleven more sources: show lists ten addresses and counts the rest.
        ...Array.from({ length: 11 }, (_, i) => ({ kind: 'ip' as const, value: `192.0.2.${i + 1}`, first_seen: `2026-12-06T05:00:${String(10 + i)}Z` })),
      ]);
      await store.upsertMitigation(one.number, { target: 'nftables', state: 'applied', hits: 123456, ruleset: { rules: [] } }, '2026-12-06T05:00:30Z');
    });
    const { it, run } = suite;
    const numbers = (text: string) =>
      text
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/)[0]);

    it('list: the open tickets, newest first; filters by status, customer, assignee, since', async () => {
      const r = await run('incidents', 'list');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^#\s+STATUS\s+SEVERITY\s+CUSTOMER\s+ASSIGNEE\s+ALERTS\s+CREATED\s+UPDATED\s+TITLE\n/);
      assert.deepEqual(numbers(r.stdout), ['2', '1']);
      assert.match(r.stdout, /\n2\s+investigating\s+medium\s+beta\s+carol\s+1\s+.*UDP flood on 198\.51\.100\.9\n/);
      assert.match(r.stdout, /\n1\s+new\s+high\s+acme\s+-\s+2\s+2026-12-06 05:00:02\s+.*SYN flood on 203\.0\.113\.0\/24\n$/);
      assert.deepEqual(numbers((await run('incidents', 'list', '--status', 'resolved')).stdout), ['3']);
      assert.deepEqual(numbers((await run('incidents', 'list', '--customer', 'acme')).stdout), ['1']);
      assert.deepEqual(numbers((await run('incidents', 'list', '--assignee', 'carol')).stdout), ['2']);
      // #1 last changed at 05:00:30 (its mitigation); #2 and #3 were made now.
      assert.deepEqual(numbers((await run('incidents', 'list', '--since', '1h', '--status', 'new,investigating,resolved')).stdout), ['3', '2']);
      assert.equal((await run('incidents', 'list', '--customer', 'nobody')).stdout, 'no incidents open (closed ones are listed with --status resolved,false_positive)\n');
    });

    it('list --json: whole tickets, valid against the incident schema', async () => {
      const r = await run('incidents', 'list', '--json', '--status', 'new,investigating,resolved');
      assert.equal(r.code, 0, r.stderr);
      const list = JSON.parse(r.stdout) as Incident[];
      assert.equal(list.length, 3);
      for (const inc of list) assert.equal(schemaErrors(inc, 'incident'), null, `#${inc.number}`);
      assert.equal(list.find((i) => i.number === 1)?.timeline.length, 2);
    });

    it('show: header, alerts by score, observables, mitigations with state and hits, timeline in time order', async () => {
      const r = await run('incidents', 'show', '1');
      assert.equal(r.code, 0, r.stderr);
      const s = r.stdout;
      assert.match(s, /^incident #1: SYN flood on 203\.0\.113\.0\/24\n {2}status {4}new\n {2}severity {2}high\n {2}customer {2}acme\n {2}assignee {2}-\n/);
      const alerts = s.slice(s.indexOf('alerts (2):'), s.indexOf('observables'));
      assert.ok(alerts.indexOf('5e000000') < alerts.indexOf('6f000000'), 'highest score first');
      assert.match(alerts, /\n {2}80\s+critical\s+open\s+tcp_syn_flood\s+203\.0\.113\.6:443\/tcp\s+.*5e000000\n/);
      assert.match(
        s,
        /observables \(13\):\n {2}ip {8}198\.51\.100\.1\n {2}ip {8}192\.0\.2\.1\n(?: {2}ip {8}192\.0\.2\.\d\n){8} {2}ip {8}… 2 more \(--json lists them all\)\n {2}prefix {4}203\.0\.113\.0\/24\n\n/,
      );
      assert.match(s, /mitigations \(1\):\n {2}ID\s+TARGET\s+STATE\s+HITS\s+UPDATED\n {2}nftables\s+nftables\s+applied\s+123,456\s+2026-12-06 05:00:30\n/);
      assert.match(
        s,
        /timeline \(2, UTC\):\n {2}2026-12-06 05:00:02 {2}alert_raised {2}sensor-1 {2}critical tcp_syn_flood on 203\.0\.113\.6\n {2}2026-12-06 05:01:00 {2}peak {10}sensor-1 {2}peak 2\.0 Gbit\/s\n/,
      );
      const j = await run('incidents', 'show', '#1', '--json');
      const inc = JSON.parse(j.stdout) as Incident;
      assert.equal(schemaErrors(inc, 'incident'), null);
      assert.equal(inc.observables.length, 13);
      assert.deepEqual(
        inc.timeline.map((e) => e.kind),
        ['alert_raised', 'peak'],
      );
    });

    it('show / change a ticket that does not exist: exit 1 and a message; not a number: exit 2', async () => {
      for (const args of [
        ['incidents', 'show', '99'],
        ['incidents', 'assign', '99', 'alice'],
        ['incidents', 'note', '99', 'hello'],
        ['incidents', 'status', '99', 'resolved'],
        ['incidents', 'merge', '1', '99'],
        ['incidents', 'move', ids.udp, '99'],
        ['incidents', 'move', 'ffff', '1'],
      ]) {
        const r = await run(...args);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /^palisade: no (incident #99|alert ffff) /, args.join(' '));
      }
      const nan = await run('incidents', 'show', 'one');
      assert.equal(nan.code, 2);
      assert.match(nan.stderr, /incident number must be a whole number of 1 or more, not "one"/);
    });

    it('assign and note: stored, said, and on the timeline with who did it', async () => {
      const a = await run('incidents', 'assign', '1', 'alice', '--by', 'lead');
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.stdout, 'incident #1 assigned to alice\n');
      assert.equal((await store.getIncident(1))?.assignee, 'alice');
      const n = await run('incidents', 'note', '1', 'customer', 'confirmed:', 'not a load test');
      assert.equal(n.code, 0, n.stderr);
      assert.match(n.stdout, /^note added to incident #1 by \S+ at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n$/);
      const me = userInfo().username;
      assert.deepEqual(timeline((await run('incidents', 'show', '1')).stdout).slice(2), [`assigned lead assigned to alice`, `note ${me} customer confirmed: not a load test`]);
      assert.equal((await run('incidents', 'list', '--assignee', 'alice')).code, 0);
      assert.deepEqual(numbers((await run('incidents', 'list', '--assignee', 'alice')).stdout), ['1']);
    });

    it('status: old → new on the timeline with the note; unknown status is exit 2; the same status changes nothing', async () => {
      const r = await run('incidents', 'status', '1', 'investigating', '--note', 'looking at the sources', '--by', 'alice');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'incident #1: new → investigating: looking at the sources\n');
      const j = await run('incidents', 'status', '1', 'mitigating', '--by', 'alice', '--json');
      const inc = JSON.parse(j.stdout) as Incident;
      assert.equal(inc.status, 'mitigating');
      assert.equal(schemaErrors(inc, 'incident'), null);
      assert.deepEqual(timeline((await run('incidents', 'show', '1')).stdout).slice(-2), [
        'status alice new → investigating: looking at the sources',
        'status alice investigating → mitigating',
      ]);
      const same = await run('incidents', 'status', '1', 'mitigating');
      assert.equal(same.stdout, 'incident #1 is already mitigating: nothing changed\n');
      assert.equal((await store.getIncident(1))?.timeline.length, 6);
      const bad = await run('incidents', 'status', '1', 'closed');
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /"closed" is not a status \(new, investigating, mitigating, monitoring, resolved, false_positive\)/);
    });

    it('merge: FROM joins INTO (alerts, timeline) and becomes a resolved pointer; again is exit 1; itself is exit 2', async () => {
      const r = await run('incidents', 'merge', '1', '2', '--by', 'alice');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'merged incident #2 into #1: 1 alert(s), 0 timeline event(s), 0 observable(s), 0 mitigation(s) moved; #2 is now resolved and points to #1\n');
      const one = await store.getIncident(1);
      assert.deepEqual([...(one?.alerts ?? [])].sort(), [ids.big, ids.small, ids.udp]);
      const two = await store.getIncident(2);
      assert.equal(two?.status, 'resolved');
      assert.equal(two?.merged_into, 1);
      assert.match((await run('incidents', 'list', '--status', 'resolved')).stdout, /\n2\s+merged→#1\s/);
      assert.deepEqual(timeline((await run('incidents', 'show', '1')).stdout).at(-1), 'merged alice #2 merged into this incident');
      const pointer = JSON.parse((await run('incidents', 'show', '2', '--json')).stdout) as Incident;
      assert.equal(schemaErrors(pointer, 'incident'), null);
      assert.equal(pointer.merged_into, 1);
      assert.match((await run('incidents', 'show', '2')).stdout, /^ {2}status {4}resolved \(merged into #1\)$/m);
      const again = await run('incidents', 'merge', '1', '2');
      assert.equal(again.code, 1);
      assert.match(again.stderr, /incident #2 was already merged into #1/);
      const self = await run('incidents', 'merge', '1', '1');
      assert.equal(self.code, 2);
    });

    it('move: an alert to another ticket, a timeline event on both', async () => {
      const four = await store.createIncident({ title: 'UDP flood, split out', severity: 'medium' });
      const r = await run('incidents', 'move', '7a000000', String(four.number), '--by', 'alice');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `moved alert ${ids.udp} (udp_flood on 203.0.113.7:443/tcp) from #1 to incident #${four.number}\n`);
      assert.equal((await store.getAlert(ids.udp))?.incident_id, four.number);
      assert.deepEqual(timeline((await run('incidents', 'show', String(four.number))).stdout), [`alert_moved alice alert ${ids.udp} moved here from #1`]);
      assert.equal(timeline((await run('incidents', 'show', '1')).stdout).at(-1), `alert_moved alice alert ${ids.udp} moved to #${four.number}`);
      const again = await run('incidents', 'move', ids.udp, String(four.number));
      assert.equal(again.code, 0);
      assert.match(again.stdout, /is already in incident #4: nothing changed/);
    });

    it('split: the alerts named leave for a new ticket (timeline events on both); all of them, or one of another ticket, is a usage error', async () => {
      const all = await run('incidents', 'split', '1', '5e000000', '6f000000');
      assert.equal(all.code, 2);
      assert.match(all.stderr, /those are all of incident #1's alerts/);
      const foreign = await run('incidents', 'split', '1', ids.udp);
      assert.equal(foreign.code, 2);
      assert.match(foreign.stderr, /is in incident #\d+, not #1/);
      const before = (await store.listIncidents({})).length;
      const r = await run('incidents', 'split', '1', '6f000000', '--by', 'bob', '--json');
      assert.equal(r.code, 0, r.stderr);
      const made = JSON.parse(r.stdout) as { number: number; title: string; severity: string };
      assert.equal((await store.listIncidents({})).length, before + 1);
      assert.equal((await store.getAlert(ids.small))?.incident_id, made.number);
      assert.equal((await store.getAlert(ids.big))?.incident_id, 1);
      assert.deepEqual(timeline((await run('incidents', 'show', String(made.number))).stdout), [`alert_moved bob alert ${ids.small} moved here from #1`]);
      assert.equal(timeline((await run('incidents', 'show', '1')).stdout).at(-1), `alert_moved bob alert ${ids.small} moved to #${made.number}`);
    });

    if (backend.name === 'sqlite') {
      it('the real CLI in a process: the ticket, and exit 2 for a bad status', async () => {
        const show = cliProcess(['incidents', 'show', '1', '--db', suite.db.spec]);
        assert.equal(show.code, 0, show.stderr);
        assert.match(show.stdout, /^incident #1: SYN flood on 203\.0\.113\.0\/24\n/);
        const bad = cliProcess(['incidents', 'status', '1', 'done', '--db', suite.db.spec]);
        assert.equal(bad.code, 2);
        assert.match(bad.stderr, /^palisade: incidents status: "done" is not a status/);
      });
    }
  });
}

test('incidents --help teaches: every subcommand, the statuses, exit codes and examples', async () => {
  const r = await cli(['incidents', '--help']);
  assert.equal(r.code, 0);
  for (const sub of ['list', 'show', 'assign', 'note', 'status', 'merge', 'move']) assert.match(r.stdout, new RegExp(`^ {2}${sub}\\b`, 'm'));
  assert.match(r.stdout, /new → investigating → mitigating → monitoring\n→ resolved, or false_positive/);
  assert.match(r.stdout, /Exit codes: 0 done; 1 no such incident/);
  assert.match(r.stdout, /Examples:\n {2}palisade incidents list /);
});
