/**
 * QUIC version 1 client Initial packets (RFC 9000 section 17.2.2, RFC 9001 section 5): the
 * ClientHello travels in CRYPTO frames protected with keys anyone can derive from the
 * Destination Connection ID, so a passive observer can read SNI, ALPN and the JA4 'q' form.
 *
 *   initial_secret = HKDF-Extract(initial_salt, DCID)
 *   client_secret  = HKDF-Expand-Label(initial_secret, "client in", "", 32)
 *   key/iv/hp      = HKDF-Expand-Label(client_secret, "quic key" | "quic iv" | "quic hp", "", 16|12|16)
 * then header protection is removed (AES-128-ECB of a 16-byte sample), the payload is opened
 * with AES-128-GCM, and the CRYPTO frames are put back in stream order in a view-owned scratch.
 *
 * What an Initial costs, and what an attacker can make it cost. Anyone can send UDP datagrams
 * of >= 1200 bytes that start like a QUIC v1 Initial, each with a new DCID, and every one needs
 * its own key schedule. So, in this order:
 *  1. Non-QUIC packets cost a few byte compares (looksLikeQuicInitial).
 *  2. Once per connection: a bounded table remembers the DCIDs of the Initials already tried
 *     (opened or not). A later Initial with a known DCID is a repeat and is not decrypted: a
 *     client's retransmission, the second Initial of a ClientHello too long for one packet (its
 *     CRYPTO data does not start at offset 0: one packet at a time, it never gave a hello), the
 *     client's Initials after the server's first answer (the DCID is then the server's choice
 *     but the keys are still the first DCID's, so they never open), the server's own Initials
 *     (server keys) and a replayed-packet flood all cost one table probe. The table is a ring of
 *     the last 8,192 DCIDs tried (fixed typed arrays, the oldest replaced): with at most
 *     QUIC_BUDGET_PER_SECOND tries a second, a DCID is remembered for at least 4 seconds of
 *     capture time, far longer than a client's retransmissions take.
 *     It is keyed by the DCID alone, not the 4-tuple: spoofed addresses must not turn a replayed
 *     Initial into new work, and a client's DCID is at least 8 unpredictable bytes (RFC 9000
 *     section 7.2), so two clients sharing one is not a case to serve.
 *     Reading the same capture twice in one process (analysis, then a report or a replay) must
 *     give the same result both times, so a "repeat" is a later packet: one whose capture time is
 *     not after the time stored with its DCID is tried again (the same packet seen again, or a
 *     capture whose records are out of order).
 *  3. A per-second budget (QUIC_BUDGET_PER_SECOND tries per second of capture time) is the hard
 *     bound on what remains: a flood of distinct DCIDs. Like the table it lives in the module (one
 *     per process or worker), so a second read of a capture whose Initials all fall within one
 *     second shares that second's budget with the first read.
 *  4. A try derives the keys and removes header protection with quic-crypto.ts (HMAC-SHA-256 and
 *     one AES block in plain TypeScript over preallocated arrays: no node:crypto objects, no
 *     allocation, several times cheaper than createHmac/createCipheriv), then decrypts the first
 *     payload byte alone (AES-GCM is counter mode: keystream block inc32(J0) = AES(key, nonce ||
 *     2)). Unless that byte is a frame type the frame walk below continues on (PADDING, PING,
 *     ACK, CRYPTO) the packet cannot yield a ClientHello whatever its tag, so about 250 of 256
 *     junk packets stop here, before the native AES-GCM (the only node:crypto object, created
 *     for packets that pass).
 * What each step decided is counted in quicStats (analyze reports it as capture.quic).
 *
 * Deviation from tshark, by design: tshark decrypts every Initial; we do not decrypt repeats and
 * what is over budget. Neither corpus capture has a second client Initial under a DCID that
 * opens (tshark 4.0: Chromium 115 sends one client Initial, with packet number 1; Firefox 102
 * one under DCID c5a5015ae8f479784a, then one under the server's DCID that does not open with that DCID's
 * keys; both servers' Initials repeat their DCID), so the per-frame comparison with tshark
 * (test/decode/app-quic.test.ts) is unchanged. What is lost: the hello of a retransmitted first
 * Initial when the original was captured too (the original already gave it), and of a valid
 * Initial whose DCID was first seen in a packet that did not open (a corrupted first copy, or a
 * forged packet that guessed a client's random DCID). Note that skipping Initials whose packet
 * number is not 0 would not be safe: Chromium starts at 1, and a client's Initial after a Retry
 * (new DCID, a full ClientHello) continues the packet number space.
 */
