/**
 * `palisade alerts` against a store seeded through the Store API, on SQLite and on PostgreSQL (a
 * schema of the test's own, made and dropped as the store suite does): the queue a person reads
 * (rows in score order, filters), one alert in full, ack / silence / unsilence as the store then
 * holds them, --json valid against schema/alert.schema.json, and the exit codes.
 */
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { describe, it as test } from 'node:test';
import type { Store } from '../../src/incidents/store/store.js';
import type { Alert } from '../../src/model/alert.js';
import { schemaErrors } from '../../src/model/validate.js';
import { BACKENDS } from '../incidents/store/backends.js';
import { alert } from '../incidents/store/fixtures.js';
import { cli, cliProcess, rowsWith, seededStore } from './store-cli-run.js';

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

for (const backend of BACKENDS) {
  describe(`palisade alerts on ${backend.name}`, { timeout: 120_000 }, () => {
    let store: Store;
    /** By score: high (90, critical, recent), mid (60, acme's, in incident 1), low (30), gone (ended). */
    const ids: Record<'high' | 'mid' | 'low' | 'gone', string> = { high: '', mid: '', low: '', gone: '' };
    const suite = seededStore(backend, async (st) => {
      store = st;
      const inc = await store.createIncident({ title: 'SYN flood on 203.0.113.0/24', severity: 'high', customer: 'acme' });
      const put = async (a: Alert) => (await store.upsertAlert(a)).alert.id;
      ids.low = await put(alert(3, { id: 'alert-3c000000-low', score: 30, severity: 'medium', urgency: 'low' }));
      ids.high = await put(
        alert(1, {
          id: 'alert-1a000000-high',
          score: 90,
          severity: 'critical',
          last_seen: minutesAgo(5),
          first_seen: minutesAgo(10),
          reasons: ['2.0 Gbit/s is 80 % of the 2.5 Gbit/s link', 'growing'],
        }),
      );
      ids.mid = await put(alert(2, { id: 'alert-2b000000-mid', score: 60, vector: 'udp_flood', fingerprint: 'udp_flood|203.0.113.2|fields', customer: 'acme', service: 'web' }));
      await store.linkAlert(inc.number, ids.mid);
      ids.gone = await put(alert(4, { id: 'alert-4d000000-gone', score: 99, kind: 'end' }));
    });
    const { it, run } = suite;

    it('list: the queue highest score first, ended alerts only when asked', async () => {
      const r = await run('alerts', 'list');
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(lines[0] as string, /^SCORE\s+SEVERITY\s+URGENCY\s+STATE\s+VECTOR\s+VICTIM\s+SERVICE\/CUSTOMER\s+FIRST SEEN\s+LAST SEEN\s+INC\s+ID$/);
      assert.deepEqual(
        lines.slice(1).map((l) => l.split(/\s+/)[0]),
        ['90', '60', '30'],
      );
      assert.match(lines[1] as string, /^90\s+critical\s+high\s+open\s+tcp_syn_flood\s+203\.0\.113\.1:443\/tcp\s+-\s+/);
      assert.match(lines[2] as string, /udp_flood\s+203\.0\.113\.2:443\/tcp\s+web\/acme\s+.*#1\s+2b000000$/);
      assert.doesNotMatch(r.stdout, /gone|4d000000/);
      const ended = await run('alerts', 'list', '--state', 'ended');
      assert.equal(rowsWith(ended.stdout, '4d000000').length, 1);
      assert.match(rowsWith(ended.stdout, '4d000000')[0] as string, /^99\s+high\s+high\s+ended\s/);
    });

    it('list filters: severity, vector, customer, since, incident, limit', async () => {
      const only = async (...args: string[]) => {
        const r = await run('alerts', 'list', ...args);
        assert.equal(r.code, 0, r.stderr);
        return r.stdout
          .trimEnd()
          .split('\n')
          .slice(1)
          .map((l) => l.split(/\s+/).at(-1));
      };
      assert.deepEqual(await only('--severity', 'critical,medium'), ['1a000000', '3c000000']);
      assert.deepEqual(await only('--vector', 'udp_flood'), ['2b000000']);
      assert.deepEqual(await only('--customer', 'acme'), ['2b000000']);
      assert.deepEqual(await only('--since', '30m'), ['1a000000']);
      assert.deepEqual(await only('--since', '2026-01-01T00:00:00Z'), ['1a000000', '2b000000', '3c000000']);
      assert.deepEqual(await only('--incident', '1'), ['2b000000']);
      assert.deepEqual(await only('--limit', '1'), ['1a000000']);
      assert.equal((await run('alerts', 'list', '--vector', 'udp_flood', '--severity', 'critical')).stdout, 'no alerts (ended ones are listed with --state ended)\n');
    });

    it('list --json: the records, by score, each valid against the alert schema', async () => {
      const r = await run('alerts', 'list', '--json', '--state', 'open,ended');
      assert.equal(r.code, 0, r.stderr);
      const list = JSON.parse(r.stdout) as Alert[];
      assert.deepEqual(
        list.map((a) => a.id),
        [ids.gone, ids.high, ids.mid, ids.low],
      );
      for (const a of list) assert.equal(schemaErrors(a, 'alert'), null, a.id);
      assert.deepEqual(list[1]?.reasons, ['2.0 Gbit/s is 80 % of the 2.5 Gbit/s link', 'growing']);
    });

    it('show: by unique prefix, everything incl. triage reasons and the signature', async () => {
      const r = await run('alerts', 'show', '1a00');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^id\s+alert-1a000000-high$/m);
      assert.match(r.stdout, /^score\s+90 {2}severity critical, urgency high, confidence 0\.90$/m);
      assert.match(r.stdout, /why this score:\n {2}- 2\.0 Gbit\/s is 80 % of the 2\.5 Gbit\/s link\n {2}- growing\n/);
      assert.match(r.stdout, /signature:\n {2}ip\.dst == 203\.0\.113\.1 and tcp\.flags == 0x02\n {2}coverage 100\.0 % of the attack/);
      assert.match(r.stdout, /^top sources:\n {2}198\.51\.100\.1\s+3$/m);
      const full = await run('alerts', 'show', 'alert-1a000000-high', '--json');
      const a = JSON.parse(full.stdout) as Alert;
      assert.equal(a.id, ids.high);
      assert.equal(schemaErrors(a, 'alert'), null);
    });

    it('show: no such alert is exit 1 with a message; an ambiguous prefix is a usage error', async () => {
      const none = await run('alerts', 'show', 'ffff');
      assert.equal(none.code, 1);
      assert.equal(none.stdout, '');
      assert.match(none.stderr, /^palisade: no alert ffff /);
      const many = await run('alerts', 'show', 'alert-');
      assert.equal(many.code, 2);
      assert.match(many.stderr, /alert id alert- is ambiguous: /);
    });

    it('ack: by a name or by the login name; an ended alert cannot be acknowledged', async () => {
      const r = await run('alerts', 'ack', '3c00', '--by', 'alice');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `acknowledged alert ${ids.low} (tcp_syn_flood on 203.0.113.3:443/tcp) as alice\n`);
      const a = await store.getAlert(ids.low);
      assert.equal(a?.state, 'acknowledged');
      assert.equal(a?.acked_by, 'alice');
      const me = await run('alerts', 'ack', ids.mid, '--json');
      const acked = JSON.parse(me.stdout) as Alert;
      assert.equal(acked.acked_by, userInfo().username);
      assert.equal(schemaErrors(acked, 'alert'), null);
      const endedSilence = await run('alerts', 'silence', ids.gone, '--for', '1h');
      assert.equal(endedSilence.code, 1);
      assert.match(endedSilence.stderr, /has ended: there is nothing to silence/);
      assert.equal((await store.listSilences()).length, 0, 'no silence left behind');
      const ended = await run('alerts', 'ack', ids.gone);
      assert.equal(ended.code, 1);
      assert.match(ended.stderr, /has ended: there is nothing to acknowledge/);
      assert.match((await run('alerts', 'list')).stdout, /\n30\s+medium\s+low\s+acknowledged\s/);
    });

    it('silence an alert for a time, list the silence, unsilence it back to acknowledged', async () => {
      const r = await run('alerts', 'silence', '3c000000', '--for', '2h', '--reason', 'customer load test', '--by', 'bob');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^silenced alert alert-3c000000-low \(tcp_syn_flood on 203\.0\.113\.3:443\/tcp\) until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(silence [0-9a-f-]+\)\n$/);
      const a = await store.getAlert(ids.low);
      assert.equal(a?.state, 'silenced');
      const [s] = await store.listSilences();
      assert.equal(a?.silenced_by, s?.id);
      assert.equal(s?.expression, 'alert.fingerprint == "tcp_syn_flood|203.0.113.3|fields"');
      assert.ok(Math.abs(Date.parse(s?.until ?? '') - Date.now() - 7_200_000) < 60_000);
      const listed = await run('alerts', 'silences');
      assert.match(listed.stdout, /^ID\s+UNTIL \(UTC\)\s+BY\s+REASON\s+EXPRESSION\n/);
      assert.match(listed.stdout, /\sbob\s+customer load test\s+alert\.fingerprint == "tcp_syn_flood\|203\.0\.113\.3\|fields"\n/);

      const un = await run('alerts', 'unsilence', '3c000000');
      assert.equal(un.code, 0, un.stderr);
      assert.equal(un.stdout, `unsilenced alert ${ids.low} (tcp_syn_flood on 203.0.113.3:443/tcp)\n`);
      assert.equal((await store.getAlert(ids.low))?.state, 'acknowledged');
      assert.equal((await store.listSilences()).length, 0, "the alert's own silence goes with it");
      const again = await run('alerts', 'unsilence', '3c000000');
      assert.equal(again.code, 1);
      assert.match(again.stderr, /is not silenced \(it is acknowledged\)/);
    });

    it('silence --expression: checked in the Rules language over alert fields, kept as written, listed, --json gives the silence', async () => {
      const bad = await run('alerts', 'silence', '--expression', 'vector == "udp_flood"', '--for', '1d');
      assert.equal(bad.code, 2, 'an unknown field is refused, not stored to match nothing');
      assert.match(bad.stderr, /unknown field "vector" in the alert scheme/);
      const expr = 'alert.vector == "udp_flood" and alert.customer == "acme"';
      const r = await run('alerts', 'silence', '--expression', expr, '--for', '1d', '--json');
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as { id: string; expression: string; created_by: string; until: string };
      assert.equal(s.expression, expr);
      assert.equal(s.created_by, userInfo().username);
      const list = JSON.parse((await run('alerts', 'silences', '--json')).stdout) as { id: string }[];
      assert.deepEqual(
        list.map((x) => x.id),
        [s.id],
      );
      await store.removeSilence(s.id);
    });

    it('usage errors are exit 2: a bad state, duration, id and expression together, no --for', async () => {
      for (const args of [
        ['alerts', 'list', '--state', 'closed'],
        ['alerts', 'list', '--since', 'yesterday'],
        ['alerts', 'list', '--limit', '0'],
        ['alerts', 'silence', '3c000000', '--for', 'two hours'],
        ['alerts', 'silence', '3c000000', '--expression', 'alert.vector == "udp_flood"', '--for', '1h'],
        ['alerts', 'silence', '3c000000'],
        ['alerts', 'silence', '--for', '1h'],
      ]) {
        const r = await run(...args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /error|palisade: /, args.join(' '));
      }
      assert.match((await run('alerts', 'list', '--state', 'closed')).stderr, /--state takes open, acknowledged, silenced, ended/);
    });
  });
}

