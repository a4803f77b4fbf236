/**
 * What-if over a stretch of a capture: the ruleset run (RuleEngine, as `palisade mitigate`
 * runs it) over the packets stamped within given time ranges, with each rule's decisions split
 * into attack and other packets when the capture has ground-truth labels. This is what the rule
 * editor asks before saving: "what would this have done to the last N minutes?".
 *
 * The labels are per packet in file order, so every packet is counted against them, in the
 * ranges or not; only those in the ranges reach the engine.
 */
import type { PacketView } from '../decode/view.js';
import { captureSource } from '../sources/capture/source.js';
import { RuleEngine, Verdict } from './engine.js';
import type { Ruleset } from './ruleset.js';
import { isBenignLabel, readTruth, type WhatIfReport, whatIfReport } from './whatif.js';

export interface WindowedWhatIfOptions {
  /** Capture-time ranges, ms since the epoch, [from, to); packets outside them are not evaluated. */
  ranges: ReadonlyArray<readonly [number, number]>;
  /** A ground-truth file (palisade generate's .truth.json, or labels_rle): splits decisions into attack and other. */
  truth?: string | null;
  /**
   * Without a truth file: the attacks detection reported (alerts), each a time span (ms) and a
   * test of its signature; a packet within a span that its test matches counts as attack.
   */
  attacks?: ReadonlyArray<DetectedAttack> | null;
  /** Timeline resolution, seconds (default 1). */
  interval?: number;
}

export interface DetectedAttack {
  from: number;
  to: number;
  match: (v: PacketView) => boolean;
}

/** Packets a rule decided (dropped, passed by allow, rate-limited), by label; null without labels. */
export interface RuleSplit {
  id: string;
  attack: number | null;
  other: number | null;
}

export interface WindowedWhatIfReport extends WhatIfReport {
  window: { ranges: Array<{ from: string; to: string }>; packets: number };
  /** Where the attack/other split comes from: the capture's ground truth, the attacks detected, or nothing. */
  labels: 'truth' | 'detected' | null;
  /** Attack and other packets in the window (null without labels), and per rule what it decided of each. */
  labelled: { attack: number; other: number } | null;
  split: RuleSplit[];
}

export async function runWindowedWhatIf(capture: string, ruleset: Ruleset, opts: WindowedWhatIfOptions): Promise<WindowedWhatIfReport> {
  const source = captureSource(capture);
  const engine = new RuleEngine(ruleset, { interval: opts.interval ?? 1 });
  const truth = opts.truth ? readTruth(opts.truth) : null;
  const detected = truth === null && opts.attacks ? opts.attacks : null;
  const labels = truth !== null ? 'truth' : detected !== null ? 'detected' : null;
  const benign = truth ? truth.labels.map(isBenignLabel) : [];
  const ranges = opts.ranges.map(([a, b]) => [a, b] as const);
  const split = ruleset.rules.map((r) => ({ id: r.id, attack: 0, other: 0 }));
  const labelled = { attack: 0, other: 0 };
  let run = 0;
  let left = truth && truth.runs.length > 0 ? (truth.runs[0] as { count: number }).count : 0;
  let inWindow = 0;
  let bytes = 0;
  let first = Number.NaN;
  let last = Number.NaN;
  const info = await source.read((v) => {
    // the packet's label, by its place in the file
    let isAttack: boolean | null = null;
    if (truth) {
      while (left === 0 && run < truth.runs.length - 1) left = (truth.runs[++run] as { count: number }).count;
      if (left > 0) {
        left--;
        isAttack = !benign[(truth.runs[run] as { label: number }).label];
      }
    }
    const ms = v.tsSec * 1000 + v.tsNsec / 1e6;
    if (!ranges.some(([a, b]) => ms >= a && ms < b)) return;
    if (detected !== null) isAttack = detected.some((x) => ms >= x.from && ms <= x.to && x.match(v));
    inWindow++;
    bytes += v.wirelen;
    if (Number.isNaN(first)) first = ms;
    last = ms;
    if (isAttack !== null) {
      if (isAttack) labelled.attack++;
      else labelled.other++;
    }
    const d = engine.process(v);
    if (d.rule < 0 || isAttack === null) return;
    // a log rule never decides; a pass under no rule is not a hit
    if (d.verdict === Verdict.PASS && ruleset.rules[d.rule]?.action !== 'allow') return;
    const s = split[d.rule] as { attack: number; other: number };
    if (isAttack) s.attack++;
    else s.other++;
  });
  // (a range may be open-ended: clamp to what a Date can show)
  const iso = (ms: number): string => new Date(Math.max(-8.64e15, Math.min(8.64e15, ms))).toISOString();
  const report = whatIfReport(engine, ruleset, {
    file: source.name,
    packets: inWindow,
    bytes,
    start: Number.isNaN(first) ? null : iso(first),
    end: Number.isNaN(last) ? null : iso(last),
    error: info.error,
  });
  return {
    ...report,
    window: { ranges: ranges.map(([a, b]) => ({ from: iso(a), to: iso(b) })), packets: inWindow },
    labels,
    labelled: labels !== null ? labelled : null,
    split: split.map((s) => (labels !== null ? s : { id: s.id, attack: null, other: null })),
  };
}
