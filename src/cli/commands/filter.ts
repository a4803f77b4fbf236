/**
 * `palisade filter CAPTURE [EXPR] [-e EXPR ...] [--as packets|flows] [-w OUT.pcap] [--count] [--json]`:
 * the packets of a capture that match a rule, or the flow records of a capture of flow export.
 */
import type { Command } from 'commander';
import { PalisadeError, UsageError } from '../../core/errors.js';
import { PcapOut } from '../../mitigate/pcap-out.js';
import { RulesError, rulesErrorLine } from '../../rules/errors.js';
import { filterCapture } from '../../rules/filter-capture.js';
import { type FlowFilterResult, type FlowTally, filterFlows } from '../../rules/filter-flows.js';
import { isFlowExport } from '../../sources/flow/sniff-capture.js';
import { toFlowRecord } from '../../sources/flow/to-record.js';
import { flowRow, flowTableHead, tallyLine } from '../flow-table.js';

interface Opts {
  expression?: string[];
  write?: string;
  count?: boolean;
  json?: boolean;
  as?: string;
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

export function register(program: Command): void {
  program
    .command('filter')
    .description(
      'Select what matches a Rules-language expression: the packets of a capture (packet scheme; count them or write them as pcap), or the flow records of a capture of NetFlow/IPFIX/sFlow export (flow scheme).',
    )
    .argument('<capture>', 'pcap or pcapng file (optionally gzip-compressed), or - for stdin')
    .argument('[expression]', 'the rule (same as one -e)')
    .option(
      '-e, --expression <expr>',
      'the rule, e.g. \'ip.proto == "udp" and udp.srcport == 53 and ip.len > 512\'; repeat -e to count several rules in one pass',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option(
      '--as <kind>',
      'packets, or flows: the records of the NetFlow v5/v9, IPFIX or sFlow v5 export the capture carries (default: flows when most of its first packets are flow export)',
    )
    .option('-w, --write <out.pcap>', 'write the matching packets to a classic pcap file (- for stdout); packets only')
    .option('-c, --count', 'print the number of matching packets (flows: records, packets and bytes)')
    .option('--json', 'flows: print the matching records as JSON lines (FlowRecord); with --count or several -e, the counts as one JSON object')
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

An invalid expression is reported with a caret under the offending part (exit 2).
Fields: palisade rules fields --scheme packet | flow.

Examples:
  palisade filter -e 'tcp.flags.syn and not tcp.flags.ack' attack.pcap --count
  palisade filter -e 'udp.srcport == 53 and ip.len > 1000' attack.pcap -w dns-amp.pcap
  tcpdump -i eth0 -w - | palisade filter -e 'ip.src in {192.0.2.0/24}' - -w - | tcpdump -r -
  palisade filter --as flows netflow.pcap 'udp.srcport == 53 and ip.dst == 198.51.100.10' --count
  palisade filter --as flows sflow.pcap 'flow.sampling_rate > 1 and ip.ttl < 10' --json`,
    )
    .action(async (capture: string, expression: string | undefined, opts: Opts) => {
      const exprs = [...(expression !== undefined ? [expression] : []), ...(opts.expression ?? [])];
      if (exprs.length === 0) throw new UsageError('filter: give the expression (after the capture, or with -e)');
      if (exprs.length > 1 && opts.write) throw new UsageError('filter: -w takes one expression');
      if (opts.as !== undefined && opts.as !== 'packets' && opts.as !== 'flows') throw new UsageError('filter: --as must be packets or flows');
      // -w keeps packets, so it alone chooses packets; otherwise a capture of flow export is read as flows.
      const flows = opts.as === 'flows' || (opts.as === undefined && !opts.write && (await isFlowExport(capture)));
      if (flows) await filterFlowRecords(capture, exprs, opts);
      else await filterPackets(capture, exprs, opts);
    });
}
