/**
 * Connection state for L3/L4 verdicts: which TCP and UDP packets belong to a conversation that
 * is really taking place. An ACK flood is ACKs that belong to no connection, an RST flood is
 * resets of connections that do not exist, a SYN-ACK flood answers SYNs nobody sent, a UDP flood
 * gets no answer; a flash crowd is the same classes of packets in real, two-way conversations.
 * Rates and flag ratios cannot tell the two apart; this table can.
 *
 * One fixed table of conversations (5-tuple, direction-free), 4-way set-associative with 16
 * bytes an entry so one probe touches one cache line; nothing is allocated per packet. An entry
 * records which side opened with a SYN and its expected next sequence number, which directions
 * have sent data or ACKs (an RST is not an answer: a host answers a junk ACK with one), and
 * whether the three-way handshake completed. A conversation is established once the handshake
 * completed or both directions spoke.
 *
 * It must survive the floods it judges: a spoofed flood creates a new one-sided entry per packet,
 * so replacement prefers empty, then one-sided, then idle entries, and never evicts an
 * established conversation seen in the last IDLE_S seconds for a new one-sided one. Under a flood
 * the one-sided entries churn (a legitimate new conversation still has its round-trip time to get
 * its answer in, far below the time the flood takes to cycle the table) while established
 * conversations stay.
 *
 * A second, smaller table remembers (source, destination, port) triples whose handshake completed
 * (for UDP: whose first datagram was answered):
 * a SYN from a client that has completed a handshake with that service before is a returning
 * client, not a flood bot (bots of a SYN flood never complete one). Per port, so that a scanner
 * that completes a handshake with one open port is not vouched for on the others.
 *
 * Both passes over a capture (detection and the catch-up measurement) run this over the same
 * packets in the same order, so they reach the same verdicts.
 */
import { type PacketView, Tunnel } from '../../decode/view.js';
import { hashBytes, mix32 } from '../core/sketch/hash.js';
import { Cls } from './classify.js';

/** Sets of 4 entries (2^17 sets: 512 K conversations, 8 MiB). */
const SET_BITS = 17;
const WAYS = 4;
/** Ints per entry: fingerprint, expected sequence number, flags | last second << 8, spare. */
const E = 4;
/** Seconds after which an established conversation may be replaced. */
const IDLE_S = 120;
/** (source, destination) pairs that completed a handshake: 2^16 direct-mapped, 2 ways. */
const GOOD_BITS = 16;
/** Seconds a completed handshake vouches for its client. */
const GOOD_S = 600;

const enum F {
  /** Direction 0 / 1 sent data or an ACK (not RST, not a bare SYN). */
  DIR0 = 1,
  DIR1 = 2,
  /** The handshake completed (the opener's ACK carried its SYN's sequence number + 1). */
  DONE = 4,
  /** Direction 0 / 1 opened with a SYN. */
  SYN0 = 8,
  SYN1 = 16,
  /** The other side answered the SYN with a SYN-ACK acknowledging it. */
  SYNACK = 32,
}

export class ConnState {
  private readonly t = new Int32Array((1 << SET_BITS) * WAYS * E);
  private readonly good = new Int32Array((1 << GOOD_BITS) * 2 * 2);
  /** The canonical direction of the last packet looked up (0: from the lower endpoint). */
  private dir = 0;
  /** Relative second of the packet being judged (only differences matter). */
  private sec = 0;
  /** Conversations seen, entries replaced while live, inserts refused (all ways established and fresh). */
  inserted = 0;
  evicted = 0;
  refused = 0;

