/**
 * The flags of what a monitor watches (-i, --replay, flow listeners, access logs, --config), shared
 * by `palisade monitor` and `palisade serve`. Only the flags: opening the inputs is
 * watch-inputs.ts's, loaded when a command runs with them.
 */
import type { Command } from 'commander';
import { intOption, numberOption } from './options.js';

export interface WatchOpts {
  interface?: string;
  filter?: string;
  replay?: string;
  speed: number;
  loops: number;
  sflow: string[];
  netflow: string[];
  ipfix: string[];
  httpLog: string[];
  logFormat?: string;
  config?: string;
}

const repeat = (v: string, prev: string[]): string[] => [...prev, v];

/** The input flags and --config, on a command (monitor, serve). */
export function addWatchOptions(cmd: Command): Command {
  return cmd
    .option('-i, --interface <iface>', 'capture live on IFACE through dumpcap (or tcpdump)')
    .option('-f, --filter <bpf>', 'BPF capture filter for -i, e.g. "not port 22"')
    .option('--replay <file>', 'play a pcap/pcapng file at the pace of its timestamps (drills, tests)')
    .option('--sflow <addr>', 'collect sFlow on HOST:PORT or :PORT (usually :6343) and watch the traffic it samples (repeatable)', repeat, [])
    .option('--netflow <addr>', 'collect NetFlow v5/v9 (usually :2055; repeatable)', repeat, [])
    .option('--ipfix <addr>', 'collect IPFIX (usually :4739; repeatable)', repeat, [])
    .option('--http-log <file>', 'follow an HTTP access log as it grows (tail -F from its end; rotation safe); - reads a log on stdin (repeatable)', repeat, [])
    .option('--log-format <fmt>', 'format of the --http-log files (a built-in name, nginx:/apache: format string); detected when absent')
    .option('--speed <x>', 'replay speed: 1 real time, 10 ten times faster', numberOption('--speed', { above: 0 }), 1)
    .option('--loops <n>', 'replay the (classic pcap) file N times, each round after the last (soak tests)', intOption('--loops', { min: 1 }), 1)
    .option('--config <file>', 'palisade.yaml: detection settings and the services alerts are triaged against (default ./palisade.yaml when present)');
}

/** Were any inputs given (other than stdin and extra HTTP inputs the caller adds)? */
export function anyWatchInput(opts: WatchOpts): boolean {
  return opts.interface !== undefined || opts.replay !== undefined || opts.sflow.length + opts.netflow.length + opts.ipfix.length + opts.httpLog.length > 0;
}
