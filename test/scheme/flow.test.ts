/**
 * The flow scheme (src/scheme/flow.ts).
 *
 * 1. Catalogue: every packet field is a flow field of the same type with the same capabilities
 *    (a rule found on flows exports like one found on packets); flow-only fields are flow.* and
 *    carry no export target; the packet conformance vectors give the same results over the flow
 *    catalogue as over the packet one.
 * 2. Values, record by record against tshark (`-T json`, which keeps each record's fields
 *    together): the first frames of NetFlow v5, v9 (IPv4 and IPv6 with VLANs), IPFIX and sFlow
 *    captures of ../shared/corpus/flows. For sFlow the packet fields come from tshark's dissection
 *    of the sampled header, so header-only fields (ip.ttl, ip.len, tcp.window ...) are checked too.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, test } from 'node:test';
import { geoDb } from '../../src/core/geoip.js';
import { formatIpv4, formatIpv6 } from '../../src/core/net/ip.js';
import { compile } from '../../src/rules/compile.js';
import { FLOW_ONLY_FIELDS, flowScheme } from '../../src/scheme/flow.js';
import { packetScheme } from '../../src/scheme/packet.js';
import { recordFromJson, recordScheme } from '../../src/scheme/record.js';
import type { Scheme } from '../../src/scheme/types.js';
import { bytesKey, IpValue, type Value } from '../../src/scheme/values.js';
import { readCapture } from '../../src/sources/capture/capture.js';
import { feedPacket } from '../../src/sources/flow/capture-source.js';
import { FlowDecoder } from '../../src/sources/flow/datagram.js';
import { FlowFlag, FlowKind, FlowView } from '../../src/sources/flow/record-view.js';
import { SHARED } from '../helpers/tshark.js';
import { haveTshark, type Obj, str as s, sub, tsharkFlowRecords } from '../helpers/tshark-flows.js';

const FLOWS = join(SHARED, 'corpus/flows');
const FRAMES = 120;

describe('flow scheme catalogue', () => {
  it('has every packet field, with the same type and capabilities', () => {
    for (const p of packetScheme.fields.values()) {
      const f = flowScheme.fields.get(p.name);
      assert.ok(f, `flow scheme lacks ${p.name}`);
      assert.equal(f.type, p.type, p.name);
      assert.deepEqual(f.caps, p.caps, p.name);
      for (const acc of ['int', 'bytes', 'ipFam', 'ip4', 'ip6'] as const) assert.equal(typeof f[acc], typeof p[acc], `${p.name}.${acc}`);
    }
  });

  it('names its own fields flow.* and gives them no export target', () => {
    for (const f of FLOW_ONLY_FIELDS) {
      assert.match(f.name, /^flow\.[a-z_]+$/);
      assert.equal(packetScheme.fields.has(f.name), false);
      assert.equal(f.caps?.targets, undefined, f.name);
      assert.equal(f.caps?.ir, undefined, f.name);
    }
    assert.equal(flowScheme.fields.size, packetScheme.fields.size + FLOW_ONLY_FIELDS.length);
  });

  it('gives the packet conformance vectors the same results as the packet catalogue', () => {
    const flowRecords = recordScheme(flowScheme as Scheme<unknown>);
    const packetRecords = recordScheme(packetScheme as Scheme<unknown>);
    const text = readFileSync(join(SHARED, 'conformance/rules/cases.jsonl'), 'utf8');
    let n = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const c = JSON.parse(line) as { id: string; scheme: string; expr: string; fields?: Record<string, unknown>; lists?: Record<string, never> };
      if (c.scheme !== 'packet') continue;
      const outcome = (s: typeof flowRecords): string => {
        try {
          const p = compile(c.expr, s, { lists: c.lists ?? {} });
          return String(p(recordFromJson(s, c.fields ?? {})));
        } catch (e) {
          const x = e as { cls?: string; start?: number; message: string };
          return `${x.cls ?? 'throw'}@${x.start ?? ''}`;
        }
      };
      assert.equal(outcome(flowRecords), outcome(packetRecords), c.id);
      n++;
    }
    assert.ok(n > 100, `${n} packet cases`);
  });
});

describe('flow scheme GeoIP fields', () => {
  it("look the record's own addresses up, as the packet scheme does a packet's", () => {
    const v = new FlowView();
    v.kind = FlowKind.NETFLOW9;
    v.ipVersion = 4;
    v.src4 = 0x08080808;
    v.dst4 = 0x01010101;
    v.proto = 17;
    const want = (a: string) => geoDb().lookup(a);
    assert.equal(ours(v, 'ip.src.asnum'), String(want('8.8.8.8').asn ?? 'missing'));
    assert.equal(ours(v, 'ip.dst.asnum'), String(want('1.1.1.1').asn ?? 'missing'));
    assert.equal(ours(v, 'ip.src.country'), want('8.8.8.8').country ?? 'missing');
    // The router's own AS numbers are other fields, missing when it sent none.
    assert.equal(ours(v, 'flow.src_as'), 'missing');
    v.ipVersion = 0;
    assert.equal(ours(v, 'ip.src.asnum'), 'missing');
    assert.equal(ours(v, 'ip.src'), 'missing');
  });
});

// ---- values against tshark --------------------------------------------------------------------

/** Expected value as text; 'missing' when the field has no value; null: not compared for this record. */
type Expect = Map<string, string | null>;