  /**
   * Judge an IPv4 TCP or UDP packet and update the table. Returns true when the packet belongs
   * to a conversation (see verdict rules in tcp()/udp()). Addresses as int32 or uint32; IPv6
   * addresses are passed as their hashBytes (a collision merely merges two conversations).
   */
  observe4(src: number, dst: number, sport: number, dport: number, proto: number, flags: number, seq: number, ack: number, sec: number): boolean {
    const s = src | 0;
    const d = dst | 0;
    // Direction-free key: the lower (address, port) endpoint first.
    const lowFirst = s !== d ? s >>> 0 < d >>> 0 : sport <= dport;
    this.dir = lowFirst ? 0 : 1;
    const a = lowFirst ? s : d;
    const b = lowFirst ? d : s;
    const ports = lowFirst ? (sport << 16) | dport : (dport << 16) | sport;
    const h1 = mix32(mix32(a ^ 0x5bd1e995) ^ b);
    const h = mix32(h1 ^ Math.imul(ports, 0x9e3779b1) ^ proto);
    this.sec = sec;
    return proto === 6 ? this.tcp(h, flags, seq, ack, s, d ^ Math.imul(dport, 0x2c1b3c6d)) : this.udp(h, s, d, sport);
  }

  /** Entry index (in ints) of the conversation with hash h, or -1. */
  private find(h: number): number {
    const fp = h === 0 ? 1 : h;
    const base = (h >>> (32 - SET_BITS)) * WAYS * E;
    const t = this.t;
    for (let w = 0; w < WAYS; w++) if (t[base + w * E] === fp) return base + w * E;
    return -1;
  }

  /**
   * A new entry for hash h with the given flags: the way to replace is an empty one, else the
   * one-sided entry idle longest, else an established one idle more than IDLE_S; an established
   * conversation is evicted for another established one only (strong), never for a one-sided one.
   */
  private insert(h: number, flags: number, strong: boolean): number {
    const fp = h === 0 ? 1 : h;
    const base = (h >>> (32 - SET_BITS)) * WAYS * E;
    const t = this.t;
    let best = -1;
    let bestScore = Number.POSITIVE_INFINITY;
    const now = this.sec;
    for (let w = 0; w < WAYS; w++) {
      const e = base + w * E;
      if (t[e] === 0) {
        best = e;
        break;
      }
      const m = t[e + 2] as number;
      const idle = now - ((m >>> 8) & 0xffffff);
      const est = (m & F.DONE) !== 0 || (m & (F.DIR0 | F.DIR1)) === (F.DIR0 | F.DIR1);
      // Lower is replaced first: one-sided entries by age, then idle established ones.
      const score = est ? (idle > IDLE_S ? 1e9 - idle : strong ? 2e9 - idle : Number.POSITIVE_INFINITY) : -idle;
      if (score < bestScore) {
        bestScore = score;
        best = e;
      }
    }
    if (best < 0) {
      this.refused++;
      return -1;
    }
    if (t[best] !== 0) this.evicted++;
    this.inserted++;
    t[best] = fp;
    t[best + 1] = 0;
    t[best + 2] = flags | ((now & 0xffffff) << 8);
    return best;
  }

  private touch(e: number, add: number): number {
    const t = this.t;
    const m = ((t[e + 2] as number) & 0xff) | add;
    t[e + 2] = m | ((this.sec & 0xffffff) << 8);
    return m;
  }

  /**
   * TCP. SYN: belongs when its client completed a handshake with the destination before (a
   * returning client). SYN-ACK: when it acknowledges a SYN seen from the other side. RST: when the
   * conversation exists. ACK, data, FIN: when the conversation is established after this packet.
   */
  private tcp(h: number, flags: number, seq: number, ack: number, src: number, dst: number): boolean {
    const dirBit = this.dir === 0 ? F.DIR0 : F.DIR1;
    const synBit = this.dir === 0 ? F.SYN0 : F.SYN1;
    const otherSyn = this.dir === 0 ? F.SYN1 : F.SYN0;
    const t = this.t;
    let e = this.find(h);
    if ((flags & 0x04) !== 0) {
      if (e >= 0) this.touch(e, 0);
      return e >= 0;
    }
    if ((flags & 0x02) !== 0) {
      if ((flags & 0x10) === 0) {
        // SYN (or a retransmission): remember its sequence number.
        if (e < 0) e = this.insert(h, synBit, false);
        else this.touch(e, synBit);
        if (e >= 0) t[e + 1] = (seq + 1) | 0;
        return this.isGood(src, dst);
      }
      // SYN-ACK. An unsolicited one (reflection) is remembered too: the resets that follow on the
      // same 4-tuple are that exchange's, not a flood of their own.
      if (e < 0) {
        this.insert(h, 0, false);
        return false;
      }
      if (((t[e + 2] as number) & otherSyn) === 0 || (ack | 0) !== t[e + 1]) return false;
      this.touch(e, F.SYNACK);
      return true;
    }
    if (e < 0) {
      this.insert(h, dirBit, false);
      return false;
    }
    let m = (t[e + 2] as number) & 0xff;
    if ((m & F.DONE) === 0 && (m & synBit) !== 0 && (seq | 0) === t[e + 1]) {
      // The opener's ACK carries its SYN's sequence number + 1: the handshake completed.
      m = this.touch(e, dirBit | F.DONE);
      this.markGood(src, dst);
    } else m = this.touch(e, dirBit);
    return (m & F.DONE) !== 0 || (m & (F.DIR0 | F.DIR1)) === (F.DIR0 | F.DIR1);
  }

