/**
 * A private nats-server with JetStream for one test file: its own free port and store directory,
 * so fault tests can stop and restart it (same port, same store) without touching the machine's
 * own server on 4222. Stopped by its PID: SIGTERM, then SIGKILL if it has not exited in 5 s. And
 * the check that the machine's own server answers, for the tests that use it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NATS_SERVER = '/usr/sbin/nats-server';
export const haveNatsServer = existsSync(NATS_SERVER);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = tcpConnect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export class NatsServer {
  private proc: ChildProcess | null = null;
  private log = '';

  private constructor(
    readonly port: number,
    readonly storeDir: string,
    /** Further nats-server flags (e.g. --user/--pass, --auth). */
    readonly args: readonly string[],
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== null;
  }

  /** A new server on a free port with a fresh store directory, listening when this resolves. */
  static async start(args: readonly string[] = []): Promise<NatsServer> {
    // missing is a failure that says what to install, never a skip
    if (!haveNatsServer) throw new Error(`${NATS_SERVER} is not installed: apt-get install nats-server (scripts/setup.sh installs .ci/apt-packages.txt)`);
    const s = new NatsServer(await freePort(), mkdtempSync(join(tmpdir(), 'palisade-nats-')), args);
    await s.restart();
    return s;
  }

  /** Starts it again on the same port and store (after stop()). */
  async restart(): Promise<void> {
    if (this.proc !== null) return;
    const proc = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const keep = (b: Buffer) => {
      this.log = (this.log + b.toString()).slice(-8192);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.once('exit', () => {
      if (this.proc === proc) this.proc = null;
    });
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      if (this.proc === null) throw new Error(`nats-server exited at start:\n${this.log}`);
      // JetStream is ready a moment after the port opens; the log says so.
      if ((await canConnect(this.port)) && /Server is ready/.test(this.log)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nats-server did not listen on ${this.port} within 10 s:\n${this.log}`);
  }

  /** Stops it (SIGTERM by PID, SIGKILL after 5 s), keeping the store for restart(). */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc === null || proc.pid === undefined) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    this.log = '';
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.proc = null;
  }

  /** Stops it and removes its store. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** The machine's own NATS (127.0.0.1:4222, which .ci/run starts): throws, saying so, when it does not answer — never a skip. */
export async function requireMachineNats(): Promise<void> {
  const up = await new Promise<boolean>((resolve) => {
    const s = tcpConnect(4222, '127.0.0.1');
    s.setTimeout(500);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
  if (!up) throw new Error('NATS JetStream is not running on 127.0.0.1:4222: start it (.ci/run does)');
}

/**
 * What a test left on the machine's own NATS: its site's events purged from the stream and the
 * durable consumers it named deleted, so runs do not pile up (a second run passes as the first).
 * Failures are reported, not thrown: it runs in `after` hooks.
 */
export async function cleanMachineNats(site: string, durables: readonly string[] = []): Promise<void> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: '127.0.0.1:4222', timeout: 3000 });
  try {
    const jsm = await jetstreamManager(nc);
    for (const d of durables) await jsm.consumers.delete('PALISADE', d).catch(() => false);
    await jsm.streams.purge('PALISADE', { filter: `palisade.${site}.>` });
  } catch (e) {
    process.stderr.write(`# cleaning site ${site} off the machine's NATS failed: ${(e as Error).message}\n`);
  } finally {
    await nc.close();
  }
}
