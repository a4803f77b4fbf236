/**
 * Correlation across sensors: every sensor's per-second detector window (summary-message.ts) is
 * added into one Detector — the one a single sensor runs — which then decides the merged second.
 * A carpet bombing or a botnet flood split across sensors, each share below its own threshold,
 * fires on the sum; an attack several sensors see is one track, so one alert, whose evidence
 * names each sensor's share of its packets.
 *
 * When a second is decided: windows arrive out of step (sensors' clocks, NATS, a sensor catching
 * up from its spool), so a second waits until every sensor heard from in the last two minutes has
 * reported it or past it, or until `holdMs` after its first window arrived (15 s for a backlog being
 * caught up: seconds well behind the newest one, and every second in the 15 s after the
 * correlator's own link to NATS came back), whichever is first. While that link is down nothing
 * is decided: the windows the seconds wait for are in the sensors' spools; once it is back, no
 * second is decided until every sensor heard before the outage has been heard again (a minute
 * at most: a sensor that died meanwhile holds nothing back for longer).
 * For the first `holdMs` after start every second waits the full hold (sensors not yet heard from
 * cannot be waited for by name). A window for a second already decided is late: counted and
 * dropped (the detector's windows only go forward). A node silent for `staleMs` is reported
 * silent once, and heard again when it is.
 *
 * Time is the summaries' (capture time); the wall clock, injected, only drives waiting and
 * liveness, so a replay and a live network behave alike.
 */

import type { SecondSummary } from '../analyze/monitor.js';
import type { DetectionSection } from '../config/detection.js';
import type { Service } from '../config/services.js';
import type { DetectedAttack } from '../detect/l34/attacks.js';
import { liveAttack } from '../detect/l34/attacks.js';
import { Detector, type Track } from '../detect/l34/detector.js';
import { AlertBook, type AlertEvent, type AlertState } from '../incidents/alerts.js';
import { ServiceMap } from '../incidents/triage.js';
import { addVectorTraffic } from '../model/traffic.js';
import { parseSummary, type SummaryMessage, summaryRows } from './summary-message.js';

/** A sensor silent this long is no longer waited for at all (its seconds go at once, not after the hold). */
const FORGET_MS = 120_000;
/** A second this far behind the newest one heard is being caught up, and waits up to CATCH_UP_HOLD_MS for every sensor. */
const CATCH_UP_S = 5;
const CATCH_UP_HOLD_MS = 15_000;
/**
 * After the correlator's link to NATS comes back, seconds wait up to this long for every sensor
 * heard before the outage to be heard again: each resends its spool only once its own client has
 * reconnected, which after a long outage can be well past the catch-up hold (a client that gave
 * up reconnecting is made anew, after its own back-off).
 */
const RETURN_WAIT_MS = 60_000;
/** How far back a node's merged seconds are remembered (a copy older than that counts as late). */
const MERGED_KEPT_S = 600;

export interface CorrelatorOptions {
  /** The correlator's name: the `sensor` of the alerts it raises. */
  name: string;
  detection: DetectionSection;
  services: readonly Service[];
  /** wall clock, ms */
  now: () => number;
  /** How long a second waits for sensors that have not reported it (default 3000 ms). */
  holdMs?: number;
  /** A node not heard from for this long is reported silent (default 15000 ms). */
  staleMs?: number;
}

/** One node as the correlator knows it. */
export interface NodeSeen {
  site: string;
  node: string;
  role: string;
  /** index in the detector's per-sensor shares */
  index: number;
  lastArrivalMs: number;
  lastSecond: number;
  summaries: number;
  silent: boolean;
  /** seconds of its windows merged, the last ten minutes' (to tell a copy from a late window) */
  merged: Set<number>;
  /** Not heard again since the correlator's link to NATS came back (seconds wait for it). */
  awaited?: boolean;
}

/** What a decided second produced: the alert events, and the summaries it used (to acknowledge once the events are stored). */
export interface DecidedSecond {
  second: number;
  /** every sensor's traffic of the second added up, and the correlator's open attacks at its end */
  summary: SecondSummary | null;
  events: AlertEvent[];
  acks: Array<() => void>;
}

