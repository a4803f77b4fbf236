/**
 * Rate-limit counters in Redis (src/proxy/counters/redis.ts) against a real Redis: the machine's
 * shared one at 127.0.0.1:6379 when it answers (keys under a prefix unique to this run, deleted
 * after), else one this test starts. Two gates, each with its own store, enforce one limit
 * together; the script agrees with the memory store; and a Redis of this test's own, killed
 * mid-test, shows fail open and fail closed, bounded by the timeout, logged once per transition.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { defaultEdgeOptions, type EdgeOptions } from '../../src/config/edge.js';
import { parseHttpRuleset } from '../../src/mitigate/http-ruleset.js';
import { MemoryCounterStore } from '../../src/proxy/counters/memory.js';
import { RedisCounterStore } from '../../src/proxy/counters/redis.js';
import { type CounterOp, newResult } from '../../src/proxy/counters/store.js';
import type { EdgeRequest, HeadVerdict, Respond } from '../../src/proxy/gate.js';
import { createEdgeGate } from '../../src/proxy/phases/pipeline.js';
import { deleteKeys, freePort, SHARED_URL, startRedis, stopAll, testRedisUrl } from './redis-server.js';

const PREFIX = `palisade-test:${process.pid}:${Date.now()}:`;
const stores: RedisCounterStore[] = [];
let sharedUrl = SHARED_URL;

/**
 * A store on the shared Redis. The correctness tests give it a generous timeout: the machine's
 * two cores are shared, and a round trip over 100 ms would read as Redis down (fail open) and
 * let a request through that the limit should stop. The failure tests set their own.
 */
function store(opts: ConstructorParameters<typeof RedisCounterStore>[0] = {}): RedisCounterStore {
  const s = new RedisCounterStore({ url: sharedUrl, prefix: PREFIX, timeoutMs: 2000, failMode: 'closed', log: (m) => assert.fail(`unexpected: ${m}`), ...opts });
  stores.push(s);
  return s;
}

before(async () => {
  sharedUrl = await testRedisUrl();
});

after(async () => {
  // Delete this run's keys from the shared Redis, close every connection, stop our servers.
  await deleteKeys(sharedUrl, PREFIX);
  for (const s of stores) await s.close();
  stopAll();
});

let seq = 0;
function request(ip: string, target = '/api/items'): EdgeRequest {
  const view = { method: 'GET', target, host: 'h', version: 'HTTP/1.1', headers: [['Host', 'h']] as Array<[string, string]>, clientIp: ip, ssl: false, timestampMs: 0 };
  return { id: `r${++seq}`, view, clientIp: ip, peerIp: ip, headerOrder: ['host'], ruleIds: [] };
}

function options(rpp: number, period: number, timeout: number): EdgeOptions {
  const o = defaultEdgeOptions();
  o.waf.enabled = false;
  o.ruleset = parseHttpRuleset(
    `rules:
  - id: api-${rpp}-${period}-${timeout}-${seq++}
    expression: starts_with(http.request.uri.path, "/api/")
    action: block
    ratelimit: { characteristics: [ip.src], period: ${period}, requests_per_period: ${rpp}, mitigation_timeout: ${timeout} }
`,
    'rules.yaml',
  );
  return o;
}

const status = (v: HeadVerdict): number => (v.kind === 'respond' ? v.status : 200);

