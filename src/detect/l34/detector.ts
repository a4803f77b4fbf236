/**
 * The L3/L4 detector: one-second windows per destination address and per destination prefix
 * (IPv4 /24 and IPv6 /64 by default), per-class counters, distinct-source/port/name bitmaps, an
 * EWMA baseline per destination and class (core/baseline.ts), and attack lifecycles
 * (core/lifecycle.ts). When a class fires is thresholds.ts's business.
 *
 * Carpet bombing: a prefix whose class traffic fires while no single address in it takes half of
 * it, over at least 16 addresses, is one attack on the prefix; its addresses are not reported
 * one by one. An attack stays open while its class keeps a fraction of its peak and ends after a
 * quiet period, so a bursty flood is one attack, not many.
 *
 * Per packet: one classification, two table probes, a few counter updates, and (for victims
 * under attack) one reservoir-sample write. Nothing is allocated per packet.
 *
 * Multi-node mode: a sensor hands each closing window's destination rows to onWindowRows
 * (window-rows.ts; encoded only when it is set); a correlator adds several sensors' rows of a
 * second into its own destination table with mergeWindow and decides them with the code below,
 * unchanged. The rows' classes are the sensors' post-connection-state ones; the correlator has
 * no packets, so its victim samples stay empty and it fixes no signature of its own.
 */

import { PalisadeError } from '../../core/errors.js';
import type { PacketView } from '../../decode/view.js';
import { Tunnel } from '../../decode/view.js';
import type { Vector } from '../../model/attack.js';
import { Baselines, LEARN_MIN } from '../core/baseline.js';
import { classKey, Lifecycles, type VictimKey } from '../core/lifecycle.js';
import { hashBytes, mix32 } from '../core/sketch/hash.js';
import { KeyTable } from '../core/table.js';
import { CLS_VECTOR, Cls, classify, NCLS } from './classify.js';
import { ConnState, stateClass } from './conn-state.js';
import { Measurement } from './measurement.js';
import { VictimSample } from './sample.js';
import { findSignature, fragShare, isReflection, sourceListSignature } from './signature.js';
import { floorPackets, isScan, MIN_HITS_CARPET, onsetPackets, type StaticThreshold, Thresholds } from './thresholds.js';
import type { Track } from './track.js';
import { prefixKey6, rowToVictim, slotKey } from './victim-key.js';
import { addRow, decodeWindow, encodeWindow } from './window-rows.js';

export type { StaticThreshold } from './thresholds.js';
export type { Track } from './track.js';

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

/** Windows an attack must last before its signature is fixed and measured live. */
const LOCK_WINDOWS = 3;
/** Rows of the per-window reservoir that seeds a new victim's sample (small: it sees every packet). */
const WINDOW_ROWS = 2048;
/** IPv4 prefixes get victim keys of their own: PREFIX4_KEYS + the network address as int32. */
const PREFIX4_KEYS = 2 ** 33;

