/**
 * Counters in Redis, shared by several proxies: one Lua script per request applies every
 * rate-limit operation of it atomically (count, sliding-window estimate, mitigation timeout) in
 * one round trip, so two proxies that a client alternates between enforce one limit together.
 *
 * Per key, one hash: `w` (start of the current fixed window, ms), `c` and `p` (counts of it and
 * of the window before), `u` (mitigated until, ms); it expires two periods and the timeout after
 * its last write. Time is the proxy's (the caller's clock, injected), so replay and tests agree.
 *
 * Redis down or slow: every command is bounded by `timeoutMs` (the client's command timeout; no
 * offline queue, so a dead connection fails at once instead of waiting), and the operations are
 * then `failed`, limited or not as `failMode` says. The store logs each transition once, down
 * (with the error) and back up (with how many requests were let through or refused meanwhile).
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { CounterOp, CounterResult, CounterStore } from './store.js';

export type FailMode = 'open' | 'closed';

/**
 * A Redis client whose every command is bounded by `timeoutMs` and never waits for a connection:
 * without one (no offline queue, no retry of a request) a command fails at once, while the client
 * keeps reconnecting in the background. What a request path (or a decision store) needs.
 */
export function boundedRedis(url: string, timeoutMs: number, extra?: RedisOptions): Redis {
  return new Redis(url, {
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    ...extra,
  });
}

export interface RedisCounterOptions {
  /** `redis://host:port/db` (default redis://127.0.0.1:6379). */
  url?: string;
  /** Prefix of every key (default `palisade:rl:`): proxies sharing limits use the same one. */
  prefix?: string;
  /** When Redis cannot answer: let requests through (`open`, default) or refuse them (`closed`). */
  failMode?: FailMode;
  /** Bound on one round trip, ms (default 100). */
  timeoutMs?: number;
  /** Where transitions are reported (default: stderr). */
  log?: (message: string) => void;
  /** Further ioredis options (tests). */
  redis?: RedisOptions;
}

/**
 * KEYS: the counters. ARGV[1]: now (ms); then per key: period (ms), limit, timeout (ms), count (0/1).
 * Returns per key: limited (0/1), milliseconds until not limited.
 */
const SCRIPT = `
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local b = 1 + (i - 1) * 4
  local period = tonumber(ARGV[b + 1])
  local limit = tonumber(ARGV[b + 2])
  local timeout = tonumber(ARGV[b + 3])
  local count = ARGV[b + 4] == '1'
  local k = KEYS[i]
  local v = redis.call('HMGET', k, 'w', 'c', 'p', 'u')
  local ws = tonumber(v[1])
  local curr = tonumber(v[2]) or 0
  local prev = tonumber(v[3]) or 0
  local untl = tonumber(v[4]) or 0
  local start = now - (now % period)
  if ws == nil then
    ws = start
  elseif start > ws then
    if start - ws == period then prev = curr else prev = 0 end
    curr = 0
    ws = start
  end
  if count then curr = curr + 1 end
  local rate = prev * (1 - (now - ws) / period) + curr
  local over = rate > limit
  local changed = count
  if over and timeout > 0 and untl <= now then
    untl = now + timeout
    changed = true
  end
  if changed then
    redis.call('HSET', k, 'w', ws, 'c', curr, 'p', prev, 'u', untl)
    redis.call('PEXPIRE', k, 2 * period + timeout)
  end
  local limited = 0
  local retry = 0
  if timeout > 0 then
    if untl > now then
      limited = 1
      retry = untl - now
    end
  elseif over then
    limited = 1
    local room = limit - 1
    local t
    if curr > room then
      t = ws + period + period * (1 - room / curr)
    elseif prev > 0 then
      t = ws + period * (1 - (room - curr) / prev)
    else
      t = now
    end
    if t > now then retry = math.ceil(t - now) end
  end
  out[#out + 1] = limited
  out[#out + 1] = retry
end
return out
`;
const SHA = createHash('sha1').update(SCRIPT).digest('hex');

export class RedisCounterStore implements CounterStore {
  readonly kind = 'redis';
  readonly client: Redis;
  readonly failMode: FailMode;
  readonly prefix: string;
  readonly timeoutMs: number;
  private readonly log: (message: string) => void;
  /** Health as last seen, and what happened to requests since it went down. */
  private down = false;
  private failedRequests = 0;
  private lastError = '';
  /** Counts over the store's life, for metrics. */
  readonly stats = { calls: 0, failures: 0, transitions: 0 };

