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
 * Non-QUIC packets cost a few byte compares and allocate nothing. Opening an Initial does
 * allocate (node:crypto objects): the cheap checks first keep that to real client Initials
 * (long header, type Initial, version 1, padded to >= 1200 bytes as RFC 9000 section 14.1
 * requires of a client), and a per-second budget bounds the cost of an Initial flood.
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { parseClientHello } from './tls.js';
import type { PacketView } from './view.js';

const INITIAL_SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');
const MIN_CLIENT_INITIAL = 1200;
const SCRATCH = 16384;
/**
 * Initials opened per second of capture time (per process). A flood of Initials (a real attack
 * vector) past this is still counted by L3/L4, just not decrypted.
 */
export const QUIC_BUDGET_PER_SECOND = 2000;

/** HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context, for lengths <= 32. */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = `tls13 ${label}`;
  const info = Buffer.alloc(2 + 1 + full.length + 1 + 1);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  info.write(full, 3, 'latin1');
  info[3 + full.length] = 0; // context length
  info[4 + full.length] = 1; // HKDF-Expand block counter T(1)
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

/** Client Initial protection keys for a Destination Connection ID (exported for tests). */
export function clientInitialKeys(dcid: Uint8Array): { key: Buffer; iv: Buffer; hp: Buffer } {
  const initial = createHmac('sha256', INITIAL_SALT_V1).update(dcid).digest();
  const client = expandLabel(initial, 'client in', 32);
  return { key: expandLabel(client, 'quic key', 16), iv: expandLabel(client, 'quic iv', 12), hp: expandLabel(client, 'quic hp', 16) };
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

let budgetSec = -1;
let budgetLeft = 0;

/** Cheap test: could [off, end) be a client Initial of QUIC v1? No allocation. */
export function looksLikeQuicInitial(b: Uint8Array, off: number, end: number): boolean {
  return end - off >= MIN_CLIENT_INITIAL && ((b[off] as number) & 0xf0) === 0xc0 && b[off + 1] === 0 && b[off + 2] === 0 && b[off + 3] === 0 && b[off + 4] === 1;
}

export function decodeQuic(v: PacketView, off: number, end: number): boolean {
  const b = v.buf;
  if (!looksLikeQuicInitial(b, off, end)) return false;
  if (v.tsSec !== budgetSec) {
    budgetSec = v.tsSec;
    budgetLeft = QUIC_BUDGET_PER_SECOND;
  }
  if (budgetLeft <= 0) return false;
  budgetLeft--;
  try {
    return openInitial(v, b, off, end);
  } catch {
    // node:crypto rejects a bad tag or key material by throwing: such a packet is not a
    // readable Initial, which is data, not an error.
    return false;
  }
}

function openInitial(v: PacketView, b: Uint8Array, off: number, end: number): boolean {
  let p = off + 5;
  const dcidLen = b[p] as number;
  if (dcidLen > 20 || p + 1 + dcidLen >= end) return false;
  const dcid = b.subarray(p + 1, p + 1 + dcidLen);
  p += 1 + dcidLen;
  const scidLen = b[p] as number;
  if (scidLen > 20) return false;
  p += 1 + scidLen;
  const tokenLen = varint(b, p, end);
  if (tokenLen < 0) return false;
  p = varEnd + tokenLen;
  const length = varint(b, p, end);
  if (length < 0) return false;
  const pnOff = varEnd;
  const pktEnd = pnOff + length;
  if (pktEnd > end || length < 20 || pnOff + 4 + 16 > end) return false;

  const keys = clientInitialKeys(dcid);
  const ecb = createCipheriv('aes-128-ecb', keys.hp, null);
  ecb.setAutoPadding(false);
  const mask = ecb.update(b.subarray(pnOff + 4, pnOff + 20));
  const first = (b[off] as number) ^ ((mask[0] as number) & 0x0f);
  const pnLen = (first & 3) + 1;
  // The header as authenticated data, with protection removed (a copy: buf stays untouched).
  const header = Buffer.from(b.subarray(off, pnOff + pnLen));
  header[0] = first;
  let pn = 0;
  for (let i = 0; i < pnLen; i++) {
    const byte = (b[pnOff + i] as number) ^ (mask[1 + i] as number);
    header[pnOff - off + i] = byte;
    pn = pn * 256 + byte;
  }
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 4; i++) nonce[11 - i] = (nonce[11 - i] as number) ^ ((pn >>> (8 * i)) & 0xff);
  const ctEnd = pktEnd - 16;
  if (ctEnd <= pnOff + pnLen) return false;
  const gcm = createDecipheriv('aes-128-gcm', keys.key, nonce);
  gcm.setAAD(header);
  gcm.setAuthTag(b.subarray(ctEnd, pktEnd));
  const plain = Buffer.concat([gcm.update(b.subarray(pnOff + pnLen, ctEnd)), gcm.final()]);
  return cryptoFrames(v, plain);
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