export class Detector {
  private base = -1;
  private cur = -1;
  private lastT = 0;
  /** This window's destinations, and their prefixes (summed from the destinations when the window closes). */
  private readonly dstTable: KeyTable;
  private readonly prefixTable: KeyTable;
  private readonly prefix4: number;
  private readonly prefix6: number;
  private readonly baselines = new Baselines(NCLS);
  private readonly thresholds: Thresholds;
  /** Open attacks and their states; per-window maps are keyed by VictimKeys (numbers for IPv4: no string per key and window). */
  private readonly attacks: Lifecycles<Track>;
  /** Measurements running live (signatures already fixed). */
  private readonly live: Measurement<Track>[] = [];
  /** Called when a signature is fixed during the pass (its catch-up may then run elsewhere: thread.ts). */
  onLock: ((tr: Track) => void) | null = null;
  /** Called after each window is decided (its end, absolute seconds): a live consumer (the
   * monitor) reads the open and ended attacks then. */
  onWindow: ((endSec: number) => void) | null = null;
  /**
   * Multi-node mode, on a sensor: called as each window closes, before anything is decided or
   * cleared, with the window's destination rows (window-rows.ts) for the correlator to merge.
   * Encoding is paid only when this is set.
   */
  onWindowRows: ((second: number, rows: Uint8Array) => void) | null = null;
  /** Rows a window sends at most (window-rows.ts MAX_ROWS by default). */
  windowRowsMax: number | undefined = undefined;
  /** this.packets when the last window closed (a window's packet count for onWindowRows). */
  private packetsAtClose = 0;
  /**
   * Multi-node mode, on the correlator (null until mergeWindow is first called): per merged row
   * class, which sensor sent how many packets to which destination slot this window; at window
   * close they are credited to the attacks active on the slot (or its prefix) for that class.
   */
  private shareLog: ShareLog | null = null;
  /** Per attack id: packets of its class per sensor index, over its active windows. */
  private readonly shares = new Map<number, Map<number, number>>();
  /** Merged rows with no slot (the correlator's table full), and windows merged after a later one (added to the current window, as add() does with late packets). */
  mergedNoSlot = 0;
  mergedLate = 0;
  private readonly samplers = new Map<string, VictimSample>();
  /** Victims under attack → index in samplerList, looked up once per key per window. */
  private readonly victims4 = new Map<number, number>();
  private readonly victimsStr = new Map<string, number>();
  /** IPv4 prefixes under attack (network address → sampler index). */
  private readonly victimsP4 = new Map<number, number>();
  private readonly samplerList: VictimSample[] = [];
  /** Per prefix slot and class, this window: the largest count of one of its addresses. */
  private readonly prefixPeak: Float64Array;
  /** Per prefix slot, this window: the classes a carpet attack on the prefix covers (its addresses are not reported one by one). */
  private readonly carpet: Int32Array;
  /** Uniform samples of the current and previous windows' packets, to seed a new victim's sample. */
  private winCur = new VictimSample(0x1234567, WINDOW_ROWS);
  private winPrev = new VictimSample(0x7654321, WINDOW_ROWS);
  /** The last IPv4 destination and its slot in this window (-1: none; reset when the window closes). */
  private lastDst4 = 0;
  private lastSlot4 = -1;
  private readonly lockWindows: number;
  /** Conversations seen, so that a flood class is judged by connection state (conn-state.ts). */
  readonly conns = new ConnState();
  packets = 0;

  constructor(opts: DetectOptions = {}) {
    const cap = opts.capacity ?? 8192;
    this.dstTable = new KeyTable(cap, NCLS);
    this.prefixTable = new KeyTable(Math.max(256, cap >> 2), NCLS);
    this.prefix4 = opts.prefix4 ?? 24;
    this.prefix6 = opts.prefix6 ?? 64;
    this.attacks = new Lifecycles<Track>((opts.quietS ?? 10) * 1e9);
    this.lockWindows = opts.lockWindows ?? LOCK_WINDOWS;
    this.thresholds = new Thresholds(opts.thresholds ?? [], this.baselines);
    this.prefixPeak = new Float64Array(this.prefixTable.cap * NCLS);
    this.carpet = new Int32Array(this.prefixTable.cap);
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
      this.dstTable.base = this.base;
      this.prefixTable.base = this.base;
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
    this.packets += v.weight;
    const t = this.rel(v);
    if (t > this.lastT) this.lastT = t;
    const raw = classify(v);
    const c = stateClass(this.conns, v, raw, v.tsSec - this.base);
    // Times go to callees as the view's two integer fields, never as a double argument (a double
    // crossing a call that is not inlined is boxed: one allocation per packet).
    const w = this.winCur;
    if (w.seen >= w.cap && w.next >= w.seen + v.weight) {
      w.seen += v.weight;
      w.records++;
    } else w.add(v, c, raw);
    const dt = this.dstTable;
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
    dt.add(i, c, v.wirelen, v.tsSec, v.tsNsec, v.weight, v.samples);
    if (c !== Cls.OTHER && c !== Cls.TCP_ACK) this.distinct(i, c, v);
    // Victims (being sampled or measured live) are flagged when their slot is created.
    if (dt.victim[i] !== 0) this.feed(i, c, raw, v);
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
    const dt = this.dstTable;
    dt.setSrc(i, v.ipVersion === 4 ? mix32(v.src4 | 0) : v.src6Off >= 0 ? hashBytes(v.buf, v.src6Off, 16) : 0);
    if (c === Cls.TCP_SYN || c === Cls.UDP) dt.setPort(i, mix32(v.dstPort));
    // Empty datagrams: a UDP port scan's probes (nmap -sU) carry nothing, a flood's carry junk.
    if (c === Cls.UDP && v.udpLen <= 8) dt.aux[i] = (dt.aux[i] as number) + v.weight;
    else if (c === Cls.DNS_QUERY && v.dnsNameLen > 0) dt.setName(i, hashBytes(v.dnsName, 0, v.dnsNameLen));
  }