  constructor(opts: RedisCounterOptions = {}) {
    this.failMode = opts.failMode ?? 'open';
    this.prefix = opts.prefix ?? 'palisade:rl:';
    this.timeoutMs = opts.timeoutMs ?? 100;
    this.log = opts.log ?? ((m) => process.stderr.write(`${m}\n`));
    this.client = boundedRedis(opts.url ?? 'redis://127.0.0.1:6379', this.timeoutMs, opts.redis);
    // Without a listener ioredis prints every connection error; the store reports transitions instead.
    this.client.on('error', (e: Error) => {
      this.lastError = e.message;
    });
  }

  /** Resolves once connected (or rejects after `ms`): start-up can wait for Redis, requests never do. */
  ready(ms = 2000): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.client.off('ready', ok);
        reject(new Error(`redis not ready after ${ms} ms (${this.lastError || this.client.status})`));
      }, ms);
      const ok = (): void => {
        clearTimeout(t);
        resolve();
      };
      this.client.once('ready', ok);
    });
  }

  async apply(ops: readonly CounterOp[], n: number, now: number, out: CounterResult[]): Promise<void> {
    if (n === 0) return;
    this.stats.calls++;
    const args: (string | number)[] = new Array(1 + n + 1 + 4 * n);
    args[0] = n;
    for (let i = 0; i < n; i++) args[1 + i] = this.prefix + (ops[i] as CounterOp).key;
    let a = 1 + n;
    args[a++] = Math.floor(now);
    for (let i = 0; i < n; i++) {
      const op = ops[i] as CounterOp;
      args[a++] = op.periodMs;
      args[a++] = op.limit;
      args[a++] = op.timeoutMs;
      args[a++] = op.count ? 1 : 0;
    }
    let reply: unknown;
    try {
      reply = await this.run(args);
    } catch (e) {
      this.failed(e as Error, n, out);
      return;
    }
    const r = reply as number[];
    for (let i = 0; i < n; i++) {
      const o = out[i] as CounterResult;
      o.limited = r[2 * i] === 1;
      o.retryAfterMs = r[2 * i + 1] ?? 0;
      o.failed = false;
    }
    this.answered();
  }

  /** Runs a Lua script by its digest, loading it the first time (or after a Redis restart). */
  async evalScript(sha: string, script: string, args: (string | number)[]): Promise<unknown> {
    try {
      return await this.client.evalsha(sha, ...(args as [number, ...(string | number)[]]));
    } catch (e) {
      if (!String((e as Error).message).startsWith('NOSCRIPT')) throw e;
      return await this.client.eval(script, ...(args as [number, ...(string | number)[]]));
    }
  }

  private run(args: (string | number)[]): Promise<unknown> {
    return this.evalScript(SHA, SCRIPT, args);
  }

  /** Redis answered (the counters' or another user's call, e.g. the WAF's records): a store
   * that was down is back, said once. */
  answered(): void {
    if (!this.down) return;
    this.down = false;
    this.stats.transitions++;
    this.log(
      `counters: redis is back; while it was down ${this.failedRequests} request(s) were ${this.failMode === 'open' ? 'let through unlimited (fail open)' : 'refused (fail closed)'}`,
    );
    this.failedRequests = 0;
  }

  /** Redis did not answer one request's call: counted, and the transition to down said once. */
  unanswered(e: Error): void {
    this.stats.failures++;
    this.failedRequests++;
    if (!this.down) {
      this.down = true;
      this.stats.transitions++;
      this.log(
        `counters: redis unavailable (${e.message}); failing ${this.failMode}: rate-limited requests and WAF collections are ${this.failMode === 'open' ? 'let through' : 'refused'} until it is back`,
      );
    }
  }

  private failed(e: Error, n: number, out: CounterResult[]): void {
    this.unanswered(e);
    for (let i = 0; i < n; i++) {
      const o = out[i] as CounterResult;
      o.failed = true;
      o.limited = this.failMode === 'closed';
      o.retryAfterMs = this.failMode === 'closed' ? 1000 : 0;
    }
  }

  /** Whether the store is failing now (for metrics and the admin API). */
  get isDown(): boolean {
    return this.down;
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
