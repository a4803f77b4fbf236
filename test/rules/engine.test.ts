/**
 * The compiled engine over real views: the packet scheme on decoded frames (bytes written field
 * by field, independent of our decoders' tests), the HTTP scheme on request views, named lists,
 * and the no-allocation promise for simple rules (a million evaluations without one GC).
 */
import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import type { PacketView } from '../../src/decode/view.js';
import { compile, compileRule, ListError } from '../../src/rules/compile.js';
import { RulesError } from '../../src/rules/errors.js';
import { type HttpRequestView, httpScheme } from '../../src/scheme/http.js';
import { configureSensor, packetScheme } from '../../src/scheme/packet.js';
import { synFrame, udpFrame } from '../helpers/build.js';
import { gcsDuring } from '../helpers/gc.js';
import { decode } from '../mitigate/packets.js';

/** Ethernet + IPv6 + UDP, hop limit 255. */
function udp6Frame(): Uint8Array {
  const src = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
  const dst = [0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const payload = [1, 2, 3, 4];
  const ulen = 8 + payload.length;
  return Uint8Array.from([...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x86, 0xdd], 0x60, 0, 0, 0, 0, ulen, 17, 255, ...src, ...dst, 0x30, 0x39, 0, 53, 0, ulen, 0, 0, ...payload]);
}

const dnsQuery = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, ...Buffer.from('www'), 7, ...Buffer.from('Example'), 3, ...Buffer.from('com'), 0, 0, 1, 0, 1];
const UDP = decode(udpFrame([198, 51, 100, 7], [203, 0, 113, 10], 40000, 53, dnsQuery));
const SYN = decode(synFrame([192, 0, 2, 1], [10, 1, 2, 3], 51334, 443));
const V6 = decode(udp6Frame());

describe('packet scheme over decoded frames', () => {
  const t = (expr: string, v: PacketView) => compile(expr, packetScheme)(v);
  it('addresses, CIDR sets, families', () => {
    assert.equal(t('ip.src == 198.51.100.7', UDP), true);
    assert.equal(t('ip.src in {198.51.100.0/24}', UDP), true);
    assert.equal(t('ip.dst in {10.0.0.0/8}', SYN), true);
    assert.equal(t('ip.src in {2001:db8::/32}', V6), true);
    assert.equal(t('ip.src in {198.51.100.0/24}', V6), false);
    assert.equal(t('ip.src != 198.51.100.7', V6), true, 'IPv6 value vs IPv4 literal: only != holds');
    assert.equal(t('ip.src < 198.51.100.7', V6), false);
    assert.equal(t('ip.src in {198.51.100.1..198.51.100.9}', UDP), true);
    assert.equal(t('ip.src > 198.51.100.6 and ip.src <= 198.51.100.7', UDP), true);
  });
  it('ports, flags, lengths, versions, missing transport fields', () => {
    assert.equal(t('udp.dstport == 53 and udp.srcport == 40000', UDP), true);
    assert.equal(t('tcp.dstport == 53', UDP), false);
    assert.equal(t('tcp.dstport != 53', UDP), false, 'missing: != is false');
    assert.equal(t('not tcp.dstport == 53', UDP), true);
    assert.equal(t('tcp.flags.syn and not tcp.flags.ack and tcp.flags == 0x02 and tcp.flags & 0x12', SYN), true);
    assert.equal(t('tcp.window == 65535 and tcp.hdr_len == 20', SYN), true);
    assert.equal(t('ip.len == 40 and ip.hdr_len == 20 and ip.ttl == 64 and ip.version == 4', SYN), true);
    assert.equal(t('ip.flags.df and not ip.flags.mf and ip.frag_offset == 0 and ip.id == 1', SYN), true);
    assert.equal(t('ip.version == 6 and ip.ttl == 255 and ip.proto == "udp" and ip.proto.num == 17', V6), true);
    assert.equal(t('ip.id == 1', V6), false, 'ip.id is IPv4-only');
    assert.equal(t('ip.proto == "tcp"', SYN), true);
    assert.equal(t('ip.proto in {"tcp" "udp"}', UDP), true);
    assert.equal(t('udp.len == 12 and payload.len == 4', V6), true);
  });
  it('payload bytes, raw headers, bit_slice, DNS', () => {
    assert.equal(t('payload contains 01:02:03', V6), true);
    assert.equal(t('payload == 01:02:03:04', V6), true);
    assert.equal(t('payload matches "\\x02\\x03"', V6), true);
    assert.equal(t('bit_slice("ip", 0, 4) == 4 and bit_slice("ip", 4, 8) == 5', SYN), true);
    assert.equal(t('bit_slice("tcp", 106, 112) == 0x02', SYN), true, 'flags low 6 bits');
    assert.equal(t('bit_slice("udp", 16, 32) == 53', UDP), true);
    assert.equal(t('bit_slice("tcp", 0, 16) == 1', UDP), false, 'no TCP header: missing');
    assert.equal(t('len(ip) == 40 and starts_with(tcp, "\\xc8\\x86")', SYN), true);
    assert.equal(t('dns.qname == "www.Example.com" and dns.qtype == 1', UDP), true);
    assert.equal(t('dns.qname wildcard "*.example.COM"', UDP), true);
    assert.equal(t('lower(dns.qname) == "www.example.com"', UDP), true);
    assert.equal(t('to_string(ip.src) == "2001:db8::7"', V6), true);
    assert.equal(t('sip', UDP), false);
  });
  it('GeoIP and ASN fields come from the offline databases', () => {
    // 8.8.8.8 is in AS15169 and geolocated to the US in both shipped databases.
    const g = decode(udpFrame([8, 8, 8, 8], [10, 0, 0, 1], 53, 40000, dnsQuery));
    assert.equal(t('ip.src.asnum == 15169', g), true);
    assert.equal(t('ip.src.country == "US"', g), true);
    assert.equal(t('ip.dst.asnum == 15169', g), false);
  });
});

