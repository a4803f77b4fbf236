/** sFlow v5 on built datagrams: samples through decode/, extended records, counters → utilisation, loss, unknown formats, malformed input. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowDecoder } from '../../../src/sources/flow/datagram.js';
import { type CounterView, FlowKind } from '../../../src/sources/flow/record-view.js';
import { Bytes, counterSample, flowSample, genericCounters, sflowDatagram, sflowRecord } from './build.js';

/** An Ethernet/IPv4/TCP SYN frame as a sampler would copy it. */
function synFrame(): Uint8Array {
  return new Bytes()
    .zeros(12)
    .u16(0x0800)
    .u8(0x45)
    .u8(0)
    .u16(40)
    .u16(1)
    .u16(0)
    .u8(64)
    .u8(6)
    .u16(0)
    .ip4('203.0.113.5')
    .ip4('198.51.100.10')
    .u16(40000)
    .u16(443)
    .u32(1)
    .u32(0)
    .u8(0x50)
    .u8(0x02)
    .u16(1024)
    .u16(0)
    .u16(0)
    .done();
}

function rawHeader(frame: Uint8Array, frameLength: number): Uint8Array {
  const b = new Bytes().u32(1).u32(frameLength).u32(4).u32(frame.length).bytes(frame);
  while (b.length % 4 !== 0) b.u8(0);
  return sflowRecord(1, b.done());
}

function gateway(path: number[]): Uint8Array {
  const b = new Bytes().u32(1).ip4('192.0.2.254').u32(64496).u32(64497).u32(64498).u32(1).u32(2).u32(path.length);
  for (const a of path) b.u32(a);
  b.u32(0).u32(100);
  return sflowRecord(1003, b.done());
}

