/**
 * HTTP/1.x requests followed through the TCP connections of a capture and handed out as
 * access-log records (the one reused HttpLogView the L7 detector reads), so a capture of a web
 * server reaches the same detection as its access log.
 *
 * - Only TCP to the HTTP ports is looked at: any other packet costs two table loads and returns.
 * - A connection is followed from the first client segment that starts with a request method
 *   (no state for SYNs, so a SYN flood, spoofed or not, adds nothing). Connections live in a
 *   bounded table (typed arrays, an open-addressing index); when it is full the stalest of a few
 *   sampled entries is evicted and counted, so a flood of fake requests cannot grow it.
 * - The client's bytes are taken in sequence order: a retransmission is trimmed, a gap (a lost
 *   or reordered segment) abandons the request in progress (counted) and the stream is picked up
 *   again at the next segment that starts with a method. A head that spans segments is copied
 *   into a per-connection buffer of at most maxHeaderBytes (longer heads are cut and counted);
 *   a head within one segment is read where it lies.
 * - A complete head becomes a record at the time of its last byte, durationMs from its first
 *   byte; it is held until the server's status line (pipelined requests are answered in order,
 *   at most maxPipelined waiting) and emitted then, or when the connection closes or the capture
 *   ends without one (status unknown).
 * - A head that never completes (slowloris) becomes a record when the connection closes (FIN or
 *   RST from either side) or the capture ends: status 408 (what nginx logs for a connection its
 *   client_header_timeout closed; the server's own status line if it sent one) and durationMs the
 *   time the connection was held.
 * - Nothing is emitted for a connection the server never acknowledged (a spoofed or one-sided
 *   "request"): those are counted as unconfirmed.
 *
 * Records are emitted in capture order, their times at most a response time out of order.
 */
import { formatIpv4, formatIpv6 } from '../../core/net/ip.js';
import type { PacketView } from '../../decode/view.js';
import { HttpLogView, Slot } from '../accesslog/view.js';
import { F, headEnd, parseHead, type RequestHead, simpleRequestEnd } from './http-head.js';

export const DEFAULT_HTTP_PORTS: readonly number[] = [80, 8000, 8008, 8080, 8888];

export interface HttpExtractOptions {
  /** Server ports whose TCP is HTTP/1.x (default DEFAULT_HTTP_PORTS). */
  ports?: readonly number[];
  /** Connections followed at once (default 65,536). */
  maxConnections?: number;
  /** Longest request head kept per connection (default 16 KiB); longer heads are cut. */
  maxHeaderBytes?: number;
  /** Requests of one connection awaiting their response (default 16). */
  maxPipelined?: number;
}

/** What the extractor did, for `capture.http_requests`. */
export interface HttpExtractStats {
  /** Records emitted for complete heads. */
  requests: number;
  /** Records emitted for heads that never completed (408). */
  incomplete: number;
  /** Records whose status came from the server's response. */
  answered: number;
  connections: number;
  /** Connections evicted from a full table (their unfinished heads dropped). */
  evicted: number;
  /** Heads cut at maxHeaderBytes. */
  cut: number;
  /** Requests abandoned at a sequence gap. */
  gaps: number;
  /** Requests dropped because the server never acknowledged the connection. */
  unconfirmed: number;
  /** Requests emitted without their status because more than maxPipelined waited. */
  pipelineOverflow: number;
}

/** Per-connection stream state. */
const enum St {
  /** Between requests: the next client byte should start a method. */
  IDLE = 0,
  HEAD = 1,
  BODY = 2,
  /** Lost the framing (gap, chunked body): wait for a segment that starts with a method. */
  SKIP = 3,
}

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

/** Method names followed by a space, as bytes: a request starts with one of them. */
const METHODS = ['GET ', 'POST ', 'HEAD ', 'PUT ', 'DELETE ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'TRACE ', 'PROPFIND ', 'PURGE '].map((m) =>
  Uint8Array.from(m, (c) => c.charCodeAt(0)),
);

