/**
 * Issue 17: the alert pipeline's store (bench/monitor-store.ts: alert upserts and incident
 * timeline writes per second on SQLite and PostgreSQL), then `palisade monitor` watching a sustained replay — 200 k packets/s of the 'bench'
 * capture (benign mix, a spoofed SYN flood and a DNS amplification), looped so the run lasts
 * PALISADE_BENCH_MONITOR_S seconds (default 300) — measured from outside: its CPU and resident
 * memory sampled every 10 s from /proc. Memory must stay flat: the resident size at the end within
 * 20 % of the size after the first minute (when every table and sketch has reached its working size).
 * Also whether it kept up: packets read against packets played.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchCapture, passFail } from './common.js';
import { monitorStoreBench } from './monitor-store.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin/palisade.js');
const RATE = 200_000;

function procSample(pid: number): { cpuS: number; rssMb: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS: ticks / 100, rssMb: rss ? Number(rss[1]) / 1024 : 0 };
  } catch {
    return null;
  }
}

export default async function monitorBench(): Promise<void> {
  // the alert pipeline's store first: alerts upserted and timeline events written per second
  await monitorStoreBench(Number(process.env.PALISADE_BENCH_STORE_OPS ?? 20_000));
  console.log('');
  const packets = Number(process.env.PALISADE_BENCH_MONITOR_PACKETS ?? 2_000_000);
  const file = benchCapture('bench', packets);
  if (file === null) return;
  const seconds = Number(process.env.PALISADE_BENCH_MONITOR_S ?? 300);
  // the capture's own rate, from its first and last record times (pcap, nanosecond or microsecond)
  const info = JSON.parse(
    await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, [CLI, 'analyze', file, '--json', '--no-detect', '--no-progress'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString('utf8');
      });
      p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`analyze exited ${code}`))));
    }),
  ) as { capture: { packets: number; duration_s: number } };
  const nativePps = info.capture.packets / info.capture.duration_s;
  const speed = RATE / nativePps;
  const loops = Math.max(1, Math.ceil((seconds * RATE) / info.capture.packets));
  console.log(
    `replay: ${file} (${info.capture.packets.toLocaleString('en-US')} packets, ${nativePps.toFixed(0)} packets/s native) at ${speed.toFixed(2)}× = ${RATE.toLocaleString('en-US')} packets/s, ${loops} round(s), stopped after ${seconds} s`,
  );
  const child = spawn(process.execPath, [CLI, 'monitor', '--replay', file, '--speed', String(speed), '--loops', String(loops), '--duration', String(seconds), '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let events = 0;
  let tail = '';
  child.stdout.on('data', (d: Buffer) => {
    tail += d.toString('utf8');
    const lines = tail.split('\n');
    tail = lines.pop() ?? '';
    events += lines.length;
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  const t0 = performance.now();
  const samples: { t: number; cpuS: number; rssMb: number }[] = [];
  const timer = setInterval(() => {
    const s = procSample(child.pid as number);
    if (s) samples.push({ t: (performance.now() - t0) / 1000, ...s });
  }, 10_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearInterval(timer);
  const wall = (performance.now() - t0) / 1000;
  if (code !== 0) {
    console.log(`monitor exited with ${code}: ${err.trim()}`);
    return;
  }
  const read = Number(/monitor: (\d+) packets/.exec(err)?.[1] ?? 0);
  const last = samples.at(-1);
  const atMinute = samples.find((s) => s.t >= 60) ?? samples[0];
  const maxRss = Math.max(...samples.map((s) => s.rssMb));
  console.log(`\nsample  t (s)  CPU (s)  RSS (MB)`);
  for (const s of samples) console.log(`        ${s.t.toFixed(0).padStart(5)}  ${s.cpuS.toFixed(1).padStart(7)}  ${s.rssMb.toFixed(0).padStart(8)}`);
  const cpuShare = last ? (last.cpuS / last.t) * 100 : 0;
  console.log(
    `\nmonitor: ${read.toLocaleString('en-US')} packets in ${wall.toFixed(0)} s = ${(read / wall).toFixed(0)} packets/s (target ${RATE}); ${events} alert/mitigation line(s)`,
  );
  console.log(`CPU: ${cpuShare.toFixed(0)} % of one core on average (${last ? ((last.cpuS * 1e6) / Math.max(read, 1)).toFixed(2) : '?'} µs per packet)`);
  if (atMinute && last) {
    const flat = last.rssMb <= atMinute.rssMb * 1.2;
    console.log(
      `memory: ${atMinute.rssMb.toFixed(0)} MB after the first minute, ${last.rssMb.toFixed(0)} MB at the end, ${maxRss.toFixed(0)} MB at most: flat (end within 20 % of the first minute): ${passFail(flat)}`,
    );
  }
  console.log(`kept up (packets read ≥ 95 % of those played at ${RATE}/s): ${passFail(read >= 0.95 * RATE * Math.min(seconds, wall - 1))}`);
}
