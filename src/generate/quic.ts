/**
 * QUIC version 1 packets for the generator (RFC 9000 section 17, RFC 9001 section 5): client
 * Initials carrying a TLS 1.3 ClientHello (SNI, ALPN h3, QUIC transport parameters) in a CRYPTO
 * frame, protected with the Initial keys of their Destination Connection ID, and the server's
 * Initial answering it (ACK + ServerHello, protected with the server's Initial keys), so that
 * tshark and our decoder both read what a browser's first flight carries.
 *
 * Handshake and 1-RTT packets need keys only the endpoints have: the generator writes their
 * headers and fills the rest with random bytes, which is what an observer sees of them anyway.
 *
 * Keys are derived and packets sealed once per connection with node:crypto (a few tens of
 * microseconds); ClientHellos come from a per-name template whose random and key share are
 * rewritten per connection.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import type { Session } from './component.js';
import type { Addr, Emitter } from './emitter.js';
import type { PayloadBlob } from './frames.js';
import type { Rng } from './prng.js';

/** RFC 9001 section 5.2. */
const INITIAL_SALT_V1 = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');

export interface InitialKeys {
  key: Buffer;
  iv: Buffer;
  hp: Buffer;
}

/** HKDF-Expand-Label (RFC 8446 section 7.1), empty context, one HMAC block (length <= 32). */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = `tls13 ${label}`;
  const info = Buffer.alloc(2 + 1 + full.length + 1 + 1);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  info.write(full, 3, 'latin1');
  info[3 + full.length] = 0;
  info[4 + full.length] = 1;
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

/** The client's and the server's Initial keys for the client's first Destination Connection ID. */
export function initialKeys(dcid: Uint8Array): { client: InitialKeys; server: InitialKeys } {
  const initial = createHmac('sha256', INITIAL_SALT_V1).update(dcid).digest();
  const side = (label: string): InitialKeys => {
    const s = expandLabel(initial, label, 32);
    return { key: expandLabel(s, 'quic key', 16), iv: expandLabel(s, 'quic iv', 12), hp: expandLabel(s, 'quic hp', 16) };
  };
  return { client: side('client in'), server: side('server in') };
}

/** Bytes of a QUIC variable-length integer (RFC 9000 section 16). */
function varintLen(v: number): number {
  return v < 64 ? 1 : v < 16384 ? 2 : v < 1073741824 ? 4 : 8;
}

function putVarint(b: Uint8Array, o: number, v: number, len = varintLen(v)): number {
  if (len === 1) b[o] = v;
  else if (len === 2) {
    b[o] = 0x40 | (v >>> 8);
    b[o + 1] = v & 255;
  } else {
    b[o] = 0x80 | ((v >>> 24) & 0x3f);
    b[o + 1] = (v >>> 16) & 255;
    b[o + 2] = (v >>> 8) & 255;
    b[o + 3] = v & 255;
  }
  return o + len;
}

const enc = new TextEncoder();

function u16(v: number): number[] {
  return [(v >>> 8) & 255, v & 255];
}

function ext(type: number, body: number[]): number[] {
  return [...u16(type), ...u16(body.length), ...body];
}

/** One transport parameter whose value is a varint (RFC 9000 section 18). */
function tpInt(id: number, v: number): number[] {
  const n = varintLen(v);
  const b = new Uint8Array(n);
  putVarint(b, 0, v, n);
  return [id, n, ...b];
}

/**
 * A ClientHello handshake message as QUIC carries it (no record header): TLS 1.3 only, no
 * legacy session id (RFC 9001 section 8.4), ALPN h3, transport parameters with the client's
 * Source Connection ID. Returns the bytes and where the random and the key share sit, so a
 * connection can rewrite them in a copy.
 */
export interface HelloTemplate {
  bytes: Uint8Array;
  randomAt: number;
  keyShareAt: number;
  scidAt: number;
  scidLen: number;
}

