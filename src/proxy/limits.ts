/**
 * Slow and abusive clients (issue 16 item 7) beyond the HTTP server's own limits: a cap on
 * concurrent connections per client address, and a request body that trickles in (a minimum
 * rate after a grace period, and a longest pause). Slow and oversized request heads are the
 * server's (h1-conn.ts for plain HTTP/1.1, node's headersTimeout and maxHeaderSize over TLS),
 * answered 408 and 431 by server.ts.
 * One timer per edge checks the bodies in flight, so a slow body costs no timer of its own.
 */

/** Concurrent connections per address. */
export class ConnLimiter {
  private readonly open = new Map<string, number>();
  constructor(readonly perIp: number) {}

  /** Count one more connection from `ip`; false (and not counted) when it is over the limit. */
  acquire(ip: string): boolean {
    const n = this.open.get(ip) ?? 0;
    if (n >= this.perIp) return false;
    this.open.set(ip, n + 1);
    return true;
  }

  release(ip: string): void {
    const n = this.open.get(ip) ?? 0;
    if (n <= 1) this.open.delete(ip);
    else this.open.set(ip, n - 1);
  }

  count(ip: string): number {
    return this.open.get(ip) ?? 0;
  }
}

/** A request body being read: what the watch needs from it. */
export interface Upload {
  /** performance.now() when the body started, and when bytes last came. */
  bodyStart: number;
  lastData: number;
  bytesIn: number;
  /** Called once when the body is too slow. */
  tooSlow(reason: 'slow_body' | 'body_timeout'): void;
}

export interface BodyRules {
  /** Longest pause between body bytes (ms). */
  idleMs: number;
  /** Bytes per second the body must average once `graceMs` have passed; 0 for no minimum. */
  minRate: number;
  graceMs: number;
}

export class BodyWatch {
  private readonly live = new Set<Upload>();
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly rules: BodyRules,
    private readonly tickMs = 500,
  ) {}

  add(u: Upload): void {
    this.live.add(u);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(performance.now()), this.tickMs);
      this.timer.unref();
    }
  }

  delete(u: Upload): void {
    this.live.delete(u);
    if (this.live.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private sweep(now: number): void {
    const r = this.rules;
    for (const u of this.live) {
      const age = now - u.bodyStart;
      let why: 'slow_body' | 'body_timeout' | undefined;
      if (now - u.lastData > r.idleMs) why = 'body_timeout';
      else if (r.minRate > 0 && age > r.graceMs && (u.bytesIn * 1000) / age < r.minRate) why = 'slow_body';
      if (why !== undefined) {
        this.delete(u);
        u.tooSlow(why);
      }
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.live.clear();
  }
}
