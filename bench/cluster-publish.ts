/**
 * The publishing side of the cluster bench (cluster.bench.ts): synthetic nodes in a process of
 * their own, so their JSON encoding and NATS clients do not share the correlator's event loop.
 *
 *   node --import tsx bench/cluster-publish.ts summaries '<SummariesJob as JSON>'
 *   node --import tsx bench/cluster-publish.ts alerts '<AlertsJob as JSON>'
 *
 * Every node has its own Bus (its own NATS connection) and publishes through SensorNode, the
 * monitor's own code: summaries with the detector's window rows (onWindowRows + onSecond), alert
 * events (onEvent) made by an AlertBook. Protocol on stdio, one JSON object a line: the child
 * publishes the warm-up part, waits until every event is acknowledged by JetStream and prints
 * `{"warm":…}`; on the line `go` from the parent it publishes the measured part as fast as the
 * buses take it, flushes and prints `{"done":…}`; it closes its buses and exits when its stdin ends.
 *
 * The L7 attacks (`l7Attack`) are also what the bench's end-to-end trials publish.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { Bus } from '../src/cluster/bus.js';
import { SensorNode } from '../src/cluster/sensor-node.js';
import type { DetectedAttack } from '../src/detect/l34/attacks.js';
import { AlertBook } from '../src/incidents/alerts.js';
import { ServiceMap } from '../src/incidents/triage.js';

/** One second of the bench capture as a sensor reports it. */
export interface CaptureSecond {
  /** the detector's window rows (window-rows.ts), base64 */
  rows: string;
  packets: number;
  bytes: number;
  byProtocol: Record<string, number>;
}

/** The bench capture's seconds, in order (written by the parent under out/bench/cluster/). */
export interface WindowsFile {
  /** the first second of the capture (epoch seconds) */
  base: number;
  seconds: CaptureSecond[];
}

export interface SummariesJob {
  url: string;
  site: string;
  sensors: number;
  windows: string;
  /** seconds published before `go` (warm-up), then `seconds` measured ones */
  warm: number;
  seconds: number;
  /** the summaries' first second (epoch seconds) */
  base: number;
}

export interface AlertsJob {
  url: string;
  site: string;
  nodes: number;
  /** alerts per node, each a start, `updates` updates and an end */
  alerts: number;
  updates: number;
}

/** What the child prints after each part. */
export interface PartReport {
  events: number;
  /** publish() of the first event to the last PubAck, ms */
  publishMs: number;
  flushed: boolean;
  dropped: number;
}

/**
 * An HTTP flood on `host` as the L7 analysis reports it; with `addresses`, its signature is the
 * source list it measured and chose (kind source_list: what the correlator turns into a decision),
 * else a field signature (no decision).
 */
export function l7Attack(id: string, host: string, ip: string, addresses: string[] | null, requests = 24_000): DetectedAttack {
  const list = `l7-${id}`;
  return {
    id,
    vector: 'http_flood',
    victim: { ip, port: 443, protocol: 'http', host },
    start: '2026-12-07T05:00:02Z',
    end: '2026-12-07T05:00:06Z',
    detected_at: '2026-12-07T05:00:03Z',
    packets: requests,
    bytes: 0,
    requests,
    peak_pps: requests / 3,
    peak_bps: 0,
    peak_rps: requests / 3,
    sources: {
      unique: 120,
      spoofed_likely: false,
      top: (addresses ?? ['198.51.100.7', '198.51.100.8', '198.51.100.9']).slice(0, 10).map((a, i) => ({ ip: a, packets: 900 - i * 10 })),
      ...(addresses !== null && { ips: addresses }),
    },
    signature:
      addresses !== null
        ? { kind: 'source_list', list: { name: list, addresses }, expression: `ip.src in $${list}`, coverage: 0.97, collateral: 0.001 }
        : { kind: 'fields', expression: `http.host eq "${host}" and http.request.uri.path eq "/search"`, coverage: 0.92, collateral: 0.01 },
    confidence: 0.9,
    evidence: {
      out_of_state: null,
      handshakes_completed: null,
      sources_per_packet: 0.005,
      spoofed_likely: false,
      separating_fields: ['http.request.uri.path'],
      signature: addresses !== null ? 'source_list' : 'fields',
      field_signature: { expression: `http.host eq "${host}"`, coverage: 0.6, collateral: 0.2 },
      ...(addresses !== null && { source_list: { size: addresses.length, coverage: 0.97, collateral: 0.001 } }),
    },
  };
}

/** The g-th address of 198.18.0.0/15 (the benchmarking range): one victim per alert. */
export function benchAddress(g: number): string {
  return `198.${18 + ((g >> 16) & 1)}.${(g >> 8) & 255}.${g & 255}`;
}

/** A window's bytes re-dated to `second` (the f64 at offset 8 of its header): a capture second reused as another. */
function redated(rows: Uint8Array, second: number): Uint8Array {
  const copy = rows.slice();
  new DataView(copy.buffer, copy.byteOffset, copy.length).setFloat64(8, second, true);
  return copy;
}

