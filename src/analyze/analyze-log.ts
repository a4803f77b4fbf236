/**
 * analyzeAccessLog: access logs through the L7 detector (detect/l7) into the Analysis record
 * (library entry point of `palisade analyze access.log`).
 *
 * The log is read once: a small traffic summary, detection, and per record what measuring needs
 * (detect/l7/columns.ts). Then each attack's signature is measured (coverage, collateral,
 * attribution of addresses) over those columns, without reading the log again. The columns are
 * bounded (MAX_RECORDS); past the bound they are dropped and a file is read a second time to
 * measure. Stdin cannot be read twice: besides the columns, the pass keeps a bounded reservoir of
 * its lines (STDIN_KEEP) for that case, and `capture.log.measured_on` then says the figures are
 * estimates from that sample.
 */
import { statSync } from 'node:fs';
import { HyperLogLog } from '../detect/core/sketch/hll.js';
import { buildAll, type PlannedAttack, plan } from '../detect/l7/attacks.js';
import { Col, RecordColumns } from '../detect/l7/columns.js';
import { L7Detector, type L7Options } from '../detect/l7/detector.js';
import type { RequestTraits } from '../detect/l7/features.js';
import { columnar, Measurer, type MeasureTarget } from '../detect/l7/measure.js';
import { Rand } from '../detect/l7/sample.js';
import { buildMitigation } from '../export/mitigation.js';
import { type Analysis, noTops } from '../model/analysis.js';
import type { Attack, L7Mitigation } from '../model/attack.js';
import { type AccessLogInfo, type AccessLogSource, accessLogSource } from '../sources/accesslog/index.js';
import { parserFor } from '../sources/accesslog/parsers.js';
import { HttpLogView } from '../sources/accesslog/view.js';

export interface AnalyzeLogOptions {
  /** Format name or string for every input; detected per input when absent. */
  format?: string;
  top?: number;
  detect?: boolean;
  detection?: L7Options;
  onProgress?: (done: number, total?: number) => void;
  /** Records kept for the measuring pass (columns.ts MAX_RECORDS); past it the log is read again. */
  maxColumnRecords?: number;
}

/** Lines of stdin kept for the measurement pass. */
export const STDIN_KEEP = 200_000;
/** Timeline bins: one per second up to this many, wider beyond. */
const MAX_BINS = 3600;

/** Requests per second, addresses and hosts of the log, for the traffic summary. */
class LogSummary {
  private readonly secs = new Map<number, number>();
  readonly clients = new HyperLogLog(14);
  readonly status = new Float64Array(6);
  requests = 0;
  /** The second being counted and its count: a log is (nearly) in time order, so one Map write a second, not one a record. */
  private sec = Number.NaN;
  private n = 0;

  /** Requests per second (epoch seconds). */
  get perSec(): ReadonlyMap<number, number> {
    this.flush();
    return this.secs;
  }

  private flush(): void {
    if (this.n > 0) this.secs.set(this.sec, (this.secs.get(this.sec) ?? 0) + this.n);
    this.n = 0;
  }

  /** The record the traits have just read (its second taken here: an epoch second passed to a call is a boxed number). */
  add(tr: RequestTraits): void {
    const sec = Math.floor(tr.timeMs / 1000);
    const ipKey = tr.ipKey;
    const status = tr.status;
    this.requests++;
    if (sec !== this.sec) {
      this.flush();
      this.sec = sec;
    }
    this.n++;
    this.clients.add(ipKey);
    const c = Math.floor(status / 100);
    this.status[c >= 1 && c <= 5 ? c : 0]++;
  }
}