export function quicClientHello(rng: Rng, sni: string, scidLen: number): HelloTemplate {
  const name = [...enc.encode(sni)];
  const suites = [0x1301, 0x1302, 0x1303];
  const tp = [
    ...tpInt(0x01, 30000),
    ...tpInt(0x03, 1472),
    ...tpInt(0x04, 15728640),
    ...tpInt(0x05, 6291456),
    ...tpInt(0x06, 6291456),
    ...tpInt(0x07, 6291456),
    ...tpInt(0x08, 100),
    ...tpInt(0x09, 103),
    0x0f,
    scidLen,
    ...new Array<number>(scidLen).fill(0),
  ];
  const scidInTp = tp.length - scidLen;
  const before = [
    ...ext(0, [...u16(name.length + 3), 0, ...u16(name.length), ...name]),
    ...ext(10, [...u16(6), ...u16(0x001d), ...u16(0x0017), ...u16(0x0018)]),
    ...ext(13, [...u16(16), ...[0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601].flatMap(u16)]),
    ...ext(16, [...u16(3), 2, ...enc.encode('h3')]),
    ...ext(43, [2, ...u16(0x0304)]),
    ...ext(45, [1, 1]),
  ];
  const keyShare = ext(51, [...u16(36), ...u16(0x001d), ...u16(32), ...new Array<number>(32).fill(0)]);
  const tpExt = ext(57, tp);
  const exts = [...before, ...keyShare, ...tpExt];
  const head = [...u16(0x0303), ...new Array<number>(32).fill(0), 0, ...u16(suites.length * 2), ...suites.flatMap(u16), 1, 0, ...u16(exts.length)];
  const body = [...head, ...exts];
  const msg = Uint8Array.from([1, (body.length >> 16) & 255, (body.length >> 8) & 255, body.length & 255, ...body]);
  const extsAt = 4 + head.length;
  const keyShareAt = extsAt + before.length + 4 + 2 + 2 + 2;
  const scidAt = extsAt + before.length + keyShare.length + 4 + scidInTp;
  for (let i = 0; i < 32; i++) msg[6 + i] = rng.int(0, 255);
  return { bytes: msg, randomAt: 6, keyShareAt, scidAt, scidLen };
}

/** A TLS 1.3 ServerHello (TLS_AES_128_GCM_SHA256, x25519 key share) as QUIC carries it. */
export function quicServerHello(rng: Rng): Uint8Array {
  const random: number[] = [];
  for (let i = 0; i < 32; i++) random.push(rng.int(0, 255));
  const share: number[] = [];
  for (let i = 0; i < 32; i++) share.push(rng.int(0, 255));
  const exts = [...ext(43, u16(0x0304)), ...ext(51, [...u16(0x001d), ...u16(32), ...share])];
  const body = [...u16(0x0303), ...random, 0, ...u16(0x1301), 0, ...u16(exts.length), ...exts];
  return Uint8Array.from([2, 0, (body.length >> 8) & 255, body.length & 255, ...body]);
}

/**
 * Seal one long-header packet into out[o..] and return where it ends. `type`: 0 Initial,
 * 2 Handshake. `frames` is the plaintext (padded with PADDING frames to `plainLen`); with
 * `keys` null the payload is random bytes (a Handshake packet as an observer sees it).
 */
export function sealLong(
  out: Uint8Array,
  o: number,
  type: 0 | 2,
  dcid: Uint8Array,
  scid: Uint8Array,
  pn: number,
  frames: Uint8Array,
  plainLen: number,
  keys: InitialKeys | null,
  rng: Rng,
): number {
  const pnLen = pn < 256 ? 1 : 2;
  let p = o;
  out[p++] = 0xc0 | (type << 4) | (pnLen - 1);
  out[p++] = 0;
  out[p++] = 0;
  out[p++] = 0;
  out[p++] = 1;
  out[p++] = dcid.length;
  out.set(dcid, p);
  p += dcid.length;
  out[p++] = scid.length;
  out.set(scid, p);
  p += scid.length;
  if (type === 0) out[p++] = 0; // no token
  const length = pnLen + plainLen + 16;
  p = putVarint(out, p, length, 2);
  const pnAt = p;
  if (pnLen === 1) out[p++] = pn;
  else {
    out[p++] = pn >>> 8;
    out[p++] = pn & 255;
  }
  const end = p + plainLen + 16;
  if (!keys) {
    for (let i = p; i < end; i++) out[i] = rng.u32() & 255;
    out[o] = ((out[o] as number) & 0xf0) | (rng.u32() & 0x0c) | (pnLen - 1);
    return end;
  }
  const plain = Buffer.alloc(plainLen);
  plain.set(frames.subarray(0, Math.min(frames.length, plainLen)));
  const nonce = Buffer.from(keys.iv);
  nonce[11] = (nonce[11] as number) ^ (pn & 255);
  nonce[10] = (nonce[10] as number) ^ ((pn >>> 8) & 255);
  const gcm = createCipheriv('aes-128-gcm', keys.key, nonce);
  gcm.setAAD(out.subarray(o, p));
  const ct = gcm.update(plain);
  gcm.final();
  out.set(ct, p);
  out.set(gcm.getAuthTag(), p + plainLen);
  // Header protection (RFC 9001 section 5.4): a mask from the sample 4 bytes past the PN start.
  const ecb = createCipheriv('aes-128-ecb', keys.hp, null);
  ecb.setAutoPadding(false);
  const mask = ecb.update(out.subarray(pnAt + 4, pnAt + 20));
  out[o] = (out[o] as number) ^ ((mask[0] as number) & 0x0f);
  for (let i = 0; i < pnLen; i++) out[pnAt + i] = (out[pnAt + i] as number) ^ (mask[1 + i] as number);
  return end;
}

