/**
 * Information elements → what the record decoder does with them. NetFlow v9 field types 1-127 and
 * IPFIX element ids are the same numbers for everything read here (RFC 7012 took v9's table), so
 * one table serves both; what differs is v9's options scope types (System, Interface, ...), which
 * are not elements and are always skipped.
 *
 * A field whose length cannot hold its meaning (a 3-byte IPv4 address, a 9-byte counter) becomes
 * SKIP: the record is still read by length, and the template counts an odd field.
 */

export const enum Op {
  SKIP = 0,
  SRC4,
  DST4,
  SRC6,
  DST6,
  PROTO,
  SRC_PORT,
  DST_PORT,
  TCP_FLAGS,
  TOS,
  BYTES,
  PACKETS,
  REV_BYTES,
  REV_PACKETS,
  REV_TCP_FLAGS,
  INPUT_IF,
  OUTPUT_IF,
  SRC_AS,
  DST_AS,
  NEXT_HOP4,
  ICMP_TYPE_CODE,
  IP_VERSION,
  SRC_VLAN,
  DST_VLAN,
  DIRECTION,
  /** Milliseconds of sysUpTime (v9 FIRST/LAST_SWITCHED; IPFIX flowStart/EndSysUpTime). */
  START_UPTIME,
  END_UPTIME,
  START_SEC,
  END_SEC,
  START_MS,
  END_MS,
  /** NTP-format timestamps (IPFIX dateTimeMicroseconds/Nanoseconds). */
  START_NTP,
  END_NTP,
  /** pmacct 1.7.7: IE 154/155 sent as a 16-byte struct timeval. */
  START_TIMEVAL,
  END_TIMEVAL,
  /** Microseconds before the export time (IE 158/159). */
  START_DELTA_US,
  END_DELTA_US,
  SAMPLING_INTERVAL,
  SAMPLER_RANDOM_INTERVAL,
  SAMPLER_ID,
  PACKET_INTERVAL,
  PACKET_SPACE,
  /** RFC 5476 random n-out-of-N sampling: n (IE 309) and N (IE 310). */
  SAMPLING_SIZE,
  SAMPLING_POPULATION,
  SYSTEM_INIT_MS,
  /** A sampled frame (IE 315) or IP header (IE 313), decoded through decode/ when the record has no addresses. */
  DATALINK_SECTION,
  IP_SECTION,
  /** dataLinkFrameSize (IE 312): the sampled frame's length on the wire. */
  DATALINK_FRAME_SIZE,
}

/** IANA's private enterprise number of the RFC 5103 reverse elements. */
export const REVERSE_PEN = 29305;

/** Lengths an unsigned counter may have (reduced-size encoding allows any of 1-8). */
function counter(len: number, op: Op): Op | -1 {
  return len >= 1 && len <= 8 ? op : -1;
}

function exact(len: number, want: number, op: Op): Op | -1 {
  return len === want ? op : -1;
}

/**
 * The op for one template field, or -1 when the length is wrong for the element (the caller skips
 * it and counts it). `v9Scope` marks a NetFlow v9 options scope field (not an element).
 */
