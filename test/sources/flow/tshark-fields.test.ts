/**
 * Record by record against tshark: the first frames of every flow capture, decoded by us and by
 * `tshark -T fields` (cflow: addresses, ports, protocol, counters, TCP flags, interfaces, AS
 * numbers, absolute start times; sflow: sampling rate, frame length, interfaces, VLANs, AS path,
 * the sampled packet's addresses and ports). Per frame, each field's values in record order must
 * be tshark's. Bounded: at most FRAMES frames of a sample of files that covers each protocol,
 * exporter and odd case (every file with PALISADE_FLOW_TSHARK_ALL=1; each tshark run costs about
 * half a second of start-up, whatever the file).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatIpv4, formatIpv6 } from '../../../src/core/net/ip.js';
import { readCapture } from '../../../src/sources/capture/capture.js';
import { feedPacket, readFlowCapture } from '../../../src/sources/flow/capture-source.js';
import { FlowDecoder } from '../../../src/sources/flow/datagram.js';
import { REVERSE_PEN } from '../../../src/sources/flow/elements.js';
import { FlowFlag, FlowKind, type FlowView } from '../../../src/sources/flow/record-view.js';
import type { Template } from '../../../src/sources/flow/template-cache.js';
import { flowFiles, haveTshark, shortName, tsharkFlowFields } from './corpus.js';

const FRAMES = 300;

const SAMPLE = new Set([
  'ipfix_pmacct_multi_vector.pcap',
  'ipfix_softflowd_biflow_carpet_bombing.pcap',
  'ipfix_softflowd_flash_crowd.pcap',
  'nf5_pmacct_carpet_bombing_1in4.pcap',
  'nf5_softflowd_syn_flood_spoofed.pcap',
  'nf9_pmacct_udp_flood_1in10.pcap',
  'nf9_softflowd_udp_flood_ipv6_vlan.pcap',
  'sflow5_pmacct_multi_vector_1in16_tagged.pcap',
  'sflow5_pmacct_udp_flood_ipv6_vlan_1in4.pcap',
  'akvorado_ipfix_ipfixprobe.pcap',
  'akvorado_ipfix_physicalinterfaces.pcap',
  'akvorado_ipfix_v10_with_mpls_labels.pcap',
  'akvorado_nfv9_multiplesamplingrates.pcap',
  'akvorado_nfv9_nat.pcap',
  'akvorado_sflow_1140.pcap',
  'akvorado_sflow_sflow-expanded-sample.pcap',
  'pmacct_104-IPFIXv10-IPv6-CISCO-sampling_option_traffic-00.pcap',
  'pmacct_106-IPFIXv10-HUAWEI-vrf_name_traffic-00.pcap',
  'pmacct_501-IPFIXv10-BGP-IPv6-CISCO-MPLS_traffic-00.pcap',
  'tcpdump_sflow-print-v6.pcap',
  'tcpdump_sflow_multiple_counter_30_pdus.pcap',
]);
const ALL = process.env.PALISADE_FLOW_TSHARK_ALL === '1';

/**
 * One record as the test keeps it: the values tshark would print, by field. Absent: the record
 * has no such field. null: tshark prints something we do not model (then the field is not
 * compared in that frame).
 */
type Rec = Map<string, string[] | null>;

function count(t: Template, ie: number, pen = 0): number {
  let n = 0;
  for (let i = 0; i < t.fieldCount; i++) if (t.ie(i) === ie && t.pen(i) === pen) n++;
  return n;
}

function has(t: Template | null, ie: number, pen = 0): boolean {
  return t === null || count(t, ie, pen) > 0; // null: NetFlow v5, every field
}

function lenOf(t: Template | null, ie: number): number {
  if (t === null) return 0;
  for (let i = 0; i < t.fieldCount; i++) if (t.ie(i) === ie && t.pen(i) === 0) return t.len(i);
  return 0;
}

function tsharkTime(ms: number): string {
  return String(Math.floor(ms));
}

