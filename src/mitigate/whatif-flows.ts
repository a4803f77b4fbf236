/**
 * What-if over flows: run a ruleset (written for packets, exported to firewalls) over the flow
 * records of a capture of NetFlow/IPFIX/sFlow export, and report what it would have done to the
 * traffic those records describe. Same engine and report as packets (whatif.ts), with a flow
 * RecordModel: every count is the records' packets and bytes scaled by their sampling rate, with
 * the number of records beside it.
 */
import { asFlowSource } from '../rules/filter-flows.js';
import { flowWeight } from '../scheme/flow.js';
import type { FlowSource } from '../sources/flow/capture-source.js';
import type { FlowDecoderOptions } from '../sources/flow/datagram.js';
import { flowDatagrams, lostCounts } from '../sources/flow/stats.js';
import { RuleEngine } from './engine.js';
import { FLOW_MODEL } from './flow-model.js';
import type { Ruleset } from './ruleset.js';
import { type FlowInput, type WhatIfReport, whatIfReport } from './whatif.js';

export interface FlowWhatIfOptions {
  interval?: number;
  onProgress?: (done: number, total?: number) => void;
  /** Decoder options when a path is given (sampling rates per exporter ...). */
  decoder?: FlowDecoderOptions;
}

const NOTE =
  'Flows: a record matches or not as a whole (a rule on fields a record lacks, such as ip.len or ip.ttl without an sFlow header, does not match); ' +
  "counts are the records' packets and bytes times their sampling rate; times are each flow's last packet; " +
  "rate limits take a flow's packets as spread evenly over its duration, an approximation of per-packet buckets.";

/** Run the ruleset over a flow source (or the flow export in a capture at a path). */
export async function runFlowWhatIf(input: string | FlowSource, ruleset: Ruleset, opts: FlowWhatIfOptions = {}): Promise<WhatIfReport> {
  const source = asFlowSource(input, opts.decoder);
  const engine = new RuleEngine(ruleset, { interval: opts.interval ?? 1, model: FLOW_MODEL });
  const rates = new Map<number, number>();
  let packets = 0;
  let bytes = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const info = await source.read(
    (v) => {
      engine.process(v);
      const w = flowWeight(v);
      rates.set(w, (rates.get(w) ?? 0) + 1);
      packets += v.packets;
      bytes += v.bytes;
      // Exporters send records out of time order: the span is the earliest start to the latest end.
      if (v.startMs < first) first = v.startMs;
      if (v.endMs > last) last = v.endMs;
    },
    { onProgress: opts.onProgress },
  );
  const iso = (ms: number): string => new Date(Math.min(Math.max(ms, 0), 8.64e15)).toISOString();
  const report = whatIfReport(engine, ruleset, {
    file: source.name,
    packets: info.capture.packets,
    bytes: info.capture.bytes,
    start: info.records === 0 ? null : iso(first),
    end: info.records === 0 ? null : iso(last),
    error: info.error,
  });
  const f = info.flows;
  const flows: FlowInput = {
    records: info.records,
    datagrams: flowDatagrams(f),
    packets,
    bytes,
    sampling_rates: Object.fromEntries([...rates].sort((a, b) => a[0] - b[0]).map(([r, k]) => [String(Math.round(r)), k])),
    lost: lostCounts(f),
    malformed_datagrams: f.malformedDatagrams,
    note: NOTE,
  };
  report.flows = flows;
  return report;
}