export function opFor(ie: number, pen: number, len: number, v9Scope: boolean): Op | -1 {
  if (v9Scope) return Op.SKIP;
  if (pen !== 0) {
    if (pen !== REVERSE_PEN) return Op.SKIP;
    // RFC 5103: the same element id, counted in the reverse direction. Only what the counts and
    // flags need is read; reverse TOS, ICMP type and the rest are skipped by length.
    switch (ie) {
      case 1:
        return counter(len, Op.REV_BYTES);
      case 2:
        return counter(len, Op.REV_PACKETS);
      case 6:
        return len === 1 || len === 2 ? Op.REV_TCP_FLAGS : -1;
      default:
        return Op.SKIP;
    }
  }
  switch (ie) {
    case 1: // octetDeltaCount / IN_BYTES
      return counter(len, Op.BYTES);
    case 2: // packetDeltaCount / IN_PKTS
      return counter(len, Op.PACKETS);
    case 4:
      return exact(len, 1, Op.PROTO);
    case 5:
      return exact(len, 1, Op.TOS);
    case 6: // tcpControlBits: 1 byte in v9, 2 in IPFIX (RFC 7125)
      return len === 1 || len === 2 ? Op.TCP_FLAGS : -1;
    case 7:
      return exact(len, 2, Op.SRC_PORT);
    case 8:
      return exact(len, 4, Op.SRC4);
    case 10:
      return counter(len, Op.INPUT_IF);
    case 11:
      return exact(len, 2, Op.DST_PORT);
    case 12:
      return exact(len, 4, Op.DST4);
    case 14:
      return counter(len, Op.OUTPUT_IF);
    case 15:
      return exact(len, 4, Op.NEXT_HOP4);
    case 16:
      return counter(len, Op.SRC_AS);
    case 17:
      return counter(len, Op.DST_AS);
    case 21:
      return exact(len, 4, Op.END_UPTIME);
    case 22:
      return exact(len, 4, Op.START_UPTIME);
    case 27:
      return exact(len, 16, Op.SRC6);
    case 28:
      return exact(len, 16, Op.DST6);
    case 32: // icmpTypeCodeIPv4 / ICMP_TYPE
    case 139: // icmpTypeCodeIPv6
      return exact(len, 2, Op.ICMP_TYPE_CODE);
    case 34: // samplingInterval / SAMPLING_INTERVAL
      return counter(len, Op.SAMPLING_INTERVAL);
    case 48: // samplerId / FLOW_SAMPLER_ID
    case 302: // selectorId
      return counter(len, Op.SAMPLER_ID);
    case 50: // samplerRandomInterval / FLOW_SAMPLER_RANDOM_INTERVAL
      return counter(len, Op.SAMPLER_RANDOM_INTERVAL);
    case 58:
    case 243: // dot1qVlanId
      return exact(len, 2, Op.SRC_VLAN);
    case 59:
    case 254: // postDot1qVlanId
      return exact(len, 2, Op.DST_VLAN);
    case 60:
      return exact(len, 1, Op.IP_VERSION);
    case 61:
      return exact(len, 1, Op.DIRECTION);
    case 150:
      return exact(len, 4, Op.START_SEC);
    case 151:
      return exact(len, 4, Op.END_SEC);
    case 152:
      return exact(len, 8, Op.START_MS);
    case 153:
      return exact(len, 8, Op.END_MS);
    case 154:
    case 156:
      return len === 8 ? Op.START_NTP : len === 16 && ie === 154 ? Op.START_TIMEVAL : -1;
    case 155:
    case 157:
      return len === 8 ? Op.END_NTP : len === 16 && ie === 155 ? Op.END_TIMEVAL : -1;
    case 158:
      return exact(len, 4, Op.START_DELTA_US);
    case 159:
      return exact(len, 4, Op.END_DELTA_US);
    case 160:
      return exact(len, 8, Op.SYSTEM_INIT_MS);
    case 305:
      return counter(len, Op.PACKET_INTERVAL);
    case 306:
      return counter(len, Op.PACKET_SPACE);
    case 312:
      return counter(len, Op.DATALINK_FRAME_SIZE);
    case 313:
      return Op.IP_SECTION;
    case 315:
      return Op.DATALINK_SECTION;
    case 309:
      return counter(len, Op.SAMPLING_SIZE);
    case 310:
      return counter(len, Op.SAMPLING_POPULATION);
    default:
      return Op.SKIP;
  }
}

/** Ops a variable-length field may have (every other variable-length field is skipped). */
export function varlenOp(ie: number): Op {
  return ie === 315 ? Op.DATALINK_SECTION : ie === 313 ? Op.IP_SECTION : Op.SKIP;
}

/** True when the op puts packets or bytes into the record (a template without any has no counts). */
export function isCounter(op: Op): boolean {
  return op === Op.BYTES || op === Op.PACKETS || op === Op.REV_BYTES || op === Op.REV_PACKETS;
}