export async function analyzeAccessLog(input: string | readonly string[] | AccessLogSource, opts: AnalyzeLogOptions = {}): Promise<Analysis> {
  const source =
    typeof input === 'string' || Array.isArray(input) ? accessLogSource(input as string | string[], opts.format ? { format: opts.format } : {}) : (input as AccessLogSource);
  const det = new L7Detector(opts.detection);
  det.sampleLines = true;
  const summary = new LogSummary();
  const detect = opts.detect !== false;
  const keep: string[] = [];
  const rand = new Rand(7);
  let seenLines = 0;
  const tr = det.traits;
  // What the measuring pass needs of each record, so it need not read the log again (bounded;
  // dropped when full, and then the log is read again, or the stdin sample measured).
  const cols = detect ? new RecordColumns(opts.maxColumnRecords, expectedRecords(input)) : null;
  const info: AccessLogInfo = await source.read(
    (v) => {
      if (detect) {
        if (det.add(v)) (cols as RecordColumns).add(v, tr);
      } else if (!tr.read(v)) return;
      summary.add(tr);
      if (!source.replayable) {
        // Algorithm R (the columns may yet overflow; then this sample is all a stream leaves) over the lines: the measurement pass of a stream runs on this sample.
        const n = seenLines++;
        if (n < STDIN_KEEP) keep.push(v.line);
        else {
          const j = Math.floor(rand.next() * (n + 1));
          if (j < STDIN_KEEP) keep[j] = v.line;
        }
      }
    },
    { onProgress: opts.onProgress },
  );
  const attacks: Attack[] = [];
  let measuredOn = source.replayable ? 'log' : `stdin sample of ${Math.min(seenLines, STDIN_KEEP)} lines`;
  if (detect) {
    const tracks = det.finish();
    const again = new HttpLogView();
    det.resolveRows(tracks, (line, fi) => ((info.parsers[fi] ?? info.parsers[0])?.parse(line, again) ? again : null));
    const planned = plan(det, tracks);
    if (planned.length > 0) {
      const targets = measureTargets(planned);
      const m = new Measurer(targets, opts.detection?.isLogin ?? null);
      if (cols !== null && !cols.overflowed && columnar(targets)) {
        const parsers = info.parsers;
        const view = new HttpLogView();
        m.addColumns(cols, (line, fi) => ((parsers[fi] ?? parsers[0])?.parse(line, view) ? view : null));
        measuredOn = 'log';
      } else if (source.replayable) await source.read((v) => m.add(v));
      else {
        const parser = info.parsers[0] ?? parserFor('combined');
        const view = new HttpLogView();
        for (const line of keep) if (parser.parse(line, view)) m.add(view);
      }
      for (const a of buildAll(det, planned, m.tallies)) attacks.push(withFirewallText(a));
    }
  }
  return toAnalysis(source, info, summary, det, attacks, opts.top ?? 10, measuredOn);
}

/**
 * About how many records plain files hold, from their size (150 bytes a line: combined lines run
 * 150-300); 0 when unknown (stdin, gzip, a source given as an object).
 */
function expectedRecords(input: string | readonly string[] | AccessLogSource): number {
  if (typeof input !== 'string' && !Array.isArray(input)) return 0;
  let bytes = 0;
  for (const p of typeof input === 'string' ? [input] : (input as readonly string[])) {
    if (p === '-' || p.endsWith('.gz')) continue;
    try {
      bytes += statSync(p).size;
    } catch {
      // The reader says what is wrong with it.
    }
  }
  return Math.floor(bytes / 150);
}

/** A valid expression that matches nothing. */
const NEVER = 'http.request.method eq "" and http.request.method ne ""';

/**
 * What the measuring pass evaluates for each planned attack. An attack with no separating field
 * on a log without Host (a slowloris tool sends none) has an empty expression: its pass measures
 * the class alone, with a signature that matches nothing.
 */
export function measureTargets(planned: readonly PlannedAttack[]): MeasureTarget[] {
  return planned.map((p) => (p.target.expression === '' ? { ...p.target, expression: NEVER, parts: [{ col: Col.METHOD, text: NEVER }] } : p.target));
}

