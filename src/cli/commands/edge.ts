/**
 * `palisade edge`: the reverse proxy in front of a site's origin. Argument parsing and start-up
 * only; the transport is src/proxy/server.ts, the workers src/proxy/workers.ts.
 */
import cluster from 'node:cluster';
import { existsSync, type FSWatcher, readFileSync, watch } from 'node:fs';
import type { Command } from 'commander';
import { InputError, UsageError } from '../../core/errors.js';
import type { EdgeOptions } from '../../proxy/options.js';
import type { Edge } from '../../proxy/server.js';
import { newStats } from '../../proxy/stats.js';
import { addClusterOptions, busOptionsOf, type ClusterOpts, withClusterConfig } from '../cluster-options.js';
import { collect, intOption, numberOption, parseIntArg } from '../options.js';

interface EdgeFlags extends ClusterOpts {
  listen: string;
  origin: string[];
  cert?: string;
  key?: string;
  devCert?: boolean;
  trustedProxy: string[];
  proxyProtocol?: boolean;
  accessLog?: string;
  workers: number;
  connectTimeout?: number;
  originTimeout?: number;
  headerTimeout?: number;
  bodyTimeout?: number;
  keepaliveTimeout?: number;
  minBodyRate?: number;
  maxHeaderBytes?: number;
  maxHeaderCount?: number;
  maxBodyBytes?: number;
  maxConnsPerIp?: number;
  shutdownTimeout?: number;
  config?: string;
  blockList: string[];
  mode?: string;
  admin?: string;
  adminToken?: string;
  redis?: string;
}

const seconds = (flag: string) => numberOption(flag, { above: 0, max: 86_400 });
const ms = (s: number | undefined): number | undefined => (s === undefined ? undefined : Math.round(s * 1000));