/** What tshark prints for this NetFlow/IPFIX record, field by field (only the fields the record has). */
function cflowRecord(v: FlowView, t: Template | null): Rec {
  const r: Rec = new Map();
  const put = (k: string, ...x: string[]) => r.set(k, x);
  const skip = (k: string) => r.set(k, null);
  if (has(t, 8)) put('cflow.srcaddr', formatIpv4(v.src4));
  if (has(t, 12)) put('cflow.dstaddr', formatIpv4(v.dst4));
  if (t !== null && has(t, 27)) put('cflow.srcaddrv6', formatIpv6(v.buf, v.src6Off));
  if (t !== null && has(t, 28)) put('cflow.dstaddrv6', formatIpv6(v.buf, v.dst6Off));
  if (has(t, 7)) put('cflow.srcport', String(v.srcPort));
  if (has(t, 11)) put('cflow.dstport', String(v.dstPort));
  if (has(t, 4)) put('cflow.protocol', String(v.proto));
  // Biflows: tshark prints the forward then the reverse counter as two occurrences.
  const rev = t !== null && has(t, 2, REVERSE_PEN);
  if (has(t, 2)) put('cflow.packets', ...(rev ? [String(v.packets - v.reversePackets), String(v.reversePackets)] : [String(v.packets)]));
  if (has(t, 1)) put('cflow.octets', ...(t !== null && has(t, 1, REVERSE_PEN) ? [String(v.bytes - v.reverseBytes), String(v.reverseBytes)] : [String(v.bytes)]));
  // The view ORs forward and reverse flags; tshark prints each. Compare where there is one.
  if (t !== null && has(t, 6, REVERSE_PEN)) skip('cflow.tcpflags');
  else if (has(t, 6)) put('cflow.tcpflags', `0x${v.tcpFlags.toString(16).padStart(t !== null && lenOf(t, 6) === 2 ? 4 : 2, '0')}`);
  if (has(t, 10)) put('cflow.inputint', String(v.inputIf));
  if (has(t, 14)) put('cflow.outputint', String(v.outputIf));
  if (has(t, 16)) put('cflow.srcas', String(v.srcAs));
  if (has(t, 17)) put('cflow.dstas', String(v.dstAs));
  // Absolute start times (seconds, ms, NTP µs/ns); pmacct's 16-byte µs fields show as 1970 in tshark: not compared.
  if (lenOf(t, 154) === 16) skip('cflow.abstimestart');
  else if (t !== null && (has(t, 150) || has(t, 152) || has(t, 154) || has(t, 156))) put('cflow.abstimestart', tsharkTime(v.startMs));
  else if (t !== null && (has(t, 22) || has(t, 21))) skip('cflow.abstimestart'); // IPFIX sysUpTime-relative: tshark's own zero
  // An element twice in one template (Cisco's inner and outer ports): tshark prints both, the view keeps one.
  if (t !== null) for (const [k, ie] of DOUBLED) if (count(t, ie) > 1) skip(k);
  return r;
}

const DOUBLED: [string, number][] = [
  ['cflow.srcport', 7],
  ['cflow.dstport', 11],
  ['cflow.protocol', 4],
  ['cflow.srcaddr', 8],
  ['cflow.dstaddr', 12],
  ['cflow.srcaddrv6', 27],
  ['cflow.dstaddrv6', 28],
  ['cflow.tcpflags', 6],
];

/** What tshark prints for this sFlow flow sample (fields its dissector and the sampled header give). */
function sflowRecord(v: FlowView): Rec {
  const r: Rec = new Map();
  const put = (k: string, ...x: string[]) => r.set(k, x);
  put('sflow.flow_sample.sampling_rate', String(v.samplingRate));
  put('sflow.flow_sample.input_interface', String(v.inputIf));
  if (v.headerProtocol >= 0) put('sflow_245.header.frame_length', String(v.bytes));
  // The gateway record's source AS (tshark prints the path and the communities in one field, dstAS: not compared).
  if (v.srcAs > 0 || v.asPathLen > 0) put('sflow_245.srcAS', String(v.srcAs));
  return r;
}

