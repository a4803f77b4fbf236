/** `palisade analyze <capture|->`: summary of a capture, for a person or as JSON. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { analyzeAccessLog } from '../../analyze/analyze-log.js';
import { analyzeCapture, analyzeFlowCapture } from '../../analyze/run.js';
import { loadConfig } from '../../config/index.js';
import { UsageError } from '../../core/errors.js';
import { checkTimeZone } from '../../report/format.js';
import { renderAnalysis } from '../../report/terminal.js';
import { isFlowExport } from '../../sources/flow/sniff-capture.js';
import { collect, intOption, loginOption } from '../options.js';
import { Progress } from '../progress.js';
import { looksLikeAccessLog } from '../sniff-log.js';

type Opts = {
  as?: string;
  format?: string;
  json?: boolean;
  top: number;
  progress: boolean;
  detect: boolean;
  parallel: boolean;
  config?: string;
  loginPath?: string[];
  report?: string;
  tz?: string;
  customer?: string;
};

export function register(program: Command): void {
  program
    .command('analyze')
    .description(
      'Summarise a capture or an access log and find the attacks in it: protocols, timeline, top talkers, ports, conversations, DNS, TLS; HTTP floods, credential stuffing, scanners, slowloris.',
    )
    .argument('<input...>', 'pcap or pcapng file (optionally gzip-compressed), access log(s) (nginx, Apache, JSON lines; merged in time order), or - for stdin')
    .option('--json', 'print one JSON object (the contract in DESIGN.md) instead of tables')
    .option(
      '--format <format>',
      'access logs: combined, common, vhost_combined, json, cloudflare, caddy, traefik, nginx:<log_format>, apache:<LogFormat> (default: detected per file, and said)',
    )
    .option('--as <kind>', 'packets, or flows: the NetFlow v5/v9, IPFIX or sFlow v5 export the capture carries (default: flows when most of its first packets are flow export)')
    .option('--top <n>', 'entries per top list', intOption('--top', { min: 1 }), 10)
    .option('--no-progress', 'no progress bar on stderr')
    .option('--no-detect', 'skip attack detection (traffic summary only)')
    .option('--no-parallel', 'detect on the main thread (by default a second thread reads a file of 16 MB or more alongside)')
    .option('--config <file>', 'palisade.yaml with detection settings (default: ./palisade.yaml when present)')
    .option(
      '--login-path <path>',
      "L7: the site's login endpoint, for credential stuffing (repeatable; a path ending in it counts; default: /login, /signin, /wp-login.php, /auth, /token … ; palisade.yaml: detection.login_paths)",
      collect,
    )
    .option('--report <file>', 'also write the attack report: .html, .md or .pdf (see palisade report --help)')
    .option('--tz <zone>', "customer's IANA time zone for --report, e.g. Europe/Paris")
    .option('--customer <name>', 'customer name for --report')
    .addHelpText(
      'after',
      `
Reads classic pcap (either byte order, µs or ns) and pcapng (any number of sections and
interfaces), gzip-compressed or not, from a file or stdin. Memory stays bounded: top lists
and distinct counts use sketches, marked "(estimate)" when a figure is approximate.

A capture of flow export (what tcpdump -w keeps on a collector: NetFlow v5/v9, IPFIX, sFlow
v5 on any port) is analysed as the traffic its records describe: counts scaled by the
sampling rate, the same detection, signatures and mitigation. NetFlow/IPFIX carry no payload:
amplification is then told by source port and packet size, and attacks say so.

Examples:
  palisade analyze attack.pcap
  palisade analyze capture.pcapng.gz --json | jq .traffic.top_sources
  palisade analyze attack.pcap --report report.html --tz Europe/Paris
  tcpdump -i eth0 -w - | palisade analyze -
  palisade analyze netflow-export.pcap --as flows --json
  palisade analyze access.log                      (format detected: HTTP attacks per site)
  palisade analyze access.log.1.gz access.log --json | jq '.attacks[] | {vector, victim, signature}'
  palisade analyze edge.jsonl --format json`,
    )
    .action(async (inputs: string[], opts: Opts) => {
      const capture = inputs[0] as string;
      // Check the report's name before reading a possibly long capture.
      // The report library (charts, PDF) is loaded only when asked for: a tenth of a second of start-up.
      const reports = opts.report ? await import('../../report/index.js') : null;
      if (opts.report) reports?.formatOf(opts.report);
      if (opts.tz) checkTimeZone(opts.tz);
      const configFile = opts.config ?? (existsSync('palisade.yaml') ? 'palisade.yaml' : undefined);
      const detection = configFile && opts.detect ? loadConfig(configFile).detection : undefined;
      const isLogin = loginOption(opts.loginPath ?? detection?.loginPaths);
      const l7Detection = isLogin !== null ? { isLogin } : undefined;
      if (opts.as !== undefined && opts.as !== 'packets' && opts.as !== 'flows' && opts.as !== 'log') throw new UsageError('analyze: --as must be packets, flows or log');
      // Access logs are told from captures by content (a capture starts with its magic number).
      const asLog = opts.as === 'log' || opts.format !== undefined || (opts.as === undefined && (await looksLikeAccessLog(capture)));
      if (asLog) {
        const progressLog = new Progress('reading', opts.progress && process.stderr.isTTY === true);
        const analysis = await analyzeAccessLog(inputs, {
          format: opts.format,
          top: opts.top,
          detect: opts.detect,
          detection: l7Detection,
          onProgress: (d, t) => progressLog.update(d, t),
        });
        progressLog.done();
        const log = analysis.capture.log;
        // The format chosen, said on stderr beside JSON (the human output names it in its header).
        if (log && opts.json) {
          for (const f of log.formats)
            process.stderr.write(
              `palisade: ${f.file}: format ${f.format}${f.detected ? ' (detected)' : ''}${f.malformed > 0 ? `, ${f.malformed} malformed line(s): ${f.malformed_lines.slice(0, 10).join(', ')}${f.malformed > 10 ? ', …' : ''}` : ''}\n`,
            );
        }
        if (opts.json) process.stdout.write(`${JSON.stringify(analysis, null, 2)}\n`);
        else process.stdout.write(renderAnalysis(analysis, process.stdout.isTTY === true));
        if (analysis.capture.error) process.stderr.write(`palisade: warning: ${capture}: ${analysis.capture.error}\n`);
        return;
      }
      if (inputs.length > 1) throw new UsageError('analyze: one capture at a time (several inputs are read as access logs: give --format or --as log)');
      const asFlows = opts.as === 'flows' || (opts.as === undefined && (await isFlowExport(capture)));
      if (asFlows && capture === '-') throw new UsageError('analyze: --as flows reads a file (flow records are put in time order first); save stdin to a file');
      const progress = new Progress('reading', opts.progress && process.stderr.isTTY === true);
      const analysis = await (asFlows ? analyzeFlowCapture : analyzeCapture)(capture, {
        top: opts.top,
        detect: opts.detect,
        detection,
        l7: l7Detection ? { detection: l7Detection } : undefined,
        // --no-parallel forces one thread; otherwise the size decides (analyzeCapture).
        parallel: opts.parallel ? undefined : false,
        onProgress: (d, t) => progress.update(d, t),
      });
      progress.done();
      if (opts.json) process.stdout.write(`${JSON.stringify(analysis, null, 2)}\n`);
      else process.stdout.write(renderAnalysis(analysis, process.stdout.isTTY === true));
      if (analysis.capture.error) process.stderr.write(`palisade: warning: ${capture}: ${analysis.capture.error}\n`);
      if (opts.report && reports) {
        await reports.makeReport(analysis, opts.report, { tz: opts.tz, customer: opts.customer, capture, sink: (c) => process.stdout.write(c) });
        process.stderr.write(`palisade: report written to ${opts.report}\n`);
      }
    });
}
