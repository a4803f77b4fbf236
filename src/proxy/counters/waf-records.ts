/**
 * The WAF's persistent collections (IP, GLOBAL, SESSION, ... — waf/persistent.ts) in the edge's
 * counter store, so proxies sharing Redis for rate limits also share what CRS rules remember
 * about a client (a DoS burst counted on one proxy and finished on another blocks on both).
 *
 * One hash per record, `<prefix>waf:<COLL>:<key>`: the variables by lower-case name, the
 * expiry of each expiring one in `__expire_<name>` (ms, as ModSecurity names it), and
 * `__create`, `__updated`, `__until` (ms), `__count` (writes). A record is gone TIMEOUT seconds
 * after its last write by the proxies' clock (`__until`, so replays and tests agree), and Redis
 * drops the key then too (PEXPIRE, by its own clock). Reading (one script for all of a request's records, one round trip) drops
 * expired variables; a write (one script per request) applies the transaction's operations in
 * order, increments as HINCRBY-like increments, so concurrent proxies add up instead of
 * overwriting each other.
 *
 * Health is the counter store's: the same client, the same down/up messages and failure
 * counts, the same fail mode (the WAF phase fails open or closed as the counters do).
 */
import { createHash } from 'node:crypto';
import type { CollectionOp, CollectionStore, RecordChanges, RecordRef, StoredRecord } from '../../waf/persistent.js';
import type { RedisCounterStore } from './redis.js';

/** KEYS: records. ARGV[1]: now (ms). Returns per key its fields as a flat name/value array
 * (empty: no record), expired variables removed from Redis and from the answer. */
const LOAD = `
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local k = KEYS[i]
  local u = tonumber(redis.call('HGET', k, '__until'))
  if u and u <= now then redis.call('DEL', k) end
  local flat = redis.call('HGETALL', k)
  local gone = {}
  for j = 1, #flat, 2 do
    local name = flat[j]
    if string.sub(name, 1, 9) == '__expire_' and tonumber(flat[j + 1]) <= now then
      local var = string.sub(name, 10)
      gone[name] = true
      gone[var] = true
      redis.call('HDEL', k, name, var)
    end
  end
  local rec = {}
  for j = 1, #flat, 2 do
    local name = flat[j]
    if not gone[name] and string.sub(name, 1, 9) ~= '__expire_' then
      rec[#rec + 1] = name
      rec[#rec + 1] = flat[j + 1]
    end
  end
  out[i] = rec
end
return out
`;

/** KEYS: records. ARGV[1]: now (ms). Then per key: timeout (ms), op count, and per op its kind
 * (s set, a add, d delete, e expire), name and value (for e: the expiry time, ms). */
const COMMIT = `
local now = ARGV[1]
local nownum = tonumber(now)
local a = 2
for i = 1, #KEYS do
  local k = KEYS[i]
  local timeout = ARGV[a]
  local n = tonumber(ARGV[a + 1])
  a = a + 2
  local u = tonumber(redis.call('HGET', k, '__until'))
  if u and u <= nownum then redis.call('DEL', k) end
  for j = 1, n do
    local op, name, val = ARGV[a], ARGV[a + 1], ARGV[a + 2]
    a = a + 3
    local exname = '__expire_' .. name
    local ex = redis.call('HGET', k, exname)
    if ex and tonumber(ex) <= nownum then redis.call('HDEL', k, name, exname) end
    if op == 's' then
      redis.call('HSET', k, name, val)
    elseif op == 'a' then
      local cur = math.floor(tonumber(redis.call('HGET', k, name)) or 0)
      redis.call('HSET', k, name, string.format('%d', cur + tonumber(val)))
    elseif op == 'd' then
      redis.call('HDEL', k, name, exname)
    elseif op == 'e' then
      if redis.call('HEXISTS', k, name) == 1 then redis.call('HSET', k, exname, val) end
    end
  end
  redis.call('HSETNX', k, '__create', now)
  redis.call('HSET', k, '__updated', now)
  redis.call('HINCRBY', k, '__count', 1)
  redis.call('HSET', k, '__until', string.format('%d', nownum + tonumber(timeout)))
  redis.call('PEXPIRE', k, timeout)
end
return #KEYS
`;
const LOAD_SHA = createHash('sha1').update(LOAD).digest('hex');
const COMMIT_SHA = createHash('sha1').update(COMMIT).digest('hex');

export class RedisCollectionStore implements CollectionStore {
  readonly kind = 'remote';
  readonly prefix: string;

  constructor(readonly counters: RedisCounterStore) {
    this.prefix = `${counters.prefix}waf:`;
  }

  load(): undefined {
    return undefined;
  }

  private keyOf(coll: string, key: string): string {
    return `${this.prefix}${coll}:${key}`;
  }

  async fetch(refs: readonly RecordRef[], now: number): Promise<(StoredRecord | null)[]> {
    const args: (string | number)[] = [refs.length];
    for (const r of refs) args.push(this.keyOf(r.coll, r.key));
    args.push(Math.floor(now));
    let reply: unknown;
    try {
      reply = await this.counters.evalScript(LOAD_SHA, LOAD, args);
    } catch (e) {
      this.counters.unanswered(e as Error);
      throw e;
    }
    this.counters.answered();
    return (reply as string[][]).map((flat) => recordOf(flat, now));
  }

  async commit(changes: readonly RecordChanges[], now: number): Promise<void> {
    const t = Math.floor(now);
    const args: (string | number)[] = [changes.length];
    for (const c of changes) args.push(this.keyOf(c.coll, c.key));
    args.push(t);
    for (const c of changes) {
      args.push(c.timeout * 1000, c.ops.length);
      for (const o of c.ops) pushOp(args, o, t);
    }
    try {
      await this.counters.evalScript(COMMIT_SHA, COMMIT, args);
    } catch (e) {
      this.counters.unanswered(e as Error);
      throw e;
    }
    this.counters.answered();
  }
}

function pushOp(args: (string | number)[], o: CollectionOp, now: number): void {
  switch (o.op) {
    case 'set':
      args.push('s', o.name, o.value);
      break;
    case 'add':
      args.push('a', o.name, o.delta);
      break;
    case 'del':
      args.push('d', o.name, '');
      break;
    case 'expire':
      args.push('e', o.name, now + o.seconds * 1000);
      break;
  }
}

function recordOf(flat: string[], now: number): StoredRecord | null {
  if (flat.length === 0) return null;
  const vars = new Map<string, string>();
  let createTime = now;
  let lastUpdate = now;
  let updateCounter = 0;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    const v = flat[i + 1];
    if (name === '__create') createTime = Number(v) || now;
    else if (name === '__updated') lastUpdate = Number(v) || now;
    else if (name === '__count') updateCounter = Number(v) || 0;
    else if (name !== '__until') vars.set(name, v);
  }
  return { vars, createTime, lastUpdate, updateCounter };
}
