/**
 * The WAF's persistent collections in Redis (src/proxy/counters/waf-records.ts), against a real
 * Redis (the machine's shared one under a prefix of this run, else one of the test's own): the
 * Lua scripts keep records exactly as the memory store does, op by op; two edges sharing Redis
 * run the CRS DoS protection together (a client's bursts counted across both block it on
 * both); and a Redis killed mid-test fails open or closed as the counters are configured.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { defaultEdgeOptions, type EdgeOptions } from '../../src/config/edge.js';
import { RedisCounterStore } from '../../src/proxy/counters/redis.js';
import { RedisCollectionStore } from '../../src/proxy/counters/waf-records.js';
import type { EdgeRequest, HeadVerdict, Respond } from '../../src/proxy/gate.js';
import { createEdgeGate } from '../../src/proxy/phases/pipeline.js';
import { createEdgeWaf } from '../../src/proxy/phases/waf-phase.js';
import { type CollectionOp, MemoryCollectionStore, type RecordChanges } from '../../src/waf/persistent.js';
import { deleteKeys, freePort, startRedis, stopAll, testRedisUrl } from './redis-server.js';

const PREFIX = `palisade-test:waf:${process.pid}:${Date.now()}:`;
const stores: RedisCounterStore[] = [];
let url = '';

function counters(opts: ConstructorParameters<typeof RedisCounterStore>[0] = {}): RedisCounterStore {
  const s = new RedisCounterStore({ url, prefix: PREFIX, timeoutMs: 2000, failMode: 'closed', log: (m) => assert.fail(`unexpected: ${m}`), ...opts });
  stores.push(s);
  return s;
}

before(async () => {
  url = await testRedisUrl();
});

after(async () => {
  await deleteKeys(url, PREFIX);
  for (const s of stores) await s.close();
  stopAll();
});

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
let seq = 0;
function request(ip: string, target = '/index.php'): EdgeRequest {
  const headers: Array<[string, string]> = [
    ['Host', 'shop.example'],
    ['User-Agent', UA],
    ['Accept', 'text/html'],
  ];
  const view = { method: 'GET', target, host: 'shop.example', version: 'HTTP/1.1', headers, clientIp: ip, ssl: false, timestampMs: 0 };
  return { id: `w${++seq}`, view, clientIp: ip, peerIp: ip, headerOrder: ['host', 'user-agent', 'accept'], ruleIds: [] };
}
const status = (v: HeadVerdict): number => (v.kind === 'respond' ? v.status : 200);

/** Edge options with the CRS DoS protection on: 5 dynamic requests in 60 s make a burst; two block. */
function dosOptions(fail: 'open' | 'closed' = 'closed'): EdgeOptions {
  const o = defaultEdgeOptions();
  o.mode = 'off';
  o.waf.crsSetup = { dos_burst_time_slice: 60, dos_counter_threshold: 5, dos_block_timeout: 600 };
  o.counters = { store: 'redis', redisUrl: url, prefix: PREFIX, fail, timeoutMs: 2000 };
  return o;
}

