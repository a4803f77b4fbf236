/**
 * The L3/L4 detector: one-second windows per destination address and per destination prefix
 * (IPv4 /24 and IPv6 /64 by default), per-class counters, distinct-source/port/name bitmaps, an
 * EWMA baseline per destination and class, and attack lifecycles.
 *
 * Thresholds need no configuration (a user reading a stranger's capture has none): a class fires
 * for a key when its rate clears an absolute floor, it dominates the key's traffic, and — once the
 * key's baseline has warmed up — it is well above that baseline. Reflection classes instead need
 * many distinct reflectors and large replies, because amplification is often low in packets but
 * high in bytes. Optional static per-prefix thresholds (palisade.yaml `detection.thresholds`)
 * override the floors, as FastNetMon's hostgroups do.
 *
 * Carpet bombing: a prefix whose class traffic fires while no single address in it takes half of
 * it, over at least 16 addresses, is one attack on the prefix; its addresses are not reported
 * one by one. An attack stays open while its class keeps a fraction of its peak and ends after a
 * quiet period, so a bursty flood is one attack, not many.
 *
 * Per packet: one classification, two table probes, a few counter updates, and (for victims
 * under attack) one reservoir-sample write. Nothing is allocated per packet.
 */
import type { PacketView } from '../decode/view.js';
import { Tunnel } from '../decode/view.js';
import type { Vector } from '../model/attack.js';
import { CLS_VECTOR, Cls, classify, NCLS } from './classify.js';
import { Measurement } from './live.js';
import { VictimSample } from './sample.js';
import { findSignature, fragShare, isReflection, type Signature } from './signature.js';
import { hashBytes, mix32 } from './sketch/hash.js';
import { KeyTable } from './table.js';

export interface StaticThreshold {
  /** CIDR the threshold applies to (IPv4 or IPv6). */
  prefix: string;
  pps?: number;
  bps?: number;
  /** Per-vector overrides. */
  vectors?: Partial<Record<Vector, { pps?: number; bps?: number }>>;
}

export interface DetectOptions {
  /** Carpet-bombing prefix lengths (default 24 and 64). */
  prefix4?: number;
  prefix6?: number;
  /** Seconds without an active window before an attack ends (default 10). */
  quietS?: number;
  thresholds?: StaticThreshold[];
  /** Destinations tracked per window (default 8192). */
  capacity?: number;
  /** Windows an attack lasts before its signature is fixed and measured live (default 3; 1 for stdin, which cannot be re-read). */
  lockWindows?: number;
}

/** Absolute floors in packets per second, per class (0: the class never fires on its own). */
const FLOOR_PPS = new Float64Array(NCLS);
FLOOR_PPS[Cls.TCP_SYN] = 300;
FLOOR_PPS[Cls.TCP_SYNACK] = 300;
FLOOR_PPS[Cls.TCP_ACK] = 500;
FLOOR_PPS[Cls.TCP_RST] = 300;
FLOOR_PPS[Cls.TCP_ANOMALY] = 100;
FLOOR_PPS[Cls.UDP] = 500;
FLOOR_PPS[Cls.ICMP] = 300;
FLOOR_PPS[Cls.FRAG] = 200;
FLOOR_PPS[Cls.GRE] = 200;
FLOOR_PPS[Cls.IPPROTO] = 200;
FLOOR_PPS[Cls.DNS_QUERY] = 300;
for (let c = Cls.DNS_RESP; c <= Cls.UDP_REFL; c++) FLOOR_PPS[c] = 15;

/** Share of the key's packets the class must have. */
const DOMINANCE = new Float64Array(NCLS).fill(0.5);
DOMINANCE[Cls.TCP_ACK] = 0.85;
DOMINANCE[Cls.DNS_QUERY] = 0.3;
for (let c = Cls.DNS_RESP; c <= Cls.UDP_REFL; c++) DOMINANCE[c] = 0.15;

/** Class count from which a window that did not fire may still be an attack's first (partial) second. */
const ONSET = new Float64Array(NCLS);
for (let c = 1; c < NCLS; c++) ONSET[c] = Math.max(2, 0.1 * (FLOOR_PPS[c] as number));
for (let c = Cls.DNS_RESP; c <= Cls.UDP_REFL; c++) ONSET[c] = 5;
/** Packets per window from which a destination's baseline is learnt. */
const LEARN_MIN = 20;

const REFLECTION_FIRST = Cls.DNS_RESP;
const REFLECTION_LAST = Cls.UDP_REFL;
const WARM_WINDOWS = 10;
/** Windows an attack must last before its signature is fixed and measured live. */
const LOCK_WINDOWS = 3;
/** Rows of the per-window reservoir that seeds a new victim's sample (small: it sees every packet). */
const WINDOW_ROWS = 2048;
const MIN_HITS_CARPET = 16;
/** Distinct destination ports (and packets) in one window from which few sources are a port scan. */
const SCAN_PORTS = 64;
const BASELINE_KEYS = 16384;

