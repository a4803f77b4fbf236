/**
 * The server side of plain HTTP/1.1: one client connection read by us instead of node:http.
 * node:http's request and response objects (IncomingMessage, ServerResponse and their stream
 * machinery) cost the edge more CPU per proxied request than the rest of its own path (measured
 * with the edge bench's wrk load: a raw-socket server in front of origin-pool.ts needed 27 µs of
 * CPU per request, the edge on node:http 38). TLS connections keep node's server (h2 and
 * HTTP/1.1 by ALPN); both hand the exchange (exchange.ts) the same few members.
 *
 * One request at a time per connection: the next head is read once the response has ended and
 * the body was read whole, so pipelined requests are answered in order and cannot open several
 * origin requests at once; what a client sends ahead waits in a bounded buffer.
 */

// Buffer and performance are imported, not read as globals: on globalThis both are lazy accessors, called on every use.
import { Buffer } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { hasToken, lengthValue, nameIs } from './framing.js';
import { badPartialHead, parseRequestHead } from './h1-head.js';
import { ChunkedDecoder, isFieldName } from './origin-response.js';

/** What a connection reports to the server (server.ts). */
export interface H1Handlers {
  request(req: H1Request, res: H1Response): void;
  /** `Connection: upgrade` with an Upgrade header: the socket is the handler's once it answers 101. */
  upgrade(req: H1Request, res: H1Response, head: Buffer): void;
  /** A head refused before any request existed, or a body broken mid-way: answer `status` and close. */
  refuse(socket: Socket, status: number, res: H1Response | null): void;
}

export interface H1Limits {
  maxHeaderBytes: number;
  headerTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

const enum St {
  /** No byte of the next request yet. */
  IDLE = 0,
  /** Part of a head came. */
  HEAD = 1,
  /** The request body is being read. */
  BODY = 2,
  /** The request was read whole; its response is not over. */
  WAIT = 3,
  UPGRADED = 4,
  CLOSED = 5,
}

/** Bytes of pipelined requests (or of a body nobody reads yet) held before the socket is paused. */
const HIGH_WATER = 64 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
/** A first body piece up to this size goes out in one write with the head. */
const ONE_WRITE = 16 * 1024;

/** The request as the exchange reads it (the members of IncomingMessage it uses). */
export class H1Request implements AsyncIterator<Buffer> {
  readonly httpVersionMajor = 1;
  private chunks: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failed: Error | null = null;
  private resolve: ((r: IteratorResult<Buffer>) => void) | null = null;
  private reject: ((e: Error) => void) | null = null;

  constructor(
    private readonly conn: H1Conn,
    readonly method: string,
    readonly url: string,
    readonly httpVersionMinor: number,
    readonly rawHeaders: string[],
    readonly socket: Socket,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this;
  }

  next(): Promise<IteratorResult<Buffer>> {
    const c = this.chunks.shift();
    if (c !== undefined) {
      this.queued -= c.length;
      if (this.queued < HIGH_WATER) this.conn.bodyRead();
      return Promise.resolve({ done: false, value: c });
    }
    if (this.failed !== null) return Promise.reject(this.failed);
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  return(): Promise<IteratorResult<Buffer>> {
    return Promise.resolve({ done: true, value: undefined });
  }

  /** A piece of body; false when enough waits unread (the connection pauses). */
  push(b: Buffer): boolean {
    const r = this.resolve;
    if (r !== null) {
      this.resolve = this.reject = null;
      r({ done: false, value: b });
      return true;
    }
    this.chunks.push(b);
    this.queued += b.length;
    return this.queued < HIGH_WATER;
  }

  end(): void {
    this.ended = true;
    const r = this.resolve;
    if (r !== null) {
      this.resolve = this.reject = null;
      r({ done: true, value: undefined });
    }
  }

  fail(e: Error): void {
    if (this.ended || this.failed !== null) return;
    this.failed = e;
    const r = this.reject;
    if (r !== null) {
      this.resolve = this.reject = null;
      r(e);
    }
  }
}

/** `Date` for our answers, made once a second. */
let dateText = '';
let dateAt = 0;
function httpDate(): string {
  const now = Date.now();
  if (now - dateAt >= 1000) {
    dateAt = now - (now % 1000);
    dateText = new Date(dateAt).toUTCString();
  }
  return dateText;
}

/** Header values node:http would refuse to send (it throws ERR_INVALID_CHAR): controls other than tab, DEL. */
function badValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return true;
  }
  return false;
}

