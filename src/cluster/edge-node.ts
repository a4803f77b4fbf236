/**
 * An edge proxy as a node of the multi-node mode (`palisade edge --cluster nats://…`):
 *
 *   in:  the decisions in force from the store (decision-store.ts, Redis) at start, then every
 *        decision on `palisade.*.*.decision` (core NATS push: no consumer, no ack, lowest latency)
 *        whose `from.role` is `correlator` — an edge's own and other edges' are not applied, so two
 *        edges never echo each other's rules. Applied to the gate's runtime rules (decisions.ts);
 *        bad messages counted and skipped. Every correlator's decision applies, whatever its site
 *        (a correlator that decides for one site only says so in its rules). The store is read again every `resyncMs` (default
 *        30 s): an add missed while NATS was away is caught up (removes missed meanwhile are
 *        covered by the entries' expiry).
 *   out: once a second a summary on `palisade.<site>.<node>.summary` (msgId `<node>:summary:<second>`:
 *        a resend after an outage is dropped by JetStream) with the second's counts; and each
 *        install, update and release of live L7 protection as Decision messages with
 *        `from.role: 'edge'` on `palisade.<site>.<node>.decision` (msgId `<node>:live:<start>:<seq>:<k>`),
 *        so the correlator sees what the edges do.
 *
 * With `--workers N` the primary process runs this (one NATS connection, one spool, one node
 * name) with `deliver` in place of `runtime`: every decision is handed to the workers over IPC and
 * each worker applies it with its own DecisionApplier (see cli/commands/edge.ts).
 */
import type { EdgeCounterOptions } from '../config/edge.js';
import type { Outcome } from '../proxy/gate.js';
import type { LiveDecision, LiveRuleContent } from '../proxy/live/decisions.js';
import type { RuntimeRules } from '../proxy/live/runtime-rules.js';
import type { EdgeStack } from '../proxy/stack.js';
import type { EdgeStats } from '../proxy/stats.js';
import { Bus, type BusOptions } from './bus.js';
import { DECISIONS_KEY, DecisionStore } from './decision-store.js';
import { type ApplyResult, type Decision, DecisionApplier, DecisionError, type DecisionSpec, decisionExpiry, decisionRuleId, parseDecision } from './decisions.js';
import { busMetrics } from './metrics.js';
import { subject } from './subjects.js';

/** What the node needs of the bus (cluster/bus.ts's Bus has it). */
export interface EdgeBus {
  publish(subject: string, msgId: string, data: unknown): void;
  subscribe(filter: string, handler: (m: { subject: string; node: string; msgId: string; data: unknown }) => void): () => void;
}

/** Counts since the process started (cumulative); the node publishes each second's difference. */
export interface EdgeSecondStats {
  requests: number;
  blocked: number;
  challenged: number;
  rate_limited: number;
  waf: number;
  passed: number;
  origin_errors: number;
}

export function zeroStats(): EdgeSecondStats {
  return { requests: 0, blocked: 0, challenged: 0, rate_limited: 0, waf: 0, passed: 0, origin_errors: 0 };
}

/** Adds `b` into `a` (workers' counts summed by the primary). */
export function addStats(a: EdgeSecondStats, b: EdgeSecondStats): EdgeSecondStats {
  for (const k of Object.keys(a) as Array<keyof EdgeSecondStats>) a[k] += b[k] ?? 0;
  return a;
}

/** Counts finished exchanges (hook `observe` on EdgeStack.follow: it survives config reloads). */
export class EdgeCounts {
  readonly totals = zeroStats();
  readonly observe = (_req: unknown, o: Outcome): void => {
    const t = this.totals;
    t.requests++;
    switch (o.mitigated) {
      case 'block':
        t.blocked++;
        break;
      case 'challenge':
        t.challenged++;
        break;
      case 'rate_limit':
        t.rate_limited++;
        break;
      case 'waf':
        t.waf++;
        break;
      default:
        if (o.by === 'origin') t.passed++;
    }
  };
}

