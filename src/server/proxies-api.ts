/**
 * The edge proxies `palisade serve` was told about (--edge URL, their admin APIs) and their
 * health: each is asked for GET /api/health and GET /api/stats with a short timeout, so a proxy
 * that is down or hung shows as down with the reason instead of holding the page. Answers are
 * kept for a couple of seconds: a room of consoles refreshing does not multiply the probes.
 */
import type { Route } from './http.js';

export interface EdgeAdmin {
  /** The admin API's base URL (palisade edge --admin HOST:PORT), e.g. http://127.0.0.1:9901. */
  url: string;
  /** Its bearer token (--admin-token), when it has one. */
  token: string | null;
}

export interface ProxyHealth {
  url: string;
  up: boolean;
  /** When it was asked (ISO-8601) and how long the health answer took. */
  checked_at: string;
  latency_ms: number | null;
  /** Why it is down: a status, a refused connection, a timeout. */
  error: string | null;
  /** Its clock and the runtime rules and list entries it has installed. */
  time: string | null;
  runtime_rules: number | null;
  /** Its gate's counters (requests, decisions by phase and action) and transport figures, as it reports them. */
  stats: unknown;
}

const TIMEOUT_MS = 2000;
const CACHE_MS = 2000;

async function getJson(a: EdgeAdmin, path: string): Promise<unknown> {
  const res = await fetch(new URL(path, a.url), {
    headers: a.token === null ? {} : { authorization: `Bearer ${a.token}` },
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`${path}: HTTP ${res.status}${res.status === 401 ? ' (wrong or missing --edge-token)' : ''}`);
  }
  return res.json();
}

export async function probe(a: EdgeAdmin, now: () => number = Date.now): Promise<ProxyHealth> {
  const t0 = now();
  const base = { url: a.url, checked_at: new Date(t0).toISOString() };
  try {
    const health = (await getJson(a, '/api/health')) as { time?: string; runtime_rules?: number };
    const latency = now() - t0;
    const stats = await getJson(a, '/api/stats');
    return { ...base, up: true, latency_ms: latency, error: null, time: health.time ?? null, runtime_rules: health.runtime_rules ?? null, stats };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    const why = err.name === 'TimeoutError' ? `no answer in ${TIMEOUT_MS} ms` : (err.cause?.code ?? err.message);
    return { ...base, up: false, latency_ms: null, error: why, time: null, runtime_rules: null, stats: null };
  }
}

export function proxyRoutes(proxies: readonly EdgeAdmin[], now: () => number = Date.now): Route[] {
  let cached: { at: number; answer: Promise<ProxyHealth[]> } | null = null;
  return [
    {
      method: 'GET',
      path: '/api/proxies',
      summary: `The edge proxies this server was given (palisade serve --edge URL) and their health: up or down with the reason, latency, clock, runtime rules, their counters; each asked with a ${TIMEOUT_MS} ms timeout, answers kept ${CACHE_MS} ms`,
      role: 'viewer',
      handler: async () => {
        const t = now();
        if (cached === null || t - cached.at >= CACHE_MS) cached = { at: t, answer: Promise.all(proxies.map((p) => probe(p, now))) };
        return { json: await cached.answer };
      },
    },
  ];
}