const CFLOW_FIELDS = [
  'cflow.srcaddr',
  'cflow.dstaddr',
  'cflow.srcaddrv6',
  'cflow.dstaddrv6',
  'cflow.srcport',
  'cflow.dstport',
  'cflow.protocol',
  'cflow.packets',
  'cflow.octets',
  'cflow.tcpflags',
  'cflow.inputint',
  'cflow.outputint',
  'cflow.srcas',
  'cflow.dstas',
  'cflow.abstimestart',
];
const SFLOW_FIELDS = ['sflow.flow_sample.sampling_rate', 'sflow.flow_sample.input_interface', 'sflow_245.header.frame_length', 'sflow_245.srcAS'];

/** tshark's absolute times to ms since the epoch ("May  1, 2024 08:00:02.974000000 UTC"). */
function normalise(field: string, value: string): string {
  if (field !== 'cflow.abstimestart') return value;
  const m = /^(.*\d{2}:\d{2}:\d{2})(?:\.(\d+))? UTC$/.exec(value);
  if (m === null) return value;
  const ms = Date.parse(`${m[1]} UTC`) + Number(((m[2] ?? '') + '000').slice(0, 3));
  return String(ms);
}

describe('flow records field by field against tshark', { skip: haveTshark ? false : 'tshark is not installed' }, () => {
  for (const pcap of flowFiles().filter((f) => ALL || SAMPLE.has(shortName(f)))) {
    test(shortName(pcap), async () => {
      const dec = new FlowDecoder();
      const frames: Rec[][] = [];
      let current: Rec[] = [];
      let optionFields = new Set<number>();
      dec.onFlow = (v) => {
        if (v.flags & FlowFlag.FROM_PENDING) return; // tshark cannot decode held data (corpus.test.ts checks it with -2)
        if (v.kind === FlowKind.SFLOW5) current.push(sflowRecord(v));
        else {
          let t: Template | null = null;
          if (v.kind !== FlowKind.NETFLOW5) {
            for (const d of dec.domains.domains) {
              const x = d.templates.get(v.templateId);
              if (x !== undefined && d.domainId === v.domain) t = x;
            }
          }
          current.push(cflowRecord(v, t));
        }
      };
      let n = 0;
      await readCapture(
        pcap,
        (p) => {
          if (n++ >= FRAMES) return;
          current = [];
          const expandedBefore = dec.stats.expandedFlowSamples;
          feedPacket(dec, p);
          // Expanded samples carry their interfaces in other tshark fields: drop that column for them.
          if (dec.stats.expandedFlowSamples !== expandedBefore) for (const r of current) r.delete('sflow.flow_sample.input_interface');
          frames.push(current);
        },
        { streamApps: false },
      );
      for (const d of dec.domains.domains) for (const t of d.templates.values()) if (t.options) for (let i = 0; i < t.fieldCount; i++) optionFields.add(t.ie(i));
      const isSflow = frames.some((f) => f.some((r) => r.has('sflow.flow_sample.sampling_rate')));
      const fields = isSflow ? SFLOW_FIELDS : CFLOW_FIELDS;
      // NetFlow v5 sent to the sFlow port (tcpdump's counter test file): tshark must be told.
      const rows = tsharkFlowFields(pcap, fields, ['-c', String(FRAMES), ...(isSflow ? [] : ['-d', 'udp.port==6343,cflow'])]);
      assert.equal(rows.length, frames.length, 'frames');
      // Fields that options records also carry (interfaces in interface-name options) would interleave: skip those.
      const ieOf: Record<string, number> = { 'cflow.inputint': 10, 'cflow.outputint': 14, 'cflow.srcaddr': 8, 'cflow.dstaddr': 12, 'cflow.packets': 2, 'cflow.octets': 1 };
      if (isSflow) optionFields = new Set();
      let compared = 0;
      for (let i = 0; i < frames.length; i++) {
        const ours = frames[i] as Rec[];
        const row = rows[i] as string[];
        fields.forEach((f, k) => {
          if (ieOf[f] !== undefined && optionFields.has(ieOf[f] as number)) return;
          if (ours.some((r) => r.get(f) === null)) return;
          const want = (row[k] ?? '') === '' ? [] : (row[k] as string).split('|').map((x) => normalise(f, x));
          const got = ours.flatMap((r) => r.get(f) ?? []);
          if (f === 'sflow.flow_sample.input_interface' && got.length !== want.length) return; // expanded and compact samples mixed in one datagram
          assert.deepEqual(got, want, `frame ${i + 1} ${f}`);
          compared += got.length;
        });
      }
      if (frames.some((f) => f.length > 0)) assert.ok(compared > 0, 'something was compared');
    });
  }
});

