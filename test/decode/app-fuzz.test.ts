/**
 * Robustness of the application decoders on hostile input, and their allocation behaviour.
 *
 * Fuzz: real payloads (tshark-extracted) and hand-built ones, mutated with a seeded PRNG (bit
 * flips, truncation, length-field smashes, random bytes), decoded inside a larger buffer: no
 * exception, every offset written stays in [off, end), and the result does not change when the
 * bytes around the payload change (so nothing reads outside it). JA3/JA4 run on every hello.
 *
 * Allocation: a mix of packets decoded a million times after a warm-up must neither grow the
 * heap by more than a few MB nor trigger garbage collections (a decoder allocating even a few
 * bytes per packet would cause dozens of scavenges).
 */
import assert from 'node:assert/strict';
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
import { test } from 'node:test';
import { decodeApp } from '../../src/decode/app.js';
import { ja3 } from '../../src/decode/ja3.js';
import { ja4, ja4Raw } from '../../src/decode/ja4.js';
import { PacketView } from '../../src/decode/view.js';
import { prng } from '../helpers/prng.js';
import { bytes, samples } from './app-payloads.js';

const CASES = Number(process.env.PALISADE_APP_FUZZ_CASES ?? 60_000);

interface Seed {
  proto: 6 | 17;
  sport: number;
  dport: number;
  tcpFlags: number;
  bytes: Uint8Array;
}

function corpusSeeds(): Seed[] {
  const out: Seed[] = [];
  const take = (file: string, filter: string, max: number) => {
    for (const s of samples(file, filter).slice(0, max)) out.push(s);
  };
  take('edge/dns53.pcap', 'dns', 5);
  take('edge/pcapng-multi-interface.pcapng', 'dns', 10);
  take('edge/ipv6-fragmented-dns.pcap', 'dns', 5);
  take('ddos/amp.dns.RRSIG.fragmented.pcap', 'dns && !icmp', 20);
  take('edge/ntp_ntpmode67.pcap', 'ntp', 9);
  take('edge/ntp_ntp2.pcap', 'ntp', 4);
  take('ddos/amp.UDP.snmp.src161.pcapng', 'snmp && !icmp && frame.len > 200', 10);
  take('ddos/amp.UDP.snmp.src161.pcapng', 'snmp && !icmp && frame.len < 100', 5);
  take('edge/tls_chrome-34-google.pcap', 'tls.handshake.type == 1', 1);
  take('edge/tls_tls13-ech.pcap', 'tls.handshake.type == 1', 2);
  take('ddos/amp.dns.RRSIG.fragmented.pcap', 'tls.handshake.type == 1', 3);
  take('edge/wikipedia.pcap', 'http.request || http.response', 10);
  take('edge/http_get.pcap', 'http.request || http.response', 2);
  take('edge/quic_chromium-115.0.5790.110-api-cirrus-com.pcap', 'frame.number == 1', 1);
  take('edge/quic_firefox-102.13.0esr-blog-cloudflare-com.pcap', 'frame.number == 1', 1);
  return out;
}

const SYNTHETIC: Seed[] = [
  { proto: 17, sport: 40000, dport: 1900, tcpFlags: 0, bytes: bytes('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nST: ssdp:all\r\n\r\n') },
  { proto: 17, sport: 1900, dport: 40000, tcpFlags: 0, bytes: bytes('HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nUSN: uuid:1\r\n\r\n') },
  { proto: 17, sport: 40000, dport: 11211, tcpFlags: 0, bytes: bytes([0, 1, 0, 0, 0, 1, 0, 0], 'stats\r\n') },
  { proto: 17, sport: 11211, dport: 40000, tcpFlags: 0, bytes: bytes([0, 1, 0, 0, 0, 1, 0, 0], 'STAT pid 1\r\nEND\r\n') },
  // CLDAP searchRequest with a four-octet outer length, and a searchResEntry.
  {
    proto: 17,
    sport: 40000,
    dport: 389,
    tcpFlags: 0,
    bytes: bytes(
      0x30,
      0x84,
      0,
      0,
      0,
      0x2c,
      0x02,
      0x01,
      0x01,
      0x63,
      0x27,
      0x04,
      0x00,
      0x0a,
      0x01,
      0x00,
      0x0a,
      0x01,
      0x00,
      0x02,
      0x01,
      0x00,
      0x02,
      0x01,
      0x00,
      0x01,
      0x01,
      0x00,
      0x87,
      0x0b,
      'objectClass',
      0x30,
      0x0a,
      0x04,
      0x08,
      'netlogon',
    ),
  },
  {
    proto: 17,
    sport: 389,
    dport: 40000,
    tcpFlags: 0,
    bytes: bytes(0x30, 0x81, 0x1a, 0x02, 0x01, 0x01, 0x64, 0x81, 0x14, 0x04, 0x00, 0x30, 0x10, 0x30, 0x0e, 0x04, 0x08, 'netlogon', 0x31, 0x02, 0x04, 0x00),
  },
  { proto: 6, sport: 40000, dport: 53, tcpFlags: 0x18, bytes: bytes(0, 17, 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 0, 0, 1, 0, 1) },
  { proto: 17, sport: 19, dport: 40000, tcpFlags: 0, bytes: bytes('!"#$%&\'()*+,-./0123456789\r\n') },
];

