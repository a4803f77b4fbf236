/**
 * Application payloads for the scenario generator, built from the protocol specifications:
 * DNS (RFC 1035, EDNS RFC 6891), NTP (RFC 5905 client/server; ntpd mode 7 MON_GETLIST_1 reply),
 * SSDP search responses (UPnP 1.1), memcached UDP VALUE replies (protocol.txt), CLDAP
 * searchResEntry (RFC 4511 BER), chargen (RFC 864), SNMP v2c GetResponse (RFC 3416), TLS 1.3
 * ClientHello with SNI (RFC 8446), HTTP/1.1 requests and responses.
 *
 * These run at setup or once per session, never per packet in the bulk paths, so they may allocate.
 */
import type { Rng } from './prng.js';

const enc = new TextEncoder();

export function ascii(s: string): Uint8Array {
  return enc.encode(s);
}

function concat(parts: ArrayLike<number>[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function u16(v: number): number[] {
  return [(v >>> 8) & 255, v & 255];
}

function u32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

// ---- DNS ------------------------------------------------------------------------------------

export function dnsName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split('.')) {
    if (label.length === 0) continue;
    out.push(label.length, ...enc.encode(label));
  }
  out.push(0);
  return out;
}

export const QTYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  RRSIG: 46,
  ANY: 255,
} as const;

export function dnsQuery(id: number, name: string, qtype: number, edns = false, rd = true): Uint8Array {
  const parts: number[] = [...u16(id), rd ? 0x01 : 0x00, 0x00, ...u16(1), ...u16(0), ...u16(0), ...u16(edns ? 1 : 0), ...dnsName(name), ...u16(qtype), ...u16(1)];
  if (edns) parts.push(0, ...u16(41), ...u16(4096), 0, 0, 0, 0, ...u16(0));
  return Uint8Array.from(parts);
}

/**
 * A response: the question, then `answers` records pointing at the question name (0xc00c) of
 * type `rtype` with `rdlen` bytes of rdata each (A = 4 bytes, AAAA = 16, TXT = length-prefixed
 * strings, others filled from the rng).
 */
export function dnsResponse(rng: Rng, id: number, name: string, qtype: number, answers: number, rtype: number, rdlen: number, edns = false): Uint8Array {
  const parts: number[] = [...u16(id), 0x81, 0x80, ...u16(1), ...u16(answers), ...u16(0), ...u16(edns ? 1 : 0), ...dnsName(name), ...u16(qtype), ...u16(1)];
  for (let i = 0; i < answers; i++) {
    parts.push(0xc0, 0x0c, ...u16(rtype), ...u16(1), ...u32(rng.int(60, 86400)), ...u16(rdlen));
    if (rtype === QTYPE.TXT) {
      let left = rdlen;
      while (left > 0) {
        const n = Math.min(255, left - 1);
        parts.push(n);
        for (let k = 0; k < n; k++) parts.push(0x61 + rng.int(0, 25));
        left -= n + 1;
      }
    } else if (rtype === QTYPE.RRSIG) {
      // RFC 4034 3.1: covered type, algorithm, labels, original TTL, expiration, inception,
      // key tag, signer's name, then the signature.
      const signer = dnsName(name);
      const fixed = 18 + signer.length;
      if (rdlen < fixed + 1) throw new RangeError('RRSIG rdata too short');
      parts.push(
        ...u16(rng.pick([1, 2, 16, 48])),
        8,
        name.split('.').length,
        ...u32(3600),
        ...u32(0x6a000000 + rng.int(0, 1e6)),
        ...u32(0x69000000 + rng.int(0, 1e6)),
        ...u16(rng.int(0, 65535)),
        ...signer,
      );
      for (let k = fixed; k < rdlen; k++) parts.push(rng.int(0, 255));
    } else {
      for (let k = 0; k < rdlen; k++) parts.push(rng.int(0, 255));
    }
  }
  if (edns) parts.push(0, ...u16(41), ...u16(4096), 0, 0, 0, 0, ...u16(0));
  return Uint8Array.from(parts);
}

// ---- NTP ------------------------------------------------------------------------------------

