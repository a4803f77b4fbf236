/**
 * FlowView → FlowRecord (src/model/flow.ts, schema/flow-record.schema.json): the JSON form, made
 * only when a record is printed or exported, never on the decode path.
 */
import { formatIpv4, formatIpv6 } from '../../core/net/ip.js';
import type { FlowRecord } from '../../model/flow.js';
import { FlowKind, type FlowView } from './record-view.js';

const PROTOCOL: Record<number, FlowRecord['exporter']['protocol']> = {
  [FlowKind.NETFLOW5]: 'netflow5',
  [FlowKind.NETFLOW9]: 'netflow9',
  [FlowKind.IPFIX]: 'ipfix',
  [FlowKind.SFLOW5]: 'sflow5',
};

function iso(ms: number): string {
  // Exporters send anything (pmacct's 1970 timestamps, zero uptimes): clamp to what Date can print.
  const t = Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 8.64e15) : 0;
  return new Date(t).toISOString();
}

function address(v: FlowView, four: number, sixOff: number): string {
  if (v.ipVersion === 6 && sixOff >= 0) return formatIpv6(v.buf, sixOff);
  if (v.ipVersion === 4) return formatIpv4(four);
  // No address in the record (NAT events, data-link sections, a non-IP sample): empty, per the schema a string.
  return '';
}

/** Transport protocols whose records carry ports. */
function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 132 || proto === 33;
}

export function toFlowRecord(v: FlowView): FlowRecord {
  const r: FlowRecord = {
    exporter: { ip: v.exporterVersion === 6 ? formatIpv6(v.exporter6) : formatIpv4(v.exporter4), protocol: PROTOCOL[v.kind] ?? 'ipfix' },
    observation_domain: v.domain >>> 0,
    start: iso(v.startMs),
    end: iso(Math.max(v.endMs, v.startMs)),
    src: address(v, v.src4, v.src6Off),
    dst: address(v, v.dst4, v.dst6Off),
    proto: v.proto & 0xff,
    packets: v.packets,
    bytes: v.bytes,
    // Not rounded: a rate from packet interval and space (RFC 5476) can be 1 in 1.5.
    sampling_rate: Math.max(1, v.samplingRate),
  };
  // A sampled non-first fragment has no transport header, so no ports (not ports 0).
  if (hasPorts(v.proto) && !(v.hasPacket && v.packet.l4Off < 0)) {
    r.srcport = v.srcPort & 0xffff;
    r.dstport = v.dstPort & 0xffff;
  }
  if (v.proto === 6) r.tcp_flags = v.tcpFlags & 0xff;
  if (v.inputIf > 0) r.input_if = v.inputIf >>> 0;
  if (v.outputIf > 0) r.output_if = v.outputIf >>> 0;
  if (v.srcAs > 0) r.src_as = v.srcAs >>> 0;
  if (v.dstAs > 0) r.dst_as = v.dstAs >>> 0;
  return r;
}
