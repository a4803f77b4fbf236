/**
 * `palisade serve`: the authenticated API over the alert store (src/server). Argument parsing,
 * the first admin account and the demo account; everything else is the server's.
 */

import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { ClusterSection } from '../../config/cluster.js';
import { PalisadeError, UsageError } from '../../core/errors.js';
import { DEFAULT_DB, openStore } from '../../incidents/store/open.js';
import { ROLES, type Role, type Store } from '../../incidents/store/store.js';
import { generatePassword, hashPassword } from '../../server/auth.js';
import type { Demo } from '../../server/demo.js';
import { fileRecording } from '../../server/recording.js';
import { readOrCreate } from '../../server/rules-file.js';
import { createApiServer, isLoopback, listen } from '../../server/server.js';
import type { Workspace } from '../../server/workspace.js';
import { addClusterOptions, busOptionsOf, type ClusterOpts, withClusterConfig } from '../cluster-options.js';
import { actor } from '../store-cli.js';
import { addWatchOptions, anyWatchInput, type WatchOpts } from '../watch-options.js';

interface ServeOpts extends WatchOpts, ClusterOpts {
  redis?: string;
  metrics?: string;
  listen: string;
  db: string;
  demo?: boolean;
  addAccount?: string;
  role: Role;
  rules?: string;
  record?: string;
  edge: string[];
  edgeToken?: string;
  sensor?: string;
  mitigate: 'off' | 'suggest';
}

const repeat = (v: string, prev: string[]): string[] => [...prev, v];

/** An edge admin URL as --edge takes it: http(s)://HOST:PORT, nothing after the authority. */
export function edgeAdminUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UsageError(`--edge takes an edge's admin URL (http://127.0.0.1:9901), not "${text}"`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username !== '' || u.password !== '' || (u.pathname !== '/' && u.pathname !== ''))
    throw new UsageError(`--edge takes an edge's admin URL (http://HOST:PORT, no path or credentials), not "${text}"`);
  return u.origin;
}

/** The ruleset file's default: rules.yaml beside a SQLite store, else in the working directory. */
export function defaultRulesFile(db: string): string {
  return /^postgres(ql)?:\/\//.test(db) ? resolve('rules.yaml') : resolve(dirname(db), 'rules.yaml');
}

const EXAMPLES = `
The web console is at the server's root: open http://127.0.0.1:8080/ in a browser and log in
(live traffic and the attacks' traffic by vector, the alert queue with keyboard triage, incidents
with notes and HTML/Markdown/PDF reports, attack pages, the rule editor with what-if and exports,
lists). npm run build builds it into dist/web; without that build, / answers a page saying so.

The API answers JSON under /api (its OpenAPI description: GET /api/openapi.json; live
per-second traffic as Server-Sent Events: GET /api/stats/stream). Open without credentials:
the console's files (everything outside /api), GET /api/health and POST /api/login; everything
else needs a session (log in) or an API token (Authorization: Bearer pal_…), and a role: viewer
reads (and validates or exports a candidate ruleset), operator triages (ack, silence, notes,
status, assign, open and merge incidents) and edits the ruleset and its lists (what-if first),
admin manages accounts and tokens (disable, revoke), storage (prune) and notifications, and reads
the audit log.

Sensors are the monitors writing to the same store (palisade monitor --db …); edge proxies are
given with --edge (their admin URLs): the console shows their health.

The rule editor's ruleset is one file (--rules, default rules.yaml beside the db; list files
beside it), replaced atomically under If-Match. What-if runs a candidate over the last N minutes
of --record CAPTURE (or, with --demo, of the demo's replay).

Cookies are Secure: browsers send them back over HTTPS only, so put TLS in front of a server
listening on anything but loopback. On a loopback address (127.0.0.1, ::1) over plain HTTP,
Secure is left off so a browser on the same machine can log in.

Exit codes: 0 stopped (or the account was added); 2 usage (a bad --listen or --edge); 3 the store
cannot be opened or the address cannot be listened on.

Examples:
  palisade serve --add-account alice --role admin --db palisade.db     prints alice's password, once
  palisade serve --listen 127.0.0.1:8080 --db palisade.db
  palisade serve --listen 127.0.0.1:8080 --db palisade.db --demo       with a demo account (printed) and live attacks
  palisade serve --db palisade.db --rules /etc/palisade/edge.yaml --record /var/lib/palisade/edge.pcap
  palisade serve --db palisade.db --edge http://10.0.0.7:9901 --edge http://10.0.0.8:9901 --edge-token "$TOKEN"
  palisade serve --listen 10.0.0.5:8443 --db postgres://palisade@db.example/palisade
  curl -s -H "Authorization: Bearer pal_…" http://127.0.0.1:8080/api/alerts?q='alert.score > 50'`;

