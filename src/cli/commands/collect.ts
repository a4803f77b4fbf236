/**
 * `palisade collect --sflow :6343 --netflow :2055 --ipfix :4739`: a flow collector on UDP. Prints a
 * periodic summary (rates, exporters, loss), or the records as JSON lines with --json, keeps what
 * arrived with -w, and stops on --count, --duration or a signal with a final summary.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { formatAddr, parseAddr } from '../../core/net/prefix.js';
import { toFlowRecord } from '../../sources/flow/to-record.js';
import { type ListenAddress, type ListenKind, parseListenAddress } from '../../sources/flow-listen/address.js';
import { DEFAULT_RECV_BUFFER, FlowCollector, recvBufferMax } from '../../sources/flow-listen/collector.js';
import { finalText, periodicText, startText, tickOf } from '../collect-text.js';
import { intOption, numberOption } from '../options.js';

interface Opts {
  sflow: string[];
  netflow: string[];
  ipfix: string[];
  json?: boolean;
  write?: string;
  count?: number;
  duration?: number;
  interval: number;
  rcvbuf: number;
  sampling: string[];
  stats?: string;
}

/** stdout may hold this much unwritten JSON before records stop being printed (and are counted instead). */
const MAX_STDOUT_BACKLOG = 64 << 20;

const repeat = (v: string, prev: string[]): string[] => [...prev, v];

export function register(program: Command): void {
  program
    .command('collect')
    .description('Collect sFlow v5, NetFlow v5/v9 and IPFIX on UDP: rates, exporters and loss, or the flow records as JSON lines.')
    .option('--sflow <addr>', 'listen for sFlow on HOST:PORT, [IPV6]:PORT or :PORT (repeatable; usually :6343)', repeat, [])
    .option('--netflow <addr>', 'listen for NetFlow v5/v9 (repeatable; usually :2055)', repeat, [])
    .option('--ipfix <addr>', 'listen for IPFIX (repeatable; usually :4739)', repeat, [])
    .option('--json', 'print each flow record (and sFlow sample) as one JSON line on stdout; summaries go to stderr')
    .option('-w, --write <file>', 'keep every datagram that arrived in a pcap (IP/UDP headers rebuilt, link type RAW)')
    .option('-c, --count <n>', 'stop after N datagrams', intOption('--count', { min: 1 }))
    .option('--duration <s>', 'stop after S seconds', numberOption('--duration', { above: 0 }))
    .option('--interval <s>', 'seconds between summaries (0: only the final one)', numberOption('--interval', { min: 0 }), 5)
    .option('--rcvbuf <bytes>', 'socket receive buffer to ask the kernel for', intOption('--rcvbuf', { min: 4096 }), DEFAULT_RECV_BUFFER)
    .option('--sampling <exporter=n>', 'sampling rate of an exporter that does not announce it, e.g. 192.0.2.1=1000 (repeatable)', repeat, [])
    .option('--stats <file>', 'write the final counters (listeners, exporters, loss, decoder) as JSON to FILE')
    .addHelpText(
      'after',
      `
:PORT listens on every IPv4 and IPv6 address. The export protocol is told by content, so a
listener also decodes another protocol sent to it (and says so). Loss is reported from both
places it shows: gaps in the exporters' sequence numbers, and the kernel's drop counter of each
socket (/proc/net/udp: datagrams that found the receive buffer full). Ctrl-C stops with a
final summary.

Examples:
  palisade collect --netflow :2055 --ipfix :4739 --sflow :6343
  palisade collect --ipfix 127.0.0.1:4739 --json --duration 60 > flows.jsonl
  palisade collect --netflow [::1]:2055 -w export.pcap --count 10000
  palisade analyze --as flows export.pcap`,
    )
    .action(async (opts: Opts) => {
      const listen = listenAddresses(opts);
      const samplingRates = parseSampling(opts.sampling);
      const json = opts.json === true;
      const summaryOut = json ? process.stderr : process.stdout;
      let unprinted = 0;
      let lines: string[] = [];
      let flushScheduled = false;
      const flushLines = () => {
        flushScheduled = false;
        if (lines.length === 0) return;
        process.stdout.write(`${lines.join('\n')}\n`);
        lines = [];
      };
      const collector = new FlowCollector({
        listen,
        recvBufferBytes: opts.rcvbuf,
        decoder: { samplingRates },
        pcapPath: opts.write,
        maxDatagrams: opts.count,
        maxDurationMs: opts.duration === undefined ? undefined : opts.duration * 1000,
        onFlow: json
          ? (v) => {
              // A slow reader must not grow our memory without bound: past the backlog, count instead.
              if (process.stdout.writableLength > MAX_STDOUT_BACKLOG) {
                unprinted++;
                return;
              }
              lines.push(JSON.stringify(toFlowRecord(v)));
              if (!flushScheduled) {
                flushScheduled = true;
                setImmediate(flushLines);
              }
            }
          : undefined,
      });
      await collector.start();
      summaryOut.write(startText(collector.snapshot(), recvBufferMax()));

      let prev = tickOf(collector.snapshot());
      const timer =
        opts.interval > 0
          ? setInterval(() => {
              const s = collector.snapshot();
              summaryOut.write(periodicText(s, prev));
              prev = tickOf(s);
            }, opts.interval * 1000)
          : null;
      const onSignal = () => collector.stop('signal');
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const final = await collector.done;
      if (timer !== null) clearInterval(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      flushLines();
      summaryOut.write(finalText(final, unprinted));
      if (opts.stats !== undefined) writeFileSync(opts.stats, `${JSON.stringify({ ...final, unprinted }, null, 2)}\n`);
    });
}

function listenAddresses(opts: Opts): ListenAddress[] {
  const kinds: ListenKind[] = ['sflow', 'netflow', 'ipfix'];
  const listen = kinds.flatMap((k) => opts[k].map((text) => parseListenAddress(k, text)));
  if (listen.length === 0) throw new UsageError('collect: give at least one listener: --sflow :6343, --netflow :2055 or --ipfix :4739');
  // Two listeners on one port would fail to bind with a less helpful message.
  const seen = new Map<number, ListenAddress>();
  for (const a of listen) {
    const other = seen.get(a.port);
    if (other !== undefined && (other.host === '::' || a.host === '::' || other.host === a.host)) {
      throw new UsageError(`collect: --${other.kind} ${other.text} and --${a.kind} ${a.text} both take port ${a.port} (one socket decodes every protocol: give it once)`);
    }
    seen.set(a.port, a);
  }
  return listen;
}

function parseSampling(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const m = /^([^=]+)=(\d+)$/.exec(item);
    const rate = m ? Number(m[2]) : Number.NaN;
    if (m === null || !Number.isSafeInteger(rate) || rate < 1)
      throw new UsageError(`--sampling takes EXPORTER=RATE with a whole rate of 1 or more, e.g. 192.0.2.1=1000, not "${item}"`);
    // The decoder looks exporters up by their canonical text (RFC 5952 for IPv6).
    const addr = parseAddr((m[1] as string).trim());
    if (addr === null) throw new UsageError(`--sampling: "${m[1]}" is not an IP address`);
    out[formatAddr(addr.family, addr.addr)] = rate;
  }
  return out;
}