/** b[p, end) starts a request: a method and its space, or (at the end of the bytes) a prefix of one. */
function startsRequest(b: Uint8Array, p: number, end: number): boolean {
  const c = b[p] as number;
  if (c < 0x41 || c > 0x5a) return false;
  for (let m = 0; m < METHODS.length; m++) {
    const name = METHODS[m] as Uint8Array;
    let i = 0;
    while (i < name.length && p + i < end && b[p + i] === name[i]) i++;
    if (i === name.length || p + i === end) return true;
  }
  return false;
}

/** `HTTP/1.d ddd` at p: the status, or -1. */
function statusAt(b: Uint8Array, p: number, end: number): number {
  if (
    p + 12 > end ||
    b[p] !== 0x48 ||
    b[p + 1] !== 0x54 ||
    b[p + 2] !== 0x54 ||
    b[p + 3] !== 0x50 ||
    b[p + 4] !== 0x2f ||
    b[p + 5] !== 0x31 ||
    b[p + 6] !== 0x2e ||
    b[p + 8] !== 0x20
  )
    return -1;
  let s = 0;
  for (let i = 9; i < 12; i++) {
    const d = (b[p + i] as number) - 0x30;
    if (d < 0 || d > 9) return -1;
    s = s * 10 + d;
  }
  return s;
}

function latin1(b: Uint8Array, a: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + a, e - a).toString('latin1');
}

/** FNV-1a of 16 address bytes: the table key of an IPv6 endpoint. */
function hash16(b: Uint8Array, o: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < 16; i++) h = Math.imul(h ^ (b[o + i] as number), 0x01000193);
  return h;
}

export class HttpRequestExtractor {
  readonly stats: HttpExtractStats = { requests: 0, incomplete: 0, answered: 0, connections: 0, evicted: 0, cut: 0, gaps: 0, unconfirmed: 0, pipelineOverflow: 0 };
  /** The record handed to the callback (reused; valid during the call only). */
  readonly view = new HttpLogView();
  private readonly isPort = new Uint8Array(65536);
  private readonly cap: number;
  private readonly maxHead: number;
  private readonly maxPipe: number;

  // Index: open addressing with linear probing over entry ids (-1 empty).
  private readonly mask: number;
  private readonly index: Int32Array;
  // Entries by id; free ids are a stack.
  private readonly kClient: Int32Array;
  private readonly kServer: Int32Array;
  private readonly kPorts: Int32Array;
  private readonly fam: Uint8Array;
  private readonly state: Uint8Array;
  private readonly alive: Uint8Array;
  private readonly established: Uint8Array;
  private readonly seqKnown: Uint8Array;
  private readonly clientClosed: Uint8Array;
  private readonly cNext: Int32Array;
  private readonly sNext: Int32Array;
  private readonly sSeqKnown: Uint8Array;
  /** Buffered head bytes, the resume point of the end-of-head search, the body left to skip. */
  private readonly bufLen: Int32Array;
  private readonly scanAt: Int32Array;
  private readonly bodyLeft: Float64Array;
  /** Epoch ms: the current request's first byte, and the last packet of the connection. */
  private readonly reqStart: Float64Array;
  private readonly lastMs: Float64Array;
  /** A status line the server sent while the head was still arriving (e.g. Apache's 408, a 400). */
  private readonly earlyStatus: Int16Array;
  private readonly bufs: Array<Uint8Array | null>;
  private readonly pending: Array<RequestHead[] | null>;
  /** IPv6 client text (IPv4 is formatted from the key). */
  private readonly client6: Array<string | null>;
  private readonly free: Int32Array;
  private nFree: number;
  private live = 0;
  private rand = 0x2545f491;
  /** The packet's time, in a typed array (a double field would be boxed on every write). */
  private readonly now = new Float64Array(1);

