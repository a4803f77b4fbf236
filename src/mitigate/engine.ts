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
 *
 * The records need not be packets: a RecordModel says how to compile a rule for them, how many
 * packets and bytes one stands for and when, and how to read rate-limit keys. PACKET_MODEL is the
 * default; flow records (mitigate/flow-model.ts) stand for many packets each, spread over time.
 */
import type { PacketView } from '../decode/view.js';
import { compilePacketRule, type IpListLookup } from '../rules/packet-ir.js';
import type { IpList } from './lists.js';
import { periodSeconds, type RateKey, type RateLimit, type Rule, type Ruleset } from './ruleset.js';

export const enum Verdict {
  PASS = 0,
  DROP = 1,
  RATE_LIMITED = 2,
}

export interface Counter {
  packets: number;
  bytes: number;
  /** Records behind those packets, when records are not packets (flows). */
  records?: number;
}

/**
 * What the engine needs to know about one kind of record. Packets, bytes and IP bytes are what
 * the record stands for on the wire (a sampled flow: scaled by its sampling rate).
 */
export interface RecordModel<V> {
  /** 'packet' keeps the engine's per-packet arithmetic exact; other kinds count records too. */
  readonly kind: 'packet' | 'flow';
  compile(expression: string, lists: IpListLookup | null): (v: V) => boolean;
  /** Does the record fall in the list, on the side the list says (source, destination, either)? */
  inList(list: IpList, v: V): boolean;
  /** The record's time (a flow: its last packet) as seconds and nanoseconds since the epoch. */
  sec(v: V): number;
  nsec(v: V): number;
  /** Nanoseconds between the first and the last packet the record stands for (0 for a packet). */
  spanNs(v: V): number;
  packets(v: V): number;
  bytes(v: V): number;
  ipBytes(v: V): number;
  /** IP version of the record, 0 when it has no IP layer. */
  ipVersion(v: V): number;
  /** The address as four words (IPv4 in the first): false when the record has none. */
  addrWords(v: V, src: boolean, out: Uint32Array): boolean;
  /** A numeric rate-limit key field, -1 when the record lacks it. */
  keyInt(field: RateKey, v: V): number;
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

/** Token buckets keyed by record fields, in a bounded open-addressing table. */
export class RateLimiter<V = PacketView> {
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

