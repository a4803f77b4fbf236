/**
 * One request through the edge: head checks, the gate (gate.ts documents the order of calls),
 * then either an answer of our own or the origin's answer streamed back. The Exchange is also
 * the request the phases see (EdgeRequest) and the origin pool's handler for the origin request,
 * so a request costs one object of ours plus what node makes anyway.
 */

// Buffer and performance are imported, not read as globals: on globalThis both are lazy accessors, called on every use.
import { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HttpRequest } from '../model/http.js';
import type { AccessLog } from './access-log.js';
import { headerRecords, text } from './access-log.js';
import { requestHeaders, responseHeaders } from './forward-headers.js';
import { checkHead, type HeadFacts } from './framing.js';
import type { BodyVerdict, EdgeRequest, Gate, HeadVerdict, Mitigated, Outcome, Respond } from './gate.js';
import type { H1Request } from './h1-conn.js';
import type { BodyWatch, Upload } from './limits.js';
import type { ResolvedOptions } from './options.js';
import type { OriginHandler } from './origin-pool.js';
import { errorPage } from './pages.js';
import { REQUEST_ID_HEADER, RequestIds } from './request-id.js';
import type { EdgeStats } from './stats.js';
import type { TrustedProxies } from './trusted.js';
import { isConnectError, type Origin, type Upstream } from './upstream.js';
import { EdgeView } from './view.js';

/** node's request and response (TLS: h2, or HTTP/1.1 by ALPN), or ours (plain HTTP/1.1: h1-conn.ts). */
export type Req = IncomingMessage | Http2ServerRequest | H1Request;
/** What the exchange does with a response: node's ServerResponse and Http2ServerResponse, and H1Response, all have it. */
export interface Res {
  readonly headersSent: boolean;
  writeHead(status: number, headers: string[]): unknown;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array): unknown;
  once(event: 'drain' | 'close', f: () => void): unknown;
  writeContinue(): void;
  destroy(): void;
}

/** What the edge knows of a client connection (server.ts fills it once per connection). */
export interface ConnInfo {
  /** The socket's peer. */
  peerIp: string;
  /** Who sent the request: the PROXY protocol's source when there was one, else the peer. */
  hopIp: string;
  hopPort: number;
  serverIp: string;
  serverPort: number;
  ssl: boolean;
  sni?: string;
  alpn?: string;
  tlsVersion?: string;
  tlsCipher?: string;
  /** JA3 and JA4 of the connection's ClientHello (client-hello.ts), read before TLS started. */
  ja3?: string;
  ja4?: string;
  /** Set by the clientError handler: the connection was answered with this status and closed. */
  failed?: number;
  /** performance.now() when the connection was admitted or its last exchange ended (how long a
   * refused head was waited for: refused.ts). */
  idleSince?: number;
  /**
   * HTTP/1.1 pipelining: node hands over every request it parsed at once; they are run one after
   * the other per connection (as the responses must go out in order anyway), so one connection
   * cannot open many origin requests at a time.
   */
  current?: Exchange | null;
  queue?: Exchange[];
}

/** Everything an exchange shares with the others of its edge. */
export interface EdgeCore {
  readonly o: ResolvedOptions;
  readonly gate: Gate;
  readonly upstream: Upstream;
  readonly stats: EdgeStats;
  readonly trusted: TrustedProxies;
  readonly ids: RequestIds;
  readonly watch: BodyWatch;
  readonly log: AccessLog | null;
  closing: boolean;
  /** Exchanges not finished yet (a count: a Set would give every exchange an identity hash). */
  inflight: number;
  onIdle(): void;
  /** WebSocket: pipe the upgraded connection (upgrade.ts); set by server.ts. */
  pipeUpgrade(x: Exchange, origin: Origin): void;
}

/** Why the edge stopped an exchange itself: the status to answer (0: nobody to answer) and a short name. */
export class EdgeAbort extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {
    super(code);
  }
}

const EMPTY = new Uint8Array(0);

function isThenable<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown }).then === 'function';
}