export function register(program: Command): void {
  const cmd = program
    .command('edge')
    .description('Reverse proxy in front of your origin: HTTP/1.1, HTTP/2 over TLS, WebSocket, with slow-client limits and a JSON access log.')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option('--origin <url>', 'origin base URL, e.g. http://127.0.0.1:9000 (repeat for several: round robin, failing ones skipped for a while)', collect, [])
    .option('--cert <file>', 'PEM certificate: listen with TLS, HTTP/2 and HTTP/1.1 by ALPN (with --key)')
    .option('--key <file>', 'PEM private key for --cert')
    .option('--dev-cert', 'TLS with a self-signed certificate for localhost, made with openssl and kept in ~/.local/state/palisade/dev-cert')
    .option('--trusted-proxy <cidr>', 'believe X-Forwarded-For, Forwarded and palisade-request-id from these addresses (repeatable)', collect, [])
    .option('--proxy-protocol', 'expect a PROXY protocol v1 or v2 header on each connection (behind haproxy, an AWS NLB ...)')
    .option('--access-log <file|->', 'JSON access log, one HttpRequest per line (- for stdout); `palisade analyze` reads it')
    .option('--workers <n>', 'processes sharing the listen socket (default 1)', intOption('--workers', { min: 1, max: 256 }), 1)
    .option('--connect-timeout <s>', 'origin connect timeout in seconds (default 5)', seconds('--connect-timeout'))
    .option('--origin-timeout <s>', 'seconds for the origin to start answering, and longest pause in its body (default 30)', seconds('--origin-timeout'))
    .option('--header-timeout <s>', 'seconds for a client to send the whole request head; slower ones get 408 (default 10)', seconds('--header-timeout'))
    .option('--body-timeout <s>', 'longest pause in a request body, in seconds (default 30)', seconds('--body-timeout'))
    .option('--keepalive-timeout <s>', 'idle client connections are closed after this many seconds (default 5)', seconds('--keepalive-timeout'))
    .option('--min-body-rate <bytes/s>', 'request bodies slower than this after 10 s get 408; 0 for no minimum (default 512)', intOption('--min-body-rate', { min: 0 }))
    .option('--max-header-bytes <n>', 'largest request head; larger ones get 431 (default 16384)', intOption('--max-header-bytes', { min: 1024, max: 1 << 20 }))
    .option('--max-header-count <n>', 'most header lines in a request; more get 431 (default 100)', intOption('--max-header-count', { min: 1, max: 10_000 }))
    .option('--max-body-bytes <n>', 'largest request body; larger ones get 413 (default 10485760)', intOption('--max-body-bytes', { min: 0 }))
    .option('--max-conns-per-ip <n>', 'concurrent connections per client address; more are closed (default 256)', intOption('--max-conns-per-ip', { min: 1 }))
    .option('--shutdown-timeout <s>', 'on SIGINT/SIGTERM, seconds in-flight requests may take before being cut (default 10)', seconds('--shutdown-timeout'))
    .option(
      '--config <file>',
      'palisade.yaml: its edge section (lists, ruleset, waf, counters, challenge, live, mode); default ./palisade.yaml when present; SIGHUP or a change to the file reloads it',
    )
    .option('--block-list <file>', 'addresses and prefixes to block, one per line or any list format the rulesets read (repeatable)', collect, [])
    .option(
      '--mode <mode>',
      'live L7 protection: auto (apply the rules it derives, release them when the attack is over), suggest (log them only), off; default edge.mode, else auto',
    )
    .option('--admin <host:port>', 'serve Prometheus /metrics and the admin API (/api/rules, /api/decisions, /api/stats) here; loopback unless --admin-token')
    .option('--admin-token <token>', 'bearer token the admin API requires (default: $PALISADE_ADMIN_TOKEN)')
    .option('--redis <url>', 'share rate-limit counters (and read the cluster decisions in force) in this Redis: edge.counters.store redis with this redis_url');
  addClusterOptions(cmd, 'edge')
    .addHelpText(
      'after',
      `
Every request gets an id, sent to the origin and on the edge's own answers as
palisade-request-id. The origin sees Via, X-Forwarded-For/-Proto/-Host and Forwarded; the
client's forwarding headers are kept only when it is a --trusted-proxy (the client address is
then the rightmost untrusted X-Forwarded-For hop). Answers of the edge itself: 400 malformed or
ambiguous requests (never forwarded), 408 slow clients, 413, 431, 502 origin unreachable,
504 origin too slow. SIGINT or SIGTERM stops accepting and lets in-flight requests finish.

Decisions, in Cloudflare's order: IP lists (allow lists win) -> custom rules -> rate limits ->
WAF (the OWASP CRS at paranoia 1, blocking, unless palisade.yaml says otherwise) -> origin. With
no configuration it runs the WAF and live L7 protection in auto mode: it learns the site's
traffic, and when it detects an HTTP flood, credential stuffing or a scanner it installs the
rule it derived (a signature, a source list, a rate limit), within limits, logs every decision,
and removes the rule once the attack has been over for edge.live.release_after_s (300 s).
Answers of its own carry palisade-mitigated: block | challenge | rate_limit | waf.

Multi-node (--cluster nats://…): the edge loads the decisions in force from Redis (--redis, or
edge.counters with store redis), applies every decision a correlator publishes on
palisade.*.*.decision within milliseconds, publishes a summary of each second on
palisade.<site>.<node>.summary (node: --node, default edge-<host name>) and its live
protection's decisions on palisade.<site>.<node>.decision. Node names must be unique in the
cluster (a summary's message id is <node>:summary:<second>): two edges on one host need their own
--node. With --workers N the primary holds the one NATS connection and hands decisions to every
worker. --admin's /metrics adds the bus's counters.

Examples:
  palisade edge --listen 127.0.0.1:8080 --origin http://127.0.0.1:9000
  palisade edge --listen 127.0.0.1:8080 --origin http://127.0.0.1:9000 --block-list drop.txt --admin 127.0.0.1:9901
  palisade edge --config palisade.yaml --listen 127.0.0.1:8080 --origin http://127.0.0.1:9000 --mode suggest
  curl -s 127.0.0.1:9901/metrics; curl -s 127.0.0.1:9901/api/decisions
  curl -s -XPOST -H 'content-type: application/json' 127.0.0.1:9901/api/rules \
    -d '{"type":"custom_rule","id":"no-wp","expression":"starts_with(http.request.uri.path, \\"/wp-\\")","action":"block","ttl_s":3600}'
  palisade edge --listen 0.0.0.0:443 --cert site.pem --key site.key --origin http://10.0.0.5:8080 --origin http://10.0.0.6:8080 --workers 4
  palisade edge --dev-cert --listen 127.0.0.1:8443 --origin http://127.0.0.1:3000 --access-log edge.log
  palisade edge --listen 10.0.0.2:80 --proxy-protocol --trusted-proxy 10.0.0.0/8 --origin http://127.0.0.1:9000
  palisade edge --origin http://127.0.0.1:9000 --cluster nats://10.0.0.9:4222 --redis redis://10.0.0.9:6379 --site eu-west --node edge-1
  palisade analyze edge.log`,
    )
    .action(async (flags: EdgeFlags) => {
      const opts = await edgeOptions(flags);
      const stackFlags = stackFlagsOf(flags);
      const say = (l: string) => process.stderr.write(`${l}\n`);
      // palisade.yaml's cluster: section fills the cluster flags not given (its redis: the counters' and decisions' Redis)
      const cc = stackFlags.config === undefined ? undefined : (await import('../../config/index.js')).loadConfig(stackFlags.config).cluster;
      if (stackFlags.redis === undefined && cc?.redis !== undefined) stackFlags.redis = cc.redis;
      const busOpts = busOptionsOf(withClusterConfig(flags, cc), 'edge', say);
      const { startEdge } = await import('../../proxy/server.js');
      const { EdgeStack } = await import('../../proxy/stack.js');
      let edge: Edge | null = null;
      /** The cluster's /metrics text once joined. */
      let clusterMetrics: (() => string) | null = null;
      /** The decisions: palisade.yaml's edge section, --block-list, live protection, the admin listener. */
      const startStack = () =>
        EdgeStack.start(stackFlags, {
          edgeStats: () => edge?.stats() ?? newStats(),
          ...(busOpts !== null && { extraMetrics: () => clusterMetrics?.() ?? '' }),
        });
      const start = async (stack: EdgeStackT): Promise<Edge> => {
        const e = await startEdge({ ...opts, gate: stack.gate }).catch((err: NodeJS.ErrnoException) => Promise.reject(listenError(err, flags.listen)));
        edge = e;
        return e;
      };
      if (cluster.isWorker) {
        const stack = await startStack();
        watchConfig(stack, stackFlags.config);
        // Clustered: the primary holds the NATS side and hands the decisions over (followPrimary).
        if (busOpts !== null) (await import('../../cluster/edge-node.js')).followPrimary(stack, () => edge?.stats() ?? null, say);
        const { runWorker } = await import('../../proxy/workers.js');
        await runWorker(() => start(stack));
        return;
      }
      const scheme = opts.tls !== undefined ? 'https' : 'http';
      const what = opts.tls !== undefined ? 'HTTP/2 and HTTP/1.1 over TLS' : 'HTTP/1.1';
      const origins = opts.origins.join(', ');
      const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
      let stop: () => Promise<void>;
      if (flags.workers > 1) {
        if (stackFlags.admin !== undefined)
          throw new UsageError('edge: --admin with --workers above 1 is not supported yet (each worker has its own rules and counters): use --workers 1');
        // The workers check the primary's configuration before forking, and share the challenge's key.
        const { processSecret } = await import('../../proxy/challenge/secret.js');
        processSecret();
        const { edgeOptionsFromFlags } = await import('../../proxy/phases/edge-config.js');
        const checked = edgeOptionsFromFlags({ config: stackFlags.config, blockLists: stackFlags.blockLists });
        // The one NATS connection of the node, before the workers: each says hello and gets the decisions in force.
        let side: import('../../cluster/edge-node.js').ClusterSide | null = null;
        if (busOpts !== null) {
          const { joinClusterAsPrimary, storeSettingsOf } = await import('../../cluster/edge-node.js');
          const counters = { ...checked.counters, ...(flags.redis !== undefined && { store: 'redis' as const, redisUrl: flags.redis }) };
          side = await joinClusterAsPrimary({ bus: busOpts, store: storeSettingsOf(counters), log: say });
        }
        const { superviseWorkers } = await import('../../proxy/workers.js');
        let sup: Awaited<ReturnType<typeof superviseWorkers>>;
        try {
          sup = await superviseWorkers(flags.workers, opts.shutdownTimeoutMs ?? 10_000, (l) => process.stderr.write(`${l}\n`));
        } catch (e) {
          await side?.stop();
          throw new InputError(`edge: ${(e as Error).message}`);
        }
        process.on('SIGHUP', () => {
          for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
        });
        process.stderr.write(
          `edge: listening on ${scheme}://${host}:${sup.port} (${what}), ${flags.workers} workers, origin ${origins}${side ? `; ${describeCluster(side, busOpts)}` : ''}\n`,
        );
        stop = async () => {
          sup.stop();
          await sup.done;
          await side?.stop();
        };
      } else {
        const stack = await startStack();
        // Clustered: the decisions in force are loaded before the first request is served.
        let side: import('../../cluster/edge-node.js').ClusterSide | null = null;
        if (busOpts !== null) {
          const { joinCluster, storeSettingsOf } = await import('../../cluster/edge-node.js');
          try {
            side = await joinCluster({ bus: busOpts, store: storeSettingsOf(stack.config.counters), log: say }, stack, () => edge?.stats() ?? null);
          } catch (err) {
            await stack.close();
            throw err;
          }
          const joined = side;
          clusterMetrics = joined.metrics;
        }
        const e = await start(stack);
        const unwatch = watchConfig(stack, stackFlags.config);
        process.stderr.write(
          `edge: listening on ${e.url} (${what}), origin ${origins}; ${describeStack(stack)}${side ? `; ${describeCluster(side, busOpts)}` : ''}${stack.admin ? `; admin ${stack.admin.url}` : ''}\n`,
        );
        stop = async () => {
          unwatch();
          await e.close();
          await side?.stop();
          await stack.close();
        };
      }
      await new Promise<void>((resolve) => {
        const onSignal = (sig: string) => {
          process.stderr.write(`edge: ${sig}: closing (in-flight requests may take up to ${(opts.shutdownTimeoutMs ?? 10_000) / 1000} s)\n`);
          resolve();
        };
        process.once('SIGINT', () => onSignal('SIGINT'));
        process.once('SIGTERM', () => onSignal('SIGTERM'));
      });
      await stop();
      process.stderr.write('edge: closed\n');
    });
}

