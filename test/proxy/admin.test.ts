/**
 * The edge's admin listener (src/proxy/admin/) with a real gate and real HTTP requests: rules
 * added and removed at run time change what the gate answers; /metrics counts what the gate
 * observed and passes `promtool check metrics` (Prometheus's own checker, Debian `prometheus`);
 * the token, the loopback-only default, and bad requests (not JSON, bad expression, too large,
 * unknown route) answered with a clear status.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { defaultEdgeOptions } from '../../src/config/edge.js';
import { EdgeMetrics } from '../../src/proxy/admin/metrics.js';
import { type AdminServer, MAX_ADMIN_BODY, startAdmin } from '../../src/proxy/admin/server.js';
import { MemoryCounterStore } from '../../src/proxy/counters/memory.js';
import type { EdgeRequest, Respond } from '../../src/proxy/gate.js';
import { createEdgeGate, type EdgeGate } from '../../src/proxy/phases/pipeline.js';
import type { HttpRequestView } from '../../src/scheme/http.js';

let seq = 0;
function request(ip: string, target = '/'): EdgeRequest {
  const hs: Array<[string, string]> = [
    ['Host', 'shop.example'],
    ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0'],
  ];
  const view: HttpRequestView = { method: 'GET', target, host: 'shop.example', version: 'HTTP/1.1', headers: hs, clientIp: ip, ssl: false, timestampMs: Date.now() };
  return { id: `req-${++seq}`, view, clientIp: ip, peerIp: ip, headerOrder: hs.map((h) => h[0].toLowerCase()), ruleIds: [] };
}

const promtool = spawnSync('sh', ['-c', 'command -v promtool']).status === 0;

describe('admin API', { timeout: 60_000 }, () => {
  let gate: EdgeGate;
  let admin: AdminServer;
  const metrics = new EdgeMetrics();
  const audit: string[] = [];

  before(async () => {
    const o = defaultEdgeOptions();
    o.waf.enabled = false;
    gate = createEdgeGate(o, { waf: null, counters: new MemoryCounterStore() });
    gate.observe((req, outcome) => metrics.observe(req.ruleIds, outcome));
    admin = await startAdmin({ host: '127.0.0.1', port: 0 }, { gate, metrics, audit: (l) => audit.push(l), decisions: () => [{ event: 'install', attack: 'l7-1' }] });
  });
  after(async () => {
    await admin.close();
  });

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${admin.url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('a rule added over the API blocks at once; removed, it lets the request through again', async () => {
    assert.equal((await gate.head(request('203.0.113.9', '/wp-admin'))).kind, 'pass');
    const add = await call('POST', '/api/rules', { type: 'custom_rule', id: 'no-wp', expression: 'starts_with(http.request.uri.path, "/wp-")', action: 'block', ttl_s: 600 });
    assert.equal(add.status, 201, await add.clone().text());
    const added = (await add.json()) as { rule: { id: string; origin: string; expiresMs: number } };
    assert.equal(added.rule.origin, 'admin');
    assert.ok(added.rule.expiresMs > Date.now() + 590_000);
    const r = request('203.0.113.9', '/wp-admin');
    const v = (await gate.head(r)) as Respond;
    assert.equal(v.kind, 'respond');
    assert.equal(v.status, 403);
    assert.deepEqual(r.ruleIds, ['no-wp']);
    const listed = (await (await call('GET', '/api/rules')).json()) as { rules: Array<{ id: string }> };
    assert.deepEqual(
      listed.rules.map((x) => x.id),
      ['no-wp'],
    );
    const del = await call('DELETE', '/api/rules/no-wp');
    assert.equal(del.status, 200);
    assert.equal((await gate.head(request('203.0.113.9', '/wp-admin'))).kind, 'pass');
    assert.equal((await call('DELETE', '/api/rules/no-wp')).status, 404);
    assert.deepEqual(
      audit.map((l) => (JSON.parse(l) as { event: string }).event),
      ['admin_add', 'admin_remove'],
    );
  });

  it('block-list entries over the API', async () => {
    const add = await call('POST', '/api/rules', { type: 'list', id: 'bots', entries: ['198.51.100.0/24'] });
    assert.equal(add.status, 201, await add.clone().text());
    assert.equal(((await gate.head(request('198.51.100.77'))) as Respond).status, 403);
    assert.equal((await gate.head(request('198.51.101.77'))).kind, 'pass');
    assert.equal((await call('DELETE', '/api/rules/bots')).status, 200);
  });

  it('bad requests get a clear status and message', async () => {
    const bad = await call('POST', '/api/rules', { type: 'custom_rule', id: 'x', expression: 'http.nope eq 1', action: 'block' });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /nope|unknown|field/i);
    assert.equal((await call('POST', '/api/rules', '{not json')).status, 400);
    assert.equal((await call('POST', '/api/rules', 'x', { 'content-type': 'text/plain' })).status, 415);
    assert.equal((await call('POST', '/api/rules', JSON.stringify({ pad: 'a'.repeat(MAX_ADMIN_BODY) }))).status, 413);
    assert.equal((await call('POST', '/api/rules', { type: 'custom_rule', id: 'has space', expression: 'true', action: 'block' })).status, 400);
    assert.equal((await call('GET', '/nope')).status, 404);
    assert.equal((await gate.runtime.list()).length, 0, 'nothing half-installed');
  });

  it('/metrics counts what the gate observed, in a format promtool accepts', { skip: !promtool && 'promtool (Debian prometheus) not installed' }, async () => {
    const before = await (await call('GET', '/metrics')).text();
    for (let i = 0; i < 5; i++) {
      const r = request('203.0.113.10');
      metrics.observe(r.ruleIds, { status: 200, by: 'origin', bytesIn: 100, bytesOut: 2000, durationMs: 3 + i, originMs: 2 });
    }
    metrics.observe(['no-wp'], { status: 403, by: 'phase', mitigated: 'block', bytesIn: 100, bytesOut: 200, durationMs: 0.2 });
    metrics.observe([], { status: 502, by: 'transport', bytesIn: 100, bytesOut: 200, durationMs: 5000, error: 'origin_down' });
    const res = await call('GET', '/metrics');
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.notEqual(text, before);
    assert.match(text, /^palisade_edge_responses_total\{by="origin",mitigated="none",class="2xx"\} 5$/m);
    assert.match(text, /^palisade_edge_responses_total\{by="phase",mitigated="block",class="4xx"\} 1$/m);
    assert.match(text, /^palisade_edge_rule_matches_total\{rule="no-wp"\} 1$/m);
    assert.match(text, /^palisade_edge_request_duration_seconds_bucket\{le="\+Inf"\} 7$/m);
    assert.match(text, /^palisade_edge_request_duration_seconds_bucket\{le="0\.005"\} 4$/m, 'cumulative buckets: 0.2, 3, 4 and 5 ms are at most 5 ms');
    assert.match(text, /^palisade_edge_exchange_errors_total\{error="origin_down"\} 1$/m);
    assert.match(text, /^palisade_edge_phase_decisions_total\{decision="rule_blocked"\} \d+$/m);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  });

  it('health, stats and the decisions of live protection', async () => {
    assert.equal(((await (await call('GET', '/api/health')).json()) as { ok: boolean }).ok, true);
    const s = (await (await call('GET', '/api/stats')).json()) as { gate: { requests: number } };
    assert.ok(s.gate.requests > 0);
    assert.deepEqual(((await (await call('GET', '/api/decisions')).json()) as { decisions: unknown[] }).decisions, [{ event: 'install', attack: 'l7-1' }]);
  });
});

describe('admin access', { timeout: 30_000 }, () => {
  const o = defaultEdgeOptions();
  o.waf.enabled = false;
  const gate = createEdgeGate(o, { waf: null, counters: new MemoryCounterStore() });

  it('with a token, every request must carry it', async () => {
    const admin = await startAdmin({ host: '127.0.0.1', port: 0, token: 's3cret-token' }, { gate, metrics: new EdgeMetrics(), audit: () => {} });
    try {
      assert.equal((await fetch(`${admin.url}/api/health`)).status, 401);
      assert.equal((await fetch(`${admin.url}/api/health`, { headers: { authorization: 'Bearer wrong-token!' } })).status, 401);
      assert.equal((await fetch(`${admin.url}/api/health`, { headers: { authorization: 'Bearer s3cret-token' } })).status, 200);
    } finally {
      await admin.close();
    }
  });

  it('off loopback without a token it refuses to start', async () => {
    await assert.rejects(startAdmin({ host: '0.0.0.0', port: 0 }, { gate, metrics: new EdgeMetrics() }), /needs a token/);
  });
});
