/**
 * HTTP/1.1 to one origin over keep-alive connections of our own (node:net / node:tls), one request
 * at a time per connection. It replaced undici's Pool on the edge's path: undici's generality
 * (its request object, header validation, wasm parser and dispatcher chain) cost more CPU per
 * proxied request than the rest of the edge (measured with the edge bench's wrk load in front of
 * its nginx origin: a bare node:http proxy on raw origin sockets served 1.37x the requests/s of
 * node:http on undici; the edge itself gained 10 %).
 *
 * What a reverse proxy needs of it, and no more:
 *   - requests written as one head (plus the body streamed: as is under Content-Length, else
 *     chunked), responses read by origin-response.ts (strict head, exact framing);
 *   - connect, head and body-pause timeouts; idle connections closed after the keep-alive time
 *     (or the origin's own Keep-Alive hint, less a second, when shorter);
 *   - a request that dies on a reused connection before any byte of answer (the origin closed it
 *     as we wrote) is sent again on a new connection when nothing of its body was spent;
 *   - backpressure both ways, and abort.
 * The handler is the exchange (exchange.ts), called in the order onConnect, onHeaders, onData*,
 * then onComplete or onError.
 */

// Buffer and performance are imported, not read as globals: on globalThis both are lazy accessors, called on every use.
import { Buffer } from 'node:buffer';
import net, { type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { BadResponse, ChunkedDecoder, Framing, headEnd, MAX_HEAD_BYTES, parseHead, type ResponseHead } from './origin-response.js';

export interface OriginHandler {
  onConnect(abort: (err?: Error) => void): void;
  /** The response head; `headers` as [name, value, ...]. `resume` undoes a false from onData. */
  onHeaders(status: number, headers: string[], resume: () => void): boolean;
  /** A piece of the body; false asks to pause until `resume`. */
  onData(chunk: Buffer): boolean;
  onComplete(): void;
  onError(err: Error): void;
}

export interface OriginRequest {
  method: string;
  /** Origin-form target. */
  path: string;
  /** [name, value, ...], hop-by-hop headers already removed (Content-Length kept when known). */
  headers: readonly string[];
  body: AsyncIterable<Buffer> | null;
}

export interface OriginPoolOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Connections at most (requests beyond wait); null: no cap. */
  connections: number | null;
}

/** A failure of the origin request, with a code the exchange maps to a status. */
export class OriginError extends Error {
  constructor(
    readonly code:
      | 'ORIGIN_CONNECT_TIMEOUT'
      | 'ORIGIN_HEADERS_TIMEOUT'
      | 'ORIGIN_BODY_TIMEOUT'
      | 'ORIGIN_CLOSED'
      | 'ORIGIN_HEADERS_OVERFLOW'
      | 'BODY_LENGTH_MISMATCH'
      | 'POOL_CLOSED',
    message: string,
  ) {
    super(message);
  }
}

const enum St {
  CONNECTING = 0,
  /** Waiting for (the rest of) a response head. */
  HEAD = 1,
  BODY = 2,
  IDLE = 3,
  DEAD = 4,
}

/** Timeouts are checked by one sweep per pool at this period (they are seconds long). */
const SWEEP_MS = 100;

class Conn {
  state = St.CONNECTING;
  h: OriginHandler | null = null;
  req: OriginRequest | null = null;
  /** Requests this connection has completed (0: a new one, whose failure is not a stale keep-alive). */
  served = 0;
  /** Some of the current response arrived. */
  answered = false;
  /** Some of the current request's body was taken from its source. */
  bodySpent = false;
  uploading = false;
  pending: Buffer | null = null;
  head: ResponseHead | null = null;
  left = 0;
  chunked: ChunkedDecoder | null = null;
  /** performance.now() past which the current wait fails; Infinity when none. */
  deadline = Number.POSITIVE_INFINITY;
  deadlineCode: OriginError['code'] = 'ORIGIN_HEADERS_TIMEOUT';
  idleUntil = 0;
  readonly abort = (err?: Error): void => this.pool.abortConn(this, err ?? new OriginError('ORIGIN_CLOSED', 'aborted'));
  readonly resume = (): void => {
    if (this.state === St.BODY) this.socket.resume();
  };
  readonly piece = (b: Buffer): void => {
    // A piece of the pool's read buffer is copied: the handler may keep it past this read.
    if (this.h !== null && !this.h.onData(this.borrowed ? Buffer.from(b) : b)) this.socket.pause();
  };
  /** Reads land in the pool's one buffer (plain origins): bytes kept past a read are copied. */
  borrowed = false;
  socket!: Socket;

  constructor(readonly pool: OriginPool) {}
}

/** The read buffer of a pool's plain connections. */
const READ_BYTES = 64 * 1024;

