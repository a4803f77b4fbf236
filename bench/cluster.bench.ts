/**
 * The multi-node mode (issue 19), in one run on a private nats-server (JetStream, its own port
 * and store directory), the machine's PostgreSQL (a schema of the run's own, dropped after) and
 * the machine's Redis (keys under a prefix of the run's own, deleted after):
 *
 *  1. Summaries/s through NATS to PostgreSQL: SENSORS synthetic sensors (a Bus and a SensorNode
 *     each, in a publisher process of their own: cluster-publish.ts) publish SECONDS per-second
 *     summaries each, with the window rows a real Detector made of the 'bench' capture, as fast
 *     as the buses take them; the correlator (runCorrelator, in this process) merges, decides and
 *     stores every second in PostgreSQL and acknowledges each summary once its second is stored.
 *     Timed from `go` to the durable consumer having nothing pending or unacknowledged.
 *  2. Alert events/s through NATS to PostgreSQL: L7_NODES nodes publish L7_ALERTS http_flood
 *     alerts each (start, L7_UPDATES quiet updates, end: what SensorNode.onEvent sends), which the
 *     correlator stores as they come (one transaction each: alert, incident, timeline). Timed from
 *     `go` to the last event stored (the correlator's onStored).
 *  3. Detection → enforcement: an L7 alert whose signature is a source list of one loopback
 *     address (127.0.1.x) is published as a sensor would; the correlator stores it and publishes
 *     the list decision (Redis first, then the bus); two real `palisade edge` processes (--cluster,
 *     --redis) in front of a tiny origin apply it; each edge is polled every POLL_MS from that
 *     address until it answers 403 with `palisade-mitigated: block`. TRIALS trials, each with a
 *     fresh address; the bus-only part (alert published → the decision seen by a core
 *     subscriber) and publish → stored are reported alongside.
 *
 * Sizes (environment): PALISADE_BENCH_CLUSTER_SENSORS (50), _SECONDS (120), _L7_NODES (10),
 * _L7_ALERTS (10 per node), _TRIALS (100); PALISADE_BENCH_PG names another PostgreSQL.
 *
 * The measured parts hold /tmp/palisade-bench.lock (flock), so benches of several sessions do not
 * time each other. Every part is bounded in count and in time (PART_LIMIT_MS); the publisher, the
 * edges and nats-server are stopped by PID. The issue sets no target: the figures are measured
 * and said, no PASS/FAIL.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Agent as HttpAgent, get as httpGet, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import type { ClientConfig, Client as PgClient } from 'pg';
import { Bus } from '../src/cluster/bus.js';
import { runCorrelator } from '../src/cluster/correlator-run.js';
import { DecisionStore } from '../src/cluster/decision-store.js';
import { SensorNode } from '../src/cluster/sensor-node.js';
import { STREAM } from '../src/cluster/subjects.js';
import { sensorSummary } from '../src/cluster/summary-message.js';
import { Detector } from '../src/detect/l34/detector.js';
import { AlertBook } from '../src/incidents/alerts.js';
import { openStore } from '../src/incidents/store/open.js';
import type { Store } from '../src/incidents/store/store.js';
import { ServiceMap } from '../src/incidents/triage.js';
import { readCapture } from '../src/sources/capture/capture.js';
import { haveNatsServer, NATS_SERVER, NatsServer } from '../test/helpers/nats-server.js';
import type { AlertsJob, PartReport, SummariesJob, WindowsFile } from './cluster-publish.js';
import { benchAddress, l7Attack } from './cluster-publish.js';
import { benchCapture, CLI, fmtRate, locked, OUT, ROOT } from './common.js';

const require = createRequire(import.meta.url);
const env = (k: string, d: number) => Math.max(1, Math.floor(Number(process.env[k] ?? d)) || d);

const PG_URL = process.env.PALISADE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = 'redis://127.0.0.1:6379';
/** The capture the sensors' windows come from: 'bench' (benign mix, a SYN flood, a DNS amplification), 60 s. */
const CAPTURE_PACKETS = 300_000;
const SENSORS = env('PALISADE_BENCH_CLUSTER_SENSORS', 50);
const SECONDS = env('PALISADE_BENCH_CLUSTER_SECONDS', 120);
const WARM_SECONDS = 3;
/**
 * How long a second waits for sensors that have not reported it. Every sensor reports every
 * second, in order, so a second is decided as soon as all have reported it (the correlator's
 * 200 ms tick); the hold only delays the first second after start, which is in the warm-up.
 */
