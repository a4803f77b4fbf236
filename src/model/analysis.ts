/** The `palisade analyze --json` record (DESIGN.md, "palisade analyze"). Schema: schema/analysis.schema.json. */
import type { Attack } from './attack.js';

export interface TopAddress {
  ip: string;
  packets: number;
  bytes: number;
}

export interface TopPort {
  protocol: 'tcp' | 'udp';
  port: number;
  packets: number;
}

export interface Conversation {
  a: string;
  b: string;
  packets: number;
  bytes: number;
}

export interface NameCount {
  name: string;
  packets: number;
}

export interface Analysis {
  capture: {
    file: string;
    /** `access_log`: an HTTP access log (analyze-log.ts); `log` then says which format each input had. */
    format: 'pcap' | 'pcapng' | 'access_log';
    compressed: boolean;
    link_types: string[];
    packets: number;
    bytes: number;
    start: string | null;
    end: string | null;
    duration_s: number;
    skipped: { truncated: number; malformed: number; unsupported: number };
    /** What the QUIC decoder did with packets that look like a client Initial (see src/decode/quic.ts). */
    quic?: { initials: number; opened: number; repeats: number; over_budget: number; unreadable: number; budget_per_s: number };
    anomalies: { caplen_over_snaplen: number; skipped_blocks: number };
    /**
     * Captures: HTTP/1.x requests followed through TCP connections to HTTP ports for L7 detection
     * (src/sources/capture/http-requests.ts). `requests`: complete heads; `incomplete`: heads that
     * never completed (408, slowloris); `answered`: records whose status the server's response gave.
     */
    http_requests?: {
      requests: number;
      incomplete: number;
      answered: number;
      connections: number;
      evicted: number;
      cut: number;
      gaps: number;
      unconfirmed: number;
      pipeline_overflow: number;
    };
    /** Why reading stopped early (damaged file), or null. */
    error: string | null;
    /** Access logs: the format of each input (given or detected), lines read, malformed lines and their numbers. */
    log?: {
      formats: Array<{
        file: string;
        format: string;
        detected: boolean;
        lines: number;
        records: number;
        malformed: number;
        malformed_lines: number[];
        skipped: number;
        overlong_lines: number;
      }>;
      format: string;
      detected: boolean;
      lines: number;
      records: number;
      malformed: number;
      skipped: number;
      truncated_fields: number;
      /** What the signatures were measured on: `log` (a second pass), or a sample of stdin. */
      measured_on: string;
    };
    /**
     * A capture of flow export (analyze --as flows): what the flow decoder read. `packets` and
     * `bytes` above are then the packets and bytes the records stand for (scaled by sampling).
     */
    flows?: {
      /** Datagrams of flow export, and other UDP payloads in the capture. */
      datagrams: number;
      not_flow: number;
      records: { netflow5: number; netflow9: number; ipfix: number; sflow5: number };
      options_records: number;
      counter_samples: number;
      /** From sequence numbers, in each protocol's unit; sflow_drops: packets the agents said they could not sample. */
      lost: { netflow5_flows: number; netflow9_datagrams: number; ipfix_records: number; sflow_datagrams: number; sflow_samples: number; sflow_drops: number };
      /** Broken datagrams, templates, sets, records and samples (skipped, counted). */
      malformed: number;
      /** Data sets held for a template that never came in time (dropped, counted). */
      held_dropped: number;
      /** Packet views the records were spread into (one per record and second spanned; one per sample). */
      views: number;
    };
  };
  traffic: {
    protocols: {
      ipv4: number;
      ipv6: number;
      tcp: number;
      udp: number;
      icmp: number;
      icmpv6: number;
      gre: number;
      fragments: number;
      other: number;
    };
    /** Bin width of the timeline in seconds (1 unless the capture spans too long to bin per second). */
    timeline_bin_s: number;
    timeline: Array<{ t: string; packets: number; bytes: number }>;
    peak: { pps_1s: number; bps_1s: number; pps_100ms: number };
    unique_sources: number;
    unique_destinations: number;
    top_sources: TopAddress[];
    top_destinations: TopAddress[];
    top_dst_ports: TopPort[];
    top_conversations: Conversation[];
    top_dns_names: NameCount[];
    top_tls_sni: NameCount[];
    top_ja4: NameCount[];
    /** Names of the fields above that are estimates (sketches), not exact counts. */
    estimated: string[];
    /** Access logs: requests (the timeline's `packets` are requests), hosts, status classes, client table. */
    http?: {
      requests: number;
      peak_rps_1s: number;
      hosts: Array<{ host: string; requests: number }>;
      status: Record<string, number>;
      clients_tracked: number;
      clients_evicted: number;
    };
  };
  attacks: Attack[];
}

/** The traffic tops an input cannot give (access logs, stored summaries): each empty. */
export function noTops(): Pick<Analysis['traffic'], 'top_sources' | 'top_destinations' | 'top_dst_ports' | 'top_conversations' | 'top_dns_names' | 'top_tls_sni' | 'top_ja4'> {
  return { top_sources: [], top_destinations: [], top_dst_ports: [], top_conversations: [], top_dns_names: [], top_tls_sni: [], top_ja4: [] };
}