  constructor(
    /** Each record; `head` is the request it was made from (kept by callers that replay records later). */
    private readonly onRequest: (v: HttpLogView, head: RequestHead) => void,
    opts: HttpExtractOptions = {},
  ) {
    for (const p of opts.ports ?? DEFAULT_HTTP_PORTS) if (p > 0 && p < 65536) this.isPort[p] = 1;
    const cap = Math.max(16, opts.maxConnections ?? 65536);
    this.cap = cap;
    this.maxHead = Math.max(256, opts.maxHeaderBytes ?? 16384);
    this.maxPipe = Math.max(1, opts.maxPipelined ?? 16);
    let size = 1;
    while (size < cap * 2) size <<= 1;
    this.mask = size - 1;
    this.index = new Int32Array(size).fill(-1);
    this.kClient = new Int32Array(cap);
    this.kServer = new Int32Array(cap);
    this.kPorts = new Int32Array(cap);
    this.fam = new Uint8Array(cap);
    this.state = new Uint8Array(cap);
    this.alive = new Uint8Array(cap);
    this.established = new Uint8Array(cap);
    this.seqKnown = new Uint8Array(cap);
    this.clientClosed = new Uint8Array(cap);
    this.cNext = new Int32Array(cap);
    this.sNext = new Int32Array(cap);
    this.sSeqKnown = new Uint8Array(cap);
    this.bufLen = new Int32Array(cap);
    this.scanAt = new Int32Array(cap);
    this.bodyLeft = new Float64Array(cap);
    this.reqStart = new Float64Array(cap);
    this.lastMs = new Float64Array(cap);
    this.earlyStatus = new Int16Array(cap);
    this.bufs = new Array(cap).fill(null);
    this.pending = new Array(cap).fill(null);
    this.client6 = new Array(cap).fill(null);
    this.free = new Int32Array(cap);
    for (let i = 0; i < cap; i++) this.free[i] = cap - 1 - i;
    this.nFree = cap;
  }

  /** Connections followed now. */
  get connections(): number {
    return this.live;
  }

  /** One decoded packet (the reader's reused view). */
  add(v: PacketView): void {
    if (v.l4Proto !== 6) return;
    const dp = v.dstPort;
    const sp = v.srcPort;
    const toServer = this.isPort[dp] === 1;
    if (!toServer && this.isPort[sp] !== 1) return;
    const flags = v.tcpFlags;
    const len = v.payloadLen;
    // A SYN or a bare ACK changes nothing we follow, except a server's ACK that confirms a connection.
    if ((flags & SYN) !== 0 || (len === 0 && (flags & (FIN | RST)) === 0 && toServer)) return;
    if (v.ipVersion !== 4 && v.ipVersion !== 6) return;
    const b = v.buf;
    const c = toServer ? this.endpoint(v, true) : this.endpoint(v, false);
    const s = toServer ? this.endpoint(v, false) : this.endpoint(v, true);
    const ports = toServer ? (sp << 16) | dp : (dp << 16) | sp;
    this.now[0] = v.tsSec * 1000 + v.tsNsec / 1e6;
    let e = this.find(c, s, ports, v.ipVersion);
    if (toServer) {
      if (e < 0) {
        if (len === 0 || (flags & RST) !== 0 || !startsRequest(b, v.payloadOff, v.payloadOff + len)) return;
        e = this.insert(c, s, ports, v);
      }
      this.lastMs[e] = this.now[0] as number;
      if (len > 0) this.clientBytes(e, b, v.payloadOff, len, v.tcpSeq | 0, v.payloadWireLen > len ? v.payloadWireLen : len);
      if ((flags & RST) !== 0) this.close(e);
      else if ((flags & FIN) !== 0) {
        // A client that half-closes after its request still gets its answer: wait for the server.
        const p = this.pending[e];
        if (p !== null && p.length > 0 && this.state[e] !== St.HEAD) this.clientClosed[e] = 1;
        else this.close(e);
      }
      return;
    }
    if (e < 0) return;
    this.lastMs[e] = this.now[0] as number;
    if ((flags & RST) === 0 && (flags & ACK) !== 0) this.established[e] = 1;
    if (len > 0) this.serverBytes(e, b, v.payloadOff, len, v.tcpSeq | 0);
    if ((flags & (FIN | RST)) !== 0 && this.alive[e] === 1) this.close(e);
  }

  /** The capture ended at `endMs`: every open connection's waiting and unfinished requests become records. */
  finish(endMs: number): void {
    this.now[0] = endMs;
    const open: number[] = [];
    for (let i = 0; i < this.index.length; i++) if ((this.index[i] as number) >= 0) open.push(this.index[i] as number);
    for (const e of open) this.close(e);
  }

  // ---- the table ---------------------------------------------------------------------------

  /** An endpoint's key: the IPv4 address, or a hash of the IPv6 one. */
  private endpoint(v: PacketView, src: boolean): number {
    if (v.ipVersion === 4) return src ? v.src4 | 0 : v.dst4 | 0;
    return hash16(v.buf, src ? v.src6Off : v.dst6Off);
  }