type EdgeStackT = import('../../proxy/stack.js').EdgeStack;

function stackFlagsOf(f: EdgeFlags): import('../../proxy/stack.js').StackFlags {
  if (f.mode !== undefined && f.mode !== 'auto' && f.mode !== 'suggest' && f.mode !== 'off') throw new UsageError(`edge: --mode must be auto, suggest or off, not "${f.mode}"`);
  const config = f.config ?? (existsSync('palisade.yaml') ? 'palisade.yaml' : undefined);
  let admin: import('../../proxy/stack.js').StackFlags['admin'];
  if (f.admin !== undefined) {
    admin = { ...hostPort('--admin', f.admin), token: f.adminToken ?? process.env.PALISADE_ADMIN_TOKEN ?? null };
  }
  if (f.redis !== undefined && !/^rediss?:\/\/./.test(f.redis)) throw new UsageError(`edge: --redis must be a redis:// or rediss:// URL, not "${f.redis}"`);
  return {
    config,
    blockLists: f.blockList,
    ...(f.mode !== undefined && { mode: f.mode as 'auto' | 'suggest' | 'off' }),
    ...(admin && { admin }),
    ...(f.redis !== undefined && { redis: f.redis }),
  };
}

/** The node's place in the cluster, for the start-up line. */
function describeCluster(side: import('../../cluster/edge-node.js').ClusterSide, o: ReturnType<typeof busOptionsOf>): string {
  const n = side.node.loaded;
  const loaded = n < 0 ? 'decision store unreadable' : `${n} decision${n === 1 ? '' : 's'} in force loaded`;
  return `cluster node ${o?.site}/${o?.node} (${loaded})`;
}