/** The summary an edge publishes each second (summary-message.ts's parseSummary reads it as role edge). */
export interface EdgeSummary extends EdgeSecondStats {
  v: 1;
  role: 'edge';
  site: string;
  node: string;
  /** The second counted (epoch seconds) and when it was sent (ms). */
  second: number;
  timeMs: number;
  /** Runtime rules and list entries in force at the end of the second. */
  runtime_rules: number;
}

export interface EdgeNodeOptions {
  bus: EdgeBus;
  site: string;
  node: string;
  /** The gate's runtime rules (a function: the gate of the moment, across config reloads). */
  runtime?: RuntimeRules<unknown> | (() => RuntimeRules<unknown>);
  /** Instead of `runtime`: hand each valid correlator decision on (the primary of --workers). */
  deliver?: (d: Decision) => void;
  /** How many runtime entries are in force (summaries); default runtime.size. */
  ruleCount?: () => number;
  store?: DecisionStore | null;
  stats: () => EdgeSecondStats;
  now?: () => number;
  log?: (line: string) => void;
  /** Read the store again this often (ms; 0: only at start). Default 30 000. */
  resyncMs?: number;
}

/** What the node did, for /metrics and tests. */
export interface EdgeNodeStats {
  received: number;
  /** Decisions of other edges and of sensors, not applied (no loops). */
  ignored: number;
  invalid: number;
  delivered: number;
  loaded: number;
  storeErrors: number;
  summaries: number;
  livePublished: number;
}

export interface EdgeNode {
  readonly stats: EdgeNodeStats;
  /** The applier (absent with `deliver`). */
  readonly applier: DecisionApplier | null;
  /** How many decisions the start-up load applied (or handed on); -1 when the store failed. */
  readonly loaded: number;
  /** Publish one of live L7 protection's decisions (hook LiveL7.onDecision); `expiries`: its entries' (default: read from `runtime`). */
  publishLive(d: LiveDecision, expiries?: Record<string, number | null>): void;
  /** Read the store now and apply what is in force. */
  resync(): Promise<number>;
  stop(): Promise<void>;
}

const SUMMARY_FIELDS: ReadonlyArray<keyof EdgeSecondStats> = ['requests', 'blocked', 'challenged', 'rate_limited', 'waf', 'passed', 'origin_errors'];

