/**
 * The WAF phase of the edge (src/proxy/phases/waf-phase.ts) on the installed CRS at paranoia 1:
 * SQL injection in a query and in a form body is blocked, a benign form passes, detect mode
 * only records, exclusions per path and for every path; the body is asked for only when the
 * request has one; the WAF runs after lists, rules and rate limits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultEdgeOptions, type EdgeOptions, type EdgeWafExclusion } from '../../src/config/edge.js';
import { parseHttpRuleset } from '../../src/mitigate/http-ruleset.js';
import { MemoryCounterStore } from '../../src/proxy/counters/memory.js';
import type { EdgeRequest, Respond } from '../../src/proxy/gate.js';
import { createEdgeGate, type EdgeGate } from '../../src/proxy/phases/pipeline.js';
import { createEdgeWaf, wafOptionsOf } from '../../src/proxy/phases/waf-phase.js';
import type { HttpRequestView } from '../../src/scheme/http.js';
import type { Waf } from '../../src/waf/engine.js';
import { MemoryCollectionStore } from '../../src/waf/persistent.js';

const BROWSER: Array<[string, string]> = [
  ['Host', 'shop.example'],
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['Accept-Language', 'en-US,en;q=0.9'],
  ['Accept-Encoding', 'gzip, deflate, br'],
];

let seq = 0;
function request(target: string, body?: string, ip = '203.0.113.9'): EdgeRequest {
  const headers: Array<[string, string]> = [...BROWSER];
  if (body !== undefined) headers.push(['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Length', String(Buffer.byteLength(body))]);
  const view: HttpRequestView = {
    method: body === undefined ? 'GET' : 'POST',
    target,
    host: 'shop.example',
    version: 'HTTP/1.1',
    headers,
    clientIp: ip,
    ssl: false,
    timestampMs: Date.now(),
  };
  return { id: `w${++seq}`, view, clientIp: ip, peerIp: ip, headerOrder: headers.map((h) => h[0].toLowerCase()), ruleIds: [] };
}

function options(mode: 'block' | 'detect', exclusions: EdgeWafExclusion[] = [], ruleset: string | null = null): EdgeOptions {
  const o = defaultEdgeOptions();
  o.waf.mode = mode;
  o.waf.exclusions = exclusions;
  if (ruleset !== null) o.ruleset = parseHttpRuleset(ruleset, 'rules.yaml');
  return o;
}

function gate(o: EdgeOptions): EdgeGate {
  return createEdgeGate(o, { counters: new MemoryCounterStore() });
}

/** The whole exchange as the transport drives it: head, then body when asked. */
async function decide(g: EdgeGate, r: EdgeRequest, body?: string): Promise<{ kind: string; status?: number; mitigated?: string; askedBody: boolean }> {
  const h = await g.head(r);
  if (h.kind !== 'body') return { ...h, askedBody: false };
  assert.ok(body !== undefined, 'the body is asked for only when the request has one');
  const bytes = Buffer.from(body);
  const v = await g.body(r, bytes.subarray(0, h.bodyLimit), bytes.length > h.bodyLimit);
  return { ...v, askedBody: true };
}

const SQLI_QUERY = "/products?id=1'%20UNION%20SELECT%20username,password%20FROM%20users--";
const SQLI_FORM = "user=admin&pass=x' OR '1'='1' --";

describe('WAF phase (CRS, paranoia 1)', () => {
  const g = gate(options('block'));

  it('loads the CRS without warnings', () => {
    assert.deepEqual(g.waf?.warnings, []);
  });

  it('blocks SQL injection in the query: 403 waf, the CRS rule ids in the log', async () => {
    const r = request(SQLI_QUERY);
    const v = await decide(g, r);
    assert.equal(v.askedBody, false);
    assert.equal(v.status, 403);
    assert.equal(v.mitigated, 'waf');
    assert.ok(
      r.ruleIds.some((id) => /^waf:942\d{3}$/.test(id)),
      r.ruleIds.join(' '),
    );
    assert.ok(r.ruleIds.includes('waf:949110'), r.ruleIds.join(' '));
  });

  it('asks for a form body and blocks SQL injection in it', async () => {
    const r = request('/login', SQLI_FORM);
    const v = await decide(g, r, SQLI_FORM);
    assert.equal(v.askedBody, true);
    assert.equal(v.status, 403);
    assert.equal(v.mitigated, 'waf');
    assert.ok(
      r.ruleIds.some((id) => id.startsWith('waf:942')),
      r.ruleIds.join(' '),
    );
  });

  it('passes a benign form post and a benign page', async () => {
    const body = 'name=Jane+Doe&email=jane%40example.com&message=Where+is+my+order+%231234%3F+Thanks!';
    const r = request('/contact', body);
    const v = await decide(g, r, body);
    assert.equal(v.askedBody, true);
    assert.equal(v.kind, 'pass');
    assert.deepEqual(r.ruleIds, []);
    const p = request('/products/view?id=1234&category=shoes&sort=price_asc');
    assert.equal((await decide(g, p)).kind, 'pass');
  });

  it('runs after the other phases: an allow rule skips it, a block list answers first', async () => {
    const g2 = createEdgeGate(
      options(
        'block',
        [],
        `
lists:
  drop: { kind: block, entries: [198.51.100.0/24] }
rules:
  - id: trusted-scanner
    expression: http.request.uri.path eq "/products" and ip.src eq 192.0.2.1
    action: allow
`,
      ),
      { waf: g.waf, counters: new MemoryCounterStore() },
    );
    const allowed = request(SQLI_QUERY, undefined, '192.0.2.1');
    assert.equal((await decide(g2, allowed)).kind, 'pass');
    assert.deepEqual(allowed.ruleIds, ['trusted-scanner']);
    const listed = request(SQLI_QUERY, undefined, '198.51.100.1');
    assert.equal((await decide(g2, listed)).mitigated, 'block');
    assert.deepEqual(listed.ruleIds, ['list:drop']);
  });
});