import { createDecipheriv } from 'node:crypto';
import { Aes128, HmacKey, hmacSha256 } from './quic-crypto.js';
import { parseClientHello } from './tls.js';
import type { PacketView } from './view.js';

const INITIAL_SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
const MIN_CLIENT_INITIAL = 1200;
const SCRATCH = 16384;
/**
 * Initials tried (decrypted or found unreadable) per second of capture time (per process). A
 * flood of Initials past this is still counted by L3/L4, just not decrypted.
 */
export const QUIC_BUDGET_PER_SECOND = 2000;

/**
 * What the decoder did with packets that look like a client Initial (long header, type
 * Initial, version 1, >= 1200 bytes), since the last resetQuic(). Every such packet is counted
 * once in `initials` and once in exactly one of the other four.
 */
export const quicStats = {
  initials: 0,
  /** Decrypted and authenticated (whether or not a ClientHello was in it). */
  opened: 0,
  /** Not decrypted: its DCID was tried before. */
  repeats: 0,
  /** Not decrypted: past QUIC_BUDGET_PER_SECOND in its second. */
  overBudget: 0,
  /** Tried, and not readable: bad header, wrong keys (server Initials, junk), failed tag. */
  unreadable: 0,
};

/** Forget the remembered DCIDs, the budget and the counters (a fresh process, as far as QUIC goes). */
export function resetQuic(): void {
  quicStats.initials = 0;
  quicStats.opened = 0;
  quicStats.repeats = 0;
  quicStats.overBudget = 0;
  quicStats.unreadable = 0;
  seenLen.fill(0);
  seenIndex.fill(-1);
  seenNext = 0;
  budgetSec = -1;
  budgetLeft = 0;
}

// --- key schedule (allocation-free) --------------------------------------------------------

/** HKDF-Expand-Label info (RFC 8446 section 7.1), empty context, plus HKDF-Expand's counter byte T(1). */
function labelInfo(label: string, length: number): Uint8Array {
  const full = `tls13 ${label}`;
  const info = new Uint8Array(2 + 1 + full.length + 1 + 1);
  info[0] = length >> 8;
  info[1] = length & 0xff;
  info[2] = full.length;
  for (let i = 0; i < full.length; i++) info[3 + i] = full.charCodeAt(i);
  info[3 + full.length] = 0; // context length
  info[4 + full.length] = 1; // HKDF-Expand block counter T(1)
  return info;
}
const CLIENT_IN = labelInfo('client in', 32);
const QUIC_KEY = labelInfo('quic key', 16);
const QUIC_IV = labelInfo('quic iv', 12);
const QUIC_HP = labelInfo('quic hp', 16);

const saltKey = new HmacKey().set(INITIAL_SALT_V1, 0, INITIAL_SALT_V1.length);
const secretKey = new HmacKey();
const secret = new Uint8Array(32);
/** Expand output: key [0,16), iv [32,44), hp [64,80) (each HMAC writes 32 bytes). */
const derived = new Uint8Array(96);
const KEY = 0;
const IVO = 32;
const HP = 64;
const hpAes = new Aes128();
const keyAes = new Aes128();

/** Key secretKey with the client Initial secret of the DCID at b[off, off + len). */
function clientSecret(b: Uint8Array, off: number, len: number): void {
  hmacSha256(saltKey, b, off, len, secret, 0); // HKDF-Extract
  secretKey.set(secret, 0, 32);
  hmacSha256(secretKey, CLIENT_IN, 0, CLIENT_IN.length, secret, 0);
  secretKey.set(secret, 0, 32);
}

function expand(info: Uint8Array, at: number): void {
  hmacSha256(secretKey, info, 0, info.length, derived, at);
}

