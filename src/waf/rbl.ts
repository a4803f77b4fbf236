/**
 * `@rbl zone`: is the address listed in a DNS block list? The query is the address reversed
 * under the zone (`4.3.2.1.zone.` for 1.2.3.4; nibbles for IPv6), listed when it has an A record
 * in 127.0.0.0/8 (Spamhaus' 127.255.255.x error answers excepted).
 *
 * The WAF evaluates synchronously, DNS is not: the operator answers from a cache, and the
 * application fills the cache before evaluating (`Waf.prepare(request)`, which looks up the
 * client address in every zone whose rule has run, bounded by the timeout). A value the cache
 * has not seen (the first request after start, a rule on another variable, no prepare) does not
 * match and starts a lookup, so the next request from that address is judged on the answer. Answers are kept `ttlMs` (a
 * listing), `negativeTtlMs` (not listed); failures (timeout, SERVFAIL) are not cached.
 */
import { Resolver } from 'node:dns/promises';
import { parseAddr } from '../core/net/prefix.js';

export interface RblOptions {
  /** DNS servers (`ip` or `ip:port`); default: the system's. */
  servers?: string[];
  /** Bound on one lookup (ms, default 500). */
  timeoutMs?: number;
  /** How long an answer is kept (ms): listed (default 300 s) and not listed (default 60 s). */
  ttlMs?: number;
  negativeTtlMs?: number;
  /** Bound on cached answers (default 65536; a full cache is cleared). */
  maxEntries?: number;
}

interface Answer {
  listed: boolean;
  until: number;
}

/** The DNS name to query for `ip` under `zone`, or null when `ip` is not an address. */
export function rblQueryName(ip: string, zone: string): string | null {
  const a = parseAddr(ip.trim());
  if (a === null) return null;
  const z = zone.replace(/\.$/, '');
  const b = a.addr;
  if (a.family === 4) return `${b[3]}.${b[2]}.${b[1]}.${b[0]}.${z}`;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) {
    const x = b[i] as number;
    nibbles.push((x & 15).toString(16), (x >> 4).toString(16));
  }
  return `${nibbles.join('.')}.${z}`;
}

function listedAnswer(addrs: string[]): boolean {
  for (const a of addrs) if (a.startsWith('127.') && !a.startsWith('127.255.255.')) return true;
  return false;
}

export class RblResolver {
  private readonly resolver: Resolver;
  private readonly cache = new Map<string, Answer>();
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  /** Zones the rules name (filled as operators are compiled). */
  readonly zones = new Set<string>();
  /**
   * Zones whose rule has run at least once: only these are looked up ahead (`prepare`), so a
   * rule the configuration skips (the CRS's httpbl rule without an API key) makes no DNS traffic.
   */
  readonly active = new Set<string>();
  /** Lookups made, answered from the cache, failed. */
  readonly stats = { lookups: 0, hits: 0, failures: 0 };

  constructor(opts: RblOptions = {}) {
    this.resolver = new Resolver({ timeout: opts.timeoutMs ?? 500, tries: 1 });
    if (opts.servers !== undefined) this.resolver.setServers(opts.servers);
    this.ttlMs = opts.ttlMs ?? 300_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 60_000;
    this.maxEntries = opts.maxEntries ?? 65536;
  }

  /** The cached answer: listed or not, undefined when unknown (then a lookup starts). */
  cached(ip: string, zone: string): boolean | undefined {
    if (!this.active.has(zone)) this.active.add(zone);
    const key = `${zone}\u0000${ip}`;
    const a = this.cache.get(key);
    if (a !== undefined && a.until > Date.now()) {
      this.stats.hits++;
      return a.listed;
    }
    this.lookup(ip, zone).catch(() => {});
    return undefined;
  }

  /** Look `ip` up in `zone` (joins a lookup in flight); false when not an address or the lookup fails. */
  lookup(ip: string, zone: string): Promise<boolean> {
    const key = `${zone}\u0000${ip}`;
    const a = this.cache.get(key);
    if (a !== undefined && a.until > Date.now()) return Promise.resolve(a.listed);
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const name = rblQueryName(ip, zone);
    if (name === null) return Promise.resolve(false);
    this.stats.lookups++;
    const p = this.resolver
      .resolve4(name)
      .then(
        (addrs) => this.remember(key, listedAnswer(addrs)),
        (e: NodeJS.ErrnoException) => {
          // Not listed: the name does not exist (or has no A record). Anything else is a failure, not an answer.
          if (e.code === 'ENOTFOUND' || e.code === 'ENODATA') return this.remember(key, false);
          this.stats.failures++;
          return false;
        },
      )
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private remember(key: string, listed: boolean): boolean {
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(key, { listed, until: Date.now() + (listed ? this.ttlMs : this.negativeTtlMs) });
    return listed;
  }

  /** Look `ip` up in every zone whose rule has run, so evaluation finds the answers cached. */
  async prepare(ip: string): Promise<void> {
    if (this.active.size === 0) return;
    const all: Promise<boolean>[] = [];
    for (const z of this.active) all.push(this.lookup(ip, z));
    await Promise.all(all);
  }

  cancel(): void {
    this.resolver.cancel();
  }
}
