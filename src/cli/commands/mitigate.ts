/** `palisade mitigate --ruleset R INPUT... [--as packets|flows|http]`: what a ruleset would have done to a capture or to access logs. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { loadHttpRuleset } from '../../mitigate/http-ruleset.js';
import { loadRuleset } from '../../mitigate/ruleset.js';
import { renderWhatIf, runWhatIf } from '../../mitigate/whatif.js';
import { runFlowWhatIf } from '../../mitigate/whatif-flows.js';
import { runHttpWhatIf } from '../../mitigate/whatif-http.js';
import { renderHttpWhatIf } from '../../mitigate/whatif-http-render.js';
import { isFlowExport } from '../../sources/flow/sniff-capture.js';
import { checkSomeParsed, formatParser, inputsAreLogs, isHttpKind, sayFormats } from '../log-input.js';
import { intOption, numberOption } from '../options.js';
import { Progress } from '../progress.js';

interface Opts {
  ruleset?: string;
  dropped?: string;
  passed?: string;
  truth?: string;
  interval?: number;
  json?: boolean;
  progress: boolean;
  as?: string;
  format?: string;
  top: number;
}

/** The what-if over access logs: an HTTP ruleset, requests in log time. */
async function mitigateLogs(inputs: string[], opts: Opts): Promise<void> {
  if (opts.dropped ?? opts.passed) throw new UsageError('mitigate: --dropped and --passed write packets; on access logs use palisade filter to split the lines');
  if (opts.truth !== undefined && inputs.length > 1) throw new UsageError('mitigate: --truth labels the lines of one log');
  const ruleset = loadHttpRuleset(opts.ruleset as string);
  const format = formatParser(opts.format);
  const progress = new Progress('evaluating', opts.progress && process.stderr.isTTY === true);
  const report = await runHttpWhatIf(inputs, ruleset, { format, interval: opts.interval ?? 60, truth: opts.truth, top: opts.top, onProgress: (d, t) => progress.update(d, t) });
  progress.done();
  sayFormats(report.input.files);
  checkSomeParsed(report.input.files);
  if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(renderHttpWhatIf(report));
  if (report.input.error) process.stderr.write(`palisade: warning: ${report.input.error}\n`);
}

