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
  /** `host`: the site (HTTP Host) of an L7 attack, whose `protocol` is `http`. */
  victim: { ip?: string; prefix?: string; port?: number; protocol: string; host?: string };
  start: string;
  end: string;
  detected_at: string;
  packets: number;
  bytes: number;
  peak_pps: number;
  peak_bps: number;
  /** L7: requests attributed to the attack (also in `packets`) and the peak requests per second (also in `peak_pps`). */
  requests?: number;
  peak_rps?: number;
  /**
   * L7 adds every attributed address (`ips`; `top[].packets` are requests) and the top /24
   * prefixes and ASNs of those addresses.
   */
  sources: {
    unique: number;
    spoofed_likely: boolean;
    top: Array<{ ip: string; packets: number }>;
    ips?: string[];
    top_prefixes?: Array<{ prefix: string; addresses: number; requests: number }>;
    top_asns?: Array<{ asn: number; name: string; addresses: number; requests: number }>;
  };
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
  mitigation: { action?: 'block' | 'rate_limit'; ruleset: unknown; nftables: string; iptables: string } | L7Mitigation;
}

/** A rate-limiting rule in the shape of Cloudflare's Rulesets API (phase http_ratelimit). */
export interface RateLimitRule {
  description: string;
  expression: string;
  action: 'block' | 'managed_challenge';
  ratelimit: {
    characteristics: string[];
    /** Seconds: one of 10, 60, 120, 300, 600, 3600. */
    period: number;
    requests_per_period: number;
    mitigation_timeout: number;
    /** What increments the counter when it is not the rule's expression (may read the response). */
    counting_expression?: string;
  };
}

/** The mitigation of an L7 attack: the custom rule, the rate-limiting rule and block lists. */
export interface L7Mitigation {
  action: 'block';
  ruleset: unknown;
  /** The address list blocked at L3 (the custom rule's fields are not firewall fields). */
  nftables: string;
  iptables: string;
  custom_rule: { description: string; expression: string; action: 'block'; enabled: boolean };
  rate_limit: RateLimitRule | null;
  lists: { ips: string[]; prefixes: string[]; asns: number[] };
  note?: string;
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
  /** L7: the figures at detection and what the attack's requests share. */
  l7?: Record<string, unknown>;
  /** Multi-node mode: each sensor's share of the attack's packets, when a correlator added several sensors' traffic up. */
  sensors?: Array<{ sensor: string; site: string; packets: number; share: number }>;
}