const HOLD_MS = 1000;
/**
 * The catch-up correlator's hold: as the live one's. The stream holds the sensors' seconds
 * interleaved as their 50 connections delivered them (up to 256 in flight each), so a second's
 * windows can be spread over several hundred messages; a shorter hold decides some seconds before
 * their last windows arrive (measured at 250 ms: 88 of 6,166 late). The first second waits the
 * hold; the consumer goes on taking summaries in meanwhile.
 */
const DRAIN_HOLD_MS = 1000;
/**
 * A node silent this long is reported, and in this version a ticket is written for it: the
 * sensors of part 1 stop when it ends, and 50 tickets written during the later parts would be
 * timed with them. Longer than the whole bench.
 */
const STALE_MS = 600_000;
const L7_NODES = env('PALISADE_BENCH_CLUSTER_L7_NODES', 10);
const L7_ALERTS = env('PALISADE_BENCH_CLUSTER_L7_ALERTS', 10);
const L7_UPDATES = 8;
/** 100 trials: the p99 is the second largest, not the maximum. */
const TRIALS = Math.min(250, env('PALISADE_BENCH_CLUSTER_TRIALS', 100));
const POLL_MS = 5;
/** Bound on each part's wait (after which it reports what it got). */
const PART_LIMIT_MS = 60_000;
const CORRELATOR = 'core';
const SITE = 'bench';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM by PID, SIGKILL after `ms`; resolves once it has exited. */
function stopChild(p: ChildProcess, ms = 10_000): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

// ---- inputs ----

/** The capture's seconds as a sensor reports them: the detector's window rows and the second's counts. */
async function captureWindows(file: string): Promise<WindowsFile> {
  const det = new Detector({});
  const rows = new Map<number, Uint8Array>();
  const counts = new Map<number, { packets: number; bytes: number; byProtocol: Record<string, number> }>();
  det.onWindowRows = (second, r) => rows.set(second, r.slice());
  await readCapture(file, (v) => {
    let c = counts.get(v.tsSec);
    if (c === undefined) {
      c = { packets: 0, bytes: 0, byProtocol: {} };
      counts.set(v.tsSec, c);
    }
    c.packets++;
    c.bytes += v.wirelen;
    const p = v.ipProto === 6 ? 'tcp' : v.ipProto === 17 ? 'udp' : v.ipProto === 1 || v.ipProto === 58 ? 'icmp' : 'other';
    c.byProtocol[p] = (c.byProtocol[p] ?? 0) + 1;
    det.add(v);
  });
  det.finish();
  const seconds = [...rows.keys()].sort((a, b) => a - b);
  return {
    base: seconds[0] ?? 0,
    seconds: seconds.map((s) => ({ rows: Buffer.from(rows.get(s) as Uint8Array).toString('base64'), ...(counts.get(s) ?? { packets: 0, bytes: 0, byProtocol: {} }) })),
  };
}

/** Rows per window (the u32 at offset 24 of its header) and the JSON size of a summary carrying it. */
function windowShape(w: WindowsFile): { rows: number; messageBytes: number } {
  let rows = 0;
  let bytes = 0;
  for (const s of w.seconds) {
    const b = Buffer.from(s.rows, 'base64');
    rows += b.readUInt32LE(24);
    const m = sensorSummary(
      SITE,
      's000',
      { second: 0, packets: s.packets, bytes: s.bytes, requests: 0, attacks: 0, byProtocol: s.byProtocol, byVector: {}, byVictim: {}, trafficByVector: {} },
      b,
      Date.now(),
    );
    bytes += JSON.stringify(m).length;
  }
  const n = Math.max(1, w.seconds.length);
  return { rows: rows / n, messageBytes: bytes / n };
}

// ---- the services ----

async function pgQuery<T = unknown>(text: string): Promise<T[]> {
  const { Client } = require('pg') as { Client: new (c: ClientConfig) => PgClient };
  const c = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    return (await c.query(text)).rows as T[];
  } finally {
    await c.end();
  }
}

function redisClient(): Redis {
  const c = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
  c.on('error', () => {});
  return c;
}