export class Exchange implements EdgeRequest, HeadFacts, Upload, OriginHandler {
  readonly id: string;
  readonly clientIp: string;
  readonly peerIp: string;
  private rules: string[] | undefined = undefined;
  /** Set by the phases (the JavaScript challenge's state) and the stack (its gate); declared here so every exchange has the same shape. */
  challenge: EdgeRequest['challenge'] = undefined;
  owner: object | undefined = undefined;
  // HeadFacts, filled by checkHead.
  host: string | undefined = undefined;
  contentLength = -1;
  chunked = false;
  connectionTokens: string[] | null = null;
  xff: string | undefined = undefined;
  xfProto: string | undefined = undefined;
  incomingId: string | undefined = undefined;
  upgrade: string | undefined = undefined;
  expectContinue = false;
  // Upload
  bodyStart = 0;
  lastData = 0;
  bytesIn = 0;

  readonly h2: boolean;
  readonly trustedHop: boolean;
  readonly method: string;
  /** Origin-form target (an absolute-form one is rewritten by start()). */
  target: string;
  readonly timestampMs: number;
  private v: EdgeView | undefined = undefined;
  /** A WebSocket handshake's bytes after the head (upgrade requests only). */
  upgradeHead: Buffer | null = null;
  status = 0;
  bytesOut = 0;
  originMs: number | undefined = undefined;
  private readonly t0: number;
  private readonly headStatus: number;
  private readonly hasBody: boolean;
  /** The pool's abort for the origin request in flight, and its resume after backpressure. */
  private abortOrigin: ((err?: Error) => void) | null = null;
  private resumeOrigin: (() => void) | null = null;
  origin: Origin | undefined = undefined;
  private done = false;
  private responded = false;
  private continued = false;
  private uploading = false;
  private iter: AsyncIterator<Buffer> | null = null;
  private buffered: Buffer[] | null = null;
  private abortReason: EdgeAbort | null = null;
  private passHeaders: ReadonlyArray<readonly [string, string]> | undefined = undefined;
  private tries = 0;
  private by: Outcome['by'] = 'transport';
  private mitigated: Mitigated | undefined = undefined;
  private error: string | undefined = undefined;
  private drainBound: (() => void) | null = null;

  constructor(
    private readonly core: EdgeCore,
    readonly req: Req,
    readonly res: Res,
    readonly conn: ConnInfo,
  ) {
    this.t0 = performance.now();
    core.stats.requests++;
    const h2 = req.httpVersionMajor === 2;
    this.h2 = h2;
    const raw = req.rawHeaders;
    this.headStatus = checkHead(raw, req.httpVersionMinor === 0 && !h2, core.o, this);
    if (h2) {
      const a = (req as Http2ServerRequest).authority;
      if (a !== undefined && a !== '') this.host ??= a;
      this.hasBody = !(req as Http2ServerRequest).stream.endAfterHeaders;
    } else this.hasBody = this.chunked || this.contentLength > 0;
    const trusted = core.trusted.has(conn.hopIp);
    this.trustedHop = trusted;
    this.clientIp = trusted ? core.trusted.clientFrom(conn.hopIp, this.xff) : conn.hopIp;
    this.peerIp = conn.peerIp;
    this.id = trusted && RequestIds.acceptable(this.incomingId) ? (this.incomingId as string) : core.ids.next();
    this.method = req.method ?? 'GET';
    this.target = req.url ?? '/';
    this.timestampMs = core.o.clock.nowMs();
    core.inflight++;
    // HTTP/1.1 exchanges hear of a closed connection from server.ts (one listener per
    // connection); HTTP/2 streams end on their own.
    if (h2) res.once('close', () => this.onClose());
  }

  /** The request as the Rules scheme reads it, made on first use (a gate that passes all never asks). */
  get view(): EdgeView {
    if (this.v === undefined) {
      const req = this.req;
      const c = this.conn;
      const version = this.h2 ? 'HTTP/2' : req.httpVersionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
      const v = new EdgeView(req.rawHeaders, this.method, this.target, this.host ?? '', version, this.clientIp, c.ssl, this.timestampMs);
      v.serverIp = c.serverIp;
      v.serverPort = c.serverPort;
      if (c.ssl) {
        v.tlsVersion = c.tlsVersion;
        v.tlsCipher = c.tlsCipher;
        if (c.ja3 !== undefined) v.ja3 = c.ja3;
        if (c.ja4 !== undefined) v.ja4 = c.ja4;
      }
      if (this.status !== 0 && this.responded) v.status = this.status;
      this.v = v;
    }
    return this.v;
  }

