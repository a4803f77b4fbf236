/**
 * Memory stays bounded whatever the capture holds: ten million distinct spoofed IPv4 sources
 * (plus a stream of distinct IPv6 sources and random DNS names) must not grow the heap past a
 * fixed budget, and the summary must say which figures are estimates.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Analyzer } from '../../src/analyze/analyzer.js';
import { PacketView } from '../../src/decode/view.js';
import { prng } from '../helpers/prng.js';

test('10 million spoofed sources: bounded heap, heavy hitter still found, estimates flagged', () => {
  const a = new Analyzer();
  const v = new PacketView();
  v.buf = new Uint8Array(64);
  const rnd = prng(99);
  const before = process.memoryUsage().heapUsed;
  const N = 10_000_000;
  for (let i = 0; i < N; i++) {
    v.reset();
    v.wirelen = 60;
    v.tsSec = 1700000000 + Math.floor(i / 100_000);
    v.tsNsec = (i % 100_000) * 10_000;
    v.ipVersion = 4;
    v.ipHdrLen = 20;
    v.l4Proto = 6;
    v.l4Off = 34;
    // One real heavy hitter (1% of packets) hidden in uniformly random spoofed sources.
    v.src4 = i % 100 === 0 ? 0xc0000201 : Math.floor(rnd() * 4294967296);
    v.dst4 = 0x0a0a0a0a;
    v.dstPort = 80;
    v.tcpFlags = 2;
    a.add(v);
  }
  const grown = process.memoryUsage().heapUsed - before;
  const r = a.result({
    file: 'synthetic',
    format: 'pcap',
    compressed: false,
    linkTypes: [1],
    packets: N,
    bytes: N * 60,
    skipped: { truncated: 0, malformed: 0, unsupported: 0 },
    anomalies: { caplen_over_snaplen: 0, skipped_blocks: 0 },
    error: null,
  });
  assert.ok(grown < 150 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(0)} MB`);
  assert.equal(r.traffic.top_sources[0]?.ip, '192.0.2.1');
  // Misra–Gries: the reported count is a lower bound within the error of the true 100,000.
  const top = r.traffic.top_sources[0]?.packets ?? 0;
  assert.ok(top <= 100_000 && top > 50_000, `heavy hitter count ${top}`);
  assert.ok(r.traffic.estimated.includes('top_sources'));
  // HyperLogLog: ~10M distinct within a few percent.
  assert.ok(Math.abs(r.traffic.unique_sources - 9_988_000) / 9_988_000 < 0.05, `unique ${r.traffic.unique_sources}`);
  assert.equal(r.traffic.top_destinations[0]?.packets, N, 'one destination: exact');
  assert.equal(r.traffic.timeline.length, 100);
});
