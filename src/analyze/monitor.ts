/**
 * `palisade monitor`'s packet pipeline: packets as they arrive (a paced replay, a capture
 * process's pcap stream, stdin) → decoder → the L3/4 detector `analyze` uses → alerts
 * (incidents/alerts.ts) → the consumer (store, notifications, the terminal).
 *
 * Time: the detector runs on packet time, as on a file; a wall-clock tick advances it when no
 * packet comes (a flood that stops ends after the quiet period, and its end is reported, even
 * on a silent link). For a replay the tick maps the wall clock to capture time through the
 * pacer, so a drill at 10× behaves as the same traffic would live.
 *
 * Alert events are handed to the consumer in order, one at a time (it may be slow: a database,
 * a webhook); the packet path never waits for it. The events still queued are counted.
 */
import type { Readable } from 'node:stream';
import type { DetectionSection } from '../config/detection.js';
import type { Service } from '../config/services.js';
import { liveAttack } from '../detect/l34/attacks.js';
import { Detector, type Track } from '../detect/l34/detector.js';
import { AlertBook, type AlertEvent } from '../incidents/alerts.js';
import { IncidentDesk, type Placement, type TimelineEntry } from '../incidents/desk.js';
import type { Mitigator } from '../incidents/mitigator.js';
import { ServiceMap } from '../incidents/triage.js';
import { readCapture } from '../sources/capture/capture.js';
import type { PaceClock } from '../sources/capture/paced.js';

export interface MonitorOptions {
  /** The pcap/pcapng byte stream (paced replay, tcpdump/dumpcap output, stdin). */
  stream: Readable;
  /** Names the input in messages. */
  name: string;
  /** For a paced replay: the capture time the wall clock stands for. Absent: packet time is wall time. */
  pace?: { current: PaceClock | null };
  detection: DetectionSection;
  services: readonly Service[];
  sensor: string;
  /** wall clock, ms (default Date.now) */
  now?: () => number;
  /** Each alert event with the incident it landed on, in order; awaited before the next is handed over. */
  onEvent: (e: AlertEvent, p: Placement) => void | Promise<void>;
  /** Each second of traffic once its window closed (per-second summaries). */
  onSecond?: (s: SecondSummary) => void;
  /** After the input ends, keep the clock running until every open attack has ended (drills); default true. */
  drain?: boolean;
  /** Stop early. */
  signal?: AbortSignal;
  /** Applies (or suggests) each attack's mitigation within its policy; absent: none. */
  mitigator?: Mitigator;
  /** Mitigation decisions and outcomes, as incident timeline entries (the event's own are in its placement). */
  onAction?: (incident: number, entry: TimelineEntry, failed: boolean, alertId: string) => void | Promise<void>;
}

export interface SecondSummary {
  /** capture time, seconds since the epoch */
  second: number;
  packets: number;
  bytes: number;
  /** open attacks at its end */
  attacks: number;
  /** open attacks at its end, by vector and by victim */
  byVector: Record<string, number>;
  byVictim: Record<string, number>;
}

export interface MonitorResult {
  packets: number;
  alerts: number;
  events: number;
  /** events the consumer failed on (logged by it) */
  failedEvents: number;
}

/** How far behind the wall clock the tick closes windows: packets of a second still in flight stay in it. */
const GRACE_MS = 600;

