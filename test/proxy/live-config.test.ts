/**
 * Live protection's configuration (palisade.yaml `edge.mode` and `edge.live`, src/config/edge.ts):
 * defaults, every key, refusals with file:line:col; LiveL7 built from EdgeOptions; and a config
 * reload: the new gate adopts the old one's runtime entries and live protection follows it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultEdgeOptions, EdgeConfigError, parseEdgeConfig } from '../../src/config/edge.js';
import { parseHttpRuleset } from '../../src/mitigate/http-ruleset.js';
import { LiveL7 } from '../../src/proxy/live/live.js';
import { browsers, edgeOptions, flood, makeGate, play, type Req, Rng, scripts, T0 } from './live-driver.js';

const MIN = 60_000;

describe('edge.live in palisade.yaml', () => {
  it('defaults: auto, 5 s windows, release after 300 s, bounded rules and lists', () => {
    const o = defaultEdgeOptions();
    assert.equal(o.mode, 'auto');
    assert.deepEqual(o.live, {
      windowS: 5,
      releaseAfterS: 300,
      maxRules: 20,
      maxListSize: 10_000,
      minAttackRequests: 100,
      maxCollateral: 0.001,
      rateLimits: true,
      bufferRequests: 200_000,
      replanS: 30,
      decisionsKept: 1000,
      log: 'stderr',
    });
    assert.deepEqual(parseEdgeConfig('edge:\n  mode: suggest\n', '/etc/palisade/palisade.yaml').live, o.live);
  });

  it('every key', () => {
    const o = parseEdgeConfig(
      `edge:
  mode: suggest
  live:
    window_s: 10
    release_after_s: 600
    max_rules: 5
    max_list_size: 500
    min_attack_requests: 1000
    max_collateral: 0.0005
    rate_limits: false
    buffer_requests: 50000
    replan_s: 60
    decisions_kept: 100
    log: decisions.jsonl
`,
      '/etc/palisade/palisade.yaml',
    );
    assert.equal(o.mode, 'suggest');
    assert.deepEqual(o.live, {
      windowS: 10,
      releaseAfterS: 600,
      maxRules: 5,
      maxListSize: 500,
      minAttackRequests: 1000,
      maxCollateral: 0.0005,
      rateLimits: false,
      bufferRequests: 50_000,
      replanS: 60,
      decisionsKept: 100,
      log: '/etc/palisade/decisions.jsonl',
    });
    const live = LiveL7.fromEdgeOptions(makeGate(edgeOptions(), { t: T0 }), o, { sink: null });
    assert.equal(live.mode, 'suggest');
    assert.equal(live.options.releaseAfterS, 600);
    assert.equal(live.recent.capacity, 50_000);
  });

  it('refuses bad values, each with its line and column', () => {
    let err: unknown;
    try {
      parseEdgeConfig('edge:\n  live:\n    max_collateral: 0.01\n    rate_limits: yes please\n    nope: 1\n', 'p.yaml');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof EdgeConfigError);
    const lines = err.message.split('\n');
    assert.equal(lines.length, 3, err.message);
    assert.match(lines[0] as string, /^p\.yaml:3:\d+: .*edge\.live\.max_collateral/);
    assert.match(lines[1] as string, /^p\.yaml:4:\d+: edge\.live\.rate_limits must be true or false/);
    assert.match(lines[2] as string, /^p\.yaml:5:\d+: unknown key edge\.live\.nope/);
  });
});

describe('a config reload', () => {
  it('the new gate adopts the runtime entries (times kept, refused ones named); live protection follows it and releases there', async () => {
    const clock = { t: T0 };
    const o = edgeOptions();
    const first = makeGate(o, clock);
    const live = LiveL7.fromEdgeOptions(first, o, { now: () => clock.t, sink: null });
    live.attach();
    const rng = new Rng(3);
    const reqs: Req[] = [];
    const end = T0 + 12 * MIN;
    browsers(rng, reqs, 300, T0, end);
    scripts(rng, reqs, T0, end);
    flood(rng, reqs, { bots: 300, from: T0 + 4 * MIN, to: T0 + 6 * MIN, rate: 1.2, trait: 'ua' });
    const cut = T0 + 5 * MIN;
    reqs.sort((a, b) => a.t - b.t);
    await play(
      first,
      clock,
      reqs.filter((r) => r.t < cut),
      { onSecond: (t) => live.tick(t) },
    );
    const installed = first.runtime.list();
    assert.equal(installed.length, 1);
    // An admin entry whose id the new config takes for one of its rules is refused, by name.
    first.runtime.addCustomRule({ id: 'office-only', origin: 'admin', expression: 'http.request.uri.path eq "/office"', action: 'block' });
    const o2 = edgeOptions();
    o2.ruleset = parseHttpRuleset('rules:\n  - { id: office-only, expression: \'http.request.uri.path eq "/x"\', action: log }\n', 'r.yaml');
    const second = makeGate(o2, clock);
    const refused = second.runtime.adopt(first.runtime.list());
    assert.deepEqual(
      refused.map((r) => r.entry.id),
      ['office-only'],
    );
    assert.match(refused[0]?.reason as string, /rule of the configuration/);
    const moved = second.runtime.get(installed[0]?.id as string);
    assert.equal(moved?.createdMs, installed[0]?.createdMs);
    assert.equal(moved?.origin, installed[0]?.origin);
    live.rebind(second);
    const after = await play(
      second,
      clock,
      reqs.filter((r) => r.t >= cut),
      { onSecond: (t) => live.tick(t) },
    );
    assert.ok(after.all.flood.stopped / after.all.flood.sent >= 0.99);
    clock.t = end;
    live.tick(end);
    assert.deepEqual(
      live.decisions().map((d) => d.kind),
      ['install', 'release'],
    );
    assert.equal(second.runtime.size, 0);
  });
});

describe('a reload that changes edge.mode and edge.live', () => {
  it('suggest → auto installs at the next window; auto → suggest removes it (a release); sizes stay as started', async () => {
    const clock = { t: T0 };
    const o = edgeOptions((x) => {
      x.mode = 'suggest';
    });
    const gate = makeGate(o, clock);
    const live = LiveL7.fromEdgeOptions(gate, o, { now: () => clock.t, sink: null });
    live.attach();
    const rng = new Rng(5);
    const reqs: Req[] = [];
    const end = T0 + 8 * MIN;
    browsers(rng, reqs, 300, T0, end);
    scripts(rng, reqs, T0, end);
    flood(rng, reqs, { bots: 300, from: T0 + 4 * MIN, to: end, rate: 1.2, trait: 'ua' });
    reqs.sort((a, b) => a.t - b.t);
    const tick = { onSecond: (t: number) => live.tick(t) };
    const a = T0 + 5 * MIN;
    const b = T0 + 6 * MIN;
    await play(
      gate,
      clock,
      reqs.filter((r) => r.t < a),
      tick,
    );
    assert.equal(gate.runtime.size, 0);
    const auto = edgeOptions((x) => {
      x.mode = 'auto';
      x.live.maxRules = 5;
      x.live.windowS = 10;
    });
    assert.deepEqual(live.reconfigure(auto, clock.t), ['edge.live.window_s']);
    assert.equal(live.options.maxRules, 5);
    assert.equal(live.options.windowS, 5);
    const mid = await play(
      gate,
      clock,
      reqs.filter((r) => r.t >= a && r.t < b),
      tick,
    );
    assert.equal(gate.runtime.size, 1);
    assert.ok(mid.all.flood.stopped / mid.all.flood.sent >= 0.9);
    live.reconfigure(
      edgeOptions((x) => (x.mode = 'suggest')),
      clock.t,
    );
    assert.equal(gate.runtime.size, 0);
    const after = await play(
      gate,
      clock,
      reqs.filter((r) => r.t >= b),
      tick,
    );
    assert.equal(after.all.flood.stopped, 0);
    const ks = live.decisions().map((d) => (d.kind === 'suggest' ? `suggest:${d.would}` : d.kind));
    assert.deepEqual(ks.slice(0, 3), ['suggest:install', 'install', 'release']);
    assert.match(live.decisions()[2]?.reason as string, /edge\.mode is now suggest/);
    assert.ok(ks.slice(3).every((k) => k.startsWith('suggest:')) && ks.length > 3, ks.join(' '));
  });

  it('started off stays off', () => {
    const o = edgeOptions((x) => (x.mode = 'off'));
    const live = LiveL7.fromEdgeOptions(makeGate(o, { t: T0 }), o, { sink: null });
    assert.deepEqual(live.reconfigure(edgeOptions()), ['edge.mode']);
    assert.equal(live.mode, 'off');
  });
});

describe('a failure inside live protection', () => {
  it('is counted and written to the sink, never thrown into the request path', () => {
    const clock = { t: T0 };
    const gate = makeGate(edgeOptions(), clock);
    const broken = {
      observe: gate.observe,
      allowListed: gate.allowListed,
      runtime: new Proxy(gate.runtime, {
        get(target, key, recv) {
          if (key === 'expire')
            return () => {
              throw new Error('store gone');
            };
          return Reflect.get(target, key, recv);
        },
      }),
    };
    const lines: string[] = [];
    const live = new LiveL7(broken, { mode: 'auto' }, { now: () => clock.t, sink: (l) => lines.push(l) });
    const req = {
      id: 'r1',
      view: { method: 'GET', target: '/', host: 'h', version: 'HTTP/1.1', headers: [], clientIp: '192.0.2.1', ssl: false, timestampMs: 0 },
      clientIp: '192.0.2.1',
      peerIp: '192.0.2.1',
      headerOrder: [],
      ruleIds: [],
    };
    assert.doesNotThrow(() => live.observe(req, { status: 200, by: 'origin', bytesIn: 0, bytesOut: 0, durationMs: 1 }));
    assert.equal(live.failures, 1);
    assert.equal(JSON.parse(lines[0] as string).event, 'live_l7_error');
    assert.match(JSON.parse(lines[0] as string).message, /store gone/);
  });
});