  /**
   * A packet to a victim: live measurements see it if its destination slot names them (bit k:
   * measurement k, bit 31: one of those from the 32nd on; the set of live measurements changes
   * only between windows), and the victim's (and its prefix's) sample gets it.
   */
  private feed(i: number, c: number, raw: number, v: PacketView): void {
    const dt = this.dstTable;
    const live = this.live;
    const liveMask = dt.live[i] as number;
    if (liveMask !== 0) {
      for (let k = 0; k < 31 && k < live.length; k++) if ((liveMask & (1 << k)) !== 0) (live[k] as Measurement).see(v, c, null);
      if (liveMask < 0) {
        for (let k = 31; k < live.length; k++) {
          const m = live[k] as Measurement<Track>;
          if (m.toVictim(v)) m.see(v, c, null);
        }
      }
    }
    const own = dt.sampler[i] as number;
    if (own >= 0) {
      const s = this.samplerList[own] as VictimSample;
      if (c !== Cls.OTHER && v.ipVersion === 4 && !s.sourcesFull) s.noteSource(v.src4, c, v.weight);
      if (s.seen >= s.cap && s.next >= s.seen + v.weight) {
        s.seen += v.weight;
        s.records++;
      } else s.add(v, c, raw);
    }
    const ofPrefix = dt.psampler[i] as number;
    if (ofPrefix >= 0) {
      const s = this.samplerList[ofPrefix] as VictimSample;
      if (s.seen >= s.cap && s.next >= s.seen + v.weight) {
        s.seen += v.weight;
        s.records++;
      } else s.add(v, c, raw);
    }
  }

  /** A new destination in this window: does it (or its prefix) have a victim sample to feed? */
  private attach4(i: number, a: number): void {
    const dt = this.dstTable;
    if (this.victims4.size > 0) dt.sampler[i] = this.victims4.get(a) ?? -1;
    if (this.victimsP4.size > 0) {
      const net = this.prefix4 === 0 ? 0 : a & (0xffffffff << (32 - this.prefix4));
      dt.psampler[i] = this.victimsP4.get(net) ?? -1;
    }
    const live = this.live;
    let liveMask = 0;
    for (let k = 0; k < live.length; k++) if ((live[k] as Measurement).matches4(a)) liveMask |= 1 << (k < 31 ? k : 31);
    dt.live[i] = liveMask;
    dt.victim[i] = liveMask !== 0 || (dt.sampler[i] as number) >= 0 || (dt.psampler[i] as number) >= 0 ? 1 : 0;
  }

  private attach6(i: number): void {
    const dt = this.dstTable;
    // No key string unless some IPv6 victim is being sampled.
    if (this.victimsStr.size > 0) {
      dt.sampler[i] = this.victimsStr.get(slotKey(dt, i, false, 0)) ?? -1;
      dt.psampler[i] = this.victimsStr.get(prefixKey6(dt.addr, i * 16, this.prefix6)) ?? -1;
    }
    const live = this.live;
    let liveMask = 0;
    for (let k = 0; k < live.length; k++) if ((live[k] as Measurement).matches6(dt.addr, i * 16)) liveMask |= 1 << (k < 31 ? k : 31);
    dt.live[i] = liveMask;
    dt.victim[i] = liveMask !== 0 || (dt.sampler[i] as number) >= 0 || (dt.psampler[i] as number) >= 0 ? 1 : 0;
  }