const nz = (x: string | undefined): string => (x === undefined || Number(x) === 0 ? 'missing' : String(Number(x)));
const intText = (x: string | undefined): string => (x === undefined ? 'missing' : String(Number.parseInt(x, x.startsWith('0x') ? 16 : 10)));

/** Our value of a field as text, the way the expectations are written. */
function ours(v: FlowView, name: string): string {
  const f = flowScheme.fields.get(name);
  assert.ok(f, name);
  const x: Value | undefined = f.get(v);
  if (x === undefined) return 'missing';
  if (x instanceof IpValue) return x.fam === 4 ? formatIpv4(x.v4) : formatIpv6(x.v6 as Uint8Array);
  if (x instanceof Uint8Array) return bytesKey(x);
  return String(x);
}

/** tshark's absolute times ("May  1, 2024 08:00:02.974000000 UTC") as ms since the epoch. */
function tsharkMs(text: string): number {
  const m = /^(.*\d{2}:\d{2}:\d{2})(?:\.(\d+))? UTC$/.exec(text);
  assert.ok(m, text);
  return Date.parse(`${m[1]} UTC`) + Number(`${m[2] ?? ''}000`.slice(0, 3));
}

const KIND: Record<string, string> = { '5': 'netflow5', '9': 'netflow9', '10': 'ipfix' };
const PROTO: Record<string, string> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'icmpv6' };

