/**
 * `palisade filter INPUT... [EXPR] [-e EXPR ...] [--as packets|flows|http] [-w OUT.pcap] [--count] [--json]`:
 * the packets of a capture that match a rule, the flow records of a capture of flow export, or
 * the requests of access logs (the matching lines as they were, or HttpRequest records).
 */
import type { Command } from 'commander';
import { PalisadeError, UsageError } from '../../core/errors.js';
import { PcapOut } from '../../mitigate/pcap-out.js';
import { RulesError, rulesErrorLine } from '../../rules/errors.js';
import { filterCapture } from '../../rules/filter-capture.js';
import { type FlowFilterResult, type FlowTally, filterFlows } from '../../rules/filter-flows.js';
import { detectFileFormat, filterHttp, followHttp, type HttpFilterResult, type HttpFollowResult } from '../../rules/filter-http.js';
import { enrichRequest } from '../../sources/accesslog/enrich.js';
import type { HttpLogView } from '../../sources/accesslog/view.js';
import { isFlowExport } from '../../sources/flow/sniff-capture.js';
import { toFlowRecord } from '../../sources/flow/to-record.js';
import { flowRow, flowTableHead, tallyLine } from '../flow-table.js';
import { checkSomeParsed, formatParser, inputsAreLogs, isHttpKind, sayFormats } from '../log-input.js';
import { LineOut } from '../log-out.js';
import { collect, loginOption } from '../options.js';

interface Opts {
  expression?: string[];
  loginPath?: string[];
  write?: string;
  count?: boolean;
  json?: boolean;
  as?: string;
  format?: string;
  follow?: boolean;
}

/** A RulesError becomes the CLI's error with the expression and a caret under the span. */
function ruleError(e: unknown): never {
  if (!(e instanceof RulesError)) throw e;
  throw new PalisadeError('E_RULE', `filter: invalid expression\n${rulesErrorLine(e)}`, e.span, e.expression ?? '');
}

async function filterPackets(capture: string, exprs: string[], opts: Opts): Promise<void> {
  if (opts.json) throw new UsageError('filter: --json prints flow records; with packets use -w to keep them or --count');
  const out = opts.write ? new PcapOut(opts.write === '-' ? '/dev/stdout' : opts.write) : null;
  let result: Awaited<ReturnType<typeof filterCapture>>;
  try {
    result = await filterCapture(capture, exprs, {
      onMatch: out === null ? undefined : (v) => out.write(v.linkType, v.buf, v.frameOff, v.caplen, v.wirelen, v.tsSec, v.tsNsec),
    });
  } catch (e) {
    ruleError(e);
  }
  if (out !== null) {
    out.close();
    if (out.skipped > 0) process.stderr.write(`palisade: warning: ${out.skipped} matching packets had another link type than the first and were not written\n`);
  }
  if (opts.count || out === null) process.stdout.write(`${result.counts.join('\n')}\n`);
  else if (opts.write !== '-') process.stderr.write(`${result.counts[0]} of ${result.info.packets} packets written to ${opts.write}\n`);
  if (result.info.error) process.stderr.write(`palisade: warning: ${capture}: ${result.info.error}\n`);
}

async function filterFlowRecords(capture: string, exprs: string[], opts: Opts): Promise<void> {
  if (opts.write) throw new UsageError('filter: -w writes packets; with --as flows use --json to keep the matching records');
  // One expression and no --count: the matching records themselves (JSON lines, or a table).
  const list = exprs.length === 1 && !opts.count;
  const w = (s: string) => process.stdout.write(s);
  if (list && !opts.json) w(`${flowTableHead()}\n`);
  let result: FlowFilterResult;
  try {
    result = await filterFlows(capture, exprs, {
      onMatch: !list ? undefined : opts.json ? (v) => w(`${JSON.stringify(toFlowRecord(v))}\n`) : (v) => w(`${flowRow(v)}\n`),
    });
  } catch (e) {
    ruleError(e);
  }
  const { counts, total } = result;
  if (opts.json && !list) w(`${JSON.stringify({ expressions: exprs.map((expression, i) => ({ expression, ...counts[i] })), total })}\n`);
  else if (!opts.json) {
    if (list) w('\n');
    for (let i = 0; i < exprs.length; i++) w(`${exprs.length > 1 ? `${exprs[i]}\n  ` : ''}${tallyLine(counts[i] as FlowTally, total)}\n`);
  } else process.stderr.write(`${tallyLine(counts[0] as FlowTally, total)}\n`);
  if (result.info.records === 0) process.stderr.write(`palisade: warning: ${capture}: no flow records (NetFlow, IPFIX or sFlow datagrams) in this capture\n`);
  if (result.info.error) process.stderr.write(`palisade: warning: ${capture}: ${result.info.error}\n`);
}

