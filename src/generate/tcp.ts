/**
 * One TCP connection, scripted at creation and replayed a packet at a time: the handshake, then
 * messages each side sends (a head of real protocol bytes followed by bulk bytes cut into
 * MSS-sized segments, PSH on the last), the receiver ACKing every second segment as delayed ACK
 * does, then a FIN handshake (or, now and then, a RST). Long-lived sessions (HTTP/2, keep-alive)
 * are many messages in one script; bulk transfers are one message of hundreds of segments.
 *
 * A step without a head is shared by every session (one object per direction, flags and length),
 * so a long script costs one array slot per packet.
 */
import type { Session } from './component.js';
import type { Addr, Emitter } from './emitter.js';
import type { PayloadBlob } from './frames.js';
import type { Rng } from './prng.js';
import { OPTS_SYNACK, OPTS_TS, OPTS_V6, type Stack } from './stacks.js';
import type { GreTunnel } from './tunnel.js';

interface TcpStep {
  fromClient: boolean;
  flags: number;
  head: Uint8Array | null;
  blobLen: number;
}

const SHARED = new Map<number, TcpStep>();

/**
 * The rest of a segment on the packet being built: DF, its flags, its head bytes and then a
 * stretch of the payload blob (a different stretch per segment, so payloads do not repeat byte
 * for byte). Returns the sequence space it takes: the payload, plus one for a SYN or a FIN.
 */
export function segmentBody(p: Emitter['p'], s: Omit<TcpStep, 'fromClient'>, blob: PayloadBlob, rng: Rng): number {
  p.df = true;
  p.flags = s.flags;
  let len = 0;
  if (s.head) {
    p.head = s.head;
    p.headLen = len = s.head.length;
  }
  if (s.blobLen > 0) {
    p.blob = blob;
    p.payLen = s.blobLen;
    p.blobOff = 2 * Math.floor(rng.float() * (((blob.bytes.length - s.blobLen) >> 1) + 1));
    len += s.blobLen;
  }
  return len + ((s.flags & 0x03) !== 0 ? 1 : 0);
}

function tcpStep(fromClient: boolean, flags: number, head: Uint8Array | null, blobLen: number): TcpStep {
  if (head) return { fromClient, flags, head, blobLen };
  const key = (blobLen * 256 + flags) * 2 + (fromClient ? 1 : 0);
  let s = SHARED.get(key);
  if (!s) {
    s = { fromClient, flags, head: null, blobLen };
    SHARED.set(key, s);
  }
  return s;
}

export const SYN = 0x02;
export const ACK = 0x10;
export const PSH_ACK = 0x18;

export class TcpSession implements Session {
  private readonly steps: TcpStep[] = [];
  private i = 0;
  private cSeq: number;
  private sSeq: number;
  private cId: number;
  private sId: number;
  /** Payload bytes in a full segment. */
  readonly mss: number;

  constructor(
    private readonly rng: Rng,
    private readonly c: Addr,
    private readonly s: Addr,
    private readonly cport: number,
    private readonly sport: number,
    private readonly cttl: number,
    private readonly stack: Stack,
    private readonly blob: PayloadBlob,
    private readonly sttl = 64,
    /** Carried in this GRE tunnel (client on the remote site's side), or sent as is. */
    private readonly gre: GreTunnel | null = null,
  ) {
    this.cSeq = rng.u32();
    this.sSeq = rng.u32();
    this.cId = rng.int(0, 65535);
    this.sId = rng.int(0, 65535);
    // MSS 1460 (IPv4) / 1440 (IPv6) less the timestamps option; a tunnel's MTU is 24 bytes less.
    this.mss = (typeof c === 'number' ? 1460 : 1440) - (stack.ts ? 12 : 0) - (gre ? 24 : 0);
  }

  /** SYN, SYN-ACK, ACK. */
  handshake(): this {
    const st = this.steps;
    st.push(tcpStep(true, SYN, null, 0), tcpStep(false, 0x12, null, 0), tcpStep(true, ACK, null, 0));
    return this;
  }

  /**
   * One side sends `head` then `body` bulk bytes; the other ACKs every second segment, and
   * after an odd last one when `ackLast` (a server ACKing a request before it answers).
   */
  send(fromClient: boolean, head: Uint8Array | null, body: number, ackLast = false): this {
    const st = this.steps;
    const mss = this.mss;
    let left = Math.max(0, body);
    let first = true;
    let n = 0;
    while (first || left > 0) {
      const room = first && head ? mss - head.length : mss;
      const seg = Math.min(room, left);
      left -= seg;
      st.push(tcpStep(fromClient, left <= 0 ? PSH_ACK : ACK, first ? head : null, seg));
      first = false;
      if (++n % 2 === 0) st.push(tcpStep(!fromClient, ACK, null, 0));
    }
    if (ackLast && n % 2 === 1) st.push(tcpStep(!fromClient, ACK, null, 0));
    return this;
  }

  /** FIN from the client, FIN from the server, last ACK; or a RST with probability `rst`. */
  close(rst = 0.04): this {
    const st = this.steps;
    if (this.rng.chance(rst)) st.push(tcpStep(true, 0x14, null, 0));
    else st.push(tcpStep(true, 0x11, null, 0), tcpStep(false, 0x11, null, 0), tcpStep(true, ACK, null, 0));
    return this;
  }

  get length(): number {
    return this.steps.length;
  }

  step(e: Emitter, t: number): boolean {
    const s = this.steps[this.i++] as TcpStep;
    const p = e.p.reset();
    const syn = (s.flags & 0x02) !== 0;
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
      p.ttl = this.sttl;
      p.ipId = this.sId++;
      p.seq = this.sSeq;
      p.ack = this.cSeq;
      p.win = syn ? 65160 : 501;
      p.opts = syn ? OPTS_SYNACK : stack.ts ? OPTS_TS : null;
    }
    p.flow = this.cport;
    const adv = segmentBody(p, s, this.blob, this.rng);
    if (s.fromClient) this.cSeq = (this.cSeq + adv) >>> 0;
    else this.sSeq = (this.sSeq + adv) >>> 0;
    if (this.gre) this.gre.emit(e, t, 6, s.fromClient);
    else e.tcp(t);
    return this.i >= this.steps.length;
  }
}