describe('WAF collections in Redis', () => {
  it('the scripts keep records as the memory store does, op by op (set, add, delete, expiry, TIMEOUT)', async () => {
    const redis = new RedisCollectionStore(counters());
    await redis.counters.ready();
    const mem = new MemoryCollectionStore();
    let t = 1_800_000_000_000;
    let x = 4242;
    const rnd = (n: number): number => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return x % n;
    };
    const names = ['a', 'b', 'dos_counter', 'flag'];
    for (let step = 0; step < 300; step++) {
      t += rnd(4000);
      const changes: RecordChanges[] = [];
      for (const key of ['10.0.0.1_ua', `eq-${rnd(3)}`]) {
        const ops: CollectionOp[] = [];
        for (let k = rnd(4); k > 0; k--) {
          const name = names[rnd(names.length)] as string;
          const kind = rnd(6);
          if (kind === 0) ops.push({ op: 'set', name, value: String(rnd(50)) });
          else if (kind <= 2) ops.push({ op: 'add', name, delta: rnd(7) - 2 });
          else if (kind === 3) ops.push({ op: 'del', name });
          else ops.push({ op: 'expire', name, seconds: 1 + rnd(8) });
        }
        if (ops.length > 0) changes.push({ coll: 'IP', key, ops, timeout: 30 });
      }
      if (changes.length > 0) {
        await redis.commit(changes, t);
        mem.commit(changes, t);
      }
      t += rnd(3000);
      const refs = [
        { coll: 'IP', key: '10.0.0.1_ua' },
        { coll: 'IP', key: 'eq-0' },
        { coll: 'IP', key: 'eq-1' },
        { coll: 'IP', key: 'eq-2' },
      ];
      const got = await redis.fetch(refs, t);
      const want = await mem.fetch(refs, t);
      for (let i = 0; i < refs.length; i++) {
        const g = got[i];
        const w = want[i];
        assert.equal(g === null, w === null, `record ${refs[i]?.key} at step ${step}: exists in both or neither`);
        if (g === null || w === null) continue;
        assert.deepEqual(Object.fromEntries([...g.vars].sort()), Object.fromEntries([...w.vars].sort()), `record ${refs[i]?.key} at step ${step}`);
        assert.equal(g.updateCounter, w.updateCounter, `writes of ${refs[i]?.key} at step ${step}`);
        assert.equal(g.lastUpdate, w.lastUpdate);
      }
    }
  });

  it('two edges sharing Redis run the CRS DoS protection together: bursts counted on both block on both', async () => {
    const clock = { t: 1_800_000_100_000 };
    const now = (): number => clock.t;
    const o = dosOptions();
    const ca = counters();
    const cb = counters();
    await Promise.all([ca.ready(), cb.ready()]);
    const a = createEdgeGate(o, { counters: ca, now });
    const b = createEdgeGate(o, { counters: cb, now });
    const seen: number[] = [];
    for (let i = 0; i < 10; i++) {
      const g = i % 2 === 0 ? a : b;
      seen.push(status(await g.head(request('192.0.2.50'))));
      // the write goes out after the verdict: let it land before the other edge reads
      await g.waf?.settled();
      clock.t += 1000;
    }
    assert.deepEqual(seen, [200, 200, 200, 200, 200, 200, 200, 200, 200, 200], 'two bursts of five, spread over both edges, pass');
    const onA = await a.head(request('192.0.2.50'));
    const onB = await b.head(request('192.0.2.50'));
    assert.equal(status(onA), 403, 'blocked on A');
    assert.equal(status(onB), 403, 'blocked on B');
    assert.equal((onA as Respond).mitigated, 'waf');
    // one edge alone saw five requests of the client: the block needs the shared count
    assert.equal(status(await a.head(request('192.0.2.51'))), 200, 'another client passes');
  });

  it('Redis down: fail closed refuses (503), fail open evaluates with new records; both say so once', async () => {
    const port = await freePort();
    let server: ChildProcess = await startRedis(port);
    const own = `redis://127.0.0.1:${port}`;
    const logs: string[] = [];
    const o = (fail: 'open' | 'closed'): EdgeOptions => {
      const x = dosOptions(fail);
      x.counters.redisUrl = own;
      return x;
    };
    const closedStore = counters({ url: own, failMode: 'closed', timeoutMs: 250, log: (m) => logs.push(`closed: ${m}`) });
    const openStore = counters({ url: own, failMode: 'open', timeoutMs: 250, log: (m) => logs.push(`open: ${m}`) });
    await Promise.all([closedStore.ready(), openStore.ready()]);
    // one WAF (the CRS loads once) for both gates' fail modes would share a store: give each its own
    const closed = createEdgeGate(o('closed'), { counters: closedStore, waf: createEdgeWaf(o('closed').waf, closedStore) });
    const open = createEdgeGate(o('open'), { counters: openStore, waf: createEdgeWaf(o('open').waf, openStore) });
    assert.equal(status(await closed.head(request('192.0.2.60'))), 200);
    assert.equal(status(await open.head(request('192.0.2.60'))), 200);
    await closed.waf?.settled();
    await open.waf?.settled();

    process.kill(server.pid as number, 'SIGKILL');
    for (let i = 0; i < 5; i++) {
      const c = await closed.head(request('192.0.2.60'));
      assert.equal(status(c), 503, `fail closed, request ${i}`);
      const p = await open.head(request('192.0.2.60'));
      assert.equal(status(p), 200, `fail open, request ${i}`);
      // an attack is still stopped without its records: the WAF's stateless rules run
      const sqli = await open.head(request('192.0.2.60', "/index.php?id=1' UNION SELECT password FROM users--"));
      assert.equal(status(sqli), 403);
    }
    assert.equal(closed.stats.counters_unavailable, 5);
    assert.equal(logs.filter((m) => /redis unavailable/.test(m)).length, 2, logs.join('\n'));

    server = await startRedis(port);
    const deadline = Date.now() + 5000;
    while (status(await closed.head(request('192.0.2.60'))) !== 200) {
      assert.ok(Date.now() < deadline, 'back within 5 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(
      logs.some((m) => /^closed: counters: redis is back/.test(m)),
      logs.join('\n'),
    );
  });
});
