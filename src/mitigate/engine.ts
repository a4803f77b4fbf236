/**
 * The rule engine: runs a ruleset over packets in order, as the edge or the kernel would.
 *
 * Per packet: allow lists (pass, skip everything), block lists (drop), then the enabled rules
 * in order: `block` drops and stops, `allow` passes and stops, `log` counts and continues,
 * `rate_limit` drops the packet when its key's token bucket is empty and otherwise continues.
 * A packet no rule stopped passes. Time is the capture's own clock (replay and live share code).
 *
 * Token buckets follow nftables' `limit` exactly (net/netfilter/nft_limit.c), in nanoseconds:
 * packets: cost = period/rate, capacity = cost × burst; bytes: cost = period × len / rate,
 * capacity = period × (rate + burst) / rate, len being the IP length. A bucket starts full.
 */
import type { PacketView } from '../decode/view.js';
import { compilePacketRule, type Predicate } from '../rules/packet-ir.js';
import type { IpList } from './lists.js';
import { periodSeconds, type RateLimit, type Rule, type Ruleset } from './ruleset.js';

export const enum Verdict {
  PASS = 0,
  DROP = 1,
  RATE_LIMITED = 2,
}

export interface Counter {
  packets: number;
  bytes: number;
}

export interface RuleStats {
  id: string;
  action: string;
  enabled: boolean;
  /** Packets that reached the rule and matched its expression. */
  matched: Counter;
  /** Of those, packets this rule decided: dropped (block), passed (allow), rate-limited. */
  dropped: Counter;
  passed: Counter;
  rate_limited: Counter;
  /** Sum of IP lengths of matched packets (what a kernel counter at the IP layer shows). */
  matched_ip_bytes: number;
}

export interface ListStats {
  name: string;
  kind: string;
  matched: Counter;
}

export interface TimelinePoint {
  /** Seconds since the first packet (start of the interval). */
  t: number;
  passed: number;
  dropped: number;
  rate_limited: number;
  passed_bytes: number;
  dropped_bytes: number;
  rate_limited_bytes: number;
}

const NS = 1e9;

/** Token buckets keyed by packet fields, in a bounded open-addressing table. */
export class RateLimiter {
  readonly cost: number;
  readonly max: number;
  private readonly perByte: number;
  private readonly cap: number;
  private readonly mask: number;
  private readonly keys: Uint32Array;
  private readonly used: Uint8Array;
  private readonly tokens: Float64Array;
  private readonly last: Float64Array;
  private count = 0;
  private readonly k = new Uint32Array(5);
  /** Keys evicted because the table was full. */
  evictions = 0;

  constructor(readonly rl: RateLimit) {
    const nsecs = periodSeconds(rl.period) * NS;
    if (rl.unit === 'packets') {
      this.cost = Math.floor(nsecs / rl.rate);
      this.max = this.cost * rl.burst;
      this.perByte = 0;
    } else {
      this.cost = 0;
      this.perByte = nsecs / rl.rate;
      this.max = Math.floor((nsecs * (rl.rate + rl.burst)) / rl.rate);
    }
    let cap = 16;
    while (cap < rl.maxKeys * 2) cap *= 2;
    this.cap = rl.key.length === 0 ? 1 : cap;
    this.mask = this.cap - 1;
    this.keys = new Uint32Array(this.cap * 5);
    this.used = new Uint8Array(this.cap);
    this.tokens = new Float64Array(this.cap);
    this.last = new Float64Array(this.cap);
  }

  /** Fill this.k with the packet's key; false when a key field is missing for this packet. */
  private key(v: PacketView): boolean {
    const k = this.k;
    k.fill(0);
    let h = 0;
    let addr = false;
    for (const f of this.rl.key) {
      if (f === 'ip.src' || f === 'ip.dst') {
        const words = this.addrWords(v, f === 'ip.src');
        if (words === null) return false;
        if (!addr) {
          k.set(words);
          addr = true;
        } else for (const w of words) h = (Math.imul(h ^ w, 0x9e3779b1) + 0x7f4a7c15) | 0;
        h = (Math.imul(h ^ (v.ipVersion + (f === 'ip.src' ? 0 : 16)), 0x85ebca6b) + 1) | 0;
        continue;
      }
      const x = keyInt(f, v);
      if (x < 0) return false;
      h = (Math.imul(h ^ x, 0x9e3779b1) + 0x7f4a7c15) | 0;
    }
    k[4] = h >>> 0;
    return true;
  }

