/**
 * A `palisade serve` API on 127.0.0.1:0 over a real store (SQLite file or PostgreSQL schema),
 * with one account and API token per role, a workspace (ruleset file in a temp dir) attached as
 * serve attaches it, and helpers to call it with a token or a session cookie.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/incidents/store/open.js';
import type { Role, Store } from '../../src/incidents/store/store.js';
import { responseProblem } from '../../src/model/validate.js';
import { hashPassword, newToken } from '../../src/server/auth.js';
import { pathMatcher } from '../../src/server/http.js';
import { type ApiServer, createApiServer, listen, type ServerOptions } from '../../src/server/server.js';
import type { Workspace } from '../../src/server/workspace.js';
import type { TestBackend, TestDb } from '../incidents/store/backends.js';

export const PASSWORD = 'correct horse battery staple';
export const ROLES: Role[] = ['viewer', 'operator', 'admin'];

export interface ServerFixture {
  db: TestDb;
  store: Store;
  api: ApiServer;
  base: string;
  tokens: Record<Role, string>;
  /** Directory of the ruleset file and anything else a test writes. */
  dir: string;
  workspace: Workspace;
}

/** What a test may set of the server: cookies' Secure flag (default off: plain http on loopback), login limits. */
export type ServerFixtureOptions = Partial<Pick<ServerOptions, 'secureCookies' | 'perAccount' | 'perAddress'>>;

export async function startServer(backend: TestBackend, opts: ServerFixtureOptions = {}): Promise<ServerFixture> {
  const db = await backend.create();
  const store = await openStore(db.spec);
  const hash = await hashPassword(PASSWORD);
  const tokens = {} as Record<Role, string>;
  for (const role of ROLES) {
    await store.createAccount({ name: role, role, password_hash: hash, created_at: new Date().toISOString(), created_by: 'test' });
    const t = newToken();
    await store.addToken({ id: t.id, account: role, name: 'test', secret_hash: t.secretHash, created_at: new Date().toISOString() });
    tokens[role] = t.token;
  }
  const dir = mkdtempSync(join(tmpdir(), 'palisade-serve-ws-'));
  const workspace: Workspace = { rulesFile: join(dir, 'rules.yaml'), recording: null };
  const api = createApiServer({ store, secureCookies: false, ...opts, log: () => {}, workspace });
  const addr = await listen(api.server, '127.0.0.1', 0);
  return { db, store, api, base: `http://127.0.0.1:${addr.port}`, tokens, dir, workspace };
}

export async function stopServer(f: ServerFixture): Promise<void> {
  f.api.server.closeAllConnections();
  await new Promise<void>((r) => f.api.server.close(() => r()));
  await f.store.close();
  await f.db.drop();
  rmSync(f.dir, { recursive: true, force: true });
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * A request to the fixture's server. Every 200/201 JSON answer of a route that declares its
 * response schema (Route.response, the OpenAPI document's) is checked against it here, so each
 * test of an endpoint also holds its answers to the documented shape.
 */
export async function call(f: Pick<ServerFixture, 'base' | 'api'>, method: string, path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${f.base}${path}`, { method, headers, ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }) });
  const pathname = new URL(path, f.base).pathname;
  const route = f.api.routes.find((r) => r.method === method && pathMatcher(r.path).re.test(pathname));
  if (route?.response !== undefined && (res.status === 200 || res.status === 201) && (res.headers.get('content-type') ?? '').startsWith('application/json')) {
    const problem = responseProblem(await res.clone().json(), route.response);
    assert.equal(problem, null, `${method} ${path}: the answer breaks its documented schema`);
  }
  return res;
}

/** Logs `name` in: the cookie header to send and the CSRF token. */
export async function session(f: ServerFixture, name: string): Promise<{ cookie: string; csrf: string }> {
  const r = await call(f, 'POST', '/api/login', { body: { name, password: PASSWORD } });
  if (r.status !== 200) throw new Error(`login ${name}: ${r.status}`);
  const { csrf_token } = (await r.json()) as { csrf_token: string };
  return {
    cookie: r.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; '),
    csrf: csrf_token,
  };
}

/** A route's answers to the three refusals every state-changing route must give. */
export async function refusals(
  f: ServerFixture,
  method: string,
  path: string,
  body: unknown,
  weaker: Role | null,
): Promise<{ anonymous: number; weaker: number | null; noCsrf: number }> {
  const anonymous = (await call(f, method, path, { body })).status;
  const w = weaker === null ? null : (await call(f, method, path, { token: f.tokens[weaker], body })).status;
  const s = await session(f, 'admin');
  const noCsrf = (await call(f, method, path, { headers: { cookie: s.cookie }, body })).status;
  return { anonymous, weaker: w, noCsrf };
}
