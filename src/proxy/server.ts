/**
 * `startEdge`: the edge's listener and its connections. Plain HTTP/1.1 is read by h1-conn.ts on a
 * node:net server; TLS by one node:http2 secure server speaking h2 and HTTP/1.1 by ALPN, whose
 * connection handling is preceded by ours. Ours: the PROXY protocol header, the per-address
 * connection cap and the connection facts each request reads. Requests go to exchange.ts,
 * WebSocket upgrades to upgrade.ts.
 */
import { type IncomingMessage, ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2Session } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { AccessLog } from './access-log.js';
import { readClientHello } from './client-hello.js';
import { type ConnInfo, type EdgeCore, Exchange, type Req, type Res } from './exchange.js';
import { type Gate, PASS_ALL } from './gate.js';
import { H1Conn, H1Conns, type H1Handlers, type H1Request, type H1Response } from './h1-conn.js';
import { BodyWatch, ConnLimiter } from './limits.js';
import { type EdgeOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { parseProxyHeader } from './proxy-protocol.js';
import { refusalName, reportRefused } from './refused.js';
import { REQUEST_ID_HEADER, RequestIds } from './request-id.js';
import { type EdgeStats, newStats } from './stats.js';
import { plainIp, TrustedProxies } from './trusted.js';
import { pipeUpgrade } from './upgrade.js';
import { Upstream } from './upstream.js';

export type { EdgeOptions } from './options.js';
export type { EdgeStats } from './stats.js';

export interface Edge {
  /** Where it listens (the port chosen when 0 was asked). */
  address(): { host: string; port: number };
  /** `http://host:port` or `https://host:port`. */
  readonly url: string;
  /** This process's counters (a copy). */
  stats(): EdgeStats;
  /**
   * Stop accepting, let in-flight exchanges finish (up to shutdownTimeoutMs), then cut what is
   * left, close the origin pools and flush the access log.
   */
  close(): Promise<void>;
}

const CONN = Symbol('palisade.conn');
/** A socket with its connection facts; a TLS socket's `_parent` is the TCP socket it wraps. */
type Tracked = Socket & { [CONN]?: ConnInfo; _parent?: Tracked };

/** A client stream whose first bytes were read already (the PROXY protocol's leftovers): gives those, then the socket's. */
class Prepended extends Duplex {
  constructor(
    private readonly sock: Socket,
    head: Buffer,
  ) {
    super({ allowHalfOpen: false });
    this.push(head);
    sock.on('data', (d: Buffer) => {
      if (!this.push(d)) sock.pause();
    });
    sock.once('end', () => this.push(null));
    sock.once('close', () => this.destroy());
    sock.once('error', (e) => this.destroy(e));
  }
  override _read(): void {
    this.sock.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.sock.write(chunk, cb);
  }
  override _final(cb: () => void): void {
    this.sock.end(cb);
  }
  override _destroy(e: Error | null, cb: (e: Error | null) => void): void {
    this.sock.destroy();
    cb(e);
  }
  get remoteAddress(): string | undefined {
    return this.sock.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.sock.remotePort;
  }
}

export async function startEdge(opts: EdgeOptions & { gate?: Gate }): Promise<Edge> {
  const o = resolveOptions(opts);
  const stats = newStats();
  const sockets = new Set<Socket>();
  const sessions = new Set<Http2Session>();
  let idle: (() => void) | null = null;
  const upstream = new Upstream(o.origins, {
    connectTimeoutMs: o.connectTimeoutMs,
    headersTimeoutMs: o.originTimeoutMs,
    bodyTimeoutMs: o.originBodyTimeoutMs,
    keepAliveTimeoutMs: o.originKeepAliveMs,
    connections: o.originConnections,
    coolDownMs: o.originCoolDownMs,
  });
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const core: EdgeCore = {
    o,
    gate: opts.gate ?? PASS_ALL,
    upstream,
    stats,
    trusted: new TrustedProxies(o.trustedProxies),
    ids: new RequestIds(),
    watch: new BodyWatch({ idleMs: o.bodyTimeoutMs, minRate: o.minBodyRate, graceMs: o.bodyGraceMs }),
    log: o.accessLog !== undefined ? new AccessLog(o.accessLog, o.log) : null,
    closing: false,
    inflight: 0,
    onIdle: () => idle?.(),
    pipeUpgrade: (x, origin) => pipeUpgrade(x, origin, o.connectTimeoutMs, track),
  };
  const checkEveryMs = Math.max(100, Math.min(1_000, o.headerTimeoutMs / 4));
  const server: NetServer | Http2SecureServer = o.tls !== undefined ? secureServer(o, checkEveryMs) : createNetServer({ allowHalfOpen: true });
  const limiter = new ConnLimiter(o.maxConnsPerIp);
  const h1 = new H1Conns({ maxHeaderBytes: o.maxHeaderBytes, headerTimeoutMs: o.headerTimeoutMs, keepAliveTimeoutMs: o.keepAliveTimeoutMs }, checkEveryMs);
  const h1Handlers: H1Handlers = {
    request: (req, res) => onRequest(req, res),
    upgrade: (req, res, head) => onUpgrade(req, res, head),
    refuse: (socket, status, res) => refuseConnection(core, socket as Tracked, status, res !== null, res?.headersSent === true),
  };

  // Our connection handling goes before TLS's: node's listeners are taken out of 'connection'
  // and called once the connection is admitted.
  const inner = server.listeners('connection') as Array<(s: Socket) => void>;
  server.removeAllListeners('connection');
  const proceed = (s: Socket): void => {
    if (o.tls === undefined) new H1Conn(s, h1, h1Handlers);
    else for (const f of inner) f.call(server, s);
  };
  server.on('connection', (s: Tracked) => {
    stats.connections++;
    track(s);
    if (core.closing) return void s.destroy();
    s.setNoDelay(true);
    const peer = plainIp(s.remoteAddress ?? '');
    const admit = (hopIp: string, hopPort: number, stream: Socket | Duplex = s): void => {
      if (!limiter.acquire(hopIp)) {
        stats.connLimited++;
        s.destroy();
        return;
      }
      const info: ConnInfo = {
        peerIp: peer,
        hopIp,
        hopPort,
        serverIp: plainIp(s.localAddress ?? ''),
        serverPort: s.localPort ?? 0,
        ssl: o.tls !== undefined,
        idleSince: performance.now(),
      };
      s[CONN] = info;
      (stream as Tracked)[CONN] = info;
      s.once('close', () => {
        limiter.release(hopIp);
        connectionClosed(info);
      });
      if (o.tls === undefined) {
        proceed(stream as Socket);
        return;
      }
      // TLS: the ClientHello is read first, for JA3/JA4 (node's TLS keeps the hello it parses to
      // itself), then everything read goes to the TLS layer ahead of the rest of the stream.
      readClientHello(stream as Socket, o.headerTimeoutMs, (prints, read, timedOut) => {
        if (timedOut) {
          // No whole hello within the header timeout: a slow client, closed like a slow request head.
          stats.headerTimeouts++;
          s.destroy();
          reportRefused(core, info, 408, 'tls_hello_timeout', core.ids.next());
          return;
        }
        if (prints !== null) {
          info.ja3 = prints.ja3;
          info.ja4 = prints.ja4;
        }
        if (s.destroyed) return;
        const next = read.length === 0 ? stream : new Prepended(stream as Socket, read);
        (next as Tracked)[CONN] = info;
        proceed(next as Socket);
        if (next === stream) (stream as Socket).resume();
      });
    };
    if (!o.proxyProtocol) return admit(peer, s.remotePort ?? 0);
    readProxyHeader(
      s,
      o.tls !== undefined,
      o.headerTimeoutMs,
      (src, port, stream) => admit(src ?? peer, src === undefined ? (s.remotePort ?? 0) : (port ?? 0), stream),
      () => {
        stats.proxyProtocolBad++;
        s.destroy();
      },
    );
  });

  const onRequest = (req: Req, res: Res): void => {
    new Exchange(core, req, res, connOf(req)).begin();
  };
  const onUpgrade = (req: IncomingMessage | H1Request, res: ServerResponse | H1Response, head: Buffer): void => {
    res.shouldKeepAlive = false;
    const x = new Exchange(core, req, res, connOf(req));
    x.upgradeHead = head;
    x.begin();
  };
  server.on('request', onRequest);
  server.on('checkContinue', onRequest);
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.once('finish', () => socket.end());
    onUpgrade(req, res, head);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => onClientError(err, socket as Tracked, core));
  server.on('tlsClientError', () => {
    stats.tlsErrors++;
  });
  server.on('session', (s: Http2Session) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  server.on('sessionError', () => {});

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e: Error) => o.log(`edge: server error: ${e.message}`));
  const a = server.address();
  const port = a !== null && typeof a === 'object' ? a.port : o.port;
  const host = o.host;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | null = null;

  return {
    address: () => ({ host, port }),
    url: `${o.tls !== undefined ? 'https' : 'http'}://${urlHost}:${port}`,
    stats: () => ({ ...stats }),
    close(): Promise<void> {
      closed ??= (async () => {
        core.closing = true;
        server.close();
        h1.closeIdle();
        for (const s of sessions) s.close();
        if (core.inflight > 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, o.shutdownTimeoutMs);
            t.unref();
            idle = () => {
              clearTimeout(t);
              resolve();
            };
          });
        }
        const cut = core.inflight > 0;
        for (const s of sockets) s.destroy();
        for (const s of sessions) s.destroy();
        core.watch.stop();
        h1.stop();
        await (cut ? upstream.destroy() : upstream.close());
        await core.log?.close();
      })();
      return closed;
    },
  };
}

