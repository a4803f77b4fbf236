/**
 * Issue 2, item 7: `palisade analyze` end to end on the 5-million-packet bench capture, against
 * `tshark -q -z io,stat,1` and `tcpdump -nn -r` (text to /dev/null) and tcpdump's reading floor
 * (`-w /dev/null`), all in this run. Prints packets/s (by wall time and by CPU time: the machine
 * is shared, and CPU time is the steadier one-core figure), peak memory and our ratio to each.
 * tcpdump's text output runs over the first TEXT_PACKETS packets only: it prints a few tens of
 * thousands of packets a second here and would otherwise take minutes.
 */
import { execFileSync } from 'node:child_process';
import { benchCapture, CLI, ROW_HEAD, row, timed } from './common.js';

const TEXT_PACKETS = 500_000;

export default async function run(): Promise<void> {
  const file = benchCapture();
  const info = JSON.parse(execFileSync(process.execPath, [CLI, 'analyze', '--json', '--no-progress', file], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  const packets: number = info.capture.packets;
  console.log(`capture: ${file}: ${packets.toLocaleString('en-US')} packets, ${(info.capture.bytes / 1e9).toFixed(2)} GB on the wire`);
  const ours = timed(process.execPath, [CLI, 'analyze', '--json', '--no-progress', '--no-detect', file]);
  const withDetect = timed(process.execPath, [CLI, 'analyze', '--json', '--no-progress', file]);
  const oursHuman = timed(process.execPath, [CLI, 'analyze', '--no-progress', '--no-detect', file]);
  const floor = timed('tcpdump', ['-r', file, '-w', '/dev/null'], { shell: true });
  const tcpdump = timed('tcpdump', ['-nn', '-c', String(TEXT_PACKETS), '-r', file], { shell: true });
  const textPackets = Math.min(TEXT_PACKETS, packets);
  const tshark = timed('tshark', ['-r', file, '-q', '-z', 'io,stat,1'], { shell: true });
  console.log(ROW_HEAD);
  console.log(row('palisade analyze --json --no-detect', packets, ours));
  console.log(row('palisade analyze (tables) --no-detect', packets, oursHuman));
  console.log(row('palisade analyze --json (with detection)', packets, withDetect));
  console.log(row('tshark -r F -q -z io,stat,1', packets, tshark));
  console.log(row(`tcpdump -nn -c ${textPackets / 1000}k -r F (text)`, textPackets, tcpdump));
  console.log(row('tcpdump -r F -w /dev/null (reading floor)', packets, floor));
  const ratio = (a: number, b: number): string => (a / b).toFixed(1);
  const tcpdumpPerPacket = tcpdump.seconds / textPackets;
  console.log(
    `ratio (wall): palisade is ${ratio(tshark.seconds, ours.seconds)}x tshark, ${ratio(tcpdumpPerPacket * packets, ours.seconds)}x tcpdump -nn, ${(floor.seconds / ours.seconds).toFixed(2)}x the tcpdump reading floor`,
  );
  console.log(
    `ratio (cpu):  palisade is ${ratio(tshark.cpuSeconds, ours.cpuSeconds)}x tshark, ${ratio((tcpdump.cpuSeconds / textPackets) * packets, ours.cpuSeconds)}x tcpdump -nn, ${(floor.cpuSeconds / ours.cpuSeconds).toFixed(2)}x the tcpdump reading floor`,
  );
  console.log(`detection costs ${((1 - ours.cpuSeconds / withDetect.cpuSeconds) * 100).toFixed(0)} % of analyze's throughput (cpu; target <= 30 %)`);
  console.log(
    `targets: >= 3 M pkt/s one core (${(packets / ours.cpuSeconds / 1e6).toFixed(2)} M cpu, ${(packets / ours.seconds / 1e6).toFixed(2)} M wall), >= 20x tshark, peak memory < 300 MB (${ours.maxRssMb.toFixed(0)} MB)`,
  );
}