async function redisVersion(): Promise<string | null> {
  const c = redisClient();
  try {
    await c.connect();
    return /redis_version:(\S+)/.exec(await c.info('server'))?.[1] ?? '?';
  } catch {
    return null;
  } finally {
    c.disconnect();
  }
}

async function deleteRedisKeys(prefix: string): Promise<number> {
  const c = redisClient();
  let n = 0;
  try {
    await c.connect();
    let cursor = '0';
    do {
      const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) n += await c.del(...keys);
    } while (cursor !== '0');
  } catch {
    // Redis gone: nothing more to delete
  } finally {
    c.disconnect();
  }
  return n;
}

/** The origin the edges proxy to: 200 and a line of text. */
function startOrigin(): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('origin\n');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

interface EdgeProc {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

/** `palisade edge` as a cluster node; resolves once its start-up line names where it listens. */
function startEdge(node: string, origin: string, config: string, nats: string): Promise<EdgeProc> {
  const args = [CLI, 'edge', '--listen', '127.0.0.1:0', '--origin', origin, '--config', config, '--cluster', nats, '--redis', REDIS_URL, '--site', SITE, '--node', node];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`edge ${node}: no start-up line in 60 s: ${err}`)), 60_000);
    child.stderr?.on('data', (d: Buffer) => {
      err = (err + d.toString()).slice(-20_000);
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve({ child, url: m[1] as string, stderr: () => err });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`edge ${node} exited ${code}: ${err}`));
    });
  });
}

/** The publisher process (cluster-publish.ts): its reports in order, `go` and the end of its stdin. */
class Publisher {
  private readonly lines: string[] = [];
  private waiter: (() => void) | null = null;
  private err = '';
  readonly child: ChildProcess;