function secureServer(o: ResolvedOptions, checkEveryMs: number): Http2SecureServer {
  const tls = o.tls as NonNullable<ResolvedOptions['tls']>;
  const s = createSecureServer({
    cert: tls.cert,
    key: tls.key,
    allowHTTP1: true,
    maxHeaderListPairs: o.maxHeaderCount + 4,
    settings: { maxHeaderListSize: o.maxHeaderBytes },
  });
  // HTTP/1.1 over TLS runs node:http's connection code with this server as its `this`.
  const h1 = s as unknown as {
    headersTimeout: number;
    requestTimeout: number;
    keepAliveTimeout: number;
    connectionsCheckingInterval: number;
    maxHeaderSize: number;
    maxHeadersCount: number;
  };
  h1.headersTimeout = o.headerTimeoutMs;
  // The whole-request timer would also cut slow but steady uploads; bodies have their own watch.
  h1.requestTimeout = 0;
  h1.keepAliveTimeout = o.keepAliveTimeoutMs;
  h1.connectionsCheckingInterval = checkEveryMs;
  h1.maxHeaderSize = o.maxHeaderBytes;
  // Node keeps only this many header lines: one more than allowed, so checkHead sees the excess.
  h1.maxHeadersCount = o.maxHeaderCount + 1;
  return s;
}