/** What the edge decides with, for the start-up line. */
function describeStack(stack: EdgeStackT): string {
  const g = stack.edgeGate;
  const waf = g.waf === null ? 'WAF off' : `WAF on (${g.waf.ruleCount} CRS rules)`;
  return `${waf}, live L7 protection ${stack.live?.mode ?? 'off'}`;
}

/** SIGHUP, and changes to the configuration file, reload it; a file with errors is refused and said. */
function watchConfig(stack: EdgeStackT, file: string | undefined): () => void {
  let timer: NodeJS.Timeout | null = null;
  const reload = (why: string) => {
    void stack.reload().then((r) => {
      process.stderr.write(r.ok ? `edge: ${why}: configuration reloaded\n` : `edge: ${why}: configuration refused, the running one stays:\n${r.error}\n`);
    });
  };
  const onHup = () => reload('SIGHUP');
  process.on('SIGHUP', onHup);
  let watcher: FSWatcher | null = null;
  if (file !== undefined) {
    try {
      // Editors save in several writes (or by renaming): reload once things settle.
      watcher = watch(file, () => {
        if (timer !== null) clearTimeout(timer);
        timer = setTimeout(() => reload(`${file} changed`), 300);
        timer.unref();
      });
      watcher.unref();
    } catch {
      // Not watchable (a pipe, a vanished file): SIGHUP still reloads.
    }
  }
  return () => {
    process.off('SIGHUP', onHup);
    watcher?.close();
    if (timer !== null) clearTimeout(timer);
  };
}