  /**
   * The window that ends at relative time endT is over: decide it, then empty the tables. Each
   * step is a method of its own: this runs once a second, so V8 optimises its loops by
   * on-stack replacement, and a step that meets a new case (the first attack, the first IPv6
   * key) is deoptimised alone instead of sending the whole close back to the interpreter.
   */
  private closeWindow(endT: number): void {
    if (this.onWindowRows !== null) this.emitRows();
    // 1) Prefixes first: a carpet attack suppresses per-address reports of its class.
    this.sumPrefixes();
    this.decidePrefixes(endT);
    // 2) Addresses.
    this.decideAddresses(endT);
    this.endWindow(endT);
    // the end of the last window can be mid-second (finish): it is still that second's end
    this.onWindow?.(this.base + Math.ceil(endT / 1e9));
  }

  /** The closing window's rows for the correlator (onWindowRows). */
  private emitRows(): void {
    const packets = this.packets - this.packetsAtClose;
    const rows = encodeWindow(this.dstTable, this.cur, this.base, { packets, ...(this.windowRowsMax !== undefined && { maxRows: this.windowRowsMax }) });
    this.onWindowRows?.(this.cur, rows);
  }

  /**
   * Multi-node mode, on the correlator: add one sensor's window of `second` (encodeWindow's bytes,
   * from the sensor's onWindowRows) into this detector's window, as if its packets had come here.
   * Several sensors' windows of one second are merged before it closes: call advance(second + 1)
   * (or merge a later second) to decide it. A later second closes the current window first, as a
   * later packet does in add(); an earlier one is added to the current window (counted in
   * mergedLate; a correlator should drop windows of seconds it has decided). `sensorIndex` names
   * the sender in sensorShares. Malformed bytes throw a PalisadeError before anything is changed.
   *
   * What the correlator lacks: packets. Victim samples stay empty, so a signature is never fixed
   * from them (findSignature's sample coverage is 0: below the bar, none is emitted), and the
   * connection state is the sensors' (their classes are post-stateClass: a conversation split
   * across sensors, each seeing one direction, is judged one-sided by both).
   */
  mergeWindow(second: number, rows: Uint8Array, sensorIndex = 0): void {
    const w = decodeWindow(rows);
    if (w.classes !== NCLS) throw new PalisadeError('E_FORMAT', `window rows: ${w.classes} classes, this detector has ${NCLS}`);
    if (w.second !== second) throw new PalisadeError('E_FORMAT', `window rows: second ${w.second}, merged as ${second}`);
    if (this.shareLog === null) this.shareLog = new ShareLog();
    if (this.base < 0) {
      this.base = second;
      this.cur = second;
      this.dstTable.base = second;
      this.prefixTable.base = second;
      this.winCur.base = second;
      this.winPrev.base = second;
    }
    if (second > this.cur) {
      this.closeWindow((this.cur + 1 - this.base) * 1e9);
      this.cur = second;
    } else if (second < this.cur) this.mergedLate++;
    this.packets += w.packets;
    const dt = this.dstTable;
    const log = this.shareLog;
    const shift = (second - this.base) * 1e9;
    for (let r = 0; r < w.rows; r++) {
      let i: number;
      if (w.fam(r) === 4) {
        const a = w.v4(r);
        i = dt.slot4(a, mix32(a));
        if (i >= 0 && dt.isNew) this.attach4(i, a);
      } else {
        const off = w.addrOffset(r);
        i = dt.slot6(w.buf, off, 16, hashBytes(w.buf, off, 16));
        if (i >= 0 && dt.isNew) this.attach6(i);
      }
      if (i < 0) {
        this.mergedNoSlot++;
        continue;
      }
      addRow(w, r, dt, i, this.base);
      for (let m = w.clsMask(r) & ~1; m !== 0; m &= m - 1) {
        const c = 31 - Math.clz32(m & -m);
        log.note(i, c, sensorIndex, w.packetsOf(r, c));
      }
      const t = shift + w.lastAny(r);
      if (t > this.lastT) this.lastT = t;
    }
  }

