/**
 * The FlowRecord (DESIGN.md "FlowRecord"): one NetFlow v5/v9 or IPFIX flow, or one sFlow sample,
 * as the flow sources (sources/flow) will emit it. Field names follow the packet scheme where the
 * meaning is the same. Schema: schema/flow-record.schema.json.
 */
export interface FlowRecord {
  /** Who exported it: the exporter's address and its protocol. */
  exporter: { ip: string; protocol: 'netflow5' | 'netflow9' | 'ipfix' | 'sflow5' };
  /** NetFlow v9 source id / IPFIX observation domain / sFlow agent sub-id. */
  observation_domain: number;
  /** First and last packet of the flow (for an sFlow sample, both are the sample's time). ISO-8601 UTC. */
  start: string;
  end: string;
  src: string;
  dst: string;
  /** IP protocol number. */
  proto: number;
  /** Transport ports when the protocol has them. */
  srcport?: number;
  dstport?: number;
  /** OR of the TCP flags seen in the flow. */
  tcp_flags?: number;
  /** As exported (not yet scaled by the sampling rate). */
  packets: number;
  bytes: number;
  /** One in `sampling_rate` packets was sampled: counts scale by it (the record's weight). */
  sampling_rate: number;
  input_if?: number;
  output_if?: number;
  src_as?: number;
  dst_as?: number;
}
