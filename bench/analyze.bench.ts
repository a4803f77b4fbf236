/**
 * Issue 2, item 7: `palisade analyze` end to end on the 5-million-packet bench capture, against
 * `tshark -q -z io,stat,1` and `tcpdump -nn -r` (text to /dev/null) and tcpdump's reading floor
 * (`-w /dev/null`), all in this run. Prints packets/s, peak memory and our ratio to each.
 */
import { execFileSync } from 'node:child_process';
import { benchCapture, CLI, row, timed } from './common.js';

export default async function run(): Promise<void> {
  const file = benchCapture();
  const info = JSON.parse(execFileSync(process.execPath, [CLI, 'analyze', '--json', '--no-progress', file], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  const packets: number = info.capture.packets;
  console.log(`capture: ${file}: ${packets.toLocaleString('en-US')} packets, ${(info.capture.bytes / 1e9).toFixed(2)} GB on the wire`);
  const ours = timed(process.execPath, [CLI, 'analyze', '--json', '--no-progress', file]);
  const oursHuman = timed(process.execPath, [CLI, 'analyze', '--no-progress', file]);
  const floor = timed('tcpdump', ['-r', file, '-w', '/dev/null'], { shell: true });
  const tcpdump = timed('tcpdump', ['-nn', '-r', file], { shell: true });
  const tshark = timed('tshark', ['-r', file, '-q', '-z', 'io,stat,1'], { shell: true });
  console.log(row('palisade analyze --json', packets, ours));
  console.log(row('palisade analyze (tables)', packets, oursHuman));
  console.log(row('tshark -r F -q -z io,stat,1', packets, tshark));
  console.log(row('tcpdump -nn -r F (text to /dev/null)', packets, tcpdump));
  console.log(row('tcpdump -r F -w /dev/null (reading floor)', packets, floor));
  console.log(`ratio: palisade is ${(tshark.seconds / ours.seconds).toFixed(1)}x tshark, ${(tcpdump.seconds / ours.seconds).toFixed(1)}x tcpdump -nn, ${(floor.seconds / ours.seconds).toFixed(2)}x the tcpdump reading floor`);
  console.log(`targets: >= 3 M pkt/s (${(packets / ours.seconds / 1e6).toFixed(2)} M), >= 20x tshark, peak memory < 300 MB (${ours.maxRssMb.toFixed(0)} MB)`);
}