describe('IPFIX dataLinkFrameSection (IE 315) through decode/', { skip: haveTshark ? false : 'tshark is not installed' }, () => {
  for (const name of ['akvorado_ipfix_datalink.pcap', 'akvorado_ipfix_eompls_controlword.pcap']) {
    test(`${name}: the sampled frames' addresses are tshark's`, async () => {
      const pcap = flowFiles().find((f) => shortName(f) === name) as string;
      const ours: string[] = [];
      await readFlowCapture(pcap, (v) => {
        assert.ok(v.hasPacket, 'the frame was decoded');
        ours.push(`${formatIpv4(v.src4)}>${formatIpv4(v.dst4)}`);
      });
      // tshark dissects the frame inside the record; the first ip.src/ip.dst of each frame is the export's own.
      const rows = tsharkFlowFields(pcap, ['ip.src', 'ip.dst']);
      const theirs = rows.flatMap((r) => {
        const s = (r[0] ?? '').split('|').slice(1);
        const d = (r[1] ?? '').split('|').slice(1);
        return s.map((x, i) => `${x}>${d[i]}`);
      });
      // tshark gives up on one Ethernet-over-MPLS frame (its control word): ours has every record's.
      for (const t of theirs) assert.ok(ours.includes(t), `${t} missing from ${ours.join(' ')}`);
      assert.equal(ours.length, name.includes('eompls') ? 10 : 1);
      assert.ok(theirs.length >= ours.length - 1);
    });
  }
});

describe('NetFlow v5/v9 flow times against tshark', { skip: haveTshark ? false : 'tshark is not installed' }, () => {
  const files = [
    'nf5_pmacct_carpet_bombing_1in4.pcap',
    'nf5_softflowd_syn_flood_spoofed.pcap',
    'nf9_softflowd_dns_amplification.pcap',
    'pmacct_102-NFv9-CISCO-f2rd-pretag-sampling-reload_traffic-00.pcap',
  ];
  for (const name of files) {
    test(`${name}: start and end = export time - sysUpTime + first/last switched`, async () => {
      const pcap = flowFiles().find((f) => shortName(f) === name) as string;
      const frames: [number, number][][] = [];
      let current: [number, number][] = [];
      const dec = new FlowDecoder();
      dec.onFlow = (v) => current.push([v.startMs, v.endMs]);
      let n = 0;
      await readCapture(
        pcap,
        (p) => {
          if (n++ >= FRAMES) return;
          current = [];
          feedPacket(dec, p);
          frames.push(current);
        },
        { streamApps: false },
      );
      const rows = tsharkFlowFields(pcap, ['cflow.unix_secs', 'cflow.unix_nsecs', 'cflow.sysuptime', 'cflow.timestart', 'cflow.timeend'], ['-c', String(FRAMES)]);
      assert.equal(rows.length, frames.length);
      let compared = 0;
      rows.forEach((r, i) => {
        const ours = frames[i] as [number, number][];
        if (ours.length === 0) return;
        const base = Number(r[0]) * 1000 + Math.floor(Number(r[1] || 0) / 1e6) - Math.round(Number(r[2]) * 1000);
        const rel = (cell: string | undefined) => (cell ?? '').split('|').map((x) => base + Math.round(Number(x) * 1000));
        // softflowd's v9 sends some records with first = last switched = 0; we place them at the
        // exporter's boot (RFC 3954's reading), tshark's v9 shows them as absolute 1970 times instead.
        const v9 = name.includes('NFv9') || name.startsWith('nf9');
        const kept = ours.filter((t) => !(v9 && t[0] === base && t[1] === base));
        assert.deepEqual(
          kept.map((t) => t[0]),
          rel(r[3]),
          `frame ${i + 1} start`,
        );
        assert.deepEqual(
          kept.map((t) => t[1]),
          rel(r[4]),
          `frame ${i + 1} end`,
        );
        compared += kept.length;
      });
      assert.ok(compared > 10);
    });
  }
});
