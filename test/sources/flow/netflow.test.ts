/** NetFlow v5 and v9 on built datagrams: records, times, sampling, sequence loss, options, the hold, malformed input. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowDecoder } from '../../../src/sources/flow/datagram.js';
import { FlowFlag, FlowKind, type FlowView } from '../../../src/sources/flow/record-view.js';
import { Bytes, set, v5Packet, v9OptionsTemplateSet, v9Packet, v9TemplateSet } from './build.js';

function decoder(): { dec: FlowDecoder; seen: FlowView[]; feed: (m: Uint8Array, port?: number) => FlowKind } {
  const dec = new FlowDecoder();
  const seen: FlowView[] = [];
  // Copy what the tests look at: the view is reused for the next record.
  dec.onFlow = (v) => seen.push(Object.assign(Object.create(Object.getPrototypeOf(v)), v) as FlowView);
  dec.exporter.set4(0xc0000201);
  const feed = (m: Uint8Array, port = 2055) => dec.decode(m, 0, m.length, port, 1_714_550_400_000);
  return { dec, seen, feed };
}

describe('NetFlow v5', () => {
  test('records, absolute times from sysUpTime, the header sampling interval (low 14 bits)', () => {
    const { seen, feed } = decoder();
    const kind = feed(
      v5Packet(
        0,
        [{ src: '192.0.2.1', dst: '198.51.100.1', packets: 3, bytes: 120, srcPort: 1234, dstPort: 443, proto: 6, flags: 0x12, first: 90_000, last: 95_000 }],
        (1 << 14) | 4,
      ),
    );
    assert.equal(kind, FlowKind.NETFLOW5);
    const r = seen[0] as FlowView;
    assert.equal(r.src4, 0xc0000201);
    assert.equal(r.dstPort, 443);
    assert.equal(r.tcpFlags, 0x12);
    assert.equal(r.samplingRate, 4);
    assert.equal(r.startMs, 1_714_550_400_000 - 100_000 + 90_000);
    assert.equal(r.endMs, 1_714_550_400_000 - 100_000 + 95_000);
    assert.equal(r.srcAs, 64500);
  });

  test('the flow sequence counts flows: a gap is lost flows', () => {
    const { dec, feed } = decoder();
    const rec = { src: '192.0.2.1', dst: '198.51.100.1', packets: 1, bytes: 40 };
    feed(v5Packet(0, [rec, rec]));
    feed(v5Packet(2, [rec]));
    assert.equal(dec.stats.lostNetflow5Flows, 0);
    feed(v5Packet(10, [rec]));
    assert.equal(dec.stats.lostNetflow5Flows, 7);
  });

  test('a count the datagram cannot hold: the whole records are read, the datagram is malformed', () => {
    const { dec, seen, feed } = decoder();
    const m = v5Packet(0, [
      { src: '192.0.2.1', dst: '198.51.100.1', packets: 1, bytes: 40 },
      { src: '192.0.2.1', dst: '198.51.100.1', packets: 1, bytes: 40 },
    ]);
    m[3] = 5;
    feed(m);
    assert.equal(seen.length, 2);
    assert.equal(dec.stats.malformedDatagrams, 1);
    m[3] = 200;
    feed(m);
    assert.equal(dec.stats.malformedDatagrams, 2, 'count above 30');
  });
});

const V9_FIELDS: [number, number][] = [
  [8, 4],
  [12, 4],
  [2, 4],
  [1, 4],
  [22, 4],
  [21, 4],
  [48, 1],
];

function v9Record(packets: number, sampler: number): Uint8Array {
  return new Bytes()
    .ip4('192.0.2.1')
    .ip4('198.51.100.1')
    .u32(packets)
    .u32(packets * 100)
    .u32(90_000)
    .u32(99_000)
    .u8(sampler)
    .done();
}

describe('NetFlow v9', () => {
  test('data before its template in the same datagram is held and decoded when the template comes', () => {
    const { dec, seen, feed } = decoder();
    feed(v9Packet(1, 0, [set(300, v9Record(2, 0)), v9TemplateSet(300, V9_FIELDS), set(300, v9Record(3, 0))]));
    assert.deepEqual(
      seen.map((s) => [s.packets, s.flags & FlowFlag.FROM_PENDING]),
      [
        [3, 0],
        [2, FlowFlag.FROM_PENDING],
      ],
    );
    assert.equal(dec.stats.pendingHeld, 1);
    assert.equal(seen[0]?.startMs, 1_714_550_400_000 - 100_000 + 90_000);
  });

  test('options data: sampler id → random interval; records pick their sampler', () => {
    const { dec, seen, feed } = decoder();
    const opts = v9OptionsTemplateSet(
      257,
      [[1, 4]],
      [
        [48, 1],
        [50, 4],
      ],
    );
    const optData = set(257, new Bytes().u32(0).u8(1).u32(2000).u32(0).u8(2).u32(4000).zeros(2).done());
    feed(v9Packet(1, 0, [opts, optData, v9TemplateSet(300, V9_FIELDS), set(300, new Bytes().bytes(v9Record(1, 1)).bytes(v9Record(1, 2)).bytes(v9Record(1, 9)).done())]));
    assert.equal(dec.stats.optionsRecords, 2);
    assert.deepEqual(
      seen.map((s) => s.samplingRate),
      [2000, 4000, 1],
    );
  });

  test('the sequence counts export packets: a gap is lost datagrams', () => {
    const { dec, feed } = decoder();
    feed(v9Packet(1, 10, [v9TemplateSet(300, V9_FIELDS)]));
    feed(v9Packet(1, 11, [set(300, v9Record(1, 0))]));
    feed(v9Packet(1, 15, [set(300, v9Record(1, 0))]));
    assert.equal(dec.stats.lostNetflow9Datagrams, 3);
    feed(v9Packet(2, 99, [set(300, v9Record(1, 0))]));
    assert.equal(dec.stats.lostNetflow9Datagrams, 3, 'each source id counts on its own');
  });

  test('malformed: template ids under 256, zero-length-only templates, option lengths not multiples of 4, flowset past the end', () => {
    const { dec, seen, feed } = decoder();
    feed(v9Packet(1, 0, [v9TemplateSet(12, V9_FIELDS)]));
    feed(
      v9Packet(1, 1, [
        v9TemplateSet(301, [
          [8, 0],
          [12, 0],
        ]),
        set(301, new Uint8Array(16)),
      ]),
    );
    feed(v9Packet(1, 2, [set(1, new Bytes().u16(302).u16(3).u16(4).zeros(8).done())]));
    assert.equal(dec.stats.malformedTemplates, 3);
    const m = v9Packet(1, 3, [set(300, v9Record(1, 0))]);
    m[23] = 0xff;
    feed(m);
    assert.equal(dec.stats.malformedSets, 1);
    assert.equal(seen.length, 0);
    // v9 options scope 'System' with length 0 (pmacct sends it): allowed, skipped
    feed(v9Packet(1, 4, [v9OptionsTemplateSet(258, [[1, 0]], [[34, 4]]), set(258, new Bytes().u32(10).done()), v9TemplateSet(300, V9_FIELDS), set(300, v9Record(1, 0))]));
    assert.equal(dec.stats.malformedTemplates, 3);
    assert.equal(seen.at(-1)?.samplingRate, 10);
  });
});
