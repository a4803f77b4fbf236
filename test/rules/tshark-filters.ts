/**
 * Filters that exist in both languages: [Palisade Rules expression, Wireshark display filter].
 *
 * Two differences of model are written into the Wireshark side, so each pair asks the same
 * question of the same header:
 * - Wireshark matches a field in ANY layer, including the copy of the offending packet inside an
 *   ICMP error; Palisade's tcp.* / udp.* describe the packet's own transport header (missing in
 *   an ICMP error). Transport filters therefore carry `!icmp && !icmpv6`, and IP-header filters
 *   use the layer operator `#1` (the packet's own, outermost IP header).
 * - Wireshark splits IPv4 and IPv6 fields (ip.ttl / ipv6.hlim, icmp / icmpv6); Palisade's ip.*
 *   cover both, so the Rules side pins the version where Wireshark's field is IPv4-only.
 * Tunnelled captures differ on IP-header fields by design (Palisade describes the innermost
 * packet): see EXPLAINED in tshark-agreement.test.ts. Palisade's outer.ip.* fields describe the
 * outermost IP header, tshark's first IP layer of either version: `#1` of the version that comes
 * first in frame.protocols (O4 says it is IPv4, so that a 4in6 frame's ip.src#1, the inner
 * header, is not taken for the outer one).
 */
const T = '!icmp && !icmpv6 && ';
const D = `${T}(udp.port == 53 || tcp.port == 53) && `;
const O4 = 'frame.protocols matches "^(?:(?!ipv6:)[^:]+:)*ip(:|$)"';

export const FILTER_PAIRS: Array<[string, string]> = [
  ['tcp.dstport == 80', `${T}tcp.dstport == 80`],
  ['tcp.srcport == 443', `${T}tcp.srcport == 443`],
  ['tcp.dstport in {1..1023}', `${T}tcp.dstport >= 1 && tcp.dstport <= 1023`],
  ['udp.srcport == 53', `${T}udp.srcport == 53`],
  ['udp.dstport in {53 123 161 1900 11211}', `${T}(udp.dstport == 53 || udp.dstport == 123 || udp.dstport == 161 || udp.dstport == 1900 || udp.dstport == 11211)`],
  ['tcp.flags.syn and not tcp.flags.ack', `${T}tcp.flags.syn == 1 && tcp.flags.ack == 0`],
  ['tcp.flags == 0x12', `${T}tcp.flags == 0x12`],
  ['tcp.flags.reset', `${T}tcp.flags.reset == 1`],
  ['tcp.flags & 0x01', `${T}tcp.flags & 0x01`],
  ['tcp.flags.ecn or tcp.flags.cwr', `${T}(tcp.flags.ece == 1 || tcp.flags.cwr == 1)`],
  ['tcp.flags.push and tcp.flags.ack', `${T}tcp.flags.push == 1 && tcp.flags.ack == 1`],
  ['tcp.window == 0', `${T}tcp.window_size_value == 0`],
  ['tcp.hdr_len > 20', `${T}tcp.hdr_len > 20`],
  ['udp.len > 500', `${T}udp.length > 500`],
  ['ip.src in {10.0.0.0/8 172.16.0.0/12 192.168.0.0/16}', 'ip.src#1 == 10.0.0.0/8 || ip.src#1 == 172.16.0.0/12 || ip.src#1 == 192.168.0.0/16'],
  ['ip.dst in {192.168.0.0/16 10.0.0.0/8}', 'ip.dst#1 == 192.168.0.0/16 || ip.dst#1 == 10.0.0.0/8'],
  ['ip.src in {2000::/3}', 'ipv6.src#1 == 2000::/3'],
  ['ip.version == 4 and ip.ttl < 64', 'ip.ttl#1 < 64'],
  ['ip.version == 4 and ip.ttl >= 128', 'ip.ttl#1 >= 128'],
  ['ip.version == 6 and ip.ttl == 255', 'ipv6.hlim#1 == 255'],
  ['ip.version == 4 and ip.len > 1000', 'ip.len#1 > 1000'],
  ['ip.version == 4 and ip.id == 0', 'ip.id#1 == 0'],
  ['ip.version == 4 and ip.proto == "udp"', 'ip.proto#1 == 17'],
  ['ip.flags.df', 'ip.flags.df#1 == 1'],
  ['ip.version == 4 and (ip.flags.mf or ip.frag_offset > 0)', 'ip.flags.mf#1 == 1 || ip.frag_offset#1 > 0'],
  ['ip.proto == "icmp"', 'icmp'],
  ['ip.proto == "icmpv6"', 'icmpv6'],
  ['ip.version == 4 and icmp.type == 8', 'icmp.type#1 == 8'],
  ['outer.ip.src in {10.0.0.0/8 172.16.0.0/12 192.168.0.0/16}', `${O4} && (ip.src#1 == 10.0.0.0/8 || ip.src#1 == 172.16.0.0/12 || ip.src#1 == 192.168.0.0/16)`],
  ['outer.ip.dst in {192.168.0.0/16 10.0.0.0/8}', `${O4} && (ip.dst#1 == 192.168.0.0/16 || ip.dst#1 == 10.0.0.0/8)`],
  ['outer.ip.src in {2000::/3}', `!(${O4}) && ipv6.src#1 == 2000::/3`],
  ['outer.ip.version == 4 and outer.ip.ttl < 64', `${O4} && ip.ttl#1 < 64`],
  ['outer.ip.version == 4 and outer.ip.len > 1000', `${O4} && ip.len#1 > 1000`],
  ['outer.ip.proto == "gre"', `(${O4} && ip.proto#1 == 47) || (!(${O4}) && ipv6.nxt#1 == 47)`],
  // dns.* is the DNS of port 53 (spec §10.1); Wireshark also shows LLMNR and mDNS questions there.
  ['dns.qtype == 1', `${D}dns.qry.type == 1`],
  ['dns.qname contains "google"', `${D}dns.qry.name contains "google"`],
  ['dns.qname wildcard "*.com"', `${D}dns.qry.name matches "(?i)\\\\.com$"`],
];
