/**
 * The two primitives QUIC Initial protection needs before the AEAD, in plain TypeScript over
 * preallocated typed arrays: HMAC-SHA-256 (FIPS 180-4, RFC 2104) for short messages and the
 * AES-128 block cipher (FIPS 197), encryption only.
 *
 * Why not node:crypto: every createHmac / createCipheriv builds a JS object around a native
 * context, a few microseconds each, and the key schedule of QUIC's Initial keys needs five HMACs
 * plus two AES blocks per Destination Connection ID. An attacker chooses the DCID of every packet
 * of an Initial flood, so that per-packet cost is what the flood buys; here it is a fraction of
 * it and allocates nothing. These keys protect nothing secret (anyone can derive them from the
 * packet), so constant-time code is not a concern. The AEAD itself (AES-128-GCM over a whole
 * packet) stays native: it runs only for packets that pass the cheap checks.
 */

// --- SHA-256 -------------------------------------------------------------------------------

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
  0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
  0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const W = new Int32Array(64);

/** One SHA-256 compression of the 64-byte block at b[off] into state s. */
function compress(s: Int32Array, b: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const p = off + 4 * i;
    W[i] = ((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number);
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15] as number;
    const y = W[i - 2] as number;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[i] = ((W[i - 16] as number) + s0 + (W[i - 7] as number) + s1) | 0;
  }
  let a = s[0] as number;
  let bb = s[1] as number;
  let c = s[2] as number;
  let d = s[3] as number;
  let e = s[4] as number;
  let f = s[5] as number;
  let g = s[6] as number;
  let h = s[7] as number;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + S1 + ((e & f) ^ (~e & g)) + (K[i] as number) + (W[i] as number)) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = bb;
    bb = a;
    a = (t1 + t2) | 0;
  }
  s[0] = ((s[0] as number) + a) | 0;
  s[1] = ((s[1] as number) + bb) | 0;
  s[2] = ((s[2] as number) + c) | 0;
  s[3] = ((s[3] as number) + d) | 0;
  s[4] = ((s[4] as number) + e) | 0;
  s[5] = ((s[5] as number) + f) | 0;
  s[6] = ((s[6] as number) + g) | 0;
  s[7] = ((s[7] as number) + h) | 0;
}

const block = new Uint8Array(64);
const state = new Int32Array(8);

/**
 * Finish a hash whose state `s` has absorbed `prefix` bytes (a multiple of 64) with the final
 * `len` (<= 55) bytes at m[off]: one padded block. Writes the 32-byte digest to out[outOff].
 */
function finish(s: Int32Array, prefix: number, m: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): void {
  block.fill(0);
  for (let i = 0; i < len; i++) block[i] = m[off + i] as number;
  block[len] = 0x80;
  const bits = (prefix + len) * 8;
  block[60] = bits >>> 24;
  block[61] = (bits >>> 16) & 0xff;
  block[62] = (bits >>> 8) & 0xff;
  block[63] = bits & 0xff;
  compress(s, block, 0);
  for (let i = 0; i < 8; i++) {
    const w = s[i] as number;
    out[outOff + 4 * i] = w >>> 24;
    out[outOff + 4 * i + 1] = (w >>> 16) & 0xff;
    out[outOff + 4 * i + 2] = (w >>> 8) & 0xff;
    out[outOff + 4 * i + 3] = w & 0xff;
  }
}

/**
 * An HMAC-SHA-256 key (<= 64 bytes) after its inner and outer pad blocks: the two states every
 * message under that key starts from. Keying once serves several messages (HKDF-Expand-Label
 * derives key, iv and hp from one secret).
 */
export class HmacKey {
  readonly inner = new Int32Array(8);
  readonly outer = new Int32Array(8);

  /** Set the key (<= 64 bytes) at k[off, off + len). */
  set(k: Uint8Array, off: number, len: number): this {
    padded(this.inner, k, off, len, 0x36);
    padded(this.outer, k, off, len, 0x5c);
    return this;
  }
}

/** The state after hashing the key, zero-filled to 64 bytes, XORed with pad. */
function padded(st: Int32Array, k: Uint8Array, off: number, len: number, pad: number): void {
  for (let i = 0; i < 64; i++) block[i] = (i < len ? (k[off + i] as number) : 0) ^ pad;
  st.set(IV);
  compress(st, block, 0);
}

const innerDigest = new Uint8Array(32);

/** HMAC-SHA-256 of the message m[off, off + len) (len <= 55) under `key`; the 32-byte tag goes to out[outOff]. */
export function hmacSha256(key: HmacKey, m: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): void {
  state.set(key.inner);
  finish(state, 64, m, off, len, innerDigest, 0);
  state.set(key.outer);
  finish(state, 64, innerDigest, 0, 32, out, outOff);
}

// --- AES-128 encryption ------------------------------------------------------------------