const PORTS = [53, 123, 1900, 11211, 389, 161, 162, 19, 5353, 80, 443, 40000];

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  let b = src.slice();
  const pick = () => Math.floor(rnd() * Math.max(1, b.length));
  const rounds = 1 + Math.floor(rnd() * 3);
  for (let r = 0; r < rounds; r++) {
    switch (Math.floor(rnd() * 5)) {
      case 0:
        for (let i = 0, n = 1 + Math.floor(rnd() * 8); i < n && b.length; i++) b[pick()] ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // length fields: extreme byte values, or a big-endian 16-bit smash
        for (let i = 0, n = 1 + Math.floor(rnd() * 4); i < n && b.length; i++) {
          const at = pick();
          const val = [0x00, 0x01, 0x3f, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xc0, 0xff][Math.floor(rnd() * 10)] as number;
          b[at] = val;
          if (rnd() < 0.5 && at + 1 < b.length) b[at + 1] = Math.floor(rnd() * 256);
        }
        break;
      case 2:
        b = b.slice(0, pick());
        break;
      case 3:
        for (let i = 0; i < b.length; i++) if (rnd() < 0.05) b[i] = Math.floor(rnd() * 256);
        break;
      default: {
        // Splice a region onto itself (repeated labels, nested TLVs).
        const from = pick();
        const len = Math.floor(rnd() * 64);
        const part = b.slice(from, from + len);
        const at = pick();
        const out = new Uint8Array(b.length + part.length);
        out.set(b.subarray(0, at));
        out.set(part, at);
        out.set(b.subarray(at), at + part.length);
        b = out;
      }
    }
  }
  return b;
}

const PAIRS: [string, string][] = [
  ['tlsHelloOff', 'tlsHelloLen'],
  ['tlsSniOff', 'tlsSniLen'],
  ['tlsAlpnOff', 'tlsAlpnLen'],
  ['httpMethodOff', 'httpMethodLen'],
  ['httpUriOff', 'httpUriLen'],
  ['httpHostOff', 'httpHostLen'],
  ['httpUaOff', 'httpUaLen'],
  ['snmpCommunityOff', 'snmpCommunityLen'],
];

/** Everything decodeApp may write, as one comparable string (offsets relative to the payload). */
function snapshot(v: PacketView, off: number): string {
  const r = v as unknown as Record<string, number | boolean>;
  const keys = [
    'app',
    'dnsId',
    'dnsFlags',
    'dnsQdCount',
    'dnsAnCount',
    'dnsNsCount',
    'dnsArCount',
    'dnsQtype',
    'dnsQclass',
    'dnsNameLen',
    'ntpVersion',
    'ntpMode',
    'ntpReqCode',
    'ntpResponse',
    'ssdpKind',
    'ssdpHasSt',
    'memcachedKind',
    'cldapOp',
    'snmpPdu',
    'snmpVersion',
    'tlsVersion',
    'tlsMaxVersion',
    'tlsQuic',
    'httpMinor',
    'httpStatus',
  ];
  let s = keys.map((k) => String(r[k])).join(',');
  for (const [o, l] of PAIRS) s += `,${(r[o] as number) < 0 ? -1 : (r[o] as number) - (v.tlsQuic && o.startsWith('tls') ? 0 : off)}:${r[l]}`;
  if (v.dnsNameLen > 0) s += `,${Buffer.from(v.dnsName.subarray(0, v.dnsNameLen)).toString('latin1')}`;
  return s;
}

