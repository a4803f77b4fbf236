/**
 * The alert and incident store under the monitor's write pattern, on SQLite and PostgreSQL:
 *   - alert upserts: 200 attacks in flight, each event one committed upsert (what the monitor
 *     does when an alert changes), 1 in 20 raising a new alert;
 *   - timeline writes: events appended to 50 open incidents, each one commit;
 *   - the same two, 100 per transaction (what a batching pipeline could reach).
 * Bounded by `ops` (20,000 by default) per figure. The monitor's CPU and memory under a replay
 * are measured by the `monitor` bench that calls this one.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ClientConfig, Client as PgClient } from 'pg';
import { openStore } from '../src/incidents/store/open.js';
import type { Store } from '../src/incidents/store/store.js';
import type { Alert } from '../src/model/alert.js';
import type { Attack } from '../src/model/attack.js';
import { OUT } from './common.js';

const require = createRequire(import.meta.url);

export interface StoreFigures {
  backend: string;
  alertUpsertsPerSecond: number;
  timelineWritesPerSecond: number;
  alertUpsertsBatchedPerSecond: number;
  timelineWritesBatchedPerSecond: number;
}

const FLIGHT = 200;
const INCIDENTS = 50;
const BATCH = 100;

function attackOf(i: number): Attack {
  const ip = `203.0.113.${i % 250}`;
  return {
    id: `bench-${i}`,
    vector: 'udp_flood',
    victim: { ip, protocol: 'udp' },
    start: '2026-12-06T05:00:00Z',
    end: '2026-12-06T05:01:00Z',
    detected_at: '2026-12-06T05:00:02Z',
    packets: 1_000_000,
    bytes: 500_000_000,
    peak_pps: 200_000,
    peak_bps: 800_000_000,
    sources: { unique: 5000, spoofed_likely: true, top: [{ ip: '198.51.100.1', packets: 300 }] },
    signature: { expression: `ip.dst == ${ip} and udp`, coverage: 1, collateral: 0 },
    confidence: 0.9,
    evidence: {
      out_of_state: null,
      handshakes_completed: null,
      sources_per_packet: 0.005,
      spoofed_likely: true,
      separating_fields: ['udp.srcport'],
      signature: 'fields',
      field_signature: { expression: `ip.dst == ${ip} and udp`, coverage: 1, collateral: 0 },
    },
    mitigation: { action: 'block', ruleset: { rules: [] }, nftables: '', iptables: '' },
  };
}

/** The i-th event: mostly updates of the attacks in flight, a new attack every 20th. */
function alertEvent(i: number, attacks: Attack[]): Alert {
  const slot = i % FLIGHT;
  const generation = Math.floor(i / (FLIGHT * 20));
  const a = attacks[slot] as Attack;
  const t = new Date(Date.UTC(2026, 11, 6, 5) + i * 5).toISOString();
  return {
    id: `b-${slot}-${generation}-${i}`,
    fingerprint: `udp_flood|${slot}|${generation}|${i % 20 === 0 ? i : 0}`,
    kind: 'update',
    vector: 'udp_flood',
    victim: a.victim,
    sensor: 'bench',
    severity: 'high',
    urgency: 'high',
    score: i % 100,
    confidence: 0.9,
    first_seen: t,
    last_seen: t,
    attack: a,
    incident_id: null,
    peak: i,
    growing: true,
  };
}

async function rate(ops: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) await fn(i);
  return ops / ((performance.now() - t0) / 1000);
}

async function measure(store: Store, backend: string, ops: number): Promise<StoreFigures> {
  const attacks = Array.from({ length: FLIGHT }, (_, i) => attackOf(i));
  const incidents: number[] = [];
  for (let i = 0; i < INCIDENTS; i++) incidents.push((await store.createIncident({ title: `bench ${i}`, severity: 'high' })).number);
  const event = (i: number) => ({ at: new Date(Date.UTC(2026, 11, 6, 5) + i).toISOString(), kind: 'peak', actor: 'palisade', text: `peak ${i} pps`, data: { pps: i } });

  const alertUpsertsPerSecond = await rate(ops, (i) => store.upsertAlert(alertEvent(i, attacks)));
  const timelineWritesPerSecond = await rate(ops, (i) => store.appendTimeline(incidents[i % INCIDENTS] as number, event(i)));
  const batches = Math.ceil(ops / BATCH);
  const alertUpsertsBatchedPerSecond =
    BATCH *
    (await rate(batches, (b) =>
      store.transaction(async (tx) => {
        for (let i = b * BATCH; i < (b + 1) * BATCH; i++) await tx.upsertAlert(alertEvent(ops + i, attacks));
      }),
    ));
  const timelineWritesBatchedPerSecond =
    BATCH *
    (await rate(batches, (b) =>
      store.transaction(async (tx) => {
        for (let i = b * BATCH; i < (b + 1) * BATCH; i++) await tx.appendTimeline(incidents[i % INCIDENTS] as number, event(i));
      }),
    ));
  return { backend, alertUpsertsPerSecond, timelineWritesPerSecond, alertUpsertsBatchedPerSecond, timelineWritesBatchedPerSecond };
}

async function pg(url: string, text: string): Promise<void> {
  const { Client } = require('pg') as { Client: new (c: ClientConfig) => PgClient };
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** Runs both backends and prints the table; returns the figures (a backend that cannot run is left out, with why). */
export async function monitorStoreBench(ops = 20_000, pgUrl = process.env.PALISADE_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test'): Promise<StoreFigures[]> {
  const out: StoreFigures[] = [];
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `monitor-store-${process.pid}.db`);
  const clean = () => {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  };
  clean();
  const sqlite = await openStore(file);
  try {
    out.push(await measure(sqlite, 'sqlite (WAL)', ops));
  } finally {
    await sqlite.close();
    clean();
  }
  const schema = `palisade_bench_${process.pid}`;
  try {
    await pg(pgUrl, `CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const store = await openStore(`${pgUrl}?schema=${schema}`);
    try {
      out.push(await measure(store, 'postgres', ops));
    } finally {
      await store.close();
    }
  } catch (err) {
    process.stdout.write(`postgres: not measured (${(err as Error).message})\n`);
  } finally {
    await pg(pgUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
  }
  const f = (n: number) => Math.round(n).toLocaleString('en-US').padStart(12);
  process.stdout.write(`alert store, ${ops.toLocaleString('en-US')} ops per figure (one commit each; batched: ${BATCH} per transaction)\n`);
  process.stdout.write(`${'backend'.padEnd(14)} ${'upserts/s'.padStart(12)} ${'timeline/s'.padStart(12)} ${'upserts/s b'.padStart(12)} ${'timeline/s b'.padStart(12)}\n`);
  for (const r of out) {
    process.stdout.write(
      `${r.backend.padEnd(14)} ${f(r.alertUpsertsPerSecond)} ${f(r.timelineWritesPerSecond)} ${f(r.alertUpsertsBatchedPerSecond)} ${f(r.timelineWritesBatchedPerSecond)}\n`,
    );
  }
  return out;
}