const SBOX = new Uint8Array(256);
/** Round tables: T0[x] = (2·S[x], S[x], S[x], 3·S[x]) as a big-endian word; T1..T3 its rotations. */
const T0 = new Int32Array(256);
const T1 = new Int32Array(256);
const T2 = new Int32Array(256);
const T3 = new Int32Array(256);
{
  // S-box from GF(2^8) inverses (FIPS 197 section 5.1.1), tables from it: no 1 KB of literals.
  const exp = new Uint8Array(256);
  const log = new Uint8Array(256);
  for (let i = 0, x = 1; i < 255; i++) {
    exp[i] = x;
    log[x] = i;
    x ^= (x << 1) ^ (x & 0x80 ? 0x11b : 0); // multiply by 3
    x &= 0xff;
  }
  for (let i = 0; i < 256; i++) {
    let q = i === 0 ? 0 : (exp[(255 - (log[i] as number)) % 255] as number);
    let s = q;
    for (let r = 0; r < 4; r++) {
      q = ((q << 1) | (q >>> 7)) & 0xff;
      s ^= q;
    }
    SBOX[i] = s ^ 0x63;
  }
  for (let i = 0; i < 256; i++) {
    const s = SBOX[i] as number;
    const s2 = ((s << 1) ^ (s & 0x80 ? 0x11b : 0)) & 0xff;
    const s3 = s2 ^ s;
    const t = (s2 << 24) | (s << 16) | (s << 8) | s3;
    T0[i] = t;
    T1[i] = (t >>> 8) | (t << 24);
    T2[i] = (t >>> 16) | (t << 16);
    T3[i] = (t >>> 24) | (t << 8);
  }
}

/** An expanded AES-128 key (44 round-key words), reusable for any number of blocks. */
export class Aes128 {
  private readonly rk = new Int32Array(44);

  /** Expand the 16-byte key at k[off]. */
  set(k: Uint8Array, off: number): this {
    const rk = this.rk;
    for (let i = 0; i < 4; i++) {
      const p = off + 4 * i;
      rk[i] = ((k[p] as number) << 24) | ((k[p + 1] as number) << 16) | ((k[p + 2] as number) << 8) | (k[p + 3] as number);
    }
    let rcon = 1;
    for (let i = 4; i < 44; i++) {
      let t = rk[i - 1] as number;
      if ((i & 3) === 0) {
        // RotWord, SubWord, Rcon
        t = ((SBOX[(t >>> 16) & 0xff] as number) << 24) | ((SBOX[(t >>> 8) & 0xff] as number) << 16) | ((SBOX[t & 0xff] as number) << 8) | (SBOX[t >>> 24] as number);
        t ^= rcon << 24;
        rcon = ((rcon << 1) ^ (rcon & 0x80 ? 0x11b : 0)) & 0xff;
      }
      rk[i] = (rk[i - 4] as number) ^ t;
    }
    return this;
  }

  /** Encrypt the 16-byte block at src[so] into dst[dof] (they may overlap exactly). */
  encrypt(src: Uint8Array, so: number, dst: Uint8Array, dof: number): void {
    const rk = this.rk;
    let s0 = word(src, so) ^ (rk[0] as number);
    let s1 = word(src, so + 4) ^ (rk[1] as number);
    let s2 = word(src, so + 8) ^ (rk[2] as number);
    let s3 = word(src, so + 12) ^ (rk[3] as number);
    for (let r = 1; r < 10; r++) {
      const k = 4 * r;
      const t0 = (T0[s0 >>> 24] as number) ^ (T1[(s1 >>> 16) & 0xff] as number) ^ (T2[(s2 >>> 8) & 0xff] as number) ^ (T3[s3 & 0xff] as number) ^ (rk[k] as number);
      const t1 = (T0[s1 >>> 24] as number) ^ (T1[(s2 >>> 16) & 0xff] as number) ^ (T2[(s3 >>> 8) & 0xff] as number) ^ (T3[s0 & 0xff] as number) ^ (rk[k + 1] as number);
      const t2 = (T0[s2 >>> 24] as number) ^ (T1[(s3 >>> 16) & 0xff] as number) ^ (T2[(s0 >>> 8) & 0xff] as number) ^ (T3[s1 & 0xff] as number) ^ (rk[k + 2] as number);
      const t3 = (T0[s3 >>> 24] as number) ^ (T1[(s0 >>> 16) & 0xff] as number) ^ (T2[(s1 >>> 8) & 0xff] as number) ^ (T3[s2 & 0xff] as number) ^ (rk[k + 3] as number);
      s0 = t0;
      s1 = t1;
      s2 = t2;
      s3 = t3;
    }
    // Last round: SubBytes, ShiftRows, AddRoundKey (no MixColumns).
    put(dst, dof, lastRound(s0, s1, s2, s3) ^ (rk[40] as number));
    put(dst, dof + 4, lastRound(s1, s2, s3, s0) ^ (rk[41] as number));
    put(dst, dof + 8, lastRound(s2, s3, s0, s1) ^ (rk[42] as number));
    put(dst, dof + 12, lastRound(s3, s0, s1, s2) ^ (rk[43] as number));
  }
}

function lastRound(a: number, b: number, c: number, d: number): number {
  return ((SBOX[a >>> 24] as number) << 24) | ((SBOX[(b >>> 16) & 0xff] as number) << 16) | ((SBOX[(c >>> 8) & 0xff] as number) << 8) | (SBOX[d & 0xff] as number);
}

function word(b: Uint8Array, p: number): number {
  return ((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number);
}

function put(b: Uint8Array, p: number, x: number): void {
  b[p] = x >>> 24;
  b[p + 1] = (x >>> 16) & 0xff;
  b[p + 2] = (x >>> 8) & 0xff;
  b[p + 3] = x & 0xff;
}
