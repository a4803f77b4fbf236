/**
 * The multi-node flags every long-running command takes (monitor, edge, serve, correlate, cluster
 * status): where NATS is and how to log in, this node's site and name, and where events wait while
 * NATS is away. Only the flags and the Bus options they make; connecting is cluster/bus.ts's.
 * Secrets may come from the environment (PALISADE_NATS_TOKEN) so they stay out of `ps`, and every
 * flag has its key in palisade.yaml's `cluster:` section (config/cluster.ts; a flag wins).
 */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { type BusOptions, type NatsSettings, STREAM_DEFAULTS, type StreamLimits } from '../cluster/bus.js';
import { checkToken } from '../cluster/subjects.js';
import type { ClusterSection } from '../config/cluster.js';

/** The NATS connection flags (addNatsOptions). */
export interface NatsOpts {
  cluster?: string;
  natsToken?: string;
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
}

/** NATS, and this node's place in the cluster (addClusterOptions). */
export interface ClusterOpts extends NatsOpts {
  site?: string;
  node?: string;
  spool?: string;
  /** The stream's retention (palisade.yaml `cluster.stream` only: one setting for the whole cluster, not a per-run flag). */
  stream?: StreamLimits;
}

/** The NATS connection flags alone (cluster status has no site, node or spool). */
export function addNatsOptions(cmd: Command): Command {
  return cmd
    .option('--cluster <nats-url>', 'NATS JetStream of the multi-node mode: nats://host:4222 or tls://… (user:pass@ in the URL; several comma-separated)')
    .option('--nats-token <token>', 'NATS token (default $PALISADE_NATS_TOKEN)')
    .option('--nats-creds <file>', 'NATS credentials file (JWT and NKey seed)')
    .option('--nats-tls-ca <file>', 'CA certificate NATS is checked against')
    .option('--nats-tls-cert <file>', 'client certificate for NATS (with --nats-tls-key)')
    .option('--nats-tls-key <file>', 'client key for NATS');
}

/** NATS flags, and the node's place in the cluster. */
export function addClusterOptions(cmd: Command, role: string): Command {
  return addNatsOptions(cmd)
    .option('--site <name>', 'this node’s site (a PoP, a data centre) in event subjects (default: default)')
    .option('--node <name>', `this node’s name in event subjects (default: ${role}-<host name>)`)
    .option('--spool <dir>', 'keep events here while NATS is unreachable, and send them when it is back (default: in memory, bounded)');
}

/** A subject token from a host name: what NATS subjects allow. */
export function defaultNodeName(role: string): string {
  return `${role}-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 64);
}

/**
 * The flags, with palisade.yaml's `cluster:` section filling what was not given on the command
 * line (a flag wins over the file; the token may also come from $PALISADE_NATS_TOKEN).
 */
export function withClusterConfig<T extends ClusterOpts>(o: T, c: ClusterSection | undefined): T {
  if (c === undefined) return o;
  const tls = c.natsTls;
  return {
    ...o,
    ...(o.cluster === undefined && c.nats !== undefined && { cluster: c.nats }),
    ...(o.site === undefined && c.site !== undefined && { site: c.site }),
    ...(o.node === undefined && c.node !== undefined && { node: c.node }),
    ...(o.spool === undefined && c.spool !== undefined && { spool: c.spool }),
    ...(o.natsToken === undefined && process.env.PALISADE_NATS_TOKEN === undefined && c.natsToken !== undefined && { natsToken: c.natsToken }),
    ...(o.natsCreds === undefined && c.natsCreds !== undefined && { natsCreds: c.natsCreds }),
    ...(o.natsTlsCa === undefined && tls?.ca !== undefined && { natsTlsCa: tls.ca }),
    ...(o.natsTlsCert === undefined && tls?.cert !== undefined && { natsTlsCert: tls.cert }),
    ...(o.natsTlsKey === undefined && tls?.key !== undefined && { natsTlsKey: tls.key }),
    ...(c.stream !== undefined && { stream: { ...STREAM_DEFAULTS, ...c.stream } }),
  };
}

/** The NATS connection of the flags: URL, the connection's name, and the credentials (token from $PALISADE_NATS_TOKEN too). */
export function natsSettingsOf(o: NatsOpts & { cluster: string }, name: string): NatsSettings {
  const token = o.natsToken ?? process.env.PALISADE_NATS_TOKEN;
  const tls =
    o.natsTlsCa !== undefined || o.natsTlsCert !== undefined
      ? {
          ...(o.natsTlsCa !== undefined && { ca: o.natsTlsCa }),
          ...(o.natsTlsCert !== undefined && { cert: o.natsTlsCert }),
          ...(o.natsTlsKey !== undefined && { key: o.natsTlsKey }),
        }
      : undefined;
  return {
    url: o.cluster,
    name,
    ...(token !== undefined && { token }),
    ...(o.natsCreds !== undefined && { credsFile: o.natsCreds }),
    ...(tls !== undefined && { tls }),
  };
}

/** The Bus options of the flags (null: not clustered). Site and node are checked as subject tokens. */
export function busOptionsOf(o: ClusterOpts, role: string, log: (line: string) => void): (BusOptions & { site: string; node: string }) | null {
  if (o.cluster === undefined) return null;
  const node = checkToken('--node', o.node ?? defaultNodeName(role));
  const site = checkToken('--site', o.site ?? 'default');
  return {
    ...natsSettingsOf({ ...o, cluster: o.cluster }, node),
    site,
    node,
    log,
    ...(o.spool !== undefined && { spoolDir: o.spool }),
    ...(o.stream !== undefined && { stream: o.stream }),
  };
}
