/**
 * The JavaScript challenge through the edge's gate (phases/pipeline.ts), with hand-made requests
 * driven the way the transport drives them (head, then body when asked): a challenge rule answers
 * the page; its proof of work, solved in Node, posted to the verification path earns a 303 and a
 * clearance cookie; with the cookie the challenge actions of custom rules and rate limits are
 * honoured while blocks, lists and the WAF still stop the request; the state (`req.challenge`,
 * `cf.bot_management.js_detection.passed`) in each case; every way a cookie or a solution can be
 * wrong; the verification path never passes to the origin.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { defaultEdgeOptions, type EdgeOptions } from '../../src/config/edge.js';
import { parseHttpRuleset } from '../../src/mitigate/http-ruleset.js';
import type { HttpRequest } from '../../src/model/http.js';
import { bindingOf, issueClearance, Signer, solves } from '../../src/proxy/challenge/tokens.js';
import { MemoryCounterStore } from '../../src/proxy/counters/memory.js';
import type { BodyVerdict, EdgeRequest, HeadVerdict, Respond } from '../../src/proxy/gate.js';
import { createEdgeGate, type EdgeGate } from '../../src/proxy/phases/pipeline.js';
import { createEdgeWaf } from '../../src/proxy/phases/waf-phase.js';
import type { HttpRequestView } from '../../src/scheme/http.js';
import { JsonLineMapper, PALISADE, parseJsonLine } from '../../src/sources/accesslog/json-format.js';
import { HttpLogView } from '../../src/sources/accesslog/view.js';
import { formOf, solve } from './challenge-helpers.js';

const SECRET = 'gate test secret, 32 characters!';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const RULES = `
lists:
  drop: { kind: block, entries: [198.51.100.0/24] }
rules:
  - id: challenge-login
    expression: starts_with(http.request.uri.path, "/login")
    action: js_challenge
  - id: log-login
    expression: starts_with(http.request.uri.path, "/login")
    action: log
  - id: block-admin
    expression: http.request.uri.path eq "/admin" or http.request.uri.path eq "/login/admin"
    action: block
  - id: members-need-js
    expression: starts_with(http.request.uri.path, "/members") and not cf.bot_management.js_detection.passed
    action: block
  - id: rl-api-challenge
    expression: starts_with(http.request.uri.path, "/api")
    action: managed_challenge
    ratelimit: { characteristics: [ip.src], period: 60, requests_per_period: 2, mitigation_timeout: 60 }
  - id: rl-api-block
    expression: starts_with(http.request.uri.path, "/api")
    action: block
    ratelimit: { characteristics: [ip.src], period: 60, requests_per_period: 4, mitigation_timeout: 60 }
`;

let seq = 0;
interface Opts {
  ip?: string;
  ua?: string;
  cookie?: string | string[];
  method?: string;
  version?: string;
  ssl?: boolean;
  accept?: string;
  extra?: Array<[string, string]>;
}
function request(target: string, o: Opts = {}): EdgeRequest {
  const ip = o.ip ?? '203.0.113.7';
  const hs: Array<[string, string]> = [
    ['Host', 'shop.example'],
    ['User-Agent', o.ua ?? UA],
    ['Accept', o.accept ?? 'text/html,application/xhtml+xml'],
  ];
  for (const c of typeof o.cookie === 'string' ? [o.cookie] : (o.cookie ?? [])) hs.push(['Cookie', c]);
  hs.push(...(o.extra ?? []));
  const view: HttpRequestView = {
    method: o.method ?? 'GET',
    target,
    host: 'shop.example',
    version: o.version ?? 'HTTP/1.1',
    headers: hs,
    clientIp: ip,
    ssl: o.ssl ?? false,
    timestampMs: Date.now(),
  };
  return { id: `c${++seq}`, view, clientIp: ip, peerIp: ip, headerOrder: hs.map((h) => h[0].toLowerCase()), ruleIds: [] };
}

function options(rules = RULES, bits = 10): EdgeOptions {
  const o = defaultEdgeOptions();
  o.waf.enabled = false;
  o.ruleset = parseHttpRuleset(rules, 'rules.yaml');
  o.challenge = { secret: SECRET, difficultyBits: bits, clearanceTtlS: 1800, cookieName: 'palisade_clearance' };
  return o;
}

const clock = { t: 1_800_000_000_000 };
function gate(o = options()): EdgeGate {
  return createEdgeGate(o, { waf: null, counters: new MemoryCounterStore(), now: () => clock.t });
}

/** Head, and body when the gate asks for it: the transport's order of calls. */
async function decide(g: EdgeGate, r: EdgeRequest, body?: string): Promise<HeadVerdict | BodyVerdict> {
  const h = await g.head(r);
  if (h.kind !== 'body') return h;
  const bytes = Buffer.from(body ?? '', 'latin1');
  const limit = h.bodyLimit;
  return await g.body(r, bytes.subarray(0, limit), bytes.length > limit);
}

