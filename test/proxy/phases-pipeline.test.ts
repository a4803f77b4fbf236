/**
 * The edge's phases (src/proxy/phases/) with hand-made requests: their order (lists, custom
 * rules, rate limits, WAF), each action, the rate limits' windows, timeouts, counting on the
 * response and characteristics, and the answers of our own. The WAF is off here (phases-waf).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultEdgeOptions, type EdgeOptions } from '../../src/config/edge.js';
import { HttpRateCounter } from '../../src/mitigate/http-ratelimit.js';
import { parseHttpRuleset } from '../../src/mitigate/http-ruleset.js';
import { IpList } from '../../src/mitigate/lists.js';
import { MemoryCounterStore } from '../../src/proxy/counters/memory.js';
import { newResult } from '../../src/proxy/counters/store.js';
import type { EdgeRequest, HeadVerdict, Respond } from '../../src/proxy/gate.js';
import { createEdgeGate, type EdgeGate } from '../../src/proxy/phases/pipeline.js';
import type { HttpRequestView } from '../../src/scheme/http.js';

let seq = 0;
/** A request as the transport would hand it to the gate. */
function request(ip: string, target = '/', headers: Array<[string, string]> = [], method = 'GET'): EdgeRequest {
  const hs: Array<[string, string]> = [['Host', 'shop.example'], ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0'], ['Accept', 'text/html'], ...headers];
  const view: HttpRequestView = { method, target, host: 'shop.example', version: 'HTTP/1.1', headers: hs, clientIp: ip, ssl: false, timestampMs: Date.now() };
  return { id: `req-${++seq}`, view, clientIp: ip, peerIp: ip, headerOrder: hs.map((h) => h[0].toLowerCase()), ruleIds: [] };
}

function options(ruleset: string | null, lists: IpList[] = []): EdgeOptions {
  const o = defaultEdgeOptions();
  o.waf.enabled = false;
  o.lists = lists;
  o.ruleset = ruleset === null ? null : parseHttpRuleset(ruleset, 'rules.yaml');
  return o;
}

/** A gate with the memory store and a clock the test moves. */
function gate(o: EdgeOptions, clock = { t: 1_700_000_000_000 }): EdgeGate {
  return createEdgeGate(o, { waf: null, counters: new MemoryCounterStore(), now: () => clock.t });
}

async function head(g: EdgeGate, r: EdgeRequest): Promise<HeadVerdict> {
  return await g.head(r);
}

function header(v: Respond, name: string): string | undefined {
  return v.headers?.find((h) => h[0] === name)?.[1];
}

const list = (name: string, kind: 'allow' | 'block', ...entries: string[]): IpList => new IpList({ name, kind }).addText(entries.join('\n'));

describe('phase order', () => {
  const rules = `
rules:
  - id: block-admin
    expression: http.request.uri.path eq "/admin"
    action: block
`;
  const g = gate(options(rules, [list('office', 'allow', '192.0.2.0/24'), list('drop', 'block', '192.0.2.0/24', '198.51.100.0/24')]));

  it('an allow list wins over a block list and over the rules', async () => {
    const r = request('192.0.2.7', '/admin');
    const v = await head(g, r);
    assert.equal(v.kind, 'pass');
    assert.deepEqual(r.ruleIds, ['list:office']);
  });

  it('a block list answers 403 before the rules run', async () => {
    const r = request('198.51.100.9', '/admin');
    const v = (await head(g, r)) as Respond;
    assert.equal(v.kind, 'respond');
    assert.equal(v.status, 403);
    assert.equal(v.mitigated, 'block');
    assert.deepEqual(r.ruleIds, ['list:drop']);
  });

  it('the rules see everyone else', async () => {
    const r = request('203.0.113.5', '/admin');
    const v = (await head(g, r)) as Respond;
    assert.equal(v.status, 403);
    assert.deepEqual(r.ruleIds, ['block-admin']);
    const ok = request('203.0.113.5', '/');
    assert.equal((await head(g, ok)).kind, 'pass');
    assert.deepEqual(ok.ruleIds, []);
  });

  it('IPv6 clients are looked up in the lists too', async () => {
    const g6 = gate(options(null, [list('v6drop', 'block', '2001:db8:bad::/48')]));
    assert.equal(((await head(g6, request('2001:db8:bad::1'))) as Respond).status, 403);
    assert.equal((await head(g6, request('2001:db8:600d::1'))).kind, 'pass');
  });

  it("the ruleset's own allow and block lists act in the list phase", async () => {
    const gl = gate(
      options(`
lists:
  partners: { kind: allow, entries: [203.0.113.0/24] }
  bad: { kind: block, entries: [203.0.113.0/24, 198.18.0.0/15] }
rules:
  - id: all
    expression: starts_with(http.request.uri.path, "/")
    action: block
`),
    );
    const a = request('203.0.113.1');
    assert.equal((await head(gl, a)).kind, 'pass');
    assert.deepEqual(a.ruleIds, ['list:partners']);
    const b = request('198.18.0.1');
    assert.equal(((await head(gl, b)) as Respond).mitigated, 'block');
    assert.deepEqual(b.ruleIds, ['list:bad']);
  });
});

describe('custom rules', () => {
  const rules = `
rules:
  - id: log-bots
    expression: http.user_agent contains "bot"
    action: log
  - id: skip-health
    expression: http.request.uri.path eq "/health"
    action: skip
  - id: challenge-login
    expression: http.request.uri.path eq "/login"
    action: js_challenge
  - id: block-bots
    expression: http.user_agent contains "badbot"
    action: block
  - id: limit-all
    expression: starts_with(http.request.uri.path, "/")
    action: block
    ratelimit: { characteristics: [ip.src], period: 60, requests_per_period: 1 }
`;
  const g = gate(options(rules));

  it('log records the rule and goes on; block stops with 403', async () => {
    const r = request('203.0.113.10', '/', [['User-Agent', 'badbot/1.0']]);
    r.view.headers = [['User-Agent', 'badbot/1.0']];
    const v = (await head(g, r)) as Respond;
    assert.equal(v.status, 403);
    assert.equal(v.mitigated, 'block');
    assert.deepEqual(r.ruleIds, ['log-bots', 'block-bots']);
  });

  it('challenge and js_challenge answer 403 with the challenge page', async () => {
    const r = request('203.0.113.11', '/login');
    const v = (await head(g, r)) as Respond;
    assert.equal(v.status, 403);
    assert.equal(v.mitigated, 'challenge');
    assert.match(String(v.body), /challenge is required/);
    assert.deepEqual(r.ruleIds, ['challenge-login']);
  });

  it('skip (allow) lets the request through the later phases, rate limits included', async () => {
    for (let i = 0; i < 5; i++) {
      const r = request('203.0.113.12', '/health');
      assert.equal((await head(g, r)).kind, 'pass');
      assert.deepEqual(r.ruleIds, ['skip-health']);
    }
    // The same client elsewhere meets the rate limit (1 per minute) on its second request.
    assert.equal((await head(g, request('203.0.113.12', '/a'))).kind, 'pass');
    const v = (await head(g, request('203.0.113.12', '/b'))) as Respond;
    assert.equal(v.status, 429);
  });
});

describe('rate limits', () => {
  it('answer 429 with Retry-After once a client is over requests_per_period, and hold the mitigation timeout', async () => {
    const clock = { t: 1_700_000_000_000 };
    const g = gate(
      options(`
rules:
  - id: api
    expression: starts_with(http.request.uri.path, "/api/")
    action: block
    ratelimit: { characteristics: [ip.src], period: 10, requests_per_period: 5, mitigation_timeout: 60 }
`),
      clock,
    );
    for (let i = 0; i < 5; i++) {
      assert.equal((await head(g, request('203.0.113.20', `/api/${i}`))).kind, 'pass', `request ${i + 1}`);
      clock.t += 100;
    }
    const r = request('203.0.113.20', '/api/6');
    const v = (await head(g, r)) as Respond;
    assert.equal(v.status, 429);
    assert.equal(v.mitigated, 'rate_limit');
    assert.equal(header(v, 'retry-after'), '60');
    assert.equal(header(v, 'cache-control'), 'no-store');
    assert.deepEqual(r.ruleIds, ['api']);
    // Other paths and other clients are not limited.
    assert.equal((await head(g, request('203.0.113.20', '/'))).kind, 'pass');
    assert.equal((await head(g, request('203.0.113.21', '/api/x'))).kind, 'pass');
    // The timeout holds long after the window has passed; Retry-After counts down.
    clock.t += 30_000;
    const held = (await head(g, request('203.0.113.20', '/api/7'))) as Respond;
    assert.equal(held.status, 429);
    assert.equal(header(held, 'retry-after'), '30');
    clock.t += 31_000;
    assert.equal((await head(g, request('203.0.113.20', '/api/8'))).kind, 'pass');
  });

  it('with no mitigation timeout, throttle: only the requests over the rate, Retry-After until the rate drops', async () => {
    const clock = { t: 1_700_000_000_000 };
    const g = gate(
      options(`
rules:
  - id: throttle
    expression: starts_with(http.request.uri.path, "/")
    action: block
    ratelimit: { characteristics: [ip.src], period: 10, requests_per_period: 2 }
`),
      clock,
    );
    const verdicts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const v = await head(g, request('203.0.113.30'));
      verdicts.push(v.kind === 'respond' ? v.status : 200);
    }
    assert.deepEqual(verdicts, [200, 200, 429, 429]);
    const v = (await head(g, request('203.0.113.30'))) as Respond;
    const retry = Number(header(v, 'retry-after'));
    assert.ok(retry >= 1 && retry <= 20, `retry-after ${retry}`);
    clock.t += retry * 1000;
    assert.equal((await head(g, request('203.0.113.30'))).kind, 'pass', `passes again after ${retry} s`);
  });

  it('a counting expression on the response status: only 401s count, the rule stops the logins', async () => {
    const clock = { t: 1_700_000_000_000 };
    const g = gate(
      options(`
rules:
  - id: stuffing
    expression: http.request.uri.path eq "/login"
    action: block
    ratelimit:
      characteristics: [ip.src]
      period: 60
      requests_per_period: 3
      mitigation_timeout: 120
      counting_expression: http.request.uri.path eq "/login" and http.response.code eq 401
`),
      clock,
    );
    const exchange = async (ip: string, status: number): Promise<HeadVerdict> => {
      const r = request(ip, '/login', [], 'POST');
      const v = await head(g, r);
      if (v.kind !== 'respond') {
        g.response(r, status);
        g.done(r, { status, by: 'origin', bytesIn: 0, bytesOut: 0, durationMs: 1 });
      }
      clock.t += 500;
      return v;
    };
    // Successful logins never count.
    for (let i = 0; i < 10; i++) assert.equal((await exchange('203.0.113.40', 200)).kind, 'pass');
    // Four failures: the fourth puts the count over 3, so the fifth login is refused.
    for (let i = 0; i < 4; i++) assert.equal((await exchange('203.0.113.41', 401)).kind, 'pass', `failure ${i + 1}`);
    const v = (await exchange('203.0.113.41', 200)) as Respond;
    assert.equal(v.status, 429);
    assert.ok(Number(header(v, 'retry-after')) > 100);
    // The other client is untouched.
    assert.equal((await exchange('203.0.113.40', 200)).kind, 'pass');
  });

  it('characteristics: per client address, or per header value across addresses', async () => {
    const g = gate(
      options(`
rules:
  - id: per-key
    expression: starts_with(http.request.uri.path, "/api/")
    action: block
    ratelimit: { characteristics: ['http.request.headers["x-api-key"]'], period: 60, requests_per_period: 3, mitigation_timeout: 60 }
  - id: per-ip
    expression: starts_with(http.request.uri.path, "/")
    action: block
    ratelimit: { characteristics: [ip.src], period: 60, requests_per_period: 100 }
`),
    );
    // One key from four addresses: limited on the fourth request.
    const ips = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'];
    const out: string[] = [];
    for (const ip of ips) {
      const r = request(ip, '/api/x', [['X-Api-Key', 'k1']]);
      const v = await head(g, r);
      out.push(v.kind === 'respond' ? `${v.status}:${r.ruleIds.join(',')}` : 'pass');
    }
    assert.deepEqual(out, ['pass', 'pass', 'pass', '429:per-key']);
    // Another key from the same address passes; no key at all is not counted by the keyed rule.
    assert.equal((await head(g, request('198.51.100.4', '/api/x', [['X-Api-Key', 'k2']]))).kind, 'pass');
    for (let i = 0; i < 5; i++) assert.equal((await head(g, request('198.51.100.4', '/api/x'))).kind, 'pass');
  });

  it('a rate limit whose action is a challenge answers with the challenge', async () => {
    const g = gate(
      options(`
rules:
  - id: rl-challenge
    expression: starts_with(http.request.uri.path, "/")
    action: managed_challenge
    ratelimit: { characteristics: [ip.src], period: 60, requests_per_period: 1, mitigation_timeout: 60 }
`),
    );
    await head(g, request('203.0.113.50'));
    const v = (await head(g, request('203.0.113.50'))) as Respond;
    assert.equal(v.status, 403);
    assert.equal(v.mitigated, 'challenge');
  });

  it('the memory store counts as the offline what-if does (HttpRateCounter), request by request', () => {
    // A pseudo-random stream of requests from a few keys, with and without counting, over many windows.
    const rl = { characteristics: ['ip.src'], period: 10, requestsPerPeriod: 7, mitigationTimeout: 0, countingExpression: null, action: 'block' as const, maxKeys: 1000 };
    for (const timeout of [0, 15]) {
      rl.mitigationTimeout = timeout;
      const offline = new HttpRateCounter(rl);
      const store = new MemoryCounterStore();
      const out = [newResult()];
      let t = 1_700_000_000_000;
      let x = 12345;
      for (let i = 0; i < 5000; i++) {
        x = (x * 1103515245 + 12345) & 0x7fffffff;
        t += x % 900;
        const key = `k${x % 3}`;
        const counts = x % 5 !== 0;
        const a = offline.hit(key, t, counts, true);
        store.apply([{ key, periodMs: 10_000, limit: 7, timeoutMs: timeout * 1000, count: counts }], 1, t, out);
        assert.equal(out[0]?.limited, a, `request ${i} at ${t} key ${key} (timeout ${timeout})`);
      }
    }
  });
});