  private slotOf(c: number, s: number, ports: number): number {
    let h = Math.imul(c ^ Math.imul(s, 0x9e3779b1), 0x85ebca6b) ^ ports;
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return h & this.mask;
  }

  private find(c: number, s: number, ports: number, fam: number): number {
    const idx = this.index;
    for (let i = this.slotOf(c, s, ports); ; i = (i + 1) & this.mask) {
      const e = idx[i] as number;
      if (e < 0) return -1;
      if (this.kClient[e] === c && this.kServer[e] === s && this.kPorts[e] === ports && this.fam[e] === fam) return e;
    }
  }

  private insert(c: number, s: number, ports: number, v: PacketView): number {
    if (this.nFree === 0) this.evict();
    const e = this.free[--this.nFree] as number;
    this.kClient[e] = c;
    this.kServer[e] = s;
    this.kPorts[e] = ports;
    this.fam[e] = v.ipVersion;
    this.alive[e] = 1;
    this.state[e] = St.IDLE;
    this.established[e] = 0;
    this.seqKnown[e] = 0;
    this.sSeqKnown[e] = 0;
    this.clientClosed[e] = 0;
    this.bufLen[e] = 0;
    this.scanAt[e] = 0;
    this.bodyLeft[e] = 0;
    this.earlyStatus[e] = 0;
    this.client6[e] = v.ipVersion === 6 ? formatIpv6(v.buf, v.src6Off) : null;
    const idx = this.index;
    let i = this.slotOf(c, s, ports);
    while ((idx[i] as number) >= 0) i = (i + 1) & this.mask;
    idx[i] = e;
    this.live++;
    this.stats.connections++;
    return e;
  }