  private readonly w = new Uint32Array(4);
  private addrWords(v: PacketView, src: boolean): Uint32Array | null {
    const w = this.w;
    if (v.ipVersion === 4) {
      w.fill(0);
      w[0] = src ? v.src4 : v.dst4;
      return w;
    }
    if (v.ipVersion !== 6) return null;
    const off = src ? v.src6Off : v.dst6Off;
    for (let i = 0; i < 4; i++) {
      const o = off + 4 * i;
      w[i] = (((v.buf[o] as number) << 24) | ((v.buf[o + 1] as number) << 16) | ((v.buf[o + 2] as number) << 8) | (v.buf[o + 3] as number)) >>> 0;
    }
    return w;
  }

  /** Account one packet at time `now` (ns): true when it conforms, false when over the limit. */
  conform(v: PacketView, now: number, ipLen: number): boolean | null {
    if (!this.key(v)) return null;
    let s = this.find();
    let tokens: number;
    if (this.used[s] === 0) {
      this.insert(s, now);
      s = this.find();
      tokens = this.max;
    } else {
      tokens = (this.tokens[s] as number) + (now - (this.last[s] as number));
      if (tokens > this.max) tokens = this.max;
    }
    this.last[s] = now;
    const cost = this.rl.unit === 'packets' ? this.cost : Math.floor(this.perByte * ipLen);
    if (tokens - cost >= 0) {
      this.tokens[s] = tokens - cost;
      return true;
    }
    this.tokens[s] = tokens;
    return false;
  }

  private hash(): number {
    const k = this.k;
    let h = 0x811c9dc5;
    for (let i = 0; i < 5; i++) h = Math.imul(h ^ (k[i] as number), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    return (h ^ (h >>> 12)) >>> 0;
  }

  /** Slot holding the key, or the empty slot where it would go. */
  private find(): number {
    let i = this.hash() & this.mask;
    const k = this.k;
    for (;;) {
      if (this.used[i] === 0) return i;
      const o = i * 5;
      if (this.keys[o] === k[0] && this.keys[o + 1] === k[1] && this.keys[o + 2] === k[2] && this.keys[o + 3] === k[3] && this.keys[o + 4] === k[4]) return i;
      i = (i + 1) & this.mask;
    }
  }

  private insert(slot: number, now: number): void {
    if (this.count >= this.rl.maxKeys) {
      this.evictOldest(slot);
      slot = this.find();
    }
    this.used[slot] = 1;
    this.keys.set(this.k, slot * 5);
    this.tokens[slot] = this.max;
    this.last[slot] = now;
    this.count++;
  }

  /** Evict the least recently seen of a few occupied slots after `from` (bounded work). */
  private evictOldest(from: number): void {
    let victim = -1;
    let oldest = Number.POSITIVE_INFINITY;
    let seen = 0;
    for (let i = (from + 1) & this.mask; seen < 16; i = (i + 1) & this.mask) {
      if (this.used[i] === 1) {
        seen++;
        if ((this.last[i] as number) < oldest) {
          oldest = this.last[i] as number;
          victim = i;
        }
      }
      if (i === from) break;
    }
    if (victim < 0) return;
    this.remove(victim);
    this.evictions++;
  }

  /** Delete with backward shift so probe chains stay intact. */
  private remove(slot: number): void {
    this.used[slot] = 0;
    this.count--;
    let hole = slot;
    let i = (slot + 1) & this.mask;
    const save = Uint32Array.from(this.k);
    while (this.used[i] === 1) {
      this.k.set(this.keys.subarray(i * 5, i * 5 + 5));
      const home = this.hash() & this.mask;
      // Move i into the hole when its home is not in (hole, i].
      const between = hole <= i ? home > hole && home <= i : home > hole || home <= i;
      if (!between) {
        this.keys.copyWithin(hole * 5, i * 5, i * 5 + 5);
        this.tokens[hole] = this.tokens[i] as number;
        this.last[hole] = this.last[i] as number;
        this.used[hole] = 1;
        this.used[i] = 0;
        hole = i;
      }
      i = (i + 1) & this.mask;
    }
    this.k.set(save);
  }

  get size(): number {
    return this.count;
  }
}

function keyInt(f: string, v: PacketView): number {
  const tcp = v.l4Proto === 6 && v.l4Off >= 0;
  const udp = v.l4Proto === 17 && v.l4Off >= 0;
  switch (f) {
    case 'ip.proto.num':
      return v.ipVersion !== 0 ? v.ipProto : -1;
    case 'tcp.srcport':
      return tcp ? v.srcPort : -1;
    case 'tcp.dstport':
      return tcp ? v.dstPort : -1;
    case 'udp.srcport':
      return udp ? v.srcPort : -1;
    case 'udp.dstport':
      return udp ? v.dstPort : -1;
    case 'icmp.type':
      return (v.l4Proto === 1 || v.l4Proto === 58) && v.l4Off >= 0 ? v.icmpType : -1;
  }
  return -1;
}

interface CompiledRule {
  rule: Rule;
  match: Predicate;
  limiter: RateLimiter | null;
  stats: RuleStats;
}

export interface Decision {
  verdict: Verdict;
  /** Index into rules of the rule that decided, -1 for none / a list. */
  rule: number;
  /** The list that decided, if any. */
  list: IpList | null;
}

export interface EngineOptions {
  /** Timeline resolution in seconds (default 1). */
  interval?: number;
  /** Bound on timeline points; the resolution doubles when exceeded (default 3600). */
  maxPoints?: number;
}

export class RuleEngine {
  private readonly compiled: CompiledRule[];
  private readonly allow: { list: IpList; stats: ListStats }[];
  private readonly block: { list: IpList; stats: ListStats }[];
  readonly totals = {
    packets: 0,
    bytes: 0,
    passed: { packets: 0, bytes: 0 },
    dropped: { packets: 0, bytes: 0 },
    rate_limited: { packets: 0, bytes: 0 },
  };
  private t0Sec = -1;
  private t0Nsec = 0;
  private interval: number;
  private readonly maxPoints: number;
  private timeline: TimelinePoint[] = [];
  private readonly decision: Decision = { verdict: Verdict.PASS, rule: -1, list: null };