/** Start the edge's side of the cluster: load, subscribe, publish summaries. */
export async function startEdgeNode(o: EdgeNodeOptions): Promise<EdgeNode> {
  const now = o.now ?? Date.now;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if ((o.runtime === undefined) === (o.deliver === undefined)) throw new Error('startEdgeNode: give runtime or deliver, one of them');
  const runtime = o.runtime;
  const applier = runtime !== undefined ? new DecisionApplier(runtime, now) : null;
  const stats: EdgeNodeStats = { received: 0, ignored: 0, invalid: 0, delivered: 0, loaded: 0, storeErrors: 0, summaries: 0, livePublished: 0 };
  const ruleCount = o.ruleCount ?? (() => (runtime === undefined ? 0 : (typeof runtime === 'function' ? runtime() : runtime).size));
  const summarySubject = subject(o.site, o.node, 'summary');
  const decisionSubject = subject(o.site, o.node, 'decision');
  const startedMs = now();

  const handle = (d: Decision, via: string): ApplyResult | null => {
    if (o.deliver !== undefined) {
      stats.delivered++;
      o.deliver(d);
      return null;
    }
    const r = (applier as DecisionApplier).apply(d);
    if (r.status === 'applied' || r.status === 'refused') log(`edge: cluster decision (${via}) ${r.status}: ${r.message}`);
    return r;
  };

  // Subscribe first, then load: a decision published in between is not missed (applying twice changes nothing).
  const unsubscribe = o.bus.subscribe('palisade.*.*.decision', (m) => {
    stats.received++;
    // An edge's own live decisions and other edges' (and sensors'): seen by the correlator, not applied here.
    const role = (m.data as { from?: { role?: unknown } } | null)?.from?.role;
    if (role === 'edge' || role === 'sensor') {
      stats.ignored++;
      return;
    }
    let d: Decision;
    try {
      d = parseDecision(m.data);
    } catch (e) {
      stats.invalid++;
      applier?.invalid();
      if (stats.invalid <= 10 || stats.invalid % 1000 === 0) log(`edge: ${m.subject} ${m.msgId}: ${e instanceof DecisionError ? e.message : String(e)}; skipped`);
      return;
    }
    if (d.from.role !== 'correlator') {
      stats.ignored++;
      return;
    }
    handle(d, 'bus');
  });

  // A store that fails is said once (and once when it answers again), not at every resync.
  let storeDown = false;
  const resync = async (): Promise<number> => {
    if (!o.store) return 0;
    let list: Decision[];
    try {
      list = await o.store.list(now());
    } catch (e) {
      stats.storeErrors++;
      if (!storeDown) log(`edge: ${(e as Error).message}; the rules in force stay as they are, decisions on the bus still apply`);
      storeDown = true;
      return -1;
    }
    if (storeDown) log('edge: the decision store answers again');
    storeDown = false;
    let n = 0;
    for (const d of list) {
      if (d.from.role !== 'correlator') continue;
      const r = handle(d, 'store');
      if (r === null || r.status === 'applied') n++;
    }
    return n;
  };

  const loaded = await resync();
  if (loaded > 0) stats.loaded = loaded;

  const resyncMs = o.resyncMs ?? 30_000;
  const resyncTimer = o.store && resyncMs > 0 ? setInterval(() => void resync(), resyncMs) : null;
  resyncTimer?.unref();

  // Summaries: aligned to the second, each one the difference of the cumulative counts.
  let last = { ...o.stats() };
  let lastSecond = Math.floor(now() / 1000);
  const publishSummary = (): void => {
    const t = now();
    const second = Math.floor(t / 1000) - 1;
    if (second < lastSecond) return;
    const cur = o.stats();
    const s: EdgeSummary = { v: 1, role: 'edge', site: o.site, node: o.node, second, timeMs: t, ...zeroStats(), runtime_rules: ruleCount() };
    for (const k of SUMMARY_FIELDS) s[k] = Math.max(0, (cur[k] ?? 0) - (last[k] ?? 0));
    last = { ...cur };
    lastSecond = second + 1;
    stats.summaries++;
    o.bus.publish(summarySubject, `${o.node}:summary:${second}`, s);
  };
  let interval: NodeJS.Timeout | null = null;
  const first = setTimeout(
    () => {
      publishSummary();
      interval = setInterval(publishSummary, 1000);
      interval.unref();
    },
    1000 - (now() % 1000) + 5,
  );
  first.unref();

  const publishLive = (d: LiveDecision, expiries?: Record<string, number | null>): void => {
    if (d.kind !== 'install' && d.kind !== 'update' && d.kind !== 'release') return;
    const from = { site: o.site, node: o.node, role: 'edge' as const };
    const live = { seq: d.seq, kind: d.kind, mode: d.mode, attack: d.attack };
    const time = d.time;
    d.rules.forEach((c, k) => {
      const id = `${o.node}-live-${startedMs}-${d.seq}-${k}`;
      const msg: Decision & { live: typeof live } =
        d.kind === 'release'
          ? { v: 1, id, time, from, op: 'remove', ruleId: c.id, reason: d.reason, alert_id: d.attack.id, live }
          : { v: 1, id, time, from, op: 'add', spec: specOf(c, expiries !== undefined ? (expiries[c.id] ?? null) : expiryOf(c.id)), reason: d.reason, alert_id: d.attack.id, live };
      stats.livePublished++;
      o.bus.publish(decisionSubject, `${o.node}:live:${startedMs}:${d.seq}:${k}`, msg);
    });
  };
  const expiryOf = (id: string): number | null => {
    if (runtime === undefined) return null;
    return (typeof runtime === 'function' ? runtime() : runtime).get(id)?.expiresMs ?? null;
  };

  return {
    stats,
    applier,
    loaded,
    publishLive,
    resync,
    async stop() {
      clearTimeout(first);
      if (interval !== null) clearInterval(interval);
      if (resyncTimer !== null) clearInterval(resyncTimer);
      unsubscribe();
    },
  };
}

