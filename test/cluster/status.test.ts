/**
 * cluster/status.ts on a private nats-server: nodes found from the stream's subjects with their
 * roles and last summary from the summaries themselves, counts per kind, the consumers' backlog,
 * the same answer through a live bus and through a short connection, a stream not created yet,
 * and the table people read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Bus } from '../../src/cluster/bus.js';
import { clusterStatus, renderStatus } from '../../src/cluster/status.js';
import { STREAM, subject } from '../../src/cluster/subjects.js';
import { NatsServer } from '../helpers/nats-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cluster status on a private nats-server', { timeout: 60_000 }, () => {
  let server: NatsServer;
  before(async () => {
    server = await NatsServer.start();
  });
  after(async () => {
    await server?.dispose();
  });

  it('before any node connected: the stream does not exist yet', async () => {
    const st = await clusterStatus({ url: server.url, name: 'status-test' }, Date.now());
    assert.deepEqual(st, { stream: { name: STREAM, exists: false, messages: 0, bytes: 0, firstSeq: 0, lastSeq: 0 }, nodes: [], consumers: [] });
    assert.match(renderStatus(st, false), /not created yet/);
  });

  it('lists nodes (role, last summary, lag, kinds) and consumers (pending, ack pending)', async () => {
    const bus = await Bus.connect({ url: server.url, name: 'status-bus', log: () => {} });
    const t0 = Date.now();
    for (let s = 0; s < 3; s++) {
      bus.publish(subject('eu', 'sensor-1', 'summary'), `eu-s1-${s}`, { role: 'sensor', site: 'eu', node: 'sensor-1', second: s, timeMs: 1_000_000 + s * 1000, sketch: [1, 2] });
      bus.publish(subject('us', 'edge-1', 'summary'), `us-e1-${s}`, { role: 'edge', site: 'us', node: 'edge-1', second: s, timeMs: t0 });
    }
    bus.publish(subject('eu', 'sensor-1', 'alert'), 'eu-s1-alert', { id: 'a1' });
    bus.publish(subject('eu', 'sensor-1', 'attack'), 'eu-s1-attack', { id: 'x1' });
    bus.publish(subject('core', 'corr-1', 'decision'), 'corr-dec', { rule: 'block' });
    assert.equal(await bus.flush(5000), true);
    // A consumer handed 2 alerts+attacks it holds without acking, and one that never ran on summaries.
    const held: unknown[] = [];
    const c = bus.consume(
      'status_holder',
      'palisade.eu.>',
      (m) => {
        if (m.kind !== 'summary') held.push(m);
      },
      { manualAck: true },
    );
    while (held.length < 2) await sleep(20);
    await c.stop();
    const idle = bus.consume('status_idle', 'palisade.*.*.decision', () => {}, { manualAck: true, deliverNew: true });
    await sleep(300);
    await idle.stop();
    bus.publish(subject('core', 'corr-1', 'decision'), 'corr-dec-2', { rule: 'block' });
    assert.equal(await bus.flush(5000), true);

    const now = Date.now() + 2000;
    const viaBus = await clusterStatus(bus, now);
    const viaUrl = await clusterStatus({ url: server.url, name: 'status-test' }, now);
    for (const st of [viaBus, viaUrl]) {
      assert.equal(st.stream.exists, true);
      assert.equal(st.stream.messages, 10);
      assert.equal(st.stream.firstSeq, 1);
      assert.equal(st.stream.lastSeq, 10);
      assert.equal(st.stream.maxBytes, 1024 ** 3, 'the default retention: 1 GiB');
      assert.equal(st.stream.maxAgeMs, 7 * 86_400_000, 'and 7 days');
      assert.ok(st.stream.firstTimeMs !== null && Math.abs((st.stream.firstTimeMs as number) - t0) < 5000, 'the oldest event held is when it was stored');
      assert.ok((st.stream.heldS as number) >= 1.5 && (st.stream.heldS as number) < 10, `${st.stream.heldS}`);
      assert.deepEqual(
        st.nodes.map((n) => [n.site, n.node, n.role, n.kinds]),
        [
          ['core', 'corr-1', null, { summary: 0, attack: 0, alert: 0, decision: 2 }],
          ['eu', 'sensor-1', 'sensor', { summary: 3, attack: 1, alert: 1, decision: 0 }],
          ['us', 'edge-1', 'edge', { summary: 3, attack: 0, alert: 0, decision: 0 }],
        ],
      );
      const [corr, sensor, edge] = st.nodes;
      assert.equal(corr?.lastSummaryMs, null);
      assert.equal(corr?.lagS, null);
      assert.equal(sensor?.summaryTimeMs, 1_002_000, 'the summary’s own clock (a replay’s time) is kept apart');
      assert.ok(sensor?.lastSummaryMs !== null && Math.abs((sensor?.lastSummaryMs as number) - t0) < 5000, 'last summary is when it was stored');
      assert.ok((edge?.lagS as number) >= 1.5 && (edge?.lagS as number) < 10, `${edge?.lagS}`);
      assert.deepEqual(
        st.consumers.map((x) => [x.durable, x.pending, x.ackPending]),
        [
          ['status_holder', 0, 5],
          ['status_idle', 1, 0],
        ],
      );
      assert.ok(st.consumers.every((x) => x.lastActiveMs === null || Math.abs(x.lastActiveMs - Date.now()) < 60_000));
    }
    const text = renderStatus(viaUrl, false);
    assert.doesNotMatch(text, /\x1b\[/);
    assert.match(text, /^stream PALISADE: 10 messages, .*, seq 1\.\.10$/m);
    assert.match(text, /^retention: holds since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+\.\ds\); limits 7 days, 1 GiB$/m);
    assert.match(text, /^SITE\s+NODE\s+ROLE\s+LAST SUMMARY \(UTC\)\s+LAG\s+SUMMARY\s+ATTACK\s+ALERT\s+DECISION$/m);
    assert.match(text, /^eu\s+sensor-1\s+sensor\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+\.\ds\s+3\s+1\s+1\s+0$/m);
    assert.match(text, /^core\s+corr-1\s+-\s+-\s+-\s+0\s+0\s+0\s+2$/m);
    assert.match(text, /^status_holder\s+0\s+5\s+0\s+/m);
    assert.match(renderStatus(viaUrl, true), /\x1b\[/);
    await bus.close();
  });

  it('a stream deleted under a running status read is reported as missing, not as an error', async () => {
    const nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(STREAM);
    await nc.close();
    const st = await clusterStatus({ url: server.url, name: 'status-test' }, Date.now());
    assert.equal(st.stream.exists, false);
  });
});
