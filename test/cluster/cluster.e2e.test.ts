/**
 * The multi-node mode end to end, on a private NATS JetStream server and the machine's
 * PostgreSQL: three `palisade monitor` sensor processes replay their parts of the traffic — two of
 * them each half of a carpet bombing (a UDP flood over 203.0.113.0/24, split by source address,
 * each half under the single-sensor threshold: each reports nothing alone), the third benign
 * traffic — and one `palisade correlate` process stores what the merged detection finds.
 *
 * - The carpet bombing is one alert in PostgreSQL, with both attack sensors' shares.
 * - NATS stopped for 30 s during the attack and restarted: the sensors spool and catch up; the
 *   alert is still one, found, and ended (nothing lost, nothing doubled).
 * - The correlator killed with -9 mid-stream and restarted: it resumes from its durable consumer
 *   and the store still holds one alert for the attack, with one start on its incident's timeline.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { generate } from '../../src/generate/generator.js';
import { openStore } from '../../src/incidents/store/open.js';
import type { Store } from '../../src/incidents/store/store.js';
import { type CliProcess, startCli, stopCli } from '../helpers/cli-process.js';
import { NatsServer } from '../helpers/nats-server.js';
import { splitPcapBySource } from '../helpers/split-pcap.js';
import { BACKENDS, type TestDb } from '../incidents/store/backends.js';

const PG = BACKENDS.find((b) => b.name === 'postgres');

describe('multi-node: sensors → NATS JetStream → correlator → PostgreSQL', { timeout: 420_000 }, () => {
  let dir = '';
  /** Each test its own NATS server (a fresh stream: no test reads another's events). */
  let nats: NatsServer;
  const servers: NatsServer[] = [];
  beforeEach(async () => {
    nats = await NatsServer.start();
    servers.push(nats);
  });
  const running: CliProcess[] = [];
  const dbs: TestDb[] = [];
  let files: { a: string; b: string; benign: string } = { a: '', b: '', benign: '' };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-cluster-e2e-'));
    const carpet = join(dir, 'carpet.pcap');
    generate('carpet', carpet, { packets: 12_600, seed: 1, noTruth: true });
    files = { a: join(dir, 'a.pcap'), b: join(dir, 'b.pcap'), benign: join(dir, 'benign.pcap') };
    splitPcapBySource(carpet, [files.a, files.b]);
    generate('benign', files.benign, { packets: 6000, seed: 3, noTruth: true });
  });
  after(async () => {
    for (const p of running) await stopCli(p, { hard: true });
    for (const n of servers) await n.dispose();
    for (const d of dbs) await d.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (args: string[]): CliProcess => {
    const p = startCli(args);
    running.push(p);
    return p;
  };
  const correlator = (site: string, db: string, extra: string[] = []): CliProcess =>
    start(['correlate', '--cluster', nats.url, '--sites', site, '--node', `core-${site}`, '--db', db, '--wait', '2', '--json', ...extra]);
  /** The three sensors; `loops`: every replay that many times (else the benign one twice). */
  const sensors = (site: string, speed: number, loops?: number): CliProcess[] =>
    (
      [
        ['r1', files.a],
        ['r2', files.b],
        ['r3', files.benign],
      ] as const
    ).map(([node, file]) =>
      start([
        'monitor',
        '--replay',
        file,
        '--speed',
        String(speed),
        // the benign sensor goes on after the flood's sensors stop, as a live network would: its seconds carry the correlator's clock past the quiet period
        ...(loops !== undefined ? ['--loops', String(loops)] : node === 'r3' ? ['--loops', '2'] : []),
        '--cluster',
        nats.url,
        '--site',
        site,
        '--node',
        node,
        '--spool',
        join(dir, `spool-${site}-${node}`),
        '--no-db',
        '--json',
      ]),
    );
  const freshDb = async (): Promise<string> => {
    const d = await (PG as NonNullable<typeof PG>).create();
    dbs.push(d);
    return d.spec;
  };
  /** Waits until the store holds an ended alert (the attack over and stored), bounded. */
  const endedAlerts = async (store: Store, waitMs: number): Promise<Awaited<ReturnType<Store['listAlerts']>>> => {
    const until = Date.now() + waitMs;
    for (;;) {
      const alerts = await store.listAlerts({});
      if (alerts.some((a) => a.state === 'ended') || Date.now() > until) return alerts;
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  it('a carpet bombing split between two sensors, each below its threshold, is one alert with both shares', async () => {
    const site = `lab${Date.now().toString(36)}`;
    const db = await freshDb();
    const c = correlator(site, db);
    await c.waitFor(/correlating site/);
    const ss = sensors(site, 3);
    for (const s of ss) assert.equal(await s.exited, 0, s.err());
    // no sensor saw an attack on its own
    for (const s of ss) assert.doesNotMatch(s.out(), /"event":"start"/);
    const store = await openStore(db);
    try {
      const alerts = await endedAlerts(store, 40_000);
      assert.equal(alerts.length, 1, `one alert: ${alerts.map((a) => `${a.vector} ${JSON.stringify(a.victim)}`).join(', ')}; correlator: ${c.err()}`);
      const a = alerts[0] as (typeof alerts)[number];
      assert.equal(a.vector, 'udp_flood');
      assert.equal(a.attack.victim.prefix, '203.0.113.0/24');
      assert.equal(a.state, 'ended');
      assert.equal(a.sensor, `core-${site}`);
      const shares = a.attack.evidence.sensors ?? [];
      const share = (n: string): number => shares.find((s) => s.sensor === n)?.share ?? 0;
      // the flood is split about evenly; the benign sensor's UDP to the /24 is a sliver of the class traffic
      assert.ok(share('r1') > 0.35 && share('r1') < 0.65, `r1: ${JSON.stringify(shares)}`);
      assert.ok(share('r2') > 0.35 && share('r2') < 0.65, `r2: ${JSON.stringify(shares)}`);
      assert.ok(share('r3') < 0.1, `r3: ${JSON.stringify(shares)}`);
      // the console's chart rows: the correlator's merged seconds
      const rows = await store.readSummaries(0, 2 ** 31, `core-${site}`);
      assert.ok(rows.length >= 25, `merged seconds stored: ${rows.length}`);
    } finally {
      await store.close();
      await stopCli(c);
    }
  });

  /** A fault run's alerts: `n` carpet-bombing alerts, each ended, each raised and ended once on its incident's timeline. */
  const attacks = async (db: string, c: CliProcess, n: number): Promise<void> => {
    const store = await openStore(db);
    try {
      const until = Date.now() + 60_000;
      let alerts = await store.listAlerts({});
      while ((alerts.length < n || alerts.some((a) => a.state !== 'ended')) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250));
        alerts = await store.listAlerts({});
      }
      const seen = alerts.map((a) => `${a.vector} ${JSON.stringify(a.victim)} ${a.state}`).join(', ');
      assert.equal(alerts.length, n, `${n} alert(s): ${seen}; correlator: ${c.err().slice(-3000)}`);
      for (const a of alerts) {
        assert.equal(a.vector, 'udp_flood', seen);
        assert.equal(a.attack.victim.prefix, '203.0.113.0/24', seen);
        assert.equal(a.state, 'ended', seen);
        const shares = a.attack.evidence.sensors ?? [];
        assert.ok(shares.some((x) => x.sensor === 'r1') && shares.some((x) => x.sensor === 'r2'), `both halves counted: ${JSON.stringify(shares)}`);
        const inc = await store.getIncident(a.incident_id as number);
        const mine = (inc?.timeline ?? []).filter((t) => (t.data as { alert?: string } | null)?.alert === a.id).map((t) => t.kind);
        assert.equal(mine.filter((k) => k === 'alert_raised').length, 1, `raised once: ${mine.join(', ')}`);
        assert.equal(mine.filter((k) => k === 'attack_ended').length, 1, `ended once: ${mine.join(', ')}`);
      }
    } finally {
      await store.close();
    }
  };

  it('NATS stopped for 30 s during the attack: the sensors spool and catch up, nothing lost or doubled', async () => {
    const site = `nats${Date.now().toString(36)}`;
    const db = await freshDb();
    const c = correlator(site, db);
    await c.waitFor(/correlating site/);
    // every sensor replays its part twice (a live sensor keeps going): the flood runs 8-20 s and again 38-50 s;
    // NATS goes away 10 s in, mid-flood, and comes back 30 s later
    const t0 = Date.now();
    const ss = sensors(site, 1, 2);
    await new Promise((r) => setTimeout(r, 10_000 - (Date.now() - t0)));
    await nats.stop();
    await new Promise((r) => setTimeout(r, 30_000));
    await nats.restart();
    for (const s of ss) assert.equal(await s.exited, 0, s.err());
    for (const s of ss) assert.match(s.err(), /NATS back at .*resending \d+ spooled events/, `the sensor spooled and resent: ${s.err()}`);
    if (process.env.CLUSTER_DEBUG) for (const s of [...ss, c]) process.stderr.write(`--- ${s.err()}\n`);
    await attacks(db, c, 2);
    await stopCli(c);
    const late = /\((\d+) late/.exec(c.err());
    assert.equal(late?.[1], '0', `no summary came too late to count: ${c.err().slice(-2000)}`);
  });

  it('the correlator killed with -9 mid-attack and restarted: it resumes, one alert raised once', async () => {
    const site = `kill${Date.now().toString(36)}`;
    const db = await freshDb();
    let c = correlator(site, db);
    await c.waitFor(/correlating site/);
    const ss = sensors(site, 2);
    // the flood starts 8 s in (4 s at this speed); once its alert is stored, the correlator dies
    await c.waitFor(/"event":"start"/, 40_000);
    await stopCli(c, { hard: true });
    await new Promise((r) => setTimeout(r, 2000));
    c = correlator(site, db);
    await c.waitFor(/correlating site/);
    for (const s of ss) assert.equal(await s.exited, 0, s.err());
    await attacks(db, c, 1);
    assert.doesNotMatch(c.out(), /"event":"start"/, 'the restarted correlator carried the alert on, not raised it again');
    await stopCli(c);
  });
});