/** `HOST:PORT` or `[v6]:PORT` of a flag. */
function hostPort(flag: string, text: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(text);
  if (m === null || m[1] === '') throw new UsageError(`edge: ${flag} must be HOST:PORT, not "${text}"`);
  return { host: m[1] as string, port: parseIntArg(`${flag} port`, m[2] as string, { min: 0, max: 65535 }) };
}

async function edgeOptions(f: EdgeFlags): Promise<EdgeOptions> {
  const { host, port } = hostPort('--listen', f.listen);
  if (f.origin.length === 0) throw new UsageError('edge: --origin is required, e.g. --origin http://127.0.0.1:9000');
  for (const u of f.origin) {
    let url: URL | undefined;
    try {
      url = new URL(u);
    } catch {}
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new UsageError(`edge: --origin must be an http:// or https:// URL, not "${u}"`);
    if (url.pathname !== '/' || url.search !== '') throw new UsageError(`edge: --origin takes scheme://host:port without a path, not "${u}"`);
  }
  let tls: EdgeOptions['tls'];
  if (f.devCert === true) {
    if (f.cert !== undefined || f.key !== undefined) throw new UsageError('edge: --dev-cert or --cert/--key, not both');
    const { ensureDevCert } = await import('../../proxy/dev-cert.js');
    const c = ensureDevCert();
    if (!cluster.isWorker)
      process.stderr.write(`edge: ${c.created ? 'made a' : 'using the'} self-signed certificate for localhost in ${c.certFile} (for trying things out, not for serving others)\n`);
    tls = { cert: c.cert, key: c.key };
  } else if (f.cert !== undefined || f.key !== undefined) {
    if (f.cert === undefined || f.key === undefined) throw new UsageError('edge: --cert and --key go together');
    tls = { cert: readPem(f.cert, '--cert'), key: readPem(f.key, '--key') };
  }
  const { TrustedProxies } = await import('../../proxy/trusted.js');
  try {
    new TrustedProxies(f.trustedProxy);
  } catch (e) {
    throw new UsageError(`edge: --trusted-proxy: ${(e as Error).message}`);
  }
  return {
    host,
    port,
    origins: f.origin,
    tls,
    trustedProxies: f.trustedProxy,
    proxyProtocol: f.proxyProtocol === true,
    accessLog: f.accessLog,
    connectTimeoutMs: ms(f.connectTimeout),
    originTimeoutMs: ms(f.originTimeout),
    originBodyTimeoutMs: ms(f.originTimeout),
    headerTimeoutMs: ms(f.headerTimeout),
    bodyTimeoutMs: ms(f.bodyTimeout),
    keepAliveTimeoutMs: ms(f.keepaliveTimeout),
    minBodyRate: f.minBodyRate,
    maxHeaderBytes: f.maxHeaderBytes,
    maxHeaderCount: f.maxHeaderCount,
    maxBodyBytes: f.maxBodyBytes,
    maxConnsPerIp: f.maxConnsPerIp,
    shutdownTimeoutMs: ms(f.shutdownTimeout),
  };
}

function readPem(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`edge: ${flag} ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

function listenError(e: NodeJS.ErrnoException, listen: string): Error {
  if (e.code === 'EADDRINUSE') return new UsageError(`edge: --listen ${listen}: address already in use`);
  if (e.code === 'EACCES') return new UsageError(`edge: --listen ${listen}: permission denied (ports below 1024 need privileges)`);
  if (e.code === 'EADDRNOTAVAIL') return new UsageError(`edge: --listen ${listen}: no such local address`);
  if (/PEM|certificate|key/i.test(e.message)) return new InputError(`edge: TLS certificate or key unusable: ${e.message}`);
  return e;
}
