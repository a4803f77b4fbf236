/**
 * Fuzz the flow decoders (as test/decode/fuzz.test.ts does the packet decoders): datagrams of the
 * flow corpus mutated and truncated, and random bytes behind plausible headers; seeded, bounded.
 * No exception, no hang, offsets inside the datagram, state inside its bounds, and the malformed
 * counters move.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { FlowDecoder } from '../../../src/sources/flow/datagram.js';
import type { FlowView } from '../../../src/sources/flow/record-view.js';
import { prng } from '../../helpers/prng.js';
import { captureDatagrams, type Datagram, flowFiles } from './corpus.js';

const CASES = Number(process.env.PALISADE_FUZZ_CASES ?? 150_000);

const corpus: Datagram[] = [];

before(async () => {
  for (const f of flowFiles()) {
    const all = await captureDatagrams(f);
    // Every datagram of the small files, a spread of the big ones.
    const step = Math.max(1, Math.floor(all.length / 150));
    for (let i = 0; i < all.length; i += step) corpus.push(all[i] as Datagram);
  }
});

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  let b = src.slice();
  const pick = () => Math.floor(rnd() * Math.max(1, b.length));
  switch (Math.floor(rnd() * 7)) {
    case 0:
      for (let i = 0, n = 1 + Math.floor(rnd() * 8); i < n && b.length; i++) b[pick()] ^= 1 << Math.floor(rnd() * 8);
      break;
    case 1: // extreme values where lengths and counts live
      for (let i = 0, n = 1 + Math.floor(rnd() * 4); i < n && b.length; i++) b[pick()] = [0, 1, 3, 0x7f, 0x80, 0xff, 0xfe][Math.floor(rnd() * 7)] as number;
      break;
    case 2:
      b = b.slice(0, pick());
      break;
    case 3:
      for (let i = 0; i < b.length; i++) if (rnd() < 0.05) b[i] = Math.floor(rnd() * 256);
      break;
    case 4: {
      const s = pick();
      const e = Math.min(b.length, s + Math.floor(rnd() * 64));
      const out = new Uint8Array(b.length + (e - s));
      out.set(b.subarray(0, e));
      out.set(b.subarray(s), e);
      b = out;
      break;
    }
    case 5: // a 16-bit length or count set to 0 or 0xffff (set lengths, field counts, field lengths)
      if (b.length > 2) {
        const o = pick() % (b.length - 1);
        const v = rnd() < 0.5 ? 0 : 0xffff;
        b[o] = v >>> 8;
        b[o + 1] = v & 0xff;
      }
      break;
    default: // a 32-bit count set huge (sFlow sample and record counts, lengths)
      if (b.length > 4) {
        const o = (pick() % (b.length - 3)) & ~3;
        b[o] = 0x7f;
        b[o + 1] = 0xff;
        b[o + 2] = 0xff;
        b[o + 3] = rnd() < 0.5 ? 0xff : 0x01;
      }
  }
  return b;
}

/** Random bodies behind each protocol's header, so the decoders, not the sniffer, see the junk. */
function randomDatagram(rnd: () => number): Uint8Array {
  const len = 8 + Math.floor(rnd() * 600);
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(rnd() * 256);
  const kind = Math.floor(rnd() * 4);
  if (kind === 0) b.set([0, 5]);
  else if (kind === 1) b.set([0, 9]);
  else if (kind === 2 && len >= 4) b.set([0, 10, len >>> 8, len & 255]);
  else b.set([0, 0, 0, 5, 0, 0, 0, 1]);
  return b;
}

function checkView(v: FlowView, buf: Uint8Array, off: number, end: number, i: number): void {
  if (v.src6Off >= 0) assert.ok(v.src6Off >= 0 && v.src6Off + 16 <= v.buf.length, `case ${i}: src6 out of buffer`);
  if (v.dst6Off >= 0) assert.ok(v.dst6Off + 16 <= v.buf.length, `case ${i}: dst6 out of buffer`);
  if (v.hasPacket) {
    // Inside the datagram, or inside the held copy for data decoded from the hold.
    const pv = v.packet;
    if (pv.buf === buf) assert.ok(pv.frameOff >= off && pv.frameEnd <= end, `case ${i}: sampled header out of datagram`);
    else assert.ok(pv.buf === v.buf && pv.frameOff >= 0 && pv.frameEnd <= pv.buf.length, `case ${i}: sampled header out of its buffer`);
  }
  assert.ok(v.asPathLen <= v.asPath.length);
  assert.ok(Number.isFinite(v.packets) && Number.isFinite(v.bytes) && v.samplingRate >= 1, `case ${i}: counts`);
}

