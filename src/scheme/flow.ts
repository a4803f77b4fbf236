/**
 * Flow scheme: the Rules-language fields of one flow record (NetFlow v5/v9, IPFIX) or one sFlow
 * flow sample, read from the reused FlowView the flow decoders fill (sources/flow/record-view.ts).
 *
 * Names are the packet scheme's wherever the meaning is the same (DESIGN.md "FlowRecord"), with
 * the same type and the same capabilities, so a rule written for packets runs on flows, a rule
 * found on flows exports like a packet rule, and the conformance of a name holds in both. Every
 * packet field exists here, read from one of two places:
 *
 * - The sampled header. An sFlow sample whose raw header record decoded to IP (FlowView.packet)
 *   answers every packet field exactly as that packet would, through the packet scheme's own
 *   accessors: ip.ttl, ip.len, tcp.window, dns.qname, payload ... and also ip.src or tcp.flags,
 *   so a fragment without ports has no tcp.dstport, as on packets.
 * - The flow record, for what an exporter states: addresses, protocol, version, DSCP, ports, TCP
 *   flags (the OR of the flow's packets' flags), ICMP type and code, and the GeoIP fields of the
 *   addresses. outer.ip.src/dst/proto/version are the record's own: an exporter meters the header
 *   it sees, and without the packet there is no tunnel to look through. Fields the record cannot
 *   know (ip.ttl, ip.len, the raw bytes, DNS, tunnels ...) are missing on records without a header.
 *
 * Flow-only fields (flow.*) describe the record itself: its counters as exported and scaled by
 * the sampling rate, the exporter, interfaces, AS numbers, VLANs and times. They carry no export
 * targets: no kernel or router filter sees a flow record.
 */

import type { PacketView } from '../decode/view.js';
import { FlowKind, type FlowView } from '../sources/flow/record-view.js';
import { countryCodeBytes, type GeoEntry, geoCache } from './geo-cache.js';
import { PACKET_FIELDS, PROTO_BYTES } from './packet.js';
import { type Field, makeScheme, type Scheme } from './types.js';
import { arrayOf, BOOL, BYTES, INT, IP, IpValue, latin1, Slice, type Value } from './values.js';

type FF = Field<FlowView>;
type PF = Field<PacketView>;

const byName = new Map(PACKET_FIELDS.map((f) => [f.name, f]));
function packetField(name: string): PF {
  const f = byName.get(name);
  if (f === undefined) throw new Error(`flow scheme: no packet field ${name}`);
  return f;
}

/** The sampled header decoded to an IP packet: packet-named fields read it, not the record. */
const headerIp = (f: FlowView): boolean => f.hasPacket && f.packet.ipVersion !== 0;

// ---- what the record states ---------------------------------------------------------------------

/** The record names its addresses (NAT events and data-link records may not). */
const recIp = (f: FlowView): boolean => f.ipVersion === 4 || (f.ipVersion === 6 && f.src6Off >= 0 && f.dst6Off >= 0);
const recTcp = (f: FlowView): boolean => recIp(f) && f.proto === 6;
const recUdp = (f: FlowView): boolean => recIp(f) && f.proto === 17;
const recIcmp = (f: FlowView): boolean => recIp(f) && (f.proto === 1 || f.proto === 58);
/**
 * ICMP type << 8 | code: the exporter's own element (IE 32 / 139) when it sent one, else the
 * destination port, where NetFlow v5 and most v9/IPFIX exporters (pmacct, Cisco) put it.
 */
const recIcmpTypeCode = (f: FlowView): number => (f.icmpTypeCode >= 0 ? f.icmpTypeCode : f.dstPort) & 0xffff;

/** The scheme's doc for a field the record states, with what differs on flows. */
function sharedDoc(p: PF, flowNote?: string): string {
  return flowNote === undefined ? p.doc : `${p.doc}; on flow records, ${flowNote}`;
}

/** An Int field: the sampled header's value when there is one, else the record's. */
function sharedInt(name: string, rec: (f: FlowView) => number, flowNote?: string): FF {
  const p = packetField(name);
  const pint = p.int as (v: PacketView) => number;
  const int = (f: FlowView): number => (headerIp(f) ? pint(f.packet) : rec(f));
  return {
    name,
    type: INT,
    doc: sharedDoc(p, flowNote),
    ...(p.caps && { caps: p.caps }),
    int,
    get: (f) => {
      const x = int(f);
      return Number.isNaN(x) ? undefined : x;
    },
  };
}

function sharedBool(name: string, rec: (f: FlowView) => boolean, flowNote?: string): FF {
  const p = packetField(name);
  return { name, type: BOOL, doc: sharedDoc(p, flowNote), ...(p.caps && { caps: p.caps }), get: (f) => (headerIp(f) ? p.get(f.packet) === true : rec(f)) };
}