export interface CorrelatorCounts {
  summaries: number;
  /** windows that came after their second was decided, never merged (their traffic is missing from it) */
  late: number;
  /** windows handed over again after they were merged (not counted twice) */
  duplicates: number;
  malformed: number;
  seconds: number;
  events: number;
}

interface Pending {
  firstArrivalMs: number;
  parts: Array<{ node: NodeSeen; rows: Uint8Array | null; m: SummaryMessage; ack: () => void }>;
}

export class Correlator {
  private readonly det: Detector;
  private readonly book: AlertBook;
  private readonly pending = new Map<number, Pending>();
  private readonly nodes = new Map<string, NodeSeen>();
  private readonly byIndex: NodeSeen[] = [];
  private lastDecided = Number.NEGATIVE_INFINITY;
  private busUp = true;
  /** wall clock when the correlator's own link to the bus came back after an outage */
  private busBackMs = Number.NEGATIVE_INFINITY;
  /** Sensors not heard again since the link came back (RETURN_WAIT_MS). */
  private awaitedNodes = 0;
  /** the newest second any sensor has reported */
  private newestSecond = Number.NEGATIVE_INFINITY;
  /** wall clock of the first summary taken in */
  private firstMs = Number.POSITIVE_INFINITY;
  private totalPackets = 0;
  private endedSeen = 0;
  /** per open attack: its packets and bytes at the last decided second */
  private readonly counted = new Map<number, { packets: number; bytes: number }>();
  private readonly holdMs: number;
  private readonly staleMs: number;
  readonly counts: CorrelatorCounts = { summaries: 0, late: 0, duplicates: 0, malformed: 0, seconds: 0, events: 0 };
  /** Called once when a node falls silent and once when it is heard again. */
  onLiveness: ((n: NodeSeen, silent: boolean) => void) | null = null;

  constructor(private readonly o: CorrelatorOptions) {
    this.det = new Detector(o.detection);
    this.book = new AlertBook({ sensor: o.name, services: new ServiceMap(o.services), now: o.now });
    this.holdMs = o.holdMs ?? 3000;
    this.staleMs = o.staleMs ?? 15_000;
  }

  /** The nodes heard from, in the order first heard. */
  get seen(): readonly NodeSeen[] {
    return this.byIndex;
  }

  /**
   * A summary from the bus. `ack` is called once what it contributed to is stored (or at once
   * when it contributes nothing: late, or from a node without packets). Malformed data throws.
   */
  ingest(data: unknown, ack: () => void): void {
    let m: SummaryMessage;
    try {
      m = parseSummary(data);
    } catch (e) {
      this.counts.malformed++;
      throw e;
    }
    this.counts.summaries++;
    const now = this.o.now();
    if (this.firstMs === Number.POSITIVE_INFINITY) this.firstMs = now;
    const n = this.node(m, now);
    if (m.role !== 'sensor') {
      ack();
      return;
    }
    if (m.second <= this.lastDecided) {
      // a copy of a window already merged (handed over again: its acknowledgement was lost with
      // the connection) counts for nothing; a window that never made it into its second is late
      if (n.merged.has(m.second)) this.counts.duplicates++;
      else this.counts.late++;
      ack();
      return;
    }
    if (m.second > this.newestSecond) this.newestSecond = m.second;
    let p = this.pending.get(m.second);
    if (p === undefined) {
      p = { firstArrivalMs: now, parts: [] };
      this.pending.set(m.second, p);
    }
    // a redelivered window of a second still waiting replaces nothing: the first copy counts
    if (p.parts.some((x) => x.node === n)) {
      ack();
      return;
    }
    p.parts.push({ node: n, rows: summaryRows(m), m: { ...m, rows: undefined }, ack });
  }

  private node(m: SummaryMessage, now: number): NodeSeen {
    const key = `${m.site}/${m.node}`;
    let n = this.nodes.get(key);
    if (n === undefined) {
      n = { site: m.site, node: m.node, role: m.role, index: this.byIndex.length, lastArrivalMs: now, lastSecond: m.second, summaries: 0, silent: false, merged: new Set() };
      this.nodes.set(key, n);
      this.byIndex.push(n);
    }
    n.lastArrivalMs = now;
    if (m.second > n.lastSecond) n.lastSecond = m.second;
    n.summaries++;
    if (n.awaited === true) {
      n.awaited = false;
      this.awaitedNodes--;
    }
    if (n.silent) {
      n.silent = false;
      this.onLiveness?.(n, false);
    }
    return n;
  }

