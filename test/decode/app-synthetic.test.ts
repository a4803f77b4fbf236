/**
 * Application decoders on packets built byte by byte from the protocol descriptions, for what the
 * real corpus lacks (SSDP, memcached, CLDAP, chargen, SNMPv3) and for hostile or cut-off input.
 * JA4 is checked against the worked example of FoxIO's specification (technical_details/JA4.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsQname } from '../../src/decode/dns.js';
import { httpHost, httpMethod, httpUri, httpUserAgent } from '../../src/decode/http.js';
import { ja3String } from '../../src/decode/ja3.js';
import { ja4, ja4FromFields, ja4Raw } from '../../src/decode/ja4.js';
import { snmpCommunity } from '../../src/decode/snmp.js';
import { type ClientHelloFields, clientHelloFields, tlsAlpn, tlsSni } from '../../src/decode/tls.js';
import { App } from '../../src/decode/view.js';
import { bytes, decode } from './app-payloads.js';

const udp = (sport: number, dport: number, b: Uint8Array) => decode({ proto: 17, sport, dport, tcpFlags: 0, bytes: b });
const tcp = (sport: number, dport: number, b: Uint8Array, flags = 0x18) => decode({ proto: 6, sport, dport, tcpFlags: flags, bytes: b });
const u16 = (x: number) => [x >> 8, x & 0xff];
const u24 = (x: number) => [x >> 16, (x >> 8) & 0xff, x & 0xff];
const vec16 = (b: number[]) => [...u16(b.length), ...b];
const vec8 = (b: number[]) => [b.length, ...b];
const ext = (type: number, body: number[]) => [...u16(type), ...vec16(body)];
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

// ---- TLS / JA4 -----------------------------------------------------------------------------

const SPEC_CIPHERS = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
const SPEC_EXTS = [0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015];
const SPEC_SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];

/** A ClientHello record with the spec example's lists, plus GREASE values that must be ignored. */
function specHello(sni = 'example.com'): Uint8Array {
  const exts: number[] = [...ext(0x0a0a, [])]; // GREASE extension first, as Chrome does
  for (const t of SPEC_EXTS) {
    let body: number[] = [];
    if (t === 0x0000) body = vec16([0, ...vec16(ascii(sni))]);
    else if (t === 0x0010) body = vec16([...vec8(ascii('h2')), ...vec8(ascii('http/1.1'))]);
    else if (t === 0x000d) body = vec16(SPEC_SIGALGS.flatMap(u16));
    else if (t === 0x002b) body = vec8([...u16(0x3a3a), ...u16(0x0304), ...u16(0x0303)]);
    else if (t === 0x000a) body = vec16([...u16(0x2a2a), ...u16(29), ...u16(23), ...u16(24)]);
    else if (t === 0x000b) body = vec8([0]);
    exts.push(...ext(t, body));
  }
  const hello = [...u16(0x0303), ...new Array(32).fill(7), ...vec8(new Array(32).fill(1)), ...vec16([...u16(0xdada), ...SPEC_CIPHERS.flatMap(u16)]), ...vec8([0]), ...vec16(exts)];
  const hs = [1, ...u24(hello.length), ...hello];
  return bytes(0x16, 0x03, 0x01, u16(hs.length), hs);
}

test('JA4: the worked example of the FoxIO spec', () => {
  const v = tcp(50000, 443, specHello());
  assert.equal(v.app, App.TLS_CLIENT_HELLO);
  assert.equal(tlsSni(v), 'example.com');
  assert.equal(tlsAlpn(v), 'h2');
  assert.equal(v.tlsVersion, 0x0303);
  assert.equal(v.tlsMaxVersion, 0x0304);
  assert.equal(ja4(v), 't13d1516h2_8daaf6152771_e5627efa2ab1');
  assert.equal(
    ja4Raw(v),
    't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
  );
  // JA3 drops GREASE from ciphers, extensions and groups, keeps wire order.
  assert.equal(ja3String(v), `771,${SPEC_CIPHERS.join('-')},${SPEC_EXTS.join('-')},29-23-24,0`);
});

