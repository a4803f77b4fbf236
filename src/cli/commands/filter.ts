/** `palisade filter -e EXPR CAPTURE [-w OUT.pcap] [--count]`: the packets of a capture that match a rule. */
import type { Command } from 'commander';
import { PalisadeError, UsageError } from '../../core/errors.js';
import { PcapOut } from '../../mitigate/pcap-out.js';
import { RulesError, rulesErrorLine } from '../../rules/errors.js';
import { filterCapture } from '../../rules/filter-capture.js';

interface Opts {
  expression: string[];
  write?: string;
  count?: boolean;
}

export function register(program: Command): void {
  program
    .command('filter')
    .description('Select the packets of a capture that match a Rules-language expression (packet scheme): count them or write them as pcap.')
    .argument('<capture>', 'pcap or pcapng file (optionally gzip-compressed), or - for stdin')
    .requiredOption(
      '-e, --expression <expr>',
      'the rule, e.g. \'ip.proto == "udp" and udp.srcport == 53 and ip.len > 512\'; repeat -e to count several rules in one pass',
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('-w, --write <out.pcap>', 'write the matching packets to a classic pcap file (- for stdout)')
    .option('-c, --count', 'print the number of matching packets')
    .addHelpText(
      'after',
      `
Without -w, the count is printed. With several -e (and no -w), one count per expression is
printed, in order, from a single pass over the capture. An invalid expression is reported with
a caret under the offending part (exit 2). Fields: palisade rules fields --scheme packet.

Examples:
  palisade filter -e 'tcp.flags.syn and not tcp.flags.ack' attack.pcap --count
  palisade filter -e 'udp.srcport == 53 and ip.len > 1000' attack.pcap -w dns-amp.pcap
  tcpdump -i eth0 -w - | palisade filter -e 'ip.src in {192.0.2.0/24}' - -w - | tcpdump -r -`,
    )
    .action(async (capture: string, opts: Opts) => {
      const exprs = opts.expression;
      if (exprs.length > 1 && opts.write) throw new UsageError('filter: -w takes one expression');
      const out = opts.write ? new PcapOut(opts.write === '-' ? '/dev/stdout' : opts.write) : null;
      let result: Awaited<ReturnType<typeof filterCapture>>;
      try {
        result = await filterCapture(capture, exprs, {
          onMatch: out === null ? undefined : (v) => out.write(v.linkType, v.buf, v.frameOff, v.caplen, v.wirelen, v.tsSec, v.tsNsec),
        });
      } catch (e) {
        if (!(e instanceof RulesError)) throw e;
        // The CLI prints the expression with a caret under the span after this message.
        throw new PalisadeError('E_RULE', `filter: invalid expression\n${rulesErrorLine(e)}`, e.span, e.expression ?? '');
      }
      if (out !== null) {
        out.close();
        if (out.skipped > 0) process.stderr.write(`palisade: warning: ${out.skipped} matching packets had another link type than the first and were not written\n`);
      }
      if (opts.count || out === null) process.stdout.write(`${result.counts.join('\n')}\n`);
      else if (opts.write !== '-') process.stderr.write(`${result.counts[0]} of ${result.info.packets} packets written to ${opts.write}\n`);
      if (result.info.error) process.stderr.write(`palisade: warning: ${capture}: ${result.info.error}\n`);
    });
}