  constructor(mode: 'summaries' | 'alerts', job: SummariesJob | AlertsJob) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'cluster-publish.ts'), mode, JSON.stringify(job)], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      this.lines.push(l);
      this.waiter?.();
    });
    this.child.stderr?.on('data', (d: Buffer) => {
      this.err = (this.err + d.toString()).slice(-8000);
    });
    this.child.once('exit', () => this.waiter?.());
  }

  /** The next report carrying `key`; throws after `ms` or if the process exits first. */
  async next(key: 'warm' | 'done', ms: number): Promise<PartReport> {
    const end = Date.now() + ms;
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) {
        const o = JSON.parse(line) as Record<string, PartReport>;
        if (o[key] !== undefined) return o[key] as PartReport;
        continue;
      }
      if (this.child.exitCode !== null) throw new Error(`publisher exited ${this.child.exitCode}: ${this.err}`);
      if (Date.now() > end) throw new Error(`publisher: no "${key}" report in ${ms} ms: ${this.err}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, end - Date.now()));
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          r();
        };
      });
    }
  }

  go(): void {
    this.child.stdin?.write('go\n');
  }

  /** Ends its stdin (it closes its buses and exits); killed by PID if it has not in 10 s. */
  async stop(): Promise<void> {
    this.child.stdin?.end();
    const exited = new Promise<void>((r) => (this.child.exitCode !== null ? r() : this.child.once('exit', () => r())));
    const t = setTimeout(() => stopChild(this.child, 2000), 10_000);
    await exited;
    clearTimeout(t);
  }
}

// ---- the parts ----

interface Ctx {
  nats: NatsServer;
  bus: Bus;
  store: Store;
  windows: string;
  base: number;
  /** L7 alert events stored (the correlator's onStored of ids bench-l7-*), and when the last one was */
  l7: { stored: number; lastMs: number };
  /** other alert events stored meanwhile (the merged detection's own, L3/4) */
  merged: { stored: number };
  /** per alert id: when the correlator stored its first event */
  storedAt: Map<string, number>;
}

/** When the correlator's durable consumer has nothing pending and nothing unacknowledged (NaN after `ms`). */
async function allAcked(bus: Bus, ms: number, name = CORRELATOR): Promise<number> {
  const end = performance.now() + ms;
  const jsm = await bus.manager();
  for (;;) {
    // a consumer being created is not there yet: asked again
    const ci = await jsm.consumers.info(STREAM, `correlator-${name}`).catch(() => null);
    const t = performance.now();
    if (ci !== null && ci.num_pending === 0 && ci.num_ack_pending === 0) return t;
    if (t > end) return Number.NaN;
    await sleep(20);
  }
}

interface DrainFigures {
  summaries: number;
  late: number;
  ms: number;
  cpuMs: number;
}

/**
 * Catch-up: a second correlator (`drain`, a durable consumer of its own) started on the stream
 * that part 1 left: every summary is there already, so nothing but the correlator, NATS's delivery
 * and PostgreSQL sets the pace (what a correlator does after an outage or a restart). Its hold is
 * DRAIN_HOLD_MS (the first second waits it; seconds come complete, in order, after that).
 */
async function drainPart(ctx: Ctx, log: (l: string) => void): Promise<DrainFigures> {
  const abort = new AbortController();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const run = runCorrelator({
    bus: ctx.bus,
    store: ctx.store,
    name: 'drain',
    site: SITE,
    detection: {},
    services: [],
    holdMs: DRAIN_HOLD_MS,
    staleMs: STALE_MS,
    log,
    signal: abort.signal,
  });
  await sleep(100);
  const t1 = await allAcked(ctx.bus, PART_LIMIT_MS, 'drain');
  const cpu = process.cpuUsage(cpu0);
  abort.abort();
  const r = await run;
  return { summaries: r.summaries, late: r.late, ms: t1 - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}

interface SummaryFigures {
  summaries: number;
  publish: PartReport;
  /** go → every summary acknowledged by the correlator, ms */
  endToEndMs: number;
  mergedSeconds: number;
  mergedEvents: number;
  /** CPU of this process (the correlator, PostgreSQL's client) over the part, ms */
  cpuMs: number;
}

async function summariesPart(ctx: Ctx): Promise<SummaryFigures> {
  const job: SummariesJob = { url: ctx.nats.url, site: SITE, sensors: SENSORS, windows: ctx.windows, warm: WARM_SECONDS, seconds: SECONDS, base: ctx.base };
  const p = new Publisher('summaries', job);
  try {
    await p.next('warm', 120_000);
    // the warm-up seconds decided and stored (the hold after the first summary included)
    if (Number.isNaN(await allAcked(ctx.bus, 30_000))) throw new Error('the warm-up summaries were not all acknowledged in 30 s');
    const events0 = ctx.merged.stored;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    p.go();
    const publish = await p.next('done', PART_LIMIT_MS + 60_000);
    const t1 = await allAcked(ctx.bus, PART_LIMIT_MS);
    const cpu = process.cpuUsage(cpu0);
    const stored = await ctx.store.readSummaries(ctx.base + WARM_SECONDS, ctx.base + WARM_SECONDS + SECONDS, CORRELATOR);
    return {
      summaries: publish.events,
      publish,
      endToEndMs: t1 - t0,
      mergedSeconds: stored.length,
      mergedEvents: ctx.merged.stored - events0,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  } finally {
    await p.stop();
  }
}

interface AlertFigures {
  events: number;
  stored: number;
  publish: PartReport;
  endToEndMs: number;
}

async function alertsPart(ctx: Ctx): Promise<AlertFigures> {
  const job: AlertsJob = { url: ctx.nats.url, site: SITE, nodes: L7_NODES, alerts: L7_ALERTS, updates: L7_UPDATES };
  const p = new Publisher('alerts', job);
  try {
    const warm = await p.next('warm', 120_000);
    const until = Date.now() + 30_000;
    while (ctx.l7.stored < warm.events && Date.now() < until) await sleep(20);
    if (ctx.l7.stored < warm.events) throw new Error(`warm-up: ${ctx.l7.stored} of ${warm.events} alert events stored in 30 s`);
    const stored0 = ctx.l7.stored;
    const t0 = performance.now();
    p.go();
    const publish = await p.next('done', PART_LIMIT_MS + 60_000);
    const end = performance.now() + PART_LIMIT_MS;
    while (ctx.l7.stored - stored0 < publish.events && performance.now() < end) await sleep(10);
    const stored = ctx.l7.stored - stored0;
    return { events: publish.events, stored, publish, endToEndMs: (stored === publish.events ? ctx.l7.lastMs : performance.now()) - t0 };
  } finally {
    await p.stop();
  }
}

interface Trial {
  /** alert published → stored by the correlator, → its decision seen on the bus, → first 403 on each edge (ms) */
  stored: number;
  decision: number;
  edges: number[];
}

const agent = new HttpAgent({ keepAlive: true, maxSockets: 2 });

/** One GET from a loopback address of its own (Linux answers on all of 127/8). */
function get(base: string, ip: string): Promise<{ status: number; mitigated: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(`${base}/`, { agent, localAddress: ip, timeout: 5000 }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, mitigated: res.headers['palisade-mitigated'] as string | undefined }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`${base} from ${ip}: no answer in 5 s`)));
    req.once('error', reject);
  });
}

/** Polls every POLL_MS until a 403 with palisade-mitigated: block; ms from `t0` (Infinity after `limitMs`). */
async function firstBlock(base: string, ip: string, t0: number, limitMs = 5000): Promise<number> {
  for (;;) {
    const r = await get(base, ip);
    const t = performance.now() - t0;
    if (r.status === 403 && r.mitigated === 'block') return t;
    if (t > limitMs) return Number.POSITIVE_INFINITY;
    await sleep(POLL_MS);
  }
}

async function delayPart(ctx: Ctx, edges: EdgeProc[]): Promise<Trial[]> {
  const sensor = new SensorNode({ bus: ctx.bus, site: SITE, node: 'l7-sensor', now: Date.now });
  const book = new AlertBook({ sensor: 'l7-sensor', services: new ServiceMap([]), now: Date.now });
  const seen = new Map<string, number>();
  const off = ctx.bus.subscribe('palisade.*.*.decision', (m) => {
    const id = (m.data as { alert_id?: unknown } | null)?.alert_id;
    if (typeof id === 'string' && !seen.has(id)) seen.set(id, performance.now());
  });
  const trials: Trial[] = [];
  const end = performance.now() + PART_LIMIT_MS;
  try {
    for (let i = 0; i < TRIALS && performance.now() < end; i++) {
      const ip = `127.0.1.${i + 1}`;
      // each edge lets the address through first (and keeps the connection for the polls)
      for (const e of edges) {
        const r = await get(e.url, ip);
        if (r.status !== 200) throw new Error(`${e.url} answered ${r.status} to ${ip} before its decision`);
      }
      const ev = book.observe(l7Attack(`e2e-${i}`, `e2e-${i}.example`, benchAddress(60_000 + i), [ip]), 0, false);
      if (ev === null) throw new Error('the alert book raised no alert');
      const t0 = performance.now();
      sensor.onEvent(ev);
      const blocked = await Promise.all(edges.map((e) => firstBlock(e.url, ip, t0)));
      const dl = performance.now() + 2000;
      while ((!seen.has(ev.alert.id) || !ctx.storedAt.has(ev.alert.id)) && performance.now() < dl) await sleep(5);
      trials.push({ stored: (ctx.storedAt.get(ev.alert.id) ?? Number.NaN) - t0, decision: (seen.get(ev.alert.id) ?? Number.NaN) - t0, edges: blocked });
      await sleep(50);
    }
  } finally {
    off();
  }
  return trials;
}

// ---- figures ----

/** Nearest-rank percentile. */
function pct(xs: number[], p: number): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

function dist(xs: number[]): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : String(x));
  return `${f(pct(xs, 50))} / ${f(pct(xs, 99))} / ${f(Math.max(...xs))} ms`;
}

function rate(n: number, ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? `${fmtRate((n * 1000) / ms)} /s` : 'n/a';
}

function line(figure: string, value: string, conditions: string): string {
  return `${figure.padEnd(50)} ${value.padStart(24)}   ${conditions}\n`;
}

export default async function bench(): Promise<void> {
  if (!haveNatsServer || spawnSync('which', ['flock']).status !== 0) {
    process.stdout.write(`skipped: ${haveNatsServer ? 'flock' : NATS_SERVER} is missing (Debian packages nats-server, util-linux)\n`);
    return;
  }
  const natsVersion = /v[\d.]+/.exec(spawnSync(NATS_SERVER, ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[0] ?? '?';
  let pgVersion: string;
  try {
    pgVersion = (await pgQuery<{ server_version: string }>('SHOW server_version'))[0]?.server_version ?? '?';
    // what one commit costs depends on it: every alert event is a commit
    pgVersion += `, synchronous_commit ${(await pgQuery<{ synchronous_commit: string }>('SHOW synchronous_commit'))[0]?.synchronous_commit ?? '?'}`;
  } catch (e) {
    process.stdout.write(`skipped: PostgreSQL is not reachable at ${PG_URL} (${(e as Error).message}); PALISADE_BENCH_PG names another\n`);
    return;
  }
  const redisV = await redisVersion();
  if (redisV === null) {
    process.stdout.write(`skipped: Redis is not reachable at ${REDIS_URL}\n`);
    return;
  }

  const dir = join(OUT, 'cluster');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const capture = benchCapture('bench', CAPTURE_PACKETS);
  if (capture === null) return;
  const win = await captureWindows(capture);
  const windowsFile = join(dir, 'windows.json');
  writeFileSync(windowsFile, JSON.stringify(win));
  const shape = windowShape(win);

  const run = `${process.pid.toString(36)}${Date.now().toString(36)}`;
  const schema = `palisade_bench_${run}`;
  const prefix = `palisade-bench-${run}:`;
  const edgeConfig = join(dir, 'edge.yaml');
  writeFileSync(edgeConfig, ['edge:', '  mode: off', '  waf: off', `  counters: { prefix: "${prefix}", timeout_ms: 1000 }`, ''].join('\n'));

  // undone last to first: edges, correlator, connections, the origin, the store, Redis keys, the schema, nats-server
  const cleanup: Array<() => Promise<unknown>> = [];
  const log: string[] = [];
  try {
    const nats = await NatsServer.start();
    cleanup.push(() => nats.dispose());
    await pgQuery(`CREATE SCHEMA "${schema}"`);
    cleanup.push(() => pgQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
    cleanup.push(() => deleteRedisKeys(prefix));
    const store = await openStore(`${PG_URL}?schema=${schema}`);
    cleanup.push(() => store.close());
    const origin = await startOrigin();
    cleanup.push(() => new Promise((r) => origin.server.close(r)));
    cleanup.push(async () => agent.destroy());

    const bus = await Bus.connect({ url: nats.url, name: CORRELATOR, log: (l) => log.push(l) });
    cleanup.push(() => bus.close());
    const decisions = new DecisionStore({ url: REDIS_URL, key: `${prefix}decisions`, log: (l) => log.push(l) });
    cleanup.push(() => decisions.close());
    const ctx: Ctx = { nats, bus, store, windows: windowsFile, base: win.base, l7: { stored: 0, lastMs: 0 }, merged: { stored: 0 }, storedAt: new Map() };
    const abort = new AbortController();
    const correlating = runCorrelator({
      bus,
      store,
      name: CORRELATOR,
      site: SITE,
      detection: {},
      services: [],
      holdMs: HOLD_MS,
      staleMs: STALE_MS,
      log: (l) => log.push(l),
      signal: abort.signal,
      decisions,
      onStored: (e) => {
        if (!ctx.storedAt.has(e.alert.id)) ctx.storedAt.set(e.alert.id, performance.now());
        if (e.alert.id.startsWith('bench-l7-')) {
          ctx.l7.stored++;
          ctx.l7.lastMs = performance.now();
        } else if (e.alert.sensor === CORRELATOR) ctx.merged.stored++;
      },
    });
    cleanup.push(async () => {
      abort.abort();
      const r = await Promise.race([correlating, sleep(15_000).then(() => null)]);
      if (r === null) log.push('correlator did not stop within 15 s');
      else
        log.push(
          `correlator: ${r.summaries} summaries (${r.late} late, ${r.malformed} malformed), ${r.seconds} seconds decided, ${r.stored} alert events stored, ${r.decisions} decisions`,
        );
    });

    const edges = await Promise.all(['edge-a', 'edge-b'].map((n) => startEdge(n, origin.url, edgeConfig, nats.url)));
    cleanup.push(() => Promise.all(edges.map((e) => stopChild(e.child))));

    const [s, d, a, trials] = await locked(
      async () => [await summariesPart(ctx), await drainPart(ctx, (l) => log.push(`drain: ${l}`)), await alertsPart(ctx), await delayPart(ctx, edges)] as const,
    );

    const conditions = `nats-server ${natsVersion} (private, JetStream file store), PostgreSQL ${pgVersion}, Redis ${redisV}, node ${process.version}, ${process.env.PALISADE_BENCH_NOTE ?? 'this machine'}`;
    process.stdout.write(`${conditions}\n`);
    process.stdout.write(
      `one process each: the publisher (cluster-publish.ts, a Bus per node), the correlator (runCorrelator here, store ${PG_URL}?schema=…), nats-server, 2 × palisade edge; nothing pinned\n\n`,
    );
    process.stdout.write(line('figure', 'value', 'conditions'));
    const perSummary = `${fmtRate(shape.rows)} rows / ${(shape.messageBytes / 1024).toFixed(1)} KiB a summary`;
    process.stdout.write(
      line(
        'summaries/s: published → stored and acked',
        rate(s.summaries, s.endToEndMs),
        `${SENSORS} sensors × ${SECONDS} s = ${s.summaries} summaries (${WARM_SECONDS} s warm-up before), ${perSummary}, 'bench' capture windows, hold ${HOLD_MS} ms`,
      ),
    );
    process.stdout.write(
      line(
        '  sensors alone: published → PubAck',
        rate(s.publish.events, s.publish.publishMs),
        `${s.publish.dropped} dropped, flushed ${s.publish.flushed}; the correlator consuming meanwhile`,
      ),
    );
    process.stdout.write(
      line(
        '  correlator CPU per summary',
        `${((s.cpuMs * 1000) / Math.max(1, s.summaries)).toFixed(0)} µs`,
        `${((100 * s.cpuMs) / s.endToEndMs).toFixed(0)} % of a core over the part (this process: correlator, bus, PostgreSQL client)`,
      ),
    );
    process.stdout.write(
      line(
        'summaries/s: catch-up of a backlog',
        rate(d.summaries, d.ms),
        `a 2nd correlator draining the stream part 1 left (${d.summaries} summaries, ${d.late} late), hold ${DRAIN_HOLD_MS} ms; ${((d.cpuMs * 1000) / Math.max(1, d.summaries)).toFixed(0)} µs CPU a summary`,
      ),
    );
    process.stdout.write(
      line(
        'merged seconds stored/s',
        rate(s.mergedSeconds, s.endToEndMs),
        `${s.mergedSeconds} of ${SECONDS} seconds in PostgreSQL; ${s.mergedEvents} alert events of the merged detection stored meanwhile`,
      ),
    );
    process.stdout.write(
      line(
        'alert events stored/s: published → stored',
        rate(a.stored, a.endToEndMs),
        `${L7_NODES} nodes × ${L7_ALERTS} http_flood alerts × (start + ${L7_UPDATES} updates + end) = ${a.events}; ${a.stored} stored; one transaction each`,
      ),
    );
    process.stdout.write(
      line('  nodes alone: published → PubAck', rate(a.publish.events, a.publish.publishMs), `+ an .attack event per start and end; ${a.publish.dropped} dropped`),
    );
    const both = trials.map((t) => Math.max(...t.edges));
    const each = trials.flatMap((t) => t.edges);
    const cond = `${trials.length} trials, one new address each, edges polled every ${POLL_MS} ms; p50 / p99 / max`;
    process.stdout.write(line('detection → enforcement, both edges', dist(both), cond));
    process.stdout.write(line('detection → enforcement, each edge', dist(each), `${each.length} samples (2 edges)`));
    process.stdout.write(line('  alert published → stored (PostgreSQL)', dist(trials.map((t) => t.stored)), 'the correlator’s onStored, this process'));
    process.stdout.write(
      line('  alert published → decision on the bus', dist(trials.map((t) => t.decision)), 'stored, then Redis HSET, then JetStream publish; seen by a core subscriber'),
    );
    process.stdout.write(
      line(
        '  decision on the bus → 403, each edge',
        dist(trials.flatMap((t) => t.edges.map((e) => e - t.decision))),
        `includes up to ${POLL_MS} ms of polling and a request's round trip`,
      ),
    );
    const missed = each.filter((x) => !Number.isFinite(x)).length;
    if (missed > 0) process.stdout.write(`warning: ${missed} of ${each.length} enforcements not seen within 5 s\n`);
    if (s.mergedSeconds < SECONDS || a.stored < a.events) process.stdout.write('warning: a part did not finish within its bound: its figure counts what was done\n');
  } finally {
    for (const f of cleanup.splice(0).reverse()) await f().catch((e: Error) => log.push(`cleanup: ${e.message}`));
    // sensors of part 1 falling silent afterwards is expected
    const notes = log.filter((l) => !/created stream|cluster decision|\(sensor\) silent/.test(l));
    if (notes.length > 0) process.stdout.write(`\ncorrelator and bus said (${notes.length} lines, last 10):\n${notes.slice(-10).join('\n')}\n`);
  }
}
