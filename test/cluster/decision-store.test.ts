/**
 * The decisions in force in Redis (cluster/decision-store.ts), on the machine's Redis
 * (127.0.0.1:6379) under a key of this test's own, deleted after: put, replace, remove, expiry
 * honoured on read and cleaned up, a bad field skipped and said, and a Redis that does not answer
 * failing fast with an error that names it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { DecisionStore, StoreError } from '../../src/cluster/decision-store.js';
import { newDecision } from '../../src/cluster/decisions.js';
import { freePort, reachable, SHARED_URL } from '../proxy/redis-server.js';

const KEY = `palisade-test-${randomBytes(4).toString('hex')}:decisions`;
if (!(await reachable(SHARED_URL))) throw new Error('Redis is not running on 127.0.0.1:6379: start it (.ci/run does)');
const FROM = { site: 'eu', node: 'corr-1', role: 'correlator' as const };
const T0 = Date.now();

const list = (id: string, entries: string[], expiresMs: number | null, at = T0) =>
  newDecision(FROM, 'add', { id, spec: { type: 'list', id, entries, expiresMs }, reason: 'test' }, at);

after(async () => {
  const c = new Redis(SHARED_URL);
  await c.del(KEY);
  c.disconnect();
});

describe('decision store', { timeout: 30_000 }, () => {
  it('keeps adds by rule id, replaces, removes, and lists what is in force oldest first', async () => {
    const logs: string[] = [];
    const s = new DecisionStore({ url: SHARED_URL, key: KEY, log: (l) => logs.push(l) });
    try {
      await s.put(list('b', ['192.0.2.2'], T0 + 60_000, T0 + 10));
      await s.put(list('a', ['192.0.2.1'], null, T0));
      assert.deepEqual(
        (await s.list(T0)).map((d) => d.id),
        ['a', 'b'],
      );
      // A later add about the same rule replaces it.
      await s.put(list('a', ['192.0.2.1', '192.0.2.3'], null, T0 + 20));
      const now = await s.list(T0);
      assert.deepEqual(
        now.map((d) => [d.id, d.spec?.type === 'list' ? d.spec.entries.length : 0]),
        [
          ['b', 1],
          ['a', 2],
        ],
      );
      // A remove decision deletes the rule's add.
      await s.put(newDecision(FROM, 'remove', { id: 'rm-a', ruleId: 'a', reason: 'over' }, T0 + 30));
      assert.deepEqual(
        (await s.list(T0)).map((d) => d.id),
        ['b'],
      );
      assert.equal(await s.remove('b'), true);
      assert.equal(await s.remove('b'), false);
      assert.deepEqual(await s.list(T0), []);
      assert.deepEqual(logs, []);
    } finally {
      await s.close();
    }
  });

  it('leaves out and deletes expired decisions on read; skips (and says) a field that is not a decision', async () => {
    const logs: string[] = [];
    const s = new DecisionStore({ url: SHARED_URL, key: KEY, log: (l) => logs.push(l) });
    const c = new Redis(SHARED_URL);
    try {
      await s.put(list('soon', ['192.0.2.4'], T0 + 1000));
      await s.put(list('later', ['192.0.2.5'], T0 + 60_000));
      await c.hset(KEY, 'junk', '{"v":1,"id":"x"');
      assert.deepEqual(
        // same time: by id (Redis hands a hash's fields over in no order of ours)
        (await s.list(T0)).map((d) => d.id),
        ['later', 'soon'],
      );
      assert.equal(logs.length, 1);
      assert.match(logs[0] as string, /field junk skipped/);
      assert.deepEqual(
        (await s.list(T0 + 1000)).map((d) => d.id),
        ['later'],
      );
      assert.equal(await c.hexists(KEY, 'soon'), 0, 'the expired decision is gone from Redis');
      assert.equal(s.stats.expired, 1);
      assert.equal(await c.hexists(KEY, 'junk'), 1, 'a bad field stays for a person to look at');
    } finally {
      await c.del(KEY);
      c.disconnect();
      await s.close();
    }
  });

  it('a Redis that does not answer: a StoreError naming it, within the bound', async () => {
    const port = await freePort();
    const s = new DecisionStore({ url: `redis://127.0.0.1:${port}`, key: KEY, timeoutMs: 300 });
    try {
      const t = Date.now();
      await assert.rejects(
        () => s.list(Date.now()),
        (e: unknown) => e instanceof StoreError && e.message.includes(`redis://127.0.0.1:${port}`) && /HGETALL failed/.test(e.message),
      );
      assert.ok(Date.now() - t < 2000, `failed after ${Date.now() - t} ms`);
      await assert.rejects(() => s.put(list('x', ['192.0.2.1'], null)), StoreError);
    } finally {
      await s.close();
    }
  });
});