/** Client Initial protection keys for a Destination Connection ID (for tests; the decoder uses scratch). */
export function clientInitialKeys(dcid: Uint8Array): { key: Buffer; iv: Buffer; hp: Buffer } {
  clientSecret(dcid, 0, dcid.length);
  expand(QUIC_KEY, KEY);
  expand(QUIC_IV, IVO);
  expand(QUIC_HP, HP);
  return { key: Buffer.from(derived.subarray(KEY, KEY + 16)), iv: Buffer.from(derived.subarray(IVO, IVO + 12)), hp: Buffer.from(derived.subarray(HP, HP + 16)) };
}

/** QUIC variable-length integer at p; sets varEnd. Returns -1 when it runs past end. */
let varEnd = 0;
function varint(b: Uint8Array, p: number, end: number): number {
  if (p >= end) return -1;
  const first = b[p] as number;
  const n = 1 << (first >> 6);
  if (p + n > end) return -1;
  let x = first & 0x3f;
  for (let i = 1; i < n; i++) x = x * 256 + (b[p + i] as number);
  varEnd = p + n;
  return x;
}

// --- DCIDs already tried --------------------------------------------------------------------
//
// A ring of the last SEEN DCIDs tried, oldest replaced first, with a linear-probing index over
// it (backward-shift deletion, so no tombstones): a DCID is remembered for exactly SEEN further
// tries, which the budget spreads over at least SEEN / QUIC_BUDGET_PER_SECOND seconds.

const SEEN = 8192;
const MAX_CID = 20;
/** DCID length + 1 per ring entry; 0 = empty. */
const seenLen = new Uint8Array(SEEN);
const seenId = new Uint8Array(SEEN * MAX_CID);
const seenHash = new Int32Array(SEEN);
/** Capture time of the packet last tried under the DCID. */
const seenSec = new Float64Array(SEEN);
const seenNsec = new Int32Array(SEEN);
let seenNext = 0;
const INDEX_MASK = 2 * SEEN - 1;
/** Ring entry per index slot, -1 = empty. */
const seenIndex = new Int32Array(2 * SEEN).fill(-1);

let probeHash = 0;
/** The ring entry holding the DCID b[off, off + len), or -1 (probeHash is its hash either way). */
function seenFind(b: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5 ^ len;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ (b[off + i] as number), 0x01000193);
  h ^= h >>> 15;
  probeHash = h;
  for (let i = h & INDEX_MASK; ; i = (i + 1) & INDEX_MASK) {
    const e = seenIndex[i] as number;
    if (e < 0) return -1;
    if (seenHash[e] !== h || seenLen[e] !== len + 1) continue;
    const base = e * MAX_CID;
    let k = 0;
    while (k < len && seenId[base + k] === b[off + k]) k++;
    if (k === len) return e;
  }
}

/** Add the DCID just probed by seenFind (not found), replacing the oldest entry. */
function seenAdd(b: Uint8Array, off: number, len: number, sec: number, nsec: number): void {
  const e = seenNext;
  seenNext = (e + 1) % SEEN;
  if (seenLen[e] !== 0) unindex(e);
  seenLen[e] = len + 1;
  seenId.set(b.subarray(off, off + len), e * MAX_CID);
  seenHash[e] = probeHash;
  seenSec[e] = sec;
  seenNsec[e] = nsec;
  let i = probeHash & INDEX_MASK;
  while ((seenIndex[i] as number) >= 0) i = (i + 1) & INDEX_MASK;
  seenIndex[i] = e;
}

/** Remove ring entry e from the index; shift back the entries after it that probed past its slot. */
function unindex(e: number): void {
  let hole = (seenHash[e] as number) & INDEX_MASK;
  while (seenIndex[hole] !== e) hole = (hole + 1) & INDEX_MASK;
  seenIndex[hole] = -1;
  for (let i = (hole + 1) & INDEX_MASK; ; i = (i + 1) & INDEX_MASK) {
    const x = seenIndex[i] as number;
    if (x < 0) return;
    const home = (seenHash[x] as number) & INDEX_MASK;
    // x may move into the hole unless its home lies cyclically in (hole, i].
    if (hole < i ? home > hole && home <= i : home > hole || home <= i) continue;
    seenIndex[hole] = x;
    seenIndex[i] = -1;
    hole = i;
  }
}

