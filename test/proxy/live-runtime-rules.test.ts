/**
 * The gate's runtime rules (proxy/live/runtime-rules.ts, phases/pipeline.ts): custom rules, rate
 * limits and block-list entries added and removed by id while requests flow, their origin, times
 * and expiry, atomic batches (a bad expression changes nothing), their place in the phase order
 * (after the config's; allow lists still win), the log's rule ids, and the done hook.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultEdgeOptions, type EdgeOptions } from '../../src/config/edge.js';
import { parseHttpRuleset } from '../../src/mitigate/http-ruleset.js';
import { IpList } from '../../src/mitigate/lists.js';
import { MemoryCounterStore } from '../../src/proxy/counters/memory.js';
import type { EdgeRequest, HeadVerdict, Outcome, Respond } from '../../src/proxy/gate.js';
import { RuntimeRuleError } from '../../src/proxy/live/runtime-rules.js';
import { createEdgeGate, type EdgeGate } from '../../src/proxy/phases/pipeline.js';
import type { HttpRequestView } from '../../src/scheme/http.js';

let seq = 0;
function request(ip: string, target = '/', ua = 'Mozilla/5.0 Firefox/133.0'): EdgeRequest {
  const hs: Array<[string, string]> = [
    ['Host', 'shop.example'],
    ['User-Agent', ua],
  ];
  const view: HttpRequestView = { method: 'GET', target, host: 'shop.example', version: 'HTTP/1.1', headers: hs, clientIp: ip, ssl: false, timestampMs: 0 };
  return { id: `q${++seq}`, view, clientIp: ip, peerIp: ip, headerOrder: hs.map((h) => h[0].toLowerCase()), ruleIds: [] };
}

function options(ruleset: string | null = null, lists: IpList[] = []): EdgeOptions {
  const o = defaultEdgeOptions();
  o.waf.enabled = false;
  o.lists = lists;
  o.ruleset = ruleset === null ? null : parseHttpRuleset(ruleset, 'rules.yaml');
  return o;
}

function gate(o: EdgeOptions = options(), clock = { t: 1_700_000_000_000 }): EdgeGate {
  return createEdgeGate(o, { waf: null, counters: new MemoryCounterStore(), now: () => clock.t });
}

/** The gate's answer to a request (the memory store answers at once). */
function head(g: EdgeGate, r: EdgeRequest): HeadVerdict {
  const v = g.head(r);
  assert.ok(!(v instanceof Promise));
  return v;
}

const status = (v: HeadVerdict): number => (v.kind === 'respond' ? (v as Respond).status : 200);