export class OriginPool {
  private readonly conns = new Set<Conn>();
  private readonly idle: Conn[] = [];
  private readonly waiting: Array<[OriginRequest, OriginHandler]> = [];
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private closed: (() => void) | null = null;

  constructor(
    readonly hostname: string,
    readonly port: number,
    readonly tlsOrigin: boolean,
    private readonly o: OriginPoolOptions,
  ) {
    const h = net.isIPv6(hostname) ? `[${hostname}]` : hostname;
    this.hostHeader = port === (tlsOrigin ? 443 : 80) ? h : `${h}:${port}`;
  }

  private readonly hostHeader: string;
  private readBuf: Buffer | null = null;

  /** Send `req`; `h` hears of its answer. Never throws: every failure goes to `h.onError`. */
  dispatch(req: OriginRequest, h: OriginHandler): void {
    if (this.closing) {
      h.onError(new OriginError('POOL_CLOSED', 'the edge is shutting down'));
      return;
    }
    const c = this.idle.pop();
    if (c !== undefined) this.send(c, req, h);
    else if (this.o.connections !== null && this.conns.size >= this.o.connections) this.waiting.push([req, h]);
    else this.send(this.connect(), req, h);
  }

  private connect(): Conn {
    const o = { host: this.hostname, port: this.port, noDelay: true };
    const c = new Conn(this);
    let socket: Socket;
    if (this.tlsOrigin) socket = tls.connect({ ...o, servername: net.isIP(this.hostname) === 0 ? this.hostname : undefined, ALPNProtocols: ['http/1.1'] });
    else {
      // node's `onread`: each read lands in one reused buffer and comes straight here, without
      // a buffer allocated per read or the stream machinery of 'data' events.
      this.readBuf ??= Buffer.allocUnsafe(READ_BYTES);
      socket = net.connect({ ...o, onread: { buffer: this.readBuf, callback: (n: number, buf: Uint8Array) => this.readInto(c, buf as Buffer, n) } });
      c.borrowed = true;
    }
    c.socket = socket;
    this.conns.add(c);
    this.startSweep();
    c.deadline = performance.now() + this.o.connectTimeoutMs;
    c.deadlineCode = 'ORIGIN_CONNECT_TIMEOUT';
    socket.once(this.tlsOrigin ? 'secureConnect' : 'connect', () => {
      if (c.state !== St.CONNECTING) return;
      c.state = St.HEAD;
      this.writeRequest(c);
    });
    if (!c.borrowed) socket.on('data', (d: Buffer) => this.onData(c, d));
    socket.on('error', (e) => this.lost(c, e));
    socket.on('close', () => this.lost(c, null));
    return c;
  }

  private send(c: Conn, req: OriginRequest, h: OriginHandler): void {
    c.req = req;
    c.h = h;
    c.answered = false;
    c.bodySpent = false;
    h.onConnect(c.abort);
    if (c.h !== h) return; // aborted at once
    if (c.state === St.IDLE) {
      c.state = St.HEAD;
      this.writeRequest(c);
    }
  }

  private writeRequest(c: Conn): void {
    const req = c.req as OriginRequest;
    const hs = req.headers;
    let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
    let length = -1;
    let host = false;
    for (let i = 0; i < hs.length; i += 2) {
      const name = hs[i] as string;
      const value = hs[i + 1] as string;
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
      else if (name.length === 4 && name.toLowerCase() === 'host') host = true;
      head += `${name}: ${value}\r\n`;
    }
    if (Number.isNaN(length)) {
      // node's parsers check it; anything else would frame the body one way and announce another.
      this.abortConn(c, new OriginError('BODY_LENGTH_MISMATCH', 'a Content-Length that is not a length'));
      return;
    }
    // HTTP/1.1 requires Host (RFC 9112 §3.2); a client's HTTP/1.0 request may have none: the origin's.
    if (!host) head += `host: ${this.hostHeader}\r\n`;
    const body = req.body;
    if (body !== null && length < 0) head += 'transfer-encoding: chunked\r\n';
    c.socket.write(`${head}\r\n`, 'latin1');
    if (body === null) this.awaitHead(c);
    else {
      c.uploading = true;
      c.deadline = Number.POSITIVE_INFINITY;
      this.upload(c, body, length).catch((e: unknown) => this.abortConn(c, e instanceof Error ? e : new Error(String(e))));
    }
  }

  private awaitHead(c: Conn): void {
    if (c.state === St.HEAD) {
      c.deadline = performance.now() + this.o.headersTimeoutMs;
      c.deadlineCode = 'ORIGIN_HEADERS_TIMEOUT';
    }
  }

