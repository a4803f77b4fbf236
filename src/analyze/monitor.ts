/**
 * `palisade monitor`'s pipeline: packets as they arrive (a paced replay, a capture process's
 * pcap stream, stdin) → decoder → the L3/4 detector `analyze` uses, and HTTP requests as they
 * arrive (followed access logs, stdin, the edge's request stream) → the edge's live L7 analysis
 * (proxy/live/live.ts, in suggest mode: detection, signature search and measurement over a ring
 * of recent requests) → alerts (incidents/alerts.ts) → the consumer (store, notifications, the
 * terminal).
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
import type { EdgeLiveOptions } from '../config/edge.js';
import type { Service } from '../config/services.js';
import type { PacketView } from '../decode/view.js';
import { liveAttack } from '../detect/l34/attacks.js';
import { Detector, type Track } from '../detect/l34/detector.js';
import { AlertBook, type AlertEvent } from '../incidents/alerts.js';
import { IncidentDesk, type Placement, type TimelineEntry } from '../incidents/desk.js';
import type { Mitigator } from '../incidents/mitigator.js';
import { ServiceMap } from '../incidents/triage.js';
import { addVectorTraffic, type TrafficByVector } from '../model/traffic.js';
import { type LiveGate, LiveL7 } from '../proxy/live/live.js';
import { RuntimeRules } from '../proxy/live/runtime-rules.js';
import type { HttpLogView } from '../sources/accesslog/view.js';
import { readCapture } from '../sources/capture/capture.js';
import type { PaceClock } from '../sources/capture/paced.js';
import type { FlowView } from '../sources/flow/record-view.js';
import { LiveFlowViews } from '../sources/flow-live.js';

/** A source of HTTP requests that keeps coming (a followed log, stdin, the edge's request stream). */
export interface HttpInput {
  name: string;
  /** Hands each request over until the input ends or `signal` aborts; resolves with its counts. */
  run(onRequest: (v: HttpLogView) => void, signal: AbortSignal): Promise<{ lines: number; records: number; malformed: number }>;
}

/** Flow export as it arrives (the UDP collector): records and sFlow samples. */
export interface FlowInput {
  name: string;
  /** Hands each record over until `signal` aborts (or the input ends); resolves with its counters for the final line. */
  run(onFlow: (f: FlowView) => void, signal: AbortSignal): Promise<{ records: number; lost: number }>;
}

export interface MonitorOptions {
  /** The pcap/pcapng byte stream (paced replay, tcpdump/dumpcap output, stdin); absent: no packets. */
  stream?: Readable;
  /** Names the packet input in messages. */
  name?: string;
  /** Flow export listeners (records spread over the seconds after they arrive: sources/flow-live.ts). */
  flows?: FlowInput;
  /** HTTP inputs (any number; none: no L7). */
  http?: readonly HttpInput[];
  /** L7 analysis settings (palisade.yaml edge.live: window, buffer, replan); default as the edge's. */
  l7?: Partial<EdgeLiveOptions>;
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
  /** Each L3/4 detector window as mergeable bytes, just before onSecond of that second (multi-node: cluster/sensor-node.ts). */
  onWindowRows?: (second: number, rows: Uint8Array) => void;
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
  /** HTTP requests taken in during it */
  requests: number;
  /** open attacks at its end */
  attacks: number;
  /** packets by IP protocol (tcp, udp, icmp, other) and HTTP requests (http_requests) */
  byProtocol: Record<string, number>;
  /** open attacks at its end, by vector and by victim */
  byVector: Record<string, number>;
  byVictim: Record<string, number>;
  /** the attacks' traffic in it, by vector (packets and bytes attributed to L3/4 attacks, requests to L7 ones) */
  trafficByVector: TrafficByVector;
}