describe('runtime custom rules', () => {
  it('added, matched, listed with origin and times, removed by id', () => {
    const clock = { t: 1_700_000_000_000 };
    const g = gate(options(), clock);
    assert.equal(status(head(g, request('203.0.113.1', '/wp-login.php'))), 200);
    const e = g.runtime.addCustomRule({
      id: 'admin-1',
      origin: 'admin',
      expression: 'http.request.uri.path eq "/wp-login.php"',
      action: 'block',
      description: 'no wordpress here',
    });
    assert.equal(e.createdMs, clock.t);
    assert.equal(e.expiresMs, null);
    const r = request('203.0.113.1', '/wp-login.php');
    const v = head(g, r) as Respond;
    assert.equal(v.status, 403);
    assert.equal(v.mitigated, 'block');
    assert.deepEqual(r.ruleIds, ['admin-1']);
    assert.equal(status(head(g, request('203.0.113.1', '/'))), 200);
    assert.deepEqual(
      g.runtime.list().map((x) => [x.id, x.type, x.origin, x.description]),
      [['admin-1', 'custom_rule', 'admin', 'no wordpress here']],
    );
    assert.equal(g.runtime.remove('admin-1'), true);
    assert.equal(g.runtime.remove('admin-1'), false);
    assert.equal(status(head(g, request('203.0.113.1', '/wp-login.php'))), 200);
    assert.equal(g.runtime.size, 0);
  });

  it('challenge and log actions, after the config rules (a config allow skips them)', () => {
    const g = gate(options('rules:\n  - { id: office, expression: \'http.request.uri.path eq "/internal"\', action: skip }\n'));
    g.runtime.addCustomRule({ id: 'ch', origin: 'admin', expression: 'http.user_agent contains "curl"', action: 'challenge' });
    g.runtime.addCustomRule({ id: 'seen', origin: 'admin', expression: 'http.request.uri.path eq "/x"', action: 'log' });
    const c = head(g, request('198.51.100.2', '/', 'curl/8.5')) as Respond;
    assert.equal(c.mitigated, 'challenge');
    const skipped = request('198.51.100.2', '/internal', 'curl/8.5');
    assert.equal(head(g, skipped).kind, 'pass');
    assert.deepEqual(skipped.ruleIds, ['office']);
    const logged = request('198.51.100.2', '/x');
    assert.equal(head(g, logged).kind, 'pass');
    assert.deepEqual(logged.ruleIds, ['seen']);
  });

  it('expire at their time, checked by each request and by expire()', () => {
    const clock = { t: 1_700_000_000_000 };
    const g = gate(options(), clock);
    g.runtime.addCustomRule({ id: 'tmp', origin: 'auto:l7-9', expression: 'http.request.uri.path eq "/a"', action: 'block', expiresMs: clock.t + 60_000 });
    g.runtime.addCustomRule({ id: 'later', origin: 'admin', expression: 'http.request.uri.path eq "/b"', action: 'block', expiresMs: clock.t + 120_000 });
    assert.equal(g.runtime.nextExpiryMs, clock.t + 60_000);
    clock.t += 59_999;
    assert.equal(status(head(g, request('192.0.2.1', '/a'))), 403);
    clock.t += 1;
    assert.equal(status(head(g, request('192.0.2.1', '/a'))), 200);
    assert.deepEqual(
      g.runtime.list().map((e) => e.id),
      ['later'],
    );
    assert.equal(g.runtime.setExpiry('later', clock.t + 5000), true);
    assert.deepEqual(g.runtime.expire(clock.t + 4999), []);
    assert.deepEqual(
      g.runtime.expire(clock.t + 5000).map((e) => e.id),
      ['later'],
    );
    assert.equal(g.runtime.size, 0);
    assert.equal(g.runtime.nextExpiryMs, Number.POSITIVE_INFINITY);
  });

  it('refuses bad specs and duplicate ids with stable codes, and a config rule id', () => {
    const g = gate(options('rules:\n  - { id: cfg-1, expression: \'http.request.uri.path eq "/z"\', action: block }\n'));
    const bad = (f: () => unknown, re: RegExp) =>
      assert.throws(f, (e: Error & { code?: string }) => {
        assert.match(e.message, re);
        assert.ok(e.code === 'E_USAGE' || e.code === 'E_RULE', e.code);
        return true;
      });
    bad(() => g.runtime.addCustomRule({ id: 'has space', origin: 'admin', expression: 'http.request.method eq "GET"', action: 'block' }), /id/);
    bad(() => g.runtime.addCustomRule({ id: 'cfg-1', origin: 'admin', expression: 'http.request.method eq "GET"', action: 'block' }), /rule of the configuration/);
    bad(() => g.runtime.addCustomRule({ id: 'x', origin: '', expression: 'http.request.method eq "GET"', action: 'block' }), /origin/);
    bad(() => g.runtime.addCustomRule({ id: 'x', origin: 'admin', expression: 'http.nope eq 1', action: 'block' }), /nope/);
    g.runtime.addCustomRule({ id: 'x', origin: 'admin', expression: 'http.request.method eq "GET"', action: 'log' });
    bad(() => g.runtime.addCustomRule({ id: 'x', origin: 'admin', expression: 'http.request.method eq "GET"', action: 'log' }), /used twice/);
    bad(() => g.runtime.addList({ id: 'l', origin: 'admin', entries: ['not-an-ip'] }), /not an address/);
    assert.equal(g.runtime.remove('nope'), false);
    assert.throws(() => g.runtime.apply({ remove: ['nope'] }), RuntimeRuleError);
  });

  it('a batch is atomic: one bad expression and nothing changes', () => {
    const g = gate();
    g.runtime.addCustomRule({ id: 'old', origin: 'auto:l7-1', expression: 'http.request.uri.path eq "/old"', action: 'block' });
    const version = g.runtime.version;
    assert.throws(() =>
      g.runtime.apply({
        remove: ['old'],
        add: [
          { type: 'custom_rule', id: 'new', origin: 'auto:l7-1', expression: 'http.request.uri.path eq "/new"', action: 'block' },
          { type: 'custom_rule', id: 'broken', origin: 'auto:l7-1', expression: 'http.request.uri.path eq', action: 'block' },
        ],
      }),
    );
    assert.equal(g.runtime.version, version);
    assert.equal(status(head(g, request('192.0.2.9', '/old'))), 403);
    assert.equal(status(head(g, request('192.0.2.9', '/new'))), 200);
    // The same change without the broken rule: replaced in one swap.
    g.runtime.apply({ remove: ['old'], add: [{ type: 'custom_rule', id: 'old', origin: 'auto:l7-1', expression: 'http.request.uri.path eq "/new"', action: 'block' }] });
    assert.equal(status(head(g, request('192.0.2.9', '/old'))), 200);
    assert.equal(status(head(g, request('192.0.2.9', '/new'))), 403);
  });

  it('a request keeps the rules it started with across the rate limits’ await', async () => {
    // A store that answers later (as Redis does): the rule is removed while the request waits.
    const mem = new MemoryCounterStore();
    const slow = {
      kind: 'redis' as const,
      apply: (ops: Parameters<MemoryCounterStore['apply']>[0], n: number, now: number, out: Parameters<MemoryCounterStore['apply']>[3]) =>
        new Promise<void>((resolve) => setImmediate(() => resolve(mem.apply(ops, n, now, out)))),
      close: async () => {},
    };
    const g = createEdgeGate(options(), { waf: null, counters: slow, now: () => 1_700_000_000_000 });
    g.runtime.addRateLimit({
      id: 'rl',
      origin: 'admin',
      expression: 'http.request.method eq "GET"',
      action: 'block',
      characteristics: ['ip.src'],
      period: 10,
      requestsPerPeriod: 1,
      mitigationTimeout: 60,
    });
    await g.head(request('192.0.2.20'));
    const pending = g.head(request('192.0.2.20'));
    g.runtime.remove('rl');
    const v = (await pending) as Respond;
    assert.equal(v.status, 429);
    assert.equal((await g.head(request('192.0.2.20'))).kind, 'pass');
  });
});

