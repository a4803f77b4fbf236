/**
 * A reservoir sample of the packets sent to one victim (an address or a prefix) while it is under
 * attack: the header fields signature search works on, one row per packet, in typed columns.
 * Uniform over everything the victim received since sampling started (Vitter's algorithm R), so
 * attack and non-attack packets keep their proportions. Fixed size; nothing allocated per packet.
 */
import type { PacketView } from '../../decode/view.js';
import { mix32 } from '../core/sketch/hash.js';

/** Rows of a victim's sample. */
export const SAMPLE_ROWS = 16384;
/** (Source, class) pairs a victim's source table holds (twice the largest list a signature may carry). */
export const SOURCES_MAX = 40_000;
/** Its slots (a power of two, load at most 0.61). */
const SOURCE_SLOTS = 65_536;

export class VictimSample {
  readonly cls = new Uint8Array(SAMPLE_ROWS);
  /** The class before connection state was looked at (conn-state.ts stateClass): cls differs when the packet belonged to a conversation. */
  readonly raw = new Uint8Array(SAMPLE_ROWS);
  readonly src4 = new Uint32Array(SAMPLE_ROWS);
  /** IPv6 sources (16 bytes per row), all zero for IPv4 rows. */
  readonly src6 = new Uint8Array(SAMPLE_ROWS * 16);
  readonly fam = new Uint8Array(SAMPLE_ROWS);
  readonly dst4 = new Uint32Array(SAMPLE_ROWS);
  /** IPv6 destinations (16 bytes per row). */
  readonly dst6 = new Uint8Array(SAMPLE_ROWS * 16);
  readonly proto = new Uint8Array(SAMPLE_ROWS);
  readonly l4 = new Uint8Array(SAMPLE_ROWS);
  readonly sport = new Uint16Array(SAMPLE_ROWS);
  readonly dport = new Uint16Array(SAMPLE_ROWS);
  readonly ipLen = new Uint16Array(SAMPLE_ROWS);
  readonly ttl = new Uint8Array(SAMPLE_ROWS);
  /** 1 for a row made from a flow record without headers: its TTL, window and header length are unknown. */
  readonly noHdr = new Uint8Array(SAMPLE_ROWS);
  readonly win = new Uint16Array(SAMPLE_ROWS);
  readonly flags = new Uint8Array(SAMPLE_ROWS);
  readonly tcpHdr = new Uint8Array(SAMPLE_ROWS);
  readonly udpLen = new Uint16Array(SAMPLE_ROWS);
  readonly icmpType = new Uint8Array(SAMPLE_ROWS);
  readonly frag = new Uint16Array(SAMPLE_ROWS);
  readonly t = new Float64Array(SAMPLE_ROWS);
  rows = 0;
  /**
   * Records offered (add() calls and skipped ones): equal to `seen` for captured packets, fewer for
   * sampled or flow records, each of which stands for several packets.
   */
  records = 0;
  seen = 0;
  /**
   * IPv4 sources of the flood-class packets (class != OTHER) the victim received since sampling
   * started, per class, with their packet counts: a source list must hold every bot, not just
   * those the reservoir kept. An open-addressing table in typed arrays (allocated when the first
   * source arrives; nothing per packet). Bounded: once SOURCES_MAX (source, class) pairs are in,
   * it stops and says so (`sourcesFull`; a spoofed flood fills it in a blink and needs no list).
   */
  private srcKey: Int32Array | null = null;
  private srcCls: Uint8Array | null = null;
  /** Packets per slot; 0: empty slot. */
  private srcCount: Float64Array | null = null;
  private srcUsed = 0;
  sourcesFull = false;
  /** Zones (last two labels) of the first DNS questions seen, for a random-subdomain signature. */
  readonly zones = new Map<string, number>();
  zoneSamples = 0;
  /** Base second of relative times (set by the detector). */
  base = 0;
  private rnd: number;

  constructor(
    seed: number,
    readonly cap = SAMPLE_ROWS,
  ) {
    this.rnd = seed | 1;
  }

  /** Forget everything (the window reservoir is reused every second). */
  reset(): void {
    this.rows = 0;
    this.seen = 0;
    this.records = 0;
    this.next = 0;
  }

  /** Copy row r of another sample (seeding a victim's sample from the window reservoir). */
  copyRow(o: VictimSample, r: number): void {
    if (this.rows >= this.cap) return;
    const w = this.rows++;
    this.seen++;
    this.records++;
    if (this.rows === this.cap) {
      this.w = 1;
      this.next = this.seen - 1;
      this.drawNext();
    }
    this.cls[w] = o.cls[r] as number;
    this.raw[w] = o.raw[r] as number;
    this.fam[w] = o.fam[r] as number;
    this.src4[w] = o.src4[r] as number;
    this.dst4[w] = o.dst4[r] as number;
    for (let k = 0; k < 16; k++) {
      this.src6[w * 16 + k] = o.src6[r * 16 + k] as number;
      this.dst6[w * 16 + k] = o.dst6[r * 16 + k] as number;
    }
    this.proto[w] = o.proto[r] as number;
    this.l4[w] = o.l4[r] as number;
    this.sport[w] = o.sport[r] as number;
    this.dport[w] = o.dport[r] as number;
    this.ipLen[w] = o.ipLen[r] as number;
    this.ttl[w] = o.ttl[r] as number;
    this.noHdr[w] = o.noHdr[r] as number;
    this.win[w] = o.win[r] as number;
    this.flags[w] = o.flags[r] as number;
    this.tcpHdr[w] = o.tcpHdr[r] as number;
    this.udpLen[w] = o.udpLen[r] as number;
    this.icmpType[w] = o.icmpType[r] as number;
    this.frag[w] = o.frag[r] as number;
    this.t[w] = o.t[r] as number;
  }

