/**
 * Signature measurement for one attack: run its compiled signature over packets and count the
 * attack's packets it matches (coverage) and the other packets it matches (collateral).
 *
 * An attack's packets are its classes' packets sent to its victim from its first active window
 * to its last: a low-rate stretch in the middle of an attack (below the thresholds for a second
 * or two) is still the attack, not other traffic. Live (during the detection pass, from the
 * moment the signature is fixed) a window's counts wait in `win*` until the window closes; an
 * inactive window's wait in `pend*` until a later active window (the attack went on: they were
 * its) or the end (they were other traffic). In the catch-up pass the span is already known.
 */
import type { PacketView } from '../../decode/view.js';
import { Tunnel } from '../../decode/view.js';
import { compile } from '../../rules/compile.js';
import { packetScheme } from '../../scheme/packet.js';
import { hashBytes, mix32 } from '../core/sketch/hash.js';
import { HyperLogLog } from '../core/sketch/hll.js';

/** What a measurement needs of its attack (a detector Track, or its copy on another thread). */
export interface MeasuredTrack {
  fam: 4 | 6;
  /** Address or prefix bytes (IPv4 in the first 4). */
  addr: Uint8Array;
  isPrefix: boolean;
  prefixLen: number;
  /** Absolute second from which the packets were measured live (Infinity: none). */
  lockSec: number;
  /** Windows (seconds from the base second) in which the attack was active. */
  activeWins: Set<number>;
}

/** A measurement's counters, to move between threads and add up. */
export interface MeasureCounts {
  packets: number;
  bytes: number;
  matchedAttack: number;
  matchedOther: number;
  first: number;
  last: number;
  sources: Uint8Array;
}

export class Measurement<T extends MeasuredTrack = MeasuredTrack> {
  readonly test: (v: PacketView) => boolean;
  readonly mask: number;
  /** Attack packets and bytes, how many of them matched, and matched non-attack packets. */
  packets = 0;
  bytes = 0;
  matchedAttack = 0;
  matchedOther = 0;
  /** Relative ns of the first and last attack packet seen (-1 none). */
  first = -1;
  last = -1;
  readonly sources = new HyperLogLog(12);
  private winPackets = 0;
  private winBytes = 0;
  private winHit = 0;
  private winFirst = -1;
  private winLast = -1;
  private pendPackets = 0;
  private pendBytes = 0;
  private pendHit = 0;
  private pendFirst = -1;
  private pendLast = -1;
  /** The active span's first and last window, and the activeWins size they were computed at. */
  private spanLo = 0;
  private spanHi = -1;
  private spanSize = -1;
  private readonly want4: number;
  private readonly mask4: number;

