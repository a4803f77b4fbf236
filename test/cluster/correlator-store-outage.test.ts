/**
 * PostgreSQL unavailable under the correlator: nothing is acknowledged while the store refuses,
 * and nothing is lost once it answers again. The correlator runs in this process on a private NATS
 * JetStream and a PostgreSQL schema of its own; two sensors' windows of a carpet bombing are
 * published while the schema is renamed away (every write fails as it would with the database
 * gone), then the schema comes back: every decided second's merged summary and the attack's alert
 * are in PostgreSQL, and the consumer has nothing left unacknowledged.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClientConfig, Client as PgClient } from 'pg';
import { Bus } from '../../src/cluster/bus.js';
import { runCorrelator } from '../../src/cluster/correlator-run.js';
import { clusterStatus } from '../../src/cluster/status.js';
import { subject } from '../../src/cluster/subjects.js';
import { summaryMsgId } from '../../src/cluster/summary-message.js';
import { generate } from '../../src/generate/generator.js';
import { openStore } from '../../src/incidents/store/open.js';
import type { Store } from '../../src/incidents/store/store.js';
import { NatsServer } from '../helpers/nats-server.js';
import { splitPcapBySource } from '../helpers/split-pcap.js';
import { BACKENDS, PG_URL, type TestDb } from '../incidents/store/backends.js';
import { sensorWindows } from './sensor-windows.js';

const require = createRequire(import.meta.url);
const { Client } = require('pg') as { Client: new (c: ClientConfig) => PgClient };

async function pg(sql: string): Promise<void> {
  const c = new Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

describe('correlator: PostgreSQL unavailable', { timeout: 120_000 }, () => {
  let dir = '';
  let nats: NatsServer;
  let db: TestDb;
  let schema = '';
  let store: Store;
  const buses: Bus[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-store-outage-'));
    nats = await NatsServer.start();
    db = await (BACKENDS.find((b) => b.name === 'postgres') as (typeof BACKENDS)[number]).create();
    schema = new URL(db.spec).searchParams.get('schema') as string;
    store = await openStore(db.spec);
  });
  after(async () => {
    for (const b of buses) await b.close();
    await store?.close();
    await pg(`ALTER SCHEMA "${schema}_away" RENAME TO "${schema}"`).catch(() => {});
    await db?.drop();
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledges nothing while the store refuses, and stores everything once it is back', async () => {
    const carpet = join(dir, 'carpet.pcap');
    generate('carpet', carpet, { packets: 12_600, seed: 1, noTruth: true });
    splitPcapBySource(carpet, [join(dir, 'a.pcap'), join(dir, 'b.pcap')]);
    const r1 = (await sensorWindows(join(dir, 'a.pcap'), 'r1')).messages;
    const r2 = (await sensorWindows(join(dir, 'b.pcap'), 'r2')).messages;
    const seconds = new Set([...r1, ...r2].map((x) => x.second));

    const cbus = await Bus.connect({ url: nats.url, name: 'core', log: () => {} });
    const pbus = await Bus.connect({ url: nats.url, name: 'sensors', log: () => {} });
    buses.push(cbus, pbus);
    const log: string[] = [];
    const abort = new AbortController();
    const run = runCorrelator({ bus: cbus, store, name: 'core', site: 'lab', detection: {}, services: [], holdMs: 500, log: (l) => log.push(l), signal: abort.signal });
    await new Promise((r) => setTimeout(r, 500));
    // the database goes away (every statement fails: its tables are gone from the search path)
    await pg(`ALTER SCHEMA "${schema}" RENAME TO "${schema}_away"`);
    for (const m of [...r1, ...r2]) pbus.publish(subject('lab', m.node, 'summary'), summaryMsgId(m.node, m.second), m);
    assert.ok(await pbus.flush(10_000));
    const until = Date.now() + 20_000;
    while (!log.some((l) => /store: .* failed .*nothing is acknowledged/.test(l)) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.ok(
      log.some((l) => /nothing is acknowledged/.test(l)),
      log.join('\n'),
    );
    await new Promise((r) => setTimeout(r, 2000));
    const down = (await clusterStatus(cbus, Date.now())).consumers.find((c) => c.durable === 'correlator-core');
    assert.ok((down?.ackPending ?? 0) > 0, `summaries held unacknowledged while the store is down: ${JSON.stringify(down)}`);

    await pg(`ALTER SCHEMA "${schema}_away" RENAME TO "${schema}"`);
    const end = Date.now() + 30_000;
    let rows = await store.readSummaries(0, 2 ** 31, 'core').catch(() => []);
    while (rows.length < seconds.size - 1 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 250));
      rows = await store.readSummaries(0, 2 ** 31, 'core');
    }
    assert.ok(
      log.some((l) => /store: back/.test(l)),
      log.join('\n'),
    );
    // every second decided so far is stored (the last waits for a later one to close it)
    assert.ok(rows.length >= seconds.size - 1, `merged seconds stored: ${rows.length} of ${seconds.size}`);
    const alerts = await store.listAlerts({});
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.vector, 'udp_flood');
    const ack = Date.now() + 10_000;
    let after = (await clusterStatus(cbus, Date.now())).consumers.find((c) => c.durable === 'correlator-core');
    while ((after?.ackPending ?? 1) > 2 && Date.now() < ack) {
      await new Promise((r) => setTimeout(r, 250));
      after = (await clusterStatus(cbus, Date.now())).consumers.find((c) => c.durable === 'correlator-core');
    }
    assert.ok((after?.ackPending ?? 99) <= 2, `acknowledged once stored (the last second or two still wait to close): ${JSON.stringify(after)}`);
    abort.abort();
    const r = await run;
    assert.equal(r.late, 0);
  });
});
