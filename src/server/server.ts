/**
 * `palisade serve`'s HTTP server: node:http and one route table (api.ts with the route modules it
 * gathers, attacks-api.ts, proxies-api.ts, stream.ts), with authentication, roles, CSRF and body
 * validation done here, once, before any handler runs; every path outside /api is the console's
 * static files (static.ts), open to all, as the login page is.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Store } from '../incidents/store/store.js';
import { requestProblem } from '../model/validate.js';
import { apiRoutes } from './api.js';
import { attackRoutes } from './attacks-api.js';
import { allows, type Context, HttpError, type Principal, pathMatcher, type Route, readBody, send } from './http.js';
import { type LoginOptions, LoginService } from './login.js';
import { openApiDocument } from './openapi.js';
import { type EdgeAdmin, proxyRoutes } from './proxies-api.js';
import { isStaticPath, staticFiles } from './static.js';
import { type StreamDeps, streamRoutes } from './stream.js';
import type { Workspace } from './workspace.js';

export interface ServerOptions extends LoginOptions {
  store: Store;
  /** Where problems of the server itself go (a handler that throws): stderr by default. */
  log?: (line: string) => void;
  /** The console's build (default dist/web of this package); a missing one makes / a 503 page saying to build. */
  web?: string;
  /** The live stats stream's pace (tests make it quick). */
  stream?: Pick<StreamDeps, 'pollMs' | 'heartbeatMs'>;
  /** The ruleset file and recorded traffic the rules API works on (absent: those routes answer 503). */
  workspace?: Workspace;
  /** Edge proxies whose health GET /api/proxies reports (their admin APIs). */
  proxies?: readonly EdgeAdmin[];
}

export interface ApiServer {
  server: Server;
  routes: readonly Route[];
  openapi: Record<string, unknown>;
}

export function createApiServer(opts: ServerOptions): ApiServer {
  const login = new LoginService(opts.store, opts);
  let doc: Record<string, unknown> = {};
  // the stream ends its connections once the server stops listening, so close() is not held open
  let server: Server | null = null;
  const routes = [
    ...apiRoutes({ store: opts.store, login, openapi: () => doc, workspace: opts.workspace ?? null }),
    ...proxyRoutes(opts.proxies ?? []),
    ...attackRoutes(opts.store),
    ...streamRoutes({ store: opts.store, serving: () => server?.listening === true, ...opts.stream }),
  ];
  doc = openApiDocument(routes);
  const table = routes.map((r) => ({ route: r, ...pathMatcher(r.path) }));
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const serveStatic = staticFiles(opts.web);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://palisade.invalid');
    const method = req.method ?? 'GET';
    if (isStaticPath(url.pathname)) return serveStatic(req, res, url.pathname);
    let route: Route | null = null;
    let params: Record<string, string> = {};
    let pathKnown = false;
    for (const t of table) {
      const m = t.re.exec(url.pathname);
      if (m === null) continue;
      pathKnown = true;
      if (t.route.method !== method) continue;
      route = t.route;
      try {
        params = Object.fromEntries(t.names.map((n, i) => [n, decodeURIComponent(m[i + 1] as string)]));
      } catch {
        throw new HttpError(400, `${url.pathname}: a malformed %-escape in the path`);
      }
      break;
    }
    const changes = method !== 'GET' && method !== 'HEAD';
    let principal: Principal | null = null;
    // Only health and login are open: anything else, a path we do not serve included, asks for credentials first.
    if (route === null || route.role !== null) {
      principal = await login.authenticate(req, changes);
      if (principal === null)
        throw new HttpError(401, 'authentication required: log in (POST /api/login) or send Authorization: Bearer <token>', {}, { 'www-authenticate': 'Bearer' });
    }
    if (route === null) throw pathKnown ? new HttpError(405, `${method} is not served at ${url.pathname}`) : new HttpError(404, `no such endpoint: ${url.pathname}`);
    if (route.role !== null && !allows((principal as Principal).role, route.role))
      throw new HttpError(403, `this needs the ${route.role} role; ${(principal as Principal).name} is ${(principal as Principal).role}`);
    let body: unknown;
    if (route.body !== undefined) {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      const raw = await readBody(req);
      // An empty body is an empty object (ack takes none); anything else must say it is JSON.
      if (raw.trim() === '') body = {};
      else {
        if (type !== 'application/json') throw new HttpError(415, 'send the body as application/json');
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, 'the body is not valid JSON');
        }
      }
      const problem = requestProblem(body, route.body);
      if (problem !== null) throw new HttpError(400, problem, { field: problem.slice(0, problem.indexOf(':')) });
    }
    const ctx: Context = { url, params, principal, body, address: req.socket.remoteAddress ?? '', req };
    send(res, await route.handler(ctx));
  };

  server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) return send(res, { status: err.status, json: { error: err.message, ...err.extra }, headers: err.headers });
      log(`palisade serve: ${req.method} ${req.url}: ${(err as Error)?.stack ?? err}`);
      send(res, { status: 500, json: { error: 'internal error (logged by the server)' } });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return { server, routes, openapi: doc };
}

/** Listens on host:port (port 0: any free one) and resolves with the address it got. */
export function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** Loopback: the one place cookies may go without Secure (plain http://127.0.0.1 in development). */
export function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