describe('WAF detect mode and exclusions', () => {
  it('detect mode records the matches and lets the request through', async () => {
    const g = gate(options('detect'));
    const r = request(SQLI_QUERY);
    const v = await decide(g, r);
    assert.equal(v.kind, 'pass');
    assert.ok(
      r.ruleIds.some((id) => id.startsWith('waf:942')),
      r.ruleIds.join(' '),
    );
    assert.equal(g.stats.waf_matched, 1);
    assert.equal(g.stats.waf_blocked, 0);
  });

  it('an exclusion per path removes the SQLi rules for that path only; one without a path, everywhere', async () => {
    const g = gate(options('block', [{ pathPrefix: '/search', ids: [], tags: ['attack-sqli'] }]));
    const q = "?q=1'%20UNION%20SELECT%20username,password%20FROM%20users--";
    const excluded = request(`/search${q}`);
    assert.equal((await decide(g, excluded)).kind, 'pass', excluded.ruleIds.join(' '));
    assert.ok(!excluded.ruleIds.some((id) => id.startsWith('waf:942')), excluded.ruleIds.join(' '));
    assert.equal((await decide(g, request(`/products${q}`))).status, 403);
    // In a body too (phase 2).
    const form = request('/search/advanced', SQLI_FORM);
    assert.equal((await decide(g, form, SQLI_FORM)).kind, 'pass');

    const everywhere = gate(options('block', [{ pathPrefix: null, ids: [[942000, 942999]], tags: [] }]));
    assert.equal((await decide(everywhere, request(`/products${q}`))).kind, 'pass');
  });

  it('the options the section maps to: path exclusions as a phase-1 ctl rule, the others as engine exclusions', () => {
    const o = wafOptionsOf({
      enabled: true,
      mode: 'block',
      paranoia: 2,
      bodyLimit: 1000,
      exclusions: [
        { pathPrefix: '/api/', ids: [942100, [920000, 920999]], tags: ['attack-xss'] },
        { pathPrefix: null, ids: [913100], tags: ['paranoia-level/2'] },
      ],
      crsSetup: { dos_burst_time_slice: 60, static_extensions: '/.png/' },
    });
    assert.equal(o.paranoia, 2);
    assert.deepEqual(o.setup, { dos_burst_time_slice: 60, static_extensions: '/.png/' });
    assert.deepEqual(o.exclusions, [{ id: 913100 }, { tag: 'paranoia-level/2' }]);
    assert.equal(
      o.extraConfig,
      'SecRule REQUEST_FILENAME "@beginsWith /api/" "id:4200000,phase:1,pass,nolog,t:none,ctl:ruleRemoveById=942100,ctl:ruleRemoveById=920000-920999,ctl:ruleRemoveByTag=attack-xss"\n',
    );
    assert.deepEqual(createEdgeWaf({ enabled: true, mode: 'block', paranoia: 1, bodyLimit: 1, exclusions: [], crsSetup: {} }).warnings, []);
  });

  it('a body limit of 0 evaluates at the head, without the body', async () => {
    const o = options('block');
    o.waf.bodyLimit = 0;
    const g = gate(o);
    const r = request('/login', SQLI_FORM);
    const v = await decide(g, r);
    assert.equal(v.askedBody, false);
    assert.equal(v.kind, 'pass');
  });

  it("waits for the engine's look-ahead (Waf.prepare: @rbl answers) before evaluating", async () => {
    const order: string[] = [];
    const fake: Waf = {
      warnings: [],
      ruleCount: 1,
      rblZones: ['rbl.test'],
      collections: new MemoryCollectionStore(),
      settled: () => Promise.resolve(),
      prepare: () =>
        new Promise<void>((resolve) =>
          setTimeout(() => {
            order.push('prepared');
            resolve();
          }, 10),
        ),
      evaluate: () => {
        order.push('evaluated');
        return { action: 'block', status: 403, matched: [{ id: 10010, msg: 'listed', data: '', severity: null }], anomaly: { inbound: 0, outbound: 0 } };
      },
    };
    const g = createEdgeGate(options('block'), { waf: fake, counters: new MemoryCounterStore() });
    const r = request('/');
    const pending = g.head(r);
    assert.ok(pending instanceof Promise);
    const v = (await pending) as Respond;
    assert.equal(v.mitigated, 'waf');
    assert.deepEqual(order, ['prepared', 'evaluated']);
    assert.deepEqual(r.ruleIds, ['waf:10010']);
  });

  it('answers JSON to API clients', async () => {
    const g = gate(options('block'));
    const r = request(SQLI_QUERY);
    (r.view.headers as Array<[string, string]>).push(['Accept', 'application/json']);
    (r.view.headers as Array<[string, string]>).splice(2, 1);
    const v = (await g.head(r)) as Respond;
    assert.equal(v.status, 403);
    assert.equal(JSON.parse(String(v.body)).mitigated, 'waf');
  });
});
