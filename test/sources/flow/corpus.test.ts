/**
 * Every capture of the flow corpus decodes to tshark's numbers (the truth files beside them, made
 * by Wireshark 4.0.17's cflow and sflow dissectors): flow records, options records, sFlow flow and
 * counter samples, the packets and bytes they claim (sFlow: estimated, × sampling rate), and each
 * template's field list. Where we and the truth file differ by design, the reason is stated and
 * tshark itself is asked to confirm our number.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readFlowCapture } from '../../../src/sources/flow/capture-source.js';
import { FlowDecoder } from '../../../src/sources/flow/datagram.js';
import { REVERSE_PEN } from '../../../src/sources/flow/elements.js';
import { FlowFlag, FlowKind } from '../../../src/sources/flow/record-view.js';
import { VARLEN } from '../../../src/sources/flow/template-cache.js';
import { flowFiles, haveTshark, readTruth, shortName, type TruthField, tsharkFlowFields } from './corpus.js';

/** Sum and number of the '|'-joined values of one column. */
function columnSum(rows: string[][], col: number): { n: number; sum: number } {
  let n = 0;
  let sum = 0;
  for (const r of rows) {
    const cell = r[col] ?? '';
    if (cell === '') continue;
    for (const x of cell.split('|')) {
      n++;
      sum += Number(x);
    }
  }
  return { n, sum };
}

/**
 * tshark frames flagged in the truth files that are not malformed flow export, by file: what
 * tshark tripped on and why our decoder reads the datagram whole.
 */
const TSHARK_ERRORS_EXPLAINED: Record<string, string> = {
  'sflow5_pmacct_udp_flood_ipv6_vlan_1in4.pcap': 'an IPv6 length inside one sampled header (the customer packet), not the sFlow structure',
  'akvorado_ipfix_eompls_controlword.pcap': 'an IPv4 total length inside a dataLinkFrameSection (the sampled frame), not the IPFIX structure',
  'akvorado_ipfix_v10_with_mpls_labels.pcap': 'data sets before their template: held and decoded when it comes',
  'akvorado_nfv9_data+templates.pcap': 'a data flowset before its template in the same datagram: held and decoded when it comes',
  'pmacct_112-IPFIXv10-CISCO-options-map-reassignment_traffic-00.pcap':
    'data sets whose templates were sent in an earlier transport session (the exporter restarted on a new UDP port): held, never decoded, as tshark',
  'tcpdump_sflow_multiple_counter_30_pdus.pcap':
    'two counter samples with a counter record 2001 that tshark parses past its stated length; read by length, the samples are well-formed',
};

/** The one file whose datagram is broken flow export. */
const MALFORMED: Record<string, number> = { 'tcpdump_sflow_print-segv.pcap': 1 };

interface Tally {
  nfRecords: number;
  nfPackets: number;
  nfBytes: number;
  pendingRecords: number;
  pendingPackets: number;
  pendingBytes: number;
  noCounters: number;
  samples: number;
  estPackets: number;
  estBytes: number;
  rates: Map<number, number>;
}

async function decodeFile(pcap: string): Promise<{ tally: Tally; dec: FlowDecoder }> {
  const dec = new FlowDecoder();
  const t: Tally = {
    nfRecords: 0,
    nfPackets: 0,
    nfBytes: 0,
    pendingRecords: 0,
    pendingPackets: 0,
    pendingBytes: 0,
    noCounters: 0,
    samples: 0,
    estPackets: 0,
    estBytes: 0,
    rates: new Map(),
  };
  await readFlowCapture(
    pcap,
    (v) => {
      if (v.kind === FlowKind.SFLOW5) {
        t.samples++;
        t.estPackets += v.samplingRate;
        t.estBytes += v.bytes * v.samplingRate;
        t.rates.set(v.samplingRate, (t.rates.get(v.samplingRate) ?? 0) + 1);
        return;
      }
      t.nfRecords++;
      t.nfPackets += v.packets;
      t.nfBytes += v.bytes;
      if (v.flags & FlowFlag.NO_COUNTERS && !(v.flags & FlowFlag.FROM_PENDING)) t.noCounters++;
      if (v.flags & FlowFlag.FROM_PENDING) {
        t.pendingRecords++;
        t.pendingPackets += v.packets;
        t.pendingBytes += v.bytes;
      }
    },
    { decoder: dec },
  );
  return { tally: t, dec };
}

/** Our live templates in the truth file's notation, by template id. */
function ourTemplates(dec: FlowDecoder): Map<number, { options: boolean; fields: string }[]> {
  const out = new Map<number, { options: boolean; fields: string }[]>();
  for (const d of dec.domains.domains) {
    for (const t of d.templates.values()) {
      const fields: unknown[] = [];
      for (let i = 0; i < t.fieldCount; i++) {
        const pen = t.pen(i);
        const len = t.len(i);
        const f: unknown[] = [pen !== 0 && pen !== REVERSE_PEN ? null : t.ie(i), len === VARLEN ? 65535 : len];
        if (pen !== 0) f.push(`pen=${pen}`);
        else if (t.options && i < t.scopeCount) f.push('scope');
        fields.push(f);
      }
      const list = out.get(t.id) ?? [];
      list.push({ options: t.options, fields: JSON.stringify(fields) });
      out.set(t.id, list);
    }
  }
  return out;
}

function truthFields(fields: TruthField[]): string {
  return JSON.stringify(fields.map((f) => (f[3] === undefined ? [f[0], f[1]] : [f[0], f[1], f[3]])));
}

