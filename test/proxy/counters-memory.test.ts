/**
 * The in-memory counter store (src/proxy/counters/memory.ts): windows, the mitigation timeout,
 * Retry-After, several operations in one call, and its bound on keys (the what-if agreement is
 * in phases-pipeline.test.ts, the Redis script's in counters-redis.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryCounterStore } from '../../src/proxy/counters/memory.js';
import { type CounterOp, msUntilUnder, newResult } from '../../src/proxy/counters/store.js';

const T0 = 1_700_000_000_000; // a multiple of 10 s: windows start here

function op(key: string, limit: number, timeoutMs = 0, count = true, periodMs = 10_000): CounterOp {
  return { key, periodMs, limit, timeoutMs, count };
}

describe('MemoryCounterStore', () => {
  it('limits past the limit within a window, and the previous window weighs by its share still in the period', () => {
    const s = new MemoryCounterStore();
    const out = [newResult()];
    const limited: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      s.apply([op('a', 4)], 1, T0 + i * 100, out);
      limited.push(out[0]?.limited as boolean);
    }
    assert.deepEqual(limited, [false, false, false, false, true, true]);
    // Next window, half way: the 6 of the last window weigh 3; one more makes 4 (not over), the next 5.
    s.apply([op('a', 4)], 1, T0 + 15_000, out);
    assert.equal(out[0]?.limited, false);
    s.apply([op('a', 4)], 1, T0 + 15_000, out);
    assert.equal(out[0]?.limited, true);
    // Two windows later, nothing of it remains.
    s.apply([op('a', 4)], 1, T0 + 30_000, out);
    assert.equal(out[0]?.limited, false);
  });

  it('holds a mitigation timeout whatever the rate, with Retry-After counting down', () => {
    const s = new MemoryCounterStore();
    const out = [newResult()];
    for (let i = 0; i < 3; i++) s.apply([op('b', 2, 60_000)], 1, T0 + i, out);
    assert.equal(out[0]?.limited, true);
    assert.equal(out[0]?.retryAfterMs, 60_000);
    // A check without counting, 45 s later: still limited, 15 s to go.
    s.apply([op('b', 2, 60_000, false)], 1, T0 + 2 + 45_000, out);
    assert.deepEqual(out[0], { limited: true, retryAfterMs: 15_000, failed: false });
    s.apply([op('b', 2, 60_000, false)], 1, T0 + 2 + 60_001, out);
    assert.equal(out[0]?.limited, false);
  });

  it('several operations in one call, each its own answer; a check of an unknown key keeps nothing', () => {
    const s = new MemoryCounterStore();
    const out = [newResult(), newResult(), newResult()];
    s.apply([op('x', 1), op('x', 1), op('never', 1, 0, false)], 3, T0, out);
    assert.deepEqual(
      out.map((r) => r.limited),
      [false, true, false],
    );
    assert.equal(s.size, 1);
  });

  it('Retry-After of a throttle is when one more request would fit', () => {
    // 5 requests at the start of a 10 s window, limit 2: the next fits when 5 * (1 - x) <= 1 in the next window, x = 0.8.
    assert.equal(msUntilUnder(T0, 5, 0, 2, 10_000, T0), 18_000);
    // In the window after, with 1 counted now and 4 before: 4 * (1 - x) + 1 <= 1 needs the whole window.
    assert.equal(msUntilUnder(T0, 1, 4, 2, 10_000, T0 + 2_000), 8_000);
    assert.equal(msUntilUnder(T0, 0, 0, 2, 10_000, T0 + 2_000), 0);
  });

  it('stays within its bound on keys, keeping mitigated keys over idle ones', () => {
    const s = new MemoryCounterStore({ maxKeys: 64 });
    const out = [newResult()];
    // One key mitigated for a long time, then many idle keys.
    for (let i = 0; i < 3; i++) s.apply([op('held', 1, 3_600_000)], 1, T0, out);
    assert.equal(out[0]?.limited, true);
    for (let i = 0; i < 1000; i++) {
      s.apply([op(`k${i}`, 10)], 1, T0 + 30_000 + i, out);
      assert.ok(s.size <= 64, `${s.size} keys`);
    }
    s.apply([op('held', 1, 3_600_000, false)], 1, T0 + 40_000, out);
    assert.equal(out[0]?.limited, true, 'the mitigated key survived the sweeps');
    assert.ok(s.evictions > 0);
  });
});