  /** Take entry e out of the index (backward-shift deletion keeps probe chains whole) and free its id. */
  private remove(e: number): void {
    const idx = this.index;
    const mask = this.mask;
    let i = this.slotOf(this.kClient[e] as number, this.kServer[e] as number, this.kPorts[e] as number);
    while (idx[i] !== e) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const f = idx[j] as number;
      if (f < 0) break;
      const home = this.slotOf(this.kClient[f] as number, this.kServer[f] as number, this.kPorts[f] as number);
      // f may move into the hole at i when its home is not within (i, j] cyclically.
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        idx[i] = f;
        i = j;
      }
    }
    idx[i] = -1;
    this.alive[e] = 0;
    this.bufs[e] = null;
    this.pending[e] = null;
    this.client6[e] = null;
    this.free[this.nFree++] = e;
    this.live--;
  }

  /** The table is full: of eight entries drawn at random, the one idle longest goes (its answered requests are emitted). */
  private evict(): void {
    let worst = -1;
    for (let k = 0; k < 8; k++) {
      let x = this.rand;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.rand = x;
      // Ids in use are exactly those not on the free stack; with the stack empty, every id is.
      const e = (x >>> 0) % this.cap;
      if (worst < 0 || (this.lastMs[e] as number) < (this.lastMs[worst] as number)) worst = e;
    }
    this.stats.evicted++;
    // Its unfinished head, if any, is dropped: an eviction is our limit, not the server's timeout.
    this.flushPending(worst);
    this.remove(worst);
  }

  // ---- the client's stream -----------------------------------------------------------------

  /** Client bytes b[off, off + len) at `seq`; `wire` is the segment's length on the wire (more when the capture cut it). */
  private clientBytes(e: number, b: Uint8Array, off: number, len: number, seq: number, wire: number): void {
    if (this.seqKnown[e] === 0) {
      this.seqKnown[e] = 1;
      this.cNext[e] = seq;
    }
    const d = (seq - (this.cNext[e] as number)) | 0;
    if (d < 0) {
      if (d + len <= 0) return; // a retransmission of bytes already taken
      off -= d;
      len += d;
    } else if (d > 0) {
      // Bytes missing before this segment: what was in progress cannot be trusted.
      if (this.state[e] === St.HEAD || this.state[e] === St.BODY) this.stats.gaps++;
      this.bufLen[e] = 0;
      this.state[e] = St.SKIP;
    }
    this.cNext[e] = (seq + wire) | 0;
    if (this.state[e] === St.SKIP) {
      if (!startsRequest(b, off, off + len)) return;
      this.state[e] = St.IDLE;
    }
    const end = off + len;
    let p = off;
    while (p < end) {
      const st = this.state[e] as St;
      if (st === St.BODY) {
        const k = Math.min(this.bodyLeft[e] as number, end - p);
        p += k;
        this.bodyLeft[e] = (this.bodyLeft[e] as number) - k;
        if (this.bodyLeft[e] === 0) this.state[e] = St.IDLE;
        continue;
      }
      if (st === St.SKIP) return;
      if (st === St.IDLE) {
        if (!startsRequest(b, p, end)) {
          this.state[e] = St.SKIP;
          return;
        }
        this.state[e] = St.HEAD;
        this.reqStart[e] = this.now[0] as number;
        this.bufLen[e] = 0;
        this.scanAt[e] = 0;
        this.earlyStatus[e] = 0;
      }
      p = this.headBytes(e, b, p, end);
    }
    if (wire > len + (d < 0 ? -d : 0)) {
      // The capture kept only the start of the segment (snap length): the rest is a gap.
      if (this.state[e] === St.HEAD || this.state[e] === St.BODY) this.stats.gaps++;
      this.bufLen[e] = 0;
      this.state[e] = St.SKIP;
    }
  }

  /** Head bytes b[p, end): returns where the head ended in them (end when it has not). */
  private headBytes(e: number, b: Uint8Array, p: number, end: number): number {
    const have = this.bufLen[e] as number;
    if (have === 0) {
      // The common case: the whole head in one segment, read where it lies.
      let stop = simpleRequestEnd(b, p, end);
      if (stop < 0) stop = headEnd(b, p, end);
      if (stop >= 0) {
        this.complete(e, latin1(b, p, stop), false);
        return stop;
      }
    }
    let buf = this.bufs[e] ?? null;
    const room = this.maxHead - have;
    const take = Math.min(room, end - p);
    if (buf === null || buf.length < have + take) {
      let size = buf === null ? 1024 : buf.length * 2;
      while (size < have + take) size *= 2;
      const grown = new Uint8Array(Math.min(size, this.maxHead));
      if (buf !== null) grown.set(buf.subarray(0, have));
      buf = grown;
      this.bufs[e] = buf;
    }
    buf.set(b.subarray(p, p + take), have);
    const n = have + take;
    this.bufLen[e] = n;
    const stop = headEnd(buf, Math.max(0, (this.scanAt[e] as number) - 2), n);
    if (stop >= 0) {
      // The bytes after the head came from this segment: continue there.
      this.bufLen[e] = 0;
      this.complete(e, latin1(buf, 0, stop), false);
      return p + take - (n - stop);
    }
    this.scanAt[e] = n;
    if (take < end - p || n >= this.maxHead) {
      // Past the limit: keep what came, as a request cut short, and lose the framing.
      this.stats.cut++;
      this.bufLen[e] = 0;
      this.complete(e, latin1(buf, 0, n), true);
      this.state[e] = St.SKIP;
      return end;
    }
    return end;
  }

  /** A head has completed (or been cut): hold it until its response. */
  private complete(e: number, text: string, cut: boolean): void {
    const h = parseHead(text, cut);
    h.cut = cut;
    h.partial = false;
    const now = this.now[0] as number;
    h.timeMs = now;
    h.durationMs = now - (this.reqStart[e] as number);
    this.stamp(e, h);
    if (!cut) {
      if (h.chunked) this.state[e] = St.SKIP;
      else if (h.contentLength > 0) {
        this.state[e] = St.BODY;
        this.bodyLeft[e] = h.contentLength;
      } else this.state[e] = St.IDLE;
    }
    let q = this.pending[e] ?? null;
    if (q === null) {
      q = [];
      this.pending[e] = q;
    }
    if (q.length >= this.maxPipe) {
      this.stats.pipelineOverflow++;
      this.emit(e, q.shift() as RequestHead);
    }
    q.push(h);
  }

  private stamp(e: number, h: RequestHead): void {
    const ports = this.kPorts[e] as number;
    h.clientPort = ports >>> 16;
    h.serverPort = ports & 0xffff;
    h.client = this.fam[e] === 4 ? formatIpv4((this.kClient[e] as number) >>> 0) : (this.client6[e] ?? '');
    h.server4 = this.fam[e] === 4 ? (this.kServer[e] as number) >>> 0 : -1;
  }

  // ---- the server's stream -----------------------------------------------------------------

  private serverBytes(e: number, b: Uint8Array, off: number, len: number, seq: number): void {
    if (this.sSeqKnown[e] === 1 && ((seq - (this.sNext[e] as number)) | 0) < 0) return; // a retransmission
    this.sSeqKnown[e] = 1;
    this.sNext[e] = (seq + len) | 0;
    // A response starts a segment (its head is written at once); interim 1xx answers are not the request's.
    const status = statusAt(b, off, off + len);
    if (status < 200) return;
    const q = this.pending[e] ?? null;
    if (q !== null && q.length > 0) {
      const h = q.shift() as RequestHead;
      h.status = status;
      this.stats.answered++;
      this.emit(e, h);
      if (q.length === 0 && this.clientClosed[e] === 1) this.close(e);
    } else if (this.state[e] === St.HEAD) this.earlyStatus[e] = status;
  }

  // ---- closing -------------------------------------------------------------------------------

  private close(e: number): void {
    if (this.alive[e] === 0) return; // closed already in this packet (an answer to a half-closed client, then its FIN)
    this.finalize(e);
    this.remove(e);
  }

  /** Emit what the connection still holds: waiting requests (status unknown) and an unfinished head (408). */
  private finalize(e: number): void {
    this.flushPending(e);
    const have = this.bufLen[e] as number;
    if (this.state[e] !== St.HEAD) return;
    if (this.established[e] === 0) {
      this.stats.unconfirmed++;
      return;
    }
    // An unfinished head lies in the buffer (it never completed within one segment).
    const buf = this.bufs[e] ?? null;
    if (buf === null || have === 0) return;
    const h = parseHead(latin1(buf, 0, have), true);
    const now = this.now[0] as number;
    h.timeMs = now;
    h.durationMs = now - (this.reqStart[e] as number);
    const early = this.earlyStatus[e] as number;
    h.status = early >= 400 ? early : 408;
    this.stamp(e, h);
    this.state[e] = St.IDLE;
    this.bufLen[e] = 0;
    this.stats.incomplete++;
    this.write(h);
  }

  private flushPending(e: number): void {
    const q = this.pending[e] ?? null;
    if (q === null) return;
    for (const h of q) this.emit(e, h);
    q.length = 0;
  }

  private emit(e: number, h: RequestHead): void {
    if (this.established[e] === 0) {
      this.stats.unconfirmed++;
      return;
    }
    this.stats.requests++;
    this.write(h);
  }

  /** Fill the record from a head and hand it out. */
  private write(h: RequestHead): void {
    const v = this.view;
    fillView(v, h);
    this.onRequest(v, h);
  }
}