describe('flow corpus against tshark truth', () => {
  for (const pcap of flowFiles()) {
    const name = shortName(pcap);
    test(name, async () => {
      const truth = readTruth(pcap);
      const { tally, dec } = await decodeFile(pcap);
      const s = dec.stats;
      assert.equal(s.malformedDatagrams, MALFORMED[name] ?? 0, 'malformed datagrams');
      if (truth.frames_tshark_flags_malformed_or_error > 0 && MALFORMED[name] === undefined) {
        assert.ok(TSHARK_ERRORS_EXPLAINED[name], `tshark flags ${truth.frames_tshark_flags_malformed_or_error} frames: explain them`);
      }
      const udp = Object.values(truth.udp_dst_ports).reduce((a, b) => a + b, 0);
      assert.equal(s.udpDatagrams, udp, 'UDP datagrams');

      const nf = truth.netflow_ipfix;
      if (nf !== undefined) {
        // tshark cannot decode data before its template; we hold it. Records from the hold are
        // the difference, and tshark's two-pass mode (-2: templates known from the first pass)
        // decodes them too, so it confirms the total.
        assert.equal(tally.nfRecords - tally.pendingRecords, nf.flow_records, 'flow records');
        assert.equal(s.optionsRecords, nf.options_data_records, 'options records');
        assert.equal(tally.noCounters, nf.flow_records_without_packet_or_octet_fields, 'records whose template has no packet or byte counter');
        assert.equal(tally.nfPackets - tally.pendingPackets, nf.packets, 'packets');
        assert.equal(tally.nfBytes - tally.pendingBytes, nf.octets, 'bytes');
        const noTemplate = (truth.tshark_error_examples ?? []).some((e) => e.includes('no template found'));
        if (noTemplate && haveTshark) {
          const rows = tsharkFlowFields(pcap, ['_ws.expert.message']);
          const sets = rows.reduce((n, r) => n + (r[0] ?? '').split('|').filter((m) => m.includes('no template found')).length, 0);
          assert.equal(s.pendingHeld, sets, 'data sets held = data sets tshark found no template for');
          if (tally.pendingRecords > 0) {
            const two = tsharkFlowFields(pcap, ['cflow.packets', 'cflow.octets'], ['-2']);
            assert.deepEqual([tally.nfRecords, tally.nfPackets, tally.nfBytes], [columnSum(two, 0).n, columnSum(two, 0).sum, columnSum(two, 1).sum], 'with held data: tshark -2');
          }
        } else assert.equal(tally.pendingRecords, 0, 'no record needed the hold');
        // Templates: each one tshark shows is live here with the same fields, and no other.
        const ours = ourTemplates(dec);
        for (const t of nf.templates) {
          const have = ours.get(t.template_id);
          assert.ok(have, `template ${t.template_id} missing`);
          assert.ok(
            have.some((h) => h.options === t.options && h.fields === truthFields(t.fields)),
            `template ${t.template_id}: ours ${have.map((h) => h.fields).join(' | ')} vs tshark ${truthFields(t.fields)}`,
          );
        }
        assert.deepEqual(
          [...ours.keys()].sort((a, b) => a - b),
          nf.templates.map((t) => t.template_id).sort((a, b) => a - b),
          'template ids',
        );
        if (nf.versions['5'] !== undefined) {
          // No loss in the corpus: every generated file was captured whole (MANIFEST, 'run').
          assert.equal(s.lostNetflow5Flows, 0);
        }
      }

      const sf = truth.sflow;
      if (sf !== undefined) {
        assert.equal(tally.samples, sf.flow_samples, 'flow samples');
        assert.equal(tally.estPackets, sf.estimated_packets, 'estimated packets (sum of sampling rates)');
        assert.equal(tally.estBytes, sf.estimated_bytes, 'estimated bytes (frame length × rate)');
        assert.deepEqual(
          Object.fromEntries([...tally.rates].map(([r, n]) => [String(r), n]).sort()),
          Object.fromEntries(Object.entries(sf.sampling_rates).sort()),
          'sampling rates',
        );
        assert.equal(s.flowSamples + s.counterSamples, sf.samples_per_datagram_header_sum, 'samples = the datagram headers’ sample counts');
        if (s.counterSamples !== sf.counter_samples) {
          // The truth file walks tshark's JSON, where two samples of one datagram with the same
          // label ("Counters sample, seq 28") are one key: it under-counts. tshark's own field
          // count is the reference.
          assert.ok(haveTshark, 'tshark needed to check the counter samples');
          const rows = tsharkFlowFields(pcap, ['sflow_245.sampletype']);
          const types = rows.flatMap((r) => (r[0] ?? '').split('|')).filter((x) => x === '2' || x === '4').length;
          assert.equal(s.counterSamples, types, 'counter samples (tshark -T fields)');
        }
        if (tally.nfRecords > 0) {
          // NetFlow v5 sent to the sFlow port (tcpdump's test file): tshark, told it is cflow, agrees.
          assert.ok(haveTshark);
          const rows = tsharkFlowFields(pcap, ['cflow.packets'], ['-d', 'udp.port==6343,cflow']);
          assert.equal(tally.nfRecords, columnSum(rows, 0).n, 'NetFlow records on the sFlow port');
          assert.equal(tally.nfPackets, columnSum(rows, 0).sum);
        }
        assert.equal(s.lostSflowDatagrams, 0, 'no sFlow loss in these captures');
      }
      if (!name.startsWith('akvorado_') && !name.startsWith('pmacct_') && !name.startsWith('tcpdump_')) {
        // The generated captures hold every datagram the exporter sent: no loss may be reported.
        assert.deepEqual([s.lostNetflow5Flows, s.lostNetflow9Datagrams, s.lostIpfixRecords, s.lostSflowDatagrams, s.lostSflowSamples], [0, 0, 0, 0, 0], 'loss');
      }
    });
  }
});
