/**
 * The edge's Prometheus metrics (text exposition format 0.0.4), for the admin listener's
 * `/metrics`. Counted from each finished exchange (the gate's `observe` hook: who answered, the
 * mitigation, the status class, the rules that matched, the durations) plus snapshots of the
 * gate's and the transport's own counters at scrape time.
 *
 * Per-request work is a few integer increments and a bucket search: no string or object is made
 * per request except a rule id's first time (bounded: past MAX_RULE_LABELS further ids are counted
 * under `rule="(other)"`, so a client cannot blow the label set up).
 */

import type { Outcome } from '../gate.js';
import type { EdgeGateStats } from '../phases/pipeline.js';
import type { EdgeStats } from '../stats.js';

/** Latency buckets (seconds): a proxy's answers span microseconds (our own) to the origin's seconds. */
export const BUCKETS_S: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const MAX_RULE_LABELS = 1000;

const BY = ['origin', 'phase', 'transport'] as const;
const MITIGATED = ['none', 'block', 'challenge', 'rate_limit', 'waf'] as const;
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'] as const;

/** A cumulative histogram in a typed array (one count per bucket, +Inf last), its sum and count. */
class Histogram {
  readonly counts = new Float64Array(BUCKETS_S.length + 1);
  sum = 0;
  count = 0;
  observe(seconds: number): void {
    let i = 0;
    while (i < BUCKETS_S.length && seconds > (BUCKETS_S[i] as number)) i++;
    this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }
  lines(name: string, labels: string): string[] {
    const out: string[] = [];
    let cum = 0;
    const sep = labels === '' ? '' : ',';
    for (let i = 0; i <= BUCKETS_S.length; i++) {
      cum += this.counts[i] as number;
      const le = i < BUCKETS_S.length ? String(BUCKETS_S[i]) : '+Inf';
      out.push(`${name}_bucket{${labels}${sep}le="${le}"} ${cum}`);
    }
    const l = labels === '' ? '' : `{${labels}}`;
    out.push(`${name}_sum${l} ${fmt(this.sum)}`, `${name}_count${l} ${this.count}`);
    return out;
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 1e9) / 1e9) : '0';
}

/** A label value escaped as the format asks (backslash, quote, newline). */
export function labelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export class EdgeMetrics {
  /** Answers by who gave them × mitigation × status class. */
  private readonly answers = new Float64Array(BY.length * MITIGATED.length * CLASSES.length);
  private readonly rules = new Map<string, number>();
  private readonly duration = new Histogram();
  private readonly originDuration = new Histogram();
  private readonly errors = new Map<string, number>();
  private readonly started = Date.now();

  /** One finished exchange (hook it with `gate.observe`). */
  observe(ruleIds: readonly string[], o: Outcome): void {
    const by = o.by === 'origin' ? 0 : o.by === 'phase' ? 1 : 2;
    const m = o.mitigated === undefined ? 0 : MITIGATED.indexOf(o.mitigated);
    const c = o.status >= 100 && o.status < 600 ? Math.floor(o.status / 100) - 1 : 5;
    this.answers[(by * MITIGATED.length + Math.max(0, m)) * CLASSES.length + c]++;
    for (let i = 0; i < ruleIds.length; i++) {
      const id = ruleIds[i] as string;
      const n = this.rules.get(id);
      if (n !== undefined) this.rules.set(id, n + 1);
      else if (this.rules.size < MAX_RULE_LABELS) this.rules.set(id, 1);
      else this.rules.set('(other)', (this.rules.get('(other)') ?? 0) + 1);
    }
    this.duration.observe(o.durationMs / 1000);
    if (o.originMs !== undefined) this.originDuration.observe(o.originMs / 1000);
    if (o.error !== undefined) this.errors.set(o.error, (this.errors.get(o.error) ?? 0) + 1);
  }

  /** The exposition text: this process's counters, the gate's and the transport's, and any extra gauges. */
  render(gate: EdgeGateStats | null, edge: EdgeStats | null, extra: Record<string, { help: string; value: number }> = {}): string {
    const out: string[] = [];
    const head = (name: string, type: 'counter' | 'gauge' | 'histogram', help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    head('palisade_edge_responses_total', 'counter', 'Responses by who answered (origin, phase, transport), the mitigation and the status class.');
    for (let b = 0; b < BY.length; b++)
      for (let m = 0; m < MITIGATED.length; m++)
        for (let c = 0; c < CLASSES.length; c++) {
          const n = this.answers[(b * MITIGATED.length + m) * CLASSES.length + c] as number;
          if (n > 0) out.push(`palisade_edge_responses_total{by="${BY[b]}",mitigated="${MITIGATED[m]}",class="${CLASSES[c]}"} ${n}`);
        }
    head('palisade_edge_rule_matches_total', 'counter', 'Requests each rule, list or WAF rule matched (ids as in the access log).');
    for (const [id, n] of [...this.rules].sort((a, b) => (a[0] < b[0] ? -1 : 1))) out.push(`palisade_edge_rule_matches_total{rule="${labelValue(id)}"} ${n}`);
    head('palisade_edge_request_duration_seconds', 'histogram', 'Time from the request to the end of the response.');
    out.push(...this.duration.lines('palisade_edge_request_duration_seconds', ''));
    head('palisade_edge_origin_duration_seconds', 'histogram', "Time to the origin's response head.");
    out.push(...this.originDuration.lines('palisade_edge_origin_duration_seconds', ''));
    head('palisade_edge_exchange_errors_total', 'counter', 'Exchanges that ended in a transport error, by kind (origin_timeout, client_aborted, ...).');
    for (const [k, n] of [...this.errors].sort((a, b) => (a[0] < b[0] ? -1 : 1))) out.push(`palisade_edge_exchange_errors_total{error="${labelValue(k)}"} ${n}`);
    if (gate !== null) {
      head('palisade_edge_phase_decisions_total', 'counter', "The phases' decisions (lists, custom rules, rate limits, counters, WAF, challenge).");
      for (const [k, v] of Object.entries(gate)) if (k !== 'requests') out.push(`palisade_edge_phase_decisions_total{decision="${labelValue(k)}"} ${v}`);
    }
    if (edge !== null) {
      head('palisade_edge_transport_total', 'counter', "The transport's counts (connections, refusals, timeouts, origin errors, ...).");
      for (const [k, v] of Object.entries(edge)) out.push(`palisade_edge_transport_total{what="${labelValue(k)}"} ${v}`);
    }
    for (const [name, g] of Object.entries(extra)) {
      head(name, 'gauge', g.help);
      out.push(`${name} ${fmt(g.value)}`);
    }
    head('palisade_edge_uptime_seconds', 'gauge', 'Seconds since this process started counting.');
    out.push(`palisade_edge_uptime_seconds ${fmt((Date.now() - this.started) / 1000)}`);
    return `${out.join('\n')}\n`;
  }
}