describe('runtime rate limits', () => {
  it('Cloudflare shape: per address over a period, 429 with Retry-After, then the timeout', () => {
    const clock = { t: 1_700_000_000_000 };
    const g = gate(options(), clock);
    g.runtime.addRateLimit({
      id: 'auto-l7-2-rate',
      origin: 'auto:l7-2',
      expression: 'http.request.uri.path eq "/"',
      action: 'block',
      characteristics: ['cf.colo.id', 'ip.src'],
      period: 60,
      requestsPerPeriod: 5,
      mitigationTimeout: 120,
    });
    const e = g.runtime.get('auto-l7-2-rate');
    assert.ok(e !== undefined && e.type === 'rate_limit');
    assert.deepEqual(e.characteristics, ['ip.src']);
    for (let i = 0; i < 5; i++) assert.equal(status(head(g, request('198.51.100.7'))), 200);
    const r = request('198.51.100.7');
    const v = head(g, r) as Respond;
    assert.equal(v.status, 429);
    assert.equal(v.mitigated, 'rate_limit');
    assert.deepEqual(r.ruleIds, ['auto-l7-2-rate']);
    // Another address has its own count; an asset is out of the rule's scope.
    assert.equal(status(head(g, request('198.51.100.8'))), 200);
    assert.equal(status(head(g, request('198.51.100.7', '/app.css'))), 200);
    clock.t += 121_000;
    assert.equal(status(head(g, request('198.51.100.7'))), 200);
  });

  it('counting on the response status (the stuffing shape)', () => {
    const g = gate();
    g.runtime.addRateLimit({
      id: 'logins',
      origin: 'admin',
      expression: 'http.request.uri.path eq "/login"',
      action: 'block',
      characteristics: ['ip.src'],
      period: 600,
      requestsPerPeriod: 2,
      mitigationTimeout: 600,
      countingExpression: 'http.request.uri.path eq "/login" and http.response.code eq 401',
    });
    const done: Outcome = { status: 401, by: 'origin', bytesIn: 0, bytesOut: 0, durationMs: 1 };
    for (let i = 0; i < 3; i++) {
      const r = request('203.0.113.40', '/login');
      assert.equal(head(g, r).kind, 'pass');
      g.response(r, 401);
      g.done(r, done);
    }
    assert.equal(status(head(g, request('203.0.113.40', '/login'))), 429);
  });
});

