/**
 * Every node of a cluster exposes Prometheus metrics (issue 19, "Operations"): the bus's counters
 * in the text exposition format 0.0.4 (`busMetrics`), and a tiny HTTP listener for nodes that
 * have no admin server of their own (`serveMetrics`: GET /metrics, 404 elsewhere). The render
 * function is the caller's, so a node adds its own lines after the bus's.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PalisadeError } from '../core/errors.js';
import type { BusStats } from './bus.js';

export interface NodeLabels {
  role: string;
  site: string;
  node: string;
}

/** A label value escaped as the format asks (backslash, quote, newline). */
function labelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

const COUNTERS: ReadonlyArray<readonly [keyof BusStats, string, string]> = [
  ['published', 'palisade_cluster_published_total', 'Events handed to the bus for publishing.'],
  ['acked', 'palisade_cluster_acked_total', 'Events JetStream acknowledged as stored.'],
  ['duplicates', 'palisade_cluster_duplicates_total', 'Resent events JetStream already had (de-duplicated by message id; not a loss).'],
  ['spooled', 'palisade_cluster_spooled_total', 'Events written to the spool because JetStream did not answer.'],
  ['replayed', 'palisade_cluster_replayed_total', 'Spooled events resent and acknowledged.'],
  ['dropped', 'palisade_cluster_dropped_total', 'Events dropped because the spool was full.'],
  ['failed', 'palisade_cluster_publish_failures_total', 'Publish attempts that failed (retried from the spool).'],
];

/** The bus's counters and gauges as exposition text, each series labelled with the node's role, site and name. */
export function busMetrics(stats: BusStats, labels: NodeLabels): string {
  const l = `role="${labelValue(labels.role)}",site="${labelValue(labels.site)}",node="${labelValue(labels.node)}"`;
  const out: string[] = [];
  const series = (name: string, type: 'counter' | 'gauge', help: string, value: number) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}{${l}} ${value}`);
  series('palisade_cluster_connected', 'gauge', 'Whether the node is connected to NATS (1) or not (0).', stats.connected ? 1 : 0);
  for (const [key, name, help] of COUNTERS) series(name, 'counter', help, stats[key] as number);
  series('palisade_cluster_pending_events', 'gauge', 'Events published and not yet acknowledged (in flight or spooled).', stats.pending);
  series('palisade_cluster_spool_bytes', 'gauge', 'Bytes the spool holds.', stats.spoolBytes);
  return `${out.join('\n')}\n`;
}

/** `host:port`, `:port` or `[v6]:port` as a host (undefined: every interface) and a port. */
function parseListen(listen: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(listen.trim());
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || port > 65535) throw new PalisadeError('E_USAGE', `metrics listener "${listen}": use HOST:PORT, [IPV6]:PORT or :PORT (e.g. 127.0.0.1:9464)`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

/** A listener answering GET /metrics with `render()`; `port` is the one bound (useful with port 0). */
export async function serveMetrics(listen: string, render: () => string): Promise<{ close(): Promise<void>; port: number }> {
  const { host, port } = parseListen(listen);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics\n');
      return;
    }
    let body: string;
    try {
      body = render();
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${(e as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new PalisadeError('E_USAGE', `metrics listener ${listen}: ${e.code ?? e.message}`)));
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
