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
  /**
   * The signature, measured over the capture; null when none met the bar (the mitigation is then a
   * rate limit). `kind` source_list: `ip.src in $list.name` with the list's addresses.
   */
  signature: {
    expression: string;
    coverage: number;
    collateral: number;
    kind?: 'fields' | 'source_list';
    list?: { name: string; addresses: string[] };
  } | null;
  /** How sure detection is (a score in [0, 1]; attacks.ts says how it is made). */
  confidence: number;
  /** Why: the facts behind the verdict and the signature choice. */
  evidence: AttackEvidence;
  mitigation: { action?: 'block' | 'rate_limit'; ruleset: unknown; nftables: string; iptables: string };
}

export interface AttackEvidence {
  /** Share of the class's packets to the victim that belonged to no conversation (null: a class not judged by state). */
  out_of_state: number | null;
  /** SYN floods: share of the SYN senders that completed a handshake with the victim. */
  handshakes_completed: number | null;
  /** Distinct sources per attack packet (near 1: spoofed). */
  sources_per_packet: number;
  spoofed_likely: boolean;
  /** The fields the chosen signature separates the attack by, beyond the class itself. */
  separating_fields: string[];
  /** Which signature was emitted: field constraints, a source list, or none (below the bar). */
  signature: 'fields' | 'source_list' | 'none';
  /** The field signature and its measured figures, whether or not it was emitted. */
  field_signature: { expression: string; coverage: number; collateral: number };
  /** The source-list alternative, when the sources repeat. */
  source_list?: { size: number; coverage: number; collateral: number };
  /**
   * True when the verdict came from NetFlow/IPFIX records, which carry no payload: amplification
   * was told by source port and mean packet size, TCP state by the OR of each flow's flags.
   */
  without_payload?: boolean;
}
