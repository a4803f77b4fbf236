/**
 * The origins: one connection pool each (origin-pool.ts: keep-alive, no pipelining), chosen round robin, with passive
 * health: an origin whose connections fail is skipped for a cool-down, then tried again. When all
 * are cooling down, the one that comes back first is tried rather than failing outright.
 */
import { OriginPool } from './origin-pool.js';

export interface UpstreamOptions {
  connectTimeoutMs: number;
  /** Origin response head must arrive within this. */
  headersTimeoutMs: number;
  /** Longest pause between origin response body chunks. */
  bodyTimeoutMs: number;
  /** Idle keep-alive time of an origin connection. */
  keepAliveTimeoutMs: number;
  /** Connections per origin (per worker); null for no cap. */
  connections: number | null;
  /** How long a failing origin is skipped. */
  coolDownMs: number;
}

export class Origin {
  readonly pool: OriginPool;
  /** Host and port to connect to (raw upgrade piping). */
  readonly hostname: string;
  readonly port: number;
  readonly tls: boolean;
  downUntil = 0;
  failures = 0;
  constructor(
    readonly url: URL,
    o: UpstreamOptions,
  ) {
    this.tls = url.protocol === 'https:';
    this.hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.port = url.port !== '' ? Number(url.port) : this.tls ? 443 : 80;
    this.pool = new OriginPool(this.hostname, this.port, this.tls, {
      connections: o.connections,
      connectTimeoutMs: o.connectTimeoutMs,
      headersTimeoutMs: o.headersTimeoutMs,
      bodyTimeoutMs: o.bodyTimeoutMs,
      keepAliveTimeoutMs: o.keepAliveTimeoutMs,
    });
  }
}

/** Errors that mean we never got a connection: safe to say "origin down" and to try another. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ORIGIN_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);

export function isConnectError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code !== undefined && CONNECT_ERRORS.has(code);
}

export class Upstream {
  readonly origins: Origin[];
  private next = 0;
  constructor(
    urls: readonly string[],
    private readonly o: UpstreamOptions,
  ) {
    this.origins = urls.map((u) => new Origin(new URL(u), o));
  }

  /** The next origin in turn that is not cooling down, skipping `avoid` when there is another. */
  pick(nowMs: number, avoid?: Origin): Origin {
    const os = this.origins;
    const n = os.length;
    if (n === 1) return os[0] as Origin;
    let best: Origin | undefined;
    for (let k = 0; k < n; k++) {
      const o = os[this.next] as Origin;
      this.next = this.next + 1 === n ? 0 : this.next + 1;
      if (o === avoid) continue;
      if (o.downUntil <= nowMs) return o;
      if (best === undefined || o.downUntil < best.downUntil) best = o;
    }
    return best ?? (os[0] as Origin);
  }

  failed(o: Origin, nowMs: number): void {
    o.failures++;
    o.downUntil = nowMs + this.o.coolDownMs;
  }

  ok(o: Origin): void {
    if (o.failures !== 0) {
      o.failures = 0;
      o.downUntil = 0;
    }
  }

  /** Waits for in-flight origin requests, then closes the pools. */
  async close(): Promise<void> {
    await Promise.all(this.origins.map((o) => o.pool.close()));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.origins.map((o) => o.pool.destroy()));
  }
}
