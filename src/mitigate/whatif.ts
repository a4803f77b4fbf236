/**
 * What-if: run a ruleset over a capture and report what it would have done, per rule and over
 * time; optionally split dropped/passed packets into two captures and score the decisions
 * against the ground truth of a generated scenario.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.js';
import { asPacketSource, type PacketSource } from '../sources/capture/source.js';
import { type Counter, type ListStats, RuleEngine, type RuleStats, type TimelinePoint, Verdict } from './engine.js';
import { PcapOut } from './pcap-out.js';
import type { Ruleset } from './ruleset.js';

export interface TruthScore {
  labels: string[];
  attack: { packets: number; passed: number; dropped: number; rate_limited: number };
  benign: { packets: number; passed: number; dropped: number; rate_limited: number };
  /** Share of attack packets that got through (lower is better). */
  attack_passed_share: number;
  /** Share of legitimate packets dropped or rate-limited (lower is better). */
  benign_dropped_share: number;
  /** Packets of the capture beyond the truth file's labels (should be 0). */
  unlabelled: number;
}

export interface WhatIfReport {
  ruleset: { name: string; file: string; rules: number; lists: number };
  /** The file read: its frames and their bytes (for flow export, the datagrams'). */
  capture: { file: string; packets: number; bytes: number; start: string | null; end: string | null; error: string | null };
  /** What the records stand for; with flows, scaled by the sampling rate and with `records`. */
  totals: { packets: number; bytes: number; records?: number; passed: Counter; dropped: Counter; rate_limited: Counter };
  /** Present when the records were flows (whatif-flows.ts). */
  flows?: FlowInput;
  lists: ListStats[];
  rules: RuleStats[];
  rate_limit_tables: { id: string; keys: number; evictions: number }[];
  timeline: { interval_s: number; points: TimelinePoint[] };
  outputs: { dropped?: { file: string; packets: number }; passed?: { file: string; packets: number } };
  truth?: TruthScore;
}

/** The flow export a flow what-if read. */
export interface FlowInput {
  /** Flow records and sFlow flow samples, and the datagrams that carried them. */
  records: number;
  datagrams: number;
  /** As exported, before scaling by the sampling rate. */
  packets: number;
  bytes: number;
  /** Records per sampling rate (1: unsampled). */
  sampling_rates: Record<string, number>;
  /** Loss the exporters' sequence numbers show, each in its protocol's unit. */
  lost: { netflow5_flows: number; netflow9_datagrams: number; ipfix_records: number; sflow_datagrams: number; sflow_samples: number };
  malformed_datagrams: number;
  /** How the numbers were made (the approximations flows impose). */
  note: string;
}

export interface WhatIfOptions {
  dropped?: string;
  passed?: string;
  truth?: string;
  interval?: number;
  onProgress?: (done: number, total?: number) => void;
}

/**
 * Per-packet labels from a ground-truth file: `labels_rle` as [[label, count], ...] or
 * [{label, count}], labels being strings or indexes into `labels`. A label is benign when it is
 * `benign`, `normal`, `legit`, `legitimate` or `background`.
 */
export interface Truth {
  labels: string[];
  /** Run-length encoded: label index and run length. */
  runs: { label: number; count: number }[];
}

const BENIGN = new Set(['benign', 'normal', 'legit', 'legitimate', 'background', 'clean']);

