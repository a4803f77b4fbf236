/**
 * Issue 4, item 9: what detection costs. `palisade analyze --json` on the 5-million-packet bench
 * capture (benign mix + a spoofed SYN flood + a DNS amplification) with detection (the default:
 * windows, classes, baselines, signature search and the measurement pass that re-reads the file)
 * against `--no-detect`, and against tshark reading the same file, all in this run. Also the
 * detector's memory under ten million spoofed sources (test/detect/memory.test.ts asserts it).
 *
 * Detection runs on a second thread by default (src/detect/thread.ts); `--no-parallel` is the
 * single-thread figure, printed too. The cost is the issue's measure, the throughput lost:
 * 1 - (packets/s with detection) / (packets/s without), by wall time and by CPU time.
 *
 * tshark runs in its fastest set-up (common.ts tsharkFast(); analyze.bench.ts says why that is
 * fair). Every command runs RUNS times (PALISADE_BENCH_RUNS, default 3), interleaved: ours with
 * detection, without, on one thread, tshark, then again; all figures are medians with min–max.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { benchCapture, CLI, commandLine, medianOf, ROW_HEAD, RUNS, row, runsNote, type Sample, type Timed, timed, tsharkFast } from './common.js';

export default async function run(): Promise<void> {
  const file = benchCapture();
  if (file === null) return;
  const info = JSON.parse(execFileSync(process.execPath, [CLI, 'analyze', '--json', '--no-progress', file], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  const packets: number = info.capture.packets;
  console.log(`capture: ${file}: ${packets.toLocaleString('en-US')} packets`);
  for (const a of info.attacks) {
    console.log(
      `  found ${a.vector} on ${a.victim.ip ?? a.victim.prefix}: ${a.packets} packets, ${a.signature ? `signature ${a.signature.expression} (coverage ${a.signature.coverage}, collateral ${a.signature.collateral})` : 'no signature (rate limit)'}`,
    );
  }
  const ours = (extra: string[]) => [CLI, 'analyze', '--json', '--no-progress', ...extra, file];
  const tsharkArgs = [...tsharkFast(), '-r', file, '-q', '-z', 'io,stat,1'];
  console.log(`ours: ${commandLine('node', ours([]))}  (and with --no-detect, --no-parallel)`);
  console.log(`peer: ${commandLine('tshark', tsharkArgs, '> /dev/null 2> /dev/null')}`);
  console.log(runsNote());
  const [withDetect, without, single, tshark] = medianOf(
    RUNS,
    () => timed(process.execPath, ours([])),
    () => timed(process.execPath, ours(['--no-detect'])),
    () => timed(process.execPath, ours(['--no-parallel'])),
    () => timed('tshark', tsharkArgs, { shell: true }),
  ) as [Sample<Timed>, Sample<Timed>, Sample<Timed>, Sample<Timed>];
  console.log(ROW_HEAD);
  console.log(row('palisade analyze --json (detection)', packets, withDetect));
  console.log(row('palisade analyze --json --no-detect', packets, without));
  console.log(row('palisade analyze --json --no-parallel', packets, single));
  console.log(row('tshark (fast set-up) -q -z io,stat,1', packets, tshark));
  const w = without.median;
  const d = withDetect.median;
  const s1 = single.median;
  const t = tshark.median;
  const lost = (a: number, b: number) => `${((1 - a / b) * 100).toFixed(0)}%`;
  console.log(
    `detection costs ${lost(w.seconds, d.seconds)} of analyze's throughput by wall time (target <= 30%), ${lost(w.cpuSeconds, d.cpuSeconds)} of its CPU throughput; on one thread (--no-parallel) ${lost(w.seconds, s1.seconds)} by wall time, ${lost(w.cpuSeconds, s1.cpuSeconds)} by CPU time`,
  );
  console.log(
    `with detection palisade is ${(t.seconds / d.seconds).toFixed(1)}x tshark's io,stat pass by wall time, ${(t.cpuSeconds / d.cpuSeconds).toFixed(1)}x by CPU time (medians)`,
  );
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
