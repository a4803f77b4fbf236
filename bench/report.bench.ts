/**
 * `palisade report` on the bench capture: the replay that measures each attack's rules and draws
 * traffic by vector, plus rendering (HTML, Markdown). Against what a user would otherwise run to
 * get the same numbers: `tshark -q -z io,stat,BIN,FILTER...` with each attack's signature as a
 * display filter (matches per time bin). Both in this run; CPU time is the steadier figure on a
 * shared machine.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Analysis } from '../src/model/analysis.js';
import { niceBin } from '../src/report/replay.js';
import { benchCapture, CLI, OUT, ROW_HEAD, row, timed } from './common.js';

/** Rules-language field names that Wireshark spells differently. */
const TSHARK_FIELDS: Record<string, string> = { 'tcp.window': 'tcp.window_size_value', 'ip.proto': 'ip.proto' };

function tsharkFilter(expr: string): string {
  return expr.replace(/\b(tcp\.window)\b/g, (f) => TSHARK_FIELDS[f] ?? f);
}

export default async function run(): Promise<void> {
  const file = benchCapture();
  const json = join(OUT, 'report-analysis.json');
  const text = execFileSync(process.execPath, [CLI, 'analyze', '--json', '--no-progress', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const a = JSON.parse(text) as Analysis;
  execFileSync('sh', ['-c', `cat > '${json}'`], { input: text });
  const packets = a.capture.packets;
  console.log(`capture: ${file}: ${packets.toLocaleString('en-US')} packets, ${a.attacks.length} attacks detected`);
  for (const x of a.attacks) console.log(`  ${x.vector}: ${x.signature.expression}`);
  const html = timed(process.execPath, [CLI, 'report', json, '-o', join(OUT, 'report.html'), '--no-progress']);
  const md = timed(process.execPath, [CLI, 'report', json, '-o', join(OUT, 'report.md'), '--no-progress']);
  const noReplay = timed(process.execPath, [CLI, 'report', json, '-o', join(OUT, 'report-noreplay.html'), '--no-replay', '--no-progress']);
  const bin = niceBin(a.capture.duration_s);
  const filters = a.attacks.map((x) => `'${tsharkFilter(x.signature.expression)}'`);
  const tshark = timed('tshark', ['-r', file, '-q', '-z', `io,stat,${bin},${filters.join(',')}`], { shell: true });
  console.log(ROW_HEAD);
  console.log(row('palisade report -o report.html', packets, html));
  console.log(row('palisade report -o report.md', packets, md));
  console.log(row('palisade report --no-replay (render only)', packets, noReplay));
  console.log(row(`tshark -q -z io,stat,${bin},<${filters.length} signatures>`, packets, tshark));
  const replayCpu = Math.max(html.cpuSeconds - noReplay.cpuSeconds, 1e-3);
  console.log(`replay alone (html - no-replay): ${replayCpu.toFixed(2)} s cpu, ${(packets / replayCpu / 1e6).toFixed(2)} M pkt/s`);
  console.log(`ratio: palisade report is ${(tshark.seconds / html.seconds).toFixed(1)}x tshark io,stat (wall), ${(tshark.cpuSeconds / html.cpuSeconds).toFixed(1)}x (cpu)`);
  const size = readFileSync(join(OUT, 'report.html')).length;
  console.log(`report.html: ${(size / 1024).toFixed(0)} KB, self-contained`);
}