function sharedBytes(name: string, rec: (f: FlowView, out: Slice) => boolean, flowNote?: string): FF {
  const p = packetField(name);
  const pbytes = p.bytes as (v: PacketView, out: Slice) => boolean;
  const bytes = (f: FlowView, out: Slice): boolean => (headerIp(f) ? pbytes(f.packet, out) : rec(f, out));
  const s = new Slice();
  return {
    name,
    type: BYTES,
    doc: sharedDoc(p, flowNote),
    ...(p.caps && { caps: p.caps }),
    bytes,
    get: (f) => (bytes(f, s) ? s.buf.slice(s.off, s.off + s.len) : undefined),
  };
}

function sharedAddr(name: string, dst: boolean): FF {
  const p = packetField(name);
  const pfam = p.ipFam as (v: PacketView) => number;
  const p4 = p.ip4 as (v: PacketView) => number;
  const p6 = p.ip6 as (v: PacketView, out: Slice) => boolean;
  return {
    name,
    type: IP,
    doc: sharedDoc(p, 'the address the exporter metered'),
    ...(p.caps && { caps: p.caps }),
    ipFam: (f) => (headerIp(f) ? pfam(f.packet) : recIp(f) ? f.ipVersion : 0),
    ip4: (f) => (headerIp(f) ? p4(f.packet) : (dst ? f.dst4 : f.src4) >>> 0),
    ip6: (f, out) => (headerIp(f) ? p6(f.packet, out) : out.set(f.buf, dst ? f.dst6Off : f.src6Off, 16)),
    get(f): Value | undefined {
      if (headerIp(f)) return p.get(f.packet);
      if (!recIp(f)) return undefined;
      if (f.ipVersion === 4) return IpValue.of4(dst ? f.dst4 : f.src4);
      const o = dst ? f.dst6Off : f.src6Off;
      return IpValue.of6(f.buf.slice(o, o + 16));
    },
  };
}

function recGeo(f: FlowView, dst: boolean): GeoEntry | null {
  if (!recIp(f)) return null;
  if (f.ipVersion === 4) return geoCache.lookup4(dst ? f.dst4 : f.src4);
  return geoCache.lookup6(f.buf, dst ? f.dst6Off : f.src6Off);
}

const recProtoName = (f: FlowView, out: Slice): boolean => {
  if (!recIp(f)) return false;
  const b = PROTO_BYTES[f.proto & 255] as Uint8Array;
  return out.set(b, 0, b.length);
};
const recProtoNum = (f: FlowView): number => (recIp(f) ? f.proto & 255 : Number.NaN);
const recVersion = (f: FlowView): number => (recIp(f) ? f.ipVersion : Number.NaN);
const recFlag = (bit: number) => (f: FlowView) => recTcp(f) && (f.tcpFlags & bit) !== 0;
const FLAGS_NOTE = "set when any of the flow's packets had it (the OR of the flow's flags)";

