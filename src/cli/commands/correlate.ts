/**
 * `palisade correlate`: the multi-node mode's correlator as a process of its own — every sensor's
 * per-second windows from NATS JetStream added up and decided by the single-sensor detector,
 * alerts and incidents into the shared store (PostgreSQL), block lists of L7 alerts back out as
 * decisions. `palisade serve --cluster` runs the same thing inside the console's process.
 */

import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { startCorrelator } from '../../cluster/correlator-run.js';
import { checkToken } from '../../cluster/subjects.js';
import type { ClusterSection } from '../../config/cluster.js';
import { loadConfig } from '../../config/index.js';
import { UsageError } from '../../core/errors.js';
import { DEFAULT_DB, openStore } from '../../incidents/store/open.js';
import { addClusterOptions, busOptionsOf, type ClusterOpts, withClusterConfig } from '../cluster-options.js';
import { numberOption } from '../options.js';
import { eventLine } from './monitor.js';

interface Opts extends ClusterOpts {
  redis?: string;
  decisionsKey?: string;
  sites?: string[];
  db: string;
  config?: string;
  wait?: number;
  metrics?: string;
  duration?: number;
  json?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('correlate')
    .description('Correlate the sensors of a multi-node set-up: merged detection over their per-second summaries from NATS JetStream, one alert per attack in the shared store.');
  addClusterOptions(cmd, 'correlator');
  cmd
    .option('--db <file|url>', 'the shared alert store: postgres://user@host/db (or a SQLite file for one machine)', DEFAULT_DB)
    .option('--config <file>', 'palisade.yaml: detection settings and services (default ./palisade.yaml when present)')
    .option('--sites <names>', 'correlate only these sites’ nodes (comma-separated; default: every site)', (v: string) => v.split(',').map((x) => checkToken('--sites', x.trim())))
    .option('--wait <s>', 'how long a second waits for sensors that have not reported it yet (default 3)', numberOption('--wait', { min: 0 }))
    .option('--redis <url>', 'keep the decisions in force in Redis (redis://host:6379), where edges that start later find them')
    .option('--decisions-key <key>', 'the Redis hash of the decisions in force (default palisade:decisions; edges whose edge.counters.prefix is P read Pdecisions)')
    .option('--metrics <host:port>', 'serve Prometheus /metrics here')
    .option('--duration <s>', 'stop after S seconds', numberOption('--duration', { above: 0 }))
    .option('--json', 'print each stored alert event as one JSON line')
    .addHelpText(
      'after',
      `
Sensors (palisade monitor --cluster URL) publish each second's detector window; the correlator
adds every sensor's windows of a second up and decides them as one sensor would, so a carpet
bombing or a botnet split across sensors, each below its own threshold, is found, and an attack
several sensors see is one alert whose evidence gives each sensor's share. A second is decided
once every live sensor has reported it, or --wait seconds after its first report.

Nothing is acknowledged on the bus before it is stored: with the store down the correlator
waits and retries, and a restarted correlator resumes from its durable consumer
(correlator-<node>).

Exit codes: 0 stopped; 2 usage; 4 NATS or the store unreachable at start.

Example (one machine standing in for three):
  palisade correlate --cluster nats://127.0.0.1:4222 --db postgres://postgres@127.0.0.1/palisade --node core
  palisade monitor --cluster nats://127.0.0.1:4222 --node r1 --sflow :6343 --no-db
  palisade monitor --cluster nats://127.0.0.1:4222 --node r2 --sflow :6344 --no-db
  palisade cluster status --cluster nats://127.0.0.1:4222`,
    )
    .action(async (opts: Opts) => {
      const log = (l: string): void => void process.stderr.write(`correlate: ${l}\n`);
      const configFile = opts.config ?? (existsSync('palisade.yaml') ? 'palisade.yaml' : undefined);
      const config = configFile === undefined ? { detection: {}, services: [], cluster: {} } : loadConfig(configFile);
      // palisade.yaml's cluster: section fills what the flags do not say
      const cc: ClusterSection = config.cluster;
      const bo = busOptionsOf(withClusterConfig(opts, cc), 'correlator', log);
      if (bo === null) throw new UsageError('give --cluster nats://host:port (the NATS JetStream the sensors publish to), or cluster.nats in palisade.yaml');
      const sites = opts.sites ?? cc.correlate?.sites ?? [];
      const redis = opts.redis ?? cc.redis;
      const decisionsKey = opts.decisionsKey ?? cc.correlate?.decisionsKey;
      const metricsAt = opts.metrics ?? cc.metrics;
      const store = await openStore(opts.db);
      const tty = process.stdout.isTTY === true && opts.json !== true;
      let node: Awaited<ReturnType<typeof startCorrelator>>;
      try {
        node = await startCorrelator({
          bus: bo,
          store,
          detection: config.detection,
          services: config.services,
          holdMs: (opts.wait ?? cc.correlate?.waitS ?? 3) * 1000,
          sites,
          ...(redis !== undefined && { redis }),
          ...(decisionsKey !== undefined && { decisionsKey }),
          ...(metricsAt !== undefined && { metrics: metricsAt }),
          log,
          onStored: (e, incident) => {
            if (opts.json) process.stdout.write(`${JSON.stringify({ event: e.kind, significant: e.significant, change: e.change, incident, alert: e.alert })}\n`);
            else if (e.significant) process.stdout.write(`${eventLine(e, tty)}  [incident ${incident}]\n`);
          },
        });
      } catch (err) {
        await store.close();
        throw err;
      }
      const stop = (): void => void node.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const timer = opts.duration === undefined ? null : setTimeout(stop, opts.duration * 1000);
      log(`correlating ${sites.length === 0 ? 'every site' : `site ${sites.join(', ')}`} as ${bo.node}: store ${opts.db}`);
      try {
        const r = await node.done;
        log(
          `${r.summaries} summaries (${r.late} late, ${r.duplicates} handed over twice, ${r.malformed} malformed), ${r.seconds} seconds decided, ${r.stored} alert events stored, ${r.decisions} decisions published`,
        );
      } finally {
        if (timer) clearTimeout(timer);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await store.close();
      }
    });
}