/** Mode 3 (client) or 4 (server), version 4, 48 bytes. */
export function ntpPacket(rng: Rng, mode: 3 | 4): Uint8Array {
  const b = new Uint8Array(48);
  b[0] = (4 << 3) | mode;
  if (mode === 4) {
    b[1] = 2; // stratum
    b[2] = 6;
    b[3] = 0xe9;
    for (let i = 12; i < 16; i++) b[i] = rng.int(0, 255);
  }
  for (let i = 40; i < 48; i++) b[i] = rng.int(0, 255);
  return b;
}

/** ntpd mode 7 MON_GETLIST_1 (42) response: header + `items` 72-byte monitor entries. */
export function ntpMonlistReply(rng: Rng, items: number, more: boolean, seq: number): Uint8Array {
  const b = new Uint8Array(8 + 72 * items);
  b[0] = 0x80 | (more ? 0x40 : 0) | (2 << 3) | 7;
  b[1] = seq & 0x7f;
  b[2] = 3; // IMPL_XNTPD
  b[3] = 42;
  b[4] = (items >> 8) & 0x0f;
  b[5] = items & 255;
  b[6] = 0;
  b[7] = 72;
  for (let i = 8; i < b.length; i++) b[i] = rng.int(0, 255);
  return b;
}

// ---- SSDP -----------------------------------------------------------------------------------

export function ssdpResponse(rng: Rng): Uint8Array {
  const uuid = `${rng.u32().toString(16).padStart(8, '0')}-${rng.int(0, 0xffff).toString(16).padStart(4, '0')}-11e0-${rng.int(0, 0xffff).toString(16).padStart(4, '0')}-${rng.u32().toString(16).padStart(8, '0')}0000`;
  const st = rng.pick(['upnp:rootdevice', 'urn:schemas-upnp-org:device:InternetGatewayDevice:1', 'urn:schemas-upnp-org:service:WANIPConnection:1', `uuid:${uuid}`]);
  return ascii(
    `HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=${rng.pick([120, 1800, 3600])}\r\nDATE: Mon, 02 Mar 2026 10:00:00 GMT\r\nEXT:\r\nLOCATION: http://192.168.${rng.int(0, 10)}.1:${rng.pick([1900, 5000, 49152, 52869])}/rootDesc.xml\r\nSERVER: Linux/3.14 UPnP/1.0 miniupnpd/2.1\r\nST: ${st}\r\nUSN: uuid:${uuid}::${st}\r\n\r\n`,
  );
}

// ---- memcached ------------------------------------------------------------------------------

/** First datagram of a `get` reply: frame header + `VALUE key flags bytes` + data (cut to size). */
export function memcachedValue(rng: Rng, size: number): Uint8Array {
  const total = rng.int(20, 200);
  const head = ascii(`VALUE ${rng.pick(['a', 'pwn', 'x1', 'k'])} 0 ${total * 1400}\r\n`);
  const b = new Uint8Array(Math.max(size, 8 + head.length + 2));
  b[0] = rng.int(0, 255);
  b[1] = rng.int(0, 255);
  b[2] = 0;
  b[3] = 0;
  b[4] = (total >> 8) & 255;
  b[5] = total & 255;
  b.set(head, 8);
  for (let i = 8 + head.length; i < b.length; i++) b[i] = 0x41 + (i % 26);
  return b;
}

// ---- BER helpers (CLDAP, SNMP) ----------------------------------------------------------------

function tlv(tag: number, content: number[]): number[] {
  const n = content.length;
  if (n < 0x80) return [tag, n, ...content];
  if (n < 0x100) return [tag, 0x81, n, ...content];
  return [tag, 0x82, (n >> 8) & 255, n & 255, ...content];
}

function berInt(v: number): number[] {
  const bytes: number[] = [];
  let x = v;
  do {
    bytes.unshift(x & 255);
    x = Math.floor(x / 256);
  } while (x > 0);
  if ((bytes[0] as number) & 0x80) bytes.unshift(0);
  return tlv(0x02, bytes);
}

function octets(s: string | number[]): number[] {
  return tlv(0x04, typeof s === 'string' ? [...enc.encode(s)] : s);
}