  /** Is second s ready to be decided (every live sensor past it, or waited long enough)? */
  private ready(s: number, p: Pending, now: number): boolean {
    // a second well behind the newest one heard is a backlog being caught up (after a NATS
    // outage, a sensor resending its spool): the sensors' backlogs arrive one after the other, as
    // fast as the machines allow, so such a second waits longer for them than a live one
    // — and so does every second just after the correlator's own link came back: all sensors are
    // resending their spools then, each when its client has reconnected
    const catchingUp = s < this.newestSecond - CATCH_UP_S || now - this.busBackMs < CATCH_UP_HOLD_MS;
    const hold = catchingUp ? Math.max(this.holdMs, CATCH_UP_HOLD_MS) : this.holdMs;
    // back from an outage: every sensor heard before it resends its spool when its own client is back
    if (this.awaitedNodes > 0 && now - this.busBackMs < RETURN_WAIT_MS) return false;
    // time the correlator could not hear anything does not count as waiting
    if (now - Math.max(p.firstArrivalMs, this.busBackMs) >= hold) return true;
    // just started: sensors not heard from yet cannot be waited for by name, so wait the hold
    if (now - this.firstMs < this.holdMs) return false;
    // a silent sensor still holds seconds back (by the hold at most): after a NATS outage every
    // sensor is silent, and their backlogs arrive one after the other — the second waits for all
    for (const n of this.byIndex) {
      if (n.role !== 'sensor' || now - n.lastArrivalMs > FORGET_MS) continue;
      if (n.lastSecond < s) return false;
    }
    return true;
  }

  /**
   * Decide the seconds that are ready, oldest first; returns what each produced. Call it often
   * (a few times a second) and after each batch of summaries. `flush`: decide everything waiting.
   */
  tick(flush = false): DecidedSecond[] {
    const now = this.o.now();
    for (const n of this.byIndex) {
      if (!this.busUp) break;
      if (!n.silent && now - n.lastArrivalMs > this.staleMs) {
        n.silent = true;
        this.onLiveness?.(n, true);
      }
    }
    const out: DecidedSecond[] = [];
    // cut off from the bus, the correlator cannot hear the windows the seconds wait for (the
    // sensors are spooling them): nothing is decided until it hears again
    if (!flush && !this.busUp) return out;
    const seconds = [...this.pending.keys()].sort((a, b) => a - b);
    for (const s of seconds) {
      const p = this.pending.get(s) as Pending;
      if (!flush && !this.ready(s, p, now)) break;
      this.pending.delete(s);
      out.push(this.decide(s, p));
    }
    return out;
  }

  private decide(s: number, p: Pending): DecidedSecond {
    const events: AlertEvent[] = [];
    const summary: SecondSummary = { second: s, packets: 0, bytes: 0, requests: 0, attacks: 0, byProtocol: {}, byVector: {}, byVictim: {}, trafficByVector: {} };
    for (const part of p.parts) {
      part.node.merged.add(s);
      part.node.merged.delete(s - MERGED_KEPT_S);
      this.totalPackets += part.m.packets;
      summary.packets += part.m.packets;
      summary.bytes += part.m.bytes;
      summary.requests += part.m.requests;
      for (const [k, v] of Object.entries(part.m.by_protocol)) summary.byProtocol[k] = (summary.byProtocol[k] ?? 0) + v;
      if (part.rows === null) continue;
      try {
        this.det.mergeWindow(s, part.rows, part.node.index);
      } catch {
        // bytes that do not decode change nothing (mergeWindow checks them first): that window is lost, counted
        this.counts.malformed++;
      }
    }
    this.lastDecided = s;
    this.counts.seconds++;
    // closing the window decides it; the detector's onWindow is not needed: tracks are read here
    this.det.advance(s + 1);
    for (const tr of this.det.openTracks()) {
      this.observe(tr, false, events);
      summary.byVector[tr.vector] = (summary.byVector[tr.vector] ?? 0) + 1;
      summary.byVictim[tr.key] = (summary.byVictim[tr.key] ?? 0) + 1;
      this.share(summary, tr);
    }
    const ended = this.det.endedTracks;
    for (; this.endedSeen < ended.length; this.endedSeen++) {
      const tr = ended[this.endedSeen] as Track;
      this.observe(tr, true, events);
      this.share(summary, tr);
      this.counted.delete(tr.id);
    }
    summary.attacks = this.book.size;
    this.counts.events += events.length;
    return { second: s, summary, events, acks: p.parts.map((x) => x.ack) };
  }