test('JA4: no signature algorithms means no underscore; empty lists hash to zeros', () => {
  const f: ClientHelloFields = {
    version: 0x0303,
    ciphers: SPEC_CIPHERS,
    extensions: SPEC_EXTS,
    groups: [],
    pointFormats: [],
    sigAlgs: [],
    versions: [0x0304],
    alpn: new Uint8Array(ascii('h2')),
    hasSni: true,
  };
  assert.equal(ja4FromFields(f, false), 't13d1516h2_8daaf6152771_6d807ffa2a79'); // spec's value
  const empty: ClientHelloFields = { version: 0x0301, ciphers: [], extensions: [], groups: [], pointFormats: [], sigAlgs: [], versions: [], alpn: null, hasSni: false };
  assert.equal(ja4FromFields(empty, true), 'q10i000000_000000000000_000000000000');
});

test('JA4: ALPN characters, including the hex rule for non-alphanumeric bytes', () => {
  const a = (alpn: number[] | null) => {
    const f: ClientHelloFields = {
      version: 0x0303,
      ciphers: [],
      extensions: [],
      groups: [],
      pointFormats: [],
      sigAlgs: [],
      versions: [],
      alpn: alpn === null ? null : new Uint8Array(alpn),
      hasSni: false,
    };
    return ja4FromFields(f, false).slice(8, 10);
  };
  assert.equal(a(ascii('http/1.1')), 'h1');
  assert.equal(a(ascii('h')), 'hh');
  assert.equal(a([]), '00');
  assert.equal(a(null), '00');
  // The five examples of the spec.
  assert.equal(a([0xab]), 'ab');
  assert.equal(a([0xab, 0xcd]), 'ad');
  assert.equal(a([0x30, 0xab]), '3b');
  assert.equal(a([0x30, 0x31, 0xab, 0xcd]), '3d');
  assert.equal(a([0x30, 0xab, 0xcd, 0x31]), '01');
});

test('TLS: a ClientHello cut by the snap length keeps what was seen whole', () => {
  const full = specHello('a-rather-long-server-name.example.org');
  // Cut inside the extensions, after SNI (the second real extension) but before ALPN's end.
  const sniAt = Buffer.from(full).indexOf('a-rather-long');
  const cut = full.slice(0, sniAt + 40);
  const v = tcp(50000, 8443, cut);
  assert.equal(v.app, App.TLS_CLIENT_HELLO);
  assert.equal(tlsSni(v), 'a-rather-long-server-name.example.org');
  assert.equal(v.tlsAlpnOff, -1);
  assert.equal(v.tlsMaxVersion, 0);
  assert.equal(v.tlsHelloLen, cut.length - 5);
  // A name cut in the middle is not reported.
  const v2 = tcp(50000, 443, full.slice(0, sniAt + 5));
  assert.equal(v2.app, App.TLS_CLIENT_HELLO);
  assert.equal(v2.tlsSniOff, -1);
  assert.equal(tlsSni(v2), '');
  // Not a hello: a ServerHello (handshake type 2) and application data.
  const sh = full.slice();
  sh[5] = 2;
  assert.equal(tcp(443, 50000, sh).app, App.NONE);
  assert.equal(tcp(443, 50000, bytes(0x17, 0x03, 0x03, 0, 4, 1, 2, 3, 4)).app, App.NONE);
});

// ---- DNS -----------------------------------------------------------------------------------

const DNS_HDR = (qd = 1, flags = 0x0100) => [0x12, 0x34, ...u16(flags), ...u16(qd), 0, 0, 0, 0, 0, 0];

