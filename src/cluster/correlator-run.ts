/**
 * The correlator node (`palisade correlate`, `palisade serve --cluster`): a durable JetStream
 * consumer over every node's summaries and alerts → the Correlator (merged detection) → the
 * incident recorder on the shared store (PostgreSQL in a cluster) → decisions back onto the bus.
 *
 * Nothing is acknowledged before it is stored. A summary is acknowledged once the second it
 * belongs to has been decided and that second's alert events are committed; while the store
 * refuses (PostgreSQL down) the events wait in order and are retried every second, so nothing
 * is acknowledged and JetStream keeps everything until the store is back. A correlator killed
 * with -9 resumes from its durable consumer: what it had not acknowledged is handed over again,
 * and the store's alerts, keyed by fingerprint, carry on rather than double.
 *
 * Alerts the sensors raise themselves: L3/4 ones are the merged detection's business (the
 * correlator sees the sum of what they see, so it raises the one alert, with each sensor's
 * share); L7 ones (an edge's or a monitor's HTTP analysis) are stored as they come, one alert per
 * fingerprint however many nodes report it, and their block lists go out as decisions.
 */

import { summaryRow } from '../analyze/summary-writer.js';
import type { DetectionSection } from '../config/detection.js';
import type { Service } from '../config/services.js';
import { PalisadeError } from '../core/errors.js';
import type { AlertEvent } from '../incidents/alerts.js';
import { bookState, IncidentRecorder } from '../incidents/recorder.js';
import type { Store } from '../incidents/store/store.js';
import { L34_VECTORS, type Vector } from '../model/attack.js';
import { Bus, type BusMessage, type BusOptions } from './bus.js';
import { Correlator, type CorrelatorCounts, type DecidedSecond, type NodeSeen } from './correlator.js';
import { DecisionStore, publishDecision } from './decision-store.js';
import { newDecision } from './decisions.js';
import { busMetrics, serveMetrics } from './metrics.js';
import { subject } from './subjects.js';

export interface CorrelatorRunOptions {
  bus: Bus;
  store: Store;
  /** the correlator's node name (alerts' `sensor`, its durable consumer's name) */
  name: string;
  site: string;
  detection: DetectionSection;
  services: readonly Service[];
  now?: () => number;
  log: (line: string) => void;
  holdMs?: number;
  staleMs?: number;
  /** Stop: decide what waits, store it, stop consuming. */
  signal: AbortSignal;
  /** Each alert event once stored (the terminal's line, tests). */
  onStored?: (e: AlertEvent, incident: number) => void;
  /** Each node falling silent or heard again. */
  onLiveness?: (n: NodeSeen, silent: boolean) => void;
  /** The sites whose nodes are correlated (default: every site on the bus). */
  sites?: readonly string[];
  /** Where decisions in force are kept for nodes that start later (Redis); absent: the bus only. */
  decisions?: DecisionStore;
  /** Decisions published for L7 alerts' block lists: how long they hold (default 600 s). */
  decisionTtlS?: number;
}

/** The correlator's counts (correlator.ts), and what its node stored and published. */
export interface CorrelatorRunResult extends CorrelatorCounts {
  stored: number;
  decisions: number;
}

const L34: ReadonlySet<Vector> = new Set(L34_VECTORS);
/** A resumed alert whose attack is not seen again this long after a restart is ended. */
const RESUME_WAIT_MS = 30_000;

/**
 * A node that falls silent is a ticket of its own (high severity: the network is partly unwatched),
 * tagged with the node, whose timeline says when it went and came back; it is resolved when the
 * node is heard again — by this correlator or one restarted since.
 */
async function liveness(store: Store, n: NodeSeen, silent: boolean, actor: string, at: string): Promise<void> {
  const tag = `node:${n.site}/${n.node}`;
  await store.transaction(async (tx) => {
    const open = (await tx.listIncidents({ status: ['new', 'investigating', 'monitoring'] })).filter((i) => i.tags.includes(tag));
    if (silent) {
      if (open.length > 0) return;
      const inc = await tx.createIncident({ title: `${n.role} ${n.site}/${n.node} silent`, severity: 'high', tags: ['liveness', tag], at });
      await tx.appendTimeline(inc.number, {
        at,
        kind: 'node_silent',
        actor,
        text: `nothing heard from ${n.role} ${n.site}/${n.node} since ${new Date(n.lastArrivalMs).toISOString()}`,
        data: { site: n.site, node: n.node, role: n.role },
      });
      return;
    }
    for (const inc of open) {
      await tx.appendTimeline(inc.number, { at, kind: 'node_back', actor, text: `${n.role} ${n.site}/${n.node} heard again`, data: { site: n.site, node: n.node } });
      await tx.updateIncident(inc.number, { status: 'resolved' }, at);
    }
  });
}