describe('two proxies share one limit through Redis', () => {
  it('a client alternating between two gates is limited at the configured rate (±10 %), not twice it', async () => {
    const o = options(50, 60, 0);
    const clock = { t: 1_800_000_000_000 };
    const a = createEdgeGate(o, { waf: null, counters: store(), now: () => clock.t });
    const b = createEdgeGate(o, { waf: null, counters: store(), now: () => clock.t });
    for (const g of [a, b]) await (g.counters as RedisCounterStore).ready();
    // 200 requests within one window, alternating: 50 pass.
    let passed = 0;
    for (let i = 0; i < 200; i++) {
      if (status(await (i % 2 === 0 ? a : b).head(request('198.51.100.10'))) === 200) passed++;
      clock.t += 100;
    }
    assert.ok(Math.abs(passed - 50) <= 5, `${passed} passed of 200 (limit 50 per period)`);
    // Without the shared store each proxy would have let its own 50 through.
    const m1 = createEdgeGate(o, { waf: null, counters: new MemoryCounterStore(), now: () => clock.t });
    const m2 = createEdgeGate(o, { waf: null, counters: new MemoryCounterStore(), now: () => clock.t });
    let apart = 0;
    for (let i = 0; i < 200; i++) if (status(await (i % 2 === 0 ? m1 : m2).head(request('198.51.100.10'))) === 200) apart++;
    assert.equal(apart, 100);
  });

  it('concurrent requests on both gates: the script is atomic, exactly the limit passes', async () => {
    const o = options(40, 60, 30);
    const clock = { t: 1_800_000_100_000 };
    const a = createEdgeGate(o, { waf: null, counters: store(), now: () => clock.t });
    const b = createEdgeGate(o, { waf: null, counters: store(), now: () => clock.t });
    for (const g of [a, b]) await (g.counters as RedisCounterStore).ready();
    const verdicts = await Promise.all(Array.from({ length: 160 }, (_, i) => (i % 2 === 0 ? a : b).head(request('198.51.100.11'))));
    const passed = verdicts.filter((v) => v.kind === 'pass').length;
    assert.equal(passed, 40);
    const limited = verdicts.find((v) => v.kind === 'respond') as Respond;
    assert.equal(limited.status, 429);
    assert.equal(limited.headers?.find((h) => h[0] === 'retry-after')?.[1], '30');
    // The mitigation timeout holds on the other gate too, counting down; other clients pass.
    clock.t += 20_000;
    const held = (await b.head(request('198.51.100.11'))) as Respond;
    assert.equal(held.status, 429);
    assert.equal(held.headers?.find((h) => h[0] === 'retry-after')?.[1], '10');
    assert.equal(status(await a.head(request('198.51.100.12'))), 200);
  });

  it('a counting expression on the response status counts through Redis: failures on either proxy add up', async () => {
    const o = defaultEdgeOptions();
    o.waf.enabled = false;
    o.ruleset = parseHttpRuleset(
      `rules:
  - id: stuffing-${seq++}
    expression: http.request.uri.path eq "/login"
    action: block
    ratelimit:
      characteristics: [ip.src]
      period: 60
      requests_per_period: 4
      mitigation_timeout: 120
      counting_expression: http.response.code eq 401
`,
      'rules.yaml',
    );
    const clock = { t: 1_800_000_300_000 };
    const a = createEdgeGate(o, { waf: null, counters: store(), now: () => clock.t });
    const b = createEdgeGate(o, { waf: null, counters: store(), now: () => clock.t });
    for (const g of [a, b]) await (g.counters as RedisCounterStore).ready();
    const seen: number[] = [];
    for (let i = 0; i < 7; i++) {
      const g = i % 2 === 0 ? a : b;
      const r = request('198.51.100.20', '/login');
      const v = await g.head(r);
      seen.push(status(v));
      if (v.kind !== 'respond') g.response(r, 401);
      // response() counts in the background: let the round trip finish before the next request.
      await new Promise((res) => setTimeout(res, 20));
      clock.t += 1000;
    }
    // Five failures put the count over four; the sixth login is refused, on whichever proxy.
    assert.deepEqual(seen, [200, 200, 200, 200, 200, 429, 429]);
  });

  it('the Lua script gives the memory store answers, op by op (windows, timeouts, Retry-After)', async () => {
    const r = store();
    await r.ready();
    const m = new MemoryCounterStore();
    const outR = [newResult(), newResult()];
    const outM = [newResult(), newResult()];
    let t = 1_800_000_200_000;
    let x = 777;
    for (let i = 0; i < 600; i++) {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      t += x % 700;
      const ops: CounterOp[] = [
        { key: `eq-a-${x % 2}`, periodMs: 10_000, limit: 6, timeoutMs: 0, count: x % 4 !== 0 },
        { key: `eq-b-${x % 3}`, periodMs: 5_000, limit: 4, timeoutMs: 7_000, count: x % 3 !== 0 },
      ];
      await r.apply(ops, 2, t, outR);
      m.apply(ops, 2, t, outM);
      for (let k = 0; k < 2; k++) {
        assert.equal(outR[k]?.failed, false, `op ${k} of step ${i}: redis answered`);
        assert.equal(outR[k]?.limited, outM[k]?.limited, `op ${k} of step ${i}`);
        assert.ok(
          Math.abs((outR[k]?.retryAfterMs ?? 0) - (outM[k]?.retryAfterMs ?? 0)) <= 1,
          `retry of op ${k} at step ${i}: ${outR[k]?.retryAfterMs} vs ${outM[k]?.retryAfterMs}`,
        );
      }
    }
  });
});

