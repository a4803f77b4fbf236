/**
 * Counters in process memory: the default store of one proxy. The same window arithmetic as the
 * offline what-if's HttpRateCounter (mitigate/http-ratelimit.ts; a test holds the two to the same
 * answers), with the retry time the edge's 429 needs. Bounded: when the table is full, keys idle
 * for two periods and not mitigated go, then the oldest inserted, mitigated keys last.
 */
import { type CounterOp, type CounterResult, type CounterStore, msUntilUnder } from './store.js';

interface KeyState {
  windowStart: number;
  curr: number;
  prev: number;
  /** Mitigated until (ms); 0 when not. */
  until: number;
  /** Last request seen and the longest period of the rules using the key, for eviction. */
  last: number;
  periodMs: number;
}

export interface MemoryCounterOptions {
  /** Bound on keys kept at once (default 1 << 20). */
  maxKeys?: number;
}

export class MemoryCounterStore implements CounterStore {
  readonly kind = 'memory';
  private readonly keys = new Map<string, KeyState>();
  private readonly maxKeys: number;
  evictions = 0;

  constructor(opts: MemoryCounterOptions = {}) {
    this.maxKeys = opts.maxKeys ?? 1 << 20;
  }

  get size(): number {
    return this.keys.size;
  }

  apply(ops: readonly CounterOp[], n: number, now: number, out: CounterResult[]): void {
    for (let i = 0; i < n; i++) this.one(ops[i] as CounterOp, now, out[i] as CounterResult);
  }

  private one(op: CounterOp, now: number, r: CounterResult): void {
    const period = op.periodMs;
    const start = now - (now % period);
    let s = this.keys.get(op.key);
    if (s === undefined) {
      if (!op.count) {
        // Nothing counted yet: nothing to keep.
        r.limited = false;
        r.retryAfterMs = 0;
        r.failed = false;
        return;
      }
      if (this.keys.size >= this.maxKeys) this.evict(now);
      s = { windowStart: start, curr: 0, prev: 0, until: 0, last: now, periodMs: period };
      this.keys.set(op.key, s);
    } else if (start > s.windowStart) {
      // One window later the current becomes the previous; more, both are empty.
      s.prev = start - s.windowStart === period ? s.curr : 0;
      s.curr = 0;
      s.windowStart = start;
    }
    if (now > s.last) s.last = now;
    if (op.count) s.curr++;
    const rate = s.prev * (1 - (now - s.windowStart) / period) + s.curr;
    const over = rate > op.limit;
    if (over && op.timeoutMs > 0 && s.until <= now) s.until = now + op.timeoutMs;
    r.failed = false;
    if (op.timeoutMs > 0) {
      r.limited = s.until > now;
      r.retryAfterMs = r.limited ? s.until - now : 0;
    } else {
      r.limited = over;
      r.retryAfterMs = over ? msUntilUnder(s.windowStart, s.curr, s.prev, op.limit, period, now) : 0;
    }
  }

  /**
   * Make room for an eighth of the table at once: keys idle for two periods and not mitigated
   * first (they hold nothing a new counter would not), then the oldest inserted that are not
   * mitigated (a spray of new keys must not lift the bans), then the oldest.
   */
  private evict(now: number): void {
    for (const [k, s] of this.keys) if (s.last < now - 2 * s.periodMs && s.until <= now) this.keys.delete(k);
    const target = this.maxKeys - Math.max(1, this.maxKeys >>> 3);
    for (const [k, s] of this.keys) {
      if (this.keys.size <= target) return;
      if (s.until > now) continue;
      this.keys.delete(k);
      this.evictions++;
    }
    for (const k of this.keys.keys()) {
      if (this.keys.size <= target) return;
      this.keys.delete(k);
      this.evictions++;
    }
  }

  async close(): Promise<void> {
    this.keys.clear();
  }
}