export interface Track {
  id: number;
  key: string;
  /** The key as the detector's maps know it (see Kid). */
  kid: Kid;
  isPrefix: boolean;
  fam: 4 | 6;
  /** Address or prefix bytes (IPv4 in the first 4). */
  addr: Uint8Array;
  prefixLen: number;
  cls: number;
  vector: Vector;
  /** Relative nanoseconds (from the detector's base second). */
  start: number;
  detected: number;
  end: number;
  lastActive: number;
  peakPps: number;
  peakBps: number;
  windowPackets: number;
  windowBytes: number;
  /** Windows in which the attack was active. */
  windows: number;
  /** The class's learnt rate for this victim before the attack (pps; 0 when none). */
  baseRate: number;
  sampler: VictimSample;
  /** Windows (seconds from the base second) in which the attack was active. */
  activeWins: Set<number>;
  /** The signature, fixed once the attack has lasted LOCK_WINDOWS windows (or at the end). */
  sig: Signature | null;
  m: Measurement<Track> | null;
  /** Absolute second from which `m` measured the packets live (Infinity: none). */
  lockSec: number;
}

/**
 * A victim key in the detector's maps: an IPv4 address is its int32 value, an IPv4 prefix
 * PFX4 + its int32 network address, anything else (IPv6) its key string. A (key, class) pair
 * is kid * 32 + class for numbers (exact below 2^53), `${key}|${class}` for strings.
 */
type Kid = string | number;
const PFX4 = 2 ** 33;

function classKid(kid: Kid, c: number): Kid {
  return typeof kid === 'number' ? kid * 32 + c : `${kid}|${c}`;
}

interface Parsed {
  fam: 4 | 6;
  bytes: Uint8Array;
  len: number;
  th: StaticThreshold;
}

export class Detector {
  private base = -1;
  private cur = -1;
  private lastT = 0;
  private readonly dst: KeyTable;
  private readonly pfx: KeyTable;
  private readonly p4: number;
  private readonly p6: number;
  private readonly quietNs: number;
  private readonly statics: Parsed[];
  /** Per-window maps are keyed by `Kid`s (numbers for IPv4: no string is built per key and window). */
  private readonly baseline = new Map<Kid, Float64Array>();
  private readonly active = new Map<Kid, Track>();
  /** Victim key → bit mask of the classes with an open attack. */
  private readonly activeCls = new Map<Kid, number>();
  /** Measurements running live (signatures already fixed). */
  private readonly live: Measurement<Track>[] = [];
  /** Called when a signature is fixed during the pass (its catch-up may then run elsewhere: thread.ts). */
  onLock: ((tr: Track) => void) | null = null;
  /** Every track ever opened (for the measurement pass). */
  private readonly all: Track[] = [];
  private readonly done: Track[] = [];
  private readonly samplers = new Map<string, VictimSample>();
  /** Victims under attack → index in samplerList, looked up once per key per window. */
  private readonly victims4 = new Map<number, number>();
  private readonly victimsStr = new Map<string, number>();
  /** IPv4 prefixes under attack (network address → sampler index). */
  private readonly victimsP4 = new Map<number, number>();
  private readonly samplerList: VictimSample[] = [];
  private onsetPrev = new Map<Kid, number>();
  private onsetCur = new Map<Kid, number>();
  private readonly pmax: Float64Array;
  /** Per prefix slot, this window: the classes a carpet attack on the prefix covers (its addresses are not reported one by one). */
  private readonly carpet: Int32Array;
  /** Uniform samples of the current and previous windows' packets, to seed a new victim's sample. */
  private winCur = new VictimSample(0x1234567, WINDOW_ROWS);
  private winPrev = new VictimSample(0x7654321, WINDOW_ROWS);
  private nextId = 1;
  /** The last IPv4 destination and its slot in this window (-1: none; reset when the window closes). */
  private lastDst4 = 0;
  private lastSlot4 = -1;
  private readonly lockWindows: number;
  packets = 0;

  constructor(opts: DetectOptions = {}) {
    const cap = opts.capacity ?? 8192;
    this.dst = new KeyTable(cap);
    this.pfx = new KeyTable(Math.max(256, cap >> 2));
    this.p4 = opts.prefix4 ?? 24;
    this.p6 = opts.prefix6 ?? 64;
    this.quietNs = (opts.quietS ?? 10) * 1e9;
    this.lockWindows = opts.lockWindows ?? LOCK_WINDOWS;
    this.statics = (opts.thresholds ?? []).map(parseThreshold);
    this.pmax = new Float64Array(this.pfx.cap * NCLS);
    this.carpet = new Int32Array(this.pfx.cap);
  }

