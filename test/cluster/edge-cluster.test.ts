/**
 * Edge proxies as cluster nodes, for real: `palisade edge` processes from the CLI (--cluster on the
 * machine's NATS at 127.0.0.1:4222, --redis on its Redis at 127.0.0.1:6379) in front of a real
 * origin, clients from their own loopback addresses (127.0.0.x). Each run has its own
 * site (subjects), node names and Redis prefix (counters and the decision hash), deleted after.
 *
 *   - a decision published on the bus as a correlator would (a list entry blocking 127.0.0.9) is
 *     enforced by both proxies within 1 s of its publication (measured: publish → first 403 with
 *     palisade-mitigated: block, each proxy polled every 20 ms); a third proxy started afterwards
 *     loads it from Redis and blocks from its first request; a remove lifts it on both;
 *   - both proxies' per-second summaries are on the bus within 3 s; the admin /metrics has the
 *     bus's and the node's counters;
 *   - a client alternating between two proxies that share their counters through Redis is let
 *     through the configured number of times (±10 %), not twice that.
 *
 * The Redis outage test (a private redis-server stopped mid-test) is in edge-redis-outage.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Bus } from '../../src/cluster/bus.js';
import { DecisionStore } from '../../src/cluster/decision-store.js';
import { newDecision } from '../../src/cluster/decisions.js';
import { subject } from '../../src/cluster/subjects.js';
import { cleanMachineNats, requireMachineNats } from '../helpers/nats-server.js';
import { type EdgeProcess, startEdgeProcess } from '../proxy/edge-process.js';
import { type Origin, startOrigin } from '../proxy/helpers.js';
import { deleteKeys, reachable, SHARED_URL } from '../proxy/redis-server.js';
import { agent, get, pollUntil } from './edge-client.js';

const NATS = 'nats://127.0.0.1:4222';
const RUN = randomBytes(4).toString('hex');
const SITE = `t-edge-${RUN}`;
const PREFIX = `palisade-test-${RUN}:`;

// NATS or Redis down is a failure that says so, never a skip (.ci/run starts both)
await requireMachineNats();
if (!(await reachable(SHARED_URL))) throw new Error('Redis is not running on 127.0.0.1:6379: start it (.ci/run does)');

const dir = mkdtempSync(join(tmpdir(), 'palisade-edge-cluster-'));
function config(name: string, lines: string[] = []): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, ['edge:', '  mode: off', '  waf: off', `  counters: { prefix: "${PREFIX}", timeout_ms: 1000 }`, ...lines, ''].join('\n'));
  return file;
}

const started: EdgeProcess[] = [];
async function edge(node: string, cfg: string, origin: Origin, extra: string[] = []): Promise<EdgeProcess> {
  const e = await startEdgeProcess([
    '--listen',
    '127.0.0.1:0',
    '--origin',
    origin.url,
    '--config',
    cfg,
    '--cluster',
    NATS,
    '--redis',
    SHARED_URL,
    '--site',
    SITE,
    '--node',
    node,
    ...extra,
  ]);
  started.push(e);
  return e;
}

async function stopEdges(): Promise<void> {
  for (const e of started.splice(0)) {
    e.child.kill('SIGTERM');
    const t = setTimeout(() => e.child.kill('SIGKILL'), 15_000);
    const code = await e.exited;
    clearTimeout(t);
    assert.equal(code, 0, e.stderr());
  }
}

let origin: Origin;
let bus: Bus;
let store: DecisionStore;

describe('edge proxies in a cluster', { timeout: 180_000 }, () => {
  before(async () => {
    origin = await startOrigin();
    bus = await Bus.connect({ url: NATS, name: `test-corr-${RUN}`, log: () => {} });
    store = new DecisionStore({ url: SHARED_URL, key: `${PREFIX}decisions` });
  });
  after(async () => {
    await stopEdges().catch(() => {});
    for (const e of started) e.child.kill('SIGKILL');
    await bus?.close();
    await store?.close();
    await origin?.close();
    agent.destroy();
    await deleteKeys(SHARED_URL, PREFIX);
    rmSync(dir, { recursive: true, force: true });
    await cleanMachineNats(SITE);
  });

  it('a correlator decision is enforced by both proxies within 1 s, loaded by a later one from Redis, lifted by a remove', async () => {
    const cfg = config('plain');
    const [a, b] = await Promise.all([edge('edge-a', cfg, origin, ['--admin', '127.0.0.1:0']), edge('edge-b', cfg, origin)]);
    try {
      const summaries = new Map<string, number>();
      const t0 = performance.now();
      const off = bus.subscribe(`palisade.${SITE}.*.summary`, (m) => {
        const d = m.data as { role?: string; requests?: number };
        if (d.role === 'edge' && !summaries.has(m.node)) summaries.set(m.node, performance.now() - t0);
      });
      for (const e of [a, b]) assert.equal((await get(e.url, '/', '127.0.0.9')).status, 200);
      const corr = { site: SITE, node: 'corr-test', role: 'correlator' as const };
      const d = newDecision(corr, 'add', {
        id: `block-${RUN}`,
        spec: { type: 'list', id: `corr-block-${RUN}`, entries: ['127.0.0.9'], expiresMs: Date.now() + 120_000 },
        reason: 'test: block 127.0.0.9',
        alert_id: 'a-test',
      });
      // As a correlator does: in the store first (for nodes that start later), then on the bus.
      await store.put(d);
      const published = performance.now();
      bus.publish(subject(SITE, 'corr-test', 'decision'), d.id, d);
      const blocked = (r: { status: number; mitigated: string | undefined }) => r.status === 403 && r.mitigated === 'block';
      const delays = await Promise.all([a, b].map((e) => pollUntil(e.url, '127.0.0.9', blocked, published)));
      process.stderr.write(`decision -> enforcement: edge-a ${delays[0]?.toFixed(1)} ms, edge-b ${delays[1]?.toFixed(1)} ms\n`);
      for (const ms of delays) assert.ok(ms < 1000, `enforced after ${ms} ms: ${a.stderr()} ${b.stderr()}`);
      // Others pass; the decision is the cluster's on each.
      for (const e of [a, b]) assert.equal((await get(e.url, '/', '127.0.0.10')).status, 200);
      for (const e of [a, b]) assert.match(e.stderr(), new RegExp(`cluster decision \\(bus\\) applied: block-${RUN}: added list corr-block-${RUN}`));

      // The admin /metrics carries the bus's counters and the node's.
      const metrics = await (await fetch(`${a.admin}/metrics`)).text();
      assert.match(metrics, new RegExp(`palisade_cluster_connected\\{role="edge",site="${SITE}",node="edge-a"\\} 1`));
      assert.match(metrics, new RegExp(`palisade_cluster_edge_decisions_total\\{site="${SITE}",node="edge-a",status="applied"\\} 1`));
      assert.match(metrics, /palisade_edge_runtime_rules 1/);
      // A proxy started now loads what is in force from Redis and blocks from its first request.
      const c = await edge('edge-c', cfg, origin);
      assert.match(c.stderr(), /cluster node [^ ]+\/edge-c \(1 decision in force loaded\)/);
      assert.deepEqual(await get(c.url, '/', '127.0.0.9'), { status: 403, mitigated: 'block' });

      // Both summaries on the bus within 3 s of subscribing.
      const deadline = Date.now() + 3000;
      while ((!summaries.has('edge-a') || !summaries.has('edge-b')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      off();
      process.stderr.write(`summaries seen after: ${[...summaries].map(([n, ms]) => `${n} ${ms.toFixed(0)} ms`).join(', ')}\n`);
      assert.ok(summaries.has('edge-a') && summaries.has('edge-b'), `summaries from ${[...summaries.keys()].join(', ') || 'nobody'}`);

      // A remove lifts it everywhere.
      const rm = newDecision(corr, 'remove', { id: `unblock-${RUN}`, ruleId: `corr-block-${RUN}`, reason: 'test: over' });
      await store.put(rm);
      const t1 = performance.now();
      bus.publish(subject(SITE, 'corr-test', 'decision'), rm.id, rm);
      const lifted = await Promise.all([a, b, c].map((e) => pollUntil(e.url, '127.0.0.9', (r) => r.status === 200, t1)));
      process.stderr.write(`remove -> lifted: ${lifted.map((x) => `${x.toFixed(1)} ms`).join(', ')}\n`);
      for (const ms of lifted) assert.ok(ms < 1000, `lifted after ${ms} ms`);
      assert.deepEqual(await store.list(Date.now()), []);
    } finally {
      await stopEdges();
    }
  });

  it('a client alternating between two proxies sharing Redis counters is limited once (±10 %)', async () => {
    const LIMIT = 20;
    const cfg = config('rate', [
      '  ruleset:',
      '    - id: api-rate',
      '      expression: http.request.uri.path eq "/api"',
      '      action: block',
      `      ratelimit: { characteristics: [ip.src], period: 10, requests_per_period: ${LIMIT}, mitigation_timeout: 10 }`,
    ]);
    const [a, b] = await Promise.all([edge('edge-ra', cfg, origin), edge('edge-rb', cfg, origin)]);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 60; i++) statuses.push((await get((i % 2 === 0 ? a : b).url, '/api', '127.0.0.11')).status);
      const passed = statuses.filter((s) => s === 200).length;
      const limited = statuses.filter((s) => s === 429).length;
      process.stderr.write(`alternating client: ${passed} passed, ${limited} limited of 60 (limit ${LIMIT} per 10 s)\n`);
      assert.equal(passed + limited, 60, statuses.join(' '));
      assert.ok(passed >= LIMIT * 0.9 && passed <= LIMIT * 1.1, `${passed} let through by the two edges together (limit ${LIMIT})`);
      const fromA = statuses.filter((s, i) => i % 2 === 0 && s === 429).length;
      const fromB = statuses.filter((s, i) => i % 2 === 1 && s === 429).length;
      assert.ok(fromA > 0 && fromB > 0, `429s from both edges: ${fromA} and ${fromB}`);
    } finally {
      await stopEdges();
    }
  });

  it('--workers 2: the primary loads the decisions in force for its workers, and hands a new one to both within 1 s', async () => {
    const cfg = config('workers');
    const corr = { site: SITE, node: 'corr-test', role: 'correlator' as const };
    const block = (n: string, ip: string) =>
      newDecision(corr, 'add', {
        id: `w-${n}-${RUN}`,
        spec: { type: 'list', id: `corr-w-${n}-${RUN}`, entries: [ip], expiresMs: Date.now() + 120_000 },
        reason: `test: block ${ip}`,
      });
    const first = block('1', '127.0.0.30');
    await store.put(first);
    bus.publish(subject(SITE, 'corr-test', 'decision'), first.id, first);
    const summaries = new Set<string>();
    const off = bus.subscribe(`palisade.${SITE}.edge-w.summary`, (m) => summaries.add((m.data as { node: string }).node));
    const w = await edge('edge-w', cfg, origin, ['--workers', '2']);
    try {
      assert.match(w.stderr(), /2 workers.*cluster node [^ ]+\/edge-w \(1 decision in force loaded\)/);
      // Ten new connections, round robin over the two workers: every one blocked (the workers said hello and got it).
      const all403 = async (ip: string): Promise<boolean> => {
        for (let i = 0; i < 10; i++) if ((await get(w.url, '/', ip, true)).status !== 403) return false;
        return true;
      };
      // A worker may still be saying hello as the primary prints its line: allow it a moment.
      const t = performance.now();
      while (!(await all403('127.0.0.30'))) assert.ok(performance.now() - t < 1000, 'both workers block 127.0.0.30 within 1 s of listening');
      const second = block('2', '127.0.0.31');
      await store.put(second);
      const published = performance.now();
      bus.publish(subject(SITE, 'corr-test', 'decision'), second.id, second);
      let ms = Number.POSITIVE_INFINITY;
      while (performance.now() - published < 3000) {
        if (await all403('127.0.0.31')) {
          ms = performance.now() - published;
          break;
        }
      }
      process.stderr.write(`--workers 2: decision -> ten new connections in a row blocked after ${ms.toFixed(1)} ms\n`);
      assert.ok(ms < 1000, `both workers enforce within 1 s (${ms} ms): ${w.stderr()}`);
      assert.equal((await get(w.url, '/', '127.0.0.32', true)).status, 200);
      const deadline = Date.now() + 3000;
      while (!summaries.has('edge-w') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(summaries.has('edge-w'), 'the primary publishes the node summary');
    } finally {
      off();
      await store.remove(`corr-w-1-${RUN}`);
      await store.remove(`corr-w-2-${RUN}`);
      await stopEdges();
    }
  });
});
