/**
 * A Redis for tests: the machine's shared one at 127.0.0.1:6379 when it answers (CI starts it),
 * else, and for tests that kill it mid-test, a redis-server of the test's own on a free port
 * (no persistence, DEBUG allowed), stopped by `stopAll`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export const SHARED_URL = 'redis://127.0.0.1:6379';

const children: ChildProcess[] = [];
let dataDir: string | null = null;

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(6390 + Math.floor(Math.random() * 2000), '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** A redis-server of the test's own on `port`; resolves once it answers. */
export async function startRedis(port: number): Promise<ChildProcess> {
  dataDir ??= mkdtempSync(join(tmpdir(), 'palisade-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dataDir, '--logfile', '', '--enable-debug-command', 'local'];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  children.push(child);
  const c = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
  c.on('error', () => {});
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await c.connect().catch(() => {});
      if ((await c.ping()) === 'PONG') break;
    } catch {
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  c.disconnect();
  return child;
}

export async function reachable(url: string): Promise<boolean> {
  const c = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  c.on('error', () => {});
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

/** The shared Redis when it answers, else one of this test's own. */
export async function testRedisUrl(): Promise<string> {
  if (await reachable(SHARED_URL)) return SHARED_URL;
  const port = await freePort();
  await startRedis(port);
  return `redis://127.0.0.1:${port}`;
}

/** Deletes the keys under `prefix` (the server may be gone already). */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const c = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await c.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await c.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // the server of our own may be gone already
  }
  c.disconnect();
}

/** Kills the servers this test started and removes their directory. */
export function stopAll(): void {
  for (const ch of children) {
    if (ch.exitCode !== null || ch.signalCode !== null || ch.pid === undefined) continue;
    try {
      process.kill(ch.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (dataDir !== null) rmSync(dataDir, { recursive: true, force: true });
  dataDir = null;
}