test('DNS: question name, type and class; mDNS and LLMNR ports; DNS over TCP', () => {
  const q = [...DNS_HDR(), 3, ...ascii('www'), 7, ...ascii('Example'), 3, ...ascii('com'), 0, ...u16(28), ...u16(1)];
  for (const port of [53, 5353, 5355]) {
    const v = udp(40000, port, bytes(q));
    assert.equal(v.app, App.DNS);
    assert.equal(dnsQname(v), 'www.Example.com');
    assert.equal(v.dnsQtype, 28);
    assert.equal(v.dnsQclass, 1);
    assert.equal(v.dnsId, 0x1234);
  }
  const t = tcp(40000, 53, bytes(u16(q.length), q));
  assert.equal(t.app, App.DNS);
  assert.equal(dnsQname(t), 'www.Example.com');
  // The root name.
  const root = udp(40000, 53, bytes(DNS_HDR(), 0, u16(2), u16(1)));
  assert.equal(root.dnsNameLen, 0);
  assert.equal(root.dnsQtype, 2);
  // No question at all.
  const none = udp(53, 40000, bytes(DNS_HDR(0, 0x8180)));
  assert.equal(none.app, App.DNS);
  assert.equal(none.dnsNameLen, -1);
});

test('DNS: hostile names end the walk instead of looping or overrunning', () => {
  const hdr = DNS_HDR();
  // Pointer to itself (offset 12), to the future, and a ping-pong pair.
  const self = udp(1, 53, bytes(hdr, 0xc0, 12, 0, 1, 0, 1));
  assert.equal(self.app, App.DNS);
  assert.equal(self.dnsNameLen, -1);
  assert.equal(self.dnsQtype, 0);
  assert.equal(udp(1, 53, bytes(hdr, 0xc0, 40, 0, 1, 0, 1)).dnsNameLen, -1);
  assert.equal(udp(1, 53, bytes(hdr, 1, 0x61, 0xc0, 12, 0, 1)).dnsNameLen, -1);
  // A backward pointer into the header is followed (bytes there read as labels) but bounded.
  const back = udp(1, 53, bytes([0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0], 1, 0x61, 0xc0, 2, 0, 1, 0, 1));
  assert.equal(back.app, App.DNS);
  assert.ok(back.dnsNameLen === -1 || back.dnsNameLen <= 253);
  // A name longer than 253 characters.
  const long: number[] = [];
  for (let i = 0; i < 5; i++) long.push(63, ...new Array(63).fill(0x61));
  assert.equal(udp(1, 53, bytes(hdr, long, 0, 0, 1, 0, 1)).dnsNameLen, -1);
  // Exactly 253 characters is fine: 3 x 63 + 61 with dots.
  const max = [63, ...new Array(63).fill(0x62), 63, ...new Array(63).fill(0x62), 63, ...new Array(63).fill(0x62), 61, ...new Array(61).fill(0x62), 0];
  assert.equal(udp(1, 53, bytes(hdr, max, 0, 1, 0, 1)).dnsNameLen, 253);
  // Extended label types (0x40) and a label running past the packet.
  assert.equal(udp(1, 53, bytes(hdr, 0x41, 0x61, 0)).dnsNameLen, -1);
  assert.equal(udp(1, 53, bytes(hdr, 10, 0x61, 0x62)).dnsNameLen, -1);
  // Truncated after the name: name kept, no type.
  const cut = udp(1, 53, bytes(hdr, 1, 0x61, 0, 0));
  assert.equal(dnsQname(cut), 'a');
  assert.equal(cut.dnsQtype, 0);
  // Not DNS: short, or opcode 15 / Z bit set (random payload on port 53 is then not DNS).
  assert.equal(udp(1, 53, bytes(1, 2, 3)).app, App.NONE);
  assert.equal(udp(1, 53, bytes(0, 0, 0x78, 0, 0, 1, 0, 0, 0, 0, 0, 0)).app, App.NONE);
  assert.equal(udp(1, 53, bytes(0, 0, 0x00, 0x40, 0, 1, 0, 0, 0, 0, 0, 0)).app, App.NONE);
});

// ---- NTP -----------------------------------------------------------------------------------

