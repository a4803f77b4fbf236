/**
 * The reader over captures of exported datagrams, the Source<FlowView> on it, FlowView → FlowRecord
 * (checked against schema/flow-record.schema.json), and the hot path's allocations.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { schemaProblem } from '../../../src/model/validate.js';
import { flowCaptureSource, readFlowCapture } from '../../../src/sources/flow/capture-source.js';
import { FlowDecoder } from '../../../src/sources/flow/datagram.js';
import { FlowKind } from '../../../src/sources/flow/record-view.js';
import { toFlowRecord } from '../../../src/sources/flow/to-record.js';
import { gcsDuring } from '../../helpers/gc.js';
import { captureDatagrams, FLOWS, flowFiles, readTruth } from './corpus.js';

describe('flow capture source', () => {
  test('a Source of kind flow: records, info, the clock at the last record, and a second pass that sees the same', async () => {
    const file = join(FLOWS, 'nf9_softflowd_udp_flood_1in10.pcap');
    const src = flowCaptureSource(file);
    assert.equal(src.kind, 'flow');
    assert.equal(src.replayable, true);
    assert.equal(src.location, file);
    let n = 0;
    let weighted = 0;
    let last = 0;
    const info = await src.read((v) => {
      n++;
      weighted += v.packets * v.samplingRate;
      last = v.endMs;
    });
    const truth = readTruth(file);
    assert.equal(n, truth.netflow_ipfix?.flow_records);
    assert.equal(info.records, n);
    assert.equal(info.flows.netflow9Datagrams, truth.datagrams);
    assert.equal(info.capture.packets, truth.datagrams);
    assert.equal(weighted, (truth.netflow_ipfix?.packets ?? 0) * 10, 'weight = sampling rate: 1 in 10');
    assert.equal(src.clock.nowMs(), last);
    let again = 0;
    await src.read(() => again++);
    assert.equal(again, n);
  });

  test('the Linux cooked capture with IPv6 transport and TCP (BGP) frames: only UDP flow datagrams are fed', async () => {
    const file = join(FLOWS, 'public/pmacct_501-IPFIXv10-BGP-IPv6-CISCO-MPLS_traffic-00.pcap');
    const info = await readFlowCapture(file, () => {});
    const truth = readTruth(file);
    assert.equal(info.flows.udpDatagrams, truth.datagrams);
    assert.equal(info.flows.ipfixDatagrams, truth.datagrams);
    assert.equal(info.records, truth.netflow_ipfix?.flow_records);
  });
});

describe('FlowRecord', () => {
  test('every record of every corpus capture (first 3,000 of each) conforms to the schema', async () => {
    let n = 0;
    for (const f of flowFiles()) {
      let k = 0;
      await readFlowCapture(f, (v) => {
        if (k++ >= 3000) return;
        const r = toFlowRecord(v);
        const problem = schemaProblem(r, 'flow-record');
        assert.equal(problem, null, `${f} record ${k}: ${problem} ${JSON.stringify(r)}`);
        n++;
      });
    }
    assert.ok(n > 30_000);
  });

  test('what a NetFlow v5 record and an sFlow sample become', async () => {
    const v5: unknown[] = [];
    await readFlowCapture(join(FLOWS, 'public/akvorado_nfv5_port9990.pcap'), (v) => {
      if (v5.length === 0) v5.push(toFlowRecord(v));
    });
    const r = v5[0] as ReturnType<typeof toFlowRecord>;
    assert.equal(r.exporter.protocol, 'netflow5');
    assert.equal(r.sampling_rate, 1);
    assert.ok(r.src.includes('.') && r.dst.includes('.'));
    const sf: ReturnType<typeof toFlowRecord>[] = [];
    await readFlowCapture(join(FLOWS, 'sflow5_pmacct_syn_flood_spoofed_1in10_counters.pcap'), (v) => {
      if (sf.length < 50) sf.push(toFlowRecord(v));
    });
    assert.ok(sf.every((x) => x.exporter.ip === '192.0.2.1' && x.exporter.protocol === 'sflow5' && x.observation_domain === 3 && x.sampling_rate === 10 && x.packets === 1));
    assert.ok(
      sf.some((x) => x.dst === '198.51.100.10' && x.dstport === 443 && x.proto === 6 && x.tcp_flags === 2),
      'the SYN flood, from the sampled headers',
    );
  });
});

describe('hot path', () => {
  test('decoding IPFIX, NetFlow and sFlow datagrams does not allocate per record', async () => {
    const files = [
      'ipfix_softflowd_biflow_carpet_bombing.pcap',
      'ipfix_pmacct_multi_vector.pcap',
      'nf9_softflowd_dns_amplification.pcap',
      'nf9_pmacct_udp_flood_1in10.pcap',
      'nf5_softflowd_syn_flood_spoofed.pcap',
      'sflow5_pmacct_dns_amplification_1in8.pcap',
    ];
    for (const name of files) {
      const grams = await captureDatagrams(join(FLOWS, name));
      const dec = new FlowDecoder();
      let sink = 0;
      dec.onFlow = (v) => {
        sink += v.packets + (v.kind === FlowKind.SFLOW5 ? v.packet.dstPort : 0);
      };
      const pass = () => {
        for (const d of grams) {
          dec.exporter.set4(d.src4);
          dec.exporter.port = d.srcPort;
          dec.decode(d.bytes, 0, d.bytes.length, d.dstPort, d.timeMs);
        }
      };
      pass(); // templates, domains, per-source state: learnt once
      const perPass = dec.stats.flowRecords + dec.stats.flowSamples;
      const before = perPass;
      // Enough records (over 200,000; gcsDuring may run it 3 times) that a young-generation
      // collection would happen if each allocated 16 bytes.
      const passes = Math.ceil(200_000 / perPass);
      const gcs = await gcsDuring(() => {
        for (let i = 0; i < passes; i++) pass();
      });
      const records = dec.stats.flowRecords + dec.stats.flowSamples - before;
      assert.ok(records >= 200_000, `${name}: ${records}`);
      assert.equal(gcs, 0, `${name}: ${gcs} garbage collections over ${records} records`);
      assert.ok(sink > 0);
    }
  });
});