/** The connection facts of a request's connection, TLS details added on first use. */
function connOf(req: Req): ConnInfo {
  const sock = (req.httpVersionMajor === 2 ? (req as Http2ServerRequest).stream.session?.socket : req.socket) as Tracked | undefined;
  if (sock === undefined) return { peerIp: '', hopIp: '', hopPort: 0, serverIp: '', serverPort: 0, ssl: false };
  const have = sock[CONN];
  if (have !== undefined) return have;
  // A TLS socket: the facts are on the TCP socket it wraps (or, after a PROXY header whose
  // leftovers go through Prepended, on the stream node's JS stream wrapper holds).
  const base = sock._parent?.[CONN] ??
    tlsInner(sock)?.[CONN] ?? {
      peerIp: plainIp(sock.remoteAddress ?? ''),
      hopIp: plainIp(sock.remoteAddress ?? ''),
      hopPort: sock.remotePort ?? 0,
      serverIp: '',
      serverPort: sock.localPort ?? 0,
      ssl: true,
    };
  const t = sock as unknown as TLSSocket;
  const info: ConnInfo = { ...base, ssl: true };
  const sni = (t as { servername?: string | false }).servername;
  if (typeof sni === 'string') info.sni = sni;
  if (typeof t.alpnProtocol === 'string') info.alpn = t.alpnProtocol;
  info.tlsVersion = t.getProtocol?.() ?? undefined;
  info.tlsCipher = t.getCipher?.()?.name;
  sock[CONN] = info;
  sock.once('close', () => connectionClosed(info));
  return info;
}