export function readTruth(path: string): Truth {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new InputError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 'E_FORMAT');
  }
  const o = (doc ?? {}) as Record<string, unknown>;
  const gen = o.labels as { encoding?: unknown; data?: unknown } | undefined;
  if (gen && !Array.isArray(gen) && typeof gen === 'object') return generatorTruth(path, gen, o.attacks);
  const rle = o.labels_rle;
  if (!Array.isArray(rle)) throw new InputError(`${path}: no labels_rle array (not a palisade generate truth file)`, 'E_FORMAT');
  const names: string[] = Array.isArray(o.labels) ? o.labels.map(String) : Array.isArray(o.classes) ? o.classes.map(String) : [];
  const index = new Map<string, number>(names.map((n, i) => [n, i]));
  const labelOf = (x: unknown): number => {
    if (typeof x === 'number' && names.length > 0) return x;
    const s = String(x);
    let i = index.get(s);
    if (i === undefined) {
      i = names.length;
      names.push(s);
      index.set(s, i);
    }
    return i;
  };
  const runs: Truth['runs'] = [];
  for (const r of rle) {
    let label: unknown;
    let count: unknown;
    if (Array.isArray(r)) [label, count] = r;
    else if (r !== null && typeof r === 'object') {
      const ro = r as Record<string, unknown>;
      label = ro.label ?? ro.l ?? ro.class;
      count = ro.count ?? ro.n ?? ro.run;
    }
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw new InputError(`${path}: bad run in labels_rle: ${JSON.stringify(r)}`, 'E_FORMAT');
    runs.push({ label: labelOf(label), count });
  }
  return { labels: names, runs };
}

/**
 * `palisade generate`'s own form: one byte per packet, base64 (`labels.encoding: "base64-u8"`),
 * 0 for benign traffic and k for the k-th entry of `attacks`.
 */
function generatorTruth(path: string, labels: { encoding?: unknown; data?: unknown }, attacks: unknown): Truth {
  if (labels.encoding !== 'base64-u8' || typeof labels.data !== 'string')
    throw new InputError(`${path}: labels: expected { encoding: "base64-u8", data } (a palisade generate truth file)`, 'E_FORMAT');
  const bytes = Buffer.from(labels.data, 'base64');
  const names = ['benign'];
  const list = Array.isArray(attacks) ? attacks : [];
  const runs: Truth['runs'] = [];
  for (let i = 0; i < bytes.length; ) {
    const label = bytes[i] as number;
    let j = i + 1;
    while (j < bytes.length && bytes[j] === label) j++;
    while (names.length <= label) {
      const a = list[names.length - 1] as { vector?: unknown } | undefined;
      names.push(`attack-${names.length}${typeof a?.vector === 'string' ? `:${a.vector}` : ''}`);
    }
    runs.push({ label, count: j - i });
    i = j;
  }
  return { labels: names, runs };
}

export function isBenignLabel(label: string): boolean {
  return BENIGN.has(label.toLowerCase());
}

