/**
 * One data record of a v9/IPFIX template → the FlowView, field by field by the template's ops.
 * Shared by netflow9.ts and ipfix.ts; the hot loop of both. No allocation: numbers go into the
 * view, IPv6 addresses stay in the buffer as offsets.
 */
import { u16, u32, u64, uint } from './bytes.js';
import { Op } from './elements.js';
import { FlowFlag, type FlowView } from './record-view.js';
import { type Template, VARLEN } from './template-cache.js';

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

function ntpMs(b: Uint8Array, p: number): number {
  const sec = u32(b, p);
  const frac = u32(b, p + 4);
  return (sec - NTP_UNIX) * 1000 + Math.floor((frac / 4294967296) * 1000);
}

/** An uptime-relative time (ms) made absolute. */
function uptimeMs(c: RecordClock, t: number): number {
  if (c.sysUptimeMs >= 0) return c.exportSecs * 1000 - (c.sysUptimeMs - t);
  if (c.systemInitMs > 0) return c.systemInitMs + t;
  return c.exportSecs * 1000;
}

/**
 * Decode the record at p. Returns the offset after it, or -1 when a field runs past `end` (the
 * caller counts a malformed record and stops reading the set).
 */
export function decodeRecord(t: Template, b: Uint8Array, p: number, end: number, v: FlowView, c: RecordClock): number {
  const ops = t.ops;
  const lens = t.lens;
  const n = lens.length;
  let start = -1;
  let stop = -1;
  for (let i = 0; i < n; i++) {
    let len = lens[i] as number;
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
    switch (ops[i]) {
      case Op.SKIP:
        break;
      case Op.SRC4:
        v.src4 = u32(b, p);
        if (v.ipVersion === 0) v.ipVersion = 4;
        break;
      case Op.DST4:
        v.dst4 = u32(b, p);
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
        v.bytes += uint(b, p, len);
        break;
      case Op.PACKETS:
        v.packets += uint(b, p, len);
        break;
      case Op.REV_BYTES: {
        const x = uint(b, p, len);
        v.bytes += x;
        v.reverseBytes += x;
        v.flags |= FlowFlag.BIFLOW;
        break;
      }
      case Op.REV_PACKETS: {
        const x = uint(b, p, len);
        v.packets += x;
        v.reversePackets += x;
        v.flags |= FlowFlag.BIFLOW;
        break;
      }
      case Op.REV_TCP_FLAGS:
        v.tcpFlags |= (b[p + len - 1] as number) & 0xff;
        break;
      case Op.INPUT_IF:
        v.inputIf = uint(b, p, len);
        break;
      case Op.OUTPUT_IF:
        v.outputIf = uint(b, p, len);
        break;
      case Op.SRC_AS:
        v.srcAs = uint(b, p, len);
        break;
      case Op.DST_AS:
        v.dstAs = uint(b, p, len);
        break;
      case Op.NEXT_HOP4:
        v.nextHop4 = u32(b, p);
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
        start = uptimeMs(c, u32(b, p));
        break;
      case Op.END_UPTIME:
        stop = uptimeMs(c, u32(b, p));
        break;
      case Op.START_SEC:
        start = u32(b, p) * 1000;
        break;
      case Op.END_SEC:
        stop = u32(b, p) * 1000;
        break;
      case Op.START_MS:
        start = u64(b, p);
        break;
      case Op.END_MS:
        stop = u64(b, p);
        break;
      case Op.START_NTP:
        start = ntpMs(b, p);
        break;
      case Op.END_NTP:
        stop = ntpMs(b, p);
        break;
      case Op.START_TIMEVAL:
        start = u64(b, p) * 1000 + Math.floor(u64(b, p + 8) / 1000);
        v.flags |= FlowFlag.TIMESTAMP_LEN16;
        break;
      case Op.END_TIMEVAL:
        stop = u64(b, p) * 1000 + Math.floor(u64(b, p + 8) / 1000);
        v.flags |= FlowFlag.TIMESTAMP_LEN16;
        break;
      case Op.START_DELTA_US:
        start = c.exportSecs * 1000 - Math.floor(u32(b, p) / 1000);
        break;
      case Op.END_DELTA_US:
        stop = c.exportSecs * 1000 - Math.floor(u32(b, p) / 1000);
        break;
      case Op.SAMPLING_INTERVAL:
        v.recordSamplingInterval = uint(b, p, len);
        break;
      case Op.SAMPLER_RANDOM_INTERVAL:
        v.recordSamplerRandomInterval = uint(b, p, len);
        break;
      case Op.SAMPLER_ID:
        v.samplerId = uint(b, p, len);
        break;
      case Op.PACKET_INTERVAL:
        v.recordPacketInterval = uint(b, p, len);
        break;
      case Op.PACKET_SPACE:
        v.recordPacketSpace = uint(b, p, len);
        break;
      case Op.SAMPLING_SIZE:
        v.recordSamplingSize = uint(b, p, len);
        break;
      case Op.SAMPLING_POPULATION:
        v.recordSamplingPopulation = uint(b, p, len);
        break;
      case Op.SYSTEM_INIT_MS:
        v.systemInitMs = u64(b, p);
        break;
    }
    p += len;
  }
  const fallback = c.exportSecs * 1000;
  v.startMs = start >= 0 ? start : stop >= 0 ? stop : fallback;
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