test(`fuzz: ${CASES} mutated payloads, no throw, offsets inside the payload, no reads outside it`, () => {
  const seeds = [...corpusSeeds(), ...SYNTHETIC];
  assert.ok(seeds.length >= 80, `${seeds.length} seeds`);
  const rnd = prng(0xa77);
  const v = new PacketView();
  const PAD = 32;
  let hellos = 0;
  const apps = new Set<number>();
  for (let i = 0; i < CASES; i++) {
    const seed = seeds[i % seeds.length] as Seed;
    const payload = mutate(seed.bytes, rnd);
    const sport = rnd() < 0.8 ? seed.sport : (PORTS[Math.floor(rnd() * PORTS.length)] as number);
    const dport = rnd() < 0.8 ? seed.dport : (PORTS[Math.floor(rnd() * PORTS.length)] as number);
    const flags = seed.proto === 6 && rnd() < 0.1 ? 0x02 : seed.tcpFlags;
    const results: string[] = [];
    for (const fill of [0x00, 0xff]) {
      const buf = new Uint8Array(PAD + payload.length + PAD).fill(fill);
      buf.set(payload, PAD);
      const off = PAD;
      const end = PAD + payload.length;
      v.resetL4();
      v.buf = buf;
      v.srcPort = sport;
      v.dstPort = dport;
      v.tcpFlags = flags;
      v.tsSec = i; // QUIC's decryption budget is per capture second
      try {
        decodeApp(v, seed.proto, off, end);
      } catch (e) {
        assert.fail(`case ${i}: decodeApp threw ${(e as Error).stack}\npayload ${Buffer.from(payload).toString('hex')}`);
      }
      const r = v as unknown as Record<string, number>;
      for (const [o, l] of PAIRS) {
        const at = r[o] as number;
        const len = r[l] as number;
        if (at === -1) continue;
        // A QUIC hello's offsets index the view's scratch (the decrypted CRYPTO stream).
        const quic = v.tlsQuic && o.startsWith('tls');
        const lo = quic ? 0 : off;
        const hi = quic ? v.tlsBuf.length : end;
        assert.ok(at >= lo && len >= 0 && at + len <= hi && (len === 0 || at < hi), `case ${i}: ${o}=${at} ${l}=${len} outside [${lo},${hi})`);
      }
      assert.ok(v.dnsNameLen <= 253, `case ${i}: dnsNameLen ${v.dnsNameLen}`);
      assert.equal(v.status, 0, `case ${i}: L7 decoders must not touch status`);
      if (v.tlsHelloOff >= 0) {
        hellos++;
        assert.match(ja3(v), /^[0-9a-f]{32}$/);
        assert.match(ja4(v), /^[tq][0-9a-z]{2}[di]\d{4}[0-9a-zA-Z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/);
        ja4Raw(v);
      }
      apps.add(v.app);
      results.push(snapshot(v, off));
    }
    assert.equal(results[0], results[1], `case ${i}: result depends on bytes outside the payload\npayload ${Buffer.from(payload).toString('hex')}`);
  }
  assert.ok(hellos > 1000, `${hellos} mutated hellos fingerprinted`);
  assert.ok(apps.size >= 10, `apps seen: ${[...apps].join(',')}`);
});

test('allocation: a million decodes of a protocol mix grow the heap by < 8 MB and trigger no GC', async () => {
  const mix = [...corpusSeeds().filter((_, i) => i % 4 === 0), ...SYNTHETIC];
  const v = new PacketView();
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      const s = mix[i % mix.length] as Seed;
      v.resetL4();
      v.buf = s.bytes;
      v.srcPort = s.sport;
      v.dstPort = s.dport;
      v.tcpFlags = s.tcpFlags;
      decodeApp(v, s.proto, 0, s.bytes.length);
    }
  };
  run(200_000); // warm-up: let the JIT settle
  const gcs: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  await new Promise((r) => setTimeout(r, 20));
  gcs.length = 0;
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  run(1_000_000);
  const t1 = performance.now();
  const grown = process.memoryUsage().heapUsed - before;
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  const during = gcs.filter((e) => e.startTime >= t0 && e.startTime <= t1);
  assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${grown} bytes`);
  assert.ok(during.length <= 1, `${during.length} GCs during the decode loop`);
});
