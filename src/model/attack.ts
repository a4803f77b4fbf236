/** The Attack record (DESIGN.md, "Attack"): what detection emits and everything downstream consumes. */

/** Attack vectors (DESIGN.md "Vector names"); use exactly these. */
export const VECTORS = [
  'tcp_syn_flood',
  'tcp_synack_flood',
  'tcp_ack_flood',
  'tcp_rst_flood',
  'tcp_flag_anomaly',
  'udp_flood',
  'icmp_flood',
  'ip_fragment_flood',
  'gre_flood',
  'ip_protocol_flood',
  'dns_amplification',
  'ntp_amplification',
  'ssdp_amplification',
  'memcached_amplification',
  'cldap_amplification',
  'chargen_amplification',
  'snmp_amplification',
  'udp_reflection',
  'dns_random_subdomain',
  'http_flood',
  'slowloris',
  'credential_stuffing',
  'scanner',
] as const;
export type Vector = (typeof VECTORS)[number];

/** The L3/L4 flood and reflection vectors (packet and flow detection; `scanner` is reported apart), in DESIGN.md's order. */
export const L34_VECTORS: readonly Vector[] = VECTORS.slice(0, VECTORS.indexOf('dns_random_subdomain') + 1);

export interface Attack {
  id: string;
  vector: Vector;
  victim: { ip?: string; prefix?: string; port?: number; protocol: string };
  start: string;
  end: string;
  detected_at: string;
  packets: number;
  bytes: number;
  peak_pps: number;
  peak_bps: number;
  sources: { unique: number; spoofed_likely: boolean; top: Array<{ ip: string; packets: number }> };
  signature: { expression: string; coverage: number; collateral: number };
  mitigation: { ruleset: unknown; nftables: string; iptables: string };
}