/** What a TLS socket over a JS stream wraps (node's TLSWrap keeps it as `_parentWrap.stream`). */
function tlsInner(sock: Tracked): Tracked | undefined {
  const h = (sock as unknown as { _handle?: { _parentWrap?: { stream?: Tracked } } | null })._handle;
  return h?._parentWrap?.stream;
}

/** A client connection closed: the HTTP/1.1 exchanges still running or queued on it are abandoned. */
function connectionClosed(c: ConnInfo): void {
  const cur = c.current;
  c.current = null;
  cur?.connectionClosed();
  if (c.queue !== undefined) for (const q of c.queue.splice(0)) q.connectionClosed();
}

/**
 * Read a PROXY protocol header off a new connection before anyone else reads it; the bytes after
 * it are put back for the HTTP parser (or the TLS layer).
 */
function readProxyHeader(
  s: Socket,
  tls: boolean,
  timeoutMs: number,
  ok: (src: string | undefined, port: number | undefined, stream: Socket | Duplex) => void,
  bad: () => void,
): void {
  let buf: Buffer = Buffer.alloc(0);
  const timer = setTimeout(bad, timeoutMs);
  timer.unref();
  const onData = (d: Buffer): void => {
    buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
    const h = parseProxyHeader(buf);
    if (h.status === 'need') return;
    clearTimeout(timer);
    s.off('data', onData);
    if (h.status === 'bad') {
      bad();
      return;
    }
    const rest = buf.subarray(h.length);
    s.pause();
    const src = h.src === undefined ? undefined : plainIp(h.src);
    if (rest.length > 0 && tls) {
      // The TLS layer takes a socket's handle over and would never see bytes put back into
      // the socket's buffer: it gets a stream that gives them first (a slower path, taken only
      // when the client's first bytes came in the same segment as the PROXY header).
      ok(src, h.srcPort, new Prepended(s, rest));
      return;
    }
    // Paused, so the bytes put back stay buffered; they are read first once the HTTP/1.1
    // connection code (h1-conn.ts) listens and the socket is resumed.
    if (rest.length > 0) s.unshift(rest);
    ok(src, h.srcPort, s);
    s.resume();
  };
  s.on('data', onData);
  s.once('close', () => clearTimeout(timer));
}

/**
 * What node:http's parser refused (malformed heads, smuggling attempts, oversized heads, slow
 * heads): a short answer and the connection closed. Nothing of such a request reaches the origin.
 */
function onClientError(err: NodeJS.ErrnoException, socket: Tracked, core: EdgeCore): void {
  const code = err.code ?? '';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED') {
    socket.destroy();
    return;
  }
  const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const cur = (socket as unknown as { _httpMessage?: { headersSent: boolean } | null })._httpMessage;
  refuseConnection(core, socket, status, cur != null, cur?.headersSent === true);
}

/**
 * A head (or a chunked body) the parser refused, or a head that did not come in time: `status`
 * answered unless a response is under way (`inFlight`, its head sent: `headersSent`), then the
 * connection closed.
 */
function refuseConnection(core: EdgeCore, socket: Tracked, status: number, inFlight: boolean, headersSent: boolean): void {
  const stats = core.stats;
  if (status === 431) stats.headersTooLarge++;
  else if (status === 408) stats.headerTimeouts++;
  else stats.badRequests++;
  const info = socket[CONN] ?? socket._parent?.[CONN];
  if (info !== undefined) info.failed = status;
  const id = core.ids.next();
  if (socket.writable && !headersSent) {
    const reason = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-length: 0\r\n${REQUEST_ID_HEADER}: ${id}\r\nconnection: close\r\n\r\n`);
    setTimeout(() => socket.destroy(), 1_000).unref();
  } else socket.destroy();
  // with a request under way, its exchange logs how it ended; this is a refusal only without one
  if (info !== undefined && !inFlight) reportRefused(core, info, status, refusalName(status), id);
}
