/**
 * `palisade report` on the bench capture: the replay that measures each attack's rules and draws
 * traffic by vector, plus rendering (HTML, Markdown). Against what a user would otherwise run to
 * get the same numbers: `tshark -q -z io,stat,BIN,FILTER...` with each attack's signature as a
 * display filter (matches per time bin), in its fastest set-up (common.ts tsharkFast(): `-n`, no
 * TCP analysis, no reassembly or defragmentation). Every command runs RUNS times
 * (PALISADE_BENCH_RUNS, default 3), interleaved; figures are medians with min–max. CPU time is
 * the steadier figure on a shared machine.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Analysis } from '../src/model/analysis.js';
import { niceBin } from '../src/report/replay.js';
import { benchCapture, CLI, commandLine, medianOf, OUT, ROW_HEAD, RUNS, row, runsNote, type Sample, type Timed, timed, tsharkFast } from './common.js';

/** Rules-language field names that Wireshark spells differently. */
const TSHARK_FIELDS: Record<string, string> = { 'tcp.window': 'tcp.window_size_value', 'ip.proto': 'ip.proto' };

/** An attack's signature as the analysis gives it: none (a rate limit), field constraints, or
 * `ip.src in $name` with the list's addresses (written loosely so it reads older analyses too). */
type Signature = { expression: string; list?: { name: string; addresses: string[] } } | null;

/** The signature as a Wireshark display filter: field names respelled, a source list inlined as a set. */
function tsharkFilter(sig: NonNullable<Signature>): string {
  const list = sig.list;
  let expr = sig.expression.replace(/\b(tcp\.window)\b/g, (f) => TSHARK_FIELDS[f] ?? f);
  if (list) expr = expr.replace(/\$[\w.-]+/g, `{${list.addresses.join(' ')}}`);
  return expr;
}

export default async function run(): Promise<void> {
  const file = benchCapture();
  if (file === null) return;
  const json = join(OUT, 'report-analysis.json');
  const text = execFileSync(process.execPath, [CLI, 'analyze', '--json', '--no-progress', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const a = JSON.parse(text) as Analysis;
  writeFileSync(json, text);
  const packets = a.capture.packets;
  console.log(`capture: ${file}: ${packets.toLocaleString('en-US')} packets, ${a.attacks.length} attacks detected`);
  const signatures = a.attacks.map((x) => x.signature as Signature);
  a.attacks.forEach((x, i) => {
    console.log(`  ${x.vector}: ${signatures[i]?.expression ?? '(no signature: rate limit)'}`);
  });
  const htmlArgs = [CLI, 'report', json, '-o', join(OUT, 'report.html'), '--no-progress'];
  const mdArgs = [CLI, 'report', json, '-o', join(OUT, 'report.md'), '--no-progress'];
  const noReplayArgs = [CLI, 'report', json, '-o', join(OUT, 'report-noreplay.html'), '--no-replay', '--no-progress'];
  const bin = niceBin(a.capture.duration_s);
  const filters = signatures.filter((x) => x !== null).map(tsharkFilter);
  const tsharkArgs = [...tsharkFast(), '-r', file, '-q', '-z', ['io', 'stat', bin, ...filters].join(',')];
  console.log(`ours: ${commandLine('node', htmlArgs)}  (and -o report.md, and --no-replay)`);
  console.log(`peer: ${commandLine('tshark', tsharkArgs, '> /dev/null 2> /dev/null')}`);
  console.log(runsNote());
  const [html, md, noReplay, tshark] = medianOf(
    RUNS,
    () => timed(process.execPath, htmlArgs),
    () => timed(process.execPath, mdArgs),
    () => timed(process.execPath, noReplayArgs),
    () => timed('tshark', tsharkArgs, { shell: true }),
  ) as [Sample<Timed>, Sample<Timed>, Sample<Timed>, Sample<Timed>];
  console.log(ROW_HEAD);
  console.log(row('palisade report -o report.html', packets, html));
  console.log(row('palisade report -o report.md', packets, md));
  console.log(row('palisade report --no-replay (render only)', packets, noReplay));
  console.log(row(`tshark (fast) -q -z io,stat,${bin},<${filters.length} signatures>`, packets, tshark));
  const replayCpu = Math.max(html.median.cpuSeconds - noReplay.median.cpuSeconds, 1e-3);
  console.log(`replay alone (html - no-replay, medians): ${replayCpu.toFixed(2)} s cpu, ${(packets / replayCpu / 1e6).toFixed(2)} M pkt/s`);
  console.log(
    `ratio (medians): palisade report is ${(tshark.median.seconds / html.median.seconds).toFixed(1)}x tshark io,stat (wall), ${(tshark.median.cpuSeconds / html.median.cpuSeconds).toFixed(1)}x (cpu)`,
  );
  const size = readFileSync(join(OUT, 'report.html')).length;
  console.log(`report.html: ${(size / 1024).toFixed(0)} KB, self-contained`);
}