describe('Redis down mid-test', () => {
  let port = 0;
  let server: ChildProcess;
  before(async () => {
    port = await freePort();
    server = await startRedis(port);
  });

  it('a Redis that stalls costs a request at most the timeout: fail open passes it, fail closed refuses it', async () => {
    const o = options(1000, 60, 0);
    const url = `redis://127.0.0.1:${port}`;
    const logs: string[] = [];
    const open = createEdgeGate(o, { waf: null, counters: store({ url, failMode: 'open', timeoutMs: 250, log: (m) => logs.push(m) }) });
    const closed = createEdgeGate(o, { waf: null, counters: store({ url, failMode: 'closed', timeoutMs: 250, log: (m) => logs.push(m) }) });
    for (const g of [open, closed]) await (g.counters as RedisCounterStore).ready();
    assert.equal(status(await closed.head(request('192.0.2.2'))), 200);
    // The server sleeps 700 ms (blocking every client), as a Redis stuck on a slow command would.
    const admin = new Redis(url, { maxRetriesPerRequest: 0 });
    admin.on('error', () => {});
    const sleeping = admin.call('DEBUG', 'SLEEP', '0.7').catch(() => {});
    await new Promise((res) => setTimeout(res, 50));
    const t0 = performance.now();
    const [a, b] = await Promise.all([open.head(request('192.0.2.2')), closed.head(request('192.0.2.2'))]);
    const ms = performance.now() - t0;
    assert.equal(a.kind, 'pass');
    assert.equal((b as Respond).status, 503);
    assert.ok(ms < 650, `answered in ${ms.toFixed(0)} ms while Redis slept 700 ms`);
    await sleeping;
    admin.disconnect();
    // Once Redis answers again, so do the stores, and they say so.
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(status(await closed.head(request('192.0.2.2'))), 200);
    assert.equal(status(await open.head(request('192.0.2.2'))), 200);
    assert.equal(logs.filter((m) => /redis unavailable/.test(m)).length, 2, logs.join('\n'));
    assert.equal(logs.filter((m) => /redis is back/.test(m)).length, 2, logs.join('\n'));
  });

  it('fail open lets requests through, fail closed refuses them (503), never waiting past the timeout; each transition logged once', async () => {
    const o = options(1000, 60, 0);
    const logs: { open: string[]; closed: string[] } = { open: [], closed: [] };
    const url = `redis://127.0.0.1:${port}`;
    const open = createEdgeGate(o, { waf: null, counters: store({ url, failMode: 'open', timeoutMs: 250, log: (m) => logs.open.push(m) }) });
    const closed = createEdgeGate(o, { waf: null, counters: store({ url, failMode: 'closed', timeoutMs: 250, log: (m) => logs.closed.push(m) }) });
    for (const g of [open, closed]) await (g.counters as RedisCounterStore).ready();
    assert.equal(status(await open.head(request('192.0.2.1'))), 200);
    assert.equal(status(await closed.head(request('192.0.2.1'))), 200);

    process.kill(server.pid as number, 'SIGKILL');
    const worst = { open: 0, closed: 0 };
    for (let i = 0; i < 20; i++) {
      for (const [name, g] of [
        ['open', open],
        ['closed', closed],
      ] as const) {
        const t0 = performance.now();
        const r = request('192.0.2.1');
        const v = await g.head(r);
        worst[name] = Math.max(worst[name], performance.now() - t0);
        if (name === 'open') assert.equal(v.kind, 'pass', `fail open, request ${i}`);
        else {
          const resp = v as Respond;
          assert.equal(resp.status, 503, `fail closed, request ${i}`);
          assert.equal(resp.mitigated, 'rate_limit');
          assert.equal(resp.headers?.find((h) => h[0] === 'retry-after')?.[1], '1');
        }
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    // Bounded by timeout_ms (250 ms) plus scheduling slack on a shared machine.
    assert.ok(worst.open < 650 && worst.closed < 650, `slowest answers with Redis down: ${worst.open.toFixed(0)} ms open, ${worst.closed.toFixed(0)} ms closed`);
    assert.equal(logs.open.length, 1, logs.open.join('\n'));
    assert.match(logs.open[0] as string, /redis unavailable .*failing open/);
    assert.equal(logs.closed.length, 1, logs.closed.join('\n'));
    assert.match(logs.closed[0] as string, /failing closed/);
    assert.equal(closed.stats.counters_unavailable, 20);
    // Requests no rate limit matches never touch the store.
    assert.equal(status(await closed.head(request('192.0.2.1', '/home'))), 200);

    // Back up: the stores reconnect by themselves and report what happened meanwhile.
    server = await startRedis(port);
    const deadline = Date.now() + 5000;
    while (status(await closed.head(request('192.0.2.1'))) !== 200) {
      assert.ok(Date.now() < deadline, 'the store reconnects within 5 s');
      await new Promise((res) => setTimeout(res, 100));
    }
    // Each store has its own connection and reconnects on its own: the open one may come back later.
    while ((await open.head(request('192.0.2.1'))) && logs.open.length < 2) {
      assert.ok(Date.now() < deadline, 'the fail-open store reconnects within 5 s');
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(logs.closed.length, 2, logs.closed.join('\n'));
    assert.match(logs.closed[1] as string, /redis is back; while it was down (2\d|[3-9]\d) request\(s\) were refused \(fail closed\)/);
    assert.equal(logs.open.length, 2, logs.open.join('\n'));
    assert.match(logs.open[1] as string, /redis is back; while it was down 20 request\(s\) were let through unlimited \(fail open\)/);
  });
});
