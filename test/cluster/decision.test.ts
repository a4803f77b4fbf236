/**
 * The Decision message (cluster/decisions.ts): what the validator refuses (each with the field it
 * names), and applying to a real gate's runtime rules — origin cluster:<node>, enforcement, the
 * same decision twice changing nothing, an expired one ignored, an older one than what is in force
 * ignored, an expression that does not compile refused with the rules untouched, removes, and
 * entries of the admin or live protection never touched by a decision.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Decision, DecisionApplier, DecisionError, newDecision, parseDecision } from '../../src/cluster/decisions.js';
import { defaultEdgeOptions } from '../../src/config/edge.js';
import { MemoryCounterStore } from '../../src/proxy/counters/memory.js';
import type { EdgeRequest, HeadVerdict, Respond } from '../../src/proxy/gate.js';
import { createEdgeGate, type EdgeGate } from '../../src/proxy/phases/pipeline.js';
import type { HttpRequestView } from '../../src/scheme/http.js';

const T0 = 1_700_000_000_000;
const CORRELATOR = { site: 'eu', node: 'corr-1', role: 'correlator' as const };

function gate(clock: { t: number }): EdgeGate {
  const o = defaultEdgeOptions();
  o.waf.enabled = false;
  return createEdgeGate(o, { waf: null, counters: new MemoryCounterStore(), now: () => clock.t });
}

let seq = 0;
function status(g: EdgeGate, ip: string, target = '/'): number {
  const hs: Array<[string, string]> = [['Host', 'shop.example']];
  const view: HttpRequestView = { method: 'GET', target, host: 'shop.example', version: 'HTTP/1.1', headers: hs, clientIp: ip, ssl: false, timestampMs: 0 };
  const r: EdgeRequest = { id: `q${++seq}`, view, clientIp: ip, peerIp: ip, headerOrder: ['host'], ruleIds: [] };
  const v = g.head(r) as HeadVerdict;
  assert.ok(!(v instanceof Promise));
  return v.kind === 'respond' ? (v as Respond).status : 200;
}

function blockIp(id: string, ip: string, at: number, expiresMs: number | null = at + 600_000): Decision {
  return newDecision(CORRELATOR, 'add', { id, spec: { type: 'list', id: 'corr-list-1', entries: [ip], expiresMs }, reason: 'carpet bombing', alert_id: 'a1' }, at);
}

describe('decision validation', () => {
  const good = blockIp('d1', '192.0.2.9', T0);
  const bad: Array<[string, unknown, RegExp]> = [
    ['not an object', 'x', /not a JSON object/],
    ['version', { ...good, v: 2 }, /unknown version 2/],
    ['id', { ...good, id: 'a b' }, /id "a b"/],
    ['time', { ...good, time: 'yesterday' }, /time must be an ISO-8601/],
    ['from', { ...good, from: null }, /from must be/],
    ['role', { ...good, from: { ...CORRELATOR, role: 'boss' } }, /from.role/],
    ['site', { ...good, from: { ...CORRELATOR, site: 'a.b' } }, /from.site/],
    ['op', { ...good, op: 'replace' }, /op must be add or remove/],
    ['add without spec', { ...good, spec: undefined }, /an add carries a spec/],
    ['spec type', { ...good, spec: { type: 'nft', id: 'x' } }, /spec.type/],
    ['list entries', { ...good, spec: { type: 'list', id: 'x', entries: [] } }, /entries must be a non-empty list/],
    ['rule expression', { ...good, spec: { type: 'custom_rule', id: 'x', action: 'block' } }, /spec.expression/],
    ['expiry', { ...good, spec: { ...good.spec, expiresMs: 'soon' } }, /expiresMs/],
    ['remove without ruleId', { ...good, op: 'remove', spec: undefined }, /a remove names ruleId/],
  ];
  for (const [what, input, message] of bad)
    it(`refuses a bad ${what} with a DecisionError naming it`, () => {
      assert.throws(
        () => parseDecision(input),
        (e: unknown) => e instanceof DecisionError && e.code === 'E_FORMAT' && message.test(e.message),
      );
    });
  it('accepts a good one as it is (a JSON round trip)', () => {
    assert.deepEqual(parseDecision(JSON.parse(JSON.stringify(good))), good);
  });
  it('accepts the shape correlator-run.ts publishes (spec with its own origin and a description)', () => {
    const d = parseDecision({
      v: 1,
      id: 'cluster-http_flood_shop.example_fields',
      time: new Date(T0).toISOString(),
      from: { site: 'eu', node: 'corr-1', role: 'correlator' },
      op: 'add',
      spec: {
        type: 'list',
        id: 'cluster-http_flood_shop.example_fields',
        origin: 'cluster:corr-1',
        entries: ['192.0.2.9', '198.51.100.0/24'],
        expiresMs: T0 + 600_000,
        description: 'http_flood on shop.example (found by edge-1)',
      },
      reason: 'http_flood alert a-1 from edge-1',
      alert_id: 'a-1',
    });
    const clock = { t: T0 };
    const g = gate(clock);
    assert.equal(new DecisionApplier(g.runtime, () => clock.t).apply(d).status, 'applied');
    assert.equal(status(g, '198.51.100.77'), 403);
    assert.equal(g.runtime.get('cluster-http_flood_shop.example_fields')?.description, 'http_flood on shop.example (found by edge-1)');
  });
});

describe('applying decisions', () => {
  it('installs with origin cluster:<node>, enforces, and the same decision twice changes nothing', () => {
    const clock = { t: T0 };
    const g = gate(clock);
    const a = new DecisionApplier(g.runtime, () => clock.t);
    assert.equal(status(g, '192.0.2.9'), 200);
    const d = blockIp('d1', '192.0.2.9', T0);
    assert.equal(a.apply(d).status, 'applied');
    assert.equal(status(g, '192.0.2.9'), 403);
    assert.equal(status(g, '192.0.2.10'), 200);
    const e = g.runtime.get('corr-list-1');
    assert.equal(e?.origin, 'cluster:corr-1');
    assert.equal(e?.expiresMs, T0 + 600_000);
    const version = g.runtime.version;
    assert.equal(a.apply(d).status, 'duplicate');
    // The same content from the store after a restart (a fresh applier): nothing recompiled either.
    assert.equal(new DecisionApplier(g.runtime, () => clock.t).apply(structuredClone(d)).status, 'duplicate');
    assert.equal(g.runtime.version, version);
    assert.equal(g.runtime.size, 1);
  });

  it('ignores an expired add, and the gate drops an entry once its expiry passes', () => {
    const clock = { t: T0 };
    const g = gate(clock);
    const a = new DecisionApplier(g.runtime, () => clock.t);
    assert.equal(a.apply(blockIp('old', '192.0.2.9', T0 - 700_000, T0 - 100_000)).status, 'expired');
    assert.equal(g.runtime.size, 0);
    assert.equal(a.apply(blockIp('d2', '192.0.2.9', T0, T0 + 1000)).status, 'applied');
    assert.equal(status(g, '192.0.2.9'), 403);
    clock.t = T0 + 1001;
    assert.equal(status(g, '192.0.2.9'), 200);
    assert.equal(g.runtime.size, 0);
  });

  it('refuses a rule that does not compile and leaves the rules in force as they were', () => {
    const clock = { t: T0 };
    const g = gate(clock);
    const a = new DecisionApplier(g.runtime, () => clock.t);
    a.apply(blockIp('d1', '192.0.2.9', T0));
    const before = JSON.stringify(g.runtime.list());
    const version = g.runtime.version;
    const broken = newDecision(
      CORRELATOR,
      'add',
      { id: 'd3', spec: { type: 'custom_rule', id: 'corr-rule', expression: 'http.request.uri.path eq', action: 'block' }, reason: 'x' },
      T0,
    );
    const r = a.apply(broken);
    assert.equal(r.status, 'refused');
    assert.match(r.message, /corr-rule refused, nothing changed/);
    // A replacement of the list by a bad prefix: refused too, the old list still enforced.
    const badList = newDecision(CORRELATOR, 'add', { id: 'd4', spec: { type: 'list', id: 'corr-list-1', entries: ['300.1.2.3'] }, reason: 'x' }, T0 + 1);
    assert.equal(a.apply(badList).status, 'refused');
    assert.equal(JSON.stringify(g.runtime.list()), before);
    assert.equal(g.runtime.version, version);
    assert.equal(status(g, '192.0.2.9'), 403);
    assert.equal(a.stats.refused, 2);
  });

  it('replaces with a newer decision about the same rule, ignores an older one, removes', () => {
    const clock = { t: T0 };
    const g = gate(clock);
    const a = new DecisionApplier(g.runtime, () => clock.t);
    a.apply(blockIp('d1', '192.0.2.9', T0));
    const grown = newDecision(
      CORRELATOR,
      'add',
      { id: 'd1', spec: { type: 'list', id: 'corr-list-1', entries: ['192.0.2.9', '192.0.2.10'], expiresMs: T0 + 900_000 }, reason: 'grew' },
      T0 + 5000,
    );
    assert.equal(a.apply(grown).status, 'applied');
    assert.equal(status(g, '192.0.2.10'), 403);
    // The first version again (a store snapshot read before the update): older, ignored.
    assert.equal(a.apply(blockIp('d0', '192.0.2.9', T0 - 1)).status, 'stale');
    assert.equal(status(g, '192.0.2.10'), 403);
    const rm = newDecision(CORRELATOR, 'remove', { id: 'd5', ruleId: 'corr-list-1', reason: 'attack over' }, T0 + 6000);
    assert.equal(a.apply(rm).status, 'applied');
    assert.equal(status(g, '192.0.2.9'), 200);
    assert.equal(a.apply(rm).status, 'duplicate');
    assert.equal(a.apply(newDecision(CORRELATOR, 'remove', { id: 'd6', ruleId: 'corr-list-1', reason: 'again' }, T0 + 7000)).status, 'absent');
  });

  it('never replaces or removes an entry of the admin or of live protection', () => {
    const clock = { t: T0 };
    const g = gate(clock);
    g.runtime.addList({ id: 'corr-list-1', origin: 'admin', entries: ['198.51.100.1'] });
    const a = new DecisionApplier(g.runtime, () => clock.t);
    assert.equal(a.apply(blockIp('d1', '192.0.2.9', T0)).status, 'refused');
    assert.equal(a.apply(newDecision(CORRELATOR, 'remove', { id: 'd2', ruleId: 'corr-list-1', reason: 'x' }, T0)).status, 'refused');
    assert.equal(g.runtime.get('corr-list-1')?.origin, 'admin');
    assert.equal(status(g, '198.51.100.1'), 403);
  });

  it('applies a rate limit and a custom rule as the runtime rules take them', () => {
    const clock = { t: T0 };
    const g = gate(clock);
    const a = new DecisionApplier(g.runtime, () => clock.t);
    const rule = newDecision(
      CORRELATOR,
      'add',
      { id: 'r1', spec: { type: 'custom_rule', id: 'corr-wp', expression: 'starts_with(http.request.uri.path, "/wp-")', action: 'block' }, reason: 'scanner' },
      T0,
    );
    const rate = newDecision(
      CORRELATOR,
      'add',
      {
        id: 'r2',
        spec: {
          type: 'rate_limit',
          id: 'corr-rate',
          expression: 'http.request.uri.path eq "/api"',
          action: 'block',
          characteristics: ['ip.src'],
          period: 10,
          requestsPerPeriod: 3,
          mitigationTimeout: 0,
        },
        reason: 'flood',
      },
      T0,
    );
    assert.equal(a.apply(rule).status, 'applied');
    const rr = a.apply(rate);
    assert.equal(rr.status, 'applied', rr.message);
    assert.equal(status(g, '192.0.2.1', '/wp-login.php'), 403);
    assert.equal(g.runtime.get('corr-rate')?.origin, 'cluster:corr-1');
  });
});
