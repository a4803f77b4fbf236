/**
 * Rate-limit counters the Cloudflare way (not nftables' token bucket of engine.ts): one counter
 * per value of the rule's characteristics, the rate over the period estimated as Cloudflare
 * describes its own, from the current fixed window and the previous one weighted by how much of
 * it still lies inside the sliding period. Over `requests_per_period`, the key is mitigated for
 * `mitigation_timeout` seconds (every request of it the rule matches gets the action), or with a
 * timeout of 0 only while the rate is over (throttle).
 *
 * Time is the log's own (milliseconds since the epoch), so a replay gives what the edge would
 * have done then. Keys are bounded: when the table is full, keys idle for two periods go, then the
 * oldest inserted; evictions are counted.
 */
import { type HttpRequestView, headerOf, httpScheme } from '../scheme/http.js';
import type { Field } from '../scheme/types.js';
import type { HttpRateLimit } from './http-ruleset.js';
import { ownCopy } from './http-top.js';

interface KeyState {
  /** Start of the current fixed window (ms), and the counts of it and of the window before. */
  windowStart: number;
  curr: number;
  prev: number;
  /** Mitigated until (ms); 0 when not. */
  until: number;
  /** Last request seen (ms), for eviction. */
  last: number;
}

export class HttpRateCounter {
  private readonly periodMs: number;
  private readonly timeoutMs: number;
  private readonly keys = new Map<string, KeyState>();
  evictions = 0;

  constructor(readonly rl: HttpRateLimit) {
    this.periodMs = rl.period * 1000;
    this.timeoutMs = rl.mitigationTimeout * 1000;
  }

  get size(): number {
    return this.keys.size;
  }

  private state(key: string, now: number): KeyState {
    let s = this.keys.get(key);
    if (s === undefined) {
      if (this.keys.size >= this.rl.maxKeys) this.evict(now);
      s = { windowStart: now - (now % this.periodMs), curr: 0, prev: 0, until: 0, last: now };
      this.keys.set(ownCopy(key), s);
      return s;
    }
    // Move the fixed window on: one window later, the current becomes the previous; more, both are empty.
    const start = now - (now % this.periodMs);
    if (start > s.windowStart) {
      s.prev = start - s.windowStart === this.periodMs ? s.curr : 0;
      s.curr = 0;
      s.windowStart = start;
    }
    if (now > s.last) s.last = now;
    return s;
  }

  /** The sliding-period estimate: the previous window's count weighted by its part still in the period. */
  private rate(s: KeyState, now: number): number {
    const elapsed = (now - s.windowStart) / this.periodMs;
    return s.prev * (1 - elapsed) + s.curr;
  }

  /**
   * One request of `key` at `now` (ms): `counts` when the counting expression (or the rule's)
   * matched it, `matches` when the rule's expression did. True when the request is limited.
   */
  hit(key: string, now: number, counts: boolean, matches: boolean): boolean {
    const s = this.state(key, now);
    if (counts) s.curr++;
    const over = this.rate(s, now) > this.rl.requestsPerPeriod;
    if (over && this.timeoutMs > 0 && s.until <= now) s.until = now + this.timeoutMs;
    if (!matches) return false;
    return this.timeoutMs > 0 ? s.until > now : over;
  }

  /** Make room for an eighth of the table at once, so a full table costs one sweep per maxKeys/8 new keys. */
  private evict(now: number): void {
    const idle = now - 2 * this.periodMs;
    // Keys idle for two periods and not mitigated hold nothing a new counter would not.
    for (const [k, s] of this.keys) if (s.last < idle && s.until <= now) this.keys.delete(k);
    const target = this.rl.maxKeys - Math.max(1, this.rl.maxKeys >>> 3);
    // Still too full: the oldest inserted go (a Map iterates in insertion order).
    for (const k of this.keys.keys()) {
      if (this.keys.size <= target) break;
      this.keys.delete(k);
      this.evictions++;
    }
  }
}

const HEADER_KEY = /^http\.request\.headers\["([^"]+)"\]$/;

/**
 * The characteristics' values as one key string; undefined when one is missing (the rule does not
 * count the request). The offline what-if (whatif-http.ts) and the edge's rate limits (proxy/phases/rate-limits.ts) key by it alike.
 */
export function rateKeyReader(characteristics: readonly string[]): (v: HttpRequestView) => string | undefined {
  const parts = characteristics.map((c): ((v: HttpRequestView) => string | undefined) => {
    if (c === 'ip.src') return (v) => (v.clientIp === '' ? undefined : v.clientIp);
    const h = HEADER_KEY.exec(c);
    if (h) {
      const name = (h[1] as string).toLowerCase();
      return (v) => headerOf(v, name);
    }
    const f = httpScheme.fields.get(c) as Field<HttpRequestView> | undefined;
    if (f === undefined) throw new Error(`unknown characteristic ${c}`);
    return (v) => {
      const x = f.get(v);
      if (x === undefined) return undefined;
      return x instanceof Uint8Array ? Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('latin1') : typeof x === 'object' ? JSON.stringify(x) : String(x);
    };
  });
  if (parts.length === 0) return () => '';
  if (parts.length === 1) return parts[0] as (v: HttpRequestView) => string | undefined;
  return (v) => {
    let k = '';
    for (const p of parts) {
      const x = p(v);
      if (x === undefined) return undefined;
      k += `${x}\u0000`;
    }
    return k;
  };
}
