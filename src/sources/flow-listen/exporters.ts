/**
 * Who sends to the collector: one entry per exporter address, with what it sent and what its
 * sequence numbers say was lost on the way. The address string node:dgram hands over is the key
 * (parsed once, on first sight); IPv4 arriving on a dual-stack socket as ::ffff:a.b.c.d is
 * taken for the IPv4 address it is.
 */
import { formatIpv4, formatIpv6 } from '../../core/net/ip.js';
import { FlowKind } from '../flow/record-view.js';
import type { FlowStats } from '../flow/stats.js';
import { type Endpoint, newEndpoint } from './pcap-udp.js';

/** Sequence-number loss in the unit each protocol counts (sequence.ts in sources/flow). */
export interface SequenceLoss {
  /** NetFlow v5 flows and IPFIX data records missing. */
  records: number;
  /** NetFlow v9 export packets and sFlow datagrams missing. */
  datagrams: number;
  /** sFlow flow samples missing (per data source sample numbers). */
  samples: number;
}

export function sequenceLoss(s: FlowStats): SequenceLoss {
  return {
    records: s.lostNetflow5Flows + s.lostIpfixRecords,
    datagrams: s.lostNetflow9Datagrams + s.lostSflowDatagrams,
    samples: s.lostSflowSamples,
  };
}

export interface ExporterSnapshot {
  address: string;
  /** Protocols it sent (netflow5, netflow9, ipfix, sflow5, or other for non-flow payloads). */
  protocols: string[];
  datagrams: number;
  bytes: number;
  /** Flow records and sFlow flow samples decoded from its datagrams. */
  records: number;
  lost: SequenceLoss;
}

const PROTOCOL_BIT: Record<number, number> = { [FlowKind.NETFLOW5]: 1, [FlowKind.NETFLOW9]: 2, [FlowKind.IPFIX]: 4, [FlowKind.SFLOW5]: 8, [FlowKind.NONE]: 16 };
const PROTOCOL_NAMES: Array<[number, string]> = [
  [1, 'netflow5'],
  [2, 'netflow9'],
  [4, 'ipfix'],
  [8, 'sflow5'],
  [16, 'other'],
];

export class Exporter {
  readonly endpoint: Endpoint;
  datagrams = 0;
  bytes = 0;
  records = 0;
  protocols = 0;
  readonly lost: SequenceLoss = { records: 0, datagrams: 0, samples: 0 };

  /** The canonical text: the IPv4 address for a mapped one, RFC 5952 for IPv6. */
  readonly shown: string;

  constructor(readonly address: string) {
    const e = newEndpoint(address);
    this.endpoint = e;
    this.shown = e.version === 4 ? formatIpv4(e.v4) : formatIpv6(e.v6);
  }

  saw(kind: FlowKind): void {
    this.protocols |= PROTOCOL_BIT[kind] ?? 16;
  }

  snapshot(): ExporterSnapshot {
    return {
      address: this.shown,
      protocols: PROTOCOL_NAMES.filter(([bit]) => (this.protocols & bit) !== 0).map(([, n]) => n),
      datagrams: this.datagrams,
      bytes: this.bytes,
      records: this.records,
      lost: { ...this.lost },
    };
  }
}

/** Exporters by address; bounded so a spoofed flood cannot grow it forever. */
export class ExporterTable {
  /** By the text node:dgram reported (several texts may name one exporter: 127.0.0.1 and ::ffff:127.0.0.1). */
  private readonly byText = new Map<string, Exporter>();
  /** By the canonical text, one entry per exporter. */
  private readonly byAddress = new Map<string, Exporter>();
  /** Exporters not tracked individually because the table was full (their figures still count in the totals). */
  readonly overflow = new Exporter('0.0.0.0');

  /** IPv4 exporters by address (the recvmmsg path hands numbers over, not text). */
  private readonly byV4 = new Map<number, Exporter>();
  private readonly v6Bytes = new Uint8Array(16);
  private readonly v6Words = new DataView(this.v6Bytes.buffer);

  constructor(readonly capacity = 4096) {}

  /** By an IPv4 address as a uint32: no string per datagram. */
  getV4(addr: number): Exporter {
    const hit = this.byV4.get(addr);
    if (hit !== undefined) return hit;
    const e = this.get(formatIpv4(addr));
    if (e !== this.overflow && this.byV4.size < this.capacity) this.byV4.set(addr, e);
    return e;
  }

  /** By an IPv6 address as four big-endian words (text made per datagram: IPv6 exporters are rare). */
  getV6(w0: number, w1: number, w2: number, w3: number): Exporter {
    const d = this.v6Words;
    d.setInt32(0, w0);
    d.setInt32(4, w1);
    d.setInt32(8, w2);
    d.setInt32(12, w3);
    return this.get(formatIpv6(this.v6Bytes));
  }

  get(text: string): Exporter {
    const hit = this.byText.get(text);
    if (hit !== undefined) return hit;
    const fresh = new Exporter(text);
    let e = this.byAddress.get(fresh.shown);
    if (e === undefined) {
      if (this.byAddress.size >= this.capacity) return this.overflow;
      e = fresh;
      this.byAddress.set(e.shown, e);
    }
    if (this.byText.size < this.capacity * 2) this.byText.set(text, e);
    return e;
  }

  /** Tracked exporters, most records first. */
  list(): Exporter[] {
    return [...this.byAddress.values()].sort((a, b) => b.records - a.records || b.datagrams - a.datagrams);
  }

  get size(): number {
    return this.byAddress.size;
  }
}
