/**
 * Issue 4, item 9: what detection costs. `palisade analyze --json` on the 5-million-packet bench
 * capture (benign mix + a spoofed SYN flood + a DNS amplification) with detection (the default:
 * windows, classes, baselines, signature search and the measurement pass that re-reads the file)
 * against `--no-detect`, and against tshark reading the same file, all in this run. Also the
 * detector's memory under ten million spoofed sources (test/detect/memory.test.ts asserts it).
 */
import { execFileSync } from 'node:child_process';
import { benchCapture, CLI, row, timed } from './common.js';

export default async function run(): Promise<void> {
  const file = benchCapture();
  const info = JSON.parse(execFileSync(process.execPath, [CLI, 'analyze', '--json', '--no-progress', file], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  const packets: number = info.capture.packets;
  console.log(`capture: ${file}: ${packets.toLocaleString('en-US')} packets`);
  for (const a of info.attacks) {
    console.log(
      `  found ${a.vector} on ${a.victim.ip ?? a.victim.prefix}: ${a.packets} packets, signature ${a.signature.expression} (coverage ${a.signature.coverage}, collateral ${a.signature.collateral})`,
    );
  }
  // Alternate the runs so a busy machine affects both sides alike; keep each side's best.
  let without = timed(process.execPath, [CLI, 'analyze', '--json', '--no-progress', '--no-detect', file]);
  let withDetect = timed(process.execPath, [CLI, 'analyze', '--json', '--no-progress', file]);
  for (let i = 0; i < 2; i++) {
    const w = timed(process.execPath, [CLI, 'analyze', '--json', '--no-progress', '--no-detect', file]);
    if (w.seconds < without.seconds) without = w;
    const d = timed(process.execPath, [CLI, 'analyze', '--json', '--no-progress', file]);
    if (d.seconds < withDetect.seconds) withDetect = d;
  }
  const tshark = timed('tshark', ['-r', file, '-q', '-z', 'io,stat,1'], { shell: true });
  console.log(row('palisade analyze --json --no-detect', packets, without));
  console.log(row('palisade analyze --json (detection)', packets, withDetect));
  console.log(row('tshark -r F -q -z io,stat,1', packets, tshark));
  const cost = (withDetect.seconds - without.seconds) / without.seconds;
  const cpuCost = (withDetect.cpuSeconds - without.cpuSeconds) / without.cpuSeconds;
  console.log(
    `detection costs ${(cost * 100).toFixed(0)}% of analyze's wall time, ${(cpuCost * 100).toFixed(0)}% of its CPU time (target <= 30%); with detection palisade is ${(tshark.seconds / withDetect.seconds).toFixed(1)}x tshark's io,stat pass`,
  );
}
