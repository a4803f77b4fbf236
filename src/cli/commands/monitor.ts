/**
 * `palisade monitor`: watch traffic continuously and raise alerts — from a live interface (through
 * dumpcap or tcpdump), a pcap stream on stdin, or a capture replayed at its own pace for drills.
 * Prints each alert event (start, significant update, end) as it happens; --json prints them as
 * JSON lines for machines. Its inputs are watch-inputs.ts's (serve takes the same), its wiring to
 * the store analyze/monitor-run.ts's.
 */
import { hostname } from 'node:os';
import { type Command, Option } from 'commander';
import { edgeStream } from '../../analyze/monitor-inputs.js';
import { runStoredMonitor } from '../../analyze/monitor-run.js';
import { Bus } from '../../cluster/bus.js';
import { DecisionStore } from '../../cluster/decision-store.js';
import { busMetrics, serveMetrics } from '../../cluster/metrics.js';
import { MonitorDecisions } from '../../cluster/monitor-decisions.js';
import { SensorNode } from '../../cluster/sensor-node.js';
import { UsageError } from '../../core/errors.js';
import type { AlertEvent } from '../../incidents/alerts.js';
import type { TimelineEntry } from '../../incidents/desk.js';
import { EdgeEnforcer } from '../../incidents/enforce/edge.js';
import type { Enforcer } from '../../incidents/enforce/enforcer.js';
import { exabgpExchange, FlowspecEnforcer } from '../../incidents/enforce/flowspec.js';
import { NftEnforcer } from '../../incidents/enforce/nft.js';
import { DEFAULT_POLICY } from '../../incidents/mitigator.js';
import { DEFAULT_DB, openStore } from '../../incidents/store/open.js';
import type { Store } from '../../incidents/store/store.js';
import { bitsText } from '../../incidents/triage.js';
import { addClusterOptions, busOptionsOf, type ClusterOpts, withClusterConfig } from '../cluster-options.js';
import { intOption, numberOption } from '../options.js';
import { durationOption, severityText } from '../store-cli.js';
import { watchInputs } from '../watch-inputs.js';
import { addWatchOptions, anyWatchInput, type WatchOpts } from '../watch-options.js';

interface Opts extends WatchOpts, ClusterOpts {
  metrics?: string;
  redis?: string;
  sensor?: string;
  json?: boolean;
  duration?: number;
  mitigate: 'off' | 'suggest' | 'auto';
  netns?: string;
  nftDevice?: string;
  nft: boolean;
  flowspec?: string;
  hold: number;
  maxActive: number;
  db: string | false;
  edge?: string;
  edgeToken?: string;
  retention?: number;
}