/** Packet fields the record states (by name), read from the header when there is one. */
const FROM_RECORD: FF[] = [
  sharedAddr('ip.src', false),
  sharedAddr('ip.dst', true),
  sharedBytes('ip.proto', recProtoName),
  sharedInt('ip.proto.num', recProtoNum),
  sharedInt('ip.version', recVersion),
  sharedInt('ip.dscp', (f) => (recIp(f) ? (f.tos >> 2) & 63 : Number.NaN), 'from the ToS the exporter sent (0 when its template carries none)'),
  sharedBytes(
    'ip.src.country',
    (f, out) => {
      const c = recGeo(f, false)?.country;
      return c !== undefined && out.set(countryCodeBytes(c), 0, c.length);
    },
    "of the record's source address",
  ),
  sharedBytes(
    'ip.dst.country',
    (f, out) => {
      const c = recGeo(f, true)?.country;
      return c !== undefined && out.set(countryCodeBytes(c), 0, c.length);
    },
    "of the record's destination address",
  ),
  sharedInt('ip.src.asnum', (f) => recGeo(f, false)?.asn ?? Number.NaN, "of the record's source address (the router's own view is flow.src_as)"),
  sharedInt('ip.dst.asnum', (f) => recGeo(f, true)?.asn ?? Number.NaN, "of the record's destination address (the router's own view is flow.dst_as)"),
  sharedInt('tcp.srcport', (f) => (recTcp(f) ? f.srcPort : Number.NaN)),
  sharedInt('tcp.dstport', (f) => (recTcp(f) ? f.dstPort : Number.NaN)),
  sharedInt('tcp.flags', (f) => (recTcp(f) ? f.tcpFlags & 255 : Number.NaN), `the OR of the flags of the flow's packets (an sFlow sample: its packet's flags)`),
  sharedBool('tcp.flags.fin', recFlag(0x01), FLAGS_NOTE),
  sharedBool('tcp.flags.syn', recFlag(0x02), FLAGS_NOTE),
  sharedBool('tcp.flags.reset', recFlag(0x04), FLAGS_NOTE),
  sharedBool('tcp.flags.push', recFlag(0x08), FLAGS_NOTE),
  sharedBool('tcp.flags.ack', recFlag(0x10), FLAGS_NOTE),
  sharedBool('tcp.flags.urg', recFlag(0x20), FLAGS_NOTE),
  sharedBool('tcp.flags.ecn', recFlag(0x40), FLAGS_NOTE),
  sharedBool('tcp.flags.cwr', recFlag(0x80), FLAGS_NOTE),
  sharedInt('udp.srcport', (f) => (recUdp(f) ? f.srcPort : Number.NaN)),
  sharedInt('udp.dstport', (f) => (recUdp(f) ? f.dstPort : Number.NaN)),
  sharedInt(
    'icmp.type',
    (f) => (recIcmp(f) ? recIcmpTypeCode(f) >> 8 : Number.NaN),
    'from the exported ICMP type/code, or the destination port where exporters put type << 8 | code',
  ),
  sharedInt(
    'icmp.code',
    (f) => (recIcmp(f) ? recIcmpTypeCode(f) & 255 : Number.NaN),
    'from the exported ICMP type/code, or the destination port where exporters put type << 8 | code',
  ),
  sharedAddr('outer.ip.src', false),
  sharedAddr('outer.ip.dst', true),
  sharedBytes('outer.ip.proto', recProtoName),
  sharedInt('outer.ip.proto.num', recProtoNum),
  sharedInt('outer.ip.version', recVersion),
];

/** Fields that read no view at all (the sensor's identity): the same on every record. */
const VIEWLESS = new Set(['cf.colo.name', 'cf.colo.region']);

/** A packet field the record cannot state: the sampled header's value, missing without one. */
function fromHeader(p: PF): FF {
  const viewless = VIEWLESS.has(p.name);
  const has = viewless ? () => true : (f: FlowView) => f.hasPacket;
  const doc = viewless ? p.doc : `${p.doc}; on flows, from the sampled packet header (sFlow), missing without one`;
  const { int, bytes, ipFam, ip4, ip6 } = p;
  return {
    name: p.name,
    type: p.type,
    doc,
    ...(p.caps && { caps: p.caps }),
    // A missing Bool is false (spec §9), as the packet scheme's Bool fields always answer.
    get: p.type === BOOL ? (f) => has(f) && p.get(f.packet) === true : (f) => (has(f) ? p.get(f.packet) : undefined),
    ...(int && { int: (f: FlowView) => (has(f) ? int(f.packet) : Number.NaN) }),
    ...(bytes && { bytes: (f: FlowView, out: Slice) => has(f) && bytes(f.packet, out) }),
    ...(ipFam && { ipFam: (f: FlowView) => (has(f) ? ipFam(f.packet) : 0) }),
    ...(ip4 && { ip4: (f: FlowView) => ip4(f.packet) }),
    ...(ip6 && { ip6: (f: FlowView, out: Slice) => ip6(f.packet, out) }),
  };
}

// ---- flow-only fields ----------------------------------------------------------------------------

function flowInt(name: string, doc: string, int: (f: FlowView) => number): FF {
  return {
    name,
    type: INT,
    doc,
    int,
    get: (f) => {
      const x = int(f);
      return Number.isNaN(x) ? undefined : x;
    },
  };
}

/** A counter or identifier where 0 means "not exported" (as FlowRecord leaves it out). */
const nonZero = (x: number): number => (x > 0 ? x : Number.NaN);

const KIND_BYTES: Readonly<Record<number, Uint8Array>> = {
  [FlowKind.NETFLOW5]: latin1('netflow5'),
  [FlowKind.NETFLOW9]: latin1('netflow9'),
  [FlowKind.IPFIX]: latin1('ipfix'),
  [FlowKind.SFLOW5]: latin1('sflow5'),
};

const kindSlice = new Slice();
const kindBytes = (f: FlowView, out: Slice): boolean => {
  const b = KIND_BYTES[f.kind];
  return b !== undefined && out.set(b, 0, b.length);
};

/** The record's weight: one in samplingRate packets was metered (never below 1). */
export function flowWeight(f: FlowView): number {
  return Math.max(1, f.samplingRate);
}