  /**
   * UDP (and GRE): belongs when the other direction has spoken on the same 5-tuple. The first
   * answer vouches for the side that spoke first, as a completed handshake does for TCP.
   */
  private udp(h: number, src: number, dst: number, sport: number): boolean {
    const dirBit = this.dir === 0 ? F.DIR0 : F.DIR1;
    const e = this.find(h);
    if (e < 0) {
      this.insert(h, dirBit, false);
      return false;
    }
    const before = (this.t[e + 2] as number) & (F.DIR0 | F.DIR1);
    const m = this.touch(e, dirBit);
    const both = (m & (F.DIR0 | F.DIR1)) === (F.DIR0 | F.DIR1);
    // This packet is the answer: its destination spoke first, to its source's port.
    if (both && before !== (F.DIR0 | F.DIR1)) this.markGood(dst, src ^ Math.imul(sport, 0x2c1b3c6d));
    return both;
  }

  private goodSlot(src: number, dst: number): { base: number; fp: number } {
    const h = mix32(mix32(src ^ 0x27d4eb2f) ^ dst);
    GOOD.fp = h === 0 ? 1 : h;
    GOOD.base = (h >>> (32 - GOOD_BITS)) * 4;
    return GOOD;
  }

  private markGood(src: number, dst: number): void {
    const { base, fp } = this.goodSlot(src, dst);
    const g = this.good;
    // Two ways: refresh a match, else replace the older.
    let w = base;
    if (g[base] === fp) w = base;
    else if (g[base + 2] === fp) w = base + 2;
    else if ((g[base + 1] as number) > (g[base + 3] as number)) w = base + 2;
    g[w] = fp;
    g[w + 1] = this.sec + 1;
  }

  /** Has `src` completed a handshake with port `dport` of `dst` in the last GOOD_S seconds (IPv6: the addresses' hashBytes)? */
  completed(src: number, dst: number, dport: number): boolean {
    return this.isGood(src | 0, (dst | 0) ^ Math.imul(dport, 0x2c1b3c6d));
  }

  private isGood(src: number, dst: number): boolean {
    const { base, fp } = this.goodSlot(src, dst);
    const g = this.good;
    const now = this.sec;
    if (g[base] === fp) return now - ((g[base + 1] as number) - 1) <= GOOD_S;
    if (g[base + 2] === fp) return now - ((g[base + 3] as number) - 1) <= GOOD_S;
    return false;
  }
}

/** goodSlot's result, reused (no object per packet). */
const GOOD = { base: 0, fp: 0 };

/**
 * The packet's class once its conversation is known: a packet of a flood class (ACK, RST,
 * SYN-ACK, a returning client's SYN, plain UDP) that belongs to a real conversation is ordinary
 * traffic (Cls.OTHER). Reflected replies are judged by their shape instead (many reflectors,
 * large replies): a capture taken where the spoofed requests pass shows them "answered". Every TCP and UDP packet updates the state, in
 * capture order; `sec` is the packet's second relative to any fixed base.
 */