export function register(program: Command): void {
  const cmd = program
    .command('monitor')
    .argument('[capture]', '`-` for a pcap/pcapng stream on stdin')
    .description('Watch traffic continuously and raise alerts: live (-i), from stdin, or a capture replayed at its own pace (--replay).');
  addWatchOptions(cmd);
  addClusterOptions(cmd, 'sensor');
  cmd
    .option('--metrics <host:port>', 'with --cluster: serve Prometheus /metrics (the bus counters) here')
    .option('--redis <url>', 'with --cluster: the decisions in force (redis://host:6379), taken up at start; with --mitigate, their source lists go to the L3/4 enforcement points')
    .option('--edge <url>', "a palisade edge's admin URL: read its request stream, and push L7 mitigations to it (with --mitigate)")
    .option('--edge-token <token>', 'bearer token of the edge admin API (default $PALISADE_ADMIN_TOKEN)')
    .option('--sensor <name>', 'this sensor’s name in alerts (default: the host name)')
    .option('--json', 'print each alert event as one JSON line')
    .option('--db <file|url>', 'where alerts, incidents and their timelines are kept: a SQLite file or postgres://…', DEFAULT_DB)
    .option('--no-db', 'keep nothing (print only)')
    .option(
      '--retention <age>',
      'at start and hourly, delete closed incidents (with their alerts and timelines), per-second summaries and sent notifications older than AGE: 90d, 12w (default: keep all; see incidents prune)',
      durationOption('--retention'),
    )
    .option('--duration <s>', 'stop after S seconds', numberOption('--duration', { above: 0 }))
    .addOption(
      new Option('--mitigate <mode>', 'off; suggest (write what would be applied); auto (load it into nftables and/or announce it as Flowspec, within the limits)')
        .choices(['off', 'suggest', 'auto'])
        .default('off'),
    )
    .option('--netns <name>', 'load nftables mitigations in this network namespace (default: this one)')
    .option('--nft-device <dev>', "drop at this device's ingress hook (nftables family netdev, before the IP stack) instead of inet prerouting")
    .option('--flowspec <exabgp-pipe>', "also announce mitigations as BGP Flowspec routes through ExaBGP's API pipes, e.g. /run/exabgp/exabgp (.in, .out)")
    .option('--no-nft', 'leave nftables alone: with --flowspec, mitigate through Flowspec only')
    .option('--hold <s>', 'seconds a mitigation stays after its attack ended', numberOption('--hold', { min: 0 }), DEFAULT_POLICY.holdS)
    .option('--max-active <n>', 'mitigations in place at once, at most', intOption('--max-active', { min: 1 }), DEFAULT_POLICY.maxActive)
    .addHelpText(
      'after',
      `
An alert is raised when an attack starts, updated in place when it changes in a way that
matters (its peak doubled, its severity rose, its signature was found, a mitigation started or
stopped holding it) and closed when it ends. Each carries a score (0-100: the queue's order), a
severity and an urgency, with the reasons: size against the service's link (services: in
palisade.yaml) or against attacks in general, against the victim's usual traffic, the service's
tier, whether it is growing, whether it is mitigated, and detection's confidence.

HTTP inputs (--http-log, --edge) go through the edge's live L7 analysis (HTTP floods,
credential stuffing, scanners, slowloris; signature search and measurement over the last
requests, as edge.live in palisade.yaml sets it); packets and HTTP may be watched together. With
--mitigate and --edge, an L7 attack's rule is pushed to the edge (its admin API) and taken away
after the hold, as nftables rules are for L3/4 attacks.

Exit codes: 0 ok (stopped, or the replay/stream ended); 2 usage; 3 input unreadable or the
capture program missing.

Examples:
  palisade monitor -i eth0 -f 'not port 22'
  tcpdump -i eth0 -w - | palisade monitor -
  palisade monitor --replay drill.pcap --speed 10 --json
  palisade monitor -i eth0 --mitigate auto --flowspec /run/exabgp/exabgp            # nftables here, Flowspec upstream
  palisade monitor -i eth0 --mitigate auto --flowspec /run/exabgp/exabgp --no-nft   # Flowspec only`,
    )
    .action(async (capture: string | undefined, opts: Opts) => {
      if (capture !== undefined && capture !== '-') throw new UsageError(`a capture file is replayed with --replay ${capture}; the argument is only - (stdin)`);
      if (capture === undefined && !anyWatchInput(opts) && opts.edge === undefined)
        throw new UsageError('give an input: -i IFACE, --replay FILE, - (a capture on stdin), --sflow/--netflow/--ipfix ADDR, --http-log FILE or --edge URL');
      if (!opts.nft && opts.flowspec === undefined) throw new UsageError('--no-nft leaves no enforcement point: give --flowspec EXABGP-PIPE too');
      if (!opts.nft && (opts.netns !== undefined || opts.nftDevice !== undefined))
        throw new UsageError('--netns and --nft-device place nftables rules; they mean nothing with --no-nft');
      const edgeToken = opts.edgeToken ?? process.env.PALISADE_ADMIN_TOKEN ?? null;
      const note = (l: string): void => void process.stderr.write(`monitor: ${l}\n`);
      const inputs = watchInputs(opts, capture === '-', opts.edge === undefined ? [] : [edgeStream(opts.edge, edgeToken, note)], note);
      const { stream, name, pace, config, http } = inputs;
      const abort = new AbortController();
      const stop = (): void => {
        abort.abort();
        inputs.stopCapture?.();
        if (stream !== undefined && stream !== process.stdin) stream.destroy();
        else if (stream !== undefined) process.stdin.pause();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const timer = opts.duration === undefined ? null : setTimeout(stop, opts.duration * 1000);
      const tty = process.stdout.isTTY === true && opts.json !== true;
      const store: Store | null = opts.db === false ? null : await openStore(opts.db);
      // palisade.yaml's cluster: section fills the cluster flags not given
      const cc = config.cluster;
      const clusterOpts = busOptionsOf(withClusterConfig(opts, cc), 'sensor', note);
      const redis = opts.redis ?? cc?.redis;
      const metricsAt = opts.metrics ?? cc?.metrics;
      const sensor = opts.sensor ?? clusterOpts?.node ?? hostname();
      if (opts.redis !== undefined && clusterOpts === null) throw new UsageError('--redis holds the cluster’s decisions: give --cluster too');
      if (opts.metrics !== undefined && clusterOpts === null) throw new UsageError('--metrics serves the cluster node’s counters: give --cluster too');
      const print = (e: AlertEvent, incident: number, created: boolean): void => {
        if (opts.json) process.stdout.write(`${JSON.stringify({ event: e.kind, significant: e.significant, change: e.change, incident, alert: e.alert })}\n`);
        else if (e.significant) process.stdout.write(`${eventLine(e, tty)}  [incident ${incident}${created ? ', new' : ''}]\n`);
      };
      // enforcement points: nftables first (its mitigations keep the plain id), then Flowspec (both
      // for L3/4 attacks, so only with packets to watch), then the edge (L7 attacks)
      const enforcers: Enforcer[] = [];
      const flowspec = opts.flowspec === undefined ? null : new FlowspecEnforcer({ pipe: opts.flowspec });
      if (opts.mitigate !== 'off') {
        const l34 = inputs.l34;
        if (l34 && opts.nft) enforcers.push(new NftEnforcer({ netns: opts.netns ?? null, ...(opts.nftDevice !== undefined && { device: opts.nftDevice }) }));
        if (l34 && flowspec !== null) enforcers.push(flowspec);
        if (opts.edge !== undefined) enforcers.push(new EdgeEnforcer({ url: opts.edge, token: edgeToken }));
      }
      if (flowspec !== null && enforcers.includes(flowspec)) {
        // not fatal (ExaBGP may come up later, and each failure is on the timeline), but said at once
        await exabgpExchange(flowspec.pipe, [], 2000).catch((e: Error) => process.stderr.write(`monitor: Flowspec mitigations will fail until ExaBGP answers: ${e.message}\n`));
      }
      const clustered =
        clusterOpts === null
          ? null
          : await startSensorNode(clusterOpts, metricsAt, opts.mitigate === 'off' ? null : { mode: opts.mitigate, enforcers, redis, maxActive: opts.maxActive });
      const printAction = (entry: TimelineEntry, incident: number, failed: boolean): void => {
        if (opts.json) process.stdout.write(`${JSON.stringify({ event: 'mitigation', incident, failed, entry })}\n`);
        else process.stdout.write(`${entry.at.slice(11, 19)} ${failed ? 'FAILED' : 'MITIG.'} ${entry.text}  [incident ${incident}]\n`);
      };
      const flowInput = inputs.flows;
      const watched = inputs.watched;
      if (!opts.json)
        process.stderr.write(`monitor: watching ${watched}${enforcers.length > 0 ? `, mitigation ${opts.mitigate} (${enforcers.map((e) => e.target).join(', ')})` : ''}\n`);
      try {
        const r = await runStoredMonitor({
          store,
          ...(stream !== undefined && { stream }),
          ...(name !== undefined && { name }),
          http,
          ...(flowInput !== null && { flows: flowInput }),
          ...(config.edge !== undefined && { l7: config.edge.live }),
          pace,
          detection: config.detection,
          services: config.services,
          notifications: config.notifications,
          sensor,
          enforcers,
          policy: { mode: opts.mitigate as 'suggest' | 'auto', holdS: opts.hold, maxActive: opts.maxActive },
          ...(opts.retention !== undefined && { retentionMs: opts.retention }),
          log: (l) => process.stderr.write(`monitor: ${l}\n`),
          onEvent: print,
          onAction: printAction,
          onResumed: (n) => {
            if (!opts.json) process.stderr.write(`monitor: ${n} open incident(s) resumed from ${opts.db}\n`);
          },
          onPruned: (r, sent) => {
            if (!opts.json)
              process.stderr.write(
                `monitor: retention: ${r.incidents.length} closed incident(s), ${r.alerts} alert(s), ${r.summaries} per-second summaries and ${sent} sent notification(s) older than the cutoff deleted\n`,
              );
          },
          ...(clustered !== null && { publish: clustered.node }),
          signal: abort.signal,
        });
        // stderr in both modes: --json keeps stdout for the events
        const reqs = http.length > 0 ? `, ${r.requests} requests${r.malformedLines > 0 ? ` (${r.malformedLines} log lines unparsed, skipped)` : ''}` : '';
        const flowsText = flowInput !== null ? ` (from ${r.flowRecords} flow records and samples${r.flowLoss > 0 ? `; ${r.flowLoss} lost on the way` : ''})` : '';
        process.stderr.write(`monitor: ${Math.round(r.packets)} packets${flowsText}${reqs}, ${r.alerts} alert(s), ${r.events} event(s)\n`);
      } finally {
        await clustered?.stop();
        await store?.close();
        if (timer) clearTimeout(timer);
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        inputs.stopCapture?.();
      }
    });
}

/**
 * The sensor's side of the multi-node mode: the bus, what it publishes, its metrics, and (with
 * --mitigate) the correlator's decisions applied to its enforcement points.
 */
async function startSensorNode(
  o: NonNullable<ReturnType<typeof busOptionsOf>>,
  metricsAt: string | undefined,
  mitigate: { mode: 'suggest' | 'auto'; enforcers: readonly Enforcer[]; redis: string | undefined; maxActive: number } | null,
): Promise<{ node: SensorNode; stop: () => Promise<void> }> {
  const bus = await Bus.connect(o);
  const node = new SensorNode({ bus, site: o.site, node: o.node, now: Date.now });
  const store = mitigate?.redis === undefined ? null : new DecisionStore({ url: mitigate.redis, log: o.log });
  const decisions =
    mitigate === null || mitigate.enforcers.length === 0
      ? null
      : new MonitorDecisions({ bus, enforcers: mitigate.enforcers, mode: mitigate.mode, maxActive: mitigate.maxActive, store, log: o.log ?? (() => {}) });
  await decisions?.start();
  const metrics = metricsAt === undefined ? null : await serveMetrics(metricsAt, () => busMetrics(bus.stats(), { role: 'sensor', site: o.site, node: o.node }));
  return {
    node,
    stop: async () => {
      await decisions?.stop();
      await store?.close();
      await metrics?.close();
      await bus.close();
      const st = bus.stats();
      o.log?.(
        `cluster: ${st.published} events published, ${st.acked} stored by JetStream (${st.duplicates} duplicates dropped), ${st.replayed} resent from the spool, ${st.dropped} dropped${st.pending > 0 ? `, ${st.pending} left in the spool for the next start` : ''}`,
      );
    },
  };
}

/** One event for a person: time, what happened, severity, vector → victim, size, score, why. */
export function eventLine(e: AlertEvent, colour: boolean): string {
  const a = e.alert;
  const when = a.last_seen.slice(11, 19);
  const kind = e.kind === 'start' ? 'START ' : e.kind === 'end' ? 'END   ' : 'UPDATE';
  const pad = ' '.repeat(Math.max(0, 8 - a.severity.length));
  const size = a.attack.peak_rps !== undefined ? `${Math.round(a.attack.peak_rps)} req/s` : `${bitsText(a.attack.peak_bps)}, ${Math.round(a.attack.peak_pps)} pps`;
  const where = a.service ? ` (${a.service}${a.customer ? `, ${a.customer}` : ''})` : '';
  const tail = e.kind === 'update' ? ` — ${e.change}` : e.kind === 'start' ? ` — ${a.reasons.join('; ')}` : '';
  return `${when} ${kind} ${severityText(a.severity, colour)}${pad} ${a.vector} → ${a.victim}${where}  peak ${size}  score ${a.score}${tail}`;
}