export function register(program: Command): void {
  program
    .command('mitigate')
    .description(
      'What-if: run a ruleset over a capture, or an HTTP ruleset over access logs, and report, per rule and over time, what it would have dropped (blocked, challenged), rate-limited and passed.',
    )
    .argument('<input...>', 'pcap or pcapng file (optionally gzip-compressed), access log(s) (several merged in time order), or - for stdin')
    .option('-r, --ruleset <file>', 'ruleset (YAML or JSON): lists and ordered rules')
    .option('--dropped <file.pcap>', 'write the packets the ruleset drops or rate-limits')
    .option('--passed <file.pcap>', 'write the packets the ruleset lets through')
    .option('--truth <file.json>', 'ground truth of a generated scenario: score attack passed / legitimate dropped')
    .option('--interval <seconds>', 'timeline resolution (default: 1 for captures, 60 for logs)', numberOption('--interval', { above: 0 }))
    .option(
      '--as <kind>',
      'packets; flows: the records of the NetFlow v5/v9, IPFIX or sFlow v5 export the capture carries; http: requests of access logs (default: http for text/JSON lines, flows when most of the first packets are flow export)',
    )
    .option('--format <format>', 'access logs: a built-in name or an nginx log_format / Apache LogFormat string (default: detected per file, and said on stderr)')
    .option('--top <n>', 'access logs: entries per top list (IPs, hosts, paths per rule)', intOption('--top', { min: 1 }), 10)
    .option('--json', 'print one JSON object')
    .option('--no-progress', 'no progress bar on stderr')
    .addHelpText(
      'after',
      `
Order per packet: allow lists, block lists, then the enabled rules in order (block and allow
stop; log continues; rate_limit drops what exceeds its token bucket and lets the rest continue).
Rate limits use the capture's timestamps and nftables' token-bucket arithmetic.

Flows (--as flows, or a capture that is mostly flow export): the same ruleset runs on each flow
record or sFlow sample through the flow scheme (the packet fields under the same names). Counts
are the packets and bytes the records claim, scaled by their sampling rate, with the number of
records beside them; a rate limit spreads a flow's packets over its duration (an approximation).
--dropped, --passed and --truth work on packets only.

Access logs (--as http, --format, several inputs, or files of text/JSON lines): the rules are in
the HTTP scheme (Cloudflare custom rules). Actions block, allow, log, challenge
(managed_challenge), and rate limits in Cloudflare's shape — a rule with
ratelimit: { characteristics: [ip.src], period: 60, requests_per_period: 100,
mitigation_timeout: 600, counting_expression: ... } — or Palisade's action: rate_limit with
action_parameters: { rate: 100, period: 60s, key: ip.src }. Counting is per characteristics value
in the log's own time. Per rule: requests matched, blocked, challenged, rate-limited, and the top
client addresses, hosts and paths hit. --truth takes a palisade generate http-* truth file.

Examples:
  palisade mitigate --ruleset edge.yaml attack.pcap
  palisade mitigate -r edge.yaml attack.pcap --dropped dropped.pcap --passed passed.pcap
  palisade generate tcp_syn_flood --packets 100000 --seed 1 -w s.pcap
  palisade mitigate -r edge.yaml s.pcap --truth s.truth.json --json
  palisade mitigate -r edge.yaml --as flows netflow.pcap
  palisade mitigate -r waf.yaml access.log access.log.1.gz
  palisade mitigate -r waf.yaml mixed.log --truth mixed.truth.json --json`,
    )
    .action(async (inputs: string[], opts: Opts) => {
      if (!opts.ruleset) throw new UsageError('mitigate: --ruleset FILE is required');
      if (opts.as !== undefined && opts.as !== 'packets' && opts.as !== 'flows' && !isHttpKind(opts.as)) throw new UsageError('mitigate: --as must be packets, flows or http');
      if (await inputsAreLogs(inputs, opts.as, opts.format)) return mitigateLogs(inputs, opts);
      if (inputs.length > 1) throw new UsageError('mitigate: one capture at a time (several inputs are read as access logs)');
      const capture = inputs[0] as string;
      const ruleset = loadRuleset(opts.ruleset);
      for (const l of ruleset.lists.all()) {
        const bad = l.problems.filter((p) => p.severity === 'error').length;
        if (bad > 0) process.stderr.write(`palisade: warning: list ${l.name}: ${bad} line(s) skipped\n`);
      }
      const packetOnly = opts.dropped ?? opts.passed ?? opts.truth;
      // A capture of flow export is read as flows unless an option that only packets have says otherwise.
      const flows = opts.as === 'flows' || (opts.as === undefined && packetOnly === undefined && (await isFlowExport(capture)));
      if (flows && packetOnly !== undefined) throw new UsageError('mitigate: --dropped, --passed and --truth work on packets, not with --as flows');
      const progress = new Progress('evaluating', opts.progress && process.stderr.isTTY === true);
      const onProgress = (d: number, t?: number) => progress.update(d, t);
      const report = flows
        ? await runFlowWhatIf(capture, ruleset, { interval: opts.interval ?? 1, onProgress })
        : await runWhatIf(capture, ruleset, { dropped: opts.dropped, passed: opts.passed, truth: opts.truth, interval: opts.interval ?? 1, onProgress });
      progress.done();
      if (flows && report.flows?.records === 0) process.stderr.write(`palisade: warning: ${capture}: no flow records (NetFlow, IPFIX or sFlow datagrams) in this capture\n`);
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(renderWhatIf(report, process.stdout.isTTY === true));
      if (report.capture.error) process.stderr.write(`palisade: warning: ${capture}: ${report.capture.error}\n`);
    });
}
