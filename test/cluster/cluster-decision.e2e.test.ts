/**
 * From one node's detection to every proxy's enforcement, through the real correlator: two
 * `palisade edge` processes and a `palisade correlate` process on the machine's NATS JetStream,
 * Redis and PostgreSQL. Both edges report the same HTTP flood (the alert events an edge node
 * publishes, its measured source list among them); the correlator stores it once — one alert for
 * the two reports, raised once, with each edge's share — and publishes its source list as a decision; both edges block a listed
 * address within 1 s of that decision (measured from the decision's appearance on the bus to
 * each edge's first 403 with palisade-mitigated: block), and an edge started afterwards loads it
 * from Redis.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Bus } from '../../src/cluster/bus.js';
import { subject } from '../../src/cluster/subjects.js';
import type { AlertState } from '../../src/incidents/alerts.js';
import { openStore } from '../../src/incidents/store/open.js';
import { type CliProcess, startCli, stopCli } from '../helpers/cli-process.js';
import { cleanMachineNats, requireMachineNats } from '../helpers/nats-server.js';
import { liveAttack } from '../incidents/attack-fixture.js';
import { BACKENDS, type TestDb } from '../incidents/store/backends.js';
import { type EdgeProcess, startEdgeProcess } from '../proxy/edge-process.js';
import { type Origin, startOrigin } from '../proxy/helpers.js';
import { deleteKeys, SHARED_URL } from '../proxy/redis-server.js';
import { agent, get, pollUntil } from './edge-client.js';

const NATS = 'nats://127.0.0.1:4222';
const RUN = randomBytes(4).toString('hex');
const SITE = `t-dec-${RUN}`;
const PREFIX = `palisade-test-${RUN}:`;
const LISTED = '127.0.0.19';

/** An HTTP flood on shop.example as an edge's live analysis reports it, with the source list it measured and chose. */
function floodAlert(sensor: string): AlertState {
  const now = new Date().toISOString();
  const attack = liveAttack({
    id: `l7-${RUN}`,
    vector: 'http_flood',
    victim: { host: 'shop.example', protocol: 'http' },
    requests: 90_000,
    peak_rps: 3000,
    signature: {
      kind: 'source_list',
      list: { name: 'flood_sources', addresses: [LISTED, '127.0.0.20'] },
      expression: 'ip.src in $flood_sources',
      coverage: 0.99,
      collateral: 0.0005,
    },
  });
  return {
    id: `alert-${sensor}-${RUN}`,
    fingerprint: `http_flood|shop.example|http`,
    vector: 'http_flood',
    victim: 'shop.example',
    sensor,
    severity: 'high',
    urgency: 'high',
    score: 80,
    confidence: 0.9,
    first_seen: now,
    last_seen: now,
    attack,
    reasons: ['3000 req/s'],
    service: null,
    customer: null,
    growing: false,
    mitigated: false,
    peak: 3000,
  };
}

