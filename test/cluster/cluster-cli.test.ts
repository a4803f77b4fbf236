/**
 * `palisade cluster status` as a process: --json's shape against a private nats-server with a
 * node and a consumer on it, the table without --json, and the failures a person meets: no
 * --cluster (exit 2), nothing listening (one line, exit 3, quickly), an address that never
 * answers (bounded by --timeout).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Bus } from '../../src/cluster/bus.js';
import { subject } from '../../src/cluster/subjects.js';
import { NatsServer } from '../helpers/nats-server.js';

const ROOT = join(import.meta.dirname, '../..');

function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    p.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.once('error', reject);
    p.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** A TCP port that accepts connections and never says a word (a NATS that hangs). */
async function silentPort(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const s = createServer((c) => sockets.add(c));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return {
    port: (s.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        for (const c of sockets) c.destroy();
        s.close(() => r());
      }),
  };
}

describe('palisade cluster status', { timeout: 90_000 }, () => {
  let server: NatsServer;
  before(async () => {
    server = await NatsServer.start();
    const bus = await Bus.connect({ url: server.url, name: 'cli-bus', log: () => {} });
    bus.publish(subject('lab', 'sensor-a', 'summary'), 's-1', { role: 'sensor', site: 'lab', node: 'sensor-a', second: 1, timeMs: Date.now() });
    bus.publish(subject('lab', 'sensor-a', 'alert'), 'a-1', { id: 'alert-1' });
    assert.equal(await bus.flush(5000), true);
    const c = bus.consume('cli_correlator', 'palisade.>', () => {});
    await new Promise((r) => setTimeout(r, 300));
    await c.stop();
    await bus.close();
  });
  after(async () => {
    await server?.dispose();
  });

  it('--json prints the stream, the nodes and the consumers', async () => {
    const r = await run('cluster', 'status', '--cluster', server.url, '--json');
    assert.equal(r.code, 0, r.stderr);
    const st = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(st), ['stream', 'nodes', 'consumers']);
    const stream = st.stream as { bytes: number; firstTimeMs: number; heldS: number };
    assert.ok(stream.firstTimeMs > Date.now() - 60_000 && stream.heldS >= 0 && stream.heldS < 60, JSON.stringify(stream));
    assert.deepEqual(st.stream, {
      name: 'PALISADE',
      exists: true,
      messages: 2,
      bytes: stream.bytes,
      firstSeq: 1,
      lastSeq: 2,
      firstTimeMs: stream.firstTimeMs,
      heldS: stream.heldS,
      maxBytes: 1024 ** 3,
      maxAgeMs: 7 * 86_400_000,
      replicas: 1,
    });
    const nodes = st.nodes as Record<string, unknown>[];
    assert.equal(nodes.length, 1);
    assert.deepEqual(Object.keys(nodes[0] as object).sort(), ['kinds', 'lagS', 'lastSummaryMs', 'node', 'role', 'site', 'summaryTimeMs']);
    assert.equal(nodes[0]?.site, 'lab');
    assert.equal(nodes[0]?.node, 'sensor-a');
    assert.equal(nodes[0]?.role, 'sensor');
    assert.equal(typeof nodes[0]?.lastSummaryMs, 'number');
    assert.equal(typeof nodes[0]?.lagS, 'number');
    assert.deepEqual(nodes[0]?.kinds, { summary: 1, attack: 0, alert: 1, decision: 0 });
    const consumers = st.consumers as Record<string, unknown>[];
    assert.deepEqual(
      consumers.map((c) => [c.durable, c.pending, c.ackPending, c.redelivered]),
      [['cli_correlator', 0, 0, 0]],
    );
    assert.deepEqual(Object.keys(consumers[0] as object).sort(), ['ackPending', 'durable', 'lastActiveMs', 'pending', 'redelivered']);
  });

  it('without --json prints tables for people', async () => {
    const r = await run('cluster', 'status', '--cluster', server.url);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^stream PALISADE: 2 messages/m);
    assert.match(r.stdout, /^lab\s+sensor-a\s+sensor\s+/m);
    assert.match(r.stdout, /^cli_correlator\s+0\s+0\s+0/m);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour into a pipe');
  });

  it('no --cluster: a usage error, exit 2', async () => {
    const r = await run('cluster', 'status');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--cluster/);
  });

  it('nothing listening: one line and exit 3, at once', async () => {
    const probe = await silentPort();
    const port = probe.port;
    await probe.close();
    const r = await run('cluster', 'status', '--cluster', `nats://127.0.0.1:${port}`);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^palisade: NATS at nats://127\\.0\\.0\\.1:${port} is not reachable`));
  });

  it('a server that never answers: exit 3 within --timeout, not a hang; credentials in the URL are not printed', async () => {
    const silent = await silentPort();
    try {
      const r = await run('cluster', 'status', '--cluster', `nats://alice:s3cret@127.0.0.1:${silent.port}`, '--timeout', '1');
      assert.equal(r.code, 3, r.stderr);
      assert.ok(r.ms < 15_000, `${r.ms} ms`);
      assert.match(r.stderr, /^palisade: NATS at nats:\/\/\*\*\*@127\.0\.0\.1:\d+ is not reachable/);
      assert.doesNotMatch(r.stderr, /s3cret/);
    } finally {
      await silent.close();
    }
  });
});
