/**
 * Per-packet traffic classes for L3/L4 detection: each packet falls in exactly one class, chosen
 * from its headers and (for the reflection family) its source port AND what the application
 * decoder recognised in the payload — a DNS response, an NTP mode-7 reply, an SSDP `200 OK` with
 * ST, a memcached VALUE/STAT reply, a CLDAP searchResEntry/Done, chargen, an SNMP Response.
 * A packet from port 53 that is not a DNS response is plain UDP, not amplification.
 *
 * One function, no allocation: it runs on every packet.
 */

import { App, type PacketView, Tunnel } from '../../decode/view.js';
import { L34_VECTORS, type Vector } from '../../model/attack.js';

export const enum Cls {
  /** Established TCP with data or FIN, and anything else ordinary. */
  OTHER = 0,
  TCP_SYN = 1,
  TCP_SYNACK = 2,
  /** ACK or PSH-ACK without SYN/FIN/RST. */
  TCP_ACK = 3,
  TCP_RST = 4,
  /** Flag combinations no stack sends: null, SYN+FIN, SYN+RST, FIN/PSH/URG without ACK (Xmas). */
  TCP_ANOMALY = 5,
  UDP = 6,
  ICMP = 7,
  /** Non-first IP fragments (no transport header). */
  FRAG = 8,
  GRE = 9,
  /** IP protocols other than TCP, UDP, ICMP, GRE, ESP/AH, IPv6 encapsulation. */
  IPPROTO = 10,
  DNS_RESP = 11,
  NTP_MONLIST = 12,
  SSDP_RESP = 13,
  MEMCACHED_RESP = 14,
  CLDAP_RESP = 15,
  CHARGEN = 16,
  SNMP_RESP = 17,
  /** UDP from another well-known reflector port (IKE, BACnet, DHIP, WS-Discovery, ...). */
  UDP_REFL = 18,
  /** DNS queries (to the server under a random-subdomain attack). */
  DNS_QUERY = 19,
}

export const NCLS = 20;

/** The vector a class floods with (OTHER has none): the classes follow the model's L3/L4 vectors one for one. */
export const CLS_VECTOR: ReadonlyArray<Vector | null> = [null, ...L34_VECTORS];

/**
 * Source ports of reflected UDP services without a decoder of their own: QOTD, IKE, NetBIOS,
 * RIPv1, mDNS, NAT-T, STUN, CoAP, ARMS, WS-Discovery, Ubiquiti discovery, Dahua DHIP, BACnet,
 * OpenVPN, Steam/Quake/TeamSpeak game queries, SLP, Plex, Jenkins, Citrix, TFTP, Portmap.
 */
const REFL_PORTS = new Uint8Array(65536);
for (const p of [17, 69, 111, 137, 427, 500, 520, 1194, 3283, 3478, 3702, 4500, 5351, 5353, 5683, 10001, 10074, 27015, 27960, 32414, 33848, 37810, 47808, 1604, 9987, 6881, 2362])
  REFL_PORTS[p] = 1;

export function classify(v: PacketView): number {
  if (v.ipVersion === 0) return Cls.OTHER;
  if (v.flowPackets !== 0) return classifyFlow(v);
  if ((v.tunnel & Tunnel.GRE) !== 0) return Cls.GRE;
  if (v.isFragment && v.fragOffset > 0) return Cls.FRAG;
  const p = v.ipProto;
  if (p === 6) {
    if (v.l4Off < 0) return Cls.OTHER;
    const f = v.tcpFlags & 0x3f;
    if ((f & 0x06) === 0x06 || (f & 0x03) === 0x03 || f === 0 || ((f & 0x10) === 0 && (f & 0x29) !== 0)) return Cls.TCP_ANOMALY;
    if (f & 0x04) return Cls.TCP_RST;
    if (f & 0x02) return f & 0x10 ? Cls.TCP_SYNACK : Cls.TCP_SYN;
    if (f & 0x01) return Cls.OTHER;
    // ACK/PSH-ACK floods carry junk payloads too: data segments count as ACKs.
    return f & 0x10 ? Cls.TCP_ACK : Cls.OTHER;
  }
  if (p === 17) {
    if (v.l4Off < 0) return Cls.UDP;
    const sp = v.srcPort;
    switch (v.app) {
      case App.DNS:
        if (sp === 53 || sp === 5353) return (v.dnsFlags & 0x8000) !== 0 ? Cls.DNS_RESP : Cls.UDP;
        if (v.dstPort === 53 && (v.dnsFlags & 0x8000) === 0) return Cls.DNS_QUERY;
        return Cls.UDP;
      case App.NTP:
        return sp === 123 && v.ntpMode === 7 && v.ntpResponse ? Cls.NTP_MONLIST : Cls.UDP;
      case App.SSDP:
        return sp === 1900 && v.ssdpKind === 3 ? Cls.SSDP_RESP : Cls.UDP;
      case App.MEMCACHED:
        return sp === 11211 && v.memcachedKind >= 2 ? Cls.MEMCACHED_RESP : Cls.UDP;
      case App.CLDAP:
        return sp === 389 && (v.cldapOp === 4 || v.cldapOp === 5) ? Cls.CLDAP_RESP : Cls.UDP;
      case App.CHARGEN:
        return sp === 19 ? Cls.CHARGEN : Cls.UDP;
      case App.SNMP:
        return sp === 161 && v.snmpPdu === 2 ? Cls.SNMP_RESP : Cls.UDP;
      default:
        return REFL_PORTS[sp] === 1 && v.dstPort !== sp ? Cls.UDP_REFL : Cls.UDP;
    }
  }
  if (p === 1 || p === 58) {
    // ICMPv6 neighbour discovery and router messages are link plumbing, not a flood class.
    if (p === 58 && v.icmpType >= 133 && v.icmpType <= 137) return Cls.OTHER;
    return Cls.ICMP;
  }
  if (p === 47) return Cls.GRE;
  if (v.isFragment) return Cls.FRAG;
  // IPsec and IPv6 extension/no-next-header values are ordinary; IP-in-IP was decoded through.
  if (p === 50 || p === 51 || p === 4 || p === 41 || p === 0 || p === 43 || p === 44 || p === 59 || p === 60) return Cls.OTHER;
  return Cls.IPPROTO;
}

