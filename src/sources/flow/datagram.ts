/**
 * FlowDecoder: one UDP payload in, its flow records out. It recognises the export protocol by the
 * destination port (2055/9995/9996 NetFlow, 4739 IPFIX, 6343 sFlow) AND by content — the version
 * field and a plausible header — so exporters on other ports (9991, 2100, 8096...) work too. A
 * payload on a flow port that is broken counts as a malformed flow datagram; on any other port, a
 * payload that does not look like flow export is simply not flow (counted as such).
 *
 * Holds all collector state: the exporter/domain table, the template cache, the hold for early
 * data, the counters, and the reused views handed to the callbacks.
 */
import { u16, u32 } from './bytes.js';
import { type Domain, DomainTable, ExporterAddr } from './domains.js';
import type { DecodeEnv } from './env.js';
import { decodeIpfix, IPFIX_HEADER } from './ipfix.js';
import { decodeNetflow5, NETFLOW5_HEADER, NETFLOW5_MAX_COUNT, NETFLOW5_RECORD } from './netflow5.js';
import { decodeNetflow9, NETFLOW9_HEADER } from './netflow9.js';
import { PendingSets } from './pending.js';
import { CounterView, FlowKind, FlowView } from './record-view.js';
import { RecordClock } from './records.js';
import { decodeSflow } from './sflow.js';
import { FlowStats } from './stats.js';
import { type Template, TemplateCache, TemplateScratch } from './template-cache.js';

export interface FlowDecoderOptions {
  /** Sampling rate per exporter address (text, e.g. '192.0.2.1'), used when the export does not state one. */
  samplingRates?: Record<string, number>;
  /** Template cache bounds (template-cache.ts). */
  maxTemplates?: number;
  maxTemplateFields?: number;
  /** Hold for data sets before their template: most sets and bytes. */
  maxPendingSets?: number;
  maxPendingBytes?: number;
  /** Most exporter/domain pairs (each with its own templates and sequence numbers). */
  maxDomains?: number;
  /** Most sFlow sources and interfaces remembered per agent. */
  maxSourcesPerAgent?: number;
  /** Most such entries (and sampler ids) over all exporters (default 262,144, about 25 MB). */
  maxStateEntries?: number;
  /** Decode sFlow's sampled headers through decode/ (default true). */
  decodeHeaders?: boolean;
}

/** The UDP ports flow export is sent to by convention. */
export function flowPortKind(port: number): FlowKind {
  switch (port) {
    case 2055:
    case 9995:
    case 9996:
      return FlowKind.NETFLOW9; // or v5: the version field decides
    case 4739:
      return FlowKind.IPFIX;
    case 6343:
      return FlowKind.SFLOW5;
    default:
      return FlowKind.NONE;
  }
}

/**
 * What the payload's first bytes say it is, checked strictly enough that other UDP traffic is not
 * taken for flow export: NONE when it is not plausible.
 */
export function sniffFlow(b: Uint8Array, off: number, end: number): FlowKind {
  const len = end - off;
  if (len < 8) return FlowKind.NONE;
  const version = u16(b, off);
  if (version === 5) {
    const count = u16(b, off + 2);
    return count >= 1 && count <= NETFLOW5_MAX_COUNT && len >= NETFLOW5_HEADER + count * NETFLOW5_RECORD ? FlowKind.NETFLOW5 : FlowKind.NONE;
  }
  if (version === 9) {
    if (len < NETFLOW9_HEADER + 4) return FlowKind.NONE;
    const id = u16(b, off + NETFLOW9_HEADER);
    const slen = u16(b, off + NETFLOW9_HEADER + 2);
    return (id <= 1 || id >= 256) && slen >= 4 && slen <= len - NETFLOW9_HEADER ? FlowKind.NETFLOW9 : FlowKind.NONE;
  }
  if (version === 10) {
    const mlen = u16(b, off + 2);
    if (mlen !== len || len < IPFIX_HEADER + 4) return FlowKind.NONE;
    const id = u16(b, off + IPFIX_HEADER);
    const slen = u16(b, off + IPFIX_HEADER + 2);
    return (id === 2 || id === 3 || id >= 256) && slen >= 4 && slen <= len - IPFIX_HEADER ? FlowKind.IPFIX : FlowKind.NONE;
  }
  if (version === 0 && u32(b, off) === 5) {
    const at = u32(b, off + 4);
    const alen = at === 1 ? 4 : at === 2 ? 16 : -1;
    if (alen < 0 || len < 8 + alen + 16) return FlowKind.NONE;
    const samples = u32(b, off + 8 + alen + 12);
    return samples <= 4096 ? FlowKind.SFLOW5 : FlowKind.NONE;
  }
  return FlowKind.NONE;
}