/** A live rule as a decision's spec (the shape of runtime-rules.ts, without origin). */
function specOf(c: LiveRuleContent, expiresMs: number | null): DecisionSpec {
  if (c.type === 'list') return { type: 'list', id: c.id, entries: c.entries ?? [], expiresMs };
  if (c.type === 'custom_rule') return { type: 'custom_rule', id: c.id, expression: c.expression ?? '', action: 'block', expiresMs };
  const r = c.ratelimit;
  return {
    type: 'rate_limit',
    id: c.id,
    expression: c.expression ?? '',
    action: c.action === 'challenge' ? 'challenge' : 'block',
    characteristics: r?.characteristics ?? [],
    period: r?.period ?? 60,
    requestsPerPeriod: r?.requests_per_period ?? 1,
    mitigationTimeout: r?.mitigation_timeout ?? 0,
    countingExpression: r?.counting_expression ?? null,
    expiresMs,
  };
}

/** The node's counters as Prometheus text (appended to the edge's /metrics next to the bus's). */
export function edgeNodeMetrics(n: EdgeNode, labels: { site: string; node: string }): string {
  const l = `site="${labels.site}",node="${labels.node}"`;
  const out: string[] = [];
  const counter = (name: string, help: string, rows: Array<[string, number]>): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const [extra, v] of rows) out.push(`${name}{${l}${extra}} ${v}`);
  };
  const s = n.stats;
  counter('palisade_cluster_edge_decisions_received_total', 'Decision messages heard on the bus.', [['', s.received]]);
  const a = n.applier?.stats;
  counter(
    'palisade_cluster_edge_decisions_total',
    'Correlator decisions by what applying them did (applied, duplicate, expired, stale, refused, absent), and messages ignored (other edges) or invalid.',
    [
      ...(a ? (Object.entries(a).filter(([k]) => k !== 'invalid') as Array<[string, number]>).map(([k, v]): [string, number] => [`,status="${k}"`, v]) : []),
      [',status="ignored"', s.ignored],
      [',status="invalid"', s.invalid],
    ],
  );
  counter('palisade_cluster_edge_store_errors_total', 'Reads of the decision store (Redis) that failed.', [['', s.storeErrors]]);
  counter('palisade_cluster_edge_summaries_total', 'Per-second summaries published.', [['', s.summaries]]);
  counter('palisade_cluster_edge_live_decisions_published_total', "Live L7 protection's decisions published for the correlator.", [['', s.livePublished]]);
  return `${out.join('\n')}\n`;
}

// ---- wiring into `palisade edge` ----

/** Where the decisions in force are read from (null: nowhere, the bus only). */
export interface StoreSettings {
  url: string;
  key: string;
}

/**
 * The decision store of an edge: the Redis its counters use (`--redis`, or edge.counters with
 * store redis), under `palisade:decisions` — or `<prefix>decisions` when edge.counters.prefix is not
 * the default, so clusters that share one Redis by prefix keep their decisions apart too. Null
 * with counters in memory: decisions then come from the bus alone (none loaded at start).
 */
export function storeSettingsOf(counters: EdgeCounterOptions): StoreSettings | null {
  if (counters.store !== 'redis') return null;
  return { url: counters.redisUrl, key: counters.prefix === 'palisade:rl:' ? DECISIONS_KEY : `${counters.prefix}decisions` };
}

