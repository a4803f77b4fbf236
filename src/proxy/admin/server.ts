/**
 * The edge's admin listener (`palisade edge --admin HOST:PORT`): Prometheus metrics and a small
 * JSON API to see and change the rules at run time, for the people on shift and for automation.
 *
 *   GET    /metrics             Prometheus text (metrics.ts)
 *   GET    /api/health          {"ok":true, ...}
 *   GET    /api/stats           the gate's and the transport's counters
 *   GET    /api/rules           runtime rules and list entries (live/runtime-rules.ts), with the version
 *   POST   /api/rules           add one: a RuntimeSpec as JSON ({"type":"custom_rule"|"rate_limit"|"list", "id", ...});
 *                                `ttl_s` sets an expiry; the origin is always "admin"
 *   DELETE /api/rules/{id}      remove one (an admin's or live protection's)
 *   GET    /api/decisions       live L7 protection's decisions (its audit trail), newest last
 *   GET    /api/requests        the request stream: every exchange finished from now on, one access-log
 *                                line (JSON, HttpRequest) each, as NDJSON (`palisade monitor --edge`)
 *
 * Safe by default: it refuses to listen on an address other than loopback without a token, and
 * with a token every request must carry `Authorization: Bearer <token>` (compared in constant
 * time). Bodies are JSON up to 64 KiB. Every change is written to the audit log (`audit`).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { PalisadeError, UsageError } from '../../core/errors.js';
import type { EdgeRequest, Outcome } from '../gate.js';
import type { RuntimeSpec } from '../live/runtime-rules.js';
import type { EdgeGate } from '../phases/pipeline.js';
import type { EdgeStats } from '../stats.js';
import type { EdgeMetrics } from './metrics.js';

export const MAX_ADMIN_BODY = 64 * 1024;

export interface AdminOptions {
  host: string;
  port: number;
  /** Bearer token; required when `host` is not a loopback address. */
  token?: string | null;
}

export interface AdminDeps {
  /** The gate, or a function giving the current one (a config reload replaces it). */
  gate: EdgeGate | (() => EdgeGate);
  metrics: EdgeMetrics;
  /** The transport's counters (absent in tests of the API alone). */
  edgeStats?: () => EdgeStats;
  /** Live L7 protection's decisions, when it runs. */
  decisions?: () => readonly unknown[];
  /** Follow the finished exchanges (the request stream); returns the unfollow function. */
  requests?: (f: (req: EdgeRequest, o: Outcome) => void) => () => void;
  /** Where changes are written, one JSON line each (default stderr). */
  audit?: (line: string) => void;
  /** More Prometheus text for /metrics (the cluster's bus and edge node when clustered). */
  extraMetrics?: () => string;
  now?: () => number;
}

/** A request stream's reader this far behind (bytes unsent) loses lines, counted, rather than hold the edge's memory. */
const STREAM_BACKLOG = 8 << 20;

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? `${JSON.stringify(body, null, 2)}\n` : String(body);
  res.writeHead(status, {
    'content-type': type === 'application/json' ? 'application/json; charset=utf-8' : type,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new HttpError(415, 'send the rule as application/json');
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > MAX_ADMIN_BODY) throw new HttpError(413, `body over ${MAX_ADMIN_BODY} bytes`);
    chunks.push(c);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new HttpError(400, `not JSON: ${(e as Error).message}`);
  }
}

function authorised(req: IncomingMessage, token: string | null): boolean {
  if (token === null) return true;
  const h = req.headers.authorization ?? '';
  const want = Buffer.from(`Bearer ${token}`);
  const got = Buffer.from(h);
  return got.length === want.length && timingSafeEqual(got, want);
}