/** What one NetFlow/IPFIX record of tshark's dissection says each flow-scheme field is. */
function cflowExpect(r: Obj, head: Obj, exporter: string, withDuration: boolean): Expect {
  const e: Expect = new Map();
  const proto = s(r, 'cflow.protocol') as string;
  const v6 = s(r, 'cflow.srcaddrv6') !== undefined;
  e.set('flow.kind', KIND[s(head, 'cflow.version') as string] as string);
  e.set('flow.exporter', exporter);
  const version = s(head, 'cflow.version');
  e.set(
    'flow.domain',
    version === '5' ? String((Number(s(head, 'cflow.engine_type')) << 8) | Number(s(head, 'cflow.engine_id'))) : (s(head, 'cflow.source_id') ?? s(head, 'cflow.od_id') ?? 'x'),
  );
  e.set('ip.src', (v6 ? s(r, 'cflow.srcaddrv6') : s(r, 'cflow.srcaddr')) as string);
  e.set('ip.dst', (v6 ? s(r, 'cflow.dstaddrv6') : s(r, 'cflow.dstaddr')) as string);
  e.set('outer.ip.dst', e.get('ip.dst') as string);
  e.set('ip.version', v6 ? '6' : '4');
  e.set('ip.proto.num', proto);
  e.set('ip.proto', PROTO[proto] ?? null);
  const tcp = proto === '6';
  const udp = proto === '17';
  e.set('tcp.srcport', tcp ? (s(r, 'cflow.srcport') as string) : 'missing');
  e.set('tcp.dstport', tcp ? (s(r, 'cflow.dstport') as string) : 'missing');
  e.set('udp.srcport', udp ? (s(r, 'cflow.srcport') as string) : 'missing');
  e.set('udp.dstport', udp ? (s(r, 'cflow.dstport') as string) : 'missing');
  const flags = s(r, 'cflow.tcpflags');
  e.set('tcp.flags', tcp ? intText(flags) : 'missing');
  e.set('tcp.flags.syn', String(tcp && (Number.parseInt(flags ?? '0', 16) & 2) !== 0));
  e.set('tcp.flags.ack', String(tcp && (Number.parseInt(flags ?? '0', 16) & 0x10) !== 0));
  const tos = s(r, 'cflow.tos');
  if (tos !== undefined) e.set('ip.dscp', String(Number.parseInt(tos, 16) >> 2));
  if (proto === '1' || proto === '58') {
    // The exporter's ICMP element, else the destination port (type << 8 | code).
    const tc = s(r, proto === '1' ? 'cflow.icmp_type_code_ipv4' : 'cflow.icmp_type_code_ipv6');
    const x = tc !== undefined ? Number.parseInt(tc, 16) : Number(s(r, 'cflow.dstport'));
    e.set('icmp.type', String(x >> 8));
    e.set('icmp.code', String(x & 255));
  } else e.set('icmp.type', 'missing');
  e.set('flow.packets', s(r, 'cflow.packets') as string);
  e.set('flow.bytes', s(r, 'cflow.octets') as string);
  const p = Number(s(r, 'cflow.packets'));
  e.set('flow.avg_len', p > 0 ? String(Math.floor(Number(s(r, 'cflow.octets')) / p)) : 'missing');
  const rate = version === '5' && Number(s(head, 'cflow.samplingmode')) !== 0 ? Number(s(head, 'cflow.samplerate')) : 1;
  e.set('flow.sampling_rate', String(rate));
  e.set('flow.packets_est', String(p * rate));
  e.set('flow.input_if', nz(s(r, 'cflow.inputint')));
  e.set('flow.output_if', nz(s(r, 'cflow.outputint')));
  if (s(r, 'cflow.srcas') !== undefined) e.set('flow.src_as', nz(s(r, 'cflow.srcas')));
  if (s(r, 'cflow.dstas') !== undefined) e.set('flow.dst_as', nz(s(r, 'cflow.dstas')));
  e.set('flow.src_vlan', nz(s(r, 'cflow.vlanid')));
  e.set('flow.dst_vlan', nz(s(r, 'cflow.post_vlanid')));
  const dir = s(r, 'cflow.direction');
  e.set('flow.direction', dir ?? 'missing');
  const delta = s(r, 'cflow.timedelta');
  if (withDuration && delta !== undefined) e.set('flow.duration', String(Math.round(Number(delta) * 1000)));
  const times = sub(r, 'cflow.timedelta_tree');
  const abs = s(times, 'cflow.abstimestart');
  if (withDuration && abs !== undefined) {
    // tshark shows uptime-relative times of a template from an earlier frame as 1970: not compared.
    const t0 = tsharkMs(abs);
    e.set('flow.start', t0 === 0 ? null : String(t0));
    e.set('flow.end', t0 === 0 ? null : String(tsharkMs(s(times, 'cflow.abstimeend') as string)));
  } else if (withDuration && s(times, 'cflow.timestart') !== undefined) {
    // Relative to the exporter's uptime: the export time less the uptime is its boot.
    const boot =
      Number(s(sub(head, 'cflow.timestamp_tree'), 'cflow.unix_secs')) * 1000 +
      Math.floor(Number(s(sub(head, 'cflow.timestamp_tree'), 'cflow.unix_nsecs') ?? 0) / 1e6) -
      Math.round(Number(s(head, 'cflow.sysuptime')) * 1000);
    e.set('flow.start', String(boot + Math.round(Number(s(times, 'cflow.timestart')) * 1000)));
    e.set('flow.end', String(boot + Math.round(Number(s(times, 'cflow.timeend')) * 1000)));
  }
  e.set('flow.bytes_est', String(Number(s(r, 'cflow.octets')) * rate));
  // Packet fields a record cannot know: missing without a sampled header.
  for (const name of ['ip.ttl', 'ip.len', 'tcp.window', 'payload.len', 'dns.qname', 'tunnel']) e.set(name, name === 'tunnel' ? 'false' : 'missing');
  e.set('flow.sampled_header', 'false');
  return e;
}

