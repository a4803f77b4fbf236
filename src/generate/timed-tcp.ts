/**
 * TCP connections whose every packet has its own time: what an HTTP client's behaviour is made
 * of (a bot's requests a second apart on a kept-alive connection, a slowloris header line every
 * fifteen seconds, a server closing at its header timeout). The pool sessions of benign.ts are
 * stepped at the pool's arrival times instead; these are merged by a heap on their next packet.
 *
 * A script is built in time order with a cursor (`at`); each step is one segment. Sequence and
 * acknowledgement numbers, IP ids and windows are kept as TcpSession keeps them (tcp.ts).
 */
import type { Addr, Emitter } from './emitter.js';
import type { PayloadBlob } from './frames.js';
import type { Rng } from './prng.js';
import { OPTS_SYNACK, OPTS_TS, OPTS_V6, type Stack } from './stacks.js';
import { segmentBody } from './tcp.js';

interface Step {
  at: number;
  fromClient: boolean;
  flags: number;
  head: Uint8Array | null;
  blobLen: number;
}

const SYN = 0x02;
const ACK = 0x10;
const PSH_ACK = 0x18;
const FIN_ACK = 0x11;
const RST = 0x04;

export class TimedConn {
  private readonly steps: Step[] = [];
  private i = 0;
  private cSeq: number;
  private sSeq: number;
  private cId: number;
  private sId: number;
  readonly mss: number;
  /** Called after the last packet (the owner schedules what comes next). */
  onDone: ((t: number) => void) | null = null;

  constructor(
    private readonly rng: Rng,
    private readonly c: Addr,
    private readonly s: Addr,
    private readonly cport: number,
    private readonly sport: number,
    private readonly cttl: number,
    private readonly stack: Stack,
    private readonly blob: PayloadBlob,
  ) {
    this.cSeq = rng.u32();
    this.sSeq = rng.u32();
    this.cId = rng.int(0, 65535);
    this.sId = rng.int(0, 65535);
    this.mss = (typeof c === 'number' ? 1460 : 1440) - (stack.ts ? 12 : 0);
  }

  private push(at: number, fromClient: boolean, flags: number, head: Uint8Array | null, blobLen: number): void {
    const last = this.steps[this.steps.length - 1];
    // Never before the previous packet of the connection (times are rounded to whole ns).
    const t = Math.round(last !== undefined && at < last.at ? last.at : at);
    this.steps.push({ at: t, fromClient, flags, head, blobLen });
  }

  /** SYN at `at`, SYN-ACK and ACK one round trip later; returns when the client may send. */
  handshake(at: number, rttNs: number): number {
    this.push(at, true, SYN, null, 0);
    this.push(at + rttNs / 2, false, SYN | ACK, null, 0);
    this.push(at + rttNs, true, ACK, null, 0);
    return at + rttNs;
  }

  /**
   * One side sends `head` then `body` bytes in MSS segments `gapNs` apart; the other ACKs every
   * second segment `ackNs` later, and the last one when `ackLast`. Returns the time of the last
   * segment.
   */
  send(at: number, fromClient: boolean, head: Uint8Array | null, body: number, gapNs: number, ackNs: number, ackLast: boolean): number {
    let left = Math.max(0, body);
    let first = true;
    let n = 0;
    let t = at;
    let headLeft = head;
    while (first || left > 0) {
      let seg: Uint8Array | null = null;
      let room = this.mss;
      if (headLeft !== null) {
        // A head longer than a segment goes out over several.
        seg = headLeft.length > room ? headLeft.subarray(0, room) : headLeft;
        headLeft = headLeft.length > room ? headLeft.subarray(room) : null;
        room -= seg.length;
      }
      const bytes = headLeft !== null ? 0 : Math.min(room, left);
      left -= bytes;
      this.push(t, fromClient, headLeft === null && left <= 0 ? PSH_ACK : ACK, seg, bytes);
      first = false;
      if (++n % 2 === 0) this.push(t + ackNs, !fromClient, ACK, null, 0);
      if (headLeft !== null || left > 0) t += gapNs;
    }
    if (ackLast && n % 2 === 1) this.push(t + ackNs, !fromClient, ACK, null, 0);
    return t;
  }