/** The kind a payload on a flow port claims by its version field alone (malformed or not). */
function claimedKind(b: Uint8Array, off: number, end: number): FlowKind {
  if (end - off < 4) return FlowKind.NONE;
  const version = u16(b, off);
  if (version === 5) return FlowKind.NETFLOW5;
  if (version === 9) return FlowKind.NETFLOW9;
  if (version === 10) return FlowKind.IPFIX;
  if (u32(b, off) === 5) return FlowKind.SFLOW5;
  return FlowKind.NONE;
}

const noFlow = (): void => {};

export class FlowDecoder implements DecodeEnv {
  readonly view = new FlowView();
  readonly counters = new CounterView();
  readonly stats = new FlowStats();
  readonly domains: DomainTable;
  readonly cache: TemplateCache;
  readonly pending: PendingSets;
  readonly scratch = new TemplateScratch();
  readonly clock = new RecordClock();
  readonly learnt: Template[] = [];
  readonly decodeHeaders: boolean;
  readonly maxSourcesPerAgent: number;
  stateEntries = 0;
  readonly maxStateEntries: number;
  /** The UDP source of the datagram being decoded: set it before `decode`. */
  readonly exporter = new ExporterAddr();
  onFlow: (v: FlowView) => void = noFlow;
  onCounters: ((c: CounterView) => void) | null = null;
  private readonly rates: Map<string, number>;

  constructor(opts: FlowDecoderOptions = {}) {
    this.domains = new DomainTable(opts.maxDomains ?? 16384);
    this.cache = new TemplateCache(this.stats, { maxTemplates: opts.maxTemplates, maxFields: opts.maxTemplateFields });
    this.pending = new PendingSets(opts.maxPendingSets ?? 1024, opts.maxPendingBytes ?? 4 * 1024 * 1024);
    this.decodeHeaders = opts.decodeHeaders !== false;
    this.maxSourcesPerAgent = opts.maxSourcesPerAgent ?? 4096;
    this.maxStateEntries = opts.maxStateEntries ?? 262_144;
    this.rates = new Map(Object.entries(opts.samplingRates ?? {}).filter(([, r]) => Number.isFinite(r) && r >= 1));
    this.domains.onEvict = (d) => this.evictDomain(d);
  }

  /** A domain leaves the full table: its templates, held data and per-domain state go with it. */
  private evictDomain(d: Domain): void {
    this.stats.domainOverflow++;
    this.cache.dropDomain(d);
    this.stats.pendingDropped += this.pending.dropDomain(d);
    this.stateEntries -= d.samplerRates.size + d.sflowSources.size + d.ifCounters.size;
  }

  configuredRate(exporterText: string): number {
    return this.rates.get(exporterText) ?? 0;
  }

  /**
   * Decode the UDP payload b[off, end) sent to `dstPort` from `this.exporter`, arriving at `nowMs`.
   * Returns the kind recognised (NONE: not flow export). Never throws on bad bytes.
   */
  decode(b: Uint8Array, off: number, end: number, dstPort: number, nowMs: number): FlowKind {
    const stats = this.stats;
    stats.udpDatagrams++;
    let kind = sniffFlow(b, off, end);
    if (kind === FlowKind.NONE) {
      if (flowPortKind(dstPort) === FlowKind.NONE) {
        stats.notFlow++;
        return FlowKind.NONE;
      }
      // On a flow port: whatever it claims to be, it is a broken one of those.
      kind = claimedKind(b, off, end);
      if (kind === FlowKind.NONE) {
        stats.notFlow++;
        return FlowKind.NONE;
      }
    }
    let ok: boolean;
    switch (kind) {
      case FlowKind.NETFLOW5:
        stats.netflow5Datagrams++;
        ok = decodeNetflow5(this, b, off, end, this.exporter);
        break;
      case FlowKind.NETFLOW9:
        stats.netflow9Datagrams++;
        ok = decodeNetflow9(this, b, off, end, this.exporter);
        break;
      case FlowKind.IPFIX:
        stats.ipfixDatagrams++;
        ok = decodeIpfix(this, b, off, end, this.exporter);
        break;
      default:
        stats.sflowDatagrams++;
        ok = decodeSflow(this, b, off, end, nowMs);
    }
    if (!ok) stats.malformedDatagrams++;
    return kind;
  }
}