const enum Body {
  NONE = 0,
  LENGTH = 1,
  CHUNKED = 2,
  /** HTTP/1.0 without a length: the body ends with the connection. */
  CLOSE = 3,
}

/** The response as the exchange writes it (the members of ServerResponse it uses). */
export class H1Response {
  headersSent = false;
  /** Whether the connection carries another request after this response. */
  shouldKeepAlive: boolean;
  private head: string | null = null;
  private body = Body.NONE;
  private left = 0;
  private finished = false;

  constructor(
    private readonly conn: H1Conn,
    private readonly socket: Socket,
    private readonly isHead: boolean,
    private readonly minor: number,
    keepAlive: boolean,
  ) {
    this.shouldKeepAlive = keepAlive;
  }

  writeContinue(): void {
    if (!this.headersSent && !this.socket.destroyed) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
  }

  /** `headers` flat ([name, value, ...]). Throws, as node does, on a name or value that cannot be sent. */
  writeHead(status: number, headers: readonly string[] = []): this {
    if (this.headersSent) throw new Error('the response head was sent already');
    let length = -1;
    let date = false;
    let close = !this.shouldKeepAlive;
    let s = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      const value = headers[i + 1] as string;
      if (typeof value !== 'string' || !isFieldName(name) || badValue(value)) {
        const e = new TypeError(`Invalid header: ${JSON.stringify(name)}`) as TypeError & { code: string };
        e.code = 'ERR_INVALID_CHAR';
        throw e;
      }
      switch (name.length) {
        case 4:
          if (nameIs(name, 'date')) date = true;
          break;
        case 10:
          if (nameIs(name, 'connection')) {
            if (hasToken(value, 'close')) close = true;
            continue; // written below, once
          }
          break;
        case 14:
          if (nameIs(name, 'content-length')) length = Number(value);
          break;
        case 17:
          if (nameIs(name, 'transfer-encoding')) continue; // the body is framed here
          break;
      }
      s += `${name}: ${value}\r\n`;
    }
    if (!date) s += `date: ${httpDate()}\r\n`;
    if (this.isHead || status < 200 || status === 204 || status === 304) this.body = Body.NONE;
    else if (length >= 0) {
      this.body = Body.LENGTH;
      this.left = length;
    } else if (this.minor === 1) {
      this.body = Body.CHUNKED;
      s += 'transfer-encoding: chunked\r\n';
    } else {
      this.body = Body.CLOSE;
      close = true;
    }
    if (close) {
      this.shouldKeepAlive = false;
      s += 'connection: close\r\n\r\n';
    } else s += this.minor === 0 ? 'connection: keep-alive\r\n\r\n' : '\r\n';
    this.head = s;
    this.headersSent = true;
    return this;
  }

  /** A piece of the body; false once the socket wants a 'drain'. */
  write(chunk: Uint8Array): boolean {
    if (this.finished || this.socket.destroyed) return false;
    const sock = this.socket;
    const head = this.head;
    if (head !== null && this.body === Body.LENGTH && chunk.length <= this.left && chunk.length <= ONE_WRITE) {
      // The usual first piece: head and body in one buffer, one write (no cork, no writev).
      this.head = null;
      this.left -= chunk.length;
      const out = Buffer.allocUnsafe(head.length + chunk.length);
      out.write(head, 0, 'latin1');
      out.set(chunk, head.length);
      return sock.write(out);
    }
    sock.cork();
    if (head !== null) {
      this.head = null;
      sock.write(head, 'latin1');
    }
    this.put(chunk);
    sock.uncork();
    return !sock.writableNeedDrain;
  }

  private put(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    switch (this.body) {
      case Body.NONE:
        return;
      case Body.LENGTH: {
        // Never more than the length announced: the rest would be read as another response.
        if (n > this.left) chunk = chunk.subarray(0, this.left);
        this.left -= chunk.length;
        if (chunk.length > 0) this.socket.write(chunk);
        return;
      }
      case Body.CHUNKED:
        this.socket.write(`${n.toString(16)}\r\n`, 'latin1');
        this.socket.write(chunk);
        this.socket.write('\r\n', 'latin1');
        return;
      case Body.CLOSE:
        this.socket.write(chunk);
    }
  }

  end(chunk?: Uint8Array): void {
    if (this.finished) return;
    if (!this.headersSent) this.writeHead(200);
    this.finished = true;
    const sock = this.socket;
    if (!sock.destroyed) {
      const head = this.head;
      sock.cork();
      if (head !== null) {
        this.head = null;
        sock.write(head, 'latin1');
      }
      if (chunk !== undefined) this.put(chunk);
      if (this.body === Body.CHUNKED) sock.write('0\r\n\r\n', 'latin1');
      sock.uncork();
    }
    // A length not reached means a cut response: the connection cannot carry another.
    this.conn.responseEnded(this.shouldKeepAlive && !(this.body === Body.LENGTH && this.left > 0));
  }

  once(event: 'drain' | 'close', f: () => void): this {
    this.socket.once(event, f);
    return this;
  }

  destroy(): void {
    this.finished = true;
    this.socket.destroy();
  }
}

