/**
 * Everything a report shows, gathered once from an analysis (and, when the capture is at hand,
 * one replay pass over it) so that the HTML, Markdown and PDF renderers print the same facts.
 */
import { existsSync } from 'node:fs';
import type { Analysis } from '../model/analysis.js';
import { checkTimeZone, isoSeconds } from './format.js';
import { readGroundTruth } from './input.js';
import { type Effectiveness, type Replay, replayAttacks, signatureEffect, type VectorTimeline } from './replay.js';
import { type L7Tops, replayLogAttacks } from './replay-log.js';
import { type RuleGaps, ruleGaps } from './rules.js';
import { type GeoRow, geoAvailable, withGeo } from './sources.js';
import { type Summary, summarize } from './summary.js';
import { REQUESTS, type Unit, unitOf } from './unit.js';

export interface ReportOptions {
  /** IANA time zone of the customer (times are also shown in UTC). */
  tz?: string;
  customer?: string;
  /**
   * Capture to replay for what-if figures and per-vector traffic. Default: the analysis's own
   * capture.file when it exists; `false` never replays.
   */
  capture?: string | false;
  /** Ground truth of a generated scenario (X.truth.json): what-if scored packet by packet. */
  truth?: string;
  /** Progress of the replay (bytes read, total when known). */
  onProgress?: (done: number, total?: number) => void;
  /** When the report was made (injected so output can be reproduced). */
  now?: Date;
}

export interface ReportData {
  analysis: Analysis;
  customer: string | null;
  tz: string | null;
  generated: string;
  summary: Summary;
  effects: Effectiveness[];
  /** Traffic per bin; byVector is empty when the capture was not replayed. */
  timeline: VectorTimeline;
  /** The capture that was replayed, or null; with the reason when a replay was not possible. */
  replayed: string | null;
  replayNote: string | null;
  /** The ground-truth file the what-if was scored against, or null. */
  truth: string | null;
  geo: boolean;
  attackSources: GeoRow[][];
  /** Per attack: what the nftables and iptables rules leave out, and why. */
  gaps: RuleGaps[];
  topSources: GeoRow[];
  topDestinations: GeoRow[];
  /** What the traffic is counted in: packets (captures, flows) or requests (access logs). */
  unit: Unit;
  /** L7 attacks: what their requests looked like (from the log replay), per attack; null elsewhere. */
  l7Tops: Array<L7Tops | null>;
}

/** Dense bins from the analysis's own (sparse) timeline: empty seconds are zero, not skipped. */
export function analysisTimeline(a: Analysis): VectorTimeline {
  const bin = a.traffic.timeline_bin_s || 1;
  const pts = a.traffic.timeline;
  if (pts.length === 0)
    return {
      bin_s: bin,
      t0: a.capture.start ? isoSeconds(a.capture.start) : 0,
      total: [],
      byVector: [],
    };
  const t0 = isoSeconds((pts[0] as { t: string }).t);
  const last = isoSeconds((pts[pts.length - 1] as { t: string }).t);
  const n = Math.min(100_000, Math.round((last - t0) / bin) + 1);
  const total = new Array<number>(n).fill(0);
  for (const p of pts) {
    const i = Math.min(n - 1, Math.max(0, Math.round((isoSeconds(p.t) - t0) / bin)));
    total[i] = (total[i] as number) + p.packets;
  }
  return { bin_s: bin, t0, total, byVector: [] };
}

export async function buildReport(analysis: Analysis, opts: ReportOptions = {}): Promise<ReportData> {
  if (opts.tz) checkTimeZone(opts.tz);
  let replay: Replay | null = null;
  let l7Tops: Array<L7Tops | null> = analysis.attacks.map(() => null);
  const unit = unitOf(analysis);
  let replayNote: string | null = null;
  const capture = opts.capture === false ? null : (opts.capture ?? analysis.capture.file);
  if (analysis.attacks.length > 0) {
    if (capture === null) replayNote = 'replay not requested';
    else if (capture === '-' || !existsSync(capture)) replayNote = `the capture ${capture === '-' ? '(read from stdin)' : capture} is not available`;
    else if (unit === REQUESTS) {
      const r = await replayLogAttacks(capture, analysis, opts.truth ? readGroundTruth(opts.truth) : undefined, opts.onProgress);
      replay = r;
      l7Tops = r.tops;
      if (r.truthNote) replayNote = r.truthNote;
    } else {
      replay = await replayAttacks(capture, analysis, opts.truth ? readGroundTruth(opts.truth) : undefined, opts.onProgress);
      if (replay.error) replayNote = `reading the capture stopped early: ${replay.error}`;
      else if (replay.truthNote) replayNote = replay.truthNote;
    }
  }
  const effects = replay ? replay.effects : analysis.attacks.map(signatureEffect);
  const geo = geoAvailable();
  return {
    analysis,
    customer: opts.customer ?? null,
    tz: opts.tz ?? null,
    generated: (opts.now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z'),
    summary: summarize(analysis, effects, opts.tz),
    effects,
    timeline: replay ? replay.timeline : analysisTimeline(analysis),
    replayed: replay ? (capture as string) : null,
    replayNote,
    truth: replay && opts.truth && replay.truthNote === null ? opts.truth : null,
    geo,
    attackSources: analysis.attacks.map((x) => withGeo(x.sources.top)),
    gaps: analysis.attacks.map(ruleGaps),
    topSources: withGeo(analysis.traffic.top_sources),
    topDestinations: withGeo(analysis.traffic.top_destinations),
    unit,
    l7Tops,
  };
}
