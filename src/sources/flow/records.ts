/**
 * One data record of a v9/IPFIX template → the FlowView, field by field by the template's ops.
 * Shared by netflow9.ts and ipfix.ts; the hot loop of both. No allocation: numbers go into the
 * view, IPv6 addresses stay in the buffer as offsets.
 */
import { u16, uint } from './bytes.js';
import { Op } from './elements.js';
import { FlowFlag, type FlowView } from './record-view.js';
import { FIELD_WORDS, type Template, VARLEN } from './template-cache.js';

/** Seconds between the NTP epoch (1900) and the Unix epoch. */
const NTP_UNIX = 2208988800;

/** What record times are relative to: the message header, and the domain's init time. */
export class RecordClock {
  /** Export time from the header (s). */
  exportSecs = 0;
  /** NetFlow v9 header sysUpTime (ms); -1 for IPFIX (no uptime in its header). */
  sysUptimeMs = -1;
  /** IPFIX systemInitTimeMilliseconds for the domain, 0 when unknown. */
  systemInitMs = 0;
}

/*
 * Reads and times are written out inline in decodeRecord rather than through bytes.ts: the
 * function is too big for V8 to inline every helper call, and a helper left out of line returns
 * a value above 2^30 (an IPv4 address, a time in ms) as a new heap number: an allocation per
 * field per record.
 */

/**
 * Decode the record at p. Returns the offset after it, or -1 when a field runs past `end` (the
 * caller counts a malformed record and stops reading the set).
 */