test('NTP: mode 7 monlist request and response; client mode 3', () => {
  // ntpdc -c monlist: 0x17 (R=0, M=0, VN=2, mode 7), auth/seq 0, implementation 3 (XNTPD), code 42.
  const req = udp(40000, 123, bytes(0x17, 0x00, 0x03, 0x2a, new Array(44).fill(0)));
  assert.equal(req.app, App.NTP);
  assert.equal(req.ntpMode, 7);
  assert.equal(req.ntpVersion, 2);
  assert.equal(req.ntpReqCode, 42);
  assert.equal(req.ntpResponse, false);
  // Response: R bit set, M (more) bit set, then items.
  const resp = udp(123, 40000, bytes(0xd7, 0x00, 0x03, 0x2a, 0x00, 0x06, 0x00, 0x48, new Array(432).fill(0)));
  assert.equal(resp.ntpReqCode, 42);
  assert.equal(resp.ntpResponse, true);
  const client = udp(40000, 123, bytes(0x23, new Array(47).fill(0)));
  assert.equal(client.ntpMode, 3);
  assert.equal(client.ntpVersion, 4);
  assert.equal(client.ntpReqCode, -1);
  // Too short for mode 3, version 0, mode 0: not NTP.
  assert.equal(udp(40000, 123, bytes(0x23, new Array(20).fill(0))).app, App.NONE);
  assert.equal(udp(40000, 123, bytes(0x07, new Array(47).fill(0))).app, App.NONE);
  assert.equal(udp(40000, 123, bytes(0x20, new Array(47).fill(0))).app, App.NONE);
});

// ---- SSDP ----------------------------------------------------------------------------------

test('SSDP: M-SEARCH, NOTIFY and 200 OK, with the ST header found case-insensitively', () => {
  const search = udp(40000, 1900, bytes('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n'));
  assert.equal(search.app, App.SSDP);
  assert.equal(search.ssdpKind, 1);
  assert.equal(search.ssdpHasSt, true);
  const notify = udp(1900, 1900, bytes('NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nUSN: uuid:x::upnp:rootdevice\r\n\r\n'));
  assert.equal(notify.ssdpKind, 2);
  assert.equal(notify.ssdpHasSt, false);
  const ok = udp(1900, 40000, bytes('HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nLOCATION: http://192.168.1.1:80/desc.xml\r\nst : upnp:rootdevice\r\nUSN: uuid:x\r\n\r\n'));
  assert.equal(ok.app, App.SSDP);
  assert.equal(ok.ssdpKind, 3);
  assert.equal(ok.ssdpHasSt, true);
  // "ST" inside a value or a longer name is not the header.
  assert.equal(udp(1900, 40000, bytes('HTTP/1.1 200 OK\r\nSTX: 1\r\nX: ST: no\r\n\r\n')).ssdpHasSt, false);
  assert.equal(udp(1900, 40000, bytes('HTTP/1.1 404 Not Found\r\n\r\n')).app, App.NONE);
  assert.equal(udp(40000, 1900, bytes('hello')).app, App.NONE);
});

// ---- memcached -----------------------------------------------------------------------------

const MC = (seq: number, total: number) => [0x12, 0x34, ...u16(seq), ...u16(total), 0, 0];