async function connectAll(url: string, names: string[]): Promise<Bus[]> {
  const log = (l: string) => process.stderr.write(`${l}\n`);
  return Promise.all(names.map((name) => Bus.connect({ url, name, log })));
}

async function flushAll(buses: Bus[]): Promise<boolean> {
  const ok = await Promise.all(buses.map((b) => b.flush(120_000)));
  return ok.every(Boolean);
}

function dropped(buses: Bus[]): number {
  return buses.reduce((n, b) => n + b.stats().dropped, 0);
}

/** Publishes with `send`, waits for every PubAck; the part's figures. */
async function part(buses: Bus[], send: () => number): Promise<PartReport> {
  const t0 = performance.now();
  const events = send();
  const flushed = await flushAll(buses);
  return { events, publishMs: performance.now() - t0, flushed, dropped: dropped(buses) };
}

async function summaries(job: SummariesJob, go: Promise<void>): Promise<Bus[]> {
  const file = JSON.parse(readFileSync(job.windows, 'utf8')) as WindowsFile;
  const windows = file.seconds.map((s) => ({ ...s, bytes: s.bytes, rows: new Uint8Array(Buffer.from(s.rows, 'base64')) }));
  const names = Array.from({ length: job.sensors }, (_, k) => `s${String(k).padStart(3, '0')}`);
  const buses = await connectAll(job.url, names);
  const nodes = buses.map((bus, k) => new SensorNode({ bus, site: job.site, node: names[k] as string, now: Date.now }));
  // second i of sensor k is capture second (i + 7k) mod W: the sensors' traffic differs, as real ones' would
  const send = (from: number, to: number): number => {
    let n = 0;
    for (let i = from; i < to; i++) {
      const second = job.base + i;
      for (let k = 0; k < nodes.length; k++) {
        const w = windows[(i + 7 * k) % windows.length] as (typeof windows)[number];
        const node = nodes[k] as SensorNode;
        node.onWindowRows(second, redated(w.rows, second));
        node.onSecond({ second, packets: w.packets, bytes: w.bytes, requests: 0, attacks: 0, byProtocol: w.byProtocol, byVector: {}, byVictim: {}, trafficByVector: {} });
        n++;
      }
    }
    return n;
  };
  say({ warm: await part(buses, () => send(0, job.warm)) });
  await go;
  say({ done: await part(buses, () => send(job.warm, job.warm + job.seconds)) });
  return buses;
}

async function alerts(job: AlertsJob, go: Promise<void>): Promise<Bus[]> {
  const names = Array.from({ length: job.nodes }, (_, k) => `l7-${String(k).padStart(3, '0')}`);
  const buses = await connectAll(job.url, names);
  let clock = Date.parse('2026-12-07T05:00:03Z');
  const now = () => clock;
  const nodes = buses.map((bus, k) => ({
    node: new SensorNode({ bus, site: job.site, node: names[k] as string, now: Date.now }),
    // refreshMs 0: every observation of an open attack is an update (a quiet refresh of its figures)
    book: new AlertBook({
      sensor: names[k] as string,
      services: new ServiceMap([]),
      now,
      refreshMs: 0,
      newId: (() => {
        let n = 0;
        return () => `bench-l7-${k}-${n++}`;
      })(),
    }),
  }));
  // each alert its own victim (the fingerprint is vector, victim address, protocol)
  const attackOf = (k: number, a: number, rev: number) => l7Attack(`n${k}-a${a}`, `shop-${k}-${a}.example`, benchAddress(k * 1000 + a), null, 24_000 + rev * 1000);
  // round r of every node's alerts: r 0 starts them, 1..updates update them, updates + 1 ends them
  const send = (from: number, to: number): number => {
    let n = 0;
    for (let r = 0; r <= job.updates + 1; r++) {
      clock += 1000;
      for (let k = 0; k < nodes.length; k++) {
        const { node, book } = nodes[k] as (typeof nodes)[number];
        for (let a = from; a < to; a++) {
          const e = book.observe(attackOf(k, a, r), 0, r === job.updates + 1);
          if (e === null) continue;
          node.onEvent(e);
          n++;
        }
      }
    }
    return n;
  };
  say({ warm: await part(buses, () => send(0, 1)) });
  await go;
  say({ done: await part(buses, () => send(1, 1 + job.alerts)) });
  return buses;
}

function say(o: object): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

async function main(): Promise<void> {
  const [mode, json] = process.argv.slice(2);
  const lines = createInterface({ input: process.stdin });
  let goResolve: () => void = () => {};
  const go = new Promise<void>((r) => {
    goResolve = r;
  });
  const closed = new Promise<void>((r) => lines.once('close', () => r()));
  lines.on('line', (l) => {
    if (l.trim() === 'go') goResolve();
  });
  const job = JSON.parse(json ?? '{}');
  const buses = mode === 'summaries' ? await summaries(job as SummariesJob, go) : await alerts(job as AlertsJob, go);
  await closed;
  await Promise.all(buses.map((b) => b.close()));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // the buses are closed when main ends: the process then ends by itself (nothing keeps it)
  main().catch((e) => {
    process.stderr.write(`cluster-publish: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 1;
  });
}
