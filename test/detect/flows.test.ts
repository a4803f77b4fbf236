/**
 * Issue 14: L3/L4 detection on flow export, on the flow corpus made by real exporters (softflowd,
 * pmacct) from labelled captures and from real attack captures. The attacks found on the flows must
 * be the source capture's (same vector, same victim); the flash crowd must give none; the packets
 * the records stand for must be what the records claim, scaled by the sampling rate the file
 * announces (the corpus truth files hold tshark's sums).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analyzeCapture, analyzeFlowCapture } from '../../src/analyze/run.js';
import { isFlowExport } from '../../src/sources/flow/sniff-capture.js';

const FLOWS = join(import.meta.dirname, '../../../shared/corpus/flows');
const SHARED = join(import.meta.dirname, '../../../shared');

interface FlowTruth {
  netflow_ipfix?: { packets?: number };
  sflow?: { estimated_packets?: number; sampling_rates?: Record<string, number> };
  source?: { path?: string; attacks?: Array<{ vector: string; victim: { ip?: string; prefix?: string } }> };
}

/** The sampling interval a NetFlow/IPFIX file announces (its name says it: *_1inN). */
function rateOf(name: string): number {
  const m = /_1in(\d+)/.exec(name);
  return m ? Number(m[1]) : 1;
}

const files = existsSync(FLOWS)
  ? readdirSync(FLOWS)
      .filter((f) => f.endsWith('.pcap'))
      .sort()
  : [];

const key = (a: { vector: string; victim: { ip?: string; prefix?: string } }) => `${a.vector}@${a.victim.ip ?? a.victim.prefix}`;

describe('detection on flow export (../shared/corpus/flows)', { skip: files.length === 0 ? 'no flow corpus' : false }, () => {
  for (const f of files) {
    const name = f.replace(/\.pcap$/, '');
    const truth = JSON.parse(readFileSync(join(FLOWS, `${name}.truth.json`), 'utf8')) as FlowTruth;
    test(`${name}: the source capture's attacks, and the packets its records stand for`, async () => {
      const path = join(FLOWS, f);
      assert.equal(await isFlowExport(path), true, 'recognised as flow export by content');
      const a = await analyzeFlowCapture(path);
      let expected: string[];
      const src = truth.source?.path ?? '';
      if (truth.source?.attacks) expected = truth.source.attacks.map(key);
      else {
        // A real capture: what packet analysis finds on the capture the exporter read.
        const packets = await analyzeCapture(join(SHARED, src.replace(/^shared\//, '')), { parallel: false });
        expected = packets.attacks.map(key);
        assert.ok(expected.length > 0, `${src}: packet analysis finds an attack`);
      }
      assert.deepEqual(a.attacks.map(key).sort(), expected.sort());
      for (const x of a.attacks) {
        // NetFlow/IPFIX carry no payload, and the verdict says so; sFlow samples carry headers.
        assert.equal(x.evidence.without_payload === true, !name.startsWith('sflow'), `${x.vector}: without_payload`);
        assert.ok(x.packets > 0 && x.packets <= a.capture.packets);
      }
      const flows = a.capture.flows;
      assert.ok(flows, 'capture.flows');
      assert.equal(flows.malformed, 0);
      if (truth.netflow_ipfix?.packets !== undefined) {
        assert.equal(a.capture.packets, truth.netflow_ipfix.packets * rateOf(name), 'packets claimed × sampling rate');
      } else if (truth.sflow?.estimated_packets !== undefined) {
        // Every sample stands for its sampling rate; samples without an IP header are not traffic here.
        const est = truth.sflow.estimated_packets;
        assert.ok(a.capture.packets <= est && a.capture.packets >= 0.99 * est, `${a.capture.packets} vs ${est} estimated`);
      }
    });
  }
});
