/**
 * The JavaScript challenge's two signed things, both HMAC-SHA256 under one secret and both bound
 * to the client (its address prefix and its User-Agent):
 *
 *   - the seed, `s1.<exp>.<bits>.<id>.<mac>`: issued in the challenge page, it is the proof of
 *     work's input and says how hard the work is; short-lived and single-use (ReplayCache).
 *   - the clearance, `c1.<exp>.<mac>`: the cookie a solved challenge earns.
 *
 * The binding is inside the MAC only, never in the token: the token carries no address or agent to
 * read, and one copied to another network or another browser fails the MAC like a forgery does
 * (the reasons are not told apart on purpose: both are `failed`). Each kind signs with its own
 * label, so a seed can never pass as a clearance. Expiries are whole seconds since the epoch.
 *
 * The prefix is a /24 for IPv4 and a /64 for IPv6: a household, a carrier NAT's pool or an office
 * egress usually keeps its prefix while the last bits move between requests.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseAddr } from '../../core/net/prefix.js';

/** What a token is bound to. */
export interface Binding {
  /** `v4:a.b.c`, `v6:<16 hex digits>`, or the address as given when it does not parse. */
  readonly prefix: string;
  readonly userAgent: string;
}

/** The client's /24 (IPv4, IPv4-mapped IPv6 included) or /64 (IPv6) as a stable string. */
export function clientPrefix(ip: string): string {
  const a = parseAddr(ip);
  if (a === null) return `raw:${ip}`;
  const b = a.addr;
  if (a.family === 4) return `v4:${b[0]}.${b[1]}.${b[2]}`;
  // ::ffff:a.b.c.d is an IPv4 client seen through a dual-stack socket: bind it as IPv4.
  let mapped = b[10] === 0xff && b[11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) if (b[i] !== 0) mapped = false;
  if (mapped) return `v4:${b[12]}.${b[13]}.${b[14]}`;
  return `v6:${Buffer.from(b.subarray(0, 8)).toString('hex')}`;
}

export function bindingOf(clientIp: string, userAgent: string | undefined): Binding {
  return { prefix: clientPrefix(clientIp), userAgent: userAgent ?? '' };
}

const MAC_BYTES = 32;
/**
 * MACs and ids are lowercase hex. Not base64url: its `-` and `_` make `--` (an SQL comment to the
 * CRS, rule 942440 at paranoia 2) in about one clearance cookie in 250, and the WAF inspects cookies.
 */
const HEX_MAC = /^[0-9a-f]{64}$/;
const HEX_ID = /^[0-9a-f]{24}$/;
const DIGITS = /^[0-9]{1,12}$/;

/** HMAC-SHA256 under the challenge secret, with a label per kind of token. */
export class Signer {
  private readonly key: Buffer;

  constructor(secret: Uint8Array | string) {
    this.key = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    if (this.key.length < 16) throw new RangeError('the challenge secret must be at least 16 bytes');
  }

  private mac(label: string, payload: string, b: Binding): Buffer {
    // NUL separates the parts: none of them can hold one (a header value cannot), so no two
    // different (payload, prefix, agent) triples sign the same bytes.
    return createHmac('sha256', this.key).update(`${label}\0${payload}\0${b.prefix}\0${b.userAgent}`, 'latin1').digest();
  }

  sign(label: string, payload: string, b: Binding): string {
    return this.mac(label, payload, b).toString('hex');
  }

  /** Constant-time check of a hex MAC (lowercase only: one spelling per token). */
  verify(label: string, payload: string, b: Binding, mac: string): boolean {
    if (!HEX_MAC.test(mac)) return false;
    const got = Buffer.from(mac, 'hex');
    if (got.length !== MAC_BYTES) return false;
    return timingSafeEqual(got, this.mac(label, payload, b));
  }
}

export type TokenFailure = 'malformed' | 'signature' | 'expired';

export interface Seed {
  ok: true;
  /** Expiry, ms since the epoch. */
  expMs: number;
  /** Leading zero bits the proof of work must reach. */
  bits: number;
  /** The single-use id (the replay cache's key). */
  id: string;
}

export interface Clearance {
  ok: true;
  expMs: number;
}

export interface Refused {
  ok: false;
  reason: TokenFailure;
}

const SEED_LABEL = 'palisade-challenge-seed-v1';
const CLEARANCE_LABEL = 'palisade-clearance-v1';

/** A new seed for `b`, valid `ttlMs` from `nowMs`, asking for `bits` leading zero bits. */
export function issueSeed(signer: Signer, b: Binding, nowMs: number, ttlMs: number, bits: number): string {
  const payload = `s1.${Math.floor((nowMs + ttlMs) / 1000)}.${bits}.${randomBytes(12).toString('hex')}`;
  return `${payload}.${signer.sign(SEED_LABEL, payload, b)}`;
}

export function readSeed(signer: Signer, token: string, b: Binding, nowMs: number): Seed | Refused {
  const parts = token.split('.');
  if (parts.length !== 5 || parts[0] !== 's1') return { ok: false, reason: 'malformed' };
  const [, exp, bits, id, mac] = parts as [string, string, string, string, string];
  if (!DIGITS.test(exp) || !/^[0-9]{1,2}$/.test(bits) || !HEX_ID.test(id)) return { ok: false, reason: 'malformed' };
  if (!signer.verify(SEED_LABEL, `s1.${exp}.${bits}.${id}`, b, mac)) return { ok: false, reason: 'signature' };
  const expMs = Number(exp) * 1000;
  if (nowMs >= expMs) return { ok: false, reason: 'expired' };
  return { ok: true, expMs, bits: Number(bits), id };
}

/** A clearance for `b`, valid `ttlMs` from `nowMs`. */
export function issueClearance(signer: Signer, b: Binding, nowMs: number, ttlMs: number): string {
  const payload = `c1.${Math.floor((nowMs + ttlMs) / 1000)}`;
  return `${payload}.${signer.sign(CLEARANCE_LABEL, payload, b)}`;
}

export function readClearance(signer: Signer, value: string, b: Binding, nowMs: number): Clearance | Refused {
  const parts = value.split('.');
  if (parts.length !== 3 || parts[0] !== 'c1') return { ok: false, reason: 'malformed' };
  const [, exp, mac] = parts as [string, string, string];
  if (!DIGITS.test(exp)) return { ok: false, reason: 'malformed' };
  if (!signer.verify(CLEARANCE_LABEL, `c1.${exp}`, b, mac)) return { ok: false, reason: 'signature' };
  const expMs = Number(exp) * 1000;
  if (nowMs >= expMs) return { ok: false, reason: 'expired' };
  return { ok: true, expMs };
}

/** Leading zero bits of a digest. */
export function leadingZeroBits(h: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < h.length; i++) {
    const x = h[i] as number;
    if (x === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(x) - 24;
  }
  return n;
}

const NONCE = /^[0-9]{1,16}$/;

/**
 * Does `nonce` (decimal digits) solve `seed` at `bits`: SHA-256 of the seed's ASCII followed by
 * the nonce's has at least `bits` leading zero bits. The page's script computes the same.
 */
export function solves(seed: string, nonce: string, bits: number): boolean {
  if (!NONCE.test(nonce)) return false;
  return leadingZeroBits(createHash('sha256').update(seed, 'latin1').update(nonce, 'latin1').digest()) >= bits;
}
