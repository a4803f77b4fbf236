/** `palisade filter -e EXPR CAPTURE [-w OUT.pcap] [--count]`: the packets of a capture that match a rule. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { PacketView } from '../../decode/view.js';
import { PcapOut } from '../../mitigate/pcap-out.js';
import { compile } from '../../rules/compile.js';
import { RulesError, formatRulesError } from '../../rules/errors.js';
import { packetScheme } from '../../scheme/packet.js';
import { readCapture } from '../../sources/capture.js';

interface Opts {
  expression?: string;
  write?: string;
  count?: boolean;
}

export function register(program: Command): void {
  program
    .command('filter')
    .description('Select the packets of a capture that match a Rules-language expression (packet scheme): count them or write them as pcap.')
    .argument('<capture>', 'pcap or pcapng file (optionally gzip-compressed), or - for stdin')
    .requiredOption('-e, --expression <expr>', "the rule, e.g. 'ip.proto == \"udp\" and udp.srcport == 53 and ip.len > 512'")
    .option('-w, --write <out.pcap>', 'write the matching packets to a classic pcap file (- for stdout)')
    .option('-c, --count', 'print the number of matching packets')
    .addHelpText(
      'after',
      `
Without -w, the count is printed. An invalid expression is reported with a caret under the
offending part (exit 2). Fields: palisade rules fields --scheme packet.

Examples:
  palisade filter -e 'tcp.flags.syn and not tcp.flags.ack' attack.pcap --count
  palisade filter -e 'udp.srcport == 53 and ip.len > 1000' attack.pcap -w dns-amp.pcap
  tcpdump -i eth0 -w - | palisade filter -e 'ip.src in {192.0.2.0/24}' - -w - | tcpdump -r -`,
    )
    .action(async (capture: string, opts: Opts) => {
      const expr = opts.expression ?? '';
      let pred: (v: PacketView) => boolean;
      try {
        pred = compile(expr, packetScheme);
      } catch (e) {
        if (!(e instanceof RulesError)) throw e;
        throw new UsageError(`filter: invalid expression\n${formatRulesError(expr, e)}`);
      }
      let matched = 0;
      const out = opts.write ? new PcapOut(opts.write === '-' ? '/dev/stdout' : opts.write) : null;
      const info = await readCapture(
        capture,
        out === null
          ? (v) => {
              if (pred(v)) matched++;
            }
          : (v) => {
              if (!pred(v)) return;
              matched++;
              out.write(v.linkType, v.buf, v.frameOff, v.caplen, v.wirelen, v.tsSec, v.tsNsec);
            },
      );
      if (out !== null) {
        out.close();
        if (out.skipped > 0) process.stderr.write(`palisade: warning: ${out.skipped} matching packets had another link type than the first and were not written\n`);
      }
      if (opts.count || out === null) process.stdout.write(`${matched}\n`);
      else if (opts.write !== '-') process.stderr.write(`${matched} of ${info.packets} packets written to ${opts.write}\n`);
      if (info.error) process.stderr.write(`palisade: warning: ${capture}: ${info.error}\n`);
    });
}