  /** Relative time of a packet in ns from the first packet's second. */
  private rel(v: PacketView): number {
    return (v.tsSec - this.base) * 1e9 + v.tsNsec;
  }

  add(v: PacketView): void {
    if (v.ipVersion === 0) return;
    if (this.base < 0) {
      this.base = v.tsSec;
      this.cur = v.tsSec;
      this.dst.base = this.base;
      this.pfx.base = this.base;
      this.winCur.base = this.base;
      this.winPrev.base = this.base;
    }
    if (v.tsSec !== this.cur) {
      // Time goes forward by whole windows; packets slightly out of order stay in the current one.
      if (v.tsSec > this.cur) {
        this.closeWindow((this.cur + 1 - this.base) * 1e9);
        this.cur = v.tsSec;
      }
    }
    this.packets++;
    const t = this.rel(v);
    if (t > this.lastT) this.lastT = t;
    const c = classify(v);
    // Times go to callees as the view's two integer fields, never as a double argument (a double
    // crossing a call that is not inlined is boxed: one allocation per packet).
    const w = this.winCur;
    if (w.seen >= w.cap && w.seen !== w.next) w.seen++;
    else w.add(v, c);
    const dt = this.dst;
    let i: number;
    const gre = (v.tunnel & Tunnel.GRE) !== 0;
    const fam = gre ? v.outerIpVersion : v.ipVersion;
    if (fam === 4) {
      const a = (gre ? v.outerDst4 : v.dst4) | 0;
      // Floods send runs of packets to one address: remember the last IPv4 slot of this window.
      if (a === this.lastDst4 && this.lastSlot4 >= 0) i = this.lastSlot4;
      else {
        i = dt.slot4(a, mix32(a));
        if (i >= 0 && dt.isNew) this.attach4(i, a);
        this.lastDst4 = a;
        this.lastSlot4 = i;
      }
    } else {
      const off = gre ? v.outerDst6Off : v.dst6Off;
      if (off < 0) return;
      i = dt.slot6(v.buf, off, 16, hashBytes(v.buf, off, 16));
      if (i >= 0 && dt.isNew) this.attach6(i);
    }
    if (i < 0) {
      this.noSlot(v, c);
      return;
    }
    dt.add(i, c, v.wirelen, v.tsSec, v.tsNsec);
    if (c !== Cls.OTHER && c !== Cls.TCP_ACK) this.distinct(i, c, v);
    // Victims (being sampled or measured live) are flagged when their slot is created.
    if (dt.victim[i] !== 0) this.feed(i, c, v);
  }

  /** A packet that found no slot (the window's table is full): checked against each live measurement. */
  private noSlot(v: PacketView, c: number): void {
    const live = this.live;
    for (let k = 0; k < live.length; k++) {
      const m = live[k] as Measurement<Track>;
      if (m.toVictim(v)) m.see(v, c, null);
    }
  }

  /** Distinct sources, destination ports and DNS names of a destination's flood classes. */
  private distinct(i: number, c: number, v: PacketView): void {
    const dt = this.dst;
    dt.setSrc(i, v.ipVersion === 4 ? mix32(v.src4 | 0) : v.src6Off >= 0 ? hashBytes(v.buf, v.src6Off, 16) : 0);
    if (c === Cls.TCP_SYN || c === Cls.UDP) dt.setPort(i, mix32(v.dstPort));
    else if (c === Cls.DNS_QUERY && v.dnsNameLen > 0) dt.setName(i, hashBytes(v.dnsName, 0, v.dnsNameLen));
  }

  /**
   * A packet to a victim: live measurements see it if its destination slot names them (bit k:
   * measurement k, bit 31: one of those from the 32nd on; the set of live measurements changes
   * only between windows), and the victim's (and its prefix's) sample gets it.
   */
  private feed(i: number, c: number, v: PacketView): void {
    const dt = this.dst;
    const live = this.live;
    const lm = dt.live[i] as number;
    if (lm !== 0) {
      for (let k = 0; k < 31 && k < live.length; k++) if ((lm & (1 << k)) !== 0) (live[k] as Measurement).see(v, c, null);
      if (lm < 0) {
        for (let k = 31; k < live.length; k++) {
          const m = live[k] as Measurement<Track>;
          if (m.toVictim(v)) m.see(v, c, null);
        }
      }
    }
    const si = dt.sampler[i] as number;
    if (si >= 0) {
      const s = this.samplerList[si] as VictimSample;
      if (s.seen >= s.cap && s.seen !== s.next) s.seen++;
      else s.add(v, c);
    }
    const pi = dt.psampler[i] as number;
    if (pi >= 0) {
      const s = this.samplerList[pi] as VictimSample;
      if (s.seen >= s.cap && s.seen !== s.next) s.seen++;
      else s.add(v, c);
    }
  }