/** The head's fields and the record's slots they fill. */
const FIELDS: readonly F[] = [F.METHOD, F.PATH, F.QUERY, F.HOST, F.USER_AGENT, F.REFERER, F.COOKIE];
const SLOTS: readonly Slot[] = [Slot.METHOD, Slot.PATH, Slot.QUERY, Slot.HOST, Slot.USER_AGENT, Slot.REFERER, Slot.COOKIE];

/** An HttpLogView record of a request head (also used to replay kept heads). */
export function fillView(v: HttpLogView, h: RequestHead): void {
  v.reset(h.text);
  const at = h.at;
  for (let k = 0; k < SLOTS.length; k++) {
    const f = FIELDS[k] as number;
    const a = at[f] as number;
    if (a >= 0) v.setRange(SLOTS[k] as Slot, a, at[f + 1] as number);
  }
  v.setStr(Slot.CLIENT, h.client);
  v.clientPort = h.clientPort;
  v.serverPort = h.serverPort;
  v.requestOk = h.requestOk;
  v.version = h.version;
  v.timeMs = h.timeMs;
  v.durationMs = h.durationMs;
  v.status = h.status;
  v.bodySize = h.contentLength;
  v.orderedHeaders = h.headers;
  if (h.cut) v.truncated = 1;
}