  /** Made when a phase first records a rule (most requests match none). */
  get ruleIds(): string[] {
    this.rules ??= [];
    return this.rules;
  }

  get headerOrder(): readonly string[] {
    return this.view.headerOrder;
  }

  /** The connection closed (server.ts): whatever is still in flight on it was abandoned. */
  connectionClosed(): void {
    this.onClose();
  }

  /** Run the exchange, or queue it behind the one in progress on its HTTP/1.1 connection. */
  begin(): void {
    if (!this.h2) {
      const c = this.conn;
      if (c.current != null) {
        c.queue ??= [];
        c.queue.push(this);
        return;
      }
      c.current = this;
    }
    this.start();
  }

  private start(): void {
    if (this.headStatus !== 0) {
      this.refuse(this.headStatus, 'bad_request');
      return;
    }
    // Only 1.0 and 1.1 (and h2) are forwarded (llhttp, over TLS, takes `GET /` alone as HTTP/0.9).
    if (!this.h2 && this.req.httpVersionMajor !== 1) {
      this.refuse(400, 'bad_version');
      return;
    }
    const t = this.target;
    if (t.charCodeAt(0) !== 47) {
      // Absolute form (RFC 9112 §3.2.2): its authority wins over Host. Anything else (`*`, an
      // authority form outside CONNECT) has no meaning for a reverse proxy.
      let u: URL | undefined;
      if (/^https?:\/\//i.test(t)) {
        try {
          u = new URL(t);
        } catch {}
      }
      if (u === undefined) {
        this.refuse(400, 'bad_target');
        return;
      }
      this.target = u.pathname + u.search;
      this.host = u.host;
    }
    if (this.hasBody && this.upgradeHead !== null) {
      this.refuse(400, 'bad_request');
      return;
    }
    let v: HeadVerdict | Promise<HeadVerdict>;
    try {
      v = this.core.gate.head(this);
    } catch (e) {
      this.gateFailed(e);
      return;
    }
    if (isThenable(v))
      v.then(
        (w) => this.onHead(w),
        (e) => this.gateFailed(e),
      );
    else this.onHead(v);
  }

  private onHead(v: HeadVerdict): void {
    if (this.done) return;
    try {
      if (v.kind === 'pass') this.forward(v.headers);
      else if (v.kind === 'body') this.readBody(v.bodyLimit).catch((e) => this.fail(e));
      else this.respond(v);
    } catch (e) {
      // A verdict the transport cannot carry out (a header value with a line break, ...): a
      // failure of this request, never of the process.
      this.gateFailed(e);
    }
  }

  private onBody(v: BodyVerdict): void {
    if (this.done) return;
    try {
      if (v.kind === 'pass') this.forward(v.headers);
      else this.respond(v);
    } catch (e) {
      this.gateFailed(e);
    }
  }

  private respond(v: Respond): void {
    this.core.stats.byPhase++;
    this.mitigated = v.mitigated;
    this.answer(v.status, 'phase', v.mitigated, v.headers, v.body);
  }

  private gateFailed(e: unknown): void {
    this.core.stats.gateErrors++;
    this.core.o.log(`edge: the gate failed on request ${this.id}: ${(e as Error | undefined)?.stack ?? e}`);
    this.error = 'gate_error';
    this.answer(500, 'transport');
  }

  /** A 4xx of the transport's own (head checks), with the connection closed after it. */
  private refuse(status: number, code: string): void {
    const s = this.core.stats;
    if (status === 413) s.tooLarge++;
    else if (status === 431) s.headersTooLarge++;
    else s.badRequests++;
    this.error = code;
    this.answer(status, 'transport');
  }