  constructor(
    readonly ruleset: Ruleset,
    opts: EngineOptions = {},
  ) {
    this.interval = opts.interval ?? 1;
    this.maxPoints = opts.maxPoints ?? 3600;
    this.compiled = ruleset.rules.map((rule) => ({
      rule,
      match: compilePacketRule(rule.expression, ruleset.lists),
      limiter: rule.rateLimit ? new RateLimiter(rule.rateLimit) : null,
      stats: {
        id: rule.id,
        action: rule.action,
        enabled: rule.enabled,
        matched: { packets: 0, bytes: 0 },
        dropped: { packets: 0, bytes: 0 },
        passed: { packets: 0, bytes: 0 },
        rate_limited: { packets: 0, bytes: 0 },
        matched_ip_bytes: 0,
      },
    }));
    const ls = (l: IpList) => ({ list: l, stats: { name: l.name, kind: l.kind, matched: { packets: 0, bytes: 0 } } });
    this.allow = ruleset.lists.allowLists().map(ls);
    this.block = ruleset.lists.blockLists().map(ls);
  }

  /** Decide one packet. The returned object is reused: read it before the next call. */
  process(v: PacketView): Decision {
    const d = this.decision;
    d.verdict = Verdict.PASS;
    d.rule = -1;
    d.list = null;
    if (this.t0Sec < 0) {
      this.t0Sec = v.tsSec;
      this.t0Nsec = v.tsNsec;
    }
    const now = (v.tsSec - this.t0Sec) * NS + (v.tsNsec - this.t0Nsec);
    const bytes = v.wirelen;
    const ipLen = v.ipVersion !== 0 ? v.ipLen : 0;
    decide: {
      for (const a of this.allow) {
        if (a.list.matches(v)) {
          a.stats.matched.packets++;
          a.stats.matched.bytes += bytes;
          d.list = a.list;
          break decide;
        }
      }
      for (const b of this.block) {
        if (b.list.matches(v)) {
          b.stats.matched.packets++;
          b.stats.matched.bytes += bytes;
          d.list = b.list;
          d.verdict = Verdict.DROP;
          break decide;
        }
      }
      for (let i = 0; i < this.compiled.length; i++) {
        const c = this.compiled[i] as CompiledRule;
        if (!c.rule.enabled || !c.match(v)) continue;
        const s = c.stats;
        s.matched.packets++;
        s.matched.bytes += bytes;
        s.matched_ip_bytes += ipLen;
        switch (c.rule.action) {
          case 'block':
            s.dropped.packets++;
            s.dropped.bytes += bytes;
            d.verdict = Verdict.DROP;
            d.rule = i;
            break decide;
          case 'allow':
            s.passed.packets++;
            s.passed.bytes += bytes;
            d.rule = i;
            break decide;
          case 'log':
            break;
          case 'rate_limit': {
            const ok = (c.limiter as RateLimiter).conform(v, now, ipLen);
            if (ok === false) {
              s.rate_limited.packets++;
              s.rate_limited.bytes += bytes;
              d.verdict = Verdict.RATE_LIMITED;
              d.rule = i;
              break decide;
            }
            break;
          }
        }
      }
    }
    this.account(d.verdict, now, bytes);
    return d;
  }