  /** The request body: as is under Content-Length (which it must match), else chunked. */
  private async upload(c: Conn, body: AsyncIterable<Buffer>, length: number): Promise<void> {
    const h = c.h;
    const s = c.socket;
    let sent = 0;
    for await (const chunk of body) {
      if (c.h !== h || c.state === St.DEAD) return;
      c.bodySpent = true;
      if (chunk.length === 0) continue;
      sent += chunk.length;
      if (length >= 0 && sent > length) throw new OriginError('BODY_LENGTH_MISMATCH', 'the request body is longer than its Content-Length');
      let ok: boolean;
      if (length >= 0) ok = s.write(chunk);
      else {
        s.cork();
        s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        s.write(chunk);
        ok = s.write('\r\n', 'latin1');
        s.uncork();
      }
      if (!ok) await drained(s);
    }
    if (c.h !== h || c.state === St.DEAD) return;
    if (length >= 0 && sent !== length) throw new OriginError('BODY_LENGTH_MISMATCH', 'the request body is shorter than its Content-Length');
    if (length < 0) s.write('0\r\n\r\n', 'latin1');
    c.uploading = false;
    this.awaitHead(c);
  }

  /** A read into the pool's buffer (`onread`): true keeps reading (a pause is the handler's, by socket.pause()). */
  private readInto(c: Conn, buf: Buffer, n: number): boolean {
    this.onData(c, buf.subarray(0, n));
    return true;
  }

  private onData(c: Conn, d: Buffer): void {
    if (c.h === null) {
      // Bytes nobody asked for (on an idle connection): the origin is confused; drop the connection.
      this.kill(c);
      return;
    }
    c.answered = true;
    const h0 = c.h;
    try {
      let b = d;
      while (b.length > 0) {
        if (c.h !== h0) {
          // Bytes after the end of the answer: the origin's framing cannot be trusted; the
          // connection goes (a request already given to it is sent again on a new one).
          this.kill(c);
          return;
        }
        if (c.state === St.HEAD) {
          if (c.pending !== null) {
            b = Buffer.concat([c.pending, b]);
            c.pending = null;
          }
          const e = headEnd(b);
          if (e < 0) {
            if (b.length > MAX_HEAD_BYTES) throw new OriginError('ORIGIN_HEADERS_OVERFLOW', 'the response head is too large');
            c.pending = c.borrowed ? Buffer.from(b) : b;
            return;
          }
          if (e > MAX_HEAD_BYTES) throw new OriginError('ORIGIN_HEADERS_OVERFLOW', 'the response head is too large');
          const head = parseHead(b.toString('latin1', 0, e), (c.req as OriginRequest).method === 'HEAD');
          b = b.subarray(e);
          if (head.status < 200) {
            if (head.status === 101) throw new BadResponse('101 Switching Protocols to a request that asked for none');
            continue; // 100 Continue, 102, 103 Early Hints: the real answer follows
          }
          this.headArrived(c, head);
        } else if (c.state === St.BODY) b = this.body(c, b);
        else throw new BadResponse('bytes after the response');
      }
    } catch (e) {
      this.abortConn(c, e as Error);
    }
  }

  private headArrived(c: Conn, head: ResponseHead): void {
    c.head = head;
    c.state = St.BODY;
    c.deadline = performance.now() + this.o.bodyTimeoutMs;
    c.deadlineCode = 'ORIGIN_BODY_TIMEOUT';
    if (head.framing === Framing.LENGTH) c.left = head.length;
    else if (head.framing === Framing.CHUNKED) c.chunked = new ChunkedDecoder();
    const h = c.h as OriginHandler;
    h.onHeaders(head.status, head.headers, c.resume);
    if (c.h === h && (head.framing === Framing.NONE || (head.framing === Framing.LENGTH && head.length === 0))) this.complete(c);
  }

  /** Body bytes of the current response; returns what follows its end in `b` (nothing, normally). */
  private body(c: Conn, b: Buffer): Buffer {
    c.deadline = performance.now() + this.o.bodyTimeoutMs;
    const head = c.head as ResponseHead;
    if (head.framing === Framing.LENGTH) {
      if (b.length <= c.left) {
        c.left -= b.length;
        c.piece(b);
        if (c.left === 0) this.complete(c);
        return EMPTY;
      }
      const n = c.left;
      c.left = 0;
      c.piece(b.subarray(0, n));
      this.complete(c);
      return b.subarray(n);
    }
    if (head.framing === Framing.CHUNKED) {
      const end = (c.chunked as ChunkedDecoder).push(b, c.piece);
      if (end < 0) return EMPTY;
      this.complete(c);
      return b.subarray(end);
    }
    c.piece(b); // until close
    return EMPTY;
  }

