/**
 * What the protocol decoders share: the reused views, the counters, the template cache, the hold
 * for early data and the callbacks. FlowDecoder (datagram.ts) is the one implementation; the
 * protocol modules take it as this interface so each stays a set of plain functions.
 */
import type { DomainTable } from './domains.js';
import type { PendingSets } from './pending.js';
import type { CounterView, FlowView } from './record-view.js';
import type { RecordClock } from './records.js';
import type { FlowStats } from './stats.js';
import type { Template, TemplateCache, TemplateScratch } from './template-cache.js';

export interface DecodeEnv {
  readonly view: FlowView;
  readonly counters: CounterView;
  readonly stats: FlowStats;
  readonly domains: DomainTable;
  readonly cache: TemplateCache;
  readonly pending: PendingSets;
  readonly scratch: TemplateScratch;
  readonly clock: RecordClock;
  /**
   * Templates learnt in the datagram being decoded while data was held: the held data is decoded
   * at the datagram's end, so options data later in the same datagram (the sampling rate) applies.
   */
  readonly learnt: Template[];
  /** Sampling rate configured for an exporter (by its address text), 0 when none. */
  configuredRate(exporterText: string): number;
  /** Run sFlow raw packet headers through decode/ (default true). */
  readonly decodeHeaders: boolean;
  /** Bound on sFlow sources and interfaces remembered per agent. */
  readonly maxSourcesPerAgent: number;
  /**
   * Per-domain state entries (sFlow sources and interfaces, sampler ids) across all domains, and
   * their bound: a flood of made-up agents or sampler ids must not grow memory without end.
   */
  stateEntries: number;
  readonly maxStateEntries: number;
  onFlow: (v: FlowView) => void;
  onCounters: ((c: CounterView) => void) | null;
}
