/** Helpers shared by the benches: the deterministic bench capture and timed child processes. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const OUT = join(ROOT, 'out/bench');
export const CLI = join(ROOT, 'bin/palisade.js');

/** The 5-million-packet capture of issue 2 (benign mix + SYN flood, 60–1500-byte frames). */
export function benchCapture(packets = Number(process.env.PALISADE_BENCH_PACKETS ?? 5_000_000)): string {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `bench-${packets}.pcap`);
  if (!existsSync(file) || statSync(file).size < packets * 60) {
    process.stdout.write(`generating ${packets.toLocaleString('en-US')}-packet bench capture ... `);
    const t0 = performance.now();
    execFileSync(process.execPath, [CLI, 'generate', 'bench', '--packets', String(packets), '--seed', '1', '-w', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    process.stdout.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return file;
}

export interface Timed {
  seconds: number;
  /** User + system CPU seconds: the one-core figure, steadier than wall time on a shared machine. */
  cpuSeconds: number;
  maxRssMb: number;
  status: number | null;
}

/** Run a command with GNU time: wall and CPU seconds and peak resident memory. Output goes to /dev/null. */
export function timed(cmd: string, args: string[], opts: { shell?: boolean } = {}): Timed {
  const fmt = '%e %M %U %S';
  const r = opts.shell
    ? spawnSync('/usr/bin/time', ['-f', fmt, 'sh', '-c', `${cmd} ${args.join(' ')} > /dev/null 2>/dev/null`], { encoding: 'utf8' })
    : spawnSync('/usr/bin/time', ['-f', fmt, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const last = (r.stderr ?? '').trim().split('\n').pop() ?? '';
  const [e, m, u, s] = last.split(' ');
  return { seconds: Number(e), cpuSeconds: Number(u) + Number(s), maxRssMb: Number(m) / 1024, status: r.status };
}

/** Column heads for row(). */
export const ROW_HEAD = `${'command'.padEnd(44)} ${'wall'.padStart(10)} ${'pkt/s (wall)'.padStart(18)} ${'cpu'.padStart(10)} ${'pkt/s (cpu)'.padStart(17)} ${'peak RSS'.padStart(10)}`;

export function row(label: string, packets: number, t: Timed): string {
  const pps = packets / t.seconds;
  const cpuPps = packets / Math.max(t.cpuSeconds, 1e-3);
  return `${label.padEnd(44)} ${t.seconds.toFixed(2).padStart(8)} s ${fmtRate(pps).padStart(12)} pkt/s ${t.cpuSeconds.toFixed(2).padStart(8)} s ${fmtRate(cpuPps).padStart(12)} pkt/s ${t.maxRssMb.toFixed(0).padStart(7)} MB`;
}

export function fmtRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}
