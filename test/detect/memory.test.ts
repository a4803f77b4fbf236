/**
 * The detector's memory is fixed whatever the traffic: ten million spoofed sources (and a
 * stream of random destinations that overflows the per-window table) must not grow the heap
 * past a fixed budget, and the flood must still be found.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketView } from '../../src/decode/view.js';
import { Detector } from '../../src/detect/l34/detector.js';
import { prng } from '../helpers/prng.js';

test('10 million spoofed sources: bounded heap, the SYN flood is still detected', () => {
  const d = new Detector();
  const v = new PacketView();
  v.buf = new Uint8Array(64);
  const rnd = prng(7);
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  const N = 10_000_000;
  for (let i = 0; i < N; i++) {
    v.reset();
    v.wirelen = 60;
    // 100,000 packets per second of traffic time.
    v.tsSec = 1_700_000_000 + Math.floor(i / 100_000);
    v.tsNsec = (i % 100_000) * 10_000;
    v.ipVersion = 4;
    v.ipHdrLen = 20;
    v.ipLen = 40;
    v.ttl = 244;
    v.ipProto = 6;
    v.l4Proto = 6;
    v.l4Off = 34;
    v.src4 = Math.floor(rnd() * 4294967296);
    // Nine in ten to the victim; the rest to random addresses (more than the table holds).
    v.dst4 = i % 10 === 0 ? Math.floor(rnd() * 4294967296) : 0xcb00710a;
    v.srcPort = 1024 + (i % 60000);
    v.dstPort = 443;
    v.tcpFlags = 2;
    v.tcpWindow = 512;
    v.tcpHdrLen = 20;
    d.add(v);
  }
  const tracks = d.finish();
  global.gc?.();
  const grown = process.memoryUsage().heapUsed - before;
  assert.ok(grown < 96 * 1024 * 1024, `heap grew by ${(grown / 1048576).toFixed(0)} MB`);
  if (process.env.PALISADE_VERBOSE) console.log(`heap growth ${(grown / 1048576).toFixed(1)} MB`);
  const syn = tracks.filter((t) => t.vector === 'tcp_syn_flood' && !t.isPrefix && t.addr[3] === 10);
  assert.equal(syn.length, 1, tracks.map((t) => `${t.vector}@${t.key}`).join(', '));
  assert.equal(syn[0]?.key, '203.0.113.10');
  assert.ok((syn[0]?.windowPackets ?? 0) >= 0.89 * N);
});
