/**
 * Capture readers: classic pcap in both byte orders and resolutions, pcapng with several
 * sections/interfaces/resolutions and unknown blocks, gzip, stdin, and damaged input.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { InputError } from '../../src/core/errors.js';
import type { PacketView } from '../../src/decode/view.js';
import { readCapture } from '../../src/sources/capture/capture.js';
import { block, epb, idb, option, pcapFile, shb, spb, synFrame, udpFrame } from '../helpers/build.js';
import { CORPUS } from '../helpers/tshark.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-readers-'));
let n = 0;
function file(bytes: Uint8Array | number[], ext = '.pcap'): string {
  const p = join(dir, `f${n++}${ext}`);
  writeFileSync(p, bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
  return p;
}

interface Seen {
  sec: number;
  nsec: number;
  src: number;
  dport: number;
  link: number;
  caplen: number;
  wirelen: number;
  ifIndex: number;
}
async function read(path: string) {
  const seen: Seen[] = [];
  const info = await readCapture(path, (v: PacketView) => {
    seen.push({ sec: v.tsSec, nsec: v.tsNsec, src: v.src4, dport: v.dstPort, link: v.linkType, caplen: v.caplen, wirelen: v.wirelen, ifIndex: v.ifIndex });
  });
  return { info, seen };
}

const A = udpFrame([10, 0, 0, 1], [10, 0, 0, 2], 1234, 53);
const B = synFrame([192, 168, 1, 9], [10, 0, 0, 2], 40000, 443);

for (const le of [true, false]) {
  for (const nano of [false, true]) {
    test(`classic pcap ${le ? 'little' : 'big'}-endian, ${nano ? 'ns' : 'µs'}`, async () => {
      const frac = nano ? 123456789 : 123456;
      const { info, seen } = await read(
        file(
          pcapFile(
            [
              { sec: 1700000000, frac, data: A },
              { sec: 1700000001, frac: 0, data: B },
            ],
            { le, nano },
          ),
        ),
      );
      assert.equal(info.format, 'pcap');
      assert.equal(info.packets, 2);
      assert.deepEqual(info.linkTypes, [1]);
      assert.equal(seen[0]?.sec, 1700000000);
      assert.equal(seen[0]?.nsec, nano ? 123456789 : 123456000);
      assert.equal(seen[0]?.src, 0x0a000001);
      assert.equal(seen[0]?.dport, 53);
      assert.equal(seen[1]?.dport, 443);
      assert.equal(info.skipped.truncated + info.skipped.malformed + info.skipped.unsupported, 0);
    });
  }
}

test('pcap caplen < wirelen keeps the wire length for byte counts', async () => {
  const cut = A.subarray(0, 38);
  const { info, seen } = await read(file(pcapFile([{ sec: 1, frac: 0, data: cut, wirelen: A.length }])));
  assert.equal(seen[0]?.caplen, 38);
  assert.equal(seen[0]?.wirelen, A.length);
  assert.equal(info.bytes, A.length);
  assert.equal(info.skipped.truncated, 1, 'UDP header cut by the snaplen');
});

for (const le of [true, false]) {
  test(`pcapng ${le ? 'little' : 'big'}-endian: two sections, interfaces with different link types and resolutions, unknown blocks`, async () => {
    const raw = B.subarray(14); // raw IPv4 for link type 101
    const bytes = [
      ...shb(le, [...option(2, [0x41, 0x42], le), 0, 0, 0, 0]),
      ...idb(le, 1), // µs default
      ...idb(le, 101, 9), // ns
      ...block(0x00000bad, [1, 2, 3, 4, 5, 6, 7, 8], le), // unknown block type: skipped
      ...epb(le, 0, 395812, 2000000 * 1000 + 5, A, A.length, [...option(1, [0x63, 0x6f, 0x6d, 0x6d, 0x65, 0x6e, 0x74], le), 0, 0, 0, 0]),
      ...epb(le, 1, 0x17, 0x9d8b_2b05, raw),
      ...block(5, [0, 0, 0, 0], le), // Interface Statistics Block: skipped
      ...shb(le),
      ...idb(le, 1, 0x80 | 10), // 2^-10 s ticks
      ...epb(le, 0, 0, 3 * 1024 + 512, B),
      ...spb(le, A),
    ];
    const { info, seen } = await read(file(bytes, '.pcapng'));
    assert.equal(info.format, 'pcapng');
    assert.equal(info.packets, 4);
    assert.deepEqual(
      info.linkTypes.sort((x, y) => x - y),
      [1, 101],
    );
    assert.equal(info.anomalies.skipped_blocks, 2);
    // 395812 * 2^32 + 2000000005 µs
    const us = 395812n * 4294967296n + 2000000005n;
    assert.equal(seen[0]?.sec, Number(us / 1000000n));
    assert.equal(seen[0]?.nsec, Number(us % 1000000n) * 1000);
    const ns = 0x17n * 4294967296n + 0x9d8b2b05n;
    assert.equal(seen[1]?.link, 101);
    assert.equal(seen[1]?.ifIndex, 1);
    assert.equal(seen[1]?.sec, Number(ns / 1000000000n));
    assert.equal(seen[1]?.nsec, Number(ns % 1000000000n));
    assert.equal(seen[1]?.dport, 443);
    assert.equal(seen[2]?.sec, 3);
    assert.equal(seen[2]?.nsec, 500000000);
    assert.equal(seen[3]?.dport, 53, 'simple packet block decoded');
  });
}

test('gzip-compressed capture', async () => {
  const { info, seen } = await read(
    file(
      gzipSync(
        pcapFile([
          { sec: 5, frac: 0, data: A },
          { sec: 6, frac: 0, data: B },
        ]),
      ),
      '.pcap.gz',
    ),
  );
  assert.equal(info.compressed, true);
  assert.equal(info.packets, 2);
  assert.equal(seen[1]?.dport, 443);
});

test('stdin stream (also gzip on stdin), read through the CLI', () => {
  const pcap = pcapFile(Array.from({ length: 1000 }, (_, i) => ({ sec: 100 + i, frac: 0, data: i % 2 ? A : B })));
  for (const input of [pcap, gzipSync(pcap)]) {
    const r = spawnSync(process.execPath, ['bin/palisade.js', 'analyze', '--json', '-'], { input, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const a = JSON.parse(r.stdout);
    assert.equal(a.capture.packets, 1000);
    assert.equal(a.traffic.protocols.udp, 500);
    assert.equal(a.traffic.protocols.tcp, 500);
    assert.equal(a.traffic.timeline.length, 1000);
  }
});

test('file cut in the middle of a record: packets before it are kept, the cut counted', async () => {
  const whole = pcapFile([
    { sec: 1, frac: 0, data: A },
    { sec: 2, frac: 0, data: B },
  ]);
  const { info } = await read(file(whole.subarray(0, whole.length - 10)));
  assert.equal(info.packets, 1);
  assert.equal(info.skipped.truncated, 1);
  assert.match(info.error ?? '', /middle of a record/);
});

test('wrong magic and garbage: a clear one-line InputError', async () => {
  await assert.rejects(
    readCapture(file(Buffer.from('GET / HTTP/1.1\r\n\r\nnot a capture')), () => {}),
    (e: unknown) => e instanceof InputError && /not a pcap or pcapng/.test((e as Error).message),
  );
  await assert.rejects(
    readCapture(file([]), () => {}),
    (e: unknown) => e instanceof InputError && /empty/.test((e as Error).message),
  );
  await assert.rejects(
    readCapture(join(dir, 'does-not-exist.pcap'), () => {}),
    (e: unknown) => e instanceof InputError && /no such file/.test((e as Error).message),
  );
  const r = spawnSync(process.execPath, ['bin/palisade.js', 'analyze', join(dir, 'nope.pcap')], { encoding: 'utf8' });
  assert.equal(r.status, 3);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('record header with an absurd caplen stops reading with a counted error, not a hang', async () => {
  const bad = pcapFile([
    { sec: 1, frac: 0, data: A },
    { sec: 2, frac: 0, data: B, caplen: 0x7fffffff },
  ]);
  const { info } = await read(file(bad));
  assert.equal(info.packets, 1);
  assert.equal(info.skipped.malformed, 1);
  assert.match(info.error ?? '', /corrupt record header/);
});

test('caplen larger than snaplen is decoded and reported; zero-length packets are counted', async () => {
  const { info, seen } = await read(
    file(
      pcapFile(
        [
          { sec: 1, frac: 0, data: A },
          { sec: 2, frac: 0, data: new Uint8Array(0) },
        ],
        { snaplen: 20 },
      ),
    ),
  );
  assert.equal(info.packets, 2);
  assert.equal(info.anomalies.caplen_over_snaplen, 1);
  assert.equal(seen[0]?.dport, 53);
  assert.equal(info.skipped.truncated, 1, 'the empty frame has not even an Ethernet header');
});

test('unsupported link type is counted, not fatal', async () => {
  const { info } = await read(file(pcapFile([{ sec: 1, frac: 0, data: A }], { linkType: 147 })));
  assert.equal(info.packets, 1);
  assert.equal(info.skipped.unsupported, 1);
});

test('pcapng with a block whose trailing length disagrees is reported as damaged', async () => {
  const good = [...shb(true), ...idb(true, 1), ...epb(true, 0, 0, 1, A)];
  const broken = epb(true, 0, 0, 2, B);
  broken[broken.length - 4] = 0xee;
  const { info } = await read(file([...good, ...broken], '.pcapng'));
  assert.equal(info.packets, 1);
  assert.equal(info.skipped.malformed, 1);
  assert.match(info.error ?? '', /corrupt pcapng block/);
});

for (const format of ['pcap', 'pcapng']) {
  test(`${format} prefilter: refused records are skipped before decoding and not counted; the rest arrive whole`, async () => {
    const path =
      format === 'pcap'
        ? file(
            pcapFile([
              { sec: 1700000000, frac: 1, data: A },
              { sec: 1700000001, frac: 2, data: B },
              { sec: 1700000002, frac: 3, data: A },
            ]),
          )
        : file(
            [
              ...shb(true),
              ...idb(true, 1, 9),
              ...[A, B, A].flatMap((d, k) => {
                const ns = BigInt(1700000000 + k) * 1_000_000_000n + BigInt(k + 1);
                return epb(true, 0, Number(ns >> 32n), Number(ns & 0xffffffffn), d);
              }),
            ],
            '.pcapng',
          );
    const looked: Array<[number, number, number]> = [];
    const seen: Array<[number, number]> = [];
    const info = await readCapture(path, (v) => seen.push([v.tsSec, v.dstPort]), {
      prefilter: (buf, off, caplen, link, sec) => {
        looked.push([sec, caplen, link]);
        return buf[off + 23] === 6; // the IPv4 protocol byte of an Ethernet frame: TCP only
      },
    });
    assert.deepEqual(looked, [
      [1700000000, A.length, 1],
      [1700000001, B.length, 1],
      [1700000002, A.length, 1],
    ]);
    assert.deepEqual(seen, [[1700000001, 443]]);
    assert.equal(info.packets, 1);
    assert.equal(info.error, null);
  });
}

test('streamApps false: TCP application data and QUIC are left undecoded, everything below them is the same', async () => {
  const fields = (v: PacketView) => [v.ipVersion, v.src4, v.dst4, v.ipProto, v.ipLen, v.ttl, v.srcPort, v.dstPort, v.tcpFlags, v.tcpWindow, v.udpLen, v.status].join(',');
  for (const f of ['edge/tls_chrome-34-google.pcap', 'edge/http_get.pcap', 'edge/quic_firefox-102.13.0esr-blog-cloudflare-com.pcap', 'edge/dns53.pcap']) {
    const full: Array<[string, number]> = [];
    const lean: Array<[string, number]> = [];
    await readCapture(join(CORPUS, f), (v) => full.push([fields(v), v.app]));
    await readCapture(join(CORPUS, f), (v) => lean.push([fields(v), v.app]), { streamApps: false });
    assert.deepEqual(
      lean.map((x) => x[0]),
      full.map((x) => x[0]),
      f,
    );
    const decodedFull = full.filter((x) => x[1] !== 0).length;
    const decodedLean = lean.filter((x) => x[1] !== 0).length;
    assert.ok(decodedFull > 0, `${f}: something decoded`);
    // DNS over UDP is still decoded (detection classifies by it); TLS, HTTP and QUIC are not.
    if (f.includes('dns53')) assert.equal(decodedLean, decodedFull, f);
    else assert.equal(decodedLean, 0, f);
  }
});