/** Run the ruleset over a packet source (or a capture path, opened once here). */
export async function runWhatIf(capture: string | PacketSource, ruleset: Ruleset, opts: WhatIfOptions = {}): Promise<WhatIfReport> {
  const source = asPacketSource(capture);
  const engine = new RuleEngine(ruleset, { interval: opts.interval ?? 1 });
  const dropped = opts.dropped ? new PcapOut(opts.dropped) : null;
  const passed = opts.passed ? new PcapOut(opts.passed) : null;
  const truth = opts.truth ? readTruth(opts.truth) : null;
  const benignOf = truth ? truth.labels.map(isBenignLabel) : [];
  const score = {
    attack: { packets: 0, passed: 0, dropped: 0, rate_limited: 0 },
    benign: { packets: 0, passed: 0, dropped: 0, rate_limited: 0 },
    unlabelled: 0,
  };
  let run = 0;
  let left = truth && truth.runs.length > 0 ? (truth.runs[0] as { count: number }).count : 0;
  let firstSec = -1;
  let firstNsec = 0;
  let lastSec = 0;
  let lastNsec = 0;
  const info = await source.read(
    (v) => {
      if (firstSec < 0) {
        firstSec = v.tsSec;
        firstNsec = v.tsNsec;
      }
      lastSec = v.tsSec;
      lastNsec = v.tsNsec;
      const d = engine.process(v);
      if (d.verdict === Verdict.PASS) passed?.write(v.linkType, v.buf, v.frameOff, v.caplen, v.wirelen, v.tsSec, v.tsNsec);
      else dropped?.write(v.linkType, v.buf, v.frameOff, v.caplen, v.wirelen, v.tsSec, v.tsNsec);
      if (truth) {
        while (left === 0 && run < truth.runs.length - 1) left = (truth.runs[++run] as { count: number }).count;
        if (left === 0) score.unlabelled++;
        else {
          left--;
          const side = benignOf[(truth.runs[run] as { label: number }).label] ? score.benign : score.attack;
          side.packets++;
          if (d.verdict === Verdict.PASS) side.passed++;
          else if (d.verdict === Verdict.DROP) side.dropped++;
          else side.rate_limited++;
        }
      }
    },
    { onProgress: opts.onProgress },
  );
  dropped?.close();
  passed?.close();
  const iso = (s: number, ns: number): string => new Date(s * 1000 + Math.floor(ns / 1e6)).toISOString();
  const report = whatIfReport(engine, ruleset, {
    file: source.name,
    packets: info.packets,
    bytes: info.bytes,
    start: firstSec < 0 ? null : iso(firstSec, firstNsec),
    end: firstSec < 0 ? null : iso(lastSec, lastNsec),
    error: info.error,
  });
  if (dropped) report.outputs.dropped = { file: dropped.path, packets: dropped.packets };
  if (passed) report.outputs.passed = { file: passed.path, packets: passed.packets };
  if (truth) {
    const a = score.attack;
    const b = score.benign;
    report.truth = {
      labels: truth.labels,
      attack: a,
      benign: b,
      attack_passed_share: a.packets === 0 ? 0 : a.passed / a.packets,
      benign_dropped_share: b.packets === 0 ? 0 : (b.dropped + b.rate_limited) / b.packets,
      unlabelled: score.unlabelled,
    };
  }
  return report;
}

/** The report of an engine that has run (any kind of record) over the input described by `capture`. */
export function whatIfReport<V>(engine: RuleEngine<V>, ruleset: Ruleset, capture: WhatIfReport['capture']): WhatIfReport {
  const t = engine.totals;
  return {
    ruleset: { name: ruleset.name, file: ruleset.file, rules: ruleset.rules.length, lists: ruleset.listDefs.length },
    capture,
    totals: { packets: t.packets, bytes: t.bytes, ...(t.records !== undefined && { records: t.records }), passed: t.passed, dropped: t.dropped, rate_limited: t.rate_limited },
    lists: engine.listStats(),
    rules: engine.ruleStats(),
    rate_limit_tables: engine.limiterStats(),
    timeline: engine.getTimeline(),
    outputs: {},
  };
}