  /** A new destination in this window: does it (or its prefix) have a victim sample to feed? */
  private attach4(i: number, a: number): void {
    const dt = this.dst;
    if (this.victims4.size > 0) dt.sampler[i] = this.victims4.get(a) ?? -1;
    if (this.victimsP4.size > 0) {
      const pa = this.p4 === 0 ? 0 : a & (0xffffffff << (32 - this.p4));
      dt.psampler[i] = this.victimsP4.get(pa) ?? -1;
    }
    const live = this.live;
    let lm = 0;
    for (let k = 0; k < live.length; k++) if ((live[k] as Measurement).matches4(a)) lm |= 1 << (k < 31 ? k : 31);
    dt.live[i] = lm;
    dt.victim[i] = lm !== 0 || (dt.sampler[i] as number) >= 0 || (dt.psampler[i] as number) >= 0 ? 1 : 0;
  }

  private attach6(i: number): void {
    const dt = this.dst;
    // No key string unless some IPv6 victim is being sampled.
    if (this.victimsStr.size > 0) {
      dt.sampler[i] = this.victimsStr.get(slotKey(dt, i, false, 0)) ?? -1;
      dt.psampler[i] = this.victimsStr.get(prefixKey6(dt.addr, i * 16, this.p6)) ?? -1;
    }
    const live = this.live;
    let lm = 0;
    for (let k = 0; k < live.length; k++) if ((live[k] as Measurement).matches6(dt.addr, i * 16)) lm |= 1 << (k < 31 ? k : 31);
    dt.live[i] = lm;
    dt.victim[i] = lm !== 0 || (dt.sampler[i] as number) >= 0 || (dt.psampler[i] as number) >= 0 ? 1 : 0;
  }

  /** Decide one class of one key for the window that just ended. */
  private fires(t: KeyTable, i: number, c: number, key: Kid, isPrefix: boolean): boolean {
    const j = i * NCLS + c;
    const n = t.rec[j * 4] as number;
    const bytes = t.rec[j * 4 + 1] as number;
    // A port scan fires on its shape, whatever its rate (scanners are slow next to floods); it is
    // an address's, never a prefix's (a prefix sums many hosts' ordinary ports).
    if (this.isScan(t, i, c, n)) return !isPrefix;
    const st = this.staticFor(t, i);
    if (st) {
      const vt = st.vectors?.[CLS_VECTOR[c] as Vector];
      const pps = vt?.pps ?? st.pps;
      const bps = vt?.bps ?? st.bps;
      if ((pps !== undefined && n >= pps) || (bps !== undefined && bytes * 8 >= bps)) return this.shapeOk(t, i, c, n, bytes);
      if (pps !== undefined || bps !== undefined) return false;
    }
    const floor = FLOOR_PPS[c] as number;
    if (floor === 0 || n < floor) return false;
    if (n / (t.total[i] as number) < (DOMINANCE[c] as number)) return false;
    if (!isPrefix) {
      const b = this.baseline.get(key);
      if (b && (b[0] as number) >= WARM_WINDOWS && n < 3 * this.rate(key, c) + floor / 2) return false;
    }
    return this.shapeOk(t, i, c, n, bytes);
  }

  /**
   * A port scan of one destination in this window (TCP SYN, or UDP probes as nmap -sU sends):
   * many distinct ports, most probes to a port of their own, and few sources next to the ports
   * (the victim's ordinary clients may be there too; a spoofed random-port flood has about as
   * many sources as ports).
   */
  private isScan(t: KeyTable, i: number, c: number, n: number): boolean {
    if ((c !== Cls.TCP_SYN && c !== Cls.UDP) || n < SCAN_PORTS) return false;
    const ports = t.distinct(t.portBits, i);
    if (ports < SCAN_PORTS || ports < 0.5 * n) return false;
    const sources = t.distinct(t.srcBits, i);
    // A random-port UDP flood from a few dozen bots passes the ratio test (seen with generated
    // floods); a UDP scan is one to three hosts, as nmap -sU or masscan run it.
    return c === Cls.TCP_SYN ? sources * 8 <= ports : sources < 4;
  }

