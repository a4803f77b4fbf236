/**
 * Run flow-scheme rules over the flow export in a capture (NetFlow v5/v9, IPFIX, sFlow datagrams
 * as a collector's `tcpdump -w` keeps them) in one pass: per expression, the matching records and
 * what they stand for — packets and bytes as exported, and scaled by each record's sampling rate,
 * the network's numbers an operator compares with what the link carried.
 */
import { flowScheme, flowWeight } from '../scheme/flow.js';
import { type FlowCaptureInfo, type FlowSource, flowCaptureSource } from '../sources/flow/capture-source.js';
import type { FlowDecoderOptions } from '../sources/flow/datagram.js';
import type { FlowView } from '../sources/flow/record-view.js';
import { type CompileOptions, compile } from './compile.js';
import { matchStep } from './match-pass.js';

/** What a set of flow records stands for. */
export interface FlowTally {
  records: number;
  /** As exported (not scaled). */
  packets: number;
  bytes: number;
  /** Scaled by each record's sampling rate: the packets and bytes on the network. */
  packets_est: number;
  bytes_est: number;
}

export function newTally(): FlowTally {
  return { records: 0, packets: 0, bytes: 0, packets_est: 0, bytes_est: 0 };
}

export function addToTally(t: FlowTally, v: FlowView): void {
  const w = flowWeight(v);
  t.records++;
  t.packets += v.packets;
  t.bytes += v.bytes;
  t.packets_est += v.packets * w;
  t.bytes_est += v.bytes * w;
}

export interface FlowFilterResult {
  /** Per expression, in the order given. */
  counts: FlowTally[];
  /** Every record read. */
  total: FlowTally;
  info: FlowCaptureInfo;
}

export type FlowFilterOptions = CompileOptions & {
  /** Called with each record the first expression matches (read it before returning). */
  onMatch?: (v: FlowView) => void;
  onProgress?: (done: number, total?: number) => void;
  decoder?: FlowDecoderOptions;
};

/** A capture path becomes a source of its flow records; a source is used as it is. */
export function asFlowSource(input: string | FlowSource, opts: FlowDecoderOptions = {}): FlowSource {
  return typeof input === 'string' ? flowCaptureSource(input, opts) : input;
}

/** Compiles every expression first (a RulesError stops before reading), then reads the records once. */
export async function filterFlows(input: string | FlowSource, exprs: string[], opts: FlowFilterOptions = {}): Promise<FlowFilterResult> {
  const preds = exprs.map((e) => compile(e, flowScheme, opts));
  const counts = preds.map(newTally);
  const total = newTally();
  const onMatch = opts.onMatch;
  const step = matchStep(preds, (i, v) => {
    addToTally(counts[i] as FlowTally, v);
    if (i === 0 && onMatch) onMatch(v);
  });
  const info = await asFlowSource(input, opts.decoder).read(
    (v) => {
      addToTally(total, v);
      step(v);
    },
    { onProgress: opts.onProgress },
  );
  return { counts, total, info };
}