test('memcached UDP: requests, VALUE / STAT / other responses, continuation datagrams', () => {
  const kind = (sport: number, dport: number, b: Uint8Array) => {
    const v = udp(sport, dport, b);
    return v.app === App.MEMCACHED ? v.memcachedKind : 0;
  };
  assert.equal(kind(40000, 11211, bytes(MC(0, 1), 'stats\r\n')), 1);
  assert.equal(kind(40000, 11211, bytes(MC(0, 1), 'get a b c\r\n')), 1);
  assert.equal(kind(40000, 11211, bytes(MC(0, 1), 'gets')), 1);
  assert.equal(kind(11211, 40000, bytes(MC(0, 3), 'VALUE a 0 2000\r\nxxxx')), 2);
  assert.equal(kind(11211, 40000, bytes(MC(0, 1), 'STAT pid 1234\r\nSTAT uptime 9\r\n')), 3);
  assert.equal(kind(11211, 40000, bytes(MC(0, 1), 'END\r\n')), 4);
  assert.equal(kind(11211, 40000, bytes(MC(0, 1), 'SERVER_ERROR out of memory\r\n')), 4);
  assert.equal(kind(11211, 40000, bytes(MC(1, 3), 0xff, 0x00, 0x41)), 4);
  // Not memcached: reserved bytes set, unknown lowercase command, mixed-case token, binary.
  assert.equal(kind(40000, 11211, bytes([0, 1, 0, 0, 0, 1, 1, 0], 'stats\r\n')), 0);
  assert.equal(kind(40000, 11211, bytes(MC(0, 1), 'hello\r\n')), 0);
  assert.equal(kind(11211, 40000, bytes(MC(0, 1), 'Value a\r\n')), 0);
  assert.equal(kind(11211, 40000, bytes(MC(0, 1), 0x80, 0x01)), 0);
});

// ---- CLDAP ---------------------------------------------------------------------------------

/** BER TLV with a definite length in short or long form (long when `long` or len > 127). */
function tlv(tag: number, body: number[], long = false): number[] {
  const n = body.length;
  if (!long && n < 128) return [tag, n, ...body];
  if (n < 256) return [tag, 0x81, n, ...body];
  return [tag, 0x82, n >> 8, n & 0xff, ...body];
}

test('CLDAP: searchRequest, searchResEntry, searchResDone, long-form lengths, RFC 1798 user DN', () => {
  // An "LDAP ping": searchRequest for the rootDSE, filter (objectClass=*), attribute netlogon.
  const search = tlv(0x63, [
    ...tlv(0x04, []),
    ...tlv(0x0a, [0]),
    ...tlv(0x0a, [0]),
    ...tlv(0x02, [0]),
    ...tlv(0x02, [0]),
    ...tlv(0x01, [0]),
    ...tlv(0x87, ascii('objectClass')),
    ...tlv(0x30, tlv(0x04, ascii('netlogon'))),
  ]);
  const req = udp(40000, 389, bytes(tlv(0x30, [...tlv(0x02, [1]), ...search])));
  assert.equal(req.app, App.CLDAP);
  assert.equal(req.cldapOp, 3);
  // Windows DCs encode the outer length in four octets (0x84).
  const inner = [...tlv(0x02, [1]), ...search];
  const req84 = udp(40000, 389, bytes(0x30, 0x84, 0, 0, 0, inner.length, inner));
  assert.equal(req84.cldapOp, 3);
  // searchResEntry with a big attribute list (two-octet lengths), then searchResDone.
  const entry = tlv(0x64, [...tlv(0x04, []), ...tlv(0x30, tlv(0x30, [...tlv(0x04, ascii('netlogon')), ...tlv(0x31, tlv(0x04, new Array(300).fill(0x41)))]))]);
  const resp = udp(389, 40000, bytes(tlv(0x30, [...tlv(0x02, [0x7f, 0xff, 0xff], true), ...entry], true)));
  assert.equal(resp.app, App.CLDAP);
  assert.equal(resp.cldapOp, 4);
  const done = udp(389, 40000, bytes(tlv(0x30, [...tlv(0x02, [1]), ...tlv(0x65, [...tlv(0x0a, [0]), ...tlv(0x04, []), ...tlv(0x04, [])])])));
  assert.equal(done.cldapOp, 5);
  // RFC 1798 CLDAP carries a user DN between messageID and the operation.
  const v2 = udp(40000, 389, bytes(tlv(0x30, [...tlv(0x02, [5]), ...tlv(0x04, ascii('cn=x')), ...search])));
  assert.equal(v2.cldapOp, 3);
  // Truncated right after the outer header's long length: cannot see the operation.
  assert.equal(udp(389, 40000, bytes(0x30, 0x84, 0, 0, 1, 0)).app, App.NONE);
  // Not BER / not LDAP.
  assert.equal(udp(40000, 389, bytes('hello world')).app, App.NONE);
  assert.equal(udp(40000, 389, bytes(0x30, 0x85, 1, 1, 1, 1, 1, 2, 1, 1, 0x63, 0)).app, App.NONE);
  assert.equal(udp(40000, 389, bytes(tlv(0x30, [...tlv(0x02, [1]), ...tlv(0x30, [])]))).app, App.NONE);
});