  constructor(
    readonly rl: RateLimit,
    private readonly model: RecordModel<V> = PACKET_MODEL as unknown as RecordModel<V>,
    /**
     * The current time in ns ([0]) and a flow's span ([1]), shared with the engine. A time in ns
     * passed as an argument is a double past ~1 s, and a double argument to a call that is not
     * inlined is boxed: one heap number per record (measured with the sampling heap profiler).
     */
    readonly clock: Float64Array = new Float64Array(2),
  ) {
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

  /** Fill this.k with the record's key; false when a key field is missing for this record. */
  private key(v: V): boolean {
    const k = this.k;
    const m = this.model;
    k.fill(0);
    let h = 0;
    let addr = false;
    for (const f of this.rl.key) {
      if (f === 'ip.src' || f === 'ip.dst') {
        const words = this.w;
        if (!m.addrWords(v, f === 'ip.src', words)) return false;
        if (!addr) {
          k.set(words);
          addr = true;
        } else for (const w of words) h = (Math.imul(h ^ w, 0x9e3779b1) + 0x7f4a7c15) | 0;
        h = (Math.imul(h ^ (m.ipVersion(v) + (f === 'ip.src' ? 0 : 16)), 0x85ebca6b) + 1) | 0;
        continue;
      }
      const x = m.keyInt(f, v);
      if (x < 0) return false;
      h = (Math.imul(h ^ x, 0x9e3779b1) + 0x7f4a7c15) | 0;
    }
    k[4] = h >>> 0;
    return true;
  }

  private readonly w = new Uint32Array(4);

  /** Account one packet at time `now` (ns): true when it conforms, false when over the limit. */
  conform(v: V, now: number, ipLen: number): boolean | null {
    this.clock[0] = now;
    return this.conformNow(v, ipLen);
  }

  /** conform() at the time in clock[0]. */
  conformNow(v: V, ipLen: number): boolean | null {
    const now = this.clock[0] as number;
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

  /**
   * Account `n` packets of `ipLen` bytes in all, spread evenly over the `span` ns that end at `now`
   * (a flow record): how many conform, or null when the key is missing. The bucket refills while
   * they arrive, so a long flow under the rate passes whole; records come in export order, not
   * time order, so time never runs backwards for a bucket. An approximation of the packet-by-packet
   * result: the packets of different records interleave in reality.
   */
  conformMany(v: V, now: number, span: number, n: number, ipLen: number): number | null {
    this.clock[0] = now;
    this.clock[1] = span;
    return this.conformManyNow(v, n, ipLen);
  }

  /** conformMany() at the time in clock[0], over the span in clock[1]. */
  conformManyNow(v: V, n: number, ipLen: number): number | null {
    const now = this.clock[0] as number;
    const span = this.clock[1] as number;
    if (!this.key(v)) return null;
    let s = this.find();
    const start = now - span;
    let tokens: number;
    if (this.used[s] === 0) {
      this.insert(s, start);
      s = this.find();
      tokens = this.max;
    } else {
      tokens = (this.tokens[s] as number) + Math.max(0, start - (this.last[s] as number));
      if (tokens > this.max) tokens = this.max;
    }
    const capacity = tokens + span;
    const cost = this.rl.unit === 'packets' ? this.cost : Math.floor((this.perByte * ipLen) / Math.max(1, n));
    const ok = cost <= 0 ? n : Math.min(n, Math.floor(capacity / cost));
    this.tokens[s] = Math.min(this.max, capacity - ok * cost);
    this.last[s] = Math.max(this.last[s] as number, now);
    return ok;
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

function packetKeyInt(f: RateKey, v: PacketView): number {
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

function packetAddrWords(v: PacketView, src: boolean, w: Uint32Array): boolean {
  if (v.ipVersion === 4) {
    w.fill(0);
    w[0] = src ? v.src4 : v.dst4;
    return true;
  }
  if (v.ipVersion !== 6) return false;
  const off = src ? v.src6Off : v.dst6Off;
  for (let i = 0; i < 4; i++) {
    const o = off + 4 * i;
    w[i] = (((v.buf[o] as number) << 24) | ((v.buf[o + 1] as number) << 16) | ((v.buf[o + 2] as number) << 8) | (v.buf[o + 3] as number)) >>> 0;
  }
  return true;
}

/** Packets: one record is one packet, its time the capture's, its bytes the wire length. */
export const PACKET_MODEL: RecordModel<PacketView> = {
  kind: 'packet',
  compile: compilePacketRule,
  inList: (l, v) => l.matches(v),
  sec: (v) => v.tsSec,
  nsec: (v) => v.tsNsec,
  spanNs: () => 0,
  packets: () => 1,
  bytes: (v) => v.wirelen,
  ipBytes: (v) => (v.ipVersion !== 0 ? v.ipLen : 0),
  ipVersion: (v) => v.ipVersion,
  addrWords: packetAddrWords,
  keyInt: packetKeyInt,
};

interface CompiledRule<V> {
  rule: Rule;
  match: (v: V) => boolean;
  limiter: RateLimiter<V> | null;
  stats: RuleStats;
}

export interface Decision {
  /** For a flow some of whose packets a rate limit stopped: the verdict of the rest. */
  verdict: Verdict;
  /** Index into rules of the rule that decided, -1 for none / a list. */
  rule: number;
  /** The list that decided, if any. */
  list: IpList | null;
}

export interface EngineOptions<V = PacketView> {
  /** Timeline resolution in seconds (default 1). */
  interval?: number;
  /** Bound on timeline points; the resolution doubles when exceeded (default 3600). */
  maxPoints?: number;
  /** The kind of record (default: packets). */
  model?: RecordModel<V>;
}

export class RuleEngine<V = PacketView> {
  private readonly model: RecordModel<V>;
  private readonly compiled: CompiledRule<V>[];
  private readonly allow: { list: IpList; stats: ListStats }[];
  private readonly block: { list: IpList; stats: ListStats }[];
  readonly totals: { packets: number; bytes: number; records?: number; passed: Counter; dropped: Counter; rate_limited: Counter };
  private t0Sec = -1;
  private t0Nsec = 0;
  private interval: number;
  private readonly maxPoints: number;
  private timeline: TimelinePoint[] = [];
  /** [0]: the current record's time in ns since the first; [1]: its span (flows). See RateLimiter.clock. */
  private readonly clock = new Float64Array(2);
  private readonly decision: Decision = { verdict: Verdict.PASS, rule: -1, list: null };
  /** Flows: counters also count records. */
  private readonly records: boolean;

  constructor(
    readonly ruleset: Ruleset,
    opts: EngineOptions<V> = {},
  ) {
    this.model = opts.model ?? (PACKET_MODEL as unknown as RecordModel<V>);
    this.records = this.model.kind !== 'packet';
    const counter = (): Counter => (this.records ? { packets: 0, bytes: 0, records: 0 } : { packets: 0, bytes: 0 });
    this.totals = { packets: 0, bytes: 0, ...(this.records && { records: 0 }), passed: counter(), dropped: counter(), rate_limited: counter() };
    this.interval = opts.interval ?? 1;
    this.maxPoints = opts.maxPoints ?? 3600;
    this.compiled = ruleset.rules.map((rule) => ({
      rule,
      match: this.model.compile(rule.expression, ruleset.lists),
      limiter: rule.rateLimit ? new RateLimiter(rule.rateLimit, this.model, this.clock) : null,
      stats: {
        id: rule.id,
        action: rule.action,
        enabled: rule.enabled,
        matched: counter(),
        dropped: counter(),
        passed: counter(),
        rate_limited: counter(),
        matched_ip_bytes: 0,
      },
    }));
    const ls = (l: IpList) => ({ list: l, stats: { name: l.name, kind: l.kind, matched: counter() } });
    this.allow = ruleset.lists.allowLists().map(ls);
    this.block = ruleset.lists.blockLists().map(ls);
  }

  /** Add packets and bytes (and, for flows, records) to a counter. */
  private add(c: Counter, packets: number, bytes: number, records: number): void {
    c.packets += packets;
    c.bytes += bytes;
    if (c.records !== undefined) c.records += records;
  }

  /**
   * Decide one record. The returned object is reused: read it before the next call. A flow
   * record's packets may be split: a rate limit stops some (counted as rate-limited) and the rest
   * go on to the following rules; the record itself is counted once, under its last verdict.
   */
  process(v: V): Decision {
    const m = this.model;
    const d = this.decision;
    d.verdict = Verdict.PASS;
    d.rule = -1;
    d.list = null;
    const sec = m.sec(v);
    const nsec = m.nsec(v);
    if (this.t0Sec < 0) {
      this.t0Sec = sec;
      this.t0Nsec = nsec;
    }
    this.clock[0] = (sec - this.t0Sec) * NS + (nsec - this.t0Nsec);
    const packets = m.packets(v);
    const bytes = m.bytes(v);
    const ipBytes = m.ipBytes(v);
    /** Packets of the record still undecided, and their bytes. */
    let left = packets;
    let leftBytes = bytes;
    decide: {
      // Indexed loops: a for-of here made an iterator per record (measured with the sampling heap profiler).
      for (let j = 0; j < this.allow.length; j++) {
        const a = this.allow[j] as { list: IpList; stats: ListStats };
        if (m.inList(a.list, v)) {
          this.add(a.stats.matched, packets, bytes, 1);
          d.list = a.list;
          break decide;
        }
      }
      for (let j = 0; j < this.block.length; j++) {
        const b = this.block[j] as { list: IpList; stats: ListStats };
        if (m.inList(b.list, v)) {
          this.add(b.stats.matched, packets, bytes, 1);
          d.list = b.list;
          d.verdict = Verdict.DROP;
          break decide;
        }
      }
      for (let i = 0; i < this.compiled.length; i++) {
        const c = this.compiled[i] as CompiledRule<V>;
        if (!c.rule.enabled || !c.match(v)) continue;
        const s = c.stats;
        const share = packets === 0 ? 1 : left / packets;
        this.add(s.matched, left, leftBytes, 1);
        s.matched_ip_bytes += ipBytes * share;
        switch (c.rule.action) {
          case 'block':
            this.add(s.dropped, left, leftBytes, 1);
            d.verdict = Verdict.DROP;
            d.rule = i;
            break decide;
          case 'allow':
            this.add(s.passed, left, leftBytes, 1);
            d.rule = i;
            break decide;
          case 'log':
            break;
          case 'rate_limit': {
            const limiter = c.limiter as RateLimiter<V>;
            let limited: number;
            if (!this.records) limited = limiter.conformNow(v, ipBytes) === false ? 1 : 0;
            else {
              this.clock[1] = m.spanNs(v);
              const ok = limiter.conformManyNow(v, left, ipBytes * share);
              limited = ok === null ? 0 : left - ok;
            }
            if (limited === 0) break;
            const limitedBytes = left === limited ? leftBytes : (leftBytes * limited) / left;
            left -= limited;
            leftBytes -= limitedBytes;
            // The stopped packets are accounted now; the record goes with its last verdict.
            this.add(s.rate_limited, limited, limitedBytes, left === 0 ? 1 : 0);
            this.account(Verdict.RATE_LIMITED, limited, limitedBytes, left === 0 ? 1 : 0);
            if (left === 0) {
              d.verdict = Verdict.RATE_LIMITED;
              d.rule = i;
              break decide;
            }
            break;
          }
        }
      }
    }
    // A record a rate limit stopped whole was accounted with its packets.
    if (left > 0 || d.verdict !== Verdict.RATE_LIMITED) this.account(d.verdict, left, leftBytes, 1);
    return d;
  }

  /** Count a verdict at the time in clock[0]. */
  private account(verdict: Verdict, packets: number, bytes: number, records: number): void {
    const now = this.clock[0] as number;
    const t = this.totals;
    t.packets += packets;
    t.bytes += bytes;
    if (t.records !== undefined) t.records += records;
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
      this.add(t.passed, packets, bytes, records);
      p.passed += packets;
      p.passed_bytes += bytes;
    } else if (verdict === Verdict.DROP) {
      this.add(t.dropped, packets, bytes, records);
      p.dropped += packets;
      p.dropped_bytes += bytes;
    } else {
      this.add(t.rate_limited, packets, bytes, records);
      p.rate_limited += packets;
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
    return this.compiled.filter((c) => c.limiter).map((c) => ({ id: c.rule.id, keys: (c.limiter as RateLimiter<V>).size, evictions: (c.limiter as RateLimiter<V>).evictions }));
  }
}
