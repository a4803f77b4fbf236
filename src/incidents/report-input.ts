/**
 * What `palisade incidents report N` renders, gathered from the store: the ticket, its alerts in
 * their latest stored state (each carries its attack), and the per-second summaries of the
 * alerts' sensors over the incident's span, from a minute before its first attack to a minute
 * after its last. The report (src/report) turns this into the attack report; nothing here is
 * estimated: a second without a summary is absent.
 */
import type { Alert } from '../model/alert.js';
import type { Incident } from '../model/incident.js';
import type { IncidentReportInput, StoredSecond, StoredTraffic } from '../report/index.js';
import type { Store, Summary } from './store/store.js';

/** Seconds of traffic shown before the first attack and after the last: the baseline around it. */
export const SPAN_MARGIN_S = 60;

/** The incident's span in Unix seconds [from, to): its attacks' windows and its alerts' sightings, with the margin. */
export function incidentSpan(incident: Incident, alerts: readonly Alert[], marginS = SPAN_MARGIN_S): { from: number; to: number } {
  const times: number[] = [];
  for (const a of alerts) times.push(Date.parse(a.first_seen), Date.parse(a.last_seen), Date.parse(a.attack.start), Date.parse(a.attack.end));
  const known = times.filter(Number.isFinite);
  // An incident without alerts (all moved away): the ticket's own life.
  if (known.length === 0) known.push(Date.parse(incident.created_at), Date.parse(incident.updated_at));
  const from = Math.floor(Math.min(...known) / 1000) - marginS;
  const to = Math.floor(Math.max(...known) / 1000) + 1 + marginS;
  return { from, to };
}

/** The sensors' summaries added up per second (several sensors may watch one incident's traffic). */
export function mergeSummaries(rows: readonly Summary[]): StoredSecond[] {
  const bySecond = new Map<number, StoredSecond>();
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
  };
  for (const r of rows) {
    let s = bySecond.get(r.second);
    if (s === undefined) {
      s = { second: r.second, packets: 0, bytes: 0, requests: 0, open_by_vector: {}, open_by_victim: {} };
      bySecond.set(r.second, s);
    }
    s.packets += r.packets;
    s.bytes += r.bytes;
    s.requests += r.requests;
    add(s.open_by_vector, r.by_vector);
    add(s.open_by_victim, r.by_victim);
  }
  return [...bySecond.values()].sort((a, b) => a.second - b.second);
}

/** The report input of a ticket already read, given its alerts and the summaries of its span. */
export function reportInputOf(incident: Incident, alerts: readonly Alert[], span: { from: number; to: number }, summaries: readonly Summary[]): IncidentReportInput {
  const sensors = [...new Set(alerts.map((a) => a.sensor))].sort();
  const mine = summaries.filter((s) => sensors.includes(s.sensor) && s.second >= span.from && s.second < span.to);
  const traffic: StoredTraffic = { sensors, from: span.from, to: span.to, seconds: mergeSummaries(mine) };
  // The order the ticket lists them in (first seen first), so attack numbers follow the timeline.
  const ordered = [...alerts].sort((a, b) => a.first_seen.localeCompare(b.first_seen) || a.id.localeCompare(b.id));
  return { incident, alerts: ordered, traffic };
}

/** The report input of incident `number`, or null when the store has no such incident. */
export async function incidentReportInput(store: Store, number: number): Promise<IncidentReportInput | null> {
  const incident = await store.getIncident(number);
  if (incident === null) return null;
  const alerts = await store.listAlerts({ incident: number, limit: Number.MAX_SAFE_INTEGER });
  const span = incidentSpan(incident, alerts);
  const sensors = [...new Set(alerts.map((a) => a.sensor))];
  const summaries = (await Promise.all(sensors.map((s) => store.readSummaries(span.from, span.to, s)))).flat();
  return reportInputOf(incident, alerts, span, summaries);
}