/** Header bytes of a long-header packet before its packet number (for plaintext sizing). */
export function longHeaderLen(type: 0 | 2, dcidLen: number, scidLen: number, pn: number): number {
  return 1 + 4 + 1 + dcidLen + 1 + scidLen + (type === 0 ? 1 : 0) + 2 + (pn < 256 ? 1 : 2);
}

/** A CRYPTO frame (type 0x06) at stream offset 0 followed by nothing (PADDING is zeros). */
export function cryptoFrame(data: Uint8Array, ackPn = -1): Uint8Array {
  const ackLen = ackPn >= 0 ? 5 : 0;
  const n = ackLen + 1 + 1 + varintLen(data.length) + data.length;
  const out = new Uint8Array(n);
  let p = 0;
  if (ackPn >= 0) {
    // ACK: largest acknowledged, ACK delay, range count 0, first range 0 (RFC 9000 19.3).
    out[p++] = 0x02;
    out[p++] = ackPn;
    out[p++] = 0;
    out[p++] = 0;
    out[p++] = 0;
  }
  out[p++] = 0x06;
  out[p++] = 0;
  p = putVarint(out, p, data.length);
  out.set(data, p);
  return out;
}

/** The first flights of a connection, sealed for real; then 1-RTT packets (headers + noise). */
export class QuicSession implements Session {
  private readonly hs: Uint8Array[] = [];
  private readonly hsFromClient: boolean[] = [];
  private i = 0;
  private exchangesLeft: number;
  private serverLeft = 0;
  private sinceAck = 0;
  private done = false;
  /** Short-header first bytes + DCID, per direction. */
  private readonly cHead: Uint8Array;
  private readonly sHead: Uint8Array;
  private readonly maxLen: number;
  private cId: number;
  private sId: number;

  constructor(
    private readonly rng: Rng,
    private readonly c: Addr,
    private readonly s: Addr,
    private readonly cport: number,
    private readonly cttl: number,
    private readonly sttl: number,
    hello: HelloTemplate,
    serverHello: Uint8Array,
    private readonly noise: PayloadBlob,
  ) {
    const r = rng;
    const dcid = randomBytes(r, 8);
    const scid = randomBytes(r, hello.scidLen);
    const server = randomBytes(r, 8);
    const keys = initialKeys(dcid);
    // The ClientHello of this connection: the template with its own random, key share and SCID.
    const ch = Uint8Array.from(hello.bytes);
    for (let k = 0; k < 32; k++) ch[hello.randomAt + k] = r.u32() & 255;
    for (let k = 0; k < 32; k++) ch[hello.keyShareAt + k] = r.u32() & 255;
    ch.set(scid, hello.scidAt);
    const size = r.pick(CLIENT_INITIAL_SIZES);
    const buf = new Uint8Array(1500);
    // 1. Client Initial: CRYPTO(ClientHello) + PADDING to the datagram size.
    let end = sealLong(buf, 0, 0, dcid, scid, 0, cryptoFrame(ch), size - longHeaderLen(0, 8, scid.length, 0) - 16, keys.client, r);
    this.push(buf, end, true);
    // 2. Server Initial (ACK + ServerHello) coalesced with a Handshake packet (certificates).
    const sh = cryptoFrame(serverHello, 0);
    const sSize = r.int(1200, 1252);
    end = sealLong(buf, 0, 0, scid, server, 0, sh, sh.length, keys.server, r);
    end = sealLong(buf, end, 2, scid, server, 0, EMPTY, sSize - end - longHeaderLen(2, scid.length, 8, 0) - 16, null, r);
    this.push(buf, end, false);
    // 3. More Handshake: the rest of the certificate chain, CertificateVerify, Finished.
    end = sealLong(buf, 0, 2, scid, server, 1, EMPTY, r.int(1100, 1200), null, r);
    this.push(buf, end, false);
    end = sealLong(buf, 0, 2, scid, server, 2, EMPTY, r.int(150, 900), null, r);
    this.push(buf, end, false);
    // 4. Client: Initial ACK (padded, as a datagram with an Initial must be) + Handshake Finished.
    const hsLen = longHeaderLen(2, 8, scid.length, 0) + 16 + r.int(40, 60);
    end = sealLong(buf, 0, 0, dcid, scid, 1, ACK_OF_0, size - hsLen - longHeaderLen(0, 8, scid.length, 1) - 16, keys.client, r);
    end = sealLong(buf, end, 2, server, scid, 0, EMPTY, size - end - longHeaderLen(2, 8, scid.length, 0) - 16, null, r);
    this.push(buf, end, true);
    this.cHead = new Uint8Array(1 + 8);
    this.cHead.set(server, 1);
    this.sHead = new Uint8Array(1 + scid.length);
    this.sHead.set(scid, 1);
    this.maxLen = r.pick([1252, 1350, 1350]);
    this.exchangesLeft = r.int(1, 4);
    this.cId = r.int(0, 65535);
    this.sId = r.int(0, 65535);
  }