  private account(verdict: Verdict, now: number, bytes: number): void {
    const t = this.totals;
    t.packets++;
    t.bytes += bytes;
    let idx = Math.floor(now / NS / this.interval);
    if (idx < 0) idx = 0;
    while (idx >= this.maxPoints) {
      this.coarsen();
      idx = Math.floor(now / NS / this.interval);
    }
    while (this.timeline.length <= idx) {
      this.timeline.push({
        t: this.timeline.length * this.interval,
        passed: 0,
        dropped: 0,
        rate_limited: 0,
        passed_bytes: 0,
        dropped_bytes: 0,
        rate_limited_bytes: 0,
      });
    }
    const p = this.timeline[idx] as TimelinePoint;
    if (verdict === Verdict.PASS) {
      t.passed.packets++;
      t.passed.bytes += bytes;
      p.passed++;
      p.passed_bytes += bytes;
    } else if (verdict === Verdict.DROP) {
      t.dropped.packets++;
      t.dropped.bytes += bytes;
      p.dropped++;
      p.dropped_bytes += bytes;
    } else {
      t.rate_limited.packets++;
      t.rate_limited.bytes += bytes;
      p.rate_limited++;
      p.rate_limited_bytes += bytes;
    }
  }

  private coarsen(): void {
    const out: TimelinePoint[] = [];
    this.interval *= 2;
    for (let i = 0; i < this.timeline.length; i += 2) {
      const a = this.timeline[i] as TimelinePoint;
      const b = this.timeline[i + 1];
      out.push({
        t: out.length * this.interval,
        passed: a.passed + (b?.passed ?? 0),
        dropped: a.dropped + (b?.dropped ?? 0),
        rate_limited: a.rate_limited + (b?.rate_limited ?? 0),
        passed_bytes: a.passed_bytes + (b?.passed_bytes ?? 0),
        dropped_bytes: a.dropped_bytes + (b?.dropped_bytes ?? 0),
        rate_limited_bytes: a.rate_limited_bytes + (b?.rate_limited_bytes ?? 0),
      });
    }
    this.timeline = out;
  }

  ruleStats(): RuleStats[] {
    return this.compiled.map((c) => c.stats);
  }

  listStats(): ListStats[] {
    return [...this.allow, ...this.block].map((x) => x.stats);
  }

  getTimeline(): { interval_s: number; points: TimelinePoint[] } {
    return { interval_s: this.interval, points: this.timeline };
  }

  /** Keys currently tracked and evicted, per rate-limit rule. */
  limiterStats(): { id: string; keys: number; evictions: number }[] {
    return this.compiled.filter((c) => c.limiter).map((c) => ({ id: c.rule.id, keys: (c.limiter as RateLimiter).size, evictions: (c.limiter as RateLimiter).evictions }));
  }
}