export async function startAdmin(opts: AdminOptions, deps: AdminDeps): Promise<AdminServer> {
  const token = opts.token ?? null;
  if (!isLoopback(opts.host) && token === null)
    throw new UsageError(`--admin ${opts.host}:${opts.port}: an admin listener off loopback needs a token (--admin-token or PALISADE_ADMIN_TOKEN)`);
  const now = deps.now ?? Date.now;
  const audit = deps.audit ?? ((l: string) => process.stderr.write(`${l}\n`));
  const gateNow = (): EdgeGate => (typeof deps.gate === 'function' ? deps.gate() : deps.gate);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const gate = gateNow();
    const runtime = gate.runtime;
    if (!authorised(req, token)) {
      res.setHeader('www-authenticate', 'Bearer');
      throw new HttpError(401, 'a bearer token is required');
    }
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/metrics' && method === 'GET') {
      send(
        res,
        200,
        deps.metrics.render(gate.stats, deps.edgeStats?.() ?? null, {
          palisade_edge_runtime_rules: { help: 'Runtime rules and list entries installed (admin and live protection).', value: runtime.size },
        }) + (deps.extraMetrics?.() ?? ''),
        'text/plain; version=0.0.4; charset=utf-8',
      );
      return;
    }
    if (path === '/api/health' && method === 'GET') return send(res, 200, { ok: true, time: new Date(now()).toISOString(), runtime_rules: runtime.size });
    if (path === '/api/stats' && method === 'GET') return send(res, 200, { gate: gate.stats, transport: deps.edgeStats?.() ?? null, streams });
    if (path === '/api/decisions' && method === 'GET') return send(res, 200, { decisions: deps.decisions?.() ?? [], live: deps.decisions !== undefined });
    if (path === '/api/rules' && method === 'GET') return send(res, 200, { version: runtime.version, rules: runtime.list() });
    if (path === '/api/requests' && method === 'GET') return streamRequests(req, res);
    if (path === '/api/rules' && method === 'POST') {
      const body = await readJson(req);
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'a rule is a JSON object');
      const { ttl_s, ...rest } = body as Record<string, unknown>;
      let expiresMs: number | null = (rest.expiresMs as number | null | undefined) ?? null;
      if (ttl_s !== undefined) {
        if (typeof ttl_s !== 'number' || !(ttl_s > 0)) throw new HttpError(400, 'ttl_s must be a number of seconds above 0');
        expiresMs = now() + ttl_s * 1000;
      }
      const spec = { ...rest, origin: 'admin', expiresMs } as unknown as RuntimeSpec;
      const entry = runtime.add(spec);
      audit(JSON.stringify({ time: new Date(now()).toISOString(), event: 'admin_add', entry }));
      return send(res, 201, { version: runtime.version, rule: entry });
    }
    const m = /^\/api\/rules\/([^/]+)$/.exec(path);
    if (m && method === 'DELETE') {
      const id = decodeURIComponent(m[1] as string);
      const entry = runtime.get(id);
      if (entry === undefined || !runtime.remove(id)) throw new HttpError(404, `no runtime rule or list with id "${id}"`);
      audit(JSON.stringify({ time: new Date(now()).toISOString(), event: 'admin_remove', entry }));
      return send(res, 200, { version: runtime.version, removed: entry });
    }
    if (m && method === 'GET') {
      const entry = runtime.get(decodeURIComponent(m[1] as string));
      if (entry === undefined) throw new HttpError(404, 'no such runtime rule');
      return send(res, 200, entry);
    }
    throw new HttpError(404, `no ${method} ${path} (see /api/health, /api/rules, /api/requests, /api/decisions, /api/stats, /metrics)`);
  };

  // The request stream: every finished exchange from now on, one access-log line (the edge's JSON
  // log format, HttpRequest) each, as NDJSON — what `palisade monitor --edge` reads. A reader that
  // falls behind loses lines (counted in /api/stats as streams.dropped), never the edge's memory.
  const streams = { open: 0, sent: 0, dropped: 0 };
  const streamRequests = (req: IncomingMessage, res: ServerResponse): void => {
    if (deps.requests === undefined) throw new HttpError(404, 'this edge has no request stream');
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
    res.flushHeaders();
    streams.open++;
    const off = deps.requests((r, o) => {
      const rec = r.record?.(o);
      if (rec === undefined) return;
      if (res.writableLength > STREAM_BACKLOG) {
        streams.dropped++;
        return;
      }
      streams.sent++;
      res.write(`${JSON.stringify(rec)}\n`);
    });
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      streams.open--;
      off();
    };
    req.once('close', close);
    res.once('close', close);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // A bad spec or expression is the caller's mistake (400), with the engine's own message.
      const status = e instanceof HttpError ? e.status : e instanceof PalisadeError ? 400 : 500;
      const message = e instanceof Error ? e.message : String(e);
      if (!res.headersSent) send(res, status, { error: message });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address();
  const port = typeof a === 'object' && a !== null ? a.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
