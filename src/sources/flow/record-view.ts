/**
 * FlowView: the one reused record every flow decoder fills, as PacketView is for packets. A flow
 * (NetFlow v5/v9, IPFIX data record) or an sFlow flow sample lands here, is handed to the
 * callback, and is overwritten by the next record: nothing here is a string, addresses are
 * numbers (IPv4) or offsets into `buf` (IPv6), counters are doubles (a 64-bit counter read as
 * hi * 2^32 + lo is exact up to 2^53, far beyond any real flow). toFlowRecord (to-record.ts) makes
 * the JSON FlowRecord when one is wanted.
 *
 * CounterView does the same for sFlow counter samples (generic interface counters).
 */
import { PacketView } from '../../decode/view.js';

/** The export protocol of a record (and of a datagram). */
export const enum FlowKind {
  NONE = 0,
  NETFLOW5 = 5,
  NETFLOW9 = 9,
  IPFIX = 10,
  SFLOW5 = 50,
}

/** Oddities seen in one record (bits in FlowView.flags). The record is still emitted. */
export const enum FlowFlag {
  NONE = 0,
  /** IE 154/155 with length 16 (pmacct 1.7.7's struct timeval): read as seconds + microseconds. */
  TIMESTAMP_LEN16 = 1,
  /** Held because its template had not arrived, and decoded when it came. */
  FROM_PENDING = 2,
  /** The template carries neither a packet nor a byte counter (NAT events, data-link sections). */
  NO_COUNTERS = 4,
  /** An sFlow raw header whose packet decode set TRUNCATED/MALFORMED/UNSUPPORTED. */
  HEADER_DAMAGED = 8,
  /** RFC 5103 reverse counters were added into packets/bytes. */
  BIFLOW = 16,
}

/** sFlow input/output interface formats (top two bits of the 32-bit field). */
export const enum IfFormat {
  SINGLE = 0,
  DISCARDED = 1,
  MULTIPLE = 2,
}

export class FlowView {
  kind: FlowKind = FlowKind.NONE;
  /** The buffer the *Off fields index (the datagram's, or a held copy's). */
  buf: Uint8Array = new Uint8Array(0);

  // ---- who exported it --------------------------------------------------------------------
  /** 4 or 6: the exporter's address family (UDP source, or the sFlow agent address). */
  exporterVersion = 0;
  exporter4 = 0;
  /** IPv6 exporter: 16 bytes, copied (the exporter outlives one datagram). */
  readonly exporter6 = new Uint8Array(16);
  /** NetFlow v9 source id, IPFIX observation domain, sFlow sub-agent id, v5 engine type << 8 | engine id. */
  domain = 0;
  /** Template id (v9/IPFIX), 0 for v5 and sFlow. */
  templateId = 0;

  // ---- when ---------------------------------------------------------------------------------
  /** First and last packet, ms since the epoch (an sFlow sample: its datagram's arrival). */
  startMs = 0;
  endMs = 0;

  // ---- addresses and transport --------------------------------------------------------------
  /** 0 (none known), 4 or 6. */
  ipVersion = 0;
  src4 = 0;
  dst4 = 0;
  /** Offsets of 16 address bytes in `buf`, -1 when not IPv6. */
  src6Off = -1;
  dst6Off = -1;
  proto = 0;
  srcPort = 0;
  dstPort = 0;
  /** OR of the flow's TCP flags (forward and, for a biflow, reverse). */
  tcpFlags = 0;
  tos = 0;
  /** ICMP type << 8 | code when the exporter sent one (it often rides in dstPort instead). */
  icmpTypeCode = -1;
  nextHop4 = 0;

  // ---- counts -------------------------------------------------------------------------------
  /** As exported (not scaled): forward + reverse for a biflow, 1 for an sFlow sample. */
  packets = 0;
  /** Bytes as exported; an sFlow sample: the sampled frame's length on the wire. */
  bytes = 0;
  /** The reverse part of packets/bytes (RFC 5103), already included above. */
  reversePackets = 0;
  reverseBytes = 0;
  /** One in samplingRate packets was metered: the record's weight. */
  samplingRate = 1;

  // ---- routing and interfaces ---------------------------------------------------------------
  inputIf = 0;
  outputIf = 0;
  /** sFlow only: IfFormat of the output interface field (discarded, multiple). */
  outputIfFormat = 0;
  srcAs = 0;
  dstAs = 0;
  /** sFlow extended gateway: the AS path to the destination (first asPathLen entries). */
  readonly asPath = new Uint32Array(32);
  asPathLen = 0;
  srcVlan = 0;
  dstVlan = 0;
  /** 0 ingress, 1 egress, -1 unknown (IE 61). */
  direction = -1;