  private push(buf: Uint8Array, end: number, fromClient: boolean): void {
    this.hs.push(buf.slice(0, end));
    this.hsFromClient.push(fromClient);
  }

  step(e: Emitter, t: number): boolean {
    const r = this.rng;
    const p = e.p.reset();
    let fromClient: boolean;
    if (this.i < this.hs.length) {
      fromClient = this.hsFromClient[this.i] as boolean;
      const d = this.hs[this.i] as Uint8Array;
      p.pay = d;
      p.payLen = d.length;
    } else {
      let len: number;
      if (this.serverLeft === 0 && this.sinceAck === 0) {
        // A request (HTTP/3 HEADERS) and how many datagrams its response takes.
        fromClient = true;
        len = r.int(60, 400);
        const body = r.chance(0.8) ? r.int(1000, 20000) : r.int(20000, 120000);
        this.serverLeft = Math.ceil(body / (this.maxLen - 30));
      } else if (this.sinceAck >= 2 || this.serverLeft === 0) {
        fromClient = true;
        len = r.int(36, 50);
        this.sinceAck = 0;
        if (this.serverLeft === 0) {
          this.exchangesLeft--;
          if (this.exchangesLeft <= 0) this.done = true;
        }
      } else {
        fromClient = false;
        len = this.serverLeft === 1 ? r.int(100, this.maxLen) : this.maxLen;
        this.serverLeft--;
        this.sinceAck++;
      }
      // Short header: fixed bit, spin bit and the protected bits random; DCID; the rest noise.
      const h = fromClient ? this.cHead : this.sHead;
      h[0] = 0x40 | (r.u32() & 0x3f);
      p.head = h;
      p.headLen = h.length;
      const noise = this.noise;
      p.blob = noise;
      p.payLen = len - h.length;
      p.blobOff = 2 * Math.floor(r.float() * (((noise.bytes.length - p.payLen) >> 1) + 1));
    }
    this.i++;
    p.src = fromClient ? this.c : this.s;
    p.dst = fromClient ? this.s : this.c;
    p.sport = fromClient ? this.cport : 443;
    p.dport = fromClient ? 443 : this.cport;
    p.ttl = fromClient ? this.cttl : this.sttl;
    p.ipId = fromClient ? this.cId++ : this.sId++;
    p.df = true;
    p.flow = this.cport;
    e.udp(t);
    return this.done;
  }
}

const EMPTY = new Uint8Array(0);
const ACK_OF_0 = Uint8Array.from([0x02, 0, 0, 0, 0]);
/** UDP payload of a client's first datagram: Chrome 1250, quic-go 1252, curl/ngtcp2 1200, Firefox 1357. */
const CLIENT_INITIAL_SIZES = [1250, 1250, 1250, 1252, 1200, 1357];

function randomBytes(r: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = r.u32() & 255;
  return b;
}