  /** FIN from one side, FIN from the other half a round trip later, the last ACK. */
  close(at: number, fromClient: boolean, rttNs: number): number {
    this.push(at, fromClient, FIN_ACK, null, 0);
    this.push(at + rttNs / 2, !fromClient, FIN_ACK, null, 0);
    this.push(at + rttNs, fromClient, ACK, null, 0);
    return at + rttNs;
  }

  /** The server closes (its header timeout): FIN, the client's ACK. The client's end stays open. */
  serverFin(at: number, rttNs: number): number {
    this.push(at, false, FIN_ACK, null, 0);
    this.push(at + rttNs / 2, true, ACK, null, 0);
    return at + rttNs / 2;
  }

  /** A segment after the server closed is answered with a RST. */
  dataThenRst(at: number, head: Uint8Array, rttNs: number): number {
    this.push(at, true, PSH_ACK, head, 0);
    this.push(at + rttNs / 2, false, RST, null, 0);
    return at + rttNs / 2;
  }

  get next(): number {
    const s = this.steps[this.i];
    return s === undefined ? Number.POSITIVE_INFINITY : s.at;
  }

  get length(): number {
    return this.steps.length;
  }

  /** Write the next packet; true when it was the last. */
  step(e: Emitter): boolean {
    const s = this.steps[this.i++] as Step;
    const p = e.p.reset();
    const syn = (s.flags & SYN) !== 0;
    const stack = this.stack;
    if (s.fromClient) {
      p.src = this.c;
      p.dst = this.s;
      p.sport = this.cport;
      p.dport = this.sport;
      p.ttl = this.cttl;
      p.ipId = this.cId++;
      p.seq = this.cSeq;
      p.ack = s.flags === SYN ? 0 : this.sSeq;
      p.win = syn ? stack.win : Math.min(65535, stack.win + this.rng.int(0, 3) * 256);
      p.opts = syn ? (typeof this.c === 'number' ? stack.opts : OPTS_V6) : stack.ts ? OPTS_TS : null;
    } else {
      p.src = this.s;
      p.dst = this.c;
      p.sport = this.sport;
      p.dport = this.cport;
      p.ttl = 64;
      p.ipId = this.sId++;
      p.seq = this.sSeq;
      p.ack = s.flags === RST ? 0 : this.cSeq;
      p.win = syn ? 65160 : s.flags === RST ? 0 : 501;
      p.opts = syn ? OPTS_SYNACK : stack.ts && s.flags !== RST ? OPTS_TS : null;
    }
    p.flow = this.cport;
    const adv = segmentBody(p, s, this.blob, this.rng);
    if (s.fromClient) this.cSeq = (this.cSeq + adv) >>> 0;
    else this.sSeq = (this.sSeq + adv) >>> 0;
    e.tcp(s.at);
    return this.i >= this.steps.length;
  }
}

/** Connections ordered by their next packet time (a binary min-heap). */
export class ConnHeap {
  private readonly a: TimedConn[] = [];

  get size(): number {
    return this.a.length;
  }

  get topTime(): number {
    const c = this.a[0];
    return c === undefined ? Number.POSITIVE_INFINITY : c.next;
  }

  push(c: TimedConn): void {
    const a = this.a;
    a.push(c);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as TimedConn).next <= c.next) break;
      a[i] = a[p] as TimedConn;
      i = p;
    }
    a[i] = c;
  }

  /** Emit the earliest connection's next packet and re-place it (or drop it when done). */
  stepTop(e: Emitter): void {
    const a = this.a;
    const c = a[0] as TimedConn;
    const t = c.next;
    const done = c.step(e);
    if (done) {
      const last = a.pop() as TimedConn;
      if (a.length > 0 && last !== c) {
        a[0] = last;
        this.down(0);
      }
      c.onDone?.(t);
    } else this.down(0);
  }

  private down(i: number): void {
    const a = this.a;
    const n = a.length;
    const x = a[i] as TimedConn;
    const key = x.next;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && (a[r] as TimedConn).next < (a[l] as TimedConn).next ? r : l;
      if ((a[m] as TimedConn).next >= key) break;
      a[i] = a[m] as TimedConn;
      i = m;
    }
    a[i] = x;
  }
}