/** The attack's address list as nftables and iptables text (the fields of its custom rule are HTTP's, not a firewall's). */
export function withFirewallText(a: Attack): Attack {
  const m = a.mitigation as L7Mitigation;
  const ips = m.lists.ips;
  if (ips.length === 0) return a;
  const name = `${a.vector}_${a.id.replace(/[^A-Za-z0-9]/g, '_')}`;
  const fw = buildMitigation({
    expression: `ip.src in $${name}`,
    id: a.id,
    description: `${a.vector} on ${a.victim.host ?? ''}: block the attack's addresses`,
    lists: { [name]: ips },
  });
  return { ...a, mitigation: { ...m, nftables: fw.nftables, iptables: fw.iptables } };
}

function toAnalysis(source: AccessLogSource, info: AccessLogInfo, s: LogSummary, det: L7Detector, attacks: Attack[], top: number, measuredOn: string): Analysis {
  const secs = [...s.perSec.keys()].sort((a, b) => a - b);
  const first = secs[0];
  const last = secs[secs.length - 1];
  const span = first === undefined || last === undefined ? 0 : last - first + 1;
  const bin = Math.max(1, Math.ceil(span / MAX_BINS));
  const bins = new Map<number, number>();
  let peak = 0;
  for (const [sec, n] of s.perSec) {
    if (n > peak) peak = n;
    const b = first === undefined ? 0 : first + Math.floor((sec - first) / bin) * bin;
    bins.set(b, (bins.get(b) ?? 0) + n);
  }
  const timeline = [...bins].sort((a, b) => a[0] - b[0]).map(([t, n]) => ({ t: new Date(t * 1000).toISOString(), packets: n, bytes: 0 }));
  const hosts = det.hosts
    .filter((h) => h.requests > 0)
    .sort((a, b) => b.requests - a.requests)
    .slice(0, top)
    .map((h) => ({ host: h.name, requests: h.requests }));
  const start = Number.isNaN(det.firstMs) ? null : new Date(det.firstMs).toISOString();
  const end = Number.isNaN(det.lastMs) ? null : new Date(det.lastMs).toISOString();
  const st = s.status;
  return {
    capture: {
      file: source.name,
      format: 'access_log',
      compressed: false,
      link_types: [],
      packets: info.records,
      bytes: 0,
      start,
      end,
      duration_s: Number.isNaN(det.firstMs) ? 0 : Math.round(det.lastMs - det.firstMs) / 1000,
      skipped: { truncated: info.truncatedFields, malformed: info.malformed, unsupported: det.unplaced },
      anomalies: { caplen_over_snaplen: 0, skipped_blocks: 0 },
      error: info.error,
      log: {
        formats: info.files.map((f) => ({
          file: f.file,
          format: f.format,
          detected: f.detected,
          lines: f.lines,
          records: f.records,
          malformed: f.malformed,
          malformed_lines: f.malformedLines,
          skipped: f.skipped,
          overlong_lines: f.overlongLines,
        })),
        format: info.format,
        detected: info.detected,
        lines: info.lines,
        records: info.records,
        malformed: info.malformed,
        skipped: info.skipped,
        truncated_fields: info.truncatedFields,
        measured_on: measuredOn,
      },
    },
    traffic: {
      protocols: { ipv4: 0, ipv6: 0, tcp: 0, udp: 0, icmp: 0, icmpv6: 0, gre: 0, fragments: 0, other: 0 },
      timeline_bin_s: bin,
      timeline,
      peak: { pps_1s: peak, bps_1s: 0, pps_100ms: 0 },
      unique_sources: s.clients.estimate(),
      unique_destinations: det.hosts.length,
      ...noTops(),
      estimated: ['unique_sources'],
      http: {
        requests: s.requests,
        peak_rps_1s: peak,
        hosts,
        status: { other: st[0] as number, '1xx': st[1] as number, '2xx': st[2] as number, '3xx': st[3] as number, '4xx': st[4] as number, '5xx': st[5] as number },
        clients_tracked: det.clients.entries,
        clients_evicted: det.clients.evictedIdle + det.clients.evictedBusy,
      },
    },
    attacks,
  };
}