  constructor(
    readonly track: T,
    readonly expression: string,
    readonly classes: number[],
    /** Base second of relative times. */
    readonly base: number,
  ) {
    this.test = compile(expression, packetScheme);
    let m = 0;
    for (const c of classes) m |= 1 << c;
    this.mask = m;
    const a = track.addr;
    this.want4 = (((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0;
    const bits = track.isPrefix ? track.prefixLen : 32;
    this.mask4 = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
  }

  /** Is the packet bound for this attack's victim (the outer destination of a GRE packet)? */
  toVictim(v: PacketView): boolean {
    const gre = (v.tunnel & Tunnel.GRE) !== 0;
    const fam = gre ? v.outerIpVersion : v.ipVersion;
    if (fam === 4) return this.matches4(gre ? v.outerDst4 : v.dst4);
    if (fam !== 6) return false;
    const off = gre ? v.outerDst6Off : v.dst6Off;
    if (off < 0) return false;
    return this.matches6(v.buf, off);
  }

  /** Is IPv4 destination `d` (int32 or uint32) this attack's victim? */
  matches4(d: number): boolean {
    return this.track.fam === 4 && (d & this.mask4) >>> 0 === (this.want4 & this.mask4) >>> 0;
  }

  /** Is the IPv6 destination at b[off..off+16) this attack's victim? */
  matches6(b: Uint8Array, off: number): boolean {
    const tr = this.track;
    if (tr.fam !== 6) return false;
    const bits = tr.isPrefix ? tr.prefixLen : 128;
    const a = tr.addr;
    for (let k = 0; k < 16 && k * 8 < bits; k++) {
      const left = bits - k * 8;
      const m = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
      if (((b[off + k] as number) & m) !== ((a[k] as number) & m)) return false;
    }
    return true;
  }

  private source(v: PacketView): void {
    const gre = (v.tunnel & Tunnel.GRE) !== 0;
    if ((gre ? v.outerIpVersion : v.ipVersion) === 4) this.sources.add(mix32(gre ? v.outerSrc4 : v.src4));
    else {
      const so = gre ? v.outerSrc6Off : v.src6Off;
      if (so >= 0) this.sources.add(hashBytes(v.buf, so, 16));
    }
  }

  /**
   * One packet already known to go to the victim, of class c. `active` is
   * whether its window was an active window of the attack, or null when that is not known yet
   * (live: decided by endWindow).
   */
  see(v: PacketView, c: number, active: boolean | null): void {
    const hit = this.test(v);
    const t = (v.tsSec - this.base) * 1e9 + v.tsNsec;
    // A record of a sampled or flow source stands for v.weight packets (1 for a captured one).
    const w = v.weight;
    if ((this.mask & (1 << c)) === 0) {
      if (hit) this.matchedOther += w;
      return;
    }
    if (active === null) {
      this.winPackets += w;
      this.winBytes += v.wirelen * w;
      if (hit) this.winHit += w;
      if (this.winFirst < 0) this.winFirst = t;
      this.winLast = t;
      this.source(v);
      return;
    }
    if (!active) {
      if (hit) this.matchedOther += w;
      return;
    }
    this.packets += w;
    this.bytes += v.wirelen * w;
    if (hit) this.matchedAttack += w;
    if (this.first < 0 || t < this.first) this.first = t;
    if (t > this.last) this.last = t;
    this.source(v);
  }

  /** Live: the input ended; windows after the last active one were other traffic. */
  finishLive(): void {
    this.matchedOther += this.pendHit;
    this.pendPackets = 0;
    this.pendBytes = 0;
    this.pendHit = 0;
  }

  counts(): MeasureCounts {
    const { packets, bytes, matchedAttack, matchedOther, first, last } = this;
    return { packets, bytes, matchedAttack, matchedOther, first, last, sources: this.sources.registers };
  }

  /** Add what another measurement of the same signature counted over other packets. */
  absorb(c: MeasureCounts): void {
    this.packets += c.packets;
    this.bytes += c.bytes;
    this.matchedAttack += c.matchedAttack;
    this.matchedOther += c.matchedOther;
    if (c.first >= 0 && (this.first < 0 || c.first < this.first)) this.first = c.first;
    if (c.last > this.last) this.last = c.last;
    this.sources.mergeRegisters(c.sources);
  }

  /** Is window w (seconds from the base) within the attack's span of active windows? */
  inSpan(w: number): boolean {
    const wins = this.track.activeWins;
    if (wins.size !== this.spanSize) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const x of wins) {
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      this.spanLo = lo;
      this.spanHi = hi;
      this.spanSize = wins.size;
    }
    return w >= this.spanLo && w <= this.spanHi;
  }

  /** Live: the window closed; its class packets were the attack's if the attack was active in it or is again later. */
  endWindow(active: boolean): void {
    if (active) {
      // Inactive windows since the last active one were inside the attack's span.
      if (this.pendPackets > 0) {
        this.packets += this.pendPackets;
        this.bytes += this.pendBytes;
        this.matchedAttack += this.pendHit;
        if (this.first < 0 || this.pendFirst < this.first) this.first = this.pendFirst;
        if (this.pendLast > this.last) this.last = this.pendLast;
      }
      this.pendPackets = 0;
      this.pendBytes = 0;
      this.pendHit = 0;
      this.pendFirst = -1;
      this.pendLast = -1;
    }
    if (this.winPackets > 0) {
      if (active) {
        this.packets += this.winPackets;
        this.bytes += this.winBytes;
        this.matchedAttack += this.winHit;
        if (this.first < 0 || this.winFirst < this.first) this.first = this.winFirst;
        if (this.winLast > this.last) this.last = this.winLast;
      } else {
        this.pendPackets += this.winPackets;
        this.pendBytes += this.winBytes;
        this.pendHit += this.winHit;
        if (this.pendFirst < 0) this.pendFirst = this.winFirst;
        this.pendLast = this.winLast;
      }
    }
    this.winPackets = 0;
    this.winBytes = 0;
    this.winHit = 0;
    this.winFirst = -1;
    this.winLast = -1;
  }
}