let budgetSec = -1;
let budgetLeft = 0;

/** Cheap test: could [off, end) be a client Initial of QUIC v1? No allocation. */
export function looksLikeQuicInitial(b: Uint8Array, off: number, end: number): boolean {
  return end - off >= MIN_CLIENT_INITIAL && ((b[off] as number) & 0xf0) === 0xc0 && b[off + 1] === 0 && b[off + 2] === 0 && b[off + 3] === 0 && b[off + 4] === 1;
}

const UNREADABLE = -1;
const OPENED = 0;
const HELLO = 1;

export function decodeQuic(v: PacketView, off: number, end: number): boolean {
  v.appDirty = true; // its fields are written below: the next reset clears them
  const b = v.buf;
  if (!looksLikeQuicInitial(b, off, end)) return false;
  quicStats.initials++;
  // The budget's second follows every Initial, repeats included: a second read of a capture
  // then starts on a fresh budget unless its first Initial falls in the second its last did.
  if (v.tsSec !== budgetSec) {
    budgetSec = v.tsSec;
    budgetLeft = QUIC_BUDGET_PER_SECOND;
  }
  const dcidLen = b[off + 5] as number;
  const cidOk = dcidLen <= MAX_CID && off + 6 + dcidLen < end;
  let seen = -1;
  if (cidOk) {
    seen = seenFind(b, off + 6, dcidLen);
    if (seen >= 0) {
      const sec = seenSec[seen] as number;
      if (v.tsSec > sec || (v.tsSec === sec && v.tsNsec > (seenNsec[seen] as number))) {
        quicStats.repeats++;
        return false;
      }
    }
  }
  if (budgetLeft <= 0) {
    quicStats.overBudget++;
    return false;
  }
  budgetLeft--;
  if (seen >= 0) {
    // Not later than the try it remembers: the same packet again, or records out of order.
    seenSec[seen] = v.tsSec;
    seenNsec[seen] = v.tsNsec;
  } else if (cidOk) seenAdd(b, off + 6, dcidLen, v.tsSec, v.tsNsec);
  let r = UNREADABLE;
  try {
    r = openInitial(v, b, off, end);
  } catch {
    // node:crypto rejects a bad tag by throwing: such a packet is not a readable Initial, which
    // is data, not an error.
  }
  if (r === UNREADABLE) quicStats.unreadable++;
  else quicStats.opened++;
  return r === HELLO;
}

/** Header with protection removed (the AEAD's associated data), nonce, one keystream block. */
let aad = new Uint8Array(256);
const nonce = new Uint8Array(12);
const block = new Uint8Array(16);