export async function runCorrelator(o: CorrelatorRunOptions): Promise<CorrelatorRunResult> {
  const now = o.now ?? Date.now;
  const c = new Correlator({
    name: o.name,
    detection: o.detection,
    services: o.services,
    now,
    ...(o.holdMs !== undefined && { holdMs: o.holdMs }),
    ...(o.staleMs !== undefined && { staleMs: o.staleMs }),
  });
  const recorder = new IncidentRecorder(o.store, { sensor: o.name, now, log: o.log });
  const result: CorrelatorRunResult = { summaries: 0, late: 0, duplicates: 0, malformed: 0, seconds: 0, events: 0, stored: 0, decisions: 0 };
  const decisionSubject = subject(o.site, o.name, 'decision');
  // the store's writes, one at a time and in order; a failure is retried until it succeeds or we stop
  let chain: Promise<void> = Promise.resolve();
  let storeDown = false;
  const stopped = (): boolean => o.signal.aborted;
  const persist = async (what: string, fn: () => Promise<void>): Promise<boolean> => {
    for (;;) {
      try {
        await fn();
        if (storeDown) {
          storeDown = false;
          o.log('store: back; storing what waited');
        }
        return true;
      } catch (e) {
        if (!storeDown) {
          storeDown = true;
          o.log(`store: ${what} failed (${(e as Error).message}); nothing is acknowledged until it works, retrying every second`);
        }
        if (stopped()) return false;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  const record = async (e: AlertEvent): Promise<boolean> =>
    persist('an alert event', async () => {
      const r = await recorder.record(e);
      result.stored++;
      o.onStored?.(e, r.incident);
    });
  const decided = (d: DecidedSecond): void => {
    chain = chain.then(async () => {
      for (const e of d.events) if (!(await record(e))) return;
      const summary = d.summary;
      if (summary !== null && !(await persist('the merged summary', () => o.store.writeSummaries([summaryRow(o.name, summary)])))) return;
      for (const ack of d.acks) ack();
    });
  };
  /** A node's own alert: L7 stored as it is (its block list published), L3/4 acknowledged (merged detection covers it). */
  const nodeAlert = (m: BusMessage): void => {
    const data = m.data as { kind?: string; significant?: boolean; change?: string; alert?: AlertEvent['alert'] } | null;
    const alert = data?.alert;
    if (alert === undefined || typeof alert !== 'object' || typeof alert.vector !== 'string' || (data?.kind !== 'start' && data?.kind !== 'update' && data?.kind !== 'end')) {
      result.malformed++;
      m.ack();
      return;
    }
    if (L34.has(alert.vector as Vector)) {
      m.ack();
      return;
    }
    const e = merged(m, { kind: data.kind, alert, significant: data.significant === true, change: data.change ?? '' });
    chain = chain.then(async () => {
      if (!(await record(e))) return;
      await publishList(e, m.node);
      m.ack();
    });
  };
  /** Per L7 fingerprint: the nodes reporting it now, with their requests (the alert's shares). */
  const reporting = new Map<string, Map<string, { site: string; requests: number }>>();
  /**
   * Several nodes reporting one attack are one alert: the first node's start raises it, the others'
   * starts and ends are updates, and it ends when the last reporting node says it ended; its
   * evidence names each node's share of the requests.
   */
  const merged = (m: BusMessage, e: AlertEvent): AlertEvent => {
    const fp = e.alert.fingerprint;
    let nodes = reporting.get(fp);
    const first = nodes === undefined || nodes.size === 0;
    nodes ??= new Map();
    reporting.set(fp, nodes);
    const had = nodes.has(m.node);
    nodes.set(m.node, { site: m.site, requests: e.alert.attack.requests ?? e.alert.attack.packets });
    let total = 0;
    for (const x of nodes.values()) total += x.requests;
    const sensors = [...nodes].map(([node, x]) => ({ sensor: node, site: x.site, packets: x.requests, share: total > 0 ? Math.round((x.requests / total) * 1000) / 1000 : 0 }));
    const alert = { ...e.alert, attack: { ...e.alert.attack, evidence: { ...e.alert.attack.evidence, sensors } } };
    if (e.kind === 'end') {
      nodes.delete(m.node);
      if (nodes.size > 0) return { kind: 'update', alert, significant: false, change: `${m.node} no longer sees it` };
      reporting.delete(fp);
      return { ...e, alert };
    }
    if (e.kind === 'start' && !first) return { kind: 'update', alert, significant: !had, change: had ? e.change : `also seen by ${m.node}` };
    return { ...e, alert };
  };
  /**
   * An L7 alert's source list for every proxy (the node that found it has it already): only a
   * list the analysis measured and chose (signature kind source_list: it met the coverage and
   * collateral bar), never every address it attributed.
   */
  const publishList = (e: AlertEvent, fromNode: string): Promise<void> | undefined => {
    if (e.kind === 'end') return;
    const sig = e.alert.attack.signature;
    const entries = sig?.kind === 'source_list' ? (sig.list?.addresses ?? []) : [];
    if (entries.length === 0) return;
    const ttl = (o.decisionTtlS ?? 600) * 1000;
    const t = now();
    // one runtime entry per alert (a later list replaces it); each publication its own id (the bus de-duplicates by it)
    const ruleId = `cluster-${e.alert.fingerprint.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 100)}`;
    const d = newDecision(
      { site: o.site, node: o.name, role: 'correlator' },
      'add',
      {
        id: `${ruleId}-${t}`,
        spec: { type: 'list', id: ruleId, entries, expiresMs: t + ttl, description: `${e.alert.vector} on ${e.alert.victim} (found by ${fromNode})` },
        reason: `${e.alert.vector} alert ${e.alert.id} from ${fromNode}`,
        alert_id: e.alert.id,
      },
      t,
    );
    result.decisions++;
    return publishDecision(o.bus, decisionSubject, d, o.decisions ?? null).then((err) => {
      if (err !== null) o.log(`decision ${d.id}: published, but not kept in Redis for nodes that start later: ${err.message}`);
    });
  };
  c.onLiveness = (n, silent) => {
    o.log(silent ? `node ${n.site}/${n.node} (${n.role}) silent: nothing heard for ${Math.round((now() - n.lastArrivalMs) / 1000)} s` : `node ${n.site}/${n.node} heard again`);
    o.onLiveness?.(n, silent);
    chain = chain.then(async () => {
      await persist('a node liveness ticket', () => liveness(o.store, n, silent, o.name, new Date(now()).toISOString()));
    });
  };
  await persist('resuming open incidents', async () => {
    await recorder.resume();
    // a restart (kill -9 included): attacks still going carry on in their alerts, not raised twice
    c.resume((await o.store.listAlerts({ sensor: o.name, state: ['open', 'acknowledged', 'silenced'] })).map(bookState));
  });
  const sites = o.sites === undefined || o.sites.length === 0 ? ['*'] : o.sites;
  const consumer = o.bus.consume(
    `correlator-${o.name}`,
    sites.flatMap((site) => [`palisade.${site}.*.summary`, `palisade.${site}.*.alert`]),
    (m) => {
      if (m.kind === 'alert') return nodeAlert(m);
      try {
        c.ingest(m.data, () => m.ack());
      } catch (e) {
        if (!(e instanceof PalisadeError)) throw e;
        result.malformed++;
        o.log(`${m.subject} #${m.seq}: ${e.message}; skipped`);
        m.ack();
      }
    },
    { manualAck: true, ackWaitMs: 60_000 },
  );
  const timer = setInterval(() => {
    c.busLink(o.bus.stats().connected);
    for (const d of c.tick()) decided(d);
    const gone = c.expireResumed(RESUME_WAIT_MS);
    if (gone.length > 0) decided({ second: 0, summary: null, events: gone, acks: [] });
  }, 200);
  try {
    await new Promise<void>((resolve) => {
      if (o.signal.aborted) resolve();
      else o.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    clearInterval(timer);
    await consumer.stop();
    // what waits is decided only if every sensor had reported it; the rest is handed over again after a restart
    for (const d of c.tick()) decided(d);
    await chain;
  }
  Object.assign(result, { summaries: c.counts.summaries, late: c.counts.late, duplicates: c.counts.duplicates, seconds: c.counts.seconds, events: c.counts.events });
  result.malformed += c.counts.malformed;
  return result;
}

export interface CorrelatorNodeOptions extends Omit<CorrelatorRunOptions, 'bus' | 'decisions' | 'signal' | 'name' | 'site'> {
  /** NATS, with this node's site and name (the correlator's name: alerts' sensor, durable consumer). */
  bus: BusOptions & { site: string; node: string };
  /** Redis for the decisions in force (edges starting later read them); absent: the bus only. */
  redis?: string;
  /** Its hash (default palisade:decisions). */
  decisionsKey?: string;
  /** Serve Prometheus /metrics here. */
  metrics?: string;
}

/**
 * The correlator as a process part (`palisade correlate`, `palisade serve --cluster`): connects the
 * bus, the decision store and the metrics endpoint, runs the correlator until stop(), then closes
 * them in order.
 */
export async function startCorrelator(o: CorrelatorNodeOptions): Promise<{ done: Promise<CorrelatorRunResult>; stop: () => Promise<CorrelatorRunResult> }> {
  const { bus: bo, redis, decisionsKey, metrics: metricsAt, ...rest } = o;
  const bus = await Bus.connect(bo);
  const decisions = redis === undefined ? null : new DecisionStore({ url: redis, log: o.log, ...(decisionsKey !== undefined && { key: decisionsKey }) });
  const metrics = metricsAt === undefined ? null : await serveMetrics(metricsAt, () => busMetrics(bus.stats(), { role: 'correlator', site: bo.site, node: bo.node }));
  const abort = new AbortController();
  const done = runCorrelator({ ...rest, bus, name: bo.node, site: bo.site, signal: abort.signal, ...(decisions !== null && { decisions }) });
  const closed = done.finally(async () => {
    await metrics?.close();
    await decisions?.close();
    await bus.close();
  });
  return {
    done: closed,
    stop: async () => {
      abort.abort();
      return closed;
    },
  };
}
