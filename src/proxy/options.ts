/**
 * What `palisade edge` (and `startEdge` in-process) can be told, with the defaults. Times in
 * milliseconds, sizes in bytes. The CLI maps its flags one to one onto these names.
 */
import type { Writable } from 'node:stream';
import type { Clock } from '../core/clock.js';

export interface EdgeOptions {
  /** Address to listen on; port 0 picks one (read it back with `edge.address()`). */
  host: string;
  port: number;
  /** Origin base URLs (`http://127.0.0.1:9000`); several are taken round robin. */
  origins: readonly string[];
  /** PEM certificate and key: the listener speaks TLS with ALPN h2 and http/1.1. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** CIDRs whose X-Forwarded-For, Forwarded and request id are believed. */
  trustedProxies?: readonly string[];
  /** Expect a PROXY protocol v1 or v2 header before each connection's first byte. */
  proxyProtocol?: boolean;
  /** JSON access log: a file path, `-` for stdout, or a stream. */
  accessLog?: string | Writable;
  /** Injected clock for the request timestamps (replay and tests); default the wall clock. */
  clock?: Clock;
  /** Where the edge says what goes wrong (a gate that throws, a log that fails). Default stderr. */
  log?: (line: string) => void;

  connectTimeoutMs?: number;
  /** Origin response head (`--origin-timeout`). */
  originTimeoutMs?: number;
  /** Longest pause in the origin's response body. */
  originBodyTimeoutMs?: number;
  originKeepAliveMs?: number;
  /** Connections per origin per worker (default 256). */
  originConnections?: number;
  /** How long an origin whose connections fail is skipped. */
  originCoolDownMs?: number;
  /** Whole request head must arrive within this (slowloris): 408 and the connection closed. */
  headerTimeoutMs?: number;
  /** Longest pause in a request body. */
  bodyTimeoutMs?: number;
  /** Request bodies must average at least this many bytes per second after `bodyGraceMs`. */
  minBodyRate?: number;
  bodyGraceMs?: number;
  /** Idle time of a client keep-alive connection. */
  keepAliveTimeoutMs?: number;
  maxHeaderBytes?: number;
  maxHeaderCount?: number;
  maxBodyBytes?: number;
  maxConnsPerIp?: number;
  /** close(): how long in-flight requests may take before their connections are cut. */
  shutdownTimeoutMs?: number;
  /** cluster workers share the listen socket: set by workers.ts, not by users. */
  exclusive?: boolean;
}

export type ResolvedOptions = Required<Omit<EdgeOptions, 'tls' | 'accessLog' | 'clock' | 'log' | 'trustedProxies'>> &
  Pick<EdgeOptions, 'tls' | 'accessLog'> & { clock: Clock; log: (line: string) => void; trustedProxies: readonly string[] };

export const DEFAULTS = {
  connectTimeoutMs: 5_000,
  originTimeoutMs: 30_000,
  originBodyTimeoutMs: 30_000,
  originKeepAliveMs: 4_000,
  originConnections: 256,
  originCoolDownMs: 5_000,
  headerTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  minBodyRate: 512,
  bodyGraceMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxBodyBytes: 10 * 1024 * 1024,
  maxConnsPerIp: 256,
  shutdownTimeoutMs: 10_000,
} as const;

const WALL: Clock = { nowMs: () => Date.now() };

export function resolveOptions(o: EdgeOptions): ResolvedOptions {
  if (o.origins.length === 0) throw new RangeError('at least one origin is needed');
  for (const u of o.origins) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw new RangeError(`origin is not a URL: ${u}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`origin must be http:// or https://, not ${u}`);
    if (url.pathname !== '/' || url.search !== '') throw new RangeError(`origin must be scheme://host:port without a path: ${u}`);
  }
  return {
    ...DEFAULTS,
    proxyProtocol: false,
    exclusive: true,
    ...stripUndefined(o),
    trustedProxies: o.trustedProxies ?? [],
    clock: o.clock ?? WALL,
    log: o.log ?? ((line) => process.stderr.write(`${line}\n`)),
  } as ResolvedOptions;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
