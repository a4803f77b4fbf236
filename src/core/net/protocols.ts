/**
 * The one table of IP protocol names: lowercase IANA keywords, as Cloudflare's `ip.proto` field
 * writes them. The packet scheme prints from it, the
 * exporters translate names back to numbers with it, detection names victims' protocols with it.
 */

/** Transport protocol names as Cloudflare writes them (lowercase IANA keywords). */
export const PROTO_NAMES: Record<number, string> = {
  0: 'hopopt',
  1: 'icmp',
  2: 'igmp',
  4: 'ipip',
  6: 'tcp',
  17: 'udp',
  41: 'ipv6',
  43: 'ipv6-route',
  44: 'ipv6-frag',
  46: 'rsvp',
  47: 'gre',
  50: 'esp',
  51: 'ah',
  58: 'icmpv6',
  59: 'ipv6-nonxt',
  60: 'ipv6-opts',
  88: 'eigrp',
  89: 'ospf',
  103: 'pim',
  112: 'vrrp',
  115: 'l2tp',
  132: 'sctp',
  136: 'udplite',
};

/** Protocol numbers by name (the inverse of PROTO_NAMES). */
export const PROTO_NUMBERS: Readonly<Record<string, number>> = Object.fromEntries(Object.entries(PROTO_NAMES).map(([k, v]) => [v, Number(k)]));

/** The keyword of a protocol number, or the number itself when it has none. */
export function protoName(n: number): string {
  return PROTO_NAMES[n] ?? String(n);
}
