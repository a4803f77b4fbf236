/**
 * The rule editor's API (src/server/rules-api.ts) over real HTTP on SQLite and PostgreSQL: its
 * refusals (401, 403 for the role below, CSRF, body errors naming the field), the ruleset file
 * created empty, validation placing each problem in the text, the atomic replacement under
 * If-Match with its audit row, lists, what-if over a labelled capture, exports side by side and
 * the field catalogue.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generate, truthPath } from '../../src/generate/generator.js';
import { BACKENDS } from '../incidents/store/backends.js';
import { alert } from '../incidents/store/fixtures.js';
import { call, refusals, type ServerFixture, session, startServer, stopServer } from './server-fixture.js';

const RULES = `name: edge
lists:
  drop: { kind: block, file: drop.txt }
rules:
  - id: syn-flood
    description: SYNs to the web server
    expression: tcp.flags.syn and not tcp.flags.ack and ip.dst == 203.0.113.10
    action: block
  - id: low-ttl
    expression: ip.ttl < 5
    action: log
`;

interface Problem {
  line: number;
  column: number;
  start: number;
  end: number;
  message: string;
  rule?: string;
  span?: { start: number; end: number };
}

async function json<T>(r: Response | Promise<Response>): Promise<T> {
  return (await (await r).json()) as T;
}

for (const backend of BACKENDS) {
  describe(`rules API (${backend.name})`, () => {
    let f: ServerFixture;
    before(async () => {
      f = await startServer(backend);
      writeFileSync(join(f.dir, 'drop.txt'), '198.51.100.0/24\n');
    });
    after(() => stopServer(f));

    it('refuses without credentials (401), the role below (403), a cookie change without CSRF (403), and names the field of a bad body', async () => {
      const text = 'rules: []\n';
      const cases: [string, string, unknown, 'viewer' | null][] = [
        ['GET', '/api/rules', undefined, null],
        ['POST', '/api/rules/validate', { text }, null],
        ['PUT', '/api/rules', { text }, 'viewer'],
        ['POST', '/api/rules/whatif', { text, minutes: 5 }, 'viewer'],
        ['POST', '/api/rules/export', { text }, null],
        ['GET', '/api/lists', undefined, null],
        ['GET', '/api/lists/drop', undefined, null],
        ['PUT', '/api/lists/drop', { text: '192.0.2.1\n' }, 'viewer'],
        ['GET', '/api/scheme/fields', undefined, null],
      ];
      for (const [method, path, body, weaker] of cases) {
        const r = await refusals(f, method, path, body, weaker);
        assert.equal(r.anonymous, 401, `${method} ${path} without credentials`);
        if (weaker !== null) assert.equal(r.weaker, 403, `${method} ${path} as ${weaker}`);
        if (method !== 'GET') assert.equal(r.noCsrf, 403, `${method} ${path} with a cookie and no CSRF token`);
      }
      const bad: [string, string, unknown, string, RegExp][] = [
        ['POST', '/api/rules/validate', { text: 5 }, 'text', /^text: expected the ruleset's text/],
        ['PUT', '/api/rules', {}, 'text', /^text: missing/],
        ['POST', '/api/rules/whatif', { text, minutes: 0 }, 'minutes', /^minutes: expected how many minutes/],
        ['POST', '/api/rules/export', { text, rule: '' }, 'rule', /^rule: expected the id/],
        ['PUT', '/api/lists/drop', { text: 'x', extra: 1 }, 'extra', /^extra: unexpected field/],
      ];
      for (const [method, path, body, field, message] of bad) {
        const r = await call(f, method, path, { token: f.tokens.admin, body });
        assert.equal(r.status, 400, `${method} ${path}`);
        const got = await json<{ field: string; error: string }>(r);
        assert.equal(got.field, field, `${method} ${path}`);
        assert.match(got.error, message);
      }
      const scheme = await call(f, 'GET', '/api/scheme/fields?scheme=bogus', { token: f.tokens.viewer });
      assert.equal(scheme.status, 400);
      assert.equal((await json<{ field: string }>(scheme)).field, 'scheme');
    });

    it('GET creates the file empty and gives its ETag; validate places each problem in the text', async () => {
      const r = await call(f, 'GET', '/api/rules', { token: f.tokens.viewer });
      assert.equal(r.status, 200);
      const got = await json<{ text: string; etag: string; rules: unknown[]; problems: unknown[] }>(r);
      assert.equal(r.headers.get('etag'), got.etag);
      assert.deepEqual(got.rules, []);
      assert.deepEqual(got.problems, []);
      assert.equal(readFileSync(f.workspace.rulesFile, 'utf8'), got.text);

      const text = `rules:\n  - id: a\n    expression: ip.ttl < 5 and tcp.window.size == 0\n    action: block\n  - id: b\n    expression: tcp.dstport == 80\n    action: explode\n`;
      const v = await json<{ ok: boolean; problems: Problem[] }>(call(f, 'POST', '/api/rules/validate', { token: f.tokens.viewer, body: { text } }));
      assert.equal(v.ok, false);
      const expr = v.problems.find((p) => p.rule === 'a') as Problem;
      assert.ok(expr, JSON.stringify(v.problems));
      assert.equal(text.slice(expr.start, expr.end), 'tcp.window.size', 'the offsets point at the unknown field in the file');
      assert.deepEqual(expr.span, { start: 15, end: 30 });
      assert.equal(expr.line, 3);
      assert.equal(expr.column, 17 + 15);
      const action = v.problems.find((p) => /action must be one of/.test(p.message)) as Problem;
      assert.equal(text.slice(action.start, action.end), 'explode');
      assert.equal(action.line, 7);

      const yaml = await json<{ ok: boolean; problems: Problem[] }>(
        call(f, 'POST', '/api/rules/validate', { token: f.tokens.viewer, body: { text: 'rules:\n  - id: a\n   expression: [\n' } }),
      );
      assert.equal(yaml.ok, false);
      assert.ok(yaml.problems.length > 0 && yaml.problems.every((p) => p.line >= 1 && p.start >= 0 && p.end >= p.start), JSON.stringify(yaml.problems));

      const outside = await json<{ ok: boolean; problems: Problem[] }>(
        call(f, 'POST', '/api/rules/validate', { token: f.tokens.viewer, body: { text: 'lists:\n  x: { kind: block, file: /etc/passwd }\nrules: []\n' } }),
      );
      assert.equal(outside.ok, false);
      assert.match((outside.problems[0] as Problem).message, /outside the ruleset's directory/);

      const ok = await json<{ ok: boolean; rules: { id: string }[] }>(call(f, 'POST', '/api/rules/validate', { token: f.tokens.viewer, body: { text: RULES } }));
      assert.deepEqual(
        ok.rules.map((x) => x.id),
        ['syn-flood', 'low-ttl'],
      );
    });

    it('PUT replaces the file atomically under If-Match (428 without, 412 when stale), refuses a broken ruleset, and audits the rule ids changed', async () => {
      const t = f.tokens.operator;
      const { etag } = await json<{ etag: string }>(call(f, 'GET', '/api/rules', { token: t }));
      assert.equal((await call(f, 'PUT', '/api/rules', { token: t, body: { text: RULES } })).status, 428);
      assert.equal((await call(f, 'PUT', '/api/rules', { token: t, body: { text: RULES }, headers: { 'if-match': '"stale"' } })).status, 412);
      const broken = await call(f, 'PUT', '/api/rules', { token: t, body: { text: 'rules:\n  - expression: nope(\n    action: block\n' }, headers: { 'if-match': etag } });
      assert.equal(broken.status, 400);
      const b = await json<{ field: string; problems: Problem[] }>(broken);
      assert.equal(b.field, 'text');
      assert.ok(b.problems.length > 0);
      assert.equal(readFileSync(f.workspace.rulesFile, 'utf8').includes('nope('), false, 'nothing written');

      const put = await call(f, 'PUT', '/api/rules', { token: t, body: { text: RULES, comment: 'SYN flood on the shop' }, headers: { 'if-match': etag } });
      assert.equal(put.status, 200);
      const done = await json<{ etag: string; changes: { added: string[]; removed: string[]; changed: string[] } }>(put);
      assert.equal(put.headers.get('etag'), done.etag);
      assert.deepEqual(done.changes, { added: ['syn-flood', 'low-ttl'], removed: [], changed: [] });
      assert.equal(readFileSync(f.workspace.rulesFile, 'utf8'), RULES);
      assert.deepEqual(
        readdirSync(f.dir).filter((n) => n.endsWith('.tmp')),
        [],
        'no temporary file left',
      );
      // the one who read before this change now loses: 412, with the current ETag
      const lost = await call(f, 'PUT', '/api/rules', { token: t, body: { text: 'rules: []\n' }, headers: { 'if-match': etag } });
      assert.equal(lost.status, 412);
      assert.equal(lost.headers.get('etag'), done.etag);

      const edited = RULES.replace('ip.ttl < 5', 'ip.ttl < 3').replace(/ {2}- id: syn-flood[\s\S]*?action: block\n/, '');
      const second = await json<{ changes: unknown }>(call(f, 'PUT', '/api/rules', { token: t, body: { text: edited }, headers: { 'if-match': done.etag } }));
      assert.deepEqual(second.changes, { added: [], removed: ['syn-flood'], changed: ['low-ttl'] });
      const audit = await json<{ action: string; actor: string; target: string; detail: { changes: unknown; comment?: string } }[]>(
        call(f, 'GET', '/api/audit?actor=operator', { token: f.tokens.admin }),
      );
      const rows = audit.filter((a) => a.action === 'ruleset.replace').reverse();
      assert.equal(rows.length, 2);
      assert.equal(rows[0]?.target, 'ruleset:rules.yaml');
      assert.equal(rows[0]?.detail.comment, 'SYN flood on the shop');
      assert.deepEqual(rows[1]?.detail.changes, { added: [], removed: ['syn-flood'], changed: ['low-ttl'] });
      // put the full ruleset back for the tests below
      const cur = await json<{ etag: string }>(call(f, 'GET', '/api/rules', { token: t }));
      assert.equal((await call(f, 'PUT', '/api/rules', { token: t, body: { text: RULES }, headers: { 'if-match': cur.etag } })).status, 200);
    });

    it('lists: listed, read with an ETag, replaced atomically after a check of its lines, audited', async () => {
      const t = f.tokens.operator;
      const lists = await json<{ name: string; kind: string; file: string; editable: boolean }[]>(call(f, 'GET', '/api/lists', { token: f.tokens.viewer }));
      assert.deepEqual(lists, [{ name: 'drop', kind: 'block', file: 'drop.txt', format: null, editable: true }]);
      const one = await json<{ text: string; etag: string }>(call(f, 'GET', '/api/lists/drop', { token: f.tokens.viewer }));
      assert.equal(one.text, '198.51.100.0/24\n');
      assert.equal((await call(f, 'GET', '/api/lists/nope', { token: f.tokens.viewer })).status, 404);
      const bad = await call(f, 'PUT', '/api/lists/drop', { token: t, body: { text: '192.0.2.1\nnot-an-address\n' }, headers: { 'if-match': one.etag } });
      assert.equal(bad.status, 400);
      const b = await json<{ field: string; problems: { line: number }[] }>(bad);
      assert.equal(b.field, 'text');
      assert.equal(b.problems[0]?.line, 2);
      assert.equal((await call(f, 'PUT', '/api/lists/drop', { token: t, body: { text: '192.0.2.1\n' } })).status, 428);
      assert.equal((await call(f, 'PUT', '/api/lists/drop', { token: t, body: { text: '192.0.2.1\n' }, headers: { 'if-match': '"old"' } })).status, 412);
      const ok = await call(f, 'PUT', '/api/lists/drop', { token: t, body: { text: '192.0.2.1\n203.0.113.0/25\n' }, headers: { 'if-match': one.etag } });
      assert.equal(ok.status, 200);
      assert.equal((await json<{ entries: number }>(ok)).entries, 2);
      assert.equal(readFileSync(join(f.dir, 'drop.txt'), 'utf8'), '192.0.2.1\n203.0.113.0/25\n');
      const audit = await json<{ action: string; target: string; detail: { entries: unknown } }[]>(call(f, 'GET', '/api/audit?actor=operator', { token: f.tokens.admin }));
      const row = audit.find((a) => a.action === 'list.replace');
      assert.equal(row?.target, 'list:drop');
      assert.deepEqual(row?.detail.entries, { before: 1, after: 2 });
    });

    it('what-if: 409 without recorded traffic; over a labelled capture, per rule the packets matched and the attack and other ones decided', async () => {
      const body = { text: RULES, minutes: 10 };
      assert.equal((await call(f, 'POST', '/api/rules/whatif', { token: f.tokens.operator, body })).status, 409);
      const capture = join(f.dir, 'demo.pcap');
      generate('demo', capture, { packets: 3000, seed: 1 });
      f.workspace.recording = { file: capture, truth: truthPath(capture), describe: 'the test capture', window: () => [[0, Number.MAX_SAFE_INTEGER]] };
      try {
        const r = await call(f, 'POST', '/api/rules/whatif', { token: f.tokens.operator, body });
        assert.equal(r.status, 200);
        const w = await json<{
          reads: string;
          window: { packets: number };
          labelled: { attack: number; other: number };
          rules: { id: string; matched: { packets: number } }[];
          split: { id: string; attack: number; other: number }[];
        }>(r);
        assert.equal(w.reads, 'the test capture');
        assert.equal(w.window.packets, 3000);
        assert.equal(w.labelled.attack + w.labelled.other, 3000);
        assert.ok(w.labelled.attack > 0 && w.labelled.other > 0);
        const syn = w.split.find((s) => s.id === 'syn-flood') as { attack: number; other: number };
        assert.ok(syn.attack > 0, JSON.stringify(w.split));
        assert.ok(syn.attack > 10 * syn.other, `mostly attack: ${JSON.stringify(syn)}`);
        assert.ok((w.rules.find((x) => x.id === 'syn-flood')?.matched.packets ?? 0) >= syn.attack + syn.other);
        assert.equal((w as unknown as { labels: string }).labels, 'truth');

        // without a truth file, the attacks detected label the packets: an alert whose span and signature cover the flood
        const truth = JSON.parse(readFileSync(truthPath(capture), 'utf8')) as { attacks: { vector: string; start: string; end: string }[] };
        const flood = truth.attacks.find((x) => x.vector === 'tcp_syn_flood') as { start: string; end: string };
        const signature = 'tcp.flags.syn and not tcp.flags.ack and ip.dst == 203.0.113.10';
        const base = alert(7);
        await f.store.upsertAlert({
          ...base,
          first_seen: flood.start,
          last_seen: flood.end,
          attack: {
            ...base.attack,
            victim: { ip: '203.0.113.10', port: 443, protocol: 'tcp' },
            start: flood.start,
            end: flood.end,
            signature: { expression: signature, coverage: 1, collateral: 0 },
          },
        });
        f.workspace.recording = { ...f.workspace.recording, truth: null };
        const d = await json<{ labels: string; labelled: { attack: number }; split: { id: string; attack: number; other: number }[] }>(
          call(f, 'POST', '/api/rules/whatif', { token: f.tokens.operator, body }),
        );
        assert.equal(d.labels, 'detected');
        const dsyn = d.split.find((s) => s.id === 'syn-flood') as { attack: number; other: number };
        assert.ok(dsyn.attack > 0 && Math.abs(dsyn.attack - syn.attack) <= syn.attack * 0.05, `detected ${JSON.stringify(dsyn)} vs truth ${JSON.stringify(syn)}`);
        assert.ok(d.labelled.attack >= dsyn.attack);

        // a window that holds nothing evaluates nothing
        f.workspace.recording = { ...f.workspace.recording, window: () => [[0, 1]] };
        const none = await json<{ window: { packets: number }; split: { attack: number }[] }>(call(f, 'POST', '/api/rules/whatif', { token: f.tokens.operator, body }));
        assert.equal(none.window.packets, 0);
        assert.ok(none.split.every((s) => s.attack === 0));
      } finally {
        f.workspace.recording = null;
      }
    });

    it('export: the four targets side by side, with notes on what a target cannot express; one rule alone', async () => {
      const all = await json<{ rules: string[]; targets: Record<string, { text: string; notes: { rule: string; reason: string }[] }> }>(
        call(f, 'POST', '/api/rules/export', { token: f.tokens.viewer, body: { text: RULES } }),
      );
      assert.deepEqual(Object.keys(all.targets).sort(), ['cloudflare', 'flowspec', 'iptables', 'nftables']);
      assert.match(all.targets.nftables?.text ?? '', /203\.0\.113\.10/);
      assert.ok(
        all.targets.flowspec?.notes.some((n) => n.rule === 'low-ttl'),
        'Flowspec has no TTL match: a note says so',
      );
      assert.ok(!all.targets.nftables?.notes.some((n) => n.rule === 'low-ttl'));
      const one = await json<{ rules: string[]; disabled?: boolean; targets: Record<string, { notes: unknown[] }> }>(
        call(f, 'POST', '/api/rules/export', { token: f.tokens.viewer, body: { text: RULES, rule: 'syn-flood' } }),
      );
      assert.deepEqual(one.rules, ['syn-flood']);
      assert.deepEqual(one.targets.flowspec?.notes, []);
      // a disabled rule (left out of the compiled ruleset) is exported as it would be once enabled, and said so
      const withOff = `${RULES}  - id: parked\n    expression: ip.src == 198.51.100.7\n    action: block\n    enabled: false\n`;
      const parked = await json<{ rules: string[]; disabled?: boolean; targets: Record<string, { text: string }> }>(
        call(f, 'POST', '/api/rules/export', { token: f.tokens.viewer, body: { text: withOff, rule: 'parked' } }),
      );
      assert.deepEqual([parked.rules, parked.disabled], [['parked'], true]);
      assert.match(parked.targets.nftables?.text ?? '', /198\.51\.100\.7/);
      assert.equal(one.disabled, undefined, 'an enabled rule is not marked');
      const missing = await call(f, 'POST', '/api/rules/export', { token: f.tokens.viewer, body: { text: RULES, rule: 'nope' } });
      assert.equal(missing.status, 400);
      assert.equal((await json<{ field: string }>(missing)).field, 'rule');
    });

    it('the field catalogue of both schemes, for the field picker', async () => {
      const all = await json<{ scheme: string; name: string; type: string; description: string }[]>(call(f, 'GET', '/api/scheme/fields', { token: f.tokens.viewer }));
      const src = all.find((x) => x.name === 'ip.src' && x.scheme === 'packet');
      assert.equal(src?.type, 'Ip');
      assert.ok(src?.description);
      assert.ok(all.some((x) => x.scheme === 'http'));
      const http = await json<{ scheme: string }[]>(call(f, 'GET', '/api/scheme/fields?scheme=http', { token: f.tokens.viewer }));
      assert.ok(http.length > 0 && http.every((x) => x.scheme === 'http'));
    });

    it('a cookie session with its CSRF token may replace the ruleset', async () => {
      const s = await session(f, 'operator');
      const { etag } = await json<{ etag: string }>(call(f, 'GET', '/api/rules', { headers: { cookie: s.cookie } }));
      const r = await call(f, 'PUT', '/api/rules', { headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, 'if-match': etag }, body: { text: RULES } });
      assert.equal(r.status, 200);
    });
  });
}