export const FLOW_ONLY_FIELDS: FF[] = [
  {
    name: 'flow.kind',
    type: BYTES,
    doc: 'export protocol of the record: netflow5, netflow9, ipfix or sflow5',
    bytes: kindBytes,
    get: (f) => (kindBytes(f, kindSlice) ? kindSlice.buf.slice() : undefined),
  },
  flowInt('flow.packets', 'packets the record claims, as exported (not scaled; forward + reverse for a biflow; 1 for an sFlow sample)', (f) => f.packets),
  flowInt('flow.bytes', 'bytes the record claims, as exported (not scaled; an sFlow sample: the sampled frame length)', (f) => f.bytes),
  flowInt('flow.packets_est', 'packets on the network: flow.packets × flow.sampling_rate (rounded)', (f) => Math.round(f.packets * flowWeight(f))),
  flowInt('flow.bytes_est', 'bytes on the network: flow.bytes × flow.sampling_rate (rounded)', (f) => Math.round(f.bytes * flowWeight(f))),
  flowInt('flow.sampling_rate', "one in this many packets was metered (1: every packet); the record's weight", (f) => Math.round(flowWeight(f))),
  flowInt('flow.avg_len', 'mean packet length: flow.bytes / flow.packets, rounded down; missing without packets', (f) =>
    f.packets > 0 ? Math.floor(f.bytes / f.packets) : Number.NaN,
  ),
  {
    name: 'flow.exporter',
    type: IP,
    doc: "address of the exporter (the datagram's source; the agent address for sFlow)",
    ipFam: (f) => (f.exporterVersion === 4 || f.exporterVersion === 6 ? f.exporterVersion : 0),
    ip4: (f) => f.exporter4 >>> 0,
    ip6: (f, out) => out.set(f.exporter6, 0, 16),
    get: (f) => (f.exporterVersion === 4 ? IpValue.of4(f.exporter4) : f.exporterVersion === 6 ? IpValue.of6(f.exporter6.slice()) : undefined),
  },
  flowInt('flow.domain', 'NetFlow v9 source id, IPFIX observation domain, sFlow sub-agent id (v5: engine type << 8 | engine id)', (f) => f.domain >>> 0),
  flowInt('flow.input_if', 'input interface index (SNMP ifIndex); missing when the exporter sent 0 or none', (f) => nonZero(f.inputIf >>> 0)),
  flowInt('flow.output_if', 'output interface index (SNMP ifIndex); missing when the exporter sent 0 or none', (f) => nonZero(f.outputIf >>> 0)),
  flowInt('flow.src_as', 'source AS number as the exporting router knows it (BGP); missing when 0 or not exported', (f) => nonZero(f.srcAs >>> 0)),
  flowInt('flow.dst_as', 'destination AS number as the exporting router knows it (BGP); missing when 0 or not exported', (f) => nonZero(f.dstAs >>> 0)),
  {
    name: 'flow.as_path',
    type: arrayOf(INT),
    doc: 'AS path towards the destination (sFlow extended gateway); empty when not exported',
    get: (f) => Array.from(f.asPath.subarray(0, f.asPathLen)),
  },
  flowInt('flow.src_vlan', 'source (ingress) VLAN id; missing when 0 or not exported', (f) => nonZero(f.srcVlan)),
  flowInt('flow.dst_vlan', 'destination (egress) VLAN id; missing when 0 or not exported', (f) => nonZero(f.dstVlan)),
  flowInt('flow.direction', 'flow direction (IE 61): 0 ingress, 1 egress; missing when not exported', (f) => (f.direction >= 0 ? f.direction : Number.NaN)),
  flowInt('flow.start', "first packet of the flow, ms since the Unix epoch (an sFlow sample: its datagram's arrival)", (f) => f.startMs),
  flowInt('flow.end', 'last packet of the flow, ms since the Unix epoch', (f) => Math.max(f.endMs, f.startMs)),
  flowInt('flow.duration', 'flow.end - flow.start in ms (0 for an sFlow sample or a one-packet flow)', (f) => Math.max(0, f.endMs - f.startMs)),
  {
    name: 'flow.sampled_header',
    type: BOOL,
    doc: 'the record carries a decoded packet header (sFlow raw header): header-only packet fields have values',
    get: (f) => f.hasPacket,
  },
];

/** Every packet field (read from the record or the sampled header), then the flow-only fields. */
function flowFields(): FF[] {
  const fromRecord = new Map(FROM_RECORD.map((f) => [f.name, f]));
  const out: FF[] = PACKET_FIELDS.map((p) => fromRecord.get(p.name) ?? fromHeader(p));
  for (const name of fromRecord.keys()) if (!byName.has(name)) throw new Error(`flow scheme: ${name} is not a packet field`);
  return [...out, ...FLOW_ONLY_FIELDS];
}

export const flowScheme: Scheme<FlowView> = makeScheme('flow', flowFields());