  /** Class-specific shape tests that tell an attack from a legitimate burst of the same class. */
  private shapeOk(t: KeyTable, i: number, c: number, n: number, bytes: number): boolean {
    if (c >= REFLECTION_FIRST && c <= REFLECTION_LAST) {
      const uniq = t.distinct(t.srcBits, i);
      // Many reflectors, and either large replies or a high rate: a client's own lookups come from
      // a few resolvers with small answers.
      return uniq >= 8 && (bytes / n >= 400 || n >= 200);
    }
    if (c === Cls.TCP_SYN || c === Cls.UDP) {
      // One or two sources sweeping many ports is a scan, not a flood.
      const uniq = t.distinct(t.srcBits, i);
      if (uniq < 4 && t.distinct(t.portBits, i) >= 64) return false;
    }
    if (c === Cls.DNS_QUERY) {
      // Random subdomains: most names are new (a legitimate surge repeats popular names).
      return t.distinct(t.nameBits, i) >= 0.5 * Math.min(n, 5000);
    }
    return true;
  }

  private staticFor(t: KeyTable, i: number): StaticThreshold | null {
    if (this.statics.length === 0) return null;
    const fam = t.fam[i];
    const o = i * 16;
    for (const s of this.statics) {
      if (s.fam !== fam) continue;
      if (prefixContains(s.bytes, s.len, t.addr, o)) return s.th;
    }
    return null;
  }

  /**
   * The window that ends at relative time endT is over: decide it, then empty the tables. Each
   * step is a method of its own: this runs once a second, so V8 optimises its loops by
   * on-stack replacement, and a step that meets a new case (the first attack, the first IPv6
   * key) is deoptimised alone instead of sending the whole close back to the interpreter.
   */
  private closeWindow(endT: number): void {
    // 1) Prefixes first: a carpet attack suppresses per-address reports of its class.
    this.sumPrefixes();
    this.decidePrefixes(endT);
    // 2) Addresses.
    this.decideAddresses(endT);
    this.endWindow(endT);
  }

  /**
   * Prefix counters are the sum of their addresses' (one table probe per address per window, not
   * per packet); pmax keeps each prefix's largest single-address count per class.
   */
  private sumPrefixes(): void {
    const dt = this.dst;
    const pt = this.pfx;
    const pmax = this.pmax;
    for (let u = 0; u < dt.nUsed; u++) {
      const i = dt.used[u] as number;
      let p: number;
      const o = i * 16;
      if (dt.fam[i] === 4) {
        const a = dt.v4[i] as number;
        const pa = this.p4 === 0 ? 0 : a & (0xffffffff << (32 - this.p4));
        p = pt.slot4(pa, mix32(pa ^ 0x7f4a7c15));
      } else {
        const pl = this.p6 >>> 3;
        p = pt.slot6(dt.addr, o, pl, hashBytes(dt.addr, o, pl, 0x2545f491));
      }
      if (p < 0) continue;
      if (pt.isNew) for (let c = 0; c < NCLS; c++) pmax[p * NCLS + c] = 0;
      dt.parent[i] = p;
      pt.merge(p, dt, i, dt.fam[i] === 4 ? (dt.addr[o + 3] as number) : (dt.addr[o + 15] as number) ^ (dt.addr[o + 14] as number));
      let mask = (dt.clsMask[i] as number) & ~1;
      while (mask !== 0) {
        const c = 31 - Math.clz32(mask);
        mask &= ~(1 << c);
        const n = dt.rec[(i * NCLS + c) * 4] as number;
        if (n > (pmax[p * NCLS + c] as number)) pmax[p * NCLS + c] = n;
      }
    }
  }

  /** Carpet bombing and open prefix attacks; marks in `carpet` (per prefix slot, a class bit mask) what they cover. */
  private decidePrefixes(endT: number): void {
    const pt = this.pfx;
    const pmax = this.pmax;
    const carpet = this.carpet;
    for (let u = 0; u < pt.nUsed; u++) {
      const p = pt.used[u] as number;
      carpet[p] = 0;
      let mask = (pt.clsMask[p] as number) & ~1;
      if (mask === 0) continue;
      const plen = pt.fam[p] === 4 ? this.p4 : this.p6;
      // The key string is built only when an attack fires; IPv4 prefixes are looked up by number.
      let key = pt.fam[p] === 4 ? '' : slotKey(pt, p, true, plen);
      const kid: Kid = pt.fam[p] === 4 ? PFX4 + (pt.v4[p] as number) : key;
      let act = this.activeCls.size === 0 ? 0 : (this.activeCls.get(kid) ?? 0);
      const wide = pt.hits(p) >= MIN_HITS_CARPET;
      // Classes in increasing order (attack ids follow it).
      while (mask !== 0) {
        const c = 31 - Math.clz32(mask & -mask);
        mask &= mask - 1;
        const n = pt.rec[(p * NCLS + c) * 4] as number;
        const spread = wide && (pmax[p * NCLS + c] as number) < 0.5 * n;
        const isActive = (act & (1 << c)) !== 0;
        if (!spread && !isActive && n < (ONSET[c] as number)) continue;
        const tk = classKid(kid, c);
        const tr = isActive ? this.active.get(tk) : undefined;
        if ((spread && this.fires(pt, p, c, kid, true)) || (tr && this.holds(tr, pt, p, c))) {
          if (key === '') key = slotKey(pt, p, true, plen);
          this.fire(tk, key, kid, pt, p, c, true, plen, endT);
          act |= 1 << c;
          carpet[p] = (carpet[p] as number) | (1 << c);
        } else if (n >= (ONSET[c] as number)) this.onsetCur.set(tk, pt.rec[(p * NCLS + c) * 4 + 2] as number);
      }
      this.learn(kid, pt, p, act);
    }
  }

