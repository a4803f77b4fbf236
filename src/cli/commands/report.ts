/** `palisade report ANALYSIS.json -o report.html|report.md|report.pdf`: the attack report. */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Command } from 'commander';
import { makeReport, readAnalysis } from '../../report/index.js';
import { Progress } from '../progress.js';

interface Opts {
  output?: string;
  format?: string;
  tz?: string;
  customer?: string;
  capture?: string;
  truth?: string;
  replay: boolean;
  progress: boolean;
}

export function register(program: Command): void {
  program
    .command('report')
    .description('Write the attack report (HTML, Markdown or PDF) from an analysis made by "palisade analyze --json".')
    .argument('<analysis>', 'analysis JSON file, or - for stdin')
    .requiredOption('-o, --output <file>', 'report file: .html (self-contained page), .md (tickets, e-mail) or .pdf (needs chromium); - for stdout with --format')
    .option('--format <fmt>', 'html, md or pdf (default: from the output file name)')
    .option('--tz <zone>', "customer's IANA time zone, e.g. Europe/Paris (times are always also given in UTC)")
    .option('--customer <name>', 'customer name shown on the report')
    .option('--capture <file>', 'capture to replay for what-if figures (default: the capture named in the analysis, if present)')
    .option('--truth <file>', 'ground truth of a generated scenario (X.truth.json): score the what-if packet by packet')
    .option('--no-replay', 'do not replay the capture; estimate effectiveness from the signatures')
    .option('--no-progress', 'no progress bar on stderr')
    .addHelpText(
      'after',
      `
The HTML report is one file with inline styles and SVG charts: no scripts, no network requests,
readable offline and printable. PDF output prints that page with Debian's chromium in headless
mode (PALISADE_CHROMIUM=/path/to/chromium picks another binary); without chromium it fails
with exit code 3.

Examples:
  palisade analyze attack.pcap --json > analysis.json
  palisade report analysis.json -o report.html --tz Europe/Paris --customer "Example SA"
  palisade report analysis.json -o report.md
  palisade report analysis.json -o report.pdf
  palisade generate demo -w demo.pcap && palisade analyze demo.pcap --json > demo.json
  palisade report demo.json -o demo.html --truth demo.truth.json`,
    )
    .action(async (file: string, opts: Opts) => {
      const analysis = readAnalysis(file);
      const progress = new Progress('replaying', opts.progress && process.stderr.isTTY === true);
      await makeReport(analysis, opts.output as string, {
        sink: (c) => process.stdout.write(c),
        onProgress: (d, t) => progress.update(d, t),
        format: opts.format,
        tz: opts.tz,
        customer: opts.customer,
        capture: opts.replay ? (opts.capture ?? besideAnalysis(file, analysis.capture.file)) : false,
        truth: opts.truth,
      });
      progress.done();
      if (opts.output !== '-') process.stderr.write(`palisade: report written to ${opts.output}\n`);
    });
}

/**
 * The analysed capture when its relative path works from the analysis file's folder but not from
 * here (the JSON was written next to the capture and the report is made elsewhere); else undefined
 * (the model then tries the path as it is).
 */
function besideAnalysis(json: string, capture: string): string | undefined {
  if (json === '-' || capture === '-' || isAbsolute(capture) || existsSync(capture)) return undefined;
  const there = join(dirname(json), capture);
  return existsSync(there) ? there : undefined;
}
