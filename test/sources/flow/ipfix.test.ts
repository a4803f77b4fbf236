/** IPFIX (RFC 7011) on built messages: templates, variable lengths, enterprise elements, withdrawal, the hold, sampling, sequence, malformed input. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlowDecoder, type FlowDecoderOptions } from '../../../src/sources/flow/datagram.js';
import { FlowFlag, FlowKind, type FlowView } from '../../../src/sources/flow/record-view.js';
import { Bytes, ipfixMessage, ipfixTemplateSet, type Spec, set } from './build.js';

interface Seen {
  src4: number;
  dst4: number;
  packets: number;
  bytes: number;
  reversePackets: number;
  tcpFlags: number;
  samplingRate: number;
  flags: number;
  startMs: number;
  endMs: number;
  templateId: number;
}

function decoder(opts: FlowDecoderOptions = {}): { dec: FlowDecoder; seen: Seen[]; feed: (m: Uint8Array, port?: number) => FlowKind } {
  const dec = new FlowDecoder(opts);
  const seen: Seen[] = [];
  dec.onFlow = (v: FlowView) =>
    seen.push({
      src4: v.src4,
      dst4: v.dst4,
      packets: v.packets,
      bytes: v.bytes,
      reversePackets: v.reversePackets,
      tcpFlags: v.tcpFlags,
      samplingRate: v.samplingRate,
      flags: v.flags,
      startMs: v.startMs,
      endMs: v.endMs,
      templateId: v.templateId,
    });
  dec.exporter.set4(0x0a000001);
  dec.exporter.port = 40000;
  const feed = (m: Uint8Array, port = 4739) => {
    // Decode from inside a larger buffer at an offset, as the capture reader hands payloads over.
    const buf = new Uint8Array(m.length + 40);
    buf.set(m, 20);
    return dec.decode(buf, 20, 20 + m.length, port, 1_714_550_400_000);
  };
  return { dec, seen, feed };
}

const BASIC: Spec[] = [
  [8, 4],
  [12, 4],
  [2, 8],
  [1, 4],
  [6, 1],
];

function basicRecord(src: string, dst: string, packets: number, bytes: number, flags = 0): Bytes {
  return new Bytes().ip4(src).ip4(dst).u64(packets).u32(bytes).u8(flags);
}

describe('IPFIX', () => {
  test('template then data, several sets in one message, padding at the set end', () => {
    const { dec, seen, feed } = decoder();
    const data = new Bytes()
      .bytes(basicRecord('192.0.2.1', '198.51.100.7', 3, 180).done())
      .bytes(basicRecord('192.0.2.2', '198.51.100.7', 1, 60).done())
      .zeros(3);
    assert.equal(feed(ipfixMessage(7, 0, [ipfixTemplateSet([{ id: 256, fields: BASIC }]), set(256, data.done())])), FlowKind.IPFIX);
    assert.equal(seen.length, 2);
    assert.deepEqual(
      seen.map((s) => [s.src4 >>> 24, s.packets, s.bytes]),
      [
        [192, 3, 180],
        [192, 1, 60],
      ],
    );
    assert.equal(dec.stats.templates, 1);
    assert.equal(dec.stats.malformedDatagrams, 0);
    assert.equal(dec.stats.malformedRecords, 0);
  });

  test('variable-length fields: one length byte, and 255 then a two-byte length (RFC 7011 §7)', () => {
    const { dec, seen, feed } = decoder();
    const fields: Spec[] = [
      [8, 4],
      [82, 65535],
      [2, 4],
      [315, 65535],
      [1, 4],
    ];
    const long = new Uint8Array(300).fill(0x41);
    const data = new Bytes().ip4('192.0.2.9').u8(3).bytes([0x65, 0x74, 0x68]).u32(5).u8(255).u16(long.length).bytes(long).u32(500).ip4('192.0.2.10').u8(0).u32(6).u8(0).u32(600);
    feed(ipfixMessage(1, 0, [ipfixTemplateSet([{ id: 300, fields }]), set(300, data.done())]));
    assert.deepEqual(
      seen.map((s) => [s.packets, s.bytes]),
      [
        [5, 500],
        [6, 600],
      ],
    );
    assert.equal(dec.stats.malformedRecords, 0);
  });

  test('a variable length that runs past the set: the record is malformed, nothing thrown', () => {
    const { dec, seen, feed } = decoder();
    const data = new Bytes().ip4('192.0.2.9').u8(255).u16(5000).zeros(10);
    feed(
      ipfixMessage(1, 0, [
        ipfixTemplateSet([
          {
            id: 300,
            fields: [
              [8, 4],
              [82, 65535],
            ],
          },
        ]),
        set(300, data.done()),
      ]),
    );
    assert.equal(seen.length, 0);
    assert.equal(dec.stats.malformedRecords, 1);
  });

  test('enterprise elements are skipped by length; RFC 5103 reverse counters and flags are added in', () => {
    const { dec, seen, feed } = decoder();
    const fields: Spec[] = [
      [8, 4],
      [12, 4],
      [2, 4],
      [1, 4],
      [6, 1],
      [2, 4, 29305],
      [1, 4, 29305],
      [6, 1, 29305],
      [700, 6, 2636],
      [5, 1, 29305],
    ];
    const data = new Bytes().ip4('192.0.2.1').ip4('198.51.100.1').u32(10).u32(1000).u8(0x02).u32(4).u32(400).u8(0x12).zeros(6).u8(0);
    feed(ipfixMessage(1, 0, [ipfixTemplateSet([{ id: 400, fields }]), set(400, data.done())]));
    assert.equal(seen.length, 1);
    const r = seen[0] as Seen;
    assert.equal(r.packets, 14);
    assert.equal(r.bytes, 1400);
    assert.equal(r.reversePackets, 4);
    assert.equal(r.tcpFlags, 0x12);
    assert.ok(r.flags & FlowFlag.BIFLOW);
    assert.equal(dec.stats.enterpriseFields, 5);
  });

  test('withdrawal (field count 0) and withdraw-all (template id 2); a refresh keeps the template, a new layout replaces it', () => {
    const { dec, seen, feed } = decoder();
    const tpl = ipfixTemplateSet([{ id: 256, fields: BASIC }]);
    const data = set(256, basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done());
    feed(ipfixMessage(1, 0, [tpl]));
    const t = dec.domains.domains[0]?.templates.get(256);
    feed(ipfixMessage(1, 0, [tpl]));
    assert.equal(dec.domains.domains[0]?.templates.get(256), t, 'refresh with the same layout keeps the object');
    assert.equal(dec.stats.templateRefreshes, 1);
    feed(ipfixMessage(1, 0, [set(2, new Bytes().u16(256).u16(0).done())]));
    assert.equal(dec.stats.templateWithdrawals, 1);
    feed(ipfixMessage(1, 0, [data]));
    assert.equal(seen.length, 0, 'data after withdrawal waits for a template');
    assert.equal(dec.stats.pendingHeld, 1);
    feed(ipfixMessage(1, 0, [tpl, ipfixTemplateSet([{ id: 257, fields: BASIC }])]));
    assert.equal(seen.length, 1, 'held data decoded when the template came back');
    feed(ipfixMessage(1, 0, [set(2, new Bytes().u16(2).u16(0).done())]));
    assert.equal(dec.domains.domains[0]?.templates.size, 0, 'withdraw all');
    feed(ipfixMessage(1, 0, [tpl, ipfixTemplateSet([{ id: 256, fields: [...BASIC, [4, 1]] }])]));
    assert.equal(dec.stats.templateChanges, 1);
    assert.equal(dec.domains.domains[0]?.templates.get(256)?.fieldCount, 6);
    assert.equal(dec.cache.count, 1);
  });

  test('data before its template is held (bounded by count and bytes, counted) and decoded, flagged, when the template comes', () => {
    const { dec, seen, feed } = decoder({ maxPendingSets: 2 });
    for (let i = 0; i < 3; i++) feed(ipfixMessage(1, 0, [set(256, basicRecord('192.0.2.1', '198.51.100.1', i + 1, 40).done())]));
    assert.equal(dec.stats.pendingHeld, 3);
    assert.equal(dec.stats.pendingDropped, 1);
    assert.equal(dec.pending.size, 2);
    feed(ipfixMessage(1, 0, [ipfixTemplateSet([{ id: 256, fields: BASIC }])]));
    assert.deepEqual(
      seen.map((s) => s.packets),
      [2, 3],
    );
    assert.ok(seen.every((s) => s.flags & FlowFlag.FROM_PENDING));
    assert.equal(dec.stats.pendingRecords, 2);
    const small = decoder({ maxPendingBytes: 30 });
    for (let i = 0; i < 3; i++) small.feed(ipfixMessage(1, 0, [set(256, basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done())]));
    assert.equal(small.dec.pending.size, 1, 'byte bound: one 21-byte set fits in 30 bytes');
    assert.ok(small.dec.pending.heldBytes <= 30);
  });

  test('sampling from options data: packet interval/space, per selector id, n-out-of-N; configured per exporter', () => {
    const { seen, feed } = decoder();
    const opts = ipfixTemplateSet(
      [
        {
          id: 500,
          scope: 1,
          fields: [
            [149, 4],
            [305, 4],
            [306, 4],
          ],
        },
      ],
      true,
    );
    feed(ipfixMessage(1, 0, [opts, set(500, new Bytes().u32(1).u32(1).u32(99).done()), ipfixTemplateSet([{ id: 256, fields: BASIC }])]));
    feed(ipfixMessage(1, 1, [set(256, basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done())]));
    assert.equal(seen.at(-1)?.samplingRate, 100);

    const sel = ipfixTemplateSet(
      [
        {
          id: 501,
          scope: 1,
          fields: [
            [302, 4],
            [34, 4],
          ],
        },
      ],
      true,
    );
    const withSel: Spec[] = [...BASIC, [302, 4]];
    feed(
      ipfixMessage(2, 0, [
        sel,
        set(501, new Bytes().u32(5).u32(7).u32(6).u32(64).done()),
        ipfixTemplateSet([{ id: 256, fields: withSel }]),
        set(
          256,
          new Bytes()
            .bytes(basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done())
            .u32(6)
            .bytes(basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done())
            .u32(5)
            .done(),
        ),
      ]),
    );
    assert.deepEqual(
      seen.slice(-2).map((s) => s.samplingRate),
      [64, 7],
    );

    const nN = ipfixTemplateSet(
      [
        {
          id: 502,
          scope: 1,
          fields: [
            [302, 4],
            [305, 4],
            [309, 4],
            [310, 4],
          ],
        },
      ],
      true,
    );
    feed(
      ipfixMessage(3, 0, [
        nN,
        set(502, new Bytes().u32(1).u32(1).u32(1).u32(256).done()),
        ipfixTemplateSet([{ id: 256, fields: BASIC }]),
        set(256, basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done()),
      ]),
    );
    assert.equal(seen.at(-1)?.samplingRate, 256, 'one sampler and records that do not name it: that sampler');

    const conf = decoder({ samplingRates: { '10.0.0.1': 50 } });
    conf.feed(ipfixMessage(1, 0, [ipfixTemplateSet([{ id: 256, fields: BASIC }]), set(256, basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done())]));
    assert.equal(conf.seen[0]?.samplingRate, 50);
  });

  test('sequence numbers count data records: a gap is lost records, a small step back is reordering', () => {
    const { dec, feed } = decoder();
    const tpl = ipfixTemplateSet([{ id: 256, fields: BASIC }]);
    const two = set(
      256,
      new Bytes()
        .bytes(basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done())
        .bytes(basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done())
        .done(),
    );
    feed(ipfixMessage(1, 100, [tpl, two]));
    feed(ipfixMessage(1, 102, [two]));
    feed(ipfixMessage(1, 104, [two]));
    assert.equal(dec.stats.lostIpfixRecords, 0);
    feed(ipfixMessage(1, 116, [two]));
    assert.equal(dec.stats.lostIpfixRecords, 10);
    feed(ipfixMessage(1, 110, [two]));
    assert.equal(dec.stats.sequenceReordered, 1);
    feed(ipfixMessage(1, 118, [two]));
    assert.equal(dec.stats.lostIpfixRecords, 10);
    feed(ipfixMessage(1, 3_000_000_000, [two]));
    assert.equal(dec.stats.sequenceResets, 1, 'an absurd jump is a restart, not loss');
    assert.equal(dec.stats.lostIpfixRecords, 10);
  });

  test('pmacct 1.7.7: IE 154/155 with length 16 read as a timeval and flagged', () => {
    const { dec, seen, feed } = decoder();
    const fields: Spec[] = [
      [155, 16],
      [154, 16],
      [8, 4],
      [2, 8],
    ];
    const data = new Bytes().u64(1_714_550_401).u64(250_000).u64(1_714_550_400).u64(844_366).ip4('192.0.2.1').u64(3);
    feed(ipfixMessage(1, 0, [ipfixTemplateSet([{ id: 1024, fields }]), set(1024, data.done())]));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.startMs, 1_714_550_400_844);
    assert.equal(seen[0]?.endMs, 1_714_550_401_250);
    assert.ok((seen[0]?.flags ?? 0) & FlowFlag.TIMESTAMP_LEN16);
    assert.equal(dec.stats.timestampLen16, 2);
  });

  test('malformed templates and sets are counted and skipped', () => {
    const { dec, seen, feed } = decoder();
    // field count says 50, the set holds 2
    feed(ipfixMessage(1, 0, [set(2, new Bytes().u16(256).u16(50).u16(8).u16(4).u16(12).u16(4).done())]));
    assert.equal(dec.stats.malformedTemplates, 1);
    // every field zero bytes long: would make endless records
    feed(
      ipfixMessage(1, 0, [
        ipfixTemplateSet([
          {
            id: 257,
            fields: [
              [8, 0],
              [12, 0],
            ],
          },
        ]),
        set(257, new Uint8Array(8)),
      ]),
    );
    assert.equal(dec.stats.malformedTemplates, 2);
    assert.equal(seen.length, 0);
    // options template with scope count 0 (RFC 7011 §3.4.2.2: must not be)
    feed(ipfixMessage(1, 0, [ipfixTemplateSet([{ id: 258, scope: 0, fields: [[149, 4]] }], true)]));
    assert.equal(dec.stats.malformedTemplates, 3);
    // a set whose length runs past the message
    const m = ipfixMessage(1, 0, [set(256, new Uint8Array(8))]);
    m[19] = 200;
    feed(m);
    assert.equal(dec.stats.malformedSets, 1);
    // a set length under 4
    const z = ipfixMessage(1, 0, [set(256, new Uint8Array(8))]);
    z[18] = 0;
    z[19] = 2;
    feed(z);
    assert.equal(dec.stats.malformedSets, 2);
    assert.ok(dec.stats.malformedDatagrams >= 4);
  });

  test('an IPFIX message on a non-standard port is recognised by content; junk on the IPFIX port is a malformed datagram', () => {
    const { dec, seen, feed } = decoder();
    const m = ipfixMessage(1, 0, [ipfixTemplateSet([{ id: 256, fields: BASIC }]), set(256, basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done())]);
    assert.equal(feed(m, 9991), FlowKind.IPFIX);
    assert.equal(seen.length, 1);
    assert.equal(feed(new Bytes().u16(0x1234).u16(0x0100).zeros(30).done(), 53), FlowKind.NONE);
    assert.equal(dec.stats.notFlow, 1);
    const bad = new Bytes().u16(10).u16(999).zeros(20).done();
    assert.equal(feed(bad, 4739), FlowKind.IPFIX);
    assert.equal(dec.stats.malformedDatagrams, 1);
    assert.equal(feed(bad, 5000), FlowKind.NONE, 'the same bytes elsewhere are not taken for IPFIX');
  });

  test('templates are per transport session and observation domain', () => {
    const { seen, dec, feed } = decoder();
    feed(ipfixMessage(1, 0, [ipfixTemplateSet([{ id: 256, fields: BASIC }])]));
    feed(ipfixMessage(2, 0, [set(256, basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done())]));
    assert.equal(seen.length, 0, 'another domain does not see the template');
    dec.exporter.port = 40001;
    feed(ipfixMessage(1, 0, [set(256, basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done())]));
    assert.equal(seen.length, 0, 'another source port (exporter restart) does not either');
    dec.exporter.port = 40000;
    feed(ipfixMessage(1, 0, [set(256, basicRecord('192.0.2.1', '198.51.100.1', 1, 40).done())]));
    assert.equal(seen.length, 1);
  });
});