/** What a matching request is printed as: the line as it was, or its HttpRequest record (enriched). */
function requestPrinter(opts: Opts, out: LineOut): (v: HttpLogView) => void {
  if (opts.json) {
    const isLogin = loginOption(opts.loginPath);
    return (v) => out.line(JSON.stringify(enrichRequest(v.toHttpRequest(), { orderedHeaders: v.orderedHeaders !== null, isLogin })));
  }
  return (v) => out.line(v.line);
}

function printHttpCounts(exprs: string[], counts: number[], total: number, opts: Opts): void {
  const w = (s: string) => process.stdout.write(s);
  if (opts.json) w(`${JSON.stringify({ expressions: exprs.map((expression, i) => ({ expression, requests: counts[i] })), total })}\n`);
  else if (exprs.length === 1) w(`${counts[0]}\n`);
  else for (let i = 0; i < exprs.length; i++) w(`${counts[i]}\t${exprs[i]}\n`);
}

async function filterLogs(inputs: string[], exprs: string[], opts: Opts): Promise<void> {
  if (opts.write) throw new UsageError('filter: -w writes packets; on access logs the matching lines go to stdout (redirect them), or --json for records');
  const parser = formatParser(opts.format);
  // One expression and no --count: the matching requests themselves.
  const list = exprs.length === 1 && !opts.count;
  const out = new LineOut();
  const onMatch = list ? requestPrinter(opts, out) : undefined;
  if (opts.follow) return followLogs(inputs, exprs, opts, parser, out, onMatch);
  let result: HttpFilterResult;
  try {
    result = await filterHttp(inputs, exprs, { format: parser, onMatch });
  } catch (e) {
    ruleError(e);
  }
  out.flush();
  if (!list) printHttpCounts(exprs, result.counts, result.total, opts);
  sayFormats(result.info.files);
  checkSomeParsed(result.info.files);
  if (!list || opts.json) process.stderr.write(`${result.counts[0]} of ${result.total} requests matched\n`);
  if (result.info.error) process.stderr.write(`palisade: warning: ${result.info.error}\n`);
}

