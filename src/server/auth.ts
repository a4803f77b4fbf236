/**
 * Credentials for `palisade serve`: scrypt password hashes (a salt per account, the parameters
 * kept in the hash text so they can be raised later), random API tokens and session ids of which
 * only a SHA-256 is stored, constant-time comparisons, and the login rate limiter.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt cost: N = 2^15, r = 8, p = 1 (32 MiB, ~50-100 ms on one core): OWASP's minimum or above. */
const SCRYPT = { N: 1 << 15, r: 8, p: 1 } as const;
const KEY_LEN = 32;
const SALT_LEN = 16;
/** Node's default maxmem (32 MiB) is exactly 128·N·r: scrypt needs a little headroom above it. */
const MAXMEM = 64 * 1024 * 1024;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, KEY_LEN, { N: n, r, p, maxmem: MAXMEM }, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$key`, salt and key in base64. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_LEN);
  const key = await scryptAsync(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** True when `password` is the one `hash` was made from; false for a malformed hash. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4] as string, 'base64');
  const want = Buffer.from(parts[5] as string, 'base64');
  if (!Number.isInteger(n) || !Number.isInteger(r) || !Number.isInteger(p) || want.length !== KEY_LEN) return false;
  const got = await scryptAsync(password, salt, n, r, p);
  return timingSafeEqual(got, want);
}

/** A hash to check against when the account does not exist, so a wrong name costs as long as a wrong password. */
let decoy: Promise<string> | null = null;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}

/** A random secret, URL-safe: 32 bytes (256 bits) by default. */
export function secret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** What is stored for a token or a session id: SHA-256 hex (the secret is random, so a slow hash adds nothing). */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Equal strings, compared in constant time (for hashes and CSRF tokens). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A generated password for a new account: 18 random bytes, 24 characters. */
export function generatePassword(): string {
  return secret(18);
}

/** An API token as handed out: `pal_<id>_<secret>`; the id finds the row, the secret's hash checks it. */
export function newToken(): { id: string; token: string; secretHash: string } {
  const id = secret(9);
  const s = secret(32);
  return { id, token: `pal_${id}_${s}`, secretHash: sha256(s) };
}

/** `pal_<id>_<secret>` split, or null. Both parts have a fixed length (12 and 43), so an `_` inside either does not confuse the split. */
export function parseToken(token: string): { id: string; secret: string } | null {
  const m = /^pal_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/.exec(token);
  return m ? { id: m[1] as string, secret: m[2] as string } : null;
}

export interface RateLimit {
  /** Failed attempts allowed within the window before refusing. */
  max: number;
  windowMs: number;
}

/**
 * Failed logins counted per key (a client address, an account name) over a sliding window; a
 * key at its limit is refused until its oldest failure leaves the window. In memory: one server
 * process answers the logins of its listener.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `key` may try again; 0 when it may now. */
  retryAfter(key: string): number {
    const times = this.recent(key);
    if (times.length < this.limit.max) return 0;
    return Math.max(1, (times[0] as number) + this.limit.windowMs - this.now());
  }

  fail(key: string): void {
    const times = this.recent(key);
    times.push(this.now());
    this.failures.set(key, times);
    // Keep memory bounded under a spray of addresses: forget keys whose failures are all old.
    if (this.failures.size > 10_000) for (const k of this.failures.keys()) if (this.recent(k).length === 0) this.failures.delete(k);
  }

  reset(key: string): void {
    this.failures.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.limit.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }
}