  /**
   * Multi-node mode: how much of the attack's class traffic, over its active windows, came from
   * each sensor (mergeWindow's sensorIndex), by sensor index. Empty for a detector fed packets.
   */
  sensorShares(tr: Track): Array<{ sensor: number; packets: number }> {
    const m = this.shares.get(tr.id);
    if (m === undefined) return [];
    return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([sensor, packets]) => ({ sensor, packets }));
  }

  /** Credit this window's merged rows to the attacks active on their slots or prefixes (merge mode, before the tables clear). */
  private creditShares(log: ShareLog): void {
    const dt = this.dstTable;
    for (let k = 0; k < log.n; k++) {
      const i = log.slot[k] as number;
      const c = log.cls[k] as number;
      const own = log.active.get(i * 32 + c);
      if (own !== undefined) this.credit(own, log.sensor[k] as number, log.packets[k] as number);
      const p = dt.parent[i] as number;
      const ofPrefix = p >= 0 ? log.active.get(-(p * 32 + c) - 1) : undefined;
      if (ofPrefix !== undefined) this.credit(ofPrefix, log.sensor[k] as number, log.packets[k] as number);
    }
    log.reset();
  }

  private credit(tr: Track, sensor: number, packets: number): void {
    let m = this.shares.get(tr.id);
    if (m === undefined) {
      m = new Map();
      this.shares.set(tr.id, m);
    }
    m.set(sensor, (m.get(sensor) ?? 0) + packets);
  }

  /**
   * Live input (the monitor): the clock says second `tsSec` has begun though no packet came, so
   * the windows before it close — a flood that stops ends after the quiet period even when
   * nothing follows it. Each elapsed second is closed (a monitor advances a second at a time).
   */
  advance(tsSec: number): void {
    if (this.base < 0) return;
    while (this.cur < tsSec) {
      this.closeWindow((this.cur + 1 - this.base) * 1e9);
      this.cur++;
    }
  }

  /** Attacks open now, in the order they opened. */
  openTracks(): IterableIterator<Track> {
    return this.attacks.openAttacks();
  }

  /** Attacks ended so far, in the order they ended (the list grows; a consumer keeps its place). */
  get endedTracks(): readonly Track[] {
    return this.attacks.endedSoFar;
  }

  /**
   * Prefix counters are the sum of their addresses' (one table probe per address per window, not
   * per packet); prefixPeak keeps each prefix's largest single-address count per class.
   */
  private sumPrefixes(): void {
    const dt = this.dstTable;
    const pt = this.prefixTable;
    const peak = this.prefixPeak;
    for (let u = 0; u < dt.nUsed; u++) {
      const i = dt.used[u] as number;
      let p: number;
      const o = i * 16;
      if (dt.fam[i] === 4) {
        const a = dt.v4[i] as number;
        const net = this.prefix4 === 0 ? 0 : a & (0xffffffff << (32 - this.prefix4));
        p = pt.slot4(net, mix32(net ^ 0x7f4a7c15));
      } else {
        const bytes = this.prefix6 >>> 3;
        p = pt.slot6(dt.addr, o, bytes, hashBytes(dt.addr, o, bytes, 0x2545f491));
      }
      if (p < 0) continue;
      if (pt.isNew) for (let c = 0; c < NCLS; c++) peak[p * NCLS + c] = 0;
      dt.parent[i] = p;
      pt.merge(p, dt, i, dt.fam[i] === 4 ? (dt.addr[o + 3] as number) : (dt.addr[o + 15] as number) ^ (dt.addr[o + 14] as number));
      let mask = (dt.clsMask[i] as number) & ~1;
      while (mask !== 0) {
        const c = 31 - Math.clz32(mask);
        mask &= ~(1 << c);
        const n = dt.packets(i, c);
        if (n > (peak[p * NCLS + c] as number)) peak[p * NCLS + c] = n;
      }
    }
  }

  /** Carpet bombing and open prefix attacks; marks in `carpet` (per prefix slot, a class bit mask) what they cover. */
  private decidePrefixes(endT: number): void {
    const pt = this.prefixTable;
    const peak = this.prefixPeak;
    const carpet = this.carpet;
    for (let u = 0; u < pt.nUsed; u++) {
      const p = pt.used[u] as number;
      carpet[p] = 0;
      let mask = (pt.clsMask[p] as number) & ~1;
      if (mask === 0) continue;
      const prefixLen = pt.fam[p] === 4 ? this.prefix4 : this.prefix6;
      // The key string is built only when an attack fires; IPv4 prefixes are looked up by number.
      let key = pt.fam[p] === 4 ? '' : slotKey(pt, p, true, prefixLen);
      const victim: VictimKey = pt.fam[p] === 4 ? PREFIX4_KEYS + (pt.v4[p] as number) : key;
      let open = this.attacks.openClassMask(victim);
      const wide = pt.hits(p) >= MIN_HITS_CARPET;
      // Classes in increasing order (attack ids follow it).
      while (mask !== 0) {
        const c = 31 - Math.clz32(mask & -mask);
        mask &= mask - 1;
        const n = pt.packets(p, c);
        const spread = wide && (peak[p * NCLS + c] as number) < 0.5 * n;
        const isOpen = (open & (1 << c)) !== 0;
        if (!spread && !isOpen && n < onsetPackets(c)) continue;
        const ck = classKey(victim, c);
        const tr = isOpen ? this.attacks.openAttack(ck) : undefined;
        if ((spread && this.thresholds.fires(pt, p, c, victim, true)) || (tr && this.thresholds.holds(tr.peakPps, tr.baseRate, pt, p, c))) {
          if (key === '') key = slotKey(pt, p, true, prefixLen);
          this.activeWindow(ck, key, victim, pt, p, c, true, prefixLen, endT);
          open |= 1 << c;
          carpet[p] = (carpet[p] as number) | (1 << c);
        } else if (n >= onsetPackets(c)) this.attacks.noteOnset(ck, pt.firstTime(p, c));
      }
      this.baselines.learn(victim, pt, p, open);
    }
  }

  /** Per-address attacks. Most keys are ordinary (a client receiving its replies): skip them before building any string. */
  private decideAddresses(endT: number): void {
    const dt = this.dstTable;
    const carpet = this.carpet;
    for (let u = 0; u < dt.nUsed; u++) {
      const i = dt.used[u] as number;
      const total = dt.total[i] as number;
      // Addresses with static thresholds are always evaluated (their limits may be below the floors).
      const hasStatic = this.thresholds.hasStatics && this.thresholds.staticFor(dt, i) !== null;
      let interesting = hasStatic || (dt.sampler[i] as number) >= 0 || total >= LEARN_MIN;
      for (let mask = (dt.clsMask[i] as number) & ~1; !interesting && mask !== 0; ) {
        const c = 31 - Math.clz32(mask);
        mask &= ~(1 << c);
        interesting = dt.packets(i, c) >= onsetPackets(c);
      }
      if (!interesting) continue;
      let key = dt.fam[i] === 4 ? '' : slotKey(dt, i, false, 0);
      const victim: VictimKey = dt.fam[i] === 4 ? (dt.v4[i] as number) : key;
      const parent = dt.parent[i] as number;
      const covered = parent >= 0 ? (carpet[parent] as number) : 0;
      let open = this.attacks.openClassMask(victim);
      // Classes in increasing order (attack ids follow it).
      for (let mask = (dt.clsMask[i] as number) & ~1; mask !== 0; ) {
        const c = 31 - Math.clz32(mask & -mask);
        mask &= mask - 1;
        const n = dt.packets(i, c);
        if ((covered & (1 << c)) !== 0) continue;
        const isOpen = (open & (1 << c)) !== 0;
        if (!isOpen && !hasStatic && n < onsetPackets(c) && n < floorPackets(c)) continue;
        const ck = classKey(victim, c);
        const tr = isOpen ? this.attacks.openAttack(ck) : undefined;
        if (this.thresholds.fires(dt, i, c, victim, false) || (tr && this.thresholds.holds(tr.peakPps, tr.baseRate, dt, i, c))) {
          if (key === '') key = slotKey(dt, i, false, 0);
          this.activeWindow(ck, key, victim, dt, i, c, false, 0, endT);
          open |= 1 << c;
        } else if (n >= onsetPackets(c)) this.attacks.noteOnset(ck, dt.firstTime(i, c));
      }
      // The baseline is kept only from LEARN_MIN packets on, or once it has one.
      this.baselines.learn(victim, dt, i, open);
    }
  }

  /** Live measurements, signatures to fix, attacks that have ended; then empty the window's state. */
  private endWindow(endT: number): void {
    // Live measurements: this window's class packets were attack packets if the attack was active.
    for (const m of this.live) m.endWindow(m.track.lastActive === endT);
    // Fix the signature of attacks that have lasted long enough; measure live from the next window.
    for (const tr of this.attacks.openAttacks()) if (tr.measurement === null && tr.windows >= this.lockWindows) this.lock(tr, this.cur + 1);
    // Close attacks that have been quiet long enough.
    this.attacks.endQuiet(endT);
    const ws = this.winPrev;
    this.winPrev = this.winCur;
    this.winCur = ws;
    ws.reset();
    this.attacks.nextWindow();
    if (this.shareLog !== null) this.creditShares(this.shareLog);
    this.packetsAtClose = this.packets;
    this.dstTable.clear();
    this.prefixTable.clear();
    this.lastSlot4 = -1;
  }

  /**
   * Class c of slot i of `t` (victim `victim`, text `key`) fired or held in the window that ended
   * at endT: open its attack (from the previous window's onset, if any) or continue it.
   */
  private activeWindow(ck: VictimKey, key: string, victim: VictimKey, t: KeyTable, i: number, c: number, isPrefix: boolean, prefixLen: number, endT: number): void {
    const n = t.packets(i, c);
    let tr = this.attacks.openAttack(ck);
    if (!tr) {
      const onset = this.attacks.onsetBefore(ck);
      const sampler = this.samplerFor(key, t, i, isPrefix);
      tr = {
        id: this.attacks.takeId(),
        key,
        victimKey: victim,
        isPrefix,
        fam: t.fam[i] === 6 ? 6 : 4,
        addr: t.addr.slice(i * 16, i * 16 + 16),
        prefixLen,
        cls: c,
        vector: !isPrefix && isScan(t, i, c, n) ? 'scanner' : (CLS_VECTOR[c] as Vector),
        start: onset ?? t.firstTime(i, c),
        detected: Math.min(endT, this.lastT),
        end: t.lastTime(i, c),
        lastActive: endT,
        peakPps: 0,
        peakBps: 0,
        windowPackets: 0,
        windowBytes: 0,
        windows: 0,
        baseRate: this.baselines.rate(victim, c),
        sampler,
        activeWins: new Set<number>(),
        signature: null,
        measurement: null,
        listSignature: null,
        listMeasurement: null,
        lockSec: Number.POSITIVE_INFINITY,
      };
      this.attacks.begin(ck, tr);
    }
    this.attacks.activeWindow(tr, n, t.bytes(i, c), t.lastTime(i, c), endT, this.cur - this.base);
    if (this.shareLog !== null) this.shareLog.active.set(isPrefix ? -(i * 32 + c) - 1 : i * 32 + c, tr);
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
      prefixLen: isPrefix ? (t.fam[i] === 4 ? this.prefix4 : this.prefix6) : 0,
    } as const;
    for (const w of [this.winPrev, this.winCur]) for (let r = 0; r < w.rows; r++) if (rowToVictim(w, r, probe)) s.copyRow(w, r);
    const idx = this.samplerList.length;
    this.samplerList.push(s);
    if (!isPrefix && t.fam[i] === 4) this.victims4.set(t.v4[i] as number, idx);
    else if (isPrefix && t.fam[i] === 4) this.victimsP4.set(t.v4[i] as number, idx);
    else this.victimsStr.set(key, idx);
    return s;
  }

  /** Derive the attack's signature from its sample so far and start measuring it. */
  private lock(tr: Track, fromSec: number): void {
    let inAttacks = 0;
    for (const o of this.attacks.all) inAttacks += o.windowPackets;
    const others = Math.max(this.packets - inAttacks, 1);
    const sig = findSignature(tr, isReflection(tr.cls) && fragShare(tr) >= 0.2, others);
    tr.signature = sig;
    tr.measurement = new Measurement(tr, sig.expression, sig.classes, this.base);
    // When the sources repeat (real hosts, not spoofed), their list is measured beside the field
    // signature: the report keeps whichever meets the bar (attacks.ts).
    const list = sourceListSignature(tr, sig, `attack_${tr.id}_sources`, (r) => this.completedRow(tr, r));
    if (list) {
      tr.listSignature = list;
      tr.listMeasurement = new Measurement(tr, list.measured ?? list.expression, list.classes, this.base);
    }
    tr.lockSec = fromSec;
    if (fromSec !== Number.POSITIVE_INFINITY) {
      this.live.push(tr.measurement);
      if (tr.listMeasurement) this.live.push(tr.listMeasurement);
      this.onLock?.(tr);
    }
  }

  /** Did the source of sample row r complete a handshake with the track's victim (a returning client, not a bot)? */
  completedRow(tr: Track, r: number): boolean {
    const s = tr.sampler;
    if (s.fam[r] === 4) return this.conns.completed(s.src4[r] as number, s.dst4[r] as number, s.dport[r] as number);
    return this.conns.completed(hashBytes(s.src6, r * 16, 16), hashBytes(s.dst6, r * 16, 16), s.dport[r] as number);
  }

  /** End of input: close the last window and every open attack. */
  finish(): Track[] {
    if (this.base >= 0) this.closeWindow(Math.min((this.cur + 1 - this.base) * 1e9, this.lastT + 1));
    for (const m of this.live) m.finishLive();
    const ended = this.attacks.finish();
    // Attacks too short to have their signature fixed live are measured entirely by the catch-up pass.
    for (const tr of ended) if (tr.measurement === null) this.lock(tr, Number.POSITIVE_INFINITY);
    ended.sort((a, b) => a.start - b.start || a.id - b.id);
    return ended;
  }

  /** Base second of relative times (first packet's second). */
  get baseSecond(): number {
    return this.base;
  }
}

/**
 * A merge-mode window's contributions: (destination slot, class, sensor, packets) per merged row
 * class, and the attacks active this window by slot and class (prefix slots negative).
 */
class ShareLog {
  slot = new Int32Array(1024);
  cls = new Uint8Array(1024);
  sensor = new Int32Array(1024);
  packets = new Float64Array(1024);
  n = 0;
  readonly active = new Map<number, Track>();

  note(slot: number, c: number, sensor: number, packets: number): void {
    if (this.n === this.slot.length) {
      const grow = <T extends Int32Array | Uint8Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.slot = grow(this.slot);
      this.cls = grow(this.cls);
      this.sensor = grow(this.sensor);
      this.packets = grow(this.packets);
    }
    this.slot[this.n] = slot;
    this.cls[this.n] = c;
    this.sensor[this.n] = sensor;
    this.packets[this.n] = packets;
    this.n++;
  }

  reset(): void {
    this.n = 0;
    this.active.clear();
  }
}