function header(v: Respond, name: string): string | undefined {
  return v.headers?.find((h) => h[0] === name)?.[1];
}

/** The form post a browser makes once the page's script found the nonce. */
function solution(page: Respond, override: Partial<{ token: string; nonce: string; url: string }> = {}): string {
  const f = formOf(String(page.body));
  const nonce = override.nonce ?? String(solve(override.token ?? f.token, f.bits));
  return new URLSearchParams({ token: override.token ?? f.token, nonce, url: override.url ?? f.url }).toString();
}

const verify = (o: Opts = {}): EdgeRequest => request('/.well-known/palisade/challenge', { method: 'POST', ...o });

/** Challenge, solve and post: the cookie pair (`name=value`). */
async function clearance(g: EdgeGate, o: Opts = {}): Promise<string> {
  const page = (await decide(g, request('/login', o))) as Respond;
  const v = (await decide(g, verify(o), solution(page))) as Respond;
  assert.equal(v.status, 303);
  return (header(v, 'set-cookie') as string).split(';')[0] as string;
}

describe('the challenge round trip through the gate', () => {
  const g = gate();
  after(() => g.close());

  it('a challenge rule answers 403 with the page; the request has no clearance', async () => {
    const r = request('/login?next=%2Fcart');
    const v = (await decide(g, r)) as Respond;
    assert.equal(v.kind, 'respond');
    assert.equal(v.status, 403);
    assert.equal(v.mitigated, 'challenge');
    assert.equal(header(v, 'cache-control'), 'no-store');
    assert.match(header(v, 'content-security-policy') as string, /script-src 'nonce-/);
    assert.equal(header(v, 'set-cookie'), undefined, 'the page needs no cookie');
    assert.deepEqual(r.ruleIds, ['challenge-login']);
    assert.equal(r.challenge, 'none');
    const f = formOf(String(v.body));
    assert.equal(f.action, '/.well-known/palisade/challenge');
    assert.equal(f.bits, 10);
    assert.equal(f.url, '/login?next=%2Fcart');
  });

  it('the solution posted back earns 303 to the page and a signed clearance cookie', async () => {
    const page = (await decide(g, request('/login?next=%2Fcart'))) as Respond;
    const r = verify();
    const v = (await decide(g, r, solution(page))) as Respond;
    assert.equal(v.kind, 'respond');
    assert.equal(v.status, 303);
    assert.equal(header(v, 'location'), '/login?next=%2Fcart');
    const cookie = header(v, 'set-cookie') as string;
    assert.match(cookie, /^palisade_clearance=c1\.\d+\.[0-9a-f]{64}; Max-Age=1800; Path=\/; HttpOnly; SameSite=Lax$/);
    assert.equal(r.challenge, 'passed');
    assert.equal(g.stats.challenge_solved, 1);
  });

  it('with the cookie the challenge rule no longer applies: later rules run, the request passes', async () => {
    const c = await clearance(g);
    const r = request('/login', { cookie: `theme=dark; ${c}; lang=en` });
    const v = await decide(g, r);
    assert.equal(v.kind, 'pass');
    assert.equal(r.challenge, 'passed');
    assert.deepEqual(r.ruleIds, ['challenge-login', 'log-login'], 'the challenge rule matched, logged, and the next rule ran');
    assert.equal(r.view.bot?.jsPassed, true);
    assert.ok(g.stats.challenge_honoured >= 1);
  });

  it('a block rule still blocks a cleared client, after its challenge rule was honoured', async () => {
    const c = await clearance(g);
    const admin = request('/admin', { cookie: c });
    const v = (await decide(g, admin)) as Respond;
    assert.equal(v.status, 403);
    assert.equal(v.mitigated, 'block');
    assert.equal(admin.challenge, 'passed');
    const both = request('/login/admin', { cookie: c });
    assert.equal(((await decide(g, both)) as Respond).mitigated, 'block');
    assert.deepEqual(both.ruleIds, ['challenge-login', 'log-login', 'block-admin']);
  });

  it('a block list still blocks a cleared client', async () => {
    const o = { ip: '198.51.100.20' };
    // The verification post is answered before the lists: a listed client can earn a cookie, which buys it nothing.
    const c = await clearance(gate(options(RULES.replace('198.51.100.0/24', '192.0.2.0/24'))), o);
    const r = request('/', { ...o, cookie: c });
    const v = (await decide(g, r)) as Respond;
    assert.equal(v.mitigated, 'block');
    assert.deepEqual(r.ruleIds, ['list:drop']);
    assert.equal(r.challenge, 'passed');
  });

  it('rules read the state as cf.bot_management.js_detection.passed', async () => {
    const no = request('/members');
    assert.equal(((await decide(g, no)) as Respond).mitigated, 'block');
    assert.equal(no.challenge, 'none');
    const c = await clearance(g);
    const yes = request('/members', { cookie: c });
    assert.equal((await decide(g, yes)).kind, 'pass');
    assert.equal(yes.challenge, 'passed');
  });

  it('a rate limit whose action is a challenge is honoured; one that blocks is not', async () => {
    const o = { ip: '203.0.113.77' };
    const c = await clearance(g, o);
    const plain = { ip: '203.0.113.78' };
    // Without a clearance: 2 pass, the 3rd is challenged.
    for (let i = 0; i < 2; i++) assert.equal((await decide(g, request('/api/x', plain))).kind, 'pass');
    assert.equal(((await decide(g, request('/api/x', plain))) as Respond).mitigated, 'challenge');
    // With one: the challenge limit (2) is passed over, the block limit (4) still holds.
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = request('/api/x', { ...o, cookie: c });
      const v = await decide(g, r);
      seen.push(v.kind === 'respond' ? `${v.status}:${v.mitigated}` : v.kind);
      assert.equal(r.challenge, 'passed');
    }
    assert.deepEqual(seen, ['pass', 'pass', 'pass', 'pass', '429:rate_limit', '429:rate_limit']);
  });

  it('JSON clients get a JSON answer instead of the page', async () => {
    const v = (await decide(g, request('/login', { accept: 'application/json' }))) as Respond;
    assert.equal(v.status, 403);
    assert.equal(v.mitigated, 'challenge');
    assert.equal(JSON.parse(String(v.body)).challenge, 'required');
  });

  it('over TLS the cookie is Secure', async () => {
    const page = (await decide(g, request('/login', { ssl: true }))) as Respond;
    const v = (await decide(g, verify({ ssl: true }), solution(page))) as Respond;
    assert.match(header(v, 'set-cookie') as string, /; Secure$/);
  });

  it('an HTTP/2 client may send its cookies in several fields', async () => {
    const c = await clearance(g);
    const r = request('/login', { version: 'HTTP/2', cookie: ['a=1', c] });
    assert.equal((await decide(g, r)).kind, 'pass');
    assert.equal(r.challenge, 'passed');
  });
});