export interface MonitorResult {
  packets: number;
  /** HTTP requests taken in, and lines of the HTTP inputs that did not parse (counted, skipped) */
  requests: number;
  malformedLines: number;
  /** Flow records and samples taken in, and datagrams the collector saw lost (sequence gaps, socket drops) */
  flowRecords: number;
  flowLoss: number;
  alerts: number;
  events: number;
  /** events the consumer failed on (logged by it) */
  failedEvents: number;
}

/** How far behind the wall clock the tick closes windows: packets of a second still in flight stay in it. */
const GRACE_MS = 600;

export async function monitorTraffic(o: MonitorOptions): Promise<MonitorResult> {
  const now = o.now ?? Date.now;
  const http = o.http ?? [];
  if (o.stream === undefined && o.flows === undefined && http.length === 0) throw new Error('monitor: no input');
  const flows = o.flows === undefined ? null : new LiveFlowViews();
  /** Packets reach the L3/4 detector: its windows close the seconds (else the clock does). */
  const packetsIn = o.stream !== undefined || flows !== null;
  const det = new Detector(o.detection);
  // only a clustered sensor pays for encoding its windows
  if (o.onWindowRows !== undefined) det.onWindowRows = o.onWindowRows;
  const mit = o.mitigator ?? null;
  const book = new AlertBook({ sensor: o.sensor, services: new ServiceMap(o.services), now, ...(mit && { isMitigated: (id: string) => mit.holds(id) }) });
  const incidentOfAlert = new Map<string, number>();
  const desk = new IncidentDesk(now);
  const result: MonitorResult = { packets: 0, requests: 0, malformedLines: 0, flowRecords: 0, flowLoss: 0, alerts: 0, events: 0, failedEvents: 0 };
  let endedSeen = 0;
  let secPackets = 0;
  let secBytes = 0;
  let secRequests = 0;
  // packets by protocol this second (weighted: flow views stand for many)
  let secTcp = 0;
  let secUdp = 0;
  let secIcmp = 0;
  const countProto = (v: PacketView, w: number): void => {
    const p = v.ipProto;
    if (p === 6) secTcp += w;
    else if (p === 17) secUdp += w;
    else if (p === 1 || p === 58) secIcmp += w;
  };
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
  // what each attack had counted at the last window: a window's share is the difference (an
  // ended L7 attack stays, marked, as long as the analysis lists it: it is counted no more)
  const counted = new Map<number | string, { packets: number; bytes: number; ended: boolean }>();
  const share = (traffic: TrafficByVector, key: number | string, vector: string, packets: number, bytes: number, l7: boolean): void => {
    const was = counted.get(key) ?? { packets: 0, bytes: 0, ended: false };
    if (was.ended) return;
    const dp = packets - was.packets;
    if (dp > 0) addVectorTraffic(traffic, vector, l7 ? 0 : dp, l7 ? 0 : bytes - was.bytes, l7 ? dp : 0);
    was.packets = packets;
    was.bytes = bytes;
    counted.set(key, was);
  };
  det.onWindow = (endSec) => {
    const byVector: Record<string, number> = {};
    const byVictim: Record<string, number> = {};
    const trafficByVector: TrafficByVector = {};
    for (const tr of det.openTracks()) {
      observe(tr, false);
      byVector[tr.vector] = (byVector[tr.vector] ?? 0) + 1;
      byVictim[tr.key] = (byVictim[tr.key] ?? 0) + 1;
      share(trafficByVector, tr.id, tr.vector, tr.windowPackets, tr.windowBytes, false);
    }
    const ended = det.endedTracks;
    for (; endedSeen < ended.length; endedSeen++) {
      const tr = ended[endedSeen] as Track;
      observe(tr, true);
      // its last window's packets, then it is forgotten
      share(trafficByVector, tr.id, tr.vector, tr.windowPackets, tr.windowBytes, false);
      counted.delete(tr.id);
    }
    // the end of input closes the last window again (det.finish): never report a second twice
    // (a store keeps one row per second: the second report would replace the first)
    const second = Math.max(endSec - 1, lastSecond + 1);
    lastSecond = second;
    const listed = new Set<string>();
    for (const p of l7?.planned() ?? []) {
      const key = `l7:${p.attack.id}`;
      listed.add(key);
      share(trafficByVector, key, p.attack.vector, p.attack.requests ?? p.attack.packets, 0, true);
      if (!p.active) {
        const c = counted.get(key);
        if (c) c.ended = true;
        continue;
      }
      byVector[p.attack.vector] = (byVector[p.attack.vector] ?? 0) + 1;
      const host = p.attack.victim.host ?? '';
      byVictim[host] = (byVictim[host] ?? 0) + 1;
    }
    for (const key of counted.keys()) if (typeof key === 'string' && !listed.has(key)) counted.delete(key);
    if (second === endSec - 1 || secPackets > 0 || secRequests > 0) {
      const byProtocol: Record<string, number> = {};
      if (secTcp > 0) byProtocol.tcp = secTcp;
      if (secUdp > 0) byProtocol.udp = secUdp;
      if (secIcmp > 0) byProtocol.icmp = secIcmp;
      const other = secPackets - secTcp - secUdp - secIcmp;
      if (other > 0) byProtocol.other = other;
      if (secRequests > 0) byProtocol.http_requests = secRequests;
      o.onSecond?.({ second, packets: secPackets, bytes: secBytes, requests: secRequests, attacks: book.size, byProtocol, byVector, byVictim, trafficByVector });
    }
    secTcp = 0;
    secUdp = 0;
    secIcmp = 0;
    secPackets = 0;
    secBytes = 0;
    secRequests = 0;
  };
  // L7: the edge's live analysis in suggest mode, on a gate of its own that enforces nothing
  // (mitigation goes through the mitigator's enforcement points, the edge's among them).
  const l7 = http.length === 0 ? null : new LiveL7(analysisGate(now), { ...o.l7, mode: 'suggest' }, { now, sink: null });
  /** Per L7 attack (host and vector): the Attack id last reported, and whether its end was. */
  const l7Seen = new Map<string, { id: string; ended: boolean }>();
  let l7Scanned = Number.NEGATIVE_INFINITY;
  /** Close the L7 windows due and raise, update or end the alerts of what the analysis planned. */
  const l7Observe = (): void => {
    if (l7 === null) return;
    const t = now();
    l7Scanned = t;
    try {
      l7.tick(t);
    } catch {
      // a planning failure is the analysis's own (counted there on the edge); the next tick tries again
      result.failedEvents++;
    }
    for (const p of l7.planned()) {
      const seen = l7Seen.get(p.key);
      if (!p.active) {
        if (seen === undefined || seen.ended || seen.id !== p.attack.id) continue;
        seen.ended = true;
      } else if (seen === undefined || seen.id !== p.attack.id || seen.ended) l7Seen.set(p.key, { id: p.attack.id, ended: false });
      const e = book.observe(p.attack, 0, !p.active);
      if (e !== null) emit(e);
    }
  };
  /**
   * The packet time up to which seconds may close: GRACE_MS of wall time ago. For a replay that is
   * the capture time the pacer stood for then (never past a record it still holds): a grace in
   * capture time would shrink with the speed (30 ms of wall time at 20×), and a busy machine's
   * pause would close seconds whose packets were still on their way, splitting an attack.
   */
  const closableMs = (): number => {
    const pace = o.pace?.current;
    return pace ? pace.captureMs(now() - GRACE_MS) : now() - GRACE_MS;
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
  // With no packets the clock closes the seconds (with packets, their detector's windows do).
  let clockSecond = Math.floor((now() - GRACE_MS) / 1000);
  const closeSeconds = (until: number): void => {
    if (packetsIn) return;
    const sec = Math.floor(until / 1000);
    for (; clockSecond < sec; clockSecond++) det.onWindow?.(clockSecond + 1);
  };
  const onFlowView = (v: PacketView): void => {
    result.packets += v.weight;
    secPackets += v.weight;
    secBytes += v.wirelen * v.weight;
    countProto(v, v.weight);
    det.add(v);
  };
  const tick = (): void => {
    const t = closableMs();
    // flow views wait for their second (spread after arrival); they go in before the windows close
    if (flows !== null) flows.drain(Math.floor((now() - GRACE_MS) / 1000), onFlowView);
    if (packetsIn && !Number.isNaN(t)) det.advance(Math.floor(t / 1000));
    l7Observe();
    closeSeconds(now() - GRACE_MS);
    sweep();
  };
  const timer = setInterval(tick, 250);
  const stopInputs = new AbortController();
  const abortInputs = (): void => stopInputs.abort();
  o.signal?.addEventListener('abort', abortInputs, { once: true });
  try {
    const inputs: Array<Promise<unknown>> = [];
    if (o.stream !== undefined)
      inputs.push(
        readCapture(
          o.name ?? 'capture',
          (v) => {
            result.packets++;
            secPackets++;
            secBytes += v.wirelen;
            countProto(v, 1);
            det.add(v);
          },
          { stream: o.stream },
        ),
      );
    if (o.flows !== undefined)
      inputs.push(
        o.flows
          .run((f) => {
            (flows as LiveFlowViews).add(f, now());
          }, stopInputs.signal)
          .then((c) => {
            result.flowRecords = c.records;
            result.flowLoss = c.lost;
          }),
      );
    for (const input of http)
      inputs.push(
        input
          .run((v) => {
            result.requests++;
            secRequests++;
            const t = now();
            (l7 as LiveL7).feed(v, null, t);
            // requests faster than the timer (a log read at speed, a replay): look at least every 250 ms of their time
            if (t - l7Scanned >= 250) {
              l7Observe();
              closeSeconds(t - GRACE_MS);
            }
          }, stopInputs.signal)
          .then((c) => {
            result.malformedLines += c.malformed;
          }),
      );
    await Promise.all(inputs);
    if (o.drain !== false) {
      // the input ended: let the clock run until what is open has ended (the quiet period)
      const quietMs = (o.detection.quietS ?? 10) * 1000;
      // (an L7 attack ends after the analysis window's quiet period: the edge's window_s)
      const l7Quiet = l7 === null ? 0 : l7.options.windowS * 3 * 1000;
      const until = now() + Math.max(quietMs, l7Quiet) + 3000;
      while (book.size > 0 && now() < until && o.signal?.aborted !== true) await new Promise((r) => setTimeout(r, 100));
      // and until the mitigations whose attack ended have been removed after their hold
      await chain;
      const holdMs = (mit?.policy.holdS ?? 0) * 1000;
      const removedBy = now() + holdMs + 3000;
      while (mit !== null && mit.pending > 0 && now() < removedBy && o.signal?.aborted !== true) await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    clearInterval(timer);
    o.signal?.removeEventListener('abort', abortInputs);
  }
  // whatever is still open ends with the input (flow views spread past it go in first)
  flows?.drain(Number.POSITIVE_INFINITY, onFlowView);
  closeSeconds(now() + 1000);
  det.finish();
  const ended = det.endedTracks;
  for (; endedSeen < ended.length; endedSeen++) observe(ended[endedSeen] as Track, true);
  for (const p of l7?.planned() ?? []) {
    const seen = l7Seen.get(p.key);
    if (seen === undefined || seen.ended) continue;
    seen.ended = true;
    const e = book.observe(p.attack, 0, true);
    if (e !== null) emit(e);
  }
  await chain;
  return result;
}

/** The gate the monitor's L7 analysis plans against: no rules of its own, nothing allow-listed, no transport to observe. */
function analysisGate(now: () => number): LiveGate {
  return { runtime: new RuntimeRules(() => null, new Set(), now), allowListed: () => false, observe: () => () => {} };
}