describe('http scheme over a request view', () => {
  const req: HttpRequestView = {
    method: 'POST',
    target: '/a/./b/../Login.PHP?user=admin&x=%41&x=2',
    host: 'www.example.com',
    version: 'HTTP/1.1',
    headers: [
      ['Host', 'www.example.com'],
      ['User-Agent', 'curl/8.0'],
      ['Cookie', 'sid=abc; theme=dark'],
      ['Accept-Language', 'fr;q=0.5, en-GB, de;q=0.8'],
      ['Content-Type', 'application/x-www-form-urlencoded; charset=utf-8'],
      ['X-Forwarded-For', '192.0.2.9'],
    ],
    body: new TextEncoder().encode('name=a+b&pw=%27+or+1%3D1'),
    clientIp: '203.0.113.50',
    ssl: true,
    timestampMs: 1_767_225_600_123,
  };
  const t = (expr: string) => compile(expr, httpScheme)(req);
  it('URI normalisation and raw fields', () => {
    assert.equal(t('http.request.uri.path == "/a/Login.PHP"'), true);
    assert.equal(t('raw.http.request.uri.path == "/a/./b/../Login.PHP"'), true);
    assert.equal(t('http.request.uri.path.extension == "php"'), true);
    assert.equal(t('http.request.uri.query == "user=admin&x=%41&x=2"'), true);
    assert.equal(t('http.request.full_uri == "https://www.example.com/a/Login.PHP?user=admin&x=%41&x=2"'), true);
    assert.equal(t('http.request.uri.args["x"][1] == "2" and http.request.uri.args["x"][0] == "%41"'), true);
    assert.equal(t('len(http.request.uri.args.names) == 3'), true);
  });
  it('headers, cookies, languages, body form, timestamps, client address', () => {
    assert.equal(t('http.user_agent == "curl/8.0" and http.referer == ""'), true);
    assert.equal(t('http.request.headers["user-agent"][0] == "curl/8.0"'), true);
    assert.equal(t('any(http.request.headers.names[*] == "Cookie")'), true);
    assert.equal(t('http.request.cookies["theme"][0] == "dark"'), true);
    assert.equal(t('http.request.accepted_languages[0] == "en-GB" and http.request.accepted_languages[2] == "fr"'), true);
    assert.equal(t('http.request.body.mime == "application/x-www-form-urlencoded"'), true);
    assert.equal(t('http.request.body.form["pw"][0] == "\' or 1=1"'), true);
    assert.equal(t('http.request.body.size == 24 and not http.request.body.truncated'), true);
    assert.equal(t('http.request.timestamp.sec == 1767225600 and http.request.timestamp.msec == 123'), true);
    assert.equal(t('ip.src in {203.0.113.0/24} and ssl'), true);
    assert.equal(t('http.x_forwarded_for == "192.0.2.9"'), true);
    assert.equal(t('http.request.headers.order == "host,user-agent,cookie,accept-language,content-type,x-forwarded-for"'), true);
    assert.equal(t('cf.bot_management.score < 30'), false, 'missing score');
    const mapped = compile('ip.src == 203.0.113.50 and ip.src in {203.0.113.0/24}', httpScheme);
    assert.equal(mapped({ ...req, clientIp: '::ffff:203.0.113.50' }), true, 'IPv4-mapped client address (dual-stack socket) is the IPv4 address');
  });
});