describe('clearances that fail', () => {
  const g = gate();
  after(() => g.close());
  const signer = new Signer(SECRET);

  async function stateOf(cookie: string, o: Opts = {}): Promise<{ state: string | undefined; verdict: string }> {
    const r = request('/login', { ...o, cookie });
    const v = await decide(g, r);
    return { state: r.challenge, verdict: v.kind === 'respond' ? `${v.status}:${v.mitigated}` : v.kind };
  }

  it('from another /24, another browser, expired, tampered, or signed with another secret: failed, and challenged again', async () => {
    const c = await clearance(g);
    assert.deepEqual(await stateOf(c), { state: 'passed', verdict: 'pass' });
    assert.deepEqual(await stateOf(c, { ip: '203.0.113.200' }), { state: 'passed', verdict: 'pass' }, 'the same /24');
    assert.deepEqual(await stateOf(c, { ip: '203.0.114.7' }), { state: 'failed', verdict: '403:challenge' });
    assert.deepEqual(await stateOf(c, { ua: `${UA} Edg/131.0` }), { state: 'failed', verdict: '403:challenge' });
    const flip = (x: string, at: number): string => `${x.slice(0, at)}${x[at] === 'a' ? 'b' : 'a'}${x.slice(at + 1)}`;
    assert.deepEqual(await stateOf(flip(c, c.length - 1)), { state: 'failed', verdict: '403:challenge' });
    assert.deepEqual(await stateOf(flip(c, c.length - 40)), { state: 'failed', verdict: '403:challenge' });
    assert.deepEqual(await stateOf('palisade_clearance=nonsense'), { state: 'failed', verdict: '403:challenge' });
    const foreign = issueClearance(new Signer('some other secret of 32 chars!!!'), bindingOf('203.0.113.7', UA), clock.t, 60_000);
    assert.deepEqual(await stateOf(`palisade_clearance=${foreign}`), { state: 'failed', verdict: '403:challenge' });
    const mine = issueClearance(signer, bindingOf('203.0.113.7', UA), clock.t, 60_000);
    assert.deepEqual(await stateOf(`palisade_clearance=${mine}`), { state: 'passed', verdict: 'pass' });
    const saved = clock.t;
    clock.t += 1800_000;
    try {
      assert.deepEqual(await stateOf(c), { state: 'failed', verdict: '403:challenge' }, 'expired');
    } finally {
      clock.t = saved;
    }
  });

  it('other cookies are no clearance: none', async () => {
    assert.deepEqual(await stateOf('session=abc; palisade_clearancex=1'), { state: 'none', verdict: '403:challenge' });
  });

  it('one valid among several copies is enough', async () => {
    const c = await clearance(g);
    assert.deepEqual(await stateOf(`palisade_clearance=old; ${c}`), { state: 'passed', verdict: 'pass' });
  });
});

