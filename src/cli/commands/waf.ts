/** `palisade waf serve`: run the CRS-based WAF as a small HTTP origin that answers every request itself. */
import type { Command } from 'commander';
import { InputError, UsageError } from '../../core/errors.js';
import type { createWaf, WafOptions } from '../../waf/engine.js';
import { intOption, parseIntArg } from '../options.js';

interface ServeOpts {
  listen: string;
  paranoia?: number;
  mode: string;
  crs?: string;
  inbound?: number;
  outbound?: number;
  set: string[];
  profile?: string;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function register(program: Command): void {
  const waf = program.command('waf').description('Web application firewall: the OWASP Core Rule Set on our own SecLang engine.');
  waf
    .command('serve')
    .description('Evaluate every request with the WAF and answer it directly (test and benchmark origin).')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option('--paranoia <n>', 'CRS paranoia level 1-4 (default 1)', intOption('--paranoia', { min: 1, max: 4 }))
    .option('--mode <mode>', 'block (deny over the anomaly threshold) or detect (log only)', 'block')
    .option('--crs <dir>', 'CRS directory (default /usr/share/modsecurity-crs)')
    .option('--inbound <n>', 'inbound anomaly score threshold (CRS default 5)', intOption('--inbound', { min: 1 }))
    .option('--outbound <n>', 'outbound anomaly score threshold (CRS default 4)', intOption('--outbound', { min: 1 }))
    .option('--set <name=value>', 'set a CRS tx variable, e.g. combined_file_sizes=65535 (repeatable)', collect, [])
    .option('--profile <name>', 'test: the CRS regression-test profile (detect, paranoia 4, thresholds 5/4, combined_file_sizes=65535)')
    .addHelpText(
      'after',
      `
Every response carries x-waf-matched-rules with the ids of the rules that matched (logged
rules only, as ModSecurity would log them). Blocked requests get the rule's status (403).

Examples:
  palisade waf serve --listen 127.0.0.1:8080 --paranoia 1 --mode block
  palisade waf serve --listen 127.0.0.1:18480 --profile test`,
    )
    .action(async (opts: ServeOpts) => {
      // The server is this process's whole job, so it may set V8's process-wide regex fallback
      // (the library leaves that to its host); first, before any CRS pattern is compiled.
      // The engine and server are loaded here, not at start-up: every other command would pay for them.
      const { createWaf, enableRegexBacktrackFallback, WafConfigError } = await import('../../waf/engine.js');
      const { startServer } = await import('../../waf/serve.js');
      enableRegexBacktrackFallback();
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(opts.listen);
      if (!m) throw new UsageError('waf serve: --listen must be HOST:PORT');
      const listenPort = parseIntArg('--listen port', m[2] as string, { min: 0, max: 65535 });
      const o: WafOptions = { crsPath: opts.crs, setup: {} };
      if (opts.profile === 'test') {
        Object.assign(o, { paranoia: 4, mode: 'detect', thresholds: { inbound: 5, outbound: 4 }, setup: { combined_file_sizes: 65535 } });
      } else if (opts.profile !== undefined) throw new UsageError('waf serve: --profile must be test');
      if (opts.paranoia !== undefined) o.paranoia = opts.paranoia as 1;
      if (opts.profile === undefined || opts.mode !== 'block') {
        if (opts.mode !== 'block' && opts.mode !== 'detect') throw new UsageError('waf serve: --mode must be block or detect');
        if (opts.profile === undefined) o.mode = opts.mode;
      }
      const th = { ...(o.thresholds ?? {}) };
      if (opts.inbound !== undefined) th.inbound = opts.inbound;
      if (opts.outbound !== undefined) th.outbound = opts.outbound;
      o.thresholds = th;
      for (const s of opts.set) {
        const eq = s.indexOf('=');
        if (eq <= 0) throw new UsageError(`waf serve: --set expects name=value, got ${s}`);
        (o.setup as Record<string, string>)[s.slice(0, eq)] = s.slice(eq + 1);
      }
      let w: ReturnType<typeof createWaf>;
      try {
        w = createWaf(o);
      } catch (e) {
        if (e instanceof WafConfigError) throw new InputError(`waf serve: ${e.message}`);
        throw e;
      }
      for (const warn of w.warnings) process.stderr.write(`waf: warning: ${warn}\n`);
      const server = await startServer(w, m[1], listenPort);
      const addr = server.address();
      const port = addr && typeof addr === 'object' ? addr.port : listenPort;
      process.stderr.write(`waf: ${w.ruleCount} rules, listening on ${m[1]}:${port}\n`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          server.close();
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
