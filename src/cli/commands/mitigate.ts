/** `palisade mitigate --ruleset R CAPTURE [--as packets|flows]`: what a ruleset would have done to a capture. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { loadRuleset } from '../../mitigate/ruleset.js';
import { renderWhatIf, runWhatIf } from '../../mitigate/whatif.js';
import { runFlowWhatIf } from '../../mitigate/whatif-flows.js';
import { isFlowExport } from '../../sources/flow/sniff-capture.js';
import { numberOption } from '../options.js';
import { Progress } from '../progress.js';

interface Opts {
  ruleset?: string;
  dropped?: string;
  passed?: string;
  truth?: string;
  interval: number;
  json?: boolean;
  progress: boolean;
  as?: string;
}

export function register(program: Command): void {
  program
    .command('mitigate')
    .description('What-if: run a ruleset over a capture and report, per rule and over time, what it would have dropped, rate-limited and passed.')
    .argument('<capture>', 'pcap or pcapng file (optionally gzip-compressed), or - for stdin')
    .option('-r, --ruleset <file>', 'ruleset (YAML or JSON): lists and ordered rules')
    .option('--dropped <file.pcap>', 'write the packets the ruleset drops or rate-limits')
    .option('--passed <file.pcap>', 'write the packets the ruleset lets through')
    .option('--truth <file.json>', 'ground truth of a generated scenario: score attack passed / legitimate dropped')
    .option('--interval <seconds>', 'timeline resolution', numberOption('--interval', { above: 0 }), 1)
    .option(
      '--as <kind>',
      'packets, or flows: the records of the NetFlow v5/v9, IPFIX or sFlow v5 export the capture carries (default: flows when most of its first packets are flow export)',
    )
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

Examples:
  palisade mitigate --ruleset edge.yaml attack.pcap
  palisade mitigate -r edge.yaml attack.pcap --dropped dropped.pcap --passed passed.pcap
  palisade generate tcp_syn_flood --packets 100000 --seed 1 -w s.pcap
  palisade mitigate -r edge.yaml s.pcap --truth s.truth.json --json
  palisade mitigate -r edge.yaml --as flows netflow.pcap`,
    )
    .action(async (capture: string, opts: Opts) => {
      if (!opts.ruleset) throw new UsageError('mitigate: --ruleset FILE is required');
      const ruleset = loadRuleset(opts.ruleset);
      for (const l of ruleset.lists.all()) {
        const bad = l.problems.filter((p) => p.severity === 'error').length;
        if (bad > 0) process.stderr.write(`palisade: warning: list ${l.name}: ${bad} line(s) skipped\n`);
      }
      if (opts.as !== undefined && opts.as !== 'packets' && opts.as !== 'flows') throw new UsageError('mitigate: --as must be packets or flows');
      const packetOnly = opts.dropped ?? opts.passed ?? opts.truth;
      // A capture of flow export is read as flows unless an option that only packets have says otherwise.
      const flows = opts.as === 'flows' || (opts.as === undefined && packetOnly === undefined && (await isFlowExport(capture)));
      if (flows && packetOnly !== undefined) throw new UsageError('mitigate: --dropped, --passed and --truth work on packets, not with --as flows');
      const progress = new Progress('evaluating', opts.progress && process.stderr.isTTY === true);
      const onProgress = (d: number, t?: number) => progress.update(d, t);
      const report = flows
        ? await runFlowWhatIf(capture, ruleset, { interval: opts.interval, onProgress })
        : await runWhatIf(capture, ruleset, { dropped: opts.dropped, passed: opts.passed, truth: opts.truth, interval: opts.interval, onProgress });
      progress.done();
      if (flows && report.flows?.records === 0) process.stderr.write(`palisade: warning: ${capture}: no flow records (NetFlow, IPFIX or sFlow datagrams) in this capture\n`);
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(renderWhatIf(report, process.stdout.isTTY === true));
      if (report.capture.error) process.stderr.write(`palisade: warning: ${capture}: ${report.capture.error}\n`);
    });
}