describe('answers of our own', () => {
  it('JSON for API clients, HTML for browsers, never cached, with the request id', async () => {
    const g = gate(options(null, [list('drop', 'block', '198.51.100.0/24')]));
    const api = request('198.51.100.1', '/', [['Accept', 'application/json']]);
    api.view.headers = [['Accept', 'application/json']];
    const j = (await head(g, api)) as Respond;
    assert.equal(header(j, 'content-type'), 'application/json; charset=utf-8');
    assert.equal(header(j, 'cache-control'), 'no-store');
    const body = JSON.parse(String(j.body));
    assert.equal(body.mitigated, 'block');
    assert.equal(body.status, 403);
    assert.equal(body.request_id, api.id);
    const page = (await head(g, request('198.51.100.1'))) as Respond;
    assert.equal(header(page, 'content-type'), 'text/html; charset=utf-8');
    assert.match(String(page.body), /<h1>Access denied<\/h1>/);
  });

  it('a request that no phase stops passes, and the stats count each outcome', async () => {
    const g = gate(options(null, [list('drop', 'block', '198.51.100.0/24')]));
    await head(g, request('203.0.113.1'));
    await head(g, request('198.51.100.1'));
    assert.equal(g.stats.requests, 2);
    assert.equal(g.stats.passed, 1);
    assert.equal(g.stats.list_blocked, 1);
    await g.close();
  });
});