  /** Per-address attacks. Most keys are ordinary (a client receiving its replies): skip them before building any string. */
  private decideAddresses(endT: number): void {
    const dt = this.dst;
    const carpet = this.carpet;
    for (let u = 0; u < dt.nUsed; u++) {
      const i = dt.used[u] as number;
      const total = dt.total[i] as number;
      // Addresses with static thresholds are always evaluated (their limits may be below the floors).
      const hasStatic = this.statics.length > 0 && this.staticFor(dt, i) !== null;
      let interesting = hasStatic || (dt.sampler[i] as number) >= 0 || total >= LEARN_MIN;
      for (let mask = (dt.clsMask[i] as number) & ~1; !interesting && mask !== 0; ) {
        const c = 31 - Math.clz32(mask);
        mask &= ~(1 << c);
        interesting = (dt.rec[(i * NCLS + c) * 4] as number) >= (ONSET[c] as number);
      }
      if (!interesting) continue;
      let key = dt.fam[i] === 4 ? '' : slotKey(dt, i, false, 0);
      const kid: Kid = dt.fam[i] === 4 ? (dt.v4[i] as number) : key;
      const par = dt.parent[i] as number;
      const covered = par >= 0 ? (carpet[par] as number) : 0;
      let act = this.activeCls.size === 0 ? 0 : (this.activeCls.get(kid) ?? 0);
      // Classes in increasing order (attack ids follow it).
      for (let mask = (dt.clsMask[i] as number) & ~1; mask !== 0; ) {
        const c = 31 - Math.clz32(mask & -mask);
        mask &= mask - 1;
        const j = i * NCLS + c;
        const n = dt.rec[j * 4] as number;
        if ((covered & (1 << c)) !== 0) continue;
        const isActive = (act & (1 << c)) !== 0;
        if (!isActive && !hasStatic && n < (ONSET[c] as number) && n < (FLOOR_PPS[c] as number)) continue;
        const tk = classKid(kid, c);
        const tr = isActive ? this.active.get(tk) : undefined;
        if (this.fires(dt, i, c, kid, false) || (tr && this.holds(tr, dt, i, c))) {
          if (key === '') key = slotKey(dt, i, false, 0);
          this.fire(tk, key, kid, dt, i, c, false, 0, endT);
          act |= 1 << c;
        } else if (n >= (ONSET[c] as number)) this.onsetCur.set(tk, dt.rec[j * 4 + 2] as number);
      }
      // learn() keeps a baseline only from LEARN_MIN packets on, or once it has one.
      this.learn(kid, dt, i, act);
    }
  }

  /** Live measurements, signatures to fix, attacks that have ended; then empty the window's state. */
  private endWindow(endT: number): void {
    // Live measurements: this window's class packets were attack packets if the attack was active.
    for (const m of this.live) m.endWindow(m.track.lastActive === endT);
    // Fix the signature of attacks that have lasted long enough; measure live from the next window.
    for (const tr of this.active.values()) if (tr.m === null && tr.windows >= this.lockWindows) this.lock(tr, this.cur + 1);
    // 3) Close attacks that have been quiet long enough.
    for (const [k, tr] of this.active) {
      if (endT - tr.lastActive > this.quietNs) {
        this.active.delete(k);
        this.activeCls.set(tr.kid, (this.activeCls.get(tr.kid) ?? 0) & ~(1 << tr.cls));
        this.done.push(tr);
      }
    }
    const ws = this.winPrev;
    this.winPrev = this.winCur;
    this.winCur = ws;
    ws.reset();
    const swap = this.onsetPrev;
    this.onsetPrev = this.onsetCur;
    this.onsetCur = swap;
    this.onsetCur.clear();
    this.dst.clear();
    this.pfx.clear();
    this.lastSlot4 = -1;
  }