/** Connections of one server, for their timeouts (checked by one sweep) and for closing. */
export class H1Conns {
  private readonly live = new Set<H1Conn>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly limits: H1Limits,
    private readonly checkEveryMs: number,
  ) {}

  add(c: H1Conn): void {
    this.live.add(c);
    if (this.timer === null) {
      this.timer = setInterval(() => this.sweep(), this.checkEveryMs);
      this.timer.unref();
    }
  }

  delete(c: H1Conn): void {
    this.live.delete(c);
  }

  private sweep(): void {
    const now = performance.now();
    for (const c of this.live) if (c.deadline < now) c.timedOut();
  }

  /** Close the connections waiting for a next request (shutdown). */
  closeIdle(): void {
    for (const c of this.live) c.closeIfIdle();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

/** One client connection. */
export class H1Conn {
  private state = St.IDLE;
  /** Bytes read and not used yet (a head in part, pipelined requests). */
  private buf: Buffer | null = null;
  /** How far `buf` was scanned for the end of the head. */
  private scanned = 0;
  deadline: number;
  private req: H1Request | null = null;
  private res: H1Response | null = null;
  private bodyLeft = 0;
  private chunks: ChunkedDecoder | null = null;
  private resEnded = false;
  private keepAlive = false;
  private paused = false;
  /** No request came yet: the header timeout runs from the connection's start. */
  private first = true;
  private readonly onData = (d: Buffer): void => this.data(d);
  private readonly piece = (p: Buffer): void => {
    if (!(this.req as H1Request).push(p)) this.pause();
  };

  constructor(
    private readonly socket: Socket,
    private readonly all: H1Conns,
    private readonly h: H1Handlers,
  ) {
    this.deadline = performance.now() + all.limits.headerTimeoutMs;
    all.add(this);
    socket.on('data', this.onData);
    socket.on('error', () => {});
    socket.on('end', () => this.ended());
    socket.once('close', () => {
      this.state = St.CLOSED;
      all.delete(this);
      this.req?.fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    });
  }

  private data(d: Buffer): void {
    switch (this.state) {
      case St.IDLE:
      case St.HEAD:
        this.buf = this.buf === null ? d : Buffer.concat([this.buf, d]);
        this.readHead();
        return;
      case St.BODY:
        this.readBody(d);
        return;
      case St.WAIT:
        // Pipelined: kept for when this response is over.
        this.buf = this.buf === null ? d : Buffer.concat([this.buf, d]);
        if (this.buf.length > HIGH_WATER) this.pause();
        return;
    }
  }

  private readHead(): void {
    let b = this.buf as Buffer;
    if (this.state === St.IDLE) {
      // Empty lines before a request line are allowed (RFC 9112 §2.2), e.g. after a POST's body.
      let i = 0;
      while (i + 1 < b.length && b[i] === 13 && b[i + 1] === 10) i += 2;
      if (i > 0) b = b.subarray(i);
      if (b.length === 0 || (b.length === 1 && b[0] === 13)) {
        this.buf = b.length === 0 ? null : b;
        return;
      }
      this.state = St.HEAD;
      this.scanned = 0;
      if (!this.first) this.deadline = performance.now() + this.all.limits.headerTimeoutMs;
      this.first = false;
    }
    const e = b.indexOf(CRLF2, this.scanned > 3 ? this.scanned - 3 : 0);
    const max = this.all.limits.maxHeaderBytes;
    if (e < 0 || e + 4 > max) {
      this.buf = b;
      if (b.length > max) return void this.refuse(431);
      if (badPartialHead(b, this.scanned)) return void this.refuse(400);
      this.scanned = b.length;
      return;
    }
    const end = e + 4;
    const head = parseRequestHead(b, end);
    if (head === null) return void this.refuse(400);
    this.buf = b.length === end ? null : b.subarray(end);
    if (head.method === 'CONNECT') {
      // Not a forward proxy: node's server without a 'connect' listener closes such a connection too.
      this.close(true);
      return;
    }
    this.start(head.method, head.target, head.minor, head.raw);
  }

  private start(method: string, target: string, minor: number, raw: string[]): void {
    // Framing and keep-alive from the head. A framing the exchange will refuse (framing.ts:
    // Content-Length with Transfer-Encoding, a coding other than chunked, ...) reads no body and
    // closes the connection after the answer.
    let keepAlive = minor === 1;
    let length = 0;
    let chunked = false;
    let ambiguous = false;
    let cls = 0;
    let tes = 0;
    let upgradeToken = false;
    let upgradeHeader = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      const value = raw[i + 1] as string;
      switch (name.length) {
        case 7:
          if (nameIs(name, 'upgrade')) upgradeHeader = true;
          break;
        case 10:
          if (nameIs(name, 'connection')) {
            if (hasToken(value, 'close')) keepAlive = false;
            else if (minor === 0 && hasToken(value, 'keep-alive')) keepAlive = true;
            if (hasToken(value, 'upgrade')) upgradeToken = true;
          }
          break;
        case 14:
          if (nameIs(name, 'content-length')) {
            cls++;
            length = lengthValue(value);
          }
          break;
        case 17:
          if (nameIs(name, 'transfer-encoding')) {
            tes++;
            chunked = value.toLowerCase() === 'chunked';
          }
          break;
      }
    }
    if (tes > 1 || (tes === 1 && (!chunked || cls > 0 || minor === 0)) || cls > 1 || length < 0) ambiguous = true;
    const req = new H1Request(this, method, target, minor, raw, this.socket);
    const res = new H1Response(this, this.socket, method === 'HEAD', minor, keepAlive && !ambiguous);
    this.req = req;
    this.res = res;
    this.resEnded = false;
    this.keepAlive = keepAlive && !ambiguous;
    this.deadline = Number.POSITIVE_INFINITY;
    if (upgradeToken && upgradeHeader && !ambiguous) {
      this.state = St.UPGRADED;
      this.socket.off('data', this.onData);
      this.all.delete(this);
      const head = this.buf ?? EMPTY;
      this.buf = null;
      this.h.upgrade(req, res, head);
      return;
    }
    if (ambiguous || (!chunked && length === 0)) {
      this.state = St.WAIT;
      req.end();
      this.h.request(req, res);
      if (this.buf !== null && this.buf.length > HIGH_WATER) this.pause();
      return;
    }
    this.state = St.BODY;
    if (chunked) {
      this.chunks = new ChunkedDecoder(true);
      this.bodyLeft = -1;
    } else {
      this.chunks = null;
      this.bodyLeft = length;
    }
    const rest = this.buf;
    this.buf = null;
    // The exchange first (it reads the body when its gate asks), then what came with the head.
    this.h.request(req, res);
    if (rest !== null && this.state === St.BODY) this.readBody(rest);
  }

  private readBody(d: Buffer): void {
    const req = this.req as H1Request;
    let used: number;
    if (this.chunks === null) {
      used = Math.min(d.length, this.bodyLeft);
      this.bodyLeft -= used;
      if (used > 0 && !req.push(used === d.length ? d : d.subarray(0, used))) this.pause();
      if (this.bodyLeft > 0) return;
    } else {
      try {
        used = this.chunks.push(d, this.piece);
      } catch (e) {
        // A broken chunked body: answered 400 like a broken head (nothing more of it is read).
        this.state = St.CLOSED;
        req.fail(e as Error);
        this.h.refuse(this.socket, 400, this.res);
        return;
      }
      if (used < 0) return;
    }
    this.state = St.WAIT;
    this.chunks = null;
    req.end();
    if (used < d.length) this.buf = d.subarray(used);
    if (this.resEnded) this.nextRequest();
  }

  /** The exchange took body pieces: read on. */
  bodyRead(): void {
    if (this.paused && this.state === St.BODY) this.resume();
  }

  /** The response was written whole; `reuse`: the connection may carry another request. */
  responseEnded(reuse: boolean): void {
    this.resEnded = true;
    // A body not read whole (the answer came first) leaves bytes that are not a next request.
    if (!reuse || !this.keepAlive || this.state !== St.WAIT) {
      this.close(false);
      return;
    }
    this.nextRequest();
  }

  private nextRequest(): void {
    this.state = St.IDLE;
    this.req = null;
    this.res = null;
    this.deadline = performance.now() + this.all.limits.keepAliveTimeoutMs;
    if (this.paused) this.resume();
    // Pipelined bytes: read after the exchange that just ended has finished its own bookkeeping.
    if (this.buf !== null)
      queueMicrotask(() => {
        if (this.state === St.IDLE && this.buf !== null) this.readHead();
      });
  }

  /** The client closed its side (the server is half-open: the answer to a request it sent still goes out). */
  private ended(): void {
    this.keepAlive = false;
    switch (this.state) {
      case St.IDLE:
        this.close(true);
        return;
      case St.HEAD:
        // A head cut short: node's parser answers 400 on such an end too.
        this.refuse(400);
        return;
      case St.BODY:
        this.state = St.WAIT;
        this.req?.fail(Object.assign(new Error('the client ended its side mid-body'), { code: 'ECONNRESET' }));
        return;
    }
  }

  timedOut(): void {
    if (this.state === St.HEAD) this.refuse(408);
    else if (this.state === St.IDLE) this.close(true);
  }

  closeIfIdle(): void {
    if (this.state === St.IDLE) this.close(true);
  }

  private refuse(status: number): void {
    this.state = St.CLOSED;
    this.all.delete(this);
    this.buf = null;
    this.h.refuse(this.socket, status, null);
  }

  /** Close after what was written is sent (`now`: at once). */
  private close(now: boolean): void {
    this.state = St.CLOSED;
    this.all.delete(this);
    this.buf = null;
    if (now) this.socket.destroy();
    else if (!this.socket.destroyed) {
      this.socket.end();
      // A client that keeps its side open is not waited for long.
      setTimeout(() => this.socket.destroy(), 1_000).unref();
    }
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private resume(): void {
    this.paused = false;
    this.socket.resume();
  }
}
