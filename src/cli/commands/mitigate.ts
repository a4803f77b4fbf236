/** `palisade mitigate --ruleset R CAPTURE`: what a ruleset would have done to a capture. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { loadRuleset } from '../../mitigate/ruleset.js';
import { renderWhatIf, runWhatIf } from '../../mitigate/whatif.js';
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
    .option('--json', 'print one JSON object')
    .option('--no-progress', 'no progress bar on stderr')
    .addHelpText(
      'after',
      `
Order per packet: allow lists, block lists, then the enabled rules in order (block and allow
stop; log continues; rate_limit drops what exceeds its token bucket and lets the rest continue).
Rate limits use the capture's timestamps and nftables' token-bucket arithmetic.

Examples:
  palisade mitigate --ruleset edge.yaml attack.pcap
  palisade mitigate -r edge.yaml attack.pcap --dropped dropped.pcap --passed passed.pcap
  palisade generate tcp_syn_flood --packets 100000 --seed 1 -w s.pcap
  palisade mitigate -r edge.yaml s.pcap --truth s.truth.json --json`,
    )
    .action(async (capture: string, opts: Opts) => {
      if (!opts.ruleset) throw new UsageError('mitigate: --ruleset FILE is required');
      const ruleset = loadRuleset(opts.ruleset);
      for (const l of ruleset.lists.all()) {
        const bad = l.problems.filter((p) => p.severity === 'error').length;
        if (bad > 0) process.stderr.write(`palisade: warning: list ${l.name}: ${bad} line(s) skipped\n`);
      }
      const progress = new Progress('evaluating', opts.progress && process.stderr.isTTY === true);
      const report = await runWhatIf(capture, ruleset, {
        dropped: opts.dropped,
        passed: opts.passed,
        truth: opts.truth,
        interval: opts.interval,
        onProgress: (d, t) => progress.update(d, t),
      });
      progress.done();
      if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(renderWhatIf(report, process.stdout.isTTY === true));
      if (report.capture.error) process.stderr.write(`palisade: warning: ${capture}: ${report.capture.error}\n`);
    });
}
