/**
 * `palisade cluster status --cluster nats://…`: the nodes the cluster has heard from (site, node,
 * role, last summary, lag) and the consumers' backlog, read from JetStream (cluster/status.ts).
 * Printing only; an unreachable NATS is one line and exit 3 within --timeout, never a hang.
 */
import type { Command } from 'commander';
import { clusterStatus, renderStatus } from '../../cluster/status.js';
import { UsageError } from '../../core/errors.js';
import { addNatsOptions, defaultNodeName, type NatsOpts, natsSettingsOf } from '../cluster-options.js';
import { numberOption } from '../options.js';

interface StatusOpts extends NatsOpts {
  json?: boolean;
  timeout: number;
}

const EXAMPLES = `
Nodes are found in the stream itself: every site and node that published an event is listed,
with the role and time of its last per-second summary. LAG is how long ago that was (a sensor
or an edge more than a few seconds behind is silent or cut off). A consumer's PENDING is what
it has not been handed yet; ACK PENDING what it was handed and has not acknowledged.

Exit codes: 0 done; 2 usage (no --cluster, a bad URL); 3 NATS unreachable, credentials refused
or JetStream disabled.

Examples:
  palisade cluster status --cluster nats://127.0.0.1:4222
  palisade cluster status --cluster tls://nats.example:4222 --nats-creds palisade.creds --nats-tls-ca ca.pem
  palisade cluster status --cluster nats://user:secret@10.0.0.5:4222,nats://user:secret@10.0.0.6:4222
  palisade cluster status --cluster nats://127.0.0.1:4222 --json | jq '.nodes[] | select(.lagS > 10)'`;

export function register(program: Command): void {
  const cluster = program.command('cluster').description('The multi-node mode: what the NATS JetStream cluster holds (nodes heard from, consumers).');
  addNatsOptions(
    cluster
      .command('status')
      .description('the nodes heard from (role, site, last summary, lag) and the consumers’ backlog')
      .option('--json', 'print the status as one JSON object')
      .option('--timeout <s>', 'give up on NATS after S seconds', numberOption('--timeout', { above: 0, max: 300 }), 5)
      .addHelpText('after', EXAMPLES),
  ).action(async (o: StatusOpts) => {
    if (o.cluster === undefined) throw new UsageError('cluster status: give the NATS URL with --cluster nats://host:4222');
    const name = defaultNodeName('status');
    const status = await clusterStatus(natsSettingsOf({ ...o, cluster: o.cluster }, name), Date.now(), o.timeout * 1000);
    if (o.json === true) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    else process.stdout.write(renderStatus(status, process.stdout.isTTY === true));
  });
}
