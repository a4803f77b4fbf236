/**
 * `palisade serve --cluster`: the console's process is the correlator. Two sensors' windows of a
 * carpet bombing published on a private NATS JetStream become one alert in the server's own store,
 * with both sensors' shares, and the per-second merged summaries the console charts; --redis and
 * --metrics without --cluster are usage errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Bus } from '../../src/cluster/bus.js';
import { subject } from '../../src/cluster/subjects.js';
import { summaryMsgId } from '../../src/cluster/summary-message.js';
import { generate } from '../../src/generate/generator.js';
import { openStore } from '../../src/incidents/store/open.js';
import { NatsServer } from '../helpers/nats-server.js';
import { type ServeProcess, startServeProcess, stopServeProcess } from '../helpers/serve-process.js';
import { splitPcapBySource } from '../helpers/split-pcap.js';
import { sensorWindows } from './sensor-windows.js';

const CLI = resolve(import.meta.dirname, '../helpers/run-cli.ts');

describe('palisade serve --cluster: the correlator in the console’s process', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-serve-cluster-'));
  let nats: NatsServer;
  let server: ServeProcess | null = null;
  let bus: Bus | null = null;
  before(async () => {
    nats = await NatsServer.start();
  });
  after(async () => {
    await bus?.close();
    await stopServeProcess(server);
    await nats?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--redis and --metrics need --cluster', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'serve', '--listen', '127.0.0.1:0', '--db', join(dir, 'u.db'), '--redis', 'redis://127.0.0.1:6379'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /give --cluster too/);
  });

  it('two sensors’ windows of a carpet bombing are one alert in the server’s store', async () => {
    const carpet = join(dir, 'carpet.pcap');
    generate('carpet', carpet, { packets: 12_600, seed: 1, noTruth: true });
    splitPcapBySource(carpet, [join(dir, 'a.pcap'), join(dir, 'b.pcap')]);
    const r1 = (await sensorWindows(join(dir, 'a.pcap'), 'r1')).messages;
    const r2 = (await sensorWindows(join(dir, 'b.pcap'), 'r2')).messages;
    const db = join(dir, 'p.db');
    server = await startServeProcess(['--listen', '127.0.0.1:0', '--db', db, '--cluster', nats.url, '--site', 'lab', '--node', 'core'], { from: 'source' });
    bus = await Bus.connect({ url: nats.url, name: 'sensors', log: () => {} });
    for (const m of [...r1, ...r2]) bus.publish(subject('lab', m.node, 'summary'), summaryMsgId(m.node, m.second), m);
    assert.ok(await bus.flush(10_000));
    const store = await openStore(db);
    try {
      const until = Date.now() + 30_000;
      let alerts = await store.listAlerts({});
      while (alerts.length === 0 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250));
        alerts = await store.listAlerts({});
      }
      assert.equal(alerts.length, 1, server.err());
      assert.equal(alerts[0]?.vector, 'udp_flood');
      assert.equal(alerts[0]?.attack.victim.prefix, '203.0.113.0/24');
      assert.deepEqual((alerts[0]?.attack.evidence.sensors ?? []).map((s) => s.sensor).sort(), ['r1', 'r2']);
      // the alert is stored with the second that raised it; the seconds after it are still being decided
      let rows = await store.readSummaries(0, 2 ** 31, 'core');
      while (rows.length < 20 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 250));
        rows = await store.readSummaries(0, 2 ** 31, 'core');
      }
      assert.ok(rows.length >= 20, `merged seconds for the console's charts: ${rows.length}`);
      assert.match(server.err(), /correlating every site on the bus as lab\/core/);
    } finally {
      await store.close();
    }
  });
});