export function stateClass(st: ConnState, v: PacketView, c: number, sec: number): number {
  if (c === Cls.GRE) return greClass(st, v, sec);
  if (v.l4Off < 0 || (v.tunnel & Tunnel.GRE) !== 0 || c === Cls.FRAG) return c;
  const p = v.l4Proto;
  if (p !== 6 && p !== 17) return c;
  if (v.flowPackets > 1 && p === 6) return flowTcpClass(st, v, c, sec);
  let belongs: boolean;
  if (v.ipVersion === 4) belongs = st.observe4(v.src4 | 0, v.dst4 | 0, v.srcPort, v.dstPort, p, v.tcpFlags, v.tcpSeq | 0, v.tcpAck | 0, sec);
  else if (v.src6Off >= 0 && v.dst6Off >= 0)
    belongs = st.observe4(hashBytes(v.buf, v.src6Off, 16), hashBytes(v.buf, v.dst6Off, 16), v.srcPort, v.dstPort, p, v.tcpFlags, v.tcpSeq | 0, v.tcpAck | 0, sec);
  else return c;
  if (!belongs) return c;
  switch (c) {
    case Cls.TCP_SYN:
    case Cls.TCP_SYNACK:
    case Cls.TCP_ACK:
    case Cls.TCP_RST:
    case Cls.UDP:
      return Cls.OTHER;
    default:
      return c;
  }
}

/**
 * A TCP flow record of several packets (no sequence numbers; tcpFlags is the OR of its packets'):
 * SYN with ACK and data is an opener that completed its handshake, replayed into the table as its
 * SYN and then the ACK that carries the SYN's sequence number + 1; SYN+ACK alone is SYN-ACKs,
 * which acknowledge a SYN record seen the other way; anything else is one packet with those flags.
 * Sequence numbers are 0 for every flow, so the replay is consistent with itself.
 */
function flowTcpClass(st: ConnState, v: PacketView, c: number, sec: number): number {
  const f = v.tcpFlags;
  let s: number;
  let d: number;
  if (v.ipVersion === 4) {
    s = v.src4 | 0;
    d = v.dst4 | 0;
  } else if (v.src6Off >= 0 && v.dst6Off >= 0) {
    s = hashBytes(v.buf, v.src6Off, 16);
    d = hashBytes(v.buf, v.dst6Off, 16);
  } else return c;
  const sp = v.srcPort;
  const dp = v.dstPort;
  let belongs: boolean;
  if ((f & 0x12) === 0x12 && (f & 0x09) !== 0) {
    st.observe4(s, d, sp, dp, 6, 0x02, 0, 0, sec);
    belongs = st.observe4(s, d, sp, dp, 6, 0x10, 1, 0, sec);
  } else if ((f & 0x17) === 0x12) belongs = st.observe4(s, d, sp, dp, 6, 0x12, 0, 1, sec);
  else belongs = st.observe4(s, d, sp, dp, 6, f, 0, 0, sec);
  if (!belongs) return c;
  return c === Cls.TCP_SYN || c === Cls.TCP_SYNACK || c === Cls.TCP_ACK || c === Cls.TCP_RST ? Cls.OTHER : c;
}

/**
 * GRE between two routers is a tunnel carrying traffic both ways; a GRE flood comes one way.
 * Judged like UDP on the outer addresses (protocol 47, no ports): once both ends have sent, the
 * tunnel's packets are ordinary.
 */
function greClass(st: ConnState, v: PacketView, sec: number): number {
  const tunnelled = (v.tunnel & Tunnel.GRE) !== 0;
  const fam = tunnelled ? v.outerIpVersion : v.ipVersion;
  let belongs: boolean;
  if (fam === 4) belongs = st.observe4((tunnelled ? v.outerSrc4 : v.src4) | 0, (tunnelled ? v.outerDst4 : v.dst4) | 0, 0, 0, 47, 0, 0, 0, sec);
  else {
    const so = tunnelled ? v.outerSrc6Off : v.src6Off;
    const d = tunnelled ? v.outerDst6Off : v.dst6Off;
    if (so < 0 || d < 0) return Cls.GRE;
    belongs = st.observe4(hashBytes(v.buf, so, 16), hashBytes(v.buf, d, 16), 0, 0, 47, 0, 0, 0, sec);
  }
  return belongs ? Cls.OTHER : Cls.GRE;
}