test(`flow decoders survive ${CASES} mutated corpus datagrams and random ones`, () => {
  assert.ok(corpus.length > 1000, `corpus datagrams: ${corpus.length}`);
  const rnd = prng(0xf10f);
  const dec = new FlowDecoder({ maxTemplates: 2000, maxTemplateFields: 40_000, maxPendingSets: 64, maxPendingBytes: 256 * 1024, maxDomains: 512 });
  let buf = new Uint8Array(0);
  let off = 0;
  let end = 0;
  let i = 0;
  dec.onFlow = (v) => checkView(v, buf, off, end, i);
  dec.onCounters = (c) => assert.ok(Number.isFinite(c.inOctets));
  const ports = [2055, 4739, 6343, 9995, 9991, 53];
  const t0 = Date.now();
  for (i = 0; i < CASES; i++) {
    const d = corpus[Math.floor(rnd() * corpus.length)] as Datagram;
    const data = rnd() < 0.1 ? randomDatagram(rnd) : rnd() < 0.15 ? d.bytes : mutate(d.bytes, rnd);
    buf = new Uint8Array(data.length + 64);
    buf.set(data, 32);
    off = 32;
    end = 32 + data.length;
    // A few exporters and ports, so several domains and the sniffer's both paths are exercised.
    dec.exporter.set4((d.src4 + (i % 7)) >>> 0);
    dec.exporter.port = d.srcPort;
    const port = rnd() < 0.8 ? d.dstPort : (ports[Math.floor(rnd() * ports.length)] as number);
    try {
      dec.decode(buf, off, end, port, 1_700_000_000_000 + i);
    } catch (e) {
      assert.fail(`case ${i}: ${(e as Error).stack}\ndatagram ${Buffer.from(data).toString('hex')} port ${port}`);
    }
    assert.ok(dec.cache.count <= 2000 && dec.cache.fields <= dec.cache.maxFields, `case ${i}: template cache over its bounds`);
    assert.ok(dec.pending.size <= 64 && dec.pending.heldBytes <= 256 * 1024, `case ${i}: hold over its bounds`);
    assert.ok(dec.stateEntries <= dec.maxStateEntries, `case ${i}: per-domain state over its bound`);
  }
  const s = dec.stats;
  assert.ok(Date.now() - t0 < 120_000, 'no hang');
  assert.equal(s.udpDatagrams, CASES);
  assert.ok(s.malformedDatagrams > CASES / 50, `malformed datagrams counted: ${s.malformedDatagrams}`);
  assert.ok(s.malformedSets + s.malformedRecords + s.malformedSamples + s.malformedTemplates > 0);
  assert.ok(s.flowRecords + s.flowSamples > 0, 'records still decode between the broken ones');
  assert.ok(s.notFlow > 0);
  assert.ok(dec.domains.domains.length <= 512);
});

test('every truncation of a corpus datagram of each kind is survived', () => {
  const dec = new FlowDecoder();
  const taken = new Map<number, number>();
  let n = 0;
  for (const d of corpus) {
    // Up to 5 datagrams of each kind (the second byte: 5, 9, 10; 0 for sFlow), every cut of each.
    const kind = d.bytes[1] as number;
    if ((taken.get(kind) ?? 0) >= 5) continue;
    taken.set(kind, (taken.get(kind) ?? 0) + 1);
    for (let cut = 0; cut <= d.bytes.length; cut += 1 + (d.bytes.length >> 9)) {
      dec.exporter.set4(d.src4);
      dec.decode(d.bytes, 0, cut, d.dstPort, 0);
      n++;
    }
  }
  assert.ok(n > 1000);
  assert.ok(dec.stats.malformedDatagrams > 0);
});