  /** The attack's traffic in this second: what its counters grew by since the last one (they add up over its life). */
  private share(summary: SecondSummary, tr: Track): void {
    const was = this.counted.get(tr.id) ?? { packets: 0, bytes: 0 };
    if (tr.windowPackets > was.packets) addVectorTraffic(summary.trafficByVector, tr.vector, tr.windowPackets - was.packets, tr.windowBytes - was.bytes, 0);
    this.counted.set(tr.id, { packets: tr.windowPackets, bytes: tr.windowBytes });
  }

  private observe(tr: Track, ended: boolean, into: AlertEvent[]): void {
    const a = this.withShares(liveAttack(tr, this.det, this.totalPackets), tr);
    const e = this.book.observe(a, tr.baseRate, ended);
    if (e !== null) into.push(e);
  }

  /** The attack's evidence names each sensor's share of its packets. */
  private withShares(a: DetectedAttack, tr: Track): DetectedAttack {
    const shares = this.det.sensorShares(tr);
    let total = 0;
    for (const x of shares) total += x.packets;
    if (total <= 0) return a;
    const sensors = shares
      .filter((x) => x.packets > 0)
      .map((x) => {
        const n = this.byIndex[x.sensor];
        return { sensor: n === undefined ? `#${x.sensor}` : n.node, site: n?.site ?? '', packets: x.packets, share: Math.round((x.packets / total) * 1000) / 1000 };
      })
      .sort((x, y) => y.packets - x.packets);
    return { ...a, evidence: { ...a.evidence, sensors } };
  }

  /** End of the stream (tests, a drained replay): decide what waits, and end every open attack. */
  finish(): DecidedSecond[] {
    const out = this.tick(true);
    const events: AlertEvent[] = [];
    this.det.finish();
    const ended = this.det.endedTracks;
    for (; this.endedSeen < ended.length; this.endedSeen++) this.observe(ended[this.endedSeen] as Track, true, events);
    if (events.length > 0) {
      const summary: SecondSummary = { second: this.lastDecided, packets: 0, bytes: 0, requests: 0, attacks: 0, byProtocol: {}, byVector: {}, byVictim: {}, trafficByVector: {} };
      out.push({ second: this.lastDecided, summary, events, acks: [] });
    }
    return out;
  }

  /**
   * The correlator's own link to the bus: while it is down nobody can be heard, so nobody is
   * judged silent and no second is decided; when it is back every node gets the full staleMs to
   * be heard again, and every waiting second the catch-up hold.
   */
  busLink(up: boolean): void {
    if (up && !this.busUp) {
      const now = this.o.now();
      this.busBackMs = now;
      this.awaitedNodes = 0;
      for (const n of this.byIndex) {
        // sensors that were live before (not forgotten) are waited for until they are heard again
        n.awaited = n.role === 'sensor' && now - n.lastArrivalMs <= FORGET_MS;
        if (n.awaited) this.awaitedNodes++;
        n.lastArrivalMs = Math.max(n.lastArrivalMs, now);
      }
    }
    this.busUp = up;
  }

  /** Alerts this correlator left open in the store before a restart: carried on if their attack is seen again. */
  resume(alerts: readonly AlertState[]): void {
    this.book.resume(alerts);
  }

  /** End events of resumed alerts whose attack was not seen again within `afterMs`. */
  expireResumed(afterMs: number): AlertEvent[] {
    return this.book.expireResumed(afterMs);
  }

  /** Open alerts now. */
  get openAlerts(): number {
    return this.book.size;
  }
}