describe('sFlow v5', () => {
  test('a flow sample: raw header through decode/, extended switch and gateway, weight = sampling rate', () => {
    const dec = new FlowDecoder();
    const seen: { src4: number; dstPort: number; flags: number; rate: number; bytes: number; vlan: number; path: number[]; dstAs: number; syn: number; pkt: boolean }[] = [];
    dec.onFlow = (v) =>
      seen.push({
        src4: v.src4,
        dstPort: v.dstPort,
        flags: v.tcpFlags,
        rate: v.samplingRate,
        bytes: v.bytes,
        vlan: v.srcVlan,
        path: [...v.asPath.subarray(0, v.asPathLen)],
        dstAs: v.dstAs,
        syn: v.packet.tcpFlags,
        pkt: v.hasPacket,
      });
    const sample = flowSample(1, 3, 1000, 5000, 0, [
      rawHeader(synFrame(), 64),
      sflowRecord(1001, new Bytes().u32(100).u32(0).u32(200).u32(0).done()),
      gateway([64500, 64501, 64502]),
    ]);
    const d = sflowDatagram('192.0.2.1', 0, 1, 60_000, [{ format: 1, body: sample }]);
    assert.equal(dec.decode(d, 0, d.length, 6343, 1_714_550_400_000), FlowKind.SFLOW5);
    assert.deepEqual(seen, [{ src4: 0xcb007105, dstPort: 443, flags: 2, rate: 1000, bytes: 64, vlan: 100, path: [64500, 64501, 64502], dstAs: 64502, syn: 2, pkt: true }]);
    assert.equal(dec.stats.flowSamples, 1);
    assert.equal(dec.view.exporter4, 0xc0000201, 'the exporter is the agent');
  });

  test('counter samples: generic interface counters, and link utilisation from consecutive samples', () => {
    const dec = new FlowDecoder();
    const got: Partial<CounterView>[] = [];
    dec.onCounters = (c) => got.push({ ifIndex: c.ifIndex, inBps: c.inBps, outUtilisation: c.outUtilisation, intervalMs: c.intervalMs });
    const at = (seq: number, uptime: number, inOct: number, outOct: number) => {
      const d = sflowDatagram('192.0.2.1', 0, seq, uptime, [{ format: 2, body: counterSample(seq, 3, [sflowRecord(1, genericCounters(3, 1e9, inOct, outOct))]) }]);
      dec.decode(d, 0, d.length, 6343, 0);
    };
    at(1, 10_000, 1_000_000, 0);
    at(2, 30_000, 1_000_000 + 25_000_000, 250_000_000);
    assert.equal(got.length, 2);
    assert.ok(Number.isNaN(got[0]?.inBps), 'no rate from a first sample');
    assert.equal(got[1]?.intervalMs, 20_000);
    assert.equal(got[1]?.inBps, 10_000_000);
    assert.equal(got[1]?.outUtilisation, 0.1);
    assert.equal(dec.stats.counterSamples, 2);
  });

  test('loss: datagram sequence gaps, per-source sample gaps, and the drop counter', () => {
    const dec = new FlowDecoder();
    const send = (seq: number, sampleSeq: number, drops: number) => {
      const d = sflowDatagram('192.0.2.1', 0, seq, 1000, [{ format: 1, body: flowSample(sampleSeq, 3, 10, 0, drops, []) }]);
      dec.decode(d, 0, d.length, 6343, 0);
    };
    send(1, 1, 0);
    send(2, 2, 0);
    send(5, 9, 40);
    assert.equal(dec.stats.lostSflowDatagrams, 2);
    assert.equal(dec.stats.lostSflowSamples, 6);
    assert.equal(dec.stats.sflowDrops, 40);
  });

  test('unknown sample and record formats are skipped by length and counted; bad lengths are malformed', () => {
    const dec = new FlowDecoder();
    const tagged = flowSample(1, 3, 16, 0, 0, [sflowRecord((43874 << 12) | 1, new Uint8Array(8)), rawHeader(synFrame(), 64)]);
    const d = sflowDatagram('192.0.2.1', 0, 1, 1000, [
      { format: (9 << 12) | 7, body: new Uint8Array(12) },
      { format: 1, body: tagged },
    ]);
    let n = 0;
    dec.onFlow = (v) => {
      n++;
      assert.equal(v.dstPort, 443, 'records after the unknown one still decode');
    };
    dec.decode(d, 0, d.length, 6343, 0);
    assert.equal(n, 1);
    assert.equal(dec.stats.unknownSampleFormats, 1);
    assert.equal(dec.stats.unknownRecordFormats, 1);
    assert.equal(dec.stats.malformedDatagrams, 0);
    // A sample length of 6 (not a multiple of 4), then one past the datagram's end.
    const bad = d.slice();
    bad[35] = 6;
    dec.decode(bad, 0, bad.length, 6343, 0);
    const past = d.slice();
    past[34] = 0x7f;
    dec.decode(past, 0, past.length, 6343, 0);
    assert.equal(dec.stats.malformedDatagrams, 2);
    // An absurd sample count.
    const many = d.slice();
    many[24] = 0x7f;
    dec.decode(many, 0, many.length, 6343, 0);
    assert.equal(dec.stats.malformedDatagrams, 3);
  });

  test('per-agent state is bounded overall: sources past maxStateEntries are not remembered', () => {
    const dec = new FlowDecoder({ maxStateEntries: 10 });
    for (let i = 0; i < 50; i++) {
      const d = sflowDatagram(`192.0.2.${i + 1}`, 0, 1, 1000, [{ format: 1, body: flowSample(1, i, 10, 0, 0, []) }]);
      dec.decode(d, 0, d.length, 6343, 0);
    }
    assert.equal(dec.stateEntries, 10);
    assert.equal(dec.stats.flowSamples, 50, 'the samples themselves still decode');
  });

  test('sampled IPv4 and IPv6 records (formats 3, 4) without a raw header', () => {
    const dec = new FlowDecoder();
    const got: string[] = [];
    dec.onFlow = (v) =>
      got.push(
        `${v.ipVersion} ${v.ipVersion === 6 ? v.buf[(v.src6Off as number) + 15] : v.src4 & 255} ${v.proto} ${v.srcPort}>${v.dstPort} ${v.tcpFlags} ${v.bytes} ${v.hasPacket}`,
      );
    const v4 = sflowRecord(3, new Bytes().u32(1500).u32(17).ip4('203.0.113.9').ip4('198.51.100.1').u32(53).u32(40000).u32(0).u32(0).done());
    const b6 = new Bytes().u32(1280).u32(6);
    for (let i = 0; i < 15; i++) b6.u8(0x20);
    b6.u8(0x07);
    b6.zeros(16).u32(443).u32(50000).u32(0x12).u32(0);
    const d = sflowDatagram('192.0.2.1', 0, 1, 1000, [
      { format: 1, body: flowSample(1, 3, 100, 0, 0, [v4]) },
      { format: 1, body: flowSample(2, 3, 100, 0, 0, [sflowRecord(4, b6.done())]) },
    ]);
    dec.decode(d, 0, d.length, 6343, 0);
    assert.deepEqual(got, ['4 9 17 53>40000 0 1500 false', '6 7 6 443>50000 18 1280 false']);
  });
});