/** CLDAP rootDSE searchResEntry (APPLICATION 4) followed by searchResDone, as AD answers pings. */
export function cldapSearchResEntry(rng: Rng, targetSize: number): Uint8Array {
  const msgId = rng.int(1, 0x7fff);
  const attrs: number[] = [];
  const names = [
    'currentTime',
    'subschemaSubentry',
    'dsServiceName',
    'namingContexts',
    'defaultNamingContext',
    'rootDomainNamingContext',
    'configurationNamingContext',
    'schemaNamingContext',
    'serverName',
    'supportedCapabilities',
    'supportedLDAPPolicies',
    'supportedSASLMechanisms',
    'dnsHostName',
    'ldapServiceName',
    'supportedControl',
  ];
  let i = 0;
  while (attrs.length < targetSize - 120) {
    const name = names[i % names.length] as string;
    const val = `CN=${name}${i},CN=Configuration,DC=corp${rng.int(1, 99)},DC=example,DC=local`;
    attrs.push(...tlv(0x30, [...octets(name), ...tlv(0x31, octets(val))]));
    i++;
  }
  const entry = tlv(0x30, [...berInt(msgId), ...tlv(0x64, [...octets(''), ...tlv(0x30, attrs)])]);
  const done = tlv(0x30, [...berInt(msgId), ...tlv(0x65, [0x0a, 0x01, 0x00, ...octets(''), ...octets('')])]);
  return Uint8Array.from([...entry, ...done]);
}

/** SNMP v2c GetResponse (PDU 0xa2) with `varbinds` OCTET STRING values. */
export function snmpResponse(rng: Rng, community: string, varbinds: number, valueLen: number): Uint8Array {
  const vbs: number[] = [];
  for (let i = 0; i < varbinds; i++) {
    const oid = [0x2b, 6, 1, 2, 1, 1, (i % 9) + 1, 0];
    const val: number[] = [];
    for (let k = 0; k < valueLen; k++) val.push(0x20 + rng.int(0, 94));
    vbs.push(...tlv(0x30, [...tlv(0x06, oid), ...octets(val)]));
  }
  const pdu = tlv(0xa2, [...berInt(rng.int(1, 0x7fffffff)), ...berInt(0), ...berInt(0), ...tlv(0x30, vbs)]);
  return Uint8Array.from(tlv(0x30, [...berInt(1), ...octets(community), ...pdu]));
}

// ---- chargen --------------------------------------------------------------------------------

/** RFC 864 lines: 72 printable characters, rotating by one per line, CRLF. */
export function chargen(size: number, start: number): Uint8Array {
  const b = new Uint8Array(size);
  let o = 0;
  let line = start;
  while (o < size) {
    for (let k = 0; k < 72 && o < size; k++) b[o++] = 0x20 + ((line + k) % 95);
    if (o < size) b[o++] = 13;
    if (o < size) b[o++] = 10;
    line++;
  }
  return b;
}

// ---- TLS ClientHello ------------------------------------------------------------------------

export function tlsClientHello(rng: Rng, sni: string): Uint8Array {
  const random: number[] = [];
  for (let i = 0; i < 32; i++) random.push(rng.int(0, 255));
  const sid: number[] = [];
  for (let i = 0; i < 32; i++) sid.push(rng.int(0, 255));
  const suites = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
  const name = [...enc.encode(sni)];
  const ext = (type: number, body: number[]): number[] => [...u16(type), ...u16(body.length), ...body];
  const exts = [
    ...ext(0, [...u16(name.length + 3), 0, ...u16(name.length), ...name]),
    ...ext(23, []),
    ...ext(65281, [0]),
    ...ext(10, [...u16(8), ...u16(0x001d), ...u16(0x0017), ...u16(0x0018), ...u16(0x0019)]),
    ...ext(11, [1, 0]),
    ...ext(35, []),
    ...ext(16, [...u16(12), 2, ...enc.encode('h2'), 8, ...enc.encode('http/1.1')]),
    ...ext(5, [1, 0, 0, 0, 0]),
    ...ext(13, [...u16(8), ...u16(0x0403), ...u16(0x0804), ...u16(0x0401), ...u16(0x0503)]),
    ...ext(51, [...u16(36), ...u16(0x001d), ...u16(32), ...random.map((x) => x ^ 0x5a)]),
    ...ext(45, [1, 1]),
    ...ext(43, [4, ...u16(0x0304), ...u16(0x0303)]),
  ];
  const body = [...u16(0x0303), ...random, sid.length, ...sid, ...u16(suites.length * 2), ...suites.flatMap(u16), 1, 0, ...u16(exts.length), ...exts];
  const hs = [1, (body.length >> 16) & 255, (body.length >> 8) & 255, body.length & 255, ...body];
  return Uint8Array.from([0x16, 0x03, 0x01, ...u16(hs.length), ...hs]);
}