  /**
   * Index of the next packet to keep once the reservoir is full (Li's algorithm L). Callers on
   * the per-packet path test `seen >= cap && seen !== next` themselves and only count the packet
   * (`seen++`) then, without a call.
   */
  next = 0;
  private w = 0;

  private uniform(): number {
    // xorshift32: reproducible runs, no Math.random.
    let x = this.rnd;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rnd = x;
    return ((x >>> 0) + 1) / 4294967297;
  }

  /** Algorithm L: jump straight to the next packet that enters the reservoir (O(1) per skipped packet). */
  private drawNext(): void {
    this.w *= Math.exp(Math.log(this.uniform()) / this.cap);
    this.next += Math.floor(Math.log(this.uniform()) / Math.log(1 - this.w)) + 1;
  }

  /**
   * A packet, or a record standing for `v.weight` packets (sampled flows): the reservoir stays a
   * uniform sample of packets, so a record enters it once for each of its packets the algorithm
   * picks, and every reader of the rows counts them unweighted.
   */
  add(v: PacketView, c: number, raw: number): void {
    this.records++;
    let w = v.weight;
    for (;;) {
      const n = this.seen;
      let r: number;
      if (n < this.cap) {
        this.seen = n + 1;
        r = n;
        this.rows = n + 1;
        if (this.rows === this.cap) {
          this.w = 1;
          this.next = n;
          this.drawNext();
        }
      } else {
        if (this.next >= n + w) {
          this.seen = n + w;
          return;
        }
        w -= this.next - n;
        this.seen = this.next + 1;
        r = Math.floor(this.uniform() * this.cap) % this.cap;
        this.drawNext();
      }
      this.put(r, v, c, raw);
      if (--w <= 0) return;
    }
  }

  private put(r: number, v: PacketView, c: number, raw: number): void {
    this.cls[r] = c;
    this.raw[r] = raw;
    this.fam[r] = v.ipVersion;
    this.src4[r] = v.src4;
    this.dst4[r] = v.dst4;
    const o = r * 16;
    if (v.ipVersion === 6 && v.src6Off >= 0) {
      for (let k = 0; k < 16; k++) this.src6[o + k] = v.buf[v.src6Off + k] as number;
      if (v.dst6Off >= 0) for (let k = 0; k < 16; k++) this.dst6[o + k] = v.buf[v.dst6Off + k] as number;
    }
    this.proto[r] = v.ipProto;
    this.l4[r] = v.l4Off >= 0 ? v.l4Proto : 0;
    this.sport[r] = v.srcPort;
    this.dport[r] = v.dstPort;
    this.ipLen[r] = v.ipLen;
    this.ttl[r] = v.ttl;
    this.noHdr[r] = v.flowPackets !== 0 ? 1 : 0;
    this.win[r] = v.tcpWindow;
    this.flags[r] = v.tcpFlags;
    this.tcpHdr[r] = v.tcpHdrLen;
    this.udpLen[r] = v.udpLen;
    this.icmpType[r] = v.icmpType;
    this.frag[r] = v.fragOffset;
    this.t[r] = (v.tsSec - this.base) * 1e9 + v.tsNsec;
    if (v.dnsNameLen > 0 && this.zoneSamples < 2000) this.addZone(v);
  }

  /** Count a flood-class packet's (or a record's `w` packets') IPv4 source (see `srcKey`). */
  noteSource(src4: number, c: number, w: number): void {
    if (this.srcKey === null) {
      this.srcKey = new Int32Array(SOURCE_SLOTS);
      this.srcCls = new Uint8Array(SOURCE_SLOTS);
      this.srcCount = new Float64Array(SOURCE_SLOTS);
    }
    const keys = this.srcKey;
    const cls = this.srcCls as Uint8Array;
    const count = this.srcCount as Float64Array;
    const a = src4 | 0;
    let q = mix32(a ^ Math.imul(c, 0x9e3779b1)) & (SOURCE_SLOTS - 1);
    for (;;) {
      const n = count[q] as number;
      if (n === 0) break;
      if (keys[q] === a && cls[q] === c) {
        count[q] = n + w;
        return;
      }
      q = (q + 1) & (SOURCE_SLOTS - 1);
    }
    if (this.srcUsed >= SOURCES_MAX) {
      this.sourcesFull = true;
      return;
    }
    this.srcUsed++;
    keys[q] = a;
    cls[q] = c;
    count[q] = w;
  }

  /** Each IPv4 source (as uint32) counted for class c, with its packets. */
  *sourcesOf(c: number): Generator<[number, number]> {
    const keys = this.srcKey;
    if (keys === null) return;
    const cls = this.srcCls as Uint8Array;
    const count = this.srcCount as Float64Array;
    for (let q = 0; q < SOURCE_SLOTS; q++) if ((count[q] as number) > 0 && cls[q] === c) yield [(keys[q] as number) >>> 0, count[q] as number];
  }

  /** Bounded: at most 2,000 names are looked at per victim. */
  private addZone(v: PacketView): void {
    this.zoneSamples++;
    const name = v.dnsName;
    let dots = 0;
    let p = v.dnsNameLen - 1;
    for (; p >= 0; p--) if (name[p] === 0x2e && ++dots === 2) break;
    if (p < 0) return;
    let z = '';
    for (let k = p; k < v.dnsNameLen; k++) {
      const ch = name[k] as number;
      z += String.fromCharCode(ch >= 0x41 && ch <= 0x5a ? ch | 0x20 : ch);
    }
    this.zones.set(z, (this.zones.get(z) ?? 0) + 1);
  }
}