/** What one sFlow flow sample of tshark's dissection says (its sampled header dissected as a packet). */
function sflowExpect(sample: Obj, head: Obj): Expect {
  const e: Expect = new Map();
  e.set('flow.kind', 'sflow5');
  e.set('flow.exporter', s(head, 'sflow_245.agent') as string);
  e.set('flow.domain', s(head, 'sflow_245.sub_agent_id') as string);
  e.set('flow.sampling_rate', s(sample, 'sflow.flow_sample.sampling_rate') as string);
  e.set('flow.packets', '1');
  e.set('flow.packets_est', s(sample, 'sflow.flow_sample.sampling_rate') as string);
  const input = s(sample, 'sflow.flow_sample.input_interface');
  if (input !== undefined) e.set('flow.input_if', nz(input));
  const sw = sub(sample, 'Extended switch data');
  if (sw) {
    e.set('flow.src_vlan', nz(s(sw, 'sflow_245.vlan.in')));
    e.set('flow.dst_vlan', nz(s(sw, 'sflow_245.vlan.out')));
  }
  e.set('flow.duration', '0');
  const raw = sub(sample, 'Raw packet header');
  if (!raw) return e;
  e.set('flow.bytes', s(raw, 'sflow_245.header.frame_length') as string);
  e.set('flow.sampled_header', 'true');
  const t = sub(raw, 'sflow_245.header_tree');
  const ip = sub(t, 'ip');
  const ip6 = sub(t, 'ipv6');
  if (ip) {
    e.set('ip.version', '4');
    e.set('ip.src', s(ip, 'ip.src') as string);
    e.set('ip.dst', s(ip, 'ip.dst') as string);
    e.set('ip.ttl', s(ip, 'ip.ttl') as string);
    e.set('ip.len', s(ip, 'ip.len') as string);
    e.set('ip.id', intText(s(ip, 'ip.id')));
    e.set('ip.proto.num', s(ip, 'ip.proto') as string);
    e.set('ip.dscp', s(sub(ip, 'ip.dsfield_tree'), 'ip.dsfield.dscp') as string);
    e.set('ip.flags.df', s(sub(ip, 'ip.flags_tree'), 'ip.flags.df') === '1' ? 'true' : 'false');
  } else if (ip6) {
    e.set('ip.version', '6');
    e.set('ip.src', s(ip6, 'ipv6.src') as string);
    e.set('ip.dst', s(ip6, 'ipv6.dst') as string);
    e.set('ip.ttl', s(ip6, 'ipv6.hlim') as string);
    e.set('ip.len', String(Number(s(ip6, 'ipv6.plen')) + 40));
    e.set('ip.id', 'missing');
  } else return e;
  const udp = sub(t, 'udp');
  const tcp = sub(t, 'tcp');
  e.set('udp.srcport', s(udp, 'udp.srcport') ?? 'missing');
  e.set('udp.dstport', s(udp, 'udp.dstport') ?? 'missing');
  e.set('udp.len', s(udp, 'udp.length') ?? 'missing');
  e.set('tcp.srcport', s(tcp, 'tcp.srcport') ?? 'missing');
  e.set('tcp.dstport', s(tcp, 'tcp.dstport') ?? 'missing');
  e.set('tcp.flags', tcp ? intText(s(tcp, 'tcp.flags')) : 'missing');
  e.set('tcp.window', s(tcp, 'tcp.window_size_value') ?? 'missing');
  e.set('tcp.flags.syn', String(tcp !== undefined && (Number.parseInt(s(tcp, 'tcp.flags') ?? '0', 16) & 2) !== 0));
  const icmp = sub(t, 'icmp');
  const icmp6 = sub(t, 'icmpv6');
  e.set('icmp.type', s(icmp, 'icmp.type') ?? s(icmp6, 'icmpv6.type') ?? 'missing');
  e.set('icmp.code', s(icmp, 'icmp.code') ?? s(icmp6, 'icmpv6.code') ?? 'missing');
  return e;
}

/** tshark's records of each of the first frames, as expectations. */
function tsharkRecords(pcap: string, withDuration: boolean): Expect[][] {
  return tsharkFlowRecords(pcap, FRAMES).map((frame) => frame.map((r) => (r.kind === 'sflow' ? sflowExpect(r.rec, r.head) : cflowExpect(r.rec, r.head, r.exporter, withDuration))));
}

