/**
 * The decisions in force, in Redis: one hash (`palisade:decisions` by default), field = the runtime
 * entry id a decision installs (spec.id), value = the add decision as JSON. A later add about the
 * same entry replaces it; a remove deletes it. An edge that starts (or restarts) reads the hash,
 * applies what is in force, then follows the bus; the bus is core NATS push (lowest latency, no
 * replay), so this hash is what an edge that was away catches up from.
 *
 * Who writes: whoever decides (the correlator), before publishing on the bus (`publishDecision`),
 * so a node that starts between the two sees the decision in the store, and one that was already
 * listening gets it from the bus; applying twice changes nothing (decisions.ts).
 *
 * Expiry: a Redis hash field has no TTL of its own (before Redis 7.4), so `list(now)` leaves out
 * the decisions whose spec.expiresMs has passed and deletes them — only if the field still holds
 * that same decision (a Lua compare-and-delete), so a fresh replacement written meanwhile stays.
 *
 * Redis down: every command is bounded (`timeoutMs`) and fails with a StoreError naming the URL and
 * the cause; the caller logs it and keeps what it has.
 */
import type { Redis, RedisOptions } from 'ioredis';
import { PalisadeError } from '../core/errors.js';
import { boundedRedis } from '../proxy/counters/redis.js';
import { type Decision, decisionExpiry, decisionRuleId, parseDecision } from './decisions.js';

export const DECISIONS_KEY = 'palisade:decisions';

export interface DecisionStoreOptions {
  /** `redis://host:port/db` or `rediss://…` (default redis://127.0.0.1:6379). */
  url?: string;
  /** The hash's key (default `palisade:decisions`; tests use their own). */
  key?: string;
  /** Bound on one command, ms (default 1000). */
  timeoutMs?: number;
  /** Invalid entries found in the hash are said here (default stderr). */
  log?: (line: string) => void;
  /** Further ioredis options (tests). */
  redis?: RedisOptions;
}

/** The store could not answer: E_INPUT, with the URL and Redis's own words. */
export class StoreError extends PalisadeError {
  constructor(message: string) {
    super('E_INPUT', message);
    this.name = 'StoreError';
  }
}

/** Delete the field only if it still holds the value read (an expired decision, not its replacement). */
const DELETE_IF_SAME = `if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0`;

export class DecisionStore {
  readonly key: string;
  readonly url: string;
  private readonly client: Redis;
  private readonly timeoutMs: number;
  private readonly log: (line: string) => void;
  private lastError = '';
  /** Expired decisions deleted and invalid fields skipped, over the store's life. */
  readonly stats = { expired: 0, invalid: 0, errors: 0 };

  constructor(opts: DecisionStoreOptions = {}) {
    this.url = opts.url ?? 'redis://127.0.0.1:6379';
    this.key = opts.key ?? DECISIONS_KEY;
    this.timeoutMs = opts.timeoutMs ?? 1000;
    this.log = opts.log ?? ((l) => process.stderr.write(`${l}\n`));
    // without a connection a command fails at once (after `ready` waited its bound), never queues
    this.client = boundedRedis(this.url, this.timeoutMs, opts.redis);
    this.client.on('error', (e: Error) => {
      this.lastError = e.message;
    });
  }

  /** Waits for the connection up to `ms` (start-up may wait for Redis, nothing else does). */
  private ready(ms = this.timeoutMs): Promise<void> {
    if (this.client.status === 'ready') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.client.off('ready', ok);
        reject(new Error(`not connected after ${ms} ms (${this.lastError || this.client.status})`));
      }, ms);
      const ok = (): void => {
        clearTimeout(t);
        resolve();
      };
      this.client.once('ready', ok);
    });
  }

  private async run<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      await this.ready();
      return await f();
    } catch (e) {
      this.stats.errors++;
      throw new StoreError(`decision store ${this.url} (${this.key}): ${what} failed: ${(e as Error).message}`);
    }
  }

  /** Keep an add in force (replacing the entry's previous one), or apply a remove. */
  async put(d: Decision): Promise<void> {
    const field = decisionRuleId(d);
    if (d.op === 'remove') {
      await this.remove(field);
      return;
    }
    await this.run('HSET', () => this.client.hset(this.key, field, JSON.stringify(d)));
  }

  /** Forget the decision that installs runtime entry `ruleId`; false when there was none. */
  async remove(ruleId: string): Promise<boolean> {
    return (await this.run('HDEL', () => this.client.hdel(this.key, ruleId))) > 0;
  }

  /**
   * The add decisions in force at `nowMs`, oldest first. Expired ones are deleted on the way;
   * fields that are not valid decisions are skipped and said (they stay for a person to look at).
   */
  async list(nowMs: number): Promise<Decision[]> {
    const all = await this.run('HGETALL', () => this.client.hgetall(this.key));
    const out: Decision[] = [];
    const expired: Array<[string, string]> = [];
    for (const [field, text] of Object.entries(all)) {
      let d: Decision;
      try {
        d = parseDecision(JSON.parse(text));
      } catch (e) {
        this.stats.invalid++;
        this.log(`decision store: ${this.key} field ${field} skipped: ${(e as Error).message}`);
        continue;
      }
      const x = decisionExpiry(d);
      if (d.op !== 'add' || (x !== null && x <= nowMs)) {
        expired.push([field, text]);
        continue;
      }
      out.push(d);
    }
    for (const [field, text] of expired) {
      const n = await this.run('expired HDEL', () => this.client.eval(DELETE_IF_SAME, 1, this.key, field, text)).catch(() => 0);
      if (n === 1) this.stats.expired++;
    }
    // by time, then id: HGETALL's order is the hash's, not one to hand on
    return out.sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

/**
 * What a decider does with a decision: keep it in the store first (a node starting now finds it),
 * then publish it (the nodes listening apply it at once). Resolves with the store's error, if
 * any, after publishing all the same (the bus still carries it to the nodes up now).
 */
export async function publishDecision(
  bus: { publish(subject: string, msgId: string, data: unknown): void },
  subject: string,
  d: Decision,
  store: DecisionStore | null,
): Promise<StoreError | null> {
  let err: StoreError | null = null;
  if (store !== null) {
    try {
      await store.put(d);
    } catch (e) {
      err = e as StoreError;
    }
  }
  bus.publish(subject, d.id, d);
  return err;
}