export interface JoinOptions {
  bus: BusOptions & { site: string; node: string };
  store: StoreSettings | null;
  log: (line: string) => void;
}

export interface ClusterSide {
  node: EdgeNode;
  bus: Bus;
  /** Prometheus text: the bus's counters and the node's. */
  metrics(): string;
  stop(): Promise<void>;
}

/** The transport's origin errors (502/504 answers), from the edge's counters. */
export const originErrorsOf = (s: EdgeStats | null): number => (s === null ? 0 : s.originErrors + s.originTimeouts);

/**
 * One edge process in the cluster: connect, load the store's decisions into the stack's runtime
 * rules (the gate of the moment, across reloads), follow the bus, count the finished exchanges
 * for the summaries, publish live protection's decisions.
 */
export async function joinCluster(o: JoinOptions, stack: EdgeStack, transport: () => EdgeStats | null): Promise<ClusterSide> {
  const bus = await Bus.connect(o.bus);
  const store = o.store === null ? null : new DecisionStore({ url: o.store.url, key: o.store.key, log: o.log });
  const counts = new EdgeCounts();
  const unfollow = stack.follow(counts.observe);
  let node: EdgeNode;
  try {
    node = await startEdgeNode({
      bus,
      site: o.bus.site,
      node: o.bus.node,
      runtime: () => stack.edgeGate.runtime,
      store,
      stats: () => ({ ...counts.totals, origin_errors: originErrorsOf(transport()) }),
      log: o.log,
    });
  } catch (e) {
    unfollow();
    await store?.close();
    await bus.close();
    throw e;
  }
  stack.live?.onDecision(node.publishLive);
  const labels = { role: 'edge', site: o.bus.site, node: o.bus.node };
  return {
    node,
    bus,
    metrics: () => busMetrics(bus.stats(), labels) + edgeNodeMetrics(node, labels),
    async stop() {
      stack.live?.onDecision(null);
      unfollow();
      await node.stop();
      await bus.close();
      await store?.close();
    },
  };
}

/** Messages between the primary and the workers of `--workers N` (node:cluster IPC). */
type ClusterMsg =
  | { type: 'palisade-cluster-hello' }
  | { type: 'palisade-cluster-decisions'; decisions: Decision[] }
  | { type: 'palisade-cluster-stats'; totals: EdgeSecondStats; rules: number }
  | { type: 'palisade-cluster-live'; decision: LiveDecision; expiries: Record<string, number | null> };

const isClusterMsg = (m: unknown): m is ClusterMsg =>
  typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('palisade-cluster-');

/**
 * The primary of `--workers N` in the cluster: the one NATS connection (one node name, one spool)
 * and the store. Each correlator decision goes to every worker at once over IPC (each applies it
 * to its own runtime rules); a worker that starts (or is restarted) says hello and gets the
 * decisions in force. The summary adds up the workers' counts (a dead worker's stay counted);
 * live protection's decisions come from the workers to be published here.
 */