  /** Hysteresis: an open attack continues while its class stays clearly above the victim's normal rate. */
  private holds(tr: Track, t: KeyTable, i: number, c: number): boolean {
    const n = t.rec[(i * NCLS + c) * 4] as number;
    if (c >= REFLECTION_FIRST && c <= REFLECTION_LAST) return n >= Math.max(2, 0.01 * tr.peakPps, 2 * tr.baseRate + 5) && t.distinct(t.srcBits, i) >= 2;
    // A flood's tail (a trickle after the burst) is still the flood; the victim's ordinary rate
    // of the class is not.
    return n >= Math.max(5, 0.002 * tr.peakPps, 2 * tr.baseRate + 5) && n >= 0.3 * (t.total[i] as number);
  }

  private fire(tk: Kid, key: string, kid: Kid, t: KeyTable, i: number, c: number, isPrefix: boolean, plen: number, endT: number): void {
    const j = i * NCLS + c;
    const n = t.rec[j * 4] as number;
    const bytes = t.rec[j * 4 + 1] as number;
    let tr = this.active.get(tk);
    if (!tr) {
      const onset = this.onsetPrev.get(tk);
      const sampler = this.samplerFor(key, t, i, isPrefix);
      tr = {
        id: this.nextId++,
        key,
        kid,
        isPrefix,
        fam: t.fam[i] === 6 ? 6 : 4,
        addr: t.addr.slice(i * 16, i * 16 + 16),
        prefixLen: plen,
        cls: c,
        vector: !isPrefix && this.isScan(t, i, c, n) ? 'scanner' : (CLS_VECTOR[c] as Vector),
        start: onset ?? (t.rec[j * 4 + 2] as number),
        detected: Math.min(endT, this.lastT),
        end: t.rec[j * 4 + 3] as number,
        lastActive: endT,
        peakPps: 0,
        peakBps: 0,
        windowPackets: 0,
        windowBytes: 0,
        windows: 0,
        baseRate: this.rate(kid, c),
        sampler,
        activeWins: new Set<number>(),
        sig: null,
        m: null,
        lockSec: Number.POSITIVE_INFINITY,
      };
      this.active.set(tk, tr);
      this.all.push(tr);
      this.activeCls.set(kid, (this.activeCls.get(kid) ?? 0) | (1 << c));
    }
    tr.end = t.rec[j * 4 + 3] as number;
    tr.lastActive = endT;
    tr.windowPackets += n;
    tr.windowBytes += bytes;
    tr.windows++;
    tr.activeWins.add(this.cur - this.base);
    if (n > tr.peakPps) tr.peakPps = n;
    if (bytes * 8 > tr.peakBps) tr.peakBps = bytes * 8;
  }

  /** Start sampling what a victim receives (from the next packet on). */
  private samplerFor(key: string, t: KeyTable, i: number, isPrefix: boolean): VictimSample {
    let s = this.samplers.get(key);
    if (s) return s;
    s = new VictimSample(0x9e3779b9 ^ this.samplers.size);
    s.base = this.base;
    this.samplers.set(key, s);
    // What the victim received before detection: from the window reservoirs (a short burst may
    // be over by the time it is detected).
    const probe = {
      fam: t.fam[i] === 6 ? 6 : 4,
      addr: t.addr.subarray(i * 16, i * 16 + 16),
      isPrefix,
      prefixLen: isPrefix ? (t.fam[i] === 4 ? this.p4 : this.p6) : 0,
    } as const;
    for (const w of [this.winPrev, this.winCur]) for (let r = 0; r < w.rows; r++) if (rowToVictim(w, r, probe)) s.copyRow(w, r);
    const idx = this.samplerList.length;
    this.samplerList.push(s);
    if (!isPrefix && t.fam[i] === 4) this.victims4.set(t.v4[i] as number, idx);
    else if (isPrefix && t.fam[i] === 4) this.victimsP4.set(t.v4[i] as number, idx);
    else this.victimsStr.set(key, idx);
    return s;
  }

  /** The learnt rate of a class for a key, bias-corrected for the first windows (EWMA starts at 0). */
  private rate(key: Kid, c: number): number {
    const b = this.baseline.get(key);
    if (!b || (b[0] as number) === 0) return 0;
    return (b[c + 1] as number) / (1 - 0.9 ** (b[0] as number));
  }

  /** EWMA of each class's rate for one destination, learnt from windows that did not fire. */
  /** `act`: the key's classes with an open attack (activeCls, as fire() left it). */
  private learn(key: Kid, t: KeyTable, i: number, act: number): void {
    let b = this.baseline.get(key);
    if (!b) {
      if (this.baseline.size >= BASELINE_KEYS || (t.total[i] as number) < LEARN_MIN) return;
      b = new Float64Array(NCLS + 1);
      this.baseline.set(key, b);
    }
    const alpha = 0.1;
    for (let c = 1; c < NCLS; c++) {
      if (act & (1 << c)) continue;
      const n = t.rec[(i * NCLS + c) * 4] as number;
      b[c + 1] = (b[c + 1] as number) + alpha * (n - (b[c + 1] as number));
    }
    b[0] = (b[0] as number) + 1;
  }