export function decodeRecord(t: Template, b: Uint8Array, p: number, end: number, v: FlowView, c: RecordClock): number {
  const f = t.fields;
  const words = f.length;
  let start = -1;
  let stop = -1;
  // The zero of uptime-relative times: the v9 header's clock, else IPFIX's systemInitTime, else none.
  const exportMs = c.exportSecs * 1000;
  const bootMs = c.sysUptimeMs >= 0 ? exportMs - c.sysUptimeMs : c.systemInitMs > 0 ? c.systemInitMs : -1;
  for (let w = 0; w < words; w += FIELD_WORDS) {
    let len = f[w + 1] as number;
    if (len === VARLEN) {
      // RFC 7011 §7: one length byte, or 255 and a two-byte length.
      if (p >= end) return -1;
      len = b[p] as number;
      p++;
      if (len === 255) {
        if (p + 2 > end) return -1;
        len = u16(b, p);
        p += 2;
      }
    }
    if (p + len > end) return -1;
    switch ((f[w] as number) >>> 16) {
      case Op.SKIP:
        break;
      case Op.SRC4:
        v.src4 = (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0;
        if (v.ipVersion === 0) v.ipVersion = 4;
        break;
      case Op.DST4:
        v.dst4 = (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0;
        if (v.ipVersion === 0) v.ipVersion = 4;
        break;
      case Op.SRC6:
        v.src6Off = p;
        v.ipVersion = 6;
        break;
      case Op.DST6:
        v.dst6Off = p;
        v.ipVersion = 6;
        break;
      case Op.PROTO:
        v.proto = b[p] as number;
        break;
      case Op.SRC_PORT:
        v.srcPort = u16(b, p);
        break;
      case Op.DST_PORT:
        v.dstPort = u16(b, p);
        break;
      case Op.TCP_FLAGS:
        v.tcpFlags |= (b[p + len - 1] as number) & 0xff;
        break;
      case Op.TOS:
        v.tos = b[p] as number;
        break;
      case Op.BYTES:
        v.bytes +=
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.PACKETS:
        v.packets +=
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.REV_BYTES: {
        const x =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        v.bytes += x;
        v.reverseBytes += x;
        v.flags |= FlowFlag.BIFLOW;
        break;
      }
      case Op.REV_PACKETS: {
        const x =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        v.packets += x;
        v.reversePackets += x;
        v.flags |= FlowFlag.BIFLOW;
        break;
      }
      case Op.REV_TCP_FLAGS:
        v.tcpFlags |= (b[p + len - 1] as number) & 0xff;
        break;
      case Op.INPUT_IF:
        v.inputIf =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.OUTPUT_IF:
        v.outputIf =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.SRC_AS:
        v.srcAs =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.DST_AS:
        v.dstAs =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.NEXT_HOP4:
        v.nextHop4 = (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0;
        break;
      case Op.ICMP_TYPE_CODE:
        v.icmpTypeCode = u16(b, p);
        break;
      case Op.IP_VERSION: {
        const ver = b[p] as number;
        if (ver === 4 || ver === 6) v.ipVersion = ver;
        break;
      }
      case Op.SRC_VLAN:
        v.srcVlan = u16(b, p) & 0xfff;
        break;
      case Op.DST_VLAN:
        v.dstVlan = u16(b, p) & 0xfff;
        break;
      case Op.DIRECTION:
        v.direction = b[p] as number;
        break;
      case Op.START_UPTIME:
        start = bootMs >= 0 ? bootMs + ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) : exportMs;
        break;
      case Op.END_UPTIME:
        stop = bootMs >= 0 ? bootMs + ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) : exportMs;
        break;
      case Op.START_SEC:
        start = ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 1000;
        break;
      case Op.END_SEC:
        stop = ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 1000;
        break;
      case Op.START_MS:
        start =
          ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
          ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0);
        break;
      case Op.END_MS:
        stop =
          ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
          ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0);
        break;
      case Op.START_NTP:
        start =
          (((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) - NTP_UNIX) * 1000 +
          Math.floor((((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0) / 4294967296) * 1000);
        break;
      case Op.END_NTP:
        stop =
          (((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) - NTP_UNIX) * 1000 +
          Math.floor((((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0) / 4294967296) * 1000);
        break;
      case Op.START_TIMEVAL:
        start =
          (((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
            ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)) *
            1000 +
          Math.floor(
            (((((b[p + 8] as number) << 24) | ((b[p + 8 + 1] as number) << 16) | ((b[p + 8 + 2] as number) << 8) | (b[p + 8 + 3] as number)) >>> 0) * 4294967296 +
              ((((b[p + 8 + 4] as number) << 24) | ((b[p + 8 + 4 + 1] as number) << 16) | ((b[p + 8 + 4 + 2] as number) << 8) | (b[p + 8 + 4 + 3] as number)) >>> 0)) /
              1000,
          );
        v.flags |= FlowFlag.TIMESTAMP_LEN16;
        break;
      case Op.END_TIMEVAL:
        stop =
          (((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
            ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)) *
            1000 +
          Math.floor(
            (((((b[p + 8] as number) << 24) | ((b[p + 8 + 1] as number) << 16) | ((b[p + 8 + 2] as number) << 8) | (b[p + 8 + 3] as number)) >>> 0) * 4294967296 +
              ((((b[p + 8 + 4] as number) << 24) | ((b[p + 8 + 4 + 1] as number) << 16) | ((b[p + 8 + 4 + 2] as number) << 8) | (b[p + 8 + 4 + 3] as number)) >>> 0)) /
              1000,
          );
        v.flags |= FlowFlag.TIMESTAMP_LEN16;
        break;
      case Op.START_DELTA_US:
        start = exportMs - Math.floor(((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) / 1000);
        break;
      case Op.END_DELTA_US:
        stop = exportMs - Math.floor(((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) / 1000);
        break;
      case Op.SAMPLING_INTERVAL:
        v.recordSamplingInterval =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.SAMPLER_RANDOM_INTERVAL:
        v.recordSamplerRandomInterval =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.SAMPLER_ID:
        v.samplerId =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.PACKET_INTERVAL:
        v.recordPacketInterval =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.PACKET_SPACE:
        v.recordPacketSpace =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.SAMPLING_SIZE:
        v.recordSamplingSize =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.SAMPLING_POPULATION:
        v.recordSamplingPopulation =
          len === 4
            ? (((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0
            : len === 8
              ? ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
                ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0)
              : uint(b, p, len);
        break;
      case Op.DATALINK_SECTION:
        v.sectionOff = p;
        v.sectionLen = len;
        v.sectionLink = 1; // Ethernet (RFC 7133: the frame from its MAC header)
        break;
      case Op.IP_SECTION:
        v.sectionOff = p;
        v.sectionLen = len;
        v.sectionLink = 101; // raw IP, version from the first nibble
        break;
      case Op.DATALINK_FRAME_SIZE:
        v.sectionFrameSize = uint(b, p, len);
        break;
      case Op.SYSTEM_INIT_MS:
        v.systemInitMs =
          ((((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)) >>> 0) * 4294967296 +
          ((((b[p + 4] as number) << 24) | ((b[p + 4 + 1] as number) << 16) | ((b[p + 4 + 2] as number) << 8) | (b[p + 4 + 3] as number)) >>> 0);
        break;
    }
    p += len;
  }
  v.startMs = start >= 0 ? start : stop >= 0 ? stop : exportMs;
  v.endMs = stop >= 0 ? stop : v.startMs;
  if (!t.hasCounters) v.flags |= FlowFlag.NO_COUNTERS;
  return p;
}

/**
 * The sampling interval a record or an options record states, or 0: IE 34, else IE 50, else
 * population / size (RFC 5476 random n-out-of-N, Cisco's sampler options), else (packet interval
 * + packet space) / packet interval (RFC 5476 systematic count-based sampling).
 */
export function statedRate(v: FlowView): number {
  if (v.recordSamplingInterval > 0) return v.recordSamplingInterval;
  if (v.recordSamplerRandomInterval > 0) return v.recordSamplerRandomInterval;
  if (v.recordSamplingSize > 0 && v.recordSamplingPopulation >= v.recordSamplingSize) return v.recordSamplingPopulation / v.recordSamplingSize;
  if (v.recordPacketInterval > 0) return (v.recordPacketInterval + v.recordPacketSpace) / v.recordPacketInterval;
  return 0;
}