// ---- SNMP ----------------------------------------------------------------------------------

test('SNMP: v2c GetBulk, v1 trap port, v3 scoped and encrypted PDUs', () => {
  const varbinds = tlv(0x30, tlv(0x30, [...tlv(0x06, [0x2b, 6, 1, 2, 1]), 0x05, 0x00]));
  const bulk = udp(
    40000,
    161,
    bytes(tlv(0x30, [...tlv(0x02, [1]), ...tlv(0x04, ascii('public')), ...tlv(0xa5, [...tlv(0x02, [1]), ...tlv(0x02, [0]), ...tlv(0x02, [100]), ...varbinds])])),
  );
  assert.equal(bulk.app, App.SNMP);
  assert.equal(bulk.snmpVersion, 1);
  assert.equal(snmpCommunity(bulk), 'public');
  assert.equal(bulk.snmpPdu, 5);
  const trap = udp(40000, 162, bytes(tlv(0x30, [...tlv(0x02, [0]), ...tlv(0x04, ascii('private')), ...tlv(0xa4, [])])));
  assert.equal(trap.snmpVersion, 0);
  assert.equal(trap.snmpPdu, 4);
  const global = tlv(0x30, [...tlv(0x02, [1]), ...tlv(0x02, [0, 0xff, 0xe3]), ...tlv(0x04, [4]), ...tlv(0x02, [3])]);
  const scoped = udp(40000, 161, bytes(tlv(0x30, [...tlv(0x02, [3]), ...global, ...tlv(0x04, []), ...tlv(0x30, [...tlv(0x04, []), ...tlv(0x04, []), ...tlv(0xa0, [])])])));
  assert.equal(scoped.snmpVersion, 3);
  assert.equal(scoped.snmpPdu, 0);
  assert.equal(scoped.snmpCommunityOff, -1);
  const encrypted = udp(40000, 161, bytes(tlv(0x30, [...tlv(0x02, [3]), ...global, ...tlv(0x04, []), ...tlv(0x04, [1, 2, 3, 4])])));
  assert.equal(encrypted.app, App.SNMP);
  assert.equal(encrypted.snmpPdu, -1);
  assert.equal(udp(40000, 161, bytes(tlv(0x30, [...tlv(0x02, [2])]))).app, App.NONE);
});

// ---- chargen, ports, HTTP ------------------------------------------------------------------

test('chargen: from port 19 with payload (UDP and TCP), not requests to it', () => {
  const line = bytes('!"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n');
  assert.equal(udp(19, 40000, line).app, App.CHARGEN);
  assert.equal(udp(40000, 19, bytes('x')).app, App.NONE);
  assert.equal(tcp(19, 40000, line).app, App.CHARGEN);
  assert.equal(udp(19, 40000, new Uint8Array(0)).app, App.NONE);
});

test('ports: the other port is tried when the first decoder does not recognise the bytes', () => {
  // A DNS response whose ephemeral destination port happens to be 123.
  const dns = bytes(DNS_HDR(1, 0x8180), 1, 0x61, 0, 0, 1, 0, 1);
  assert.equal(udp(53, 123, dns).app, App.DNS);
  // An NTP client using source port 1900: SSDP does not match, NTP does.
  assert.equal(udp(1900, 123, bytes(0x23, new Array(47).fill(0))).app, App.NTP);
});