/**
 * Reflected services told apart without payload (a NetFlow or IPFIX record): the source port and
 * the least mean packet size a reply of the amplifying kind has. The sizes sit above the service's
 * ordinary replies (an NTP time reply is 76 bytes, a monlist reply 468; a plain DNS answer is
 * mostly under 512, an ANY or RRSIG reply over 1,000) and below what the attacks send.
 */
const AMP_MIN_SIZE: ReadonlyArray<readonly [port: number, cls: number, minIpLen: number]> = [
  [53, Cls.DNS_RESP, 400],
  [123, Cls.NTP_MONLIST, 200],
  [1900, Cls.SSDP_RESP, 200],
  [11211, Cls.MEMCACHED_RESP, 400],
  [389, Cls.CLDAP_RESP, 400],
  [19, Cls.CHARGEN, 200],
  [161, Cls.SNMP_RESP, 200],
];

/**
 * The class of a view made from a flow record without packet headers (PacketView.flowPackets > 0):
 * tcpFlags is the OR of the record's packets' flags and ipLen their mean size; there is no payload.
 *
 * TCP: a one-packet record is judged as that packet. In a longer one, SYN with ACK and data (PSH
 * or FIN) is a conversation whose opener completed its handshake (counted as ACKs, which the
 * connection state then finds established); SYN+FIN in an OR is no anomaly. UDP: reflection by
 * source port and mean size (AMP_MIN_SIZE); a record with neither port is non-first fragments.
 */
export function classifyFlow(v: PacketView): number {
  const p = v.ipProto;
  if (p === 6) {
    const f = v.tcpFlags & 0x3f;
    if (v.flowPackets === 1) {
      if ((f & 0x06) === 0x06 || (f & 0x03) === 0x03 || f === 0 || ((f & 0x10) === 0 && (f & 0x29) !== 0)) return Cls.TCP_ANOMALY;
    } else {
      if ((f & 0x12) === 0x12 && (f & 0x09) !== 0) return Cls.TCP_ACK;
      if (f === 0 || ((f & 0x12) === 0 && (f & 0x29) !== 0) || (f & 0x16) === 0x06) return Cls.TCP_ANOMALY;
    }
    if (f & 0x04) return Cls.TCP_RST;
    if (f & 0x02) return f & 0x10 ? Cls.TCP_SYNACK : Cls.TCP_SYN;
    return f & 0x10 ? Cls.TCP_ACK : Cls.OTHER;
  }
  if (p === 17) {
    const sp = v.srcPort;
    const dp = v.dstPort;
    if (sp === 0 && dp === 0) return Cls.FRAG;
    for (const [port, cls, min] of AMP_MIN_SIZE) if (sp === port) return v.ipLen >= min && dp !== port ? cls : Cls.UDP;
    if (dp === 53) return Cls.DNS_QUERY;
    return REFL_PORTS[sp] === 1 && dp !== sp ? Cls.UDP_REFL : Cls.UDP;
  }
  if (p === 1 || p === 58) {
    if (p === 58 && v.icmpType >= 133 && v.icmpType <= 137) return Cls.OTHER;
    return Cls.ICMP;
  }
  if (p === 47) return Cls.GRE;
  if (p === 50 || p === 51 || p === 4 || p === 41 || p === 0 || p === 43 || p === 44 || p === 59 || p === 60) return Cls.OTHER;
  return Cls.IPPROTO;
}