/** tail -F the logs until SIGINT/SIGTERM, printing as requests arrive; counts at the end. */
async function followLogs(
  inputs: string[],
  exprs: string[],
  opts: Opts,
  parser: ReturnType<typeof formatParser>,
  out: LineOut,
  onMatch: ((v: HttpLogView) => void) | undefined,
): Promise<void> {
  if (inputs.includes('-')) throw new UsageError('filter: --follow reads files, not stdin (stdin already streams)');
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Say the format now when the file has lines to choose it from; else the follower detects it later.
  const format = parser ?? (inputs.length === 1 ? detectFileFormat(inputs[0] as string)?.parser : undefined);
  if (format !== undefined) process.stderr.write(`palisade: following ${inputs.join(', ')}: format ${format.name}${parser === undefined ? ' (detected)' : ''}\n`);
  const flusher = setInterval(() => out.flush(), 200);
  let result: HttpFollowResult;
  try {
    result = await followHttp(inputs, exprs, { format, onMatch, signal: stop.signal });
  } catch (e) {
    ruleError(e);
  } finally {
    clearInterval(flusher);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  out.flush();
  if (!(exprs.length === 1 && !opts.count)) printHttpCounts(exprs, result.counts, result.total, opts);
  sayFormats(result.files);
  checkSomeParsed(result.files);
}

export function register(program: Command): void {
  program
    .command('filter')
    .description(
      'Select what matches a Rules-language expression: the packets of a capture (packet scheme; count them or write them as pcap), the flow records of a capture of NetFlow/IPFIX/sFlow export (flow scheme), or the requests of access logs (HTTP scheme; the matching lines, or HttpRequest records).',
    )
    .argument(
      '<input...>',
      'pcap or pcapng file (optionally gzip-compressed), access log(s) (nginx, Apache, JSON lines; several merged in time order), or - for stdin; without -e the last argument is the rule',
    )
    .option(
      '-e, --expression <expr>',
      'the rule, e.g. \'ip.proto == "udp" and udp.srcport == 53 and ip.len > 512\'; repeat -e to count several rules in one pass',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option(
      '--as <kind>',
      'packets; flows: the records of the NetFlow v5/v9, IPFIX or sFlow v5 export the capture carries; http: requests of access logs (default: http for text/JSON lines, flows when most of the first packets are flow export)',
    )
    .option(
      '--format <format>',
      'access logs: combined, common, vhost_combined, main, palisade, cloudflare, caddy, traefik, alb, cloudfront, or an nginx log_format / Apache LogFormat string (nginx:..., apache:...); default: detected per file, and said on stderr',
    )
    .option('-f, --follow', 'access logs: keep reading as the files grow (tail -F: rotation and truncation safe) until interrupted')
    .option(
      '--login-path <path>',
      "access logs, --json: the site's login endpoint (repeatable), for enrichment.login; default: paths ending in /login, /signin, /wp-login.php, /auth, /token …",
      collect,
    )
    .option('-w, --write <out.pcap>', 'write the matching packets to a classic pcap file (- for stdout); packets only')
    .option('-c, --count', 'print the number of matching packets (flows: records, packets and bytes; logs: requests)')
    .option(
      '--json',
      'flows: print the matching records as JSON lines (FlowRecord); logs: HttpRequest records with enrichment; with --count or several -e, the counts as one JSON object',
    )
    .addHelpText(
      'after',
      `
Packets: without -w, the count is printed. With several -e (and no -w), one count per expression
is printed, in order, from a single pass over the capture.

Flows (--as flows, or a capture that is mostly flow export): the expression is evaluated on each
flow record (NetFlow v5/v9, IPFIX) or sFlow sample with the flow scheme: the packet fields under
their usual names where a record states them (ip.src, udp.srcport, tcp.flags as the OR of the
flow's flags ...), every packet field from an sFlow sample's sampled header, and flow.* fields
(flow.packets, flow.bytes, flow.sampling_rate, flow.exporter, flow.input_if, flow.src_as ...).
The matching records are listed (a table, or JSON lines with --json), then counted as records,
as the packets and bytes they claim, and scaled by their sampling rate: the network's numbers.
--as packets looks at the export datagrams themselves. stdin is read as packets unless --as says.

Access logs (--as http, --format, several inputs, or files of text/JSON lines): the expression is
evaluated on each request with the HTTP scheme (http.request.uri.path, http.user_agent,
http.response.code, ip.src, ip.src.asnum, ip.src.country ...). The matching lines are printed as
they were (a valid log of the same format); --json prints HttpRequest records, with enrichment
(asn, country, /24 or /48 prefix, static asset or page, login endpoint, cookie names, and the
client's header order where the log keeps it); --count the number. The format of each file, and the lines
that did not parse (by number), are said on stderr. --follow tails the files.

An invalid expression is reported with a caret under the offending part (exit 2).
Fields: palisade rules fields --scheme packet | flow.

Examples:
  palisade filter -e 'tcp.flags.syn and not tcp.flags.ack' attack.pcap --count
  palisade filter -e 'udp.srcport == 53 and ip.len > 1000' attack.pcap -w dns-amp.pcap
  tcpdump -i eth0 -w - | palisade filter -e 'ip.src in {192.0.2.0/24}' - -w - | tcpdump -r -
  palisade filter --as flows netflow.pcap 'udp.srcport == 53 and ip.dst == 198.51.100.10' --count
  palisade filter --as flows sflow.pcap 'flow.sampling_rate > 1 and ip.ttl < 10' --json
  palisade filter -e 'http.request.uri.path eq "/login" and http.response.code eq 401' access.log
  palisade filter -e 'ip.src.asnum eq 14061' --count access.log access.log.1.gz
  palisade filter --format '$remote_addr - [$time_local] "$request" $status' -e 'http.response.code ge 500' app.log
  palisade filter -f -e 'http.user_agent contains "python"' /var/log/nginx/access.log`,
    )
    .action(async (args: string[], opts: Opts) => {
      // With -e every argument is an input; without, the last one is the rule (`filter CAPTURE EXPR`).
      const inputs = opts.expression === undefined && args.length > 1 ? args.slice(0, -1) : args;
      const exprs = [...(opts.expression === undefined && args.length > 1 ? [args[args.length - 1] as string] : []), ...(opts.expression ?? [])];
      if (exprs.length === 0) throw new UsageError('filter: give the expression (after the capture, or with -e)');
      if (exprs.length > 1 && opts.write) throw new UsageError('filter: -w takes one expression');
      if (opts.as !== undefined && opts.as !== 'packets' && opts.as !== 'flows' && !isHttpKind(opts.as)) throw new UsageError('filter: --as must be packets, flows or http');
      if (await inputsAreLogs(inputs, opts.as, opts.format)) return filterLogs(inputs, exprs, opts);
      if (opts.follow) throw new UsageError('filter: --follow reads access logs (captures: pipe a live capture to stdin)');
      if (inputs.length > 1) throw new UsageError('filter: one capture at a time (several inputs are read as access logs)');
      const capture = inputs[0] as string;
      // -w keeps packets, so it alone chooses packets; otherwise a capture of flow export is read as flows.
      const flows = opts.as === 'flows' || (opts.as === undefined && !opts.write && (await isFlowExport(capture)));
      if (flows) await filterFlowRecords(capture, exprs, opts);
      else await filterPackets(capture, exprs, opts);
    });
}