test('error positions are code-point offsets of the original expression (spec §1)', () => {
  for (const [expr, at] of [
    ['http.host == "🙂é" and foo', 22],
    ['\t http.host == "x" or bar', 22],
    ['http.user_agent contains "🙂🙂" and http.host == 42', 47],
  ] as const) {
    assert.throws(
      () => compile(expr, httpScheme),
      (e: unknown) => e instanceof RulesError && e.start === at,
      expr,
    );
  }
});

test('cf.colo.name is missing until the sensor is configured', () => {
  assert.equal(compile('cf.colo.name == "fra1"', packetScheme)(UDP), false);
  configureSensor('fra1', 'eu');
  try {
    assert.equal(compile('cf.colo.name == "fra1" and cf.colo.region == "eu"', packetScheme)(UDP), true);
  } finally {
    configureSensor(null, null);
  }
});

test('named lists of every kind, compiled once per rule', () => {
  const lists = {
    nets: { kind: 'ip' as const, items: ['198.51.100.0/24', '2001:db8::/32', '192.0.2.1..192.0.2.5'] },
    ports: { kind: 'int' as const, items: [80, '8000..8999', 53] },
    names: { kind: 'bytes' as const, items: ['www.Example.com'] },
  };
  assert.equal(compile('ip.src in $nets and udp.dstport in $ports and dns.qname in $names', packetScheme, { lists })(UDP), true);
  assert.equal(compile('ip.src in $nets', packetScheme, { lists })(SYN), true, '192.0.2.1 is in the range');
  assert.equal(compile('ip.dst in $nets', packetScheme, { lists })(SYN), false);
  assert.equal(compile('ip.src in $nets', packetScheme, { lists })(V6), true);
  assert.throws(
    () => compile('tcp.dstport in $nets', packetScheme, { lists }),
    (e: unknown) => e instanceof RulesError && e.cls === 'type' && e.start === 15 && e.expression === 'tcp.dstport in $nets',
  );
  assert.throws(() => compile('ip.src in $bad', packetScheme, { lists: { bad: { kind: 'ip', items: ['10.0.0.1/8'] } } }), ListError);
  assert.throws(() => compile('tcp.dstport in $bad', packetScheme, { lists: { bad: { kind: 'int', items: ['80-90'] } } }), ListError);
  const r = compileRule('not ip.src in $nets', packetScheme, { lists });
  assert.equal(r.ast.k, 'not');
});

describe('no allocation per evaluation on simple rules', () => {
  const prefixes = Array.from({ length: 10_000 }, (_, i) => `${10 + (i >> 8)}.${i & 255}.0.0/16`).join(' ');
  const rules = [
    'tcp.dstport == 443 and ip.ttl < 128',
    `ip.src in {${prefixes}}`,
    'ip.proto == "udp" and udp.dstport in {53 123 161 1900 11211} and ip.len > 60',
    'ip.src in {2001:db8::/32} or ip.dst == 203.0.113.10',
    'payload contains 02:03 and payload matches "\\x01[\\x00-\\x05]+$"',
    'dns.qname wildcard "*.example.com" and not tcp.flags.syn',
  ];
  for (const expr of rules) {
    it(expr.slice(0, 80), async () => {
      const p = compile(expr, packetScheme);
      const views = [UDP, SYN, V6];
      let hits = 0;
      const loop = (): void => {
        for (let i = 0; i < 1_000_000; i++) if (p(views[i % 3] as PacketView)) hits++;
      };
      loop(); // warm up: optimised code, unboxed numbers
      assert.equal(await gcsDuring(loop), 0);
      assert.ok(hits >= 0);
    });
  }
});