describe('cluster: an edge’s detection → correlator → every edge', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-cluster-decision-'));
  let origin: Origin;
  let bus: Bus;
  let db: TestDb;
  let correlator: CliProcess | null = null;
  const edges: EdgeProcess[] = [];
  const cfg = join(dir, 'edge.yaml');

  before(async () => {
    await requireMachineNats();
    writeFileSync(cfg, ['edge:', '  mode: off', '  waf: off', `  counters: { prefix: "${PREFIX}", timeout_ms: 1000 }`, ''].join('\n'));
    origin = await startOrigin();
    bus = await Bus.connect({ url: NATS, name: `test-${RUN}`, log: () => {} });
    db = await (BACKENDS.find((b) => b.name === 'postgres') as (typeof BACKENDS)[number]).create();
  });
  after(async () => {
    if (process.env.CLUSTER_DEBUG) process.stderr.write(`correlator: ${correlator?.err()}\n${correlator?.out()}\nedges: ${edges.map((e) => e.stderr()).join('\n')}\n`);
    for (const e of edges) e.child.kill('SIGKILL');
    await stopCli(correlator, { hard: true });
    await bus?.close();
    await origin?.close();
    agent.destroy();
    await deleteKeys(SHARED_URL, PREFIX);
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
    await cleanMachineNats(SITE, [`correlator-core-${RUN}`]);
  });

  const edge = async (node: string): Promise<EdgeProcess> => {
    const e = await startEdgeProcess([
      '--listen',
      '127.0.0.1:0',
      '--origin',
      origin.url,
      '--config',
      cfg,
      '--cluster',
      NATS,
      '--site',
      SITE,
      '--redis',
      SHARED_URL,
      '--site',
      SITE,
      '--node',
      node,
    ]);
    edges.push(e);
    return e;
  };

  it('one alert for two edges’ reports; its source list enforced by both within 1 s; a later edge loads it', async () => {
    correlator = startCli([
      'correlate',
      '--cluster',
      NATS,
      '--site',
      SITE,
      '--sites',
      SITE,
      '--node',
      `core-${RUN}`,
      '--db',
      db.spec,
      '--redis',
      SHARED_URL,
      '--decisions-key',
      `${PREFIX}decisions`,
      '--json',
    ]);
    await correlator.waitFor(/correlating site/);
    const [a, b] = await Promise.all([edge('edge-a'), edge('edge-b')]);
    assert.equal((await get(a.url, '/', LISTED)).status, 200);
    let decidedAt = 0;
    const seen = new Promise<void>((resolve) => {
      const off = bus.subscribe(`palisade.${SITE}.*.decision`, (m) => {
        if ((m.data as { from?: { role?: string } }).from?.role !== 'correlator') return;
        decidedAt = performance.now();
        off();
        resolve();
      });
    });
    for (const node of ['edge-a', 'edge-b']) {
      const alert = floodAlert(node);
      bus.publish(subject(SITE, node, 'alert'), `${node}:alert:${alert.id}:1`, {
        v: 1,
        from: { site: SITE, node, role: 'edge' },
        kind: 'start',
        significant: true,
        change: '',
        alert,
      });
    }
    if (process.env.CLUSTER_DEBUG) process.stderr.write('published\n');
    await seen;
    if (process.env.CLUSTER_DEBUG) process.stderr.write('decision seen\n');
    const [ta, tb] = await Promise.all([a, b].map((e) => pollUntil(e.url, LISTED, (r) => r.status === 403 && r.mitigated === 'block', decidedAt, 3000)));
    assert.ok((ta as number) < 1000 && (tb as number) < 1000, `both edges block within 1 s of the decision: ${Math.round(ta as number)} ms, ${Math.round(tb as number)} ms`);
    // an address not on the list still passes
    assert.equal((await get(a.url, '/', '127.0.0.30')).status, 200);
    // stored once: the two edges' reports are one alert
    const store = await openStore(db.spec);
    try {
      const alerts = await store.listAlerts({});
      assert.equal(alerts.length, 1, alerts.map((x) => `${x.vector} ${x.sensor}`).join(', '));
      assert.equal(alerts[0]?.vector, 'http_flood');
      assert.deepEqual((alerts[0]?.attack.evidence.sensors ?? []).map((x) => x.sensor).sort(), ['edge-a', 'edge-b'], 'each edge’s share');
      const inc = await store.getIncident(alerts[0]?.incident_id as number);
      assert.equal(inc?.timeline.filter((t) => t.kind === 'alert_raised').length, 1, 'raised once, however many nodes report it');
    } finally {
      await store.close();
    }
    // an edge that starts now finds the decision in Redis
    const c = await edge('edge-c');
    const r = await get(c.url, '/', LISTED);
    assert.equal(r.status, 403, 'loaded from Redis at start');
    process.stdout.write(`# decision → enforcement: edge-a ${Math.round(ta as number)} ms, edge-b ${Math.round(tb as number)} ms\n`);
  });
});