describe('runtime block lists', () => {
  it('addresses and prefixes block in the IP phase, named by entry id; removal by id', () => {
    const g = gate();
    g.runtime.addList({ id: 'auto-l7-3-sources', origin: 'auto:l7-3', entries: ['198.51.100.0/24', '203.0.113.9', '2001:db8::/48'] });
    g.runtime.addList({ id: 'admin-drop', origin: 'admin', entries: ['192.0.2.77'] });
    for (const [ip, id] of [
      ['198.51.100.200', 'auto-l7-3-sources'],
      ['203.0.113.9', 'auto-l7-3-sources'],
      ['2001:db8:0:1::5', 'auto-l7-3-sources'],
      ['192.0.2.77', 'admin-drop'],
    ] as const) {
      const r = request(ip);
      const v = head(g, r) as Respond;
      assert.equal(v.status, 403, ip);
      assert.deepEqual(r.ruleIds, [`list:${id}`]);
    }
    assert.equal(status(head(g, request('203.0.113.10'))), 200);
    assert.equal(status(head(g, request('2001:db8:1::5'))), 200);
    g.runtime.remove('auto-l7-3-sources');
    assert.equal(status(head(g, request('198.51.100.200'))), 200);
    assert.equal(status(head(g, request('192.0.2.77'))), 403);
    assert.equal(g.stats.list_blocked, 5);
  });

  it('allow lists still win, and allowListed() tells addresses and prefixes that overlap them', () => {
    const office = new IpList({ name: 'office', kind: 'allow' }).addText('198.51.100.0/28\n2001:db8:aa::/48');
    const g = gate(options(null, [office]));
    g.runtime.addList({ id: 'drop', origin: 'admin', entries: ['198.51.100.0/24'] });
    assert.equal(head(g, request('198.51.100.3')).kind, 'pass');
    assert.equal(status(head(g, request('198.51.100.30'))), 403);
    assert.equal(g.allowListed('198.51.100.3'), true);
    assert.equal(g.allowListed('198.51.100.30'), false);
    assert.equal(g.allowListed('198.51.100.0/24'), true, 'a prefix holding an allowed range');
    assert.equal(g.allowListed('198.51.100.0/30'), true, 'a prefix inside one');
    assert.equal(g.allowListed('198.51.101.0/24'), false);
    assert.equal(g.allowListed('2001:db8:aa::1'), true);
    assert.equal(g.allowListed('2001:db8::/32'), true);
    assert.equal(g.allowListed('2001:db8:bb::/48'), false);
  });
});

describe('the done hook', () => {
  it('observers see every finished exchange after the gate’s own done, and detach', () => {
    const g = gate();
    const seen: string[] = [];
    const off = g.observe((req, o) => seen.push(`${req.id}:${o.status}`));
    const r = request('192.0.2.1');
    head(g, r);
    g.done(r, { status: 200, by: 'origin', bytesIn: 0, bytesOut: 10, durationMs: 3 });
    off();
    g.done(r, { status: 200, by: 'origin', bytesIn: 0, bytesOut: 10, durationMs: 3 });
    assert.deepEqual(seen, [`${r.id}:200`]);
  });
});