describe('the verification post', () => {
  const g = gate();
  after(() => g.close());

  it('a seed is spent once: the same solution posted again gets the page again', async () => {
    const page = (await decide(g, request('/login'))) as Respond;
    const form = solution(page);
    assert.equal(((await decide(g, verify(), form)) as Respond).status, 303);
    const again = verify();
    const v = (await decide(g, again, form)) as Respond;
    assert.equal(v.status, 403);
    assert.equal(v.mitigated, 'challenge');
    assert.equal(header(v, 'set-cookie'), undefined);
    assert.equal(again.challenge, 'failed');
    assert.ok(g.jsChallenge.stats.replayed >= 1);
  });

  it('a wrong nonce, a seed of another client, an expired seed, a tampered seed: the page again, failed', async () => {
    const page = (await decide(g, request('/login'))) as Respond;
    const f = formOf(String(page.body));
    // A nonce that does not solve it (the next one might, once in 2^bits).
    let wrong = solve(f.token, f.bits) + 1;
    while (solves(f.token, String(wrong), f.bits)) wrong++;
    const cases: Array<[string, string, Opts]> = [
      ['wrong nonce', solution(page, { nonce: String(wrong) }), {}],
      ['empty nonce', solution(page, { nonce: '' }), {}],
      ['another /24', solution(page), { ip: '192.0.2.7' }],
      ['another browser', solution(page), { ua: 'curl/8.5.0' }],
      ['tampered difficulty', solution(page, { token: f.token.replace('.10.', '.0.'), nonce: '0' }), {}],
      ['no token', 'nonce=1&url=%2F', {}],
    ];
    for (const [what, body, o] of cases) {
      const r = verify(o);
      const v = (await decide(g, r, body)) as Respond;
      assert.equal(v.status, 403, what);
      assert.equal(header(v, 'set-cookie'), undefined, what);
      assert.equal(r.challenge, 'failed', what);
    }
    const saved = clock.t;
    clock.t += 5 * 60_000;
    try {
      const r = verify();
      assert.equal(((await decide(g, r, solution(page))) as Respond).status, 403, 'expired seed');
      assert.equal(r.challenge, 'failed');
    } finally {
      clock.t = saved;
    }
    // The seed was never spent by those: the right solution still works.
    assert.equal(((await decide(g, verify(), solution(page))) as Respond).status, 303);
  });

  it('open-redirect attempts are refused: 400, no cookie, no Location', async () => {
    for (const url of ['//evil.example/', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', '/ok\r\nSet-Cookie: x=1']) {
      const page = (await decide(g, request('/login'))) as Respond;
      const r = verify();
      const v = (await decide(g, r, solution(page, { url }))) as Respond;
      assert.equal(v.status, 400, url);
      assert.equal(header(v, 'location'), undefined, url);
      assert.equal(header(v, 'set-cookie'), undefined, url);
    }
  });

  it('a page asked for with a target that is no safe path sends the browser back to /', async () => {
    const page = (await decide(g, request('/login?q=\u00e9'))) as Respond;
    assert.equal(formOf(String(page.body)).url, '/');
  });

  it('is answered before any phase and never passes to the origin, whatever comes', async () => {
    // A rule that would let everything through, and one that would block: neither sees the post.
    const g2 = gate(
      options(`
rules:
  - id: allow-all
    expression: starts_with(http.request.uri.path, "/")
    action: skip
`),
    );
    const get = request('/.well-known/palisade/challenge');
    const v = (await decide(g2, get)) as Respond;
    assert.equal(v.status, 405);
    assert.equal(header(v, 'allow'), 'POST');
    assert.deepEqual(get.ruleIds, []);
    for (const body of ['', 'x'.repeat(20_000), 'token=a&nonce=b', '\u0000\u00ff%%%&&==']) {
      const r = verify();
      const h = await g2.head(r);
      assert.equal(h.kind, 'body');
      const out = await decide(g2, verify(), body);
      assert.equal(out.kind, 'respond', `body ${JSON.stringify(body.slice(0, 20))}`);
    }
    const big = (await decide(g2, verify(), 'x'.repeat(20_000))) as Respond;
    assert.equal(big.status, 413);
    const withQuery = request('/.well-known/palisade/challenge?x=1', { method: 'PUT' });
    assert.equal(((await decide(g2, withQuery)) as Respond).status, 405);
    // A neighbouring path is the origin's.
    assert.equal((await decide(g2, request('/.well-known/palisade/challenges'))).kind, 'pass');
    await g2.close();
  });

  it('a gate with its own challenge responder still verifies and honours clearances', async () => {
    const g3 = createEdgeGate(options(), {
      waf: null,
      counters: new MemoryCounterStore(),
      now: () => clock.t,
      challenge: (req) => ({ kind: 'respond', mitigated: 'challenge', status: 403, body: `custom ${req.id}` }),
    });
    assert.match(String(((await decide(g3, request('/login'))) as Respond).body), /^custom /);
    // A clearance from another gate under the same secret is honoured.
    const c = await clearance(g);
    assert.equal((await decide(g3, request('/login', { cookie: c }))).kind, 'pass');
    await g3.close();
  });
});

describe('the WAF still inspects a cleared client', () => {
  it('while the clearance cookie itself never trips the CRS, even at paranoia 4', async () => {
    const o = options();
    o.waf.enabled = true;
    o.waf.paranoia = 4;
    const g = createEdgeGate(o, { waf: createEdgeWaf(o.waf), counters: new MemoryCounterStore(), now: () => clock.t });
    const signer = new Signer(SECRET);
    try {
      for (let i = 0; i < 2000; i++) {
        const c = issueClearance(signer, bindingOf('203.0.113.7', UA), clock.t + i * 1000, 1800_000);
        const r = request('/', { cookie: `palisade_clearance=${c}` });
        const v = await decide(g, r);
        assert.equal(v.kind, 'pass', `${c}: ${r.ruleIds.join(' ')}`);
        assert.deepEqual(r.ruleIds, []);
      }
    } finally {
      await g.close();
    }
  });

  it('SQL injection with a valid clearance is blocked by the WAF', async () => {
    const o = options();
    o.waf.enabled = true;
    const g = createEdgeGate(o, { waf: createEdgeWaf(o.waf), counters: new MemoryCounterStore(), now: () => clock.t });
    try {
      const c = await clearance(g);
      const r = request("/login?id=1'%20or%201=1--", { cookie: c });
      const v = (await decide(g, r)) as Respond;
      assert.equal(v.mitigated, 'waf');
      assert.equal(r.challenge, 'passed');
    } finally {
      await g.close();
    }
  });
});

describe('the state in the access log', () => {
  it("each state the gate sets is the edge log's `challenge` value, read back as written", async () => {
    const g = gate();
    const states: Array<string | undefined> = [];
    const none = request('/login');
    await decide(g, none);
    const c = await clearance(g);
    const passed = request('/login', { cookie: c });
    await decide(g, passed);
    const failed = request('/login', { cookie: c, ip: '192.0.2.1' });
    await decide(g, failed);
    const mapper = new JsonLineMapper(PALISADE);
    const view = new HttpLogView();
    for (const r of [none, passed, failed]) {
      assert.ok(r.challenge !== undefined);
      // What the transport writes (proxy/exchange.ts record()) with the state added.
      const rec: HttpRequest = {
        time: '2026-12-06T16:00:00.000Z',
        client: { ip: r.clientIp },
        method: 'GET',
        host: 'shop.example',
        path: '/login',
        query: '',
        version: 'HTTP/1.1',
        headers: [],
        body_size: 0,
        status: 403,
        challenge: r.challenge,
      };
      assert.ok(parseJsonLine(mapper, JSON.stringify(rec), view));
      states.push(view.toHttpRequest().challenge);
    }
    assert.deepEqual(states, ['none', 'passed', 'failed']);
    await g.close();
  });
});
