/**
 * Everything a report shows, gathered once from an analysis (and, when the capture is at hand,
 * one replay pass over it) so that the HTML, Markdown and PDF renderers print the same facts.
 */
import { existsSync } from 'node:fs';
import type { Alert } from '../model/alert.js';
import { type Analysis, noTops } from '../model/analysis.js';
import type { Attack } from '../model/attack.js';
import type { Incident } from '../model/incident.js';
import { checkTimeZone, fmtBits, fmtInt, isoSeconds } from './format.js';
import { readGroundTruth } from './input.js';
import { type Effectiveness, niceBin, type Replay, replayAttacks, signatureEffect, type VectorTimeline } from './replay.js';
import { type L7Tops, replayLogAttacks } from './replay-log.js';
import { type RuleGaps, ruleGaps } from './rules.js';
import { type GeoRow, geoAvailable, withGeo } from './sources.js';
import { type Summary, summarize } from './summary.js';
import { PACKETS, REQUESTS, type Unit, unitOf } from './unit.js';

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
  /** The stored incident the report is about (`palisade incidents report`); absent for a capture's or a log's report. */
  incident?: IncidentReport;
}

/**
 * One second of a sensor's stored traffic (the monitor's per-second summaries), summed over the
 * incident's sensors. `open_by_vector` and `open_by_victim` count the attacks open at the end of
 * the second, not their packets.
 */
export interface StoredSecond {
  /** Unix time, whole seconds (UTC). */
  second: number;
  packets: number;
  bytes: number;
  requests: number;
  open_by_vector: Record<string, number>;
  open_by_victim: Record<string, number>;
}

export interface StoredTraffic {
  /** The sensors whose summaries these are (the incident's alerts' sensors). */
  sensors: string[];
  /** The span read, Unix seconds: from <= second < to. */
  from: number;
  to: number;
  /** The seconds that have a summary, in time order (a second without one is absent, not zero). */
  seconds: StoredSecond[];
}

/** What the report of a stored incident is made from (src/incidents/report-input.ts gathers it). */
export interface IncidentReportInput {
  incident: Incident;
  /** The incident's alerts, each in its latest stored state; their attacks are the report's. */
  alerts: Alert[];
  traffic: StoredTraffic;
}

/** How long and how many at once the summaries saw attacks open, per vector or per victim. */
export interface OpenRow {
  key: string;
  /** Seconds (with a summary) in which at least one was open. */
  seconds: number;
  /** The most open at once. */
  most: number;
}

