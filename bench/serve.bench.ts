/**
 * Issue 18: does the console's live overview keep up with a monitor watching 200 k packets/s?
 * `palisade monitor` replays the 'bench' capture (benign mix, a spoofed SYN flood, a DNS
 * amplification) at 200 k packets/s into a SQLite store; `palisade serve` on the same store
 * serves the overview's stream (GET /api/stats/stream, what the console's charts read) to
 * CLIENTS logged-in readers. Measured from outside over PALISADE_BENCH_SERVE_S seconds (default
 * 60): for each reader, updates per second and the longest gap between two (target: an update at
 * least once a second — at least 0.95 a second, and no gap over 1.5 s: the server polls the store
 * once a second, so gaps are a second plus jitter);
 * the server's and the monitor's CPU (from /proc, share of one core) and resident memory. The
 * monitor's keeping up is the monitor bench's business; here its figure is shown for context.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shiftPcap } from '../src/server/demo.js';
import { benchCapture, passFail } from './common.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'bin/palisade.js');
const RATE = 200_000;
const CLIENTS = Number(process.env.PALISADE_BENCH_SERVE_CLIENTS ?? 3);

function cpuTicks(pid: number): { cpuS: number; rssMb: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS: (Number(f[11]) + Number(f[12])) / 100, rssMb: rss ? Number(rss[1]) / 1024 : 0 };
  } catch {
    return null;
  }
}

/** Starts `palisade serve` and resolves with its base URL once it prints where it listens. */
function startServe(db: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve printed no "listening" line in 30 s: ${out}`)), 30_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, base: m[1] as string });
      }
    });
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited ${code}: ${out}`));
    });
  });
}

interface ReaderFigures {
  events: number;
  /** seconds from the first event to the last */
  spanS: number;
  /** the median of the packets the events report a second (what the overview charts) */
  ppsMedian: number;
  maxGapS: number;
}

/** One reader of the stream: logs in, reads events until `untilMs`, and times them. */
async function reader(base: string, name: string, password: string, untilMs: number): Promise<ReaderFigures> {
  const login = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
  const cookie = login.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), Math.max(0, untilMs - Date.now()));
  const arrivals: number[] = [];
  const pps: number[] = [];
  try {
    const res = await fetch(`${base}/api/stats/stream`, { headers: { cookie, accept: 'text/event-stream' }, signal: ac.signal });
    if (res.status !== 200 || res.body === null) throw new Error(`stream: ${res.status}`);
    const dec = new TextDecoder();
    const body = res.body.getReader();
    let buf = '';
    for (;;) {
      const chunk = await body.read();
      if (chunk.done) break;
      buf += dec.decode(chunk.value, { stream: true });
      let end = buf.indexOf('\n\n');
      while (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (/^event: ?second$/m.test(block)) {
          arrivals.push(Date.now());
          const data = /^data: ?(.*)$/m.exec(block);
          if (data) pps.push((JSON.parse(data[1] as string) as { packets: number }).packets);
        }
        end = buf.indexOf('\n\n');
      }
    }
  } catch (e) {
    if ((e as Error).name !== 'AbortError') throw e;
  } finally {
    clearTimeout(timer);
  }
  pps.sort((a, b) => a - b);
  const ppsMedian = pps[pps.length >> 1] ?? 0;
  if (arrivals.length < 2) return { events: arrivals.length, spanS: 0, maxGapS: Number.POSITIVE_INFINITY, ppsMedian };
  let maxGap = 0;
  for (let i = 1; i < arrivals.length; i++) maxGap = Math.max(maxGap, (arrivals[i] as number) - (arrivals[i - 1] as number));
  return {
    events: arrivals.length,
    spanS: ((arrivals.at(-1) as number) - (arrivals[0] as number)) / 1000,
    maxGapS: maxGap / 1000,
    ppsMedian,
  };
}

/** Updates a second between the first and the last (the first opens the count). */
function rate(f: ReaderFigures): number {
  return f.spanS > 0 ? (f.events - 1) / f.spanS : 0;
}

