/**
 * `--workers N`: N processes sharing the listen socket through node:cluster. The primary only
 * supervises: it starts the workers, restarts one that dies (after a pause that grows when they
 * keep dying), and on stop asks each to close gracefully, cutting those that outlive the
 * shutdown time. Each worker runs the whole edge with its own counters and origin pools.
 *
 * The workers run the same command line as the primary (cluster's default); the command sees
 * `cluster.isWorker` and calls `runWorker` instead of supervising.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Edge } from './server.js';

type Msg = { type: 'ready'; port: number } | { type: 'failed'; message: string } | { type: 'shutdown' };

export interface Supervisor {
  /** The port the workers listen on. */
  port: number;
  /** Settles once every worker has exited after stop(). */
  done: Promise<void>;
  stop(): void;
  /** Workers started so far (restarts included). */
  started(): number;
}

/**
 * Start `n` workers and resolve once all listen. Rejects with the first worker's start-up error
 * (an address in use, an unreadable certificate), after stopping the others.
 */
export function superviseWorkers(n: number, shutdownTimeoutMs: number, log: (line: string) => void): Promise<Supervisor> {
  // Round robin by the primary (node's default on Linux): it costs one hand-off per connection,
  // not per request, and spreads long keep-alive connections evenly, where a shared accept
  // queue (SCHED_NONE) can leave one worker with most of them (measured: p99 of 72 ms under wrk).
  // The price: a connection handed to a worker in the instant it crashes, before the primary
  // hears of it, is lost with that worker.
  cluster.schedulingPolicy = cluster.SCHED_RR;
  const live = new Set<Worker>();
  const readyOnes = new WeakSet<Worker>();
  let stopping = false;
  let started = 0;
  let recentDeaths = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => {
    resolveDone = r;
  });
  return new Promise((resolve, reject) => {
    let ready = 0;
    let port = 0;
    let failed = false;
    const sup: Supervisor = {
      get port() {
        return port;
      },
      done,
      started: () => started,
      stop() {
        if (stopping) return;
        stopping = true;
        if (live.size === 0) resolveDone();
        for (const w of live) {
          // A worker still starting has nothing to drain and may not listen to messages yet.
          if (!readyOnes.has(w)) w.process.kill('SIGTERM');
          else if (w.isConnected()) w.send({ type: 'shutdown' } satisfies Msg);
          const t = setTimeout(() => w.process.kill('SIGKILL'), shutdownTimeoutMs + 2_000);
          t.unref();
          w.once('exit', () => clearTimeout(t));
        }
      },
    };
    const fork = (): void => {
      const w = cluster.fork();
      started++;
      live.add(w);
      let wasReady = false;
      w.on('message', (m: Msg) => {
        if (m.type === 'ready') {
          wasReady = true;
          readyOnes.add(w);
          port = m.port;
          if (++ready === n) resolve(sup);
        } else if (m.type === 'failed' && !failed) {
          failed = true;
          sup.stop();
          reject(new Error(m.message));
        }
      });
      w.on('exit', (code, signal) => {
        live.delete(w);
        if (stopping) {
          if (live.size === 0) resolveDone();
          return;
        }
        if (!wasReady) {
          if (!failed) {
            failed = true;
            sup.stop();
            reject(new Error(`worker ${w.id} exited before listening (${signal ?? `code ${code}`})`));
          }
          return;
        }
        recentDeaths++;
        setTimeout(() => recentDeaths--, 60_000).unref();
        const pause = Math.min(30_000, 250 * 2 ** Math.min(recentDeaths, 7));
        log(`edge: worker ${w.id} (pid ${w.process.pid}) died (${signal ?? `code ${code}`}); a new one starts in ${pause} ms`);
        setTimeout(() => {
          if (!stopping) fork();
        }, pause).unref();
      });
    };
    for (let i = 0; i < n; i++) fork();
  });
}

/**
 * A worker's life: start the edge, say so, close it when the primary asks (or on SIGTERM), then
 * leave the cluster. SIGINT from a terminal reaches the whole process group: the primary handles it.
 */
export async function runWorker(start: () => Promise<Edge>): Promise<void> {
  const send = (m: Msg): void => {
    process.send?.(m);
  };
  // Listen first: the primary may ask to stop while this worker is still starting.
  let stopNow!: () => void;
  const stopAsked = new Promise<void>((resolve) => {
    stopNow = resolve;
  });
  process.on('message', (m: Msg) => {
    if (m.type === 'shutdown') stopNow();
  });
  process.on('SIGINT', () => {});
  process.once('SIGTERM', () => stopNow());
  cluster.worker?.once('disconnect', () => stopNow());
  let edge: Edge;
  try {
    edge = await start();
  } catch (e) {
    send({ type: 'failed', message: (e as Error).message });
    cluster.worker?.disconnect();
    return;
  }
  send({ type: 'ready', port: edge.address().port });
  await stopAsked;
  await edge.close();
  if (cluster.worker?.isConnected()) cluster.worker.disconnect();
}