describe('palisade alerts: the store cannot be used', () => {
  test('a SQLite file that does not exist is exit 3 (not a new empty queue); an unsupported URL is exit 2', async () => {
    const missing = await cli(['alerts', 'list', '--db', '/nonexistent/palisade.db']);
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /^palisade: no alert store at \/nonexistent\/palisade\.db/);
    const bad = await cli(['alerts', 'list', '--db', 'redis://127.0.0.1']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"redis:\/\/" is not supported/);
  });

  test('PostgreSQL not listening is exit 3, through the real CLI', () => {
    const r = cliProcess(['alerts', 'list', '--db', 'postgres://postgres@127.0.0.1:1/test']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^palisade: PostgreSQL at .* is not reachable/);
  });

  test('--help teaches: every subcommand and examples', async () => {
    const r = await cli(['alerts', '--help']);
    assert.equal(r.code, 0);
    for (const sub of ['list', 'show', 'ack', 'silence', 'unsilence', 'silences']) assert.match(r.stdout, new RegExp(`^ {2}${sub}\\b`, 'm'));
    assert.match(r.stdout, /Examples:\n {2}palisade alerts list /);
    const list = await cli(['alerts', 'list', '--help']);
    assert.match(list.stdout, /--db <file\|url>[\s\S]*\(default:\s+"\.\/palisade\.db"\)/);
  });
});