export async function joinClusterAsPrimary(o: JoinOptions): Promise<ClusterSide> {
  const cluster = (await import('node:cluster')).default;
  const bus = await Bus.connect(o.bus);
  const store = o.store === null ? null : new DecisionStore({ url: o.store.url, key: o.store.key, log: o.log });
  /** The decisions in force, by runtime entry id: what a new worker is sent. */
  const inForce = new Map<string, Decision>();
  const totals = new Map<number, { totals: EdgeSecondStats; rules: number }>();
  const retired = zeroStats();
  const send = (w: import('node:cluster').Worker, m: ClusterMsg): void => {
    if (w.isConnected()) w.send(m);
  };
  const deliver = (d: Decision): void => {
    const id = decisionRuleId(d);
    const held = inForce.get(id);
    if (held === undefined || Date.parse(held.time) <= Date.parse(d.time)) {
      if (d.op === 'add') inForce.set(id, d);
      else inForce.delete(id);
    }
    for (const w of Object.values(cluster.workers ?? {})) if (w) send(w, { type: 'palisade-cluster-decisions', decisions: [d] });
  };
  let node: EdgeNode | null = null;
  const onMessage = (w: import('node:cluster').Worker, m: unknown): void => {
    if (!isClusterMsg(m)) return;
    if (m.type === 'palisade-cluster-hello') {
      const now = Date.now();
      for (const [id, d] of inForce) {
        const x = decisionExpiry(d);
        if (x !== null && x <= now) inForce.delete(id);
      }
      send(w, { type: 'palisade-cluster-decisions', decisions: [...inForce.values()] });
    } else if (m.type === 'palisade-cluster-stats') totals.set(w.id, { totals: m.totals, rules: m.rules });
    else if (m.type === 'palisade-cluster-live') node?.publishLive(m.decision, m.expiries);
  };
  const onExit = (w: import('node:cluster').Worker): void => {
    const t = totals.get(w.id);
    if (t !== undefined) addStats(retired, t.totals);
    totals.delete(w.id);
  };
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  const sum = (): EdgeSecondStats => {
    const s = addStats(zeroStats(), retired);
    for (const t of totals.values()) addStats(s, t.totals);
    return s;
  };
  try {
    node = await startEdgeNode({
      bus,
      site: o.bus.site,
      node: o.bus.node,
      deliver,
      // Every worker holds the same decisions; the first one's count stands for the node's.
      ruleCount: () => totals.values().next().value?.rules ?? 0,
      store,
      stats: sum,
      log: o.log,
    });
  } catch (e) {
    cluster.off('message', onMessage);
    cluster.off('exit', onExit);
    await store?.close();
    await bus.close();
    throw e;
  }
  const started = node;
  const labels = { role: 'edge', site: o.bus.site, node: o.bus.node };
  return {
    node: started,
    bus,
    metrics: () => busMetrics(bus.stats(), labels) + edgeNodeMetrics(started, labels),
    async stop() {
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      await started.stop();
      await bus.close();
      await store?.close();
    },
  };
}

/**
 * A worker's side of `--workers N` in the cluster: apply what the primary hands over (its own
 * DecisionApplier on its own gate's runtime rules), report its counts each second, hand live
 * protection's decisions to the primary for publishing. Returns the stop function.
 */
export function followPrimary(stack: EdgeStack, transport: () => EdgeStats | null, log: (line: string) => void): () => void {
  const applier = new DecisionApplier(() => stack.edgeGate.runtime);
  const counts = new EdgeCounts();
  const unfollow = stack.follow(counts.observe);
  const send = (m: ClusterMsg): void => {
    process.send?.(m);
  };
  const onMessage = (m: unknown): void => {
    if (!isClusterMsg(m) || m.type !== 'palisade-cluster-decisions') return;
    for (const d of m.decisions) {
      const r = applier.apply(d);
      if (r.status === 'applied' || r.status === 'refused') log(`edge: worker ${process.pid}: cluster decision ${r.status}: ${r.message}`);
    }
  };
  process.on('message', onMessage);
  stack.live?.onDecision((d) => {
    const expiries: Record<string, number | null> = {};
    for (const c of d.rules) expiries[c.id] = stack.edgeGate.runtime.get(c.id)?.expiresMs ?? null;
    send({ type: 'palisade-cluster-live', decision: d, expiries });
  });
  const timer = setInterval(
    () => send({ type: 'palisade-cluster-stats', totals: { ...counts.totals, origin_errors: originErrorsOf(transport()) }, rules: stack.edgeGate.runtime.size }),
    250,
  );
  timer.unref();
  send({ type: 'palisade-cluster-hello' });
  return () => {
    clearInterval(timer);
    process.off('message', onMessage);
    stack.live?.onDecision(null);
    unfollow();
  };
}