  // ---- the request body ------------------------------------------------------------------------

  private beginUpload(): void {
    if (this.expectContinue && !this.continued) {
      this.continued = true;
      this.res.writeContinue();
    }
    if (this.iter === null) this.iter = this.req[Symbol.asyncIterator]();
    if (!this.uploading) {
      this.uploading = true;
      this.bodyStart = this.lastData = performance.now();
      this.core.watch.add(this);
    }
  }

  private endUpload(): void {
    if (this.uploading) {
      this.uploading = false;
      this.core.watch.delete(this);
    }
  }

  private noteData(n: number): void {
    this.bytesIn += n;
    this.lastData = performance.now();
    if (this.bytesIn > this.core.o.maxBodyBytes) {
      this.core.stats.tooLarge++;
      throw (this.abortReason = new EdgeAbort(413, 'body_too_large'));
    }
  }

  /** NeedBody: read up to `limit` bytes, hand them to the gate, keep them for the origin. */
  private async readBody(limit: number): Promise<void> {
    const gate = this.core.gate;
    if (!this.hasBody) {
      if (gate.body === undefined) return this.forward(undefined);
      return this.callBody(EMPTY, false);
    }
    this.beginUpload();
    const it = this.iter as AsyncIterator<Buffer>;
    const chunks: Buffer[] = [];
    let n = 0;
    let ended = false;
    while (n < limit) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      this.noteData(r.value.length);
      chunks.push(r.value);
      n += r.value.length;
    }
    if (ended) this.endUpload();
    if (this.done) return;
    this.buffered = chunks;
    const all = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    const truncated = n > limit || !ended;
    const bytes = n > limit ? all.subarray(0, limit) : all;
    const v = this.view;
    v.body = bytes;
    v.bodySize = ended ? n : this.contentLength >= 0 ? this.contentLength : Number.NaN;
    v.bodyTruncated = truncated;
    if (gate.body === undefined) return this.forward(undefined);
    this.callBody(bytes, truncated);
  }

  private callBody(bytes: Uint8Array, truncated: boolean): void {
    let v: BodyVerdict | Promise<BodyVerdict>;
    try {
      v = (this.core.gate.body as NonNullable<Gate['body']>)(this, bytes, truncated);
    } catch (e) {
      this.gateFailed(e);
      return;
    }
    if (isThenable(v))
      v.then(
        (w) => this.onBody(w),
        (e) => this.gateFailed(e),
      );
    else this.onBody(v);
  }

  /** The body sent to the origin: what NeedBody kept, then the rest as it comes. */
  private async *bodyChunks(): AsyncGenerator<Buffer> {
    const kept = this.buffered;
    if (kept !== null) {
      this.buffered = null;
      for (const c of kept) yield c;
    }
    if (!this.uploading && this.iter !== null) return; // NeedBody read it all
    this.beginUpload();
    const it = this.iter as AsyncIterator<Buffer>;
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      this.noteData(r.value.length);
      yield r.value;
    }
    this.endUpload();
  }

  tooSlow(reason: 'slow_body' | 'body_timeout'): void {
    this.core.stats.slowBodies++;
    this.abortReason = new EdgeAbort(408, reason);
    this.abortOrigin?.(this.abortReason);
    this.answerOrCut(408, reason);
  }

  // ---- to the origin ---------------------------------------------------------------------------

  private forward(extra: ReadonlyArray<readonly [string, string]> | undefined): void {
    if (this.done) return;
    this.passHeaders = extra;
    const origin = this.core.upstream.pick(performance.now(), this.origin);
    this.origin = origin;
    if (this.upgradeHead !== null && this.upgrade?.toLowerCase() === 'websocket') {
      this.core.stats.upgrades++;
      this.core.pipeUpgrade(this, origin);
      return;
    }
    this.tries++;
    origin.pool.dispatch(
      {
        path: this.target,
        method: this.method,
        headers: this.originHeaders(),
        body: this.hasBody ? this.bodyChunks() : null,
      },
      this,
    );
  }

  /** The request head for the origin (also used by the WebSocket pipe). */
  originHeaders(): string[] {
    const c = this.conn;
    const req = this.req;
    return requestHeaders(
      req.rawHeaders,
      {
        hopIp: c.hopIp,
        trusted: this.trustedHop,
        proto: c.ssl ? 'https' : 'http',
        host: this.host,
        via: this.h2 ? '2.0' : req.httpVersionMinor === 0 ? '1.0' : '1.1',
        requestId: this.id,
        connectionTokens: this.connectionTokens,
      },
      this.h2,
      this.passHeaders,
    );
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortOrigin = abort;
    if (this.done) abort(this.abortReason ?? new EdgeAbort(0, 'client_aborted'));
  }

  onHeaders(statusCode: number, raw: string[], resume: () => void): boolean {
    if (this.done || statusCode < 200) return true;
    this.resumeOrigin = resume;
    this.originHeard(statusCode);
    const out = responseHeaders(raw, this.h2 ? '2.0' : '1.1');
    if (this.core.closing && !this.h2) out.push('connection', 'close');
    try {
      this.res.writeHead(statusCode, out);
    } catch (e) {
      // A head node will not send (a value the origin sent that node:http refuses): 502, not a crash.
      this.responded = false;
      this.core.stats.originErrors++;
      this.core.o.log(`edge: request ${this.id}: the origin's response head cannot be passed on (${(e as Error).message})`);
      this.answerOrCut(502, 'origin_bad_head');
    }
    return true;
  }

  /** The origin's response head arrived (also called by the WebSocket pipe, which passes it on as is). */
  originHeard(statusCode: number): void {
    this.originMs = performance.now() - this.t0;
    this.status = statusCode;
    if (this.v !== undefined) this.v.status = statusCode;
    this.responded = true;
    this.core.upstream.ok(this.origin as Origin);
    const g = this.core.gate;
    if (g.response !== undefined) {
      try {
        g.response(this, statusCode);
      } catch (e) {
        this.core.o.log(`edge: gate.response failed on request ${this.id}: ${(e as Error).message}`);
      }
    }
  }

  /** The WebSocket pipe could not reach the origin. */
  upstreamFailed(status: number, code: string): void {
    if (status === 504) this.core.stats.originTimeouts++;
    else this.core.stats.originErrors++;
    this.core.upstream.failed(this.origin as Origin, performance.now());
    this.answerOrCut(status, code);
  }

  /** The WebSocket pipe closed: the exchange ends (byte counts kept by the pipe). */
  upgradeEnded(): void {
    if (this.done) return;
    if (this.status > 0) {
      this.by = 'origin';
      this.core.stats.byOrigin++;
    } else this.error = 'origin_error';
    this.finish();
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return true;
    this.bytesOut += chunk.length;
    if (this.res.write(chunk)) return true;
    if (this.drainBound === null) this.drainBound = () => this.resumeOrigin?.();
    this.res.once('drain', this.drainBound);
    return false;
  }

  onComplete(): void {
    if (this.done) return;
    this.res.end();
    this.core.stats.byOrigin++;
    this.by = 'origin';
    this.finish();
  }

  onError(err: Error): void {
    if (this.done) return;
    const abort = this.abortReason ?? (err instanceof EdgeAbort ? err : null);
    if (abort !== null) {
      if (abort.status === 0) {
        this.finishWith(abort.code);
        return;
      }
      this.answerOrCut(abort.status, abort.code);
      return;
    }
    const s = this.core.stats;
    const code = (err as { code?: string }).code;
    if (isConnectError(err)) {
      this.core.upstream.failed(this.origin as Origin, performance.now());
      // Nothing reached the origin: another may take it, when there is no body already spent.
      if (!this.hasBody && this.tries < this.core.upstream.origins.length) {
        this.forward(this.passHeaders);
        return;
      }
      if (code === 'ORIGIN_CONNECT_TIMEOUT') {
        s.originTimeouts++;
        this.answerOrCut(504, 'origin_connect_timeout');
        return;
      }
      s.originErrors++;
      this.answerOrCut(502, 'origin_unreachable');
      return;
    }
    if (code === 'ORIGIN_HEADERS_TIMEOUT' || code === 'ORIGIN_BODY_TIMEOUT') {
      s.originTimeouts++;
      this.answerOrCut(504, code === 'ORIGIN_HEADERS_TIMEOUT' ? 'origin_timeout' : 'origin_body_timeout');
      return;
    }
    if (this.clientGone()) {
      this.finishWith('client_aborted');
      return;
    }
    if (code === 'BODY_LENGTH_MISMATCH') {
      s.badRequests++;
      this.answerOrCut(400, 'bad_request');
      return;
    }
    s.originErrors++;
    this.answerOrCut(502, 'origin_error');
  }

  // ---- answers and the end ---------------------------------------------------------------------

  private clientGone(): boolean {
    if (this.conn.failed !== undefined) return true;
    if (this.h2) return (this.res as unknown as Http2ServerResponse).stream.destroyed;
    const s = (this.req as IncomingMessage).socket as Socket | null;
    return s === null || s.destroyed || s.writableEnded;
  }

  /** Answer when nothing was sent yet; otherwise cut the response short (the client sees a truncated body). */
  private answerOrCut(status: number, code: string): void {
    if (this.done) return;
    this.error = code;
    this.abortOrigin?.(this.abortReason ?? new EdgeAbort(0, code));
    if (!this.responded && !this.res.headersSent) {
      this.answer(status, 'transport');
      return;
    }
    this.res.destroy();
    this.finish();
  }

  /**
   * An answer of our own: the gate's status, headers and body, or a small HTML page. A request
   * whose body was not read (or not all of it) closes its connection after the answer, so its
   * remaining bytes are never read as a next request.
   */
  answer(status: number, by: Outcome['by'], mitigated?: Mitigated, headers?: ReadonlyArray<readonly [string, string]>, body?: string | Uint8Array): void {
    if (this.done) return;
    this.by = by;
    this.status = status;
    if (by === 'transport') this.core.stats.byTransport++;
    if (this.clientGone() || this.res.headersSent) {
      if (this.conn.failed !== undefined) this.status = this.conn.failed;
      this.finish();
      return;
    }
    const buf = body === undefined ? Buffer.from(errorPage(status, this.id)) : typeof body === 'string' ? Buffer.from(body) : body;
    const out: string[] = [];
    let typed = false;
    if (headers !== undefined) {
      for (const [k, v] of headers) {
        const l = k.toLowerCase();
        if (l === 'content-length' || l === 'connection' || l === 'transfer-encoding' || l === REQUEST_ID_HEADER) continue;
        if (l === 'content-type') typed = true;
        out.push(k, v);
      }
    }
    if (!typed) out.push('content-type', body === undefined ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8');
    out.push('content-length', String(buf.length), 'cache-control', 'no-store', REQUEST_ID_HEADER, this.id);
    if (mitigated !== undefined) out.push('palisade-mitigated', mitigated);
    const unread = this.hasBody && (this.uploading || this.iter === null);
    if (!this.h2 && (unread || this.core.closing || status === 400 || status === 408 || status === 431 || status === 413)) {
      out.push('connection', 'close');
      (this.res as ServerResponse).shouldKeepAlive = false;
    }
    try {
      this.res.writeHead(status, out);
    } catch (e) {
      // Only the gate's headers can be invalid here: answer without them.
      if (headers === undefined) throw e;
      this.core.o.log(`edge: request ${this.id}: the gate's answer headers are invalid (${(e as Error).message}); answered without them`);
      this.error = 'gate_error';
      this.answer(status, by, mitigated, undefined, body);
      return;
    }
    this.res.end(buf);
    if (this.method !== 'HEAD') this.bytesOut = buf.length;
    this.finish();
  }

  private fail(e: unknown): void {
    if (e instanceof EdgeAbort) {
      this.answerOrCut(e.status, e.code);
      return;
    }
    // Reading the body failed: the client went away or sent a broken body (clientError answered it).
    if (this.clientGone()) {
      this.finishWith(this.conn.failed !== undefined ? 'bad_request' : 'client_aborted');
      return;
    }
    this.error = 'body_error';
    this.answerOrCut(400, 'bad_request');
  }

  private finishWith(code: string): void {
    // Aborting the origin request can call back into onError at once: count the end once.
    if (this.done) return;
    // The parser refused the rest of this connection (clientError answered it): a bad request, not an abort.
    if (this.conn.failed !== undefined) code = 'bad_request';
    this.error ??= code;
    if (code === 'client_aborted') this.core.stats.clientAborts++;
    if (this.status === 0) this.status = this.conn.failed ?? 499;
    this.finish();
  }

  private onClose(): void {
    if (this.done) return;
    if (this.upgradeHead !== null && this.responded) {
      this.upgradeEnded();
      return;
    }
    this.abortReason ??= new EdgeAbort(0, 'client_aborted');
    this.abortOrigin?.(this.abortReason);
    this.finishWith(this.abortReason.code);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.endUpload();
    const core = this.core;
    core.inflight--;
    const c = this.conn;
    c.idleSince = performance.now();
    if (c.current === this) {
      c.current = null;
      let next = c.queue?.shift();
      while (next?.done === true) next = c.queue?.shift();
      if (next !== undefined) {
        const n = next;
        queueMicrotask(() => n.begin());
      }
    }
    const g = core.gate;
    if (g.done !== undefined || core.log !== null) {
      const out: Outcome = {
        status: this.status,
        by: this.by,
        bytesIn: this.bytesIn,
        bytesOut: this.bytesOut,
        durationMs: performance.now() - this.t0,
      };
      if (this.mitigated !== undefined) out.mitigated = this.mitigated;
      if (this.originMs !== undefined) out.originMs = this.originMs;
      if (this.error !== undefined) out.error = this.error;
      if (g.done !== undefined) {
        try {
          g.done(this, out);
        } catch (e) {
          core.o.log(`edge: gate.done failed on request ${this.id}: ${(e as Error).message}`);
        }
      }
      core.log?.write(this.record(out));
    }
    if (core.closing && core.inflight === 0) core.onIdle();
  }

  /** The access log's HttpRequest record. */
  record(out: Outcome): HttpRequest {
    const v = this.view;
    const t = v.target;
    const q = t.indexOf('?');
    const rec: HttpRequest = {
      time: new Date(v.timestampMs).toISOString(),
      client: { ip: this.clientIp, port: this.conn.hopPort },
      method: text(v.method),
      host: text(v.host),
      path: text(q < 0 ? t : t.slice(0, q)),
      query: q < 0 ? '' : text(t.slice(q + 1)),
      version: v.version as HttpRequest['version'],
      ...headerRecords(this.req.rawHeaders),
      body_size: this.bytesIn,
      status: out.status,
      response_size: out.bytesOut,
      duration_ms: round(out.durationMs),
    };
    if (this.clientIp !== this.conn.hopIp) rec.client.via = this.conn.hopIp;
    if (this.clientIp !== this.conn.hopIp) delete rec.client.port;
    if (out.originMs !== undefined) rec.origin_ms = round(out.originMs);
    if (this.conn.ssl) {
      const tls: NonNullable<HttpRequest['tls']> = {};
      if (this.conn.sni !== undefined) tls.sni = this.conn.sni;
      if (this.conn.alpn !== undefined) tls.alpn = this.conn.alpn;
      if (this.conn.ja3 !== undefined) tls.ja3 = this.conn.ja3;
      if (this.conn.ja4 !== undefined) tls.ja4 = this.conn.ja4;
      rec.tls = tls;
    }
    const rules = this.rules ?? [];
    const waf: number[] = [];
    for (const r of rules) if (r.startsWith('waf:')) waf.push(Number(r.slice(4)));
    rec.edge = {
      request_id: this.id,
      action: out.mitigated ?? (out.error !== undefined && out.by === 'transport' ? 'error' : 'pass'),
      rule_ids: rules.slice(),
      ...(waf.length > 0 && { waf_matches: waf }),
      ...(out.error !== undefined && { error: out.error }),
    };
    if (this.challenge !== undefined) rec.challenge = this.challenge;
    return rec;
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