/**
 * The start of a TLS 1.3 server's first flight over TCP: ServerHello (echoing the client's
 * session id, TLS_AES_128_GCM_SHA256, x25519), the middlebox-compatibility ChangeCipherSpec
 * (RFC 8446 appendix D.4), then the header of the application-data record that carries the
 * encrypted extensions, certificate chain and Finished (`encrypted` bytes that follow).
 */
export function tlsServerFlightHead(rng: Rng, encrypted: number): Uint8Array {
  const random: number[] = [];
  for (let i = 0; i < 32; i++) random.push(rng.int(0, 255));
  const sid: number[] = [];
  for (let i = 0; i < 32; i++) sid.push(rng.int(0, 255));
  const share: number[] = [];
  for (let i = 0; i < 32; i++) share.push(rng.int(0, 255));
  const ext = (type: number, body: number[]): number[] => [...u16(type), ...u16(body.length), ...body];
  const exts = [...ext(43, u16(0x0304)), ...ext(51, [...u16(0x001d), ...u16(32), ...share])];
  const body = [...u16(0x0303), ...random, sid.length, ...sid, ...u16(0x1301), 0, ...u16(exts.length), ...exts];
  const hs = [2, 0, (body.length >> 8) & 255, body.length & 255, ...body];
  return Uint8Array.from([0x16, 0x03, 0x03, ...u16(hs.length), ...hs, 0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03, 0x03, ...u16(encrypted)]);
}

const RECORD_HEADS: Array<Uint8Array | undefined> = [];

/**
 * A TLS application-data record header for `len` bytes of ciphertext (at most 2^14 + 256); one
 * shared array per length, as sessions only read it.
 */
export function tlsRecordHead(len: number): Uint8Array {
  const n = Math.min(len, 16640);
  let h = RECORD_HEADS[n];
  if (!h) {
    h = Uint8Array.from([0x17, 0x03, 0x03, (n >> 8) & 255, n & 255]);
    RECORD_HEADS[n] = h;
  }
  return h;
}

/**
 * A TLS 1.3 client's second flight over TCP: ChangeCipherSpec, the encrypted Finished (53 bytes
 * of ciphertext), then the header of the record carrying the first request (`request` bytes).
 */
export function tlsClientFinishedHead(rng: Rng, request: number): Uint8Array {
  const b = new Uint8Array(6 + 5 + 53 + 5);
  b.set([0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03, 0x03, 0x00, 0x35]);
  for (let i = 11; i < 64; i++) b[i] = rng.int(0, 255);
  b.set(tlsRecordHead(request), 64);
  return b;
}

// ---- HTTP -----------------------------------------------------------------------------------

const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  'curl/8.5.0',
];
const PATHS = ['/', '/index.html', '/about', '/products?id=', '/static/app.js', '/static/style.css', '/api/v1/items', '/images/logo.png', '/news/', '/search?q='];

export function httpGet(rng: Rng, host: string): Uint8Array {
  let path = rng.pick(PATHS);
  if (path.endsWith('=')) path += String(rng.int(1, 99999));
  return ascii(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${rng.pick(UAS)}\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n`);
}

export function httpResponseHead(bodyLen: number): Uint8Array {
  return ascii(`HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nContent-Type: application/octet-stream\r\nContent-Length: ${bodyLen}\r\nConnection: keep-alive\r\n\r\n`);
}

export { concat };