  private complete(c: Conn): void {
    const h = c.h as OriginHandler;
    const head = c.head as ResponseHead;
    c.h = null;
    c.req = null;
    c.head = null;
    c.chunked = null;
    c.served++;
    c.deadline = Number.POSITIVE_INFINITY;
    // An answer that came before the whole body was sent (an early 413, a redirect) leaves the
    // connection in the middle of a request: it is not reused.
    const reusable = head.keepAlive && !this.closing && !c.uploading;
    c.state = reusable ? St.IDLE : St.DEAD;
    if (reusable) {
      const hint = head.keepAliveMs;
      const ka = hint > 0 ? Math.min(this.o.keepAliveTimeoutMs, hint - 1000) : this.o.keepAliveTimeoutMs;
      c.idleUntil = performance.now() + ka;
      if (ka <= 0) c.state = St.DEAD;
    }
    if (c.socket.isPaused()) c.socket.resume();
    h.onComplete();
    if (c.state === St.DEAD) this.kill(c);
    else this.reuse(c);
  }

  private reuse(c: Conn): void {
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.send(c, next[0], next[1]);
      return;
    }
    this.idle.push(c);
  }

  /** Fail the connection's request with `err` and drop the connection. */
  abortConn(c: Conn, err: Error): void {
    const h = c.h;
    c.h = null;
    c.req = null;
    this.kill(c);
    h?.onError(err);
  }

  /** The socket failed or closed. */
  private lost(c: Conn, err: Error | null): void {
    if (c.state === St.DEAD && c.h === null) return;
    const h = c.h;
    const req = c.req;
    if (h === null || req === null) {
      this.kill(c);
      return;
    }
    if (c.state === St.BODY && (c.head as ResponseHead).framing === Framing.CLOSE && err === null) {
      c.head = { ...(c.head as ResponseHead), keepAlive: false };
      this.complete(c);
      return;
    }
    c.h = null;
    c.req = null;
    this.kill(c);
    // A reused connection the origin had closed as we wrote: send again on a new one, once.
    if (c.served > 0 && !c.answered && !c.bodySpent && !this.closing) {
      this.send(this.connect(), req, h);
      return;
    }
    h.onError(
      err ?? new OriginError('ORIGIN_CLOSED', c.answered ? 'the origin closed the connection before the end of its answer' : 'the origin closed the connection without answering'),
    );
  }

  private kill(c: Conn): void {
    c.state = St.DEAD;
    if (this.conns.delete(c)) {
      const k = this.idle.indexOf(c);
      if (k >= 0) this.idle.splice(k, 1);
      c.socket.destroy();
    }
    this.settle();
  }

  private startSweep(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  private sweep(): void {
    const now = performance.now();
    for (const c of this.conns) {
      if (c.state === St.IDLE) {
        if (now >= c.idleUntil) this.kill(c);
      } else if (now >= c.deadline) {
        // A paused body (the client reads slowly) is not the origin's pause.
        if (c.state === St.BODY && c.socket.isPaused()) c.deadline = now + this.o.bodyTimeoutMs;
        else this.abortConn(c, new OriginError(c.deadlineCode, timeoutText(c.deadlineCode)));
      }
    }
    if (this.conns.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private settle(): void {
    if (this.closed !== null && this.conns.size === 0) {
      const done = this.closed;
      this.closed = null;
      done();
    }
  }

  /** Stop taking requests; settles when those in flight have ended (idle connections are closed). */
  close(): Promise<void> {
    this.closing = true;
    for (const [, h] of this.waiting.splice(0)) h.onError(new OriginError('POOL_CLOSED', 'the edge is shutting down'));
    for (const c of this.idle.splice(0)) this.kill(c);
    if (this.conns.size === 0) return Promise.resolve();
    return new Promise((r) => {
      this.closed = r;
    });
  }

  /** Cut everything now. */
  destroy(): Promise<void> {
    const p = this.close();
    for (const c of [...this.conns]) this.abortConn(c, new OriginError('POOL_CLOSED', 'the edge is shutting down'));
    return p;
  }
}

const EMPTY = Buffer.alloc(0);

function timeoutText(code: OriginError['code']): string {
  return code === 'ORIGIN_CONNECT_TIMEOUT'
    ? 'no connection to the origin in time'
    : code === 'ORIGIN_HEADERS_TIMEOUT'
      ? 'the origin did not answer in time'
      : 'the origin paused its answer too long';
}

/** Resolves when `s` can take more, or has closed (the writer then finds the connection dead). */
function drained(s: Socket): Promise<void> {
  return new Promise((r) => {
    const done = (): void => {
      s.off('drain', done);
      s.off('close', done);
      r();
    };
    s.on('drain', done);
    s.on('close', done);
  });
}
