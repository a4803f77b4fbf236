/**
 * The edge node (cluster/edge-node.ts) on a bus of the test's own (what it publishes is kept,
 * what it subscribes to is called by hand) and a real gate: correlator decisions applied, an
 * edge's and a sensor's ignored (no loops), a bad message counted and skipped without a throw,
 * the summary of each second (the difference of the counts, msgId `<node>:summary:<second>`),
 * live protection's install and release published as Decision messages of role edge, a decision
 * store that does not answer (said once, nothing lost), and stop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DecisionStore } from '../../src/cluster/decision-store.js';
import { type Decision, newDecision, parseDecision } from '../../src/cluster/decisions.js';
import { type EdgeBus, type EdgeSecondStats, edgeNodeMetrics, startEdgeNode, zeroStats } from '../../src/cluster/edge-node.js';
import { defaultEdgeOptions } from '../../src/config/edge.js';
import { MemoryCounterStore } from '../../src/proxy/counters/memory.js';
import type { LiveDecision } from '../../src/proxy/live/decisions.js';
import { createEdgeGate } from '../../src/proxy/phases/pipeline.js';
import { freePort } from '../proxy/redis-server.js';

class FakeBus implements EdgeBus {
  readonly published: Array<{ subject: string; msgId: string; data: unknown }> = [];
  handlers: Array<{ filter: string; f: (m: { subject: string; node: string; msgId: string; data: unknown }) => void }> = [];
  publish(subject: string, msgId: string, data: unknown): void {
    this.published.push({ subject, msgId, data: JSON.parse(JSON.stringify(data)) });
  }
  subscribe(filter: string, f: (m: { subject: string; node: string; msgId: string; data: unknown }) => void): () => void {
    const h = { filter, f };
    this.handlers.push(h);
    return () => {
      this.handlers = this.handlers.filter((x) => x !== h);
    };
  }
  deliver(node: string, data: unknown): void {
    for (const h of this.handlers) h.f({ subject: `palisade.eu.${node}.decision`, node, msgId: 'm', data });
  }
}

function gate() {
  const o = defaultEdgeOptions();
  o.waf.enabled = false;
  return createEdgeGate(o, { waf: null, counters: new MemoryCounterStore() });
}

const list = (role: 'correlator' | 'edge' | 'sensor', node: string, ip: string): Decision =>
  newDecision({ site: 'eu', node, role }, 'add', { id: `${node}-d`, spec: { type: 'list', id: `${node}-list`, entries: [ip], expiresMs: Date.now() + 60_000 }, reason: 'test' });

describe('edge node', () => {
  it('applies correlator decisions only, counts bad messages, never throws', async () => {
    const bus = new FakeBus();
    const g = gate();
    const logs: string[] = [];
    const node = await startEdgeNode({ bus, site: 'eu', node: 'edge-1', runtime: g.runtime, stats: zeroStats, log: (l) => logs.push(l) });
    try {
      assert.deepEqual(
        bus.handlers.map((h) => h.filter),
        ['palisade.*.*.decision'],
      );
      bus.deliver('corr', list('correlator', 'corr', '192.0.2.1'));
      bus.deliver('edge-2', list('edge', 'edge-2', '192.0.2.2'));
      bus.deliver('edge-1', list('edge', 'edge-1', '192.0.2.3'));
      bus.deliver('sensor-1', list('sensor', 'sensor-1', '192.0.2.4'));
      bus.deliver('corr', { v: 1, id: 'broken' });
      bus.deliver('corr', 'not even an object');
      assert.deepEqual(
        g.runtime.list().map((e) => [e.id, e.origin]),
        [['corr-list', 'cluster:corr']],
      );
      assert.deepEqual({ ...node.stats, summaries: 0 }, { received: 6, ignored: 3, invalid: 2, delivered: 0, loaded: 0, storeErrors: 0, summaries: 0, livePublished: 0 });
      assert.equal(node.applier?.stats.applied, 1);
      assert.ok(
        logs.some((l) => /decision: broken: time must be/.test(l)),
        logs.join('\n'),
      );
      const text = edgeNodeMetrics(node, { site: 'eu', node: 'edge-1' });
      assert.match(text, /palisade_cluster_edge_decisions_total\{site="eu",node="edge-1",status="applied"\} 1/);
      assert.match(text, /palisade_cluster_edge_decisions_total\{site="eu",node="edge-1",status="invalid"\} 2/);
    } finally {
      await node.stop();
    }
    assert.equal(bus.handlers.length, 0, 'stop unsubscribes');
  });

  it('publishes a summary a second with that second’s counts, under a msgId JetStream de-duplicates', async () => {
    const bus = new FakeBus();
    const g = gate();
    const totals: EdgeSecondStats = zeroStats();
    const node = await startEdgeNode({ bus, site: 'eu', node: 'edge-1', runtime: g.runtime, stats: () => ({ ...totals }) });
    try {
      totals.requests = 10;
      totals.passed = 7;
      totals.blocked = 3;
      await new Promise((r) => setTimeout(r, 1100));
      totals.requests = 15;
      totals.passed = 12;
      await new Promise((r) => setTimeout(r, 1000));
    } finally {
      await node.stop();
    }
    const sums = bus.published.filter((p) => p.subject === 'palisade.eu.edge-1.summary').map((p) => ({ msgId: p.msgId, d: p.data as Record<string, number> }));
    assert.ok(sums.length >= 2, `${sums.length} summaries`);
    const total = sums.reduce((n, s) => n + (s.d.requests as number), 0);
    assert.equal(total, 15, 'the seconds add up to the counts');
    for (const s of sums) {
      assert.equal(s.msgId, `edge-1:summary:${s.d.second}`);
      assert.equal((s.d as unknown as { role: string }).role, 'edge');
      assert.ok(Math.abs(s.d.timeMs - (s.d.second + 1) * 1000) < 500, 'sent just after its second ends');
    }
  });

  it('publishes live protection’s install and release as decisions of role edge', async () => {
    const bus = new FakeBus();
    const g = gate();
    const node = await startEdgeNode({ bus, site: 'eu', node: 'edge-1', runtime: g.runtime, stats: zeroStats });
    try {
      g.runtime.addList({ id: 'auto-l7-1-sources', origin: 'auto:l7-1', entries: ['198.51.100.7'], expiresMs: 1_800_000_000_000 });
      const base: Omit<LiveDecision, 'kind' | 'seq'> = {
        time: new Date().toISOString(),
        mode: 'auto',
        attack: { id: 'l7-1', vector: 'http_flood', host: 'shop.example', start: '', detected_at: '', last_active: '', requests: 900, sources: 1 },
        rules: [{ id: 'auto-l7-1-sources', type: 'list', entries: ['198.51.100.7'] }],
        measured: null,
        reason: 'source list',
      };
      node.publishLive({ ...base, seq: 1, kind: 'install' });
      node.publishLive({ ...base, seq: 2, kind: 'refused' });
      node.publishLive({ ...base, seq: 3, kind: 'release' });
      const ds = bus.published.filter((p) => p.subject === 'palisade.eu.edge-1.decision');
      assert.equal(ds.length, 2, 'install and release; a refusal changes nothing to publish');
      const [add, rm] = ds.map((p) => parseDecision(p.data));
      assert.equal(add?.from.role, 'edge');
      assert.equal(add?.op, 'add');
      assert.deepEqual(add?.spec, { type: 'list', id: 'auto-l7-1-sources', entries: ['198.51.100.7'], expiresMs: 1_800_000_000_000 });
      assert.equal(add?.alert_id, 'l7-1');
      assert.equal(rm?.op, 'remove');
      assert.equal(rm?.ruleId, 'auto-l7-1-sources');
      assert.match(ds[0]?.msgId ?? '', /^edge-1:live:\d+:1:0$/);
      // Its own decisions come back on the subscription: ignored, not applied twice.
      bus.deliver('edge-1', ds[0]?.data);
      assert.equal(node.stats.ignored, 1);
      assert.equal(node.stats.livePublished, 2);
    } finally {
      await node.stop();
    }
  });

  it('a decision store that does not answer: said once, the rules in force kept, the bus still applied', async () => {
    const bus = new FakeBus();
    const g = gate();
    g.runtime.addList({ id: 'kept', origin: 'cluster:corr', entries: ['192.0.2.50'] });
    const logs: string[] = [];
    const store = new DecisionStore({ url: `redis://127.0.0.1:${await freePort()}`, timeoutMs: 100 });
    const node = await startEdgeNode({ bus, site: 'eu', node: 'edge-1', runtime: g.runtime, store, stats: zeroStats, log: (l) => logs.push(l), resyncMs: 100 });
    try {
      assert.equal(node.loaded, -1);
      await new Promise((r) => setTimeout(r, 700));
      assert.ok(node.stats.storeErrors >= 3, `${node.stats.storeErrors} failed reads`);
      const said = logs.filter((l) => /decision store redis:\/\/127\.0\.0\.1:\d+ \(palisade:decisions\): HGETALL failed/.test(l));
      assert.equal(said.length, 1, logs.join('\n'));
      assert.deepEqual(
        g.runtime.list().map((e) => e.id),
        ['kept'],
      );
      bus.deliver('corr', list('correlator', 'corr', '192.0.2.1'));
      assert.ok(g.runtime.get('corr-list') !== undefined);
    } finally {
      await node.stop();
      await store.close();
    }
  });
});
