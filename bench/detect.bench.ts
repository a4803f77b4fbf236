/**
 * Issue 4, item 9: what detection costs. `palisade analyze --json` on the 5-million-packet bench
 * capture (benign mix + a spoofed SYN flood + a DNS amplification) with detection (the default:
 * windows, classes, baselines, signature search and the measurement pass that re-reads the file)
 * against `--no-detect`, and against tshark reading the same file, all in this run. Also the
 * detector's memory under ten million spoofed sources (test/detect/memory.test.ts asserts it).
 *
 * Detection runs on a second thread by default (src/detect/thread.ts); `--no-parallel` is the
 * single-thread figure, printed too. The cost is the measure, the throughput lost:
 * 1 - (packets/s with detection) / (packets/s without), by wall time and by CPU time.
 */
import { execFileSync, spawnSync } from 'node:child_process';
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
  let single = timed(process.execPath, [CLI, 'analyze', '--json', '--no-progress', '--no-parallel', file]);
  for (let i = 0; i < 2; i++) {
    const w = timed(process.execPath, [CLI, 'analyze', '--json', '--no-progress', '--no-detect', file]);
    if (w.seconds < without.seconds) without = w;
    const d = timed(process.execPath, [CLI, 'analyze', '--json', '--no-progress', file]);
    if (d.seconds < withDetect.seconds) withDetect = d;
    const s1 = timed(process.execPath, [CLI, 'analyze', '--json', '--no-progress', '--no-parallel', file]);
    if (s1.seconds < single.seconds) single = s1;
  }
  const tshark = timed('tshark', ['-r', file, '-q', '-z', 'io,stat,1'], { shell: true });
  console.log(row('palisade analyze --json --no-detect', packets, without));
  console.log(row('palisade analyze --json (detection)', packets, withDetect));
  console.log(row('palisade analyze --json --no-parallel', packets, single));
  console.log(row('tshark -r F -q -z io,stat,1', packets, tshark));
  const lost = (a: number, b: number) => `${((1 - a / b) * 100).toFixed(0)}%`;
  console.log(
    `detection costs ${lost(without.seconds, withDetect.seconds)} of analyze's throughput by wall time (target <= 30%), ${lost(without.cpuSeconds, withDetect.cpuSeconds)} of its CPU throughput; on one thread (--no-parallel) ${lost(without.seconds, single.seconds)} by wall time, ${lost(without.cpuSeconds, single.cpuSeconds)} by CPU time`,
  );
  console.log(`with detection palisade is ${(tshark.seconds / withDetect.seconds).toFixed(1)}x tshark's io,stat pass`);
  // Memory under ten million spoofed sources: the test that asserts the bound, run with a real gc.
  const mem = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--test', '--test-reporter=tap', 'test/detect/memory.test.ts'], {
    encoding: 'utf8',
    env: { ...process.env, PALISADE_VERBOSE: '1' },
  });
  const grown = /heap growth ([\d.]+) MB/.exec(mem.stdout)?.[1];
  console.log(
    mem.status === 0 && grown !== undefined
      ? `detector under 10,000,000 spoofed sources (and a destination stream that overflows its table): heap grew ${grown} MB; the SYN flood is still found`
      : `memory test failed:\n${mem.stdout}${mem.stderr}`,
  );
}