  // ---- sampling details read from the record itself -----------------------------------------
  /** IE 34 / 50 / 305-306 inside a data record, 0 when absent. */
  recordSamplingInterval = 0;
  recordSamplerRandomInterval = 0;
  recordPacketInterval = 0;
  recordPacketSpace = 0;
  recordSamplingSize = 0;
  recordSamplingPopulation = 0;
  /** IE 48 (samplerId) / 302 (selectorId), -1 when absent. */
  samplerId = -1;
  /** IE 160 (options records), 0 when absent. */
  systemInitMs = 0;

  // ---- sFlow ----------------------------------------------------------------------------------
  /** sFlow source id (type << 24 | index) and the sample's sequence number. */
  sourceId = 0;
  sampleSeq = 0;
  samplePool = 0;
  /** Drops the agent reported in this sample (a running total per source). */
  drops = 0;
  /** Raw header record: its header protocol (1 Ethernet, 11 IPv4, 12 IPv6), -1 when absent. */
  headerProtocol = -1;
  /** Bytes stripped from the sampled frame before sampling (e.g. the FCS). */
  stripped = 0;
  /** IPFIX IE 315 / 313: the sampled frame or IP header in `buf` (-1: none), its link type and wire length. */
  sectionOff = -1;
  sectionLen = 0;
  sectionLink = 0;
  sectionFrameSize = 0;
  /** The decoded sampled header (sFlow raw header, IPFIX IE 315/313) when hasPacket: fields and vectors work on it. */
  readonly packet = new PacketView();
  hasPacket = false;

  /** FlowFlag bits. */
  flags = 0;

  /** Clear every per-record field (the exporter fields belong to the datagram and stay). */
  reset(): void {
    this.templateId = 0;
    this.startMs = 0;
    this.endMs = 0;
    this.ipVersion = 0;
    this.src4 = 0;
    this.dst4 = 0;
    this.src6Off = -1;
    this.dst6Off = -1;
    this.proto = 0;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.tos = 0;
    this.icmpTypeCode = -1;
    this.nextHop4 = 0;
    this.packets = 0;
    this.bytes = 0;
    this.reversePackets = 0;
    this.reverseBytes = 0;
    this.samplingRate = 1;
    this.inputIf = 0;
    this.outputIf = 0;
    this.outputIfFormat = 0;
    this.srcAs = 0;
    this.dstAs = 0;
    this.asPathLen = 0;
    this.srcVlan = 0;
    this.dstVlan = 0;
    this.direction = -1;
    this.recordSamplingInterval = 0;
    this.recordSamplerRandomInterval = 0;
    this.recordPacketInterval = 0;
    this.recordPacketSpace = 0;
    this.recordSamplingSize = 0;
    this.recordSamplingPopulation = 0;
    this.samplerId = -1;
    this.systemInitMs = 0;
    this.sourceId = 0;
    this.sampleSeq = 0;
    this.samplePool = 0;
    this.drops = 0;
    this.headerProtocol = -1;
    this.stripped = 0;
    this.sectionOff = -1;
    this.sectionLen = 0;
    this.sectionLink = 0;
    this.sectionFrameSize = 0;
    this.hasPacket = false;
    this.flags = 0;
  }
}

/**
 * One sFlow generic interface counter record (counter format 1), with the link utilisation worked
 * out against the previous sample of the same agent and interface (NaN for the first one).
 */
export class CounterView {
  exporterVersion = 0;
  exporter4 = 0;
  readonly exporter6 = new Uint8Array(16);
  domain = 0;
  sourceId = 0;
  sampleSeq = 0;
  /** Arrival time of the datagram (ms since the epoch) and the agent's uptime (ms). */
  timeMs = 0;
  uptimeMs = 0;
  ifIndex = 0;
  ifType = 0;
  /** Bits per second. */
  ifSpeed = 0;
  ifDirection = 0;
  ifStatus = 0;
  inOctets = 0;
  inUcastPkts = 0;
  inMulticastPkts = 0;
  inBroadcastPkts = 0;
  inDiscards = 0;
  inErrors = 0;
  inUnknownProtos = 0;
  outOctets = 0;
  outUcastPkts = 0;
  outMulticastPkts = 0;
  outBroadcastPkts = 0;
  outDiscards = 0;
  outErrors = 0;
  promiscuous = 0;
  /** Since the previous sample of this interface (by agent uptime): ms, bits/s and share of ifSpeed. */
  intervalMs = Number.NaN;
  inBps = Number.NaN;
  outBps = Number.NaN;
  inUtilisation = Number.NaN;
  outUtilisation = Number.NaN;
}
