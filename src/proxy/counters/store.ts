/**
 * Rate-limit counters of the edge, behind one interface: in process memory (one proxy) or in
 * Redis (several proxies enforcing one limit together). The arithmetic is Cloudflare's, as the
 * offline what-if counts it (mitigate/http-ratelimit.ts): a fixed window per key and the window
 * before it weighted by how much of it still lies in the sliding period; over the limit, the key
 * is mitigated for the timeout (or, with a timeout of 0, only while the rate is over).
 *
 * One request touches its rate-limit rules in one call (`apply`), so a remote store answers in
 * one round trip whatever the number of rules. A store that cannot answer (Redis down, slow)
 * says so per operation (`failed`); the caller decides what that means (fail open or closed).
 */

/** One counter operation: count a request of `key` and/or check whether the key is limited. */
export interface CounterOp {
  /** The counter's key, unique per rule (the rule id and the characteristics' values). */
  key: string;
  periodMs: number;
  /** Requests per period allowed; more and the key is limited. */
  limit: number;
  /** How long a key stays limited once over (ms); 0: only while the rate is over. */
  timeoutMs: number;
  /** Increment the counter (the request matched the counting expression). */
  count: boolean;
}

/** What the store answered for one operation (written into objects the caller owns and reuses). */
export interface CounterResult {
  /** The key is limited now (mitigated until a time, or over the rate when the timeout is 0). */
  limited: boolean;
  /** When limited: milliseconds until the key is no longer (the timeout's rest, or until the rate drops). */
  retryAfterMs: number;
  /** The store could not answer (unreachable, timed out): `limited` means nothing. */
  failed: boolean;
}

export interface CounterStore {
  readonly kind: 'memory' | 'redis';
  /**
   * Apply `ops` at `now` (ms since the epoch) and write one result per op into `out` (same
   * index). Synchronous for memory; one round trip for Redis, bounded by its timeout.
   */
  apply(ops: readonly CounterOp[], n: number, now: number, out: CounterResult[]): void | Promise<void>;
  close(): Promise<void>;
}

export function newResult(): CounterResult {
  return { limited: false, retryAfterMs: 0, failed: false };
}

/**
 * Milliseconds from `now` until one more request would be within the limit: until the sliding
 * estimate `prev * (1 - (t - windowStart) / period) + curr` falls to `limit - 1`. The same
 * formula runs inside the Redis script (redis.ts).
 */
export function msUntilUnder(windowStart: number, curr: number, prev: number, limit: number, periodMs: number, now: number): number {
  const room = limit - 1;
  let t: number;
  if (curr > room) {
    // Not before the next window, where this window's count decays: curr * (1 - x) <= room.
    t = windowStart + periodMs + periodMs * (1 - room / curr);
  } else if (prev > 0) {
    t = windowStart + periodMs * (1 - (room - curr) / prev);
  } else t = now;
  return t > now ? Math.ceil(t - now) : 0;
}