export interface IncidentReport {
  ticket: Incident;
  alerts: Alert[];
  traffic: StoredTraffic;
  /** Sums and peaks over `traffic.seconds` (per second: the sensors' rows of that second added). */
  packets: number;
  bytes: number;
  peak_pps: number;
  peak_bps: number;
  /** Requests, where the sensors count them (HTTP inputs), and the most in one second. */
  requests: number;
  peak_rps: number;
  openByVector: OpenRow[];
  openByVictim: OpenRow[];
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

/** Why a stored incident's report has no replay: the store keeps summaries, not traffic. */
export const STORED_NOTE = "the store keeps per-second summaries of the sensors' traffic, not the packets or requests themselves";

function openRows(seconds: readonly StoredSecond[], pick: (s: StoredSecond) => Record<string, number>): OpenRow[] {
  const rows = new Map<string, OpenRow>();
  for (const s of seconds)
    for (const [key, n] of Object.entries(pick(s))) {
      if (!(n > 0)) continue;
      const r = rows.get(key) ?? { key, seconds: 0, most: 0 };
      r.seconds++;
      r.most = Math.max(r.most, n);
      rows.set(key, r);
    }
  return [...rows.values()].sort((a, b) => b.seconds - a.seconds || a.key.localeCompare(b.key));
}

/** Dense bins of packets over the span; a second without a summary counts nothing. */
function storedTimeline(t: StoredTraffic, count: (s: StoredSecond) => number): VectorTimeline {
  const span = Math.max(1, t.to - t.from);
  const bin = Math.max(1, niceBin(span));
  const n = Math.min(100_000, Math.ceil(span / bin));
  const total = new Array<number>(n).fill(0);
  for (const s of t.seconds) {
    const i = Math.min(n - 1, Math.max(0, Math.floor((s.second - t.from) / bin)));
    total[i] = (total[i] as number) + count(s);
  }
  return { bin_s: bin, t0: t.from, total, byVector: [] };
}

const iso = (second: number): string => new Date(second * 1000).toISOString().replace(/\.000Z$/, 'Z');

/**
 * The report of a stored incident: its alerts' attacks (latest state), the traffic of its span as
 * the per-second summaries hold it, and the ticket itself. What only packets could tell (protocol
 * mix, top talkers and ports, what the rules would have matched) is not made up: the renderers say
 * it is missing and why, and the what-if figures are the signatures' estimates.
 */
export function buildIncidentReport(input: IncidentReportInput, opts: Pick<ReportOptions, 'tz' | 'customer' | 'now'> = {}): ReportData {
  if (opts.tz) checkTimeZone(opts.tz);
  const { incident, alerts, traffic } = input;
  const attacks: Attack[] = alerts.map((a) => withMitigation(a.attack)).sort((x, y) => isoSeconds(x.start) - isoSeconds(y.start) || x.id.localeCompare(y.id));
  let packets = 0;
  let bytes = 0;
  let peakPps = 0;
  let peakBps = 0;
  let requests = 0;
  let peakRps = 0;
  for (const s of traffic.seconds) {
    packets += s.packets;
    bytes += s.bytes;
    requests += s.requests;
    peakPps = Math.max(peakPps, s.packets);
    peakBps = Math.max(peakBps, s.bytes * 8);
    peakRps = Math.max(peakRps, s.requests);
  }
  // Sensors that count only requests (a monitor on access logs or the edge's stream) chart requests.
  const unit = packets === 0 && requests > 0 ? REQUESTS : PACKETS;
  const count = (s: StoredSecond) => (unit === REQUESTS ? s.requests : s.packets);
  const first = traffic.seconds[0];
  const last = traffic.seconds[traffic.seconds.length - 1];
  const tl = storedTimeline(traffic, count);
  // The analysis the renderers read. Only what the summaries give is filled; the rest (protocols,
  // top lists, the capture's file and format) is never shown for an incident (d.incident is set).
  const analysis: Analysis = {
    capture: {
      file: `incident #${incident.number}`,
      format: unit === REQUESTS ? 'access_log' : 'pcap',
      compressed: false,
      link_types: [],
      packets: unit === REQUESTS ? requests : packets,
      bytes,
      start: first ? iso(first.second) : null,
      end: last ? iso(last.second + 1) : null,
      duration_s: first && last ? last.second + 1 - first.second : 0,
      skipped: { truncated: 0, malformed: 0, unsupported: 0 },
      anomalies: { caplen_over_snaplen: 0, skipped_blocks: 0 },
      error: null,
    },
    traffic: {
      protocols: { ipv4: 0, ipv6: 0, tcp: 0, udp: 0, icmp: 0, icmpv6: 0, gre: 0, fragments: 0, other: 0 },
      timeline_bin_s: tl.bin_s,
      timeline: traffic.seconds.map((s) => ({ t: iso(s.second), packets: count(s), bytes: s.bytes })),
      peak: { pps_1s: unit === REQUESTS ? peakRps : peakPps, bps_1s: peakBps, pps_100ms: 0 },
      unique_sources: 0,
      unique_destinations: 0,
      ...noTops(),
      estimated: [],
    },
    attacks,
  };
  const effects = attacks.map(signatureEffect);
  const summary = summarize(analysis, effects, opts.tz);
  if (attacks.length > 0 && traffic.seconds.length === 0) {
    // No summaries: the share of all traffic is unknown, not 0 % (or 100 %).
    const atkPackets = attacks.reduce((n, x) => n + x.packets, 0);
    summary.attack_share = Number.NaN;
    summary.effect =
      `Attack traffic was ${fmtInt(atkPackets)} ${unit.many}, peaking at ${fmtInt(summary.peak_pps)} ${unit.many}/s${unit.bytes ? ` and ${fmtBits(summary.peak_bps)}` : ''}. ` +
      `No per-second summary of ${traffic.sensors.length === 1 ? 'its sensor' : 'its sensors'} is stored for this span, so its share of all traffic is not known.`;
  } else if (attacks.length > 0) {
    summary.effect = summary.effect.replace(
      / (packets|requests) (?:captured|logged) \(([^)]*)\)/,
      (_, what: string, share: string) => ` ${what} the ${traffic.sensors.length === 1 ? 'sensor' : 'sensors'} counted over the span (${share})`,
    );
  }
  return {
    analysis,
    customer: opts.customer ?? incident.customer ?? null,
    tz: opts.tz ?? null,
    generated: (opts.now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z'),
    summary,
    effects,
    timeline: tl,
    replayed: null,
    replayNote: STORED_NOTE,
    truth: null,
    geo: geoAvailable(),
    attackSources: attacks.map((x) => withGeo(x.sources.top)),
    gaps: attacks.map(ruleGaps),
    topSources: [],
    topDestinations: [],
    unit,
    l7Tops: attacks.map(() => null),
    incident: {
      ticket: incident,
      alerts,
      traffic,
      packets,
      bytes,
      peak_pps: peakPps,
      peak_bps: peakBps,
      requests,
      peak_rps: peakRps,
      openByVector: openRows(traffic.seconds, (s) => s.open_by_vector),
      openByVictim: openRows(traffic.seconds, (s) => s.open_by_victim),
    },
  };
}

/** A stored attack without its mitigation (a sensor that sent none) renders as one with no rules. */
function withMitigation(x: Attack): Attack {
  return x.mitigation ? x : { ...x, mitigation: { ruleset: null, nftables: '', iptables: '' } };
}