/** Our records of the same frames, each as the fields the expectations name (read at the callback). */
async function ourRecords(pcap: string, names: (i: number, j: number) => string[] | undefined): Promise<Map<string, string>[][]> {
  const dec = new FlowDecoder();
  const frames: Map<string, string>[][] = [];
  let current: Map<string, string>[] = [];
  dec.onFlow = (v) => {
    if (v.flags & FlowFlag.FROM_PENDING) return;
    const want = names(frames.length, current.length) ?? [];
    current.push(new Map(want.map((n) => [n, ours(v, n)])));
  };
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
  return frames;
}

const FILES: { file: string; duration: boolean; min: Record<string, number> }[] = [
  { file: 'nf5_pmacct_carpet_bombing_1in4.pcap', duration: true, min: { 'icmp.type': 1, 'flow.sampling_rate': 100, 'flow.start': 100 } },
  { file: 'nf5_softflowd_real_ddosgrid_synflood.pcap', duration: true, min: { 'tcp.flags': 100 } },
  { file: 'nf9_softflowd_dns_amplification.pcap', duration: true, min: { 'udp.srcport': 100, 'icmp.type': 1 } },
  { file: 'nf9_softflowd_udp_flood_ipv6_vlan.pcap', duration: true, min: { 'flow.src_vlan': 100 } },
  { file: 'ipfix_softflowd_flash_crowd.pcap', duration: true, min: { 'tcp.dstport': 100, 'flow.start': 100, 'flow.end': 100 } },
  // pmacct's 16-byte microsecond timestamps: tshark cannot read them, so no duration here.
  { file: 'ipfix_pmacct_multi_vector.pcap', duration: false, min: { 'ip.dst': 100, 'icmp.type': 1 } },
  // A real router's NetFlow v9 (akvorado's test capture, port 2100) with ICMP records; sFlow with ICMPv6.
  { file: 'public/akvorado_nfv9_icmp_port2100.pcap', duration: true, min: { 'icmp.type': 1 } },
  { file: 'public/akvorado_sflow_icmpv6.pcap', duration: true, min: { 'ip.ttl': 1, 'icmp.type': 1 } },
  { file: 'sflow5_pmacct_dns_amplification_1in8.pcap', duration: true, min: { 'ip.ttl': 100, 'udp.srcport': 100 } },
  { file: 'sflow5_pmacct_syn_flood_spoofed_1in10_counters.pcap', duration: true, min: { 'tcp.window': 100, 'tcp.flags': 100 } },
  { file: 'sflow5_pmacct_udp_flood_ipv6_vlan_1in4.pcap', duration: true, min: { 'ip.len': 100 } },
];

describe('flow scheme values against tshark', { skip: haveTshark ? false : 'tshark is not installed' }, () => {
  for (const { file, duration, min } of FILES) {
    test(file, async () => {
      const pcap = join(FLOWS, file);
      const want = tsharkRecords(pcap, duration);
      const got = await ourRecords(pcap, (i, j) => {
        const e = want[i]?.[j];
        return e ? [...e.keys()] : undefined;
      });
      assert.equal(got.length, want.length, 'frames');
      const compared = new Map<string, number>();
      const wrong: string[] = [];
      for (let i = 0; i < want.length; i++) {
        const w = want[i] as Expect[];
        const g = got[i] as Map<string, string>[];
        assert.equal(g.length, w.length, `frame ${i + 1}: records`);
        w.forEach((e, j) => {
          for (const [name, x] of e) {
            if (x === null) continue;
            const y = (g[j] as Map<string, string>).get(name);
            if (y !== x && wrong.length < 10) wrong.push(`frame ${i + 1} record ${j + 1} ${name}: ours ${y}, tshark ${x}`);
            if (x !== 'missing') compared.set(name, (compared.get(name) ?? 0) + 1);
          }
        });
      }
      assert.deepEqual(wrong, []);
      for (const [name, n] of Object.entries(min)) assert.ok((compared.get(name) ?? 0) >= n, `${name}: ${compared.get(name) ?? 0} values compared, want ≥ ${n}`);
    });
  }
});