function openInitial(v: PacketView, b: Uint8Array, off: number, end: number): number {
  let p = off + 5;
  const dcidLen = b[p] as number;
  if (dcidLen > MAX_CID || p + 1 + dcidLen >= end) return UNREADABLE;
  const dcidOff = p + 1;
  p += 1 + dcidLen;
  const scidLen = b[p] as number;
  if (scidLen > MAX_CID) return UNREADABLE;
  p += 1 + scidLen;
  const tokenLen = varint(b, p, end);
  if (tokenLen < 0) return UNREADABLE;
  p = varEnd + tokenLen;
  const length = varint(b, p, end);
  if (length < 0) return UNREADABLE;
  const pnOff = varEnd;
  const pktEnd = pnOff + length;
  if (pktEnd > end || length < 20 || pnOff + 4 + 16 > end) return UNREADABLE;

  clientSecret(b, dcidOff, dcidLen);
  expand(QUIC_HP, HP);
  hpAes.set(derived, HP);
  hpAes.encrypt(b, pnOff + 4, block, 0); // the header protection mask
  const first = (b[off] as number) ^ ((block[0] as number) & 0x0f);
  const pnLen = (first & 3) + 1;
  const ctStart = pnOff + pnLen;
  const ctEnd = pktEnd - 16;
  if (ctEnd <= ctStart) return UNREADABLE;
  // The header as authenticated data, with protection removed (a copy: buf stays untouched).
  const hdrLen = ctStart - off;
  if (hdrLen > aad.length) aad = new Uint8Array(hdrLen);
  aad.set(b.subarray(off, ctStart));
  aad[0] = first;
  let pn = 0;
  for (let i = 0; i < pnLen; i++) {
    const byte = (b[pnOff + i] as number) ^ (block[1 + i] as number);
    aad[pnOff - off + i] = byte;
    pn = pn * 256 + byte;
  }
  expand(QUIC_KEY, KEY);
  expand(QUIC_IV, IVO);
  for (let i = 0; i < 12; i++) nonce[i] = derived[IVO + i] as number;
  for (let i = 0; i < 4; i++) nonce[11 - i] = (nonce[11 - i] as number) ^ ((pn >>> (8 * i)) & 0xff);
  // First payload byte alone: counter block 2 (block 1 masks the tag).
  block.set(nonce);
  block[12] = 0;
  block[13] = 0;
  block[14] = 0;
  block[15] = 2;
  keyAes.set(derived, KEY);
  keyAes.encrypt(block, 0, block, 0);
  const type = (b[ctStart] as number) ^ (block[0] as number);
  if (type > 0x03 && type !== 0x06) return UNREADABLE;

  const gcm = createDecipheriv('aes-128-gcm', derived.subarray(KEY, KEY + 16), nonce);
  gcm.setAAD(aad.subarray(0, hdrLen));
  gcm.setAuthTag(b.subarray(ctEnd, pktEnd));
  // GCM is a stream mode: update returns every byte; final only checks the tag (and throws).
  const plain = gcm.update(b.subarray(ctStart, ctEnd));
  gcm.final();
  return cryptoFrames(v, plain) ? HELLO : OPENED;
}

/** Walk the frames of a decrypted Initial, reassemble the CRYPTO stream from offset 0, parse it. */
function cryptoFrames(v: PacketView, f: Uint8Array): boolean {
  if (v.tlsScratch.length === 0) v.tlsScratch = new Uint8Array(SCRATCH);
  const out = v.tlsScratch;
  const pieces: [number, number][] = [];
  let p = 0;
  const end = f.length;
  while (p < end) {
    const type = f[p] as number;
    if (type === 0x00 || type === 0x01) {
      p++; // PADDING, PING
      continue;
    }
    if (type === 0x02 || type === 0x03) {
      // ACK: largest acknowledged, delay, range count, first range, ranges, [3 ECN counts]
      const q = skipVarints(f, p + 1, end, 2);
      const count = q < 0 ? -1 : varint(f, q, end);
      if (count < 0 || count > end) return false;
      p = skipVarints(f, varEnd, end, 1 + 2 * count + (type === 0x03 ? 3 : 0));
      if (p < 0) return false;
      continue;
    }
    if (type === 0x06) {
      const at = varint(f, p + 1, end);
      if (at < 0) return false;
      const len = varint(f, varEnd, end);
      if (len < 0 || varEnd + len > end) return false;
      if (at + len <= SCRATCH) {
        out.set(f.subarray(varEnd, varEnd + len), at);
        pieces.push([at, len]);
      }
      p = varEnd + len;
      continue;
    }
    break; // CONNECTION_CLOSE or anything not allowed in an Initial: stop here
  }
  // The contiguous prefix of the stream from offset 0.
  pieces.sort((x, y) => x[0] - y[0]);
  let have = 0;
  for (const [at, len] of pieces) {
    if (at > have) break;
    if (at + len > have) have = at + len;
  }
  if (have < 4 || out[0] !== 0x01) return false;
  v.tlsQuic = true;
  v.tlsBuf = out;
  parseClientHello(v, out, 0, have);
  return true;
}

function skipVarints(f: Uint8Array, p: number, end: number, n: number): number {
  let q = p;
  for (let i = 0; i < n; i++) {
    if (varint(f, q, end) < 0) return -1;
    q = varEnd;
  }
  return q;
}