  /** Derive the attack's signature from its sample so far and start measuring it. */
  private lock(tr: Track, fromSec: number): void {
    let inAttacks = 0;
    for (const o of this.all) inAttacks += o.windowPackets;
    const others = Math.max(this.packets - inAttacks, 1);
    const sig = findSignature(tr, isReflection(tr.cls) && fragShare(tr) >= 0.2, others);
    tr.sig = sig;
    tr.m = new Measurement(tr, sig.expression, sig.classes, this.base);
    tr.lockSec = fromSec;
    if (fromSec !== Number.POSITIVE_INFINITY) {
      this.live.push(tr.m);
      this.onLock?.(tr);
    }
  }

  /** End of input: close the last window and every open attack. */
  finish(): Track[] {
    if (this.base >= 0) this.closeWindow(Math.min((this.cur + 1 - this.base) * 1e9, this.lastT + 1));
    for (const tr of this.active.values()) this.done.push(tr);
    this.active.clear();
    // Attacks too short to have their signature fixed live are measured entirely by the catch-up pass.
    for (const tr of this.done) if (tr.m === null) this.lock(tr, Number.POSITIVE_INFINITY);
    this.done.sort((a, b) => a.start - b.start || a.id - b.id);
    return this.done;
  }

  /** Base second of relative times (first packet's second). */
  get baseSecond(): number {
    return this.base;
  }
}

function rowToVictim(w: VictimSample, r: number, p: { fam: 4 | 6; addr: Uint8Array; isPrefix: boolean; prefixLen: number }): boolean {
  if (w.fam[r] !== p.fam) return false;
  const bits = p.isPrefix ? p.prefixLen : p.fam === 4 ? 32 : 128;
  if (p.fam === 4) {
    const d = w.dst4[r] as number;
    const a = p.addr;
    const want = (((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0;
    const m = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    return (d & m) >>> 0 === (want & m) >>> 0;
  }
  for (let k = 0; k < 16 && k * 8 < bits; k++) {
    const left = bits - k * 8;
    const m = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if (((w.dst6[r * 16 + k] as number) & m) !== ((p.addr[k] as number) & m)) return false;
  }
  return true;
}

function slotKey(t: KeyTable, i: number, isPrefix: boolean, plen: number): string {
  const o = i * 16;
  const a = t.addr;
  let s: string;
  if (t.fam[i] === 4) s = `${a[o]}.${a[o + 1]}.${a[o + 2]}.${a[o + 3]}`;
  else {
    const w: string[] = [];
    for (let k = 0; k < 16; k += 2) w.push((((a[o + k] as number) << 8) | (a[o + k + 1] as number)).toString(16));
    s = w.join(':');
  }
  return isPrefix ? `${s}/${plen}` : s;
}

function parseThreshold(th: StaticThreshold): Parsed {
  const [addr, lenText] = th.prefix.split('/');
  const bytes = new Uint8Array(16);
  if ((addr ?? '').includes(':')) {
    const full = expand6(addr as string);
    for (let k = 0; k < 8; k++) {
      bytes[2 * k] = (full[k] as number) >> 8;
      bytes[2 * k + 1] = (full[k] as number) & 255;
    }
    return { fam: 6, bytes, len: Number(lenText ?? 128), th };
  }
  const parts = (addr ?? '').split('.').map(Number);
  for (let k = 0; k < 4; k++) bytes[k] = parts[k] ?? 0;
  return { fam: 4, bytes, len: Number(lenText ?? 32), th };
}

function expand6(s: string): number[] {
  const [l, r] = s.split('::');
  const left = l ? l.split(':').map((x) => Number.parseInt(x, 16)) : [];
  const right = r !== undefined && r !== '' ? r.split(':').map((x) => Number.parseInt(x, 16)) : [];
  if (r === undefined) return left;
  return [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
}

function prefixContains(net: Uint8Array, len: number, addr: Uint8Array, o: number): boolean {
  let bits = len;
  for (let k = 0; bits > 0; k++, bits -= 8) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((addr[o + k] as number) & m) !== ((net[k] as number) & m)) return false;
  }
  return true;
}

function prefixKey6(a: Uint8Array, o: number, plen: number): string {
  const w: string[] = [];
  for (let k = 0; k < 16; k += 2) {
    const bits = plen - k * 8;
    const m = bits >= 16 ? 0xffff : bits <= 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
    w.push(((((a[o + k] as number) << 8) | (a[o + k + 1] as number)) & m).toString(16));
  }
  return `${w.join(':')}/${plen}`;
}