export async function monitorPackets(o: MonitorOptions): Promise<MonitorResult> {
  const now = o.now ?? Date.now;
  const det = new Detector(o.detection);
  const mit = o.mitigator ?? null;
  const book = new AlertBook({ sensor: o.sensor, services: new ServiceMap(o.services), now, ...(mit && { isMitigated: (id: string) => mit.holds(id) }) });
  const incidentOfAlert = new Map<string, number>();
  const desk = new IncidentDesk(now);
  const result: MonitorResult = { packets: 0, alerts: 0, events: 0, failedEvents: 0 };
  let endedSeen = 0;
  let secPackets = 0;
  let secBytes = 0;
  let lastSecond = Number.NEGATIVE_INFINITY;
  // the consumer runs one event at a time, in order, off the packet path
  let chain: Promise<void> = Promise.resolve();
  const emit = (e: AlertEvent): void => {
    result.events++;
    if (e.kind === 'start') result.alerts++;
    const p = desk.place(e);
    incidentOfAlert.set(e.alert.id, p.incident.number);
    chain = chain
      .then(async () => {
        await o.onEvent(e, p);
        if (mit === null) return;
        const r = await mit.onEvent(e);
        for (const entry of r.entries) {
          p.incident.timeline.push(entry);
          await o.onAction?.(p.incident.number, entry, r.failed, e.alert.id);
        }
      })
      .catch(() => {
        result.failedEvents++;
      });
  };
  const observe = (tr: Track, ended: boolean): void => {
    const e = book.observe(liveAttack(tr, det, result.packets), tr.baseRate, ended);
    if (e !== null) emit(e);
  };
  det.onWindow = (endSec) => {
    const byVector: Record<string, number> = {};
    const byVictim: Record<string, number> = {};
    for (const tr of det.openTracks()) {
      observe(tr, false);
      byVector[tr.vector] = (byVector[tr.vector] ?? 0) + 1;
      byVictim[tr.key] = (byVictim[tr.key] ?? 0) + 1;
    }
    const ended = det.endedTracks;
    for (; endedSeen < ended.length; endedSeen++) observe(ended[endedSeen] as Track, true);
    // the end of input closes the last window again (det.finish): never report a second twice
    // (a store keeps one row per second: the second report would replace the first)
    const second = Math.max(endSec - 1, lastSecond + 1);
    lastSecond = second;
    if (second === endSec - 1 || secPackets > 0) o.onSecond?.({ second, packets: secPackets, bytes: secBytes, attacks: book.size, byVector, byVictim });
    secPackets = 0;
    secBytes = 0;
  };
  const captureNow = (): number => {
    const pace = o.pace?.current;
    return pace ? pace.captureMs(now()) : now();
  };
  const sweep = (): void => {
    if (mit === null || mit.pending === 0) return;
    chain = chain
      .then(async () => {
        const r = await mit.sweep();
        for (const entry of r.entries) {
          const alertId = mit.alertOf(String(entry.data?.mitigation ?? ''));
          const n = alertId === null ? undefined : incidentOfAlert.get(alertId);
          if (n !== undefined && alertId !== null) await o.onAction?.(n, entry, r.failed, alertId);
        }
      })
      .catch(() => {
        result.failedEvents++;
      });
  };
  const tick = (): void => {
    const t = captureNow();
    if (!Number.isNaN(t)) det.advance(Math.floor((t - GRACE_MS) / 1000));
    sweep();
  };
  const timer = setInterval(tick, 250);
  try {
    await readCapture(
      o.name,
      (v) => {
        result.packets++;
        secPackets++;
        secBytes += v.wirelen;
        det.add(v);
      },
      { stream: o.stream },
    );
    if (o.drain !== false) {
      // the input ended: let the clock run until what is open has ended (the quiet period)
      const quietMs = (o.detection.quietS ?? 10) * 1000;
      const until = now() + quietMs + 3000;
      while (book.size > 0 && now() < until && o.signal?.aborted !== true) await new Promise((r) => setTimeout(r, 100));
      // and until the mitigations whose attack ended have been removed after their hold
      await chain;
      const holdMs = (mit?.policy.holdS ?? 0) * 1000;
      const removedBy = now() + holdMs + 3000;
      while (mit !== null && mit.pending > 0 && now() < removedBy && o.signal?.aborted !== true) await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    clearInterval(timer);
  }
  // whatever is still open ends with the input
  det.finish();
  const ended = det.endedTracks;
  for (; endedSeen < ended.length; endedSeen++) observe(ended[endedSeen] as Track, true);
  await chain;
  return result;
}
