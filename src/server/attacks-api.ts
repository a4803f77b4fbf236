/**
 * One attack for the console's attack page: `GET /api/attacks/{id}`, where the id is its alert's
 * (one alert per attack, found again by fingerprint and updated in place, so the alert's id is
 * the attack's stable name in the store; the detector's own attack id is not indexed). The answer
 * is the attack as detection last reported it, the alert's triage facts, and the per-second
 * traffic of the alert's sensor over the attack's window with a minute either side — all of it,
 * and the part detection attributed to attacks of this vector — what the attack report charts. A long attack's traffic is averaged into steps of several seconds, so
 * the answer stays a few thousand points at most.
 */
import type { Store, Summary } from '../incidents/store/store.js';
import type { Alert } from '../model/alert.js';
import { HttpError, type Route, recordRef } from './http.js';

/** Seconds of traffic shown before the attack starts and after it ends: its baseline. */
export const MARGIN_S = 60;
/** At most this many points; a longer window is averaged into steps. */
export const MAX_POINTS = 1800;
/** The longest window read (the last this many seconds of a longer attack). */
export const MAX_SPAN_S = 6 * 3600;

/** One step of the window: per-second rates (averages when the step is longer than a second). */
export interface TrafficPoint {
  /** Unix seconds: the step's first second. */
  second: number;
  packets: number;
  bytes: number;
  requests: number;
  /** Attacks of this vector open in the step's seconds (the monitor's count), averaged. */
  open: number;
  /**
   * The traffic detection attributed to attacks of this vector on the sensor (this attack's, and
   * any other of its vector at the same time), per second; 0 in seconds stored before summaries
   * carried it.
   */
  vector: { packets: number; bytes: number; requests: number };
  /** Seconds of the step with a summary (a sensor that was silent leaves a gap, not a zero). */
  seconds: number;
}

export interface AttackTraffic {
  sensor: string;
  /** Unix seconds, [from, to). */
  from: number;
  to: number;
  step_s: number;
  /** True when the attack ran longer than MAX_SPAN_S: only its last part is shown. */
  truncated: boolean;
  points: TrafficPoint[];
}

/** The window of an attack in Unix seconds, [from, to), with the margin, capped to MAX_SPAN_S. */
export function attackWindow(alert: Alert): { from: number; to: number; truncated: boolean } {
  const times = [Date.parse(alert.attack.start), Date.parse(alert.attack.end), Date.parse(alert.first_seen), Date.parse(alert.last_seen)].filter(Number.isFinite);
  if (times.length === 0) throw new HttpError(500, `alert ${alert.id} has no time`);
  const to = Math.floor(Math.max(...times) / 1000) + 1 + MARGIN_S;
  const from = Math.floor(Math.min(...times) / 1000) - MARGIN_S;
  return to - from > MAX_SPAN_S ? { from: to - MAX_SPAN_S, to, truncated: true } : { from, to, truncated: false };
}

/** The summaries (one sensor's, any order) in steps of `step` seconds from `from`. */
export function stepPoints(rows: readonly Summary[], vector: string, from: number, step: number): TrafficPoint[] {
  const byStep = new Map<number, TrafficPoint>();
  for (const r of rows) {
    const at = from + Math.floor((r.second - from) / step) * step;
    let p = byStep.get(at);
    if (p === undefined) {
      p = { second: at, packets: 0, bytes: 0, requests: 0, open: 0, vector: { packets: 0, bytes: 0, requests: 0 }, seconds: 0 };
      byStep.set(at, p);
    }
    p.packets += r.packets;
    p.bytes += r.bytes;
    p.requests += r.requests;
    p.open += r.by_vector[vector] ?? 0;
    const mine = r.traffic_by_vector?.[vector];
    if (mine !== undefined) {
      p.vector.packets += mine.packets;
      p.vector.bytes += mine.bytes;
      p.vector.requests += mine.requests;
    }
    p.seconds++;
  }
  const out = [...byStep.values()].sort((a, b) => a.second - b.second);
  // rates over the seconds heard from, so a step with a silent second does not read as a dip
  for (const p of out) {
    p.packets /= p.seconds;
    p.bytes /= p.seconds;
    p.requests /= p.seconds;
    p.open /= p.seconds;
    p.vector.packets /= p.seconds;
    p.vector.bytes /= p.seconds;
    p.vector.requests /= p.seconds;
  }
  return out;
}

export async function attackTraffic(store: Store, alert: Alert): Promise<AttackTraffic> {
  const { from, to, truncated } = attackWindow(alert);
  const step = Math.max(1, Math.ceil((to - from) / MAX_POINTS));
  const rows = await store.readSummaries(from, to, alert.sensor);
  return { sensor: alert.sensor, from, to, step_s: step, truncated, points: stepPoints(rows, alert.vector, from, step) };
}

export function attackRoutes(store: Store): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/attacks/{id}',
      summary:
        "One attack by its alert's id (one alert per attack): the attack as detection last reported it (vector, victim, start/end, peaks, sources, signature with coverage and collateral, mitigation), the alert's triage facts, and the per-second traffic of its sensor over the attack's window with a minute either side (averaged into steps when longer than 1800 points)",
      role: 'viewer',
      response: { type: 'object', required: ['alert', 'attack', 'traffic'], properties: { alert: { type: 'object' }, attack: recordRef('attack'), traffic: { type: 'object' } } },
      handler: async (ctx) => {
        const id = ctx.params.id as string;
        const a = await store.getAlert(id);
        if (a === null) throw new HttpError(404, `no attack with alert id ${id}`);
        return {
          json: {
            alert: {
              id: a.id,
              state: a.state ?? 'open',
              severity: a.severity,
              urgency: a.urgency,
              score: a.score,
              confidence: a.confidence,
              sensor: a.sensor,
              first_seen: a.first_seen,
              last_seen: a.last_seen,
              incident_id: a.incident_id,
              customer: a.customer ?? null,
              reasons: a.reasons ?? [],
            },
            attack: a.attack,
            traffic: await attackTraffic(store, a),
          },
        };
      },
    },
  ];
}