/** The report for a person: totals, lists, one line per rule, truth score, a compact timeline. */
export function renderWhatIf(r: WhatIfReport, color: boolean): string {
  const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
  const red = (s: string) => (color ? `\x1b[31m${s}\x1b[0m` : s);
  // Flow counts scaled by the sampling rate, and the bytes of a partly rate-limited flow, are not whole.
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const pct = (a: number, b: number) => (b === 0 ? '0.0%' : `${((100 * a) / b).toFixed(1)}%`);
  const flows = r.flows;
  /** With flows, each count also says how many records it came from. */
  const recs = (c: Counter) => (c.records === undefined ? '' : `  ${n(c.records).padStart(10)} records`);
  const out: string[] = [];
  out.push(bold(`What-if: ruleset ${r.ruleset.name} over ${r.capture.file}`));
  if (flows) {
    const rates = Object.entries(flows.sampling_rates)
      .map(([rate, k]) => `1:${rate} (${n(k)} records)`)
      .join(', ');
    out.push(`  ${n(flows.records)} flow records in ${n(flows.datagrams)} datagrams, claiming ${n(flows.packets)} packets and ${n(flows.bytes)} bytes; sampling ${rates || '-'}`);
    out.push(`  on the network (scaled by the sampling rate): ${n(r.totals.packets)} packets, ${n(r.totals.bytes)} bytes, ${r.capture.start ?? '-'} .. ${r.capture.end ?? '-'}`);
  } else out.push(`  ${n(r.totals.packets)} packets, ${n(r.totals.bytes)} bytes, ${r.capture.start ?? '-'} .. ${r.capture.end ?? '-'}`);
  const total = (label: string, c: Counter) =>
    `  ${label.padEnd(14)}${n(c.packets).padStart(12)} pkts ${pct(c.packets, r.totals.packets).padStart(7)}  ${n(c.bytes).padStart(14)} bytes${recs(c)}`;
  out.push(total('passed', r.totals.passed), total('dropped', r.totals.dropped), total('rate-limited', r.totals.rate_limited));
  if (r.lists.length > 0) {
    out.push('', bold('Lists'));
    for (const l of r.lists)
      out.push(`  ${`$${l.name}`.padEnd(24)} ${l.kind.padEnd(6)} ${n(l.matched.packets).padStart(12)} pkts ${n(l.matched.bytes).padStart(14)} bytes${recs(l.matched)}`);
  }
  const recHead = flows ? ` ${'matched recs'.padStart(13)}` : '';
  out.push('', bold(`${'Rule'.padEnd(26)} ${'action'.padEnd(10)} ${'matched pkts'.padStart(13)} ${'matched bytes'.padStart(15)} ${'decided pkts'.padStart(13)}${recHead}`));
  for (const s of r.rules) {
    const decided = s.action === 'block' ? s.dropped.packets : s.action === 'allow' ? s.passed.packets : s.action === 'rate_limit' ? s.rate_limited.packets : 0;
    const recCol = s.matched.records === undefined ? '' : ` ${n(s.matched.records).padStart(13)}`;
    const line = `  ${s.id.padEnd(24)} ${s.action.padEnd(10)} ${n(s.matched.packets).padStart(13)} ${n(s.matched.bytes).padStart(15)} ${(s.action === 'log' ? '-' : n(decided)).padStart(13)}${recCol}${s.enabled ? '' : '  (disabled)'}`;
    out.push(line);
  }
  if (r.truth) {
    const t = r.truth;
    out.push('', bold('Against ground truth'));
    out.push(`  attack packets   ${n(t.attack.packets).padStart(12)}  passed ${n(t.attack.passed)} (${pct(t.attack.passed, t.attack.packets)})`);
    const bd = t.benign.dropped + t.benign.rate_limited;
    const line = `  benign packets   ${n(t.benign.packets).padStart(12)}  dropped or limited ${n(bd)} (${pct(bd, t.benign.packets)})`;
    out.push(bd > 0 ? red(line) : line);
    if (t.unlabelled > 0) out.push(red(`  ${n(t.unlabelled)} packets beyond the truth file's labels`));
  }
  const pts = r.timeline.points;
  if (pts.length > 1) {
    out.push('', bold(`Over time (${r.timeline.interval_s} s steps)      passed    dropped  rate-limited`));
    const step = Math.max(1, Math.ceil(pts.length / 20));
    for (let i = 0; i < pts.length; i += step) {
      let p = 0;
      let d = 0;
      let l = 0;
      for (let j = i; j < Math.min(pts.length, i + step); j++) {
        p += (pts[j] as TimelinePoint).passed;
        d += (pts[j] as TimelinePoint).dropped;
        l += (pts[j] as TimelinePoint).rate_limited;
      }
      out.push(`  t+${String((pts[i] as TimelinePoint).t).padEnd(8)} s ${n(p).padStart(16)} ${n(d).padStart(10)} ${n(l).padStart(13)}`);
    }
  }
  if (flows) out.push('', flows.note);
  if (r.outputs.dropped) out.push('', `dropped packets written to ${r.outputs.dropped.file} (${n(r.outputs.dropped.packets)})`);
  if (r.outputs.passed) out.push(`${r.outputs.dropped ? '' : '\n'}passed packets written to ${r.outputs.passed.file} (${n(r.outputs.passed.packets)})`);
  return `${out.join('\n')}\n`;
}