export default async function serveBench(): Promise<void> {
  const packets = Number(process.env.PALISADE_BENCH_MONITOR_PACKETS ?? 2_000_000);
  const file = benchCapture('bench', packets);
  if (file === null) return;
  const seconds = Number(process.env.PALISADE_BENCH_SERVE_S ?? 60);
  const info = JSON.parse(spawnSync(process.execPath, [CLI, 'analyze', file, '--json', '--no-detect', '--no-progress'], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout) as {
    capture: { packets: number; duration_s: number; start: string };
  };
  const speed = RATE / (info.capture.packets / info.capture.duration_s);
  const loops = Math.max(1, Math.ceil(((seconds + 15) * RATE) / info.capture.packets));
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-serve-'));
  const db = join(dir, 'palisade.db');
  const live = join(dir, 'live.pcap');
  // its records `speed` times closer together and starting 3 s from now (a copy: the cached capture stays)
  shiftPcap(file, Math.ceil(Date.now() / 1000) + 3 - Math.floor(Date.parse(info.capture.start) / 1000), { speed, to: live });
  const added = spawnSync(process.execPath, [CLI, 'serve', '--add-account', 'bench', '--role', 'viewer', '--db', db], { encoding: 'utf8' });
  if (added.status !== 0) throw new Error(`serve --add-account: ${added.stderr}`);
  const password = added.stdout.trim().split('\n').at(-1) as string;

  console.log(
    `monitor: ${file} retimed to ${RATE.toLocaleString('en-US')} packets/s (${speed.toFixed(2)}× its own rate) from now on, replayed at its pace into ${db}; serve on the same store; ${CLIENTS} stream reader(s); ${seconds} s`,
  );
  const monitor = spawn(process.execPath, [CLI, 'monitor', '--replay', live, '--speed', '1', '--loops', String(loops), '--duration', String(seconds + 10), '--db', db, '--json'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let serve: ChildProcess | null = null;
  try {
    const s = await startServe(db);
    serve = s.child;
    const servePid = serve.pid as number;
    const monitorPid = monitor.pid as number;
    // the first seconds are start-up (the monitor loading, the store's first rows): not measured
    await new Promise((r) => setTimeout(r, 3000));
    const s0 = cpuTicks(servePid);
    const m0 = cpuTicks(monitorPid);
    const t0 = Date.now();
    let rssMax = 0;
    const sampler = setInterval(() => {
      rssMax = Math.max(rssMax, cpuTicks(servePid)?.rssMb ?? 0);
    }, 1000);
    const figures = await Promise.all(Array.from({ length: CLIENTS }, () => reader(s.base, 'bench', password, t0 + seconds * 1000)));
    clearInterval(sampler);
    const wall = (Date.now() - t0) / 1000;
    const s1 = cpuTicks(servePid);
    const m1 = cpuTicks(monitorPid);
    const serveCpu = s0 && s1 ? (s1.cpuS - s0.cpuS) / wall : Number.NaN;
    const monitorCpu = m0 && m1 ? (m1.cpuS - m0.cpuS) / wall : Number.NaN;
    console.log('reader  updates  per second  longest gap  packets/s shown (median)');
    figures.forEach((f, i) => {
      console.log(
        `${String(i + 1).padStart(6)}  ${String(f.events).padStart(7)}  ${rate(f).toFixed(2).padStart(10)}  ${`${f.maxGapS.toFixed(2)} s`.padStart(11)}  ${f.ppsMedian.toLocaleString('en-US').padStart(24)}`,
      );
    });
    const ok = figures.every((f) => rate(f) >= 0.95 && f.maxGapS <= 1.5);
    console.log(
      `serve: ${(serveCpu * 100).toFixed(1)} % of one core, peak RSS ${rssMax.toFixed(0)} MB, with ${CLIENTS} reader(s); monitor: ${(monitorCpu * 100).toFixed(1)} % of one core at ${RATE.toLocaleString('en-US')} packets/s`,
    );
    console.log(`target: every reader updated at least once a second (>= 0.95 updates/s, no gap over 1.5 s) ${passFail(ok)}`);
  } finally {
    serve?.kill('SIGTERM');
    monitor.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}