/** `HOST:PORT` or `[v6]:PORT`. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (m === null || port > 65535) throw new UsageError(`--listen takes HOST:PORT (127.0.0.1:8080, [::1]:8080), not "${text}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

async function addAccount(store: Store, name: string, role: Role, by: string, reset: boolean): Promise<string> {
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) throw new UsageError(`account name "${name}": 1 to 64 characters of a-z, 0-9, dot, dash, underscore`);
  const password = generatePassword();
  const hash = await hashPassword(password);
  await store.transaction(async (tx) => {
    const created = await tx.createAccount({ name, role, password_hash: hash, created_at: new Date().toISOString(), created_by: by });
    if (!created) {
      if (!reset) throw new PalisadeError('E_INPUT', `an account named ${name} exists`);
      await tx.setPassword(name, hash);
    }
    await tx.appendAudit({ actor: by, action: created ? 'account.create' : 'account.password', target: `account:${name}`, detail: { role } });
  });
  return password;
}

/** The monitor serve runs in its own process mitigates nothing itself: suggestions only (palisade monitor --mitigate auto acts). */
const refuse = async () => ({ code: 1, stdout: '', stderr: 'palisade serve runs no mitigation commands: palisade monitor --mitigate auto applies them' });

export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description(
      'The web console and the API over the alert store: live traffic, alerts, incidents, rules, audit log, accounts; with authentication and roles. Given inputs (-i, --replay, --sflow, --http-log …), it also runs the monitor on them in the same process.',
    );
  addWatchOptions(cmd);
  addClusterOptions(cmd, 'correlator');
  cmd
    .option('--redis <url>', 'with --cluster: keep the decisions in force in Redis (redis://host:6379), where edges starting later find them')
    .option('--metrics <host:port>', 'with --cluster: serve Prometheus /metrics (the bus counters) here')
    .option('--sensor <name>', 'the in-process monitor’s sensor name (default: the host name)')
    .addOption(
      new Option('--mitigate <mode>', 'the in-process monitor: suggest (mitigations written on the incidents, none applied) or off').choices(['off', 'suggest']).default('suggest'),
    )
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option('--db <file|url>', 'the alert store: a SQLite file or postgres://user@host/db[?schema=NAME]', DEFAULT_DB)
    .option('--demo', 'create (or reset) the account "demo" (operator), print its password, and replay generated traffic with attacks into the store (suggest-only)')
    .option('--rules <file>', 'the ruleset file the rules API reads and replaces (palisade mitigate -r format; created empty if absent; default rules.yaml beside the db)')
    .option('--record <capture>', 'the capture what-if reads (a file tcpdump -w keeps writing): its records of the last N minutes; with --demo, default the demo replay')
    .option('--edge <url>', "an edge proxy's admin URL (palisade edge --admin): its health and counters on the console (repeatable)", repeat, [])
    .option('--edge-token <token>', 'bearer token of the edge admin APIs (default $PALISADE_ADMIN_TOKEN)')
    .option('--add-account <name>', 'create an account, print its generated password once, and exit')
    .option(
      '--role <role>',
      `role of --add-account: ${ROLES.join(', ')}`,
      (v: string) => {
        if (!(ROLES as readonly string[]).includes(v)) throw new UsageError(`--role takes ${ROLES.join(', ')}, not "${v}"`);
        return v as Role;
      },
      'viewer',
    )
    .addHelpText('after', EXAMPLES)
    .action(async (opts: ServeOpts) => {
      const { host, port } = parseListen(opts.listen);
      if (opts.cluster === undefined && (opts.redis !== undefined || opts.metrics !== undefined))
        throw new UsageError('--redis and --metrics are the cluster correlator’s: give --cluster too');
      const watching = anyWatchInput(opts);
      if (watching && opts.demo) throw new UsageError('--demo replays its own traffic: give it or inputs to watch (-i, --replay, --sflow …), not both');
      const edgeToken = opts.edgeToken ?? process.env.PALISADE_ADMIN_TOKEN ?? null;
      const proxies = opts.edge.map((e) => ({ url: edgeAdminUrl(e), token: edgeToken }));
      const store = await openStore(opts.db);
      const by = `cli:${actor(undefined)}`;
      if (opts.addAccount !== undefined) {
        try {
          const password = await addAccount(store, opts.addAccount, opts.role, by, false);
          process.stdout.write(`account ${opts.addAccount} (${opts.role}) created; its password, shown once:\n${password}\n`);
        } finally {
          await store.close();
        }
        return;
      }
      const workspace: Workspace = {
        rulesFile: resolve(opts.rules ?? defaultRulesFile(opts.db)),
        recording: opts.record === undefined ? null : fileRecording(resolve(opts.record)),
      };
      try {
        readOrCreate(workspace.rulesFile);
      } catch (err) {
        await store.close();
        throw new PalisadeError('E_INPUT', `--rules ${workspace.rulesFile}: ${(err as Error).message}`);
      }
      const secureCookies = !isLoopback(host);
      const { server } = createApiServer({ store, secureCookies, workspace, proxies });
      let addr: { address: string; port: number };
      try {
        if (opts.demo) {
          const password = await addAccount(store, 'demo', 'operator', by, true);
          process.stdout.write(`demo account: name demo, password ${password} (operator)\n`);
        }
        addr = await listen(server, host, port);
      } catch (err) {
        await store.close();
        const code = (err as NodeJS.ErrnoException)?.code;
        if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') throw new PalisadeError('E_INPUT', `cannot listen on ${opts.listen}: ${code}`);
        throw err;
      }
      // the monitor in this process, on the inputs given: alerts, incidents and summaries into this store
      let watch: { stop: () => Promise<void> } | null = null;
      if (watching) {
        const note = (l: string): void => void process.stderr.write(`palisade serve: monitor: ${l}\n`);
        // loaded only here, as the demo is: the monitor and its inputs are not every serve's start-up
        const [{ watchInputs }, { runStoredMonitor }, { NftEnforcer }] = await Promise.all([
          import('../watch-inputs.js'),
          import('../../analyze/monitor-run.js'),
          import('../../incidents/enforce/nft.js'),
        ]);
        try {
          const inputs = watchInputs(opts, false, [], note);
          const abort = new AbortController();
          const run = runStoredMonitor({
            store,
            ...(inputs.stream !== undefined && { stream: inputs.stream }),
            ...(inputs.name !== undefined && { name: inputs.name }),
            http: inputs.http,
            ...(inputs.flows !== null && { flows: inputs.flows }),
            ...(inputs.config.edge !== undefined && { l7: inputs.config.edge.live }),
            pace: inputs.pace,
            detection: inputs.config.detection,
            services: inputs.config.services,
            notifications: inputs.config.notifications,
            sensor: opts.sensor ?? hostname(),
            drain: false,
            signal: abort.signal,
            ...(opts.mitigate === 'suggest' && inputs.l34 && { enforcers: [new NftEnforcer({}, refuse)], policy: { mode: 'suggest' as const } }),
            log: note,
          }).then(
            (r) => note(`${inputs.watched}: ended: ${Math.round(r.packets)} packets, ${r.requests} requests, ${r.alerts} alert(s)`),
            (e: Error) => {
              if (!abort.signal.aborted) note(`${inputs.watched}: stopped: ${e.message}`);
            },
          );
          watch = {
            stop: async () => {
              abort.abort();
              inputs.stopCapture?.();
              inputs.stream?.destroy();
              await run;
            },
          };
          process.stderr.write(`palisade serve: monitor watching ${inputs.watched}${opts.mitigate === 'suggest' ? ', mitigations suggested' : ''}\n`);
        } catch (err) {
          server.close();
          await store.close();
          throw err;
        }
      }
      // the multi-node mode's correlator in this process: the sensors' summaries from NATS into this store
      let correlate: { stop: () => Promise<void> } | null = null;
      const clusterNote = (l: string): void => void process.stderr.write(`palisade serve: correlate: ${l}\n`);
      const configFile = opts.config ?? (existsSync('palisade.yaml') ? 'palisade.yaml' : undefined);
      const { loadConfig } = await import('../../config/index.js');
      const config = configFile === undefined ? { detection: {}, services: [], cluster: {} } : loadConfig(configFile);
      const cc: ClusterSection = config.cluster;
      const bo = busOptionsOf(withClusterConfig(opts, cc), 'correlator', clusterNote);
      if (bo !== null) {
        const { startCorrelator } = await import('../../cluster/correlator-run.js');
        const redis = opts.redis ?? cc.redis;
        const metricsAt = opts.metrics ?? cc.metrics;
        try {
          const node = await startCorrelator({
            bus: bo,
            store,
            detection: config.detection,
            services: config.services,
            ...(cc.correlate?.sites !== undefined && { sites: cc.correlate.sites }),
            ...(cc.correlate?.waitS !== undefined && { holdMs: cc.correlate.waitS * 1000 }),
            ...(cc.correlate?.decisionsKey !== undefined && { decisionsKey: cc.correlate.decisionsKey }),
            ...(redis !== undefined && { redis }),
            ...(metricsAt !== undefined && { metrics: metricsAt }),
            log: clusterNote,
          });
          node.done.then(
            (r) => clusterNote(`stopped: ${r.summaries} summaries, ${r.stored} alert events stored`),
            (e: Error) => clusterNote(`stopped: ${e.message}`),
          );
          correlate = { stop: async () => void (await node.stop().catch(() => null)) };
          process.stderr.write(`palisade serve: correlating every site on the bus as ${bo.site}/${bo.node}\n`);
        } catch (err) {
          await watch?.stop();
          server.close();
          await store.close();
          throw err;
        }
      }
      let demo: Demo | null = null;
      if (opts.demo) {
        // loaded only here: the generator and the monitor are not every serve's start-up
        const { startDemo } = await import('../../server/demo.js');
        try {
          demo = await startDemo({ store });
        } catch (err) {
          server.close();
          await store.close();
          throw err;
        }
        workspace.recording ??= demo.recording;
        process.stdout.write(`demo traffic: replaying ${demo.recording.file} (a SYN flood from 8 s, a DNS amplification from 14 s, looping; suggest-only)\n`);
      }
      const shown = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
      // one write: a reader waiting for the "listening" line has the cookie note with it
      const note = secureCookies ? '' : 'palisade serve: loopback over plain HTTP: session cookies are sent without Secure\n';
      process.stdout.write(`${note}palisade serve: listening on http://${shown}:${addr.port} (the console at /, the API under /api; store ${store.backend})\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          server.close(() => resolve());
          server.closeAllConnections();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await watch?.stop();
      await correlate?.stop();
      await demo?.stop();
      await store.close();
    });
}