test('HTTP: request line and headers with any case; responses; non-HTTP payloads', () => {
  const v = tcp(40000, 8080, bytes('POST /login?x=1 HTTP/1.0\r\nhost:  example.org \r\nUSER-AGENT: curl/8.0\r\nHost: second.example\r\n\r\nbody'));
  assert.equal(v.app, App.HTTP_REQUEST);
  assert.equal(httpMethod(v), 'POST');
  assert.equal(httpUri(v), '/login?x=1');
  assert.equal(v.httpMinor, 0);
  assert.equal(httpHost(v), 'example.org');
  assert.equal(httpUserAgent(v), 'curl/8.0');
  // Cut inside the User-Agent value: the captured part is kept.
  const cut = tcp(40000, 80, bytes('GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: Mozi'));
  assert.equal(httpUserAgent(cut), 'Mozi');
  assert.equal(httpHost(cut), 'a');
  // Request line only, no version captured.
  const short = tcp(40000, 80, bytes('GET /x'));
  assert.equal(short.app, App.HTTP_REQUEST);
  assert.equal(httpUri(short), '/x');
  const resp = tcp(80, 40000, bytes('HTTP/1.1 503 Service Unavailable\r\n\r\n'));
  assert.equal(resp.app, App.HTTP_RESPONSE);
  assert.equal(resp.httpStatus, 503);
  assert.equal(resp.httpMinor, 1);
  for (const s of ['GETX / HTTP/1.1\r\n', 'get / HTTP/1.1\r\n', 'FOO / HTTP/1.1\r\n', 'GET', 'HTTP/2 200\r\n', 'SSH-2.0-OpenSSH_9.6\r\n']) {
    assert.equal(tcp(40000, 80, bytes(s)).app, App.NONE, s);
  }
});

test('JA4 memo: a shuffled or GREASE-varied hello gives the memoised fingerprint; a different stack does not', () => {
  // Build the same client stack twice with the extensions in another order and other GREASE
  // values (what Chrome does per connection), then a stack that differs in one cipher.
  const hello = (exts: number[][], grease: number, ciphers: number[]): Uint8Array => {
    const cs = [grease, ...ciphers];
    const ext = exts.flatMap(([t, ...body]) => [((t as number) >> 8) & 0xff, (t as number) & 0xff, 0, body.length, ...body]);
    const body = [3, 3, ...new Array(32).fill(7), 0, 0, cs.length * 2, ...cs.flatMap((c) => [c >> 8, c & 0xff]), 1, 0, ext.length >> 8, ext.length & 0xff, ...ext];
    const hs = [1, 0, body.length >> 8, body.length & 0xff, ...body];
    return new Uint8Array([22, 3, 1, hs.length >> 8, hs.length & 0xff, ...hs]);
  };
  const sni = [0x0000, 0, 0];
  const alpn = [0x0010, 0, 3, 2, 0x68, 0x32];
  const sig = [0x000d, 0, 4, 0x04, 0x03, 0x08, 0x04];
  const vers = [0x002b, 4, 0x03, 0x04, 0x03, 0x03];
  const fp = (payload: Uint8Array): string => {
    const v = tcp(50000, 443, payload);
    const direct = ja4FromFields(clientHelloFields(v) as NonNullable<ReturnType<typeof clientHelloFields>>, false);
    const memoised = ja4(v);
    assert.equal(memoised, direct);
    return memoised;
  };
  const a = fp(hello([sni, alpn, sig, vers], 0x1a1a, [0x1301, 0x1302]));
  const b = fp(hello([[0x7a7a, 0], vers, sig, alpn, sni], 0xeaea, [0x1301, 0x1302]));
  assert.equal(a, b);
  const c = fp(hello([sni, alpn, sig, vers], 0x1a1a, [0x1301, 0x1303]));
  assert.notEqual(c, a);
  assert.equal(fp(hello([sni, alpn, sig, vers], 0x1a1a, [0x1301, 0x1302])), a);
});
