/**
 * Helpers shared by the benches: the deterministic bench captures, timed child processes, the
 * interleaved runs whose medians every comparison reports, and tshark's fastest set-up.
 */

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { isAbsolute, join, relative, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const OUT = join(ROOT, 'out/bench');
export const CLI = join(ROOT, 'bin/palisade.js');

/** How many times each side of a comparison runs: PALISADE_BENCH_RUNS, default 3. */
export const RUNS = Math.max(1, Math.floor(Number(process.env.PALISADE_BENCH_RUNS ?? 3)) || 3);

/**
 * Default sizes of the generated captures (PALISADE_BENCH_PACKETS overrides both).
 * 'bench' is issue 2's 5-million-packet capture. 'bench-quic' is 2 million because of tshark, the
 * slowest peer: it keeps state per conversation and tries every QUIC Initial, and on this
 * capture its peak memory per packet is about twice what it is on 'bench' (measured here: 3.0 GB
 * and 29 s of CPU per run at 2 M packets, against 3.5 GB and 70 s for 5 M packets of 'bench').
 * At 5 M it would need ~7.5 GB and over a minute a run; with RUNS runs of every command, 2 M keeps
 * this capture's share of `npm run bench -- analyze` near 4 minutes on a shared machine, while
 * the scenario's 60 s timeline still carries ~33,000 packets a second for the detector's windows.
 */
const DEFAULT_PACKETS: Record<string, number> = { bench: 5_000_000, 'bench-quic': 2_000_000 };

export function benchPackets(scenario = 'bench'): number {
  const env = process.env.PALISADE_BENCH_PACKETS;
  return env !== undefined && env !== '' ? Number(env) : (DEFAULT_PACKETS[scenario] ?? 5_000_000);
}

/** The scenarios `palisade generate --list` knows (first word of each line). */
export function generatorScenarios(): string[] {
  const out = execFileSync(process.execPath, [CLI, 'generate', '--list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter((w) => w !== '');
}

/** A digest of the compiled generator: a capture made by another version of it is made again. */
function generatorStamp(scenario: string, packets: number): string {
  const dir = join(ROOT, 'dist/generate');
  const h = createHash('sha256').update(`${scenario} ${packets} seed 1\n`);
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).sort()) if (f.endsWith('.js')) h.update(f).update(readFileSync(join(dir, f)));
  }
  return h.digest('hex');
}

/**
 * The capture `palisade generate SCENARIO --packets N --seed 1` writes to out/bench/SCENARIO-N.pcap,
 * generated when missing or made by another build of the generator. Returns null, after saying
 * why, when this build's generator does not list the scenario (a scenario still being written).
 */
export function benchCapture(scenario = 'bench', packets = benchPackets(scenario)): string | null {
  if (!generatorScenarios().includes(scenario)) {
    console.log(`capture ${scenario}: skipped: \`palisade generate --list\` does not list '${scenario}' in this build (scenario not there yet?)`);
    return null;
  }
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `${scenario}-${packets}.pcap`);
  const stampFile = `${file}.stamp`;
  const stamp = generatorStamp(scenario, packets);
  const fresh = existsSync(file) && statSync(file).size >= packets * 40 && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
  if (!fresh) {
    process.stdout.write(`generating ${packets.toLocaleString('en-US')}-packet ${scenario} capture ... `);
    const t0 = performance.now();
    execFileSync(process.execPath, [CLI, 'generate', scenario, '--packets', String(packets), '--seed', '1', '-w', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    writeFileSync(stampFile, stamp);
    process.stdout.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return file;
}

/**
 * tshark's fastest set-up that still dissects every layer (Ethernet to DNS, TLS, QUIC, HTTP, as
 * Palisade's decoders do): no name resolution, no TCP sequence analysis, relative sequence
 * numbers, timestamps or bytes in flight, no reassembly of IP fragments, TCP streams, TLS
 * records, HTTP headers and bodies or DNS over TCP, no body dechunking or decompression, no GeoIP.
 * Palisade decodes each packet on its own (no stream reassembly), so these are work tshark does
 * and we do not. Protocols are not disabled: that would skip decoding Palisade does.
 * They change no output the benches read: `-z io,stat` with the report bench's signature filters
 * prints the same table with and without them on the bench capture (checked with tshark 4.0.17),
 * and the filter bench's written packets are compared byte for byte. Preferences this tshark does
 * not know are left out (and said so), so a version that renamed one still runs.
 */
const TSHARK_FAST_PREFS = [
  'tcp.analyze_sequence_numbers:FALSE',
  'tcp.desegment_tcp_streams:FALSE',
  'tcp.calculate_timestamps:FALSE',
  'tcp.track_bytes_in_flight:FALSE',
  'tcp.relative_sequence_numbers:FALSE',
  'udp.calculate_timestamps:FALSE',
  'ip.defragment:FALSE',
  'ipv6.defragment:FALSE',
  'tls.desegment_ssl_records:FALSE',
  'tls.desegment_ssl_application_data:FALSE',
  'http.desegment_headers:FALSE',
  'http.desegment_body:FALSE',
  'http.dechunk_body:FALSE',
  'http.decompress_body:FALSE',
  'dns.desegment_dns_messages:FALSE',
  'ip.use_geoip:FALSE',
  'ipv6.use_geoip:FALSE',
];

let tsharkFastCache: string[] | undefined;

/** `-n` and `-o pref:FALSE` for each of TSHARK_FAST_PREFS this tshark has: put them before `-r`. */
export function tsharkFast(): string[] {
  if (tsharkFastCache) return tsharkFastCache;
  const r = spawnSync('tshark', ['-G', 'defaultprefs'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const known = new Set((r.stdout ?? '').split('\n').map((l) => /^#?([\w.-]+):/.exec(l)?.[1]));
  const missing = TSHARK_FAST_PREFS.filter((p) => !known.has(p.slice(0, p.indexOf(':'))));
  if (missing.length > 0) console.log(`note: this tshark has no preference ${missing.join(', ')}: left out`);
  tsharkFastCache = ['-n', ...TSHARK_FAST_PREFS.filter((p) => !missing.includes(p)).flatMap((p) => ['-o', p])];
  return tsharkFastCache;
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
    ? spawnSync('/usr/bin/time', ['-f', fmt, 'sh', '-c', `${cmd} ${args.map(shellQuote).join(' ')} > /dev/null 2>/dev/null`], { encoding: 'utf8' })
    : spawnSync('/usr/bin/time', ['-f', fmt, cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const last = (r.stderr ?? '').trim().split('\n').pop() ?? '';
  const [e, m, u, s] = last.split(' ');
  return { seconds: Number(e), cpuSeconds: Number(u) + Number(s), maxRssMb: Number(m) / 1024, status: r.status };
}

function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** A command line as a shell would take it, paths under the working directory made relative. */
export function commandLine(cmd: string, args: string[], redirect = '> /dev/null'): string {
  const show = (a: string) => shellQuote(isAbsolute(a) && a.startsWith(process.cwd()) ? relative(process.cwd(), a) || '.' : a);
  return `${[cmd, ...args].map(show).join(' ')}${redirect ? ` ${redirect}` : ''}`;
}

export interface Sample<T> {
  /** every run, in order */
  runs: T[];
  /** field by field: the median of each numeric field (mean of the middle two for an even count);
   * `status` is the first non-zero exit status of any run, so one failure shows */
  median: T;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * Runs every side `runs` times, interleaved (side 1, side 2, ..., side 1, side 2, ...), so drift on
 * the shared machine hits every side alike, and returns each side's runs and medians, in order.
 * Every comparison with a peer goes through here: the same number of runs on both sides.
 */
export function medianOf<T extends object>(runs: number, ...sides: Array<() => T>): Sample<T>[] {
  const all: T[][] = sides.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < sides.length; k++) all[k]?.push((sides[k] as () => T)());
  }
  return all.map((rs) => {
    const first = rs[0] as T;
    const med: Record<string, unknown> = {};
    for (const key of Object.keys(first)) {
      const vals = rs.map((r) => (r as Record<string, unknown>)[key]);
      const failed = vals.findIndex((v) => v !== 0);
      if (key === 'status') med[key] = failed >= 0 ? vals[failed] : 0;
      else if (vals.every((v) => typeof v === 'number')) med[key] = median(vals as number[]);
      else med[key] = vals[0];
    }
    return { runs: rs, median: med as T };
  });
}

/** Smallest and largest of one numeric field over the runs. */
export function range<T>(s: Sample<T>, pick: (t: T) => number): [number, number] {
  const xs = s.runs.map(pick);
  return [Math.min(...xs), Math.max(...xs)];
}

/** A median with its min–max: `1.23 s (1.20–1.31)`. */
export function withRange<T>(s: Sample<T>, pick: (t: T) => number, digits = 2, unit = ' s'): string {
  const [lo, hi] = range(s, pick);
  return `${pick(s.median).toFixed(digits)}${unit} (${lo.toFixed(digits)}–${hi.toFixed(digits)})`;
}

/** The line that says how the figures below were taken. */
export function runsNote(): string {
  return `each command runs ${RUNS} time${RUNS === 1 ? '' : 's'} (PALISADE_BENCH_RUNS), interleaved with its peers; figures are medians, min–max in brackets`;
}

/** Column heads for row(). */
export const ROW_HEAD = `${'command'.padEnd(44)} ${'wall median (min–max)'.padStart(24)} ${'pkt/s (wall)'.padStart(14)} ${'cpu median (min–max)'.padStart(24)} ${'pkt/s (cpu)'.padStart(14)} ${'peak RSS'.padStart(9)}`;

export function row(label: string, packets: number, s: Sample<Timed>): string {
  const t = s.median;
  const pps = packets / t.seconds;
  const cpuPps = packets / Math.max(t.cpuSeconds, 1e-3);
  const failed = s.runs.findIndex((r) => r.status !== 0);
  const note = failed >= 0 ? `  FAILED: run ${failed + 1} exited ${s.runs[failed]?.status}` : '';
  return `${label.padEnd(44)} ${withRange(s, (r) => r.seconds).padStart(24)} ${`${fmtRate(pps)} /s`.padStart(14)} ${withRange(s, (r) => r.cpuSeconds).padStart(24)} ${`${fmtRate(cpuPps)} /s`.padStart(14)} ${`${t.maxRssMb.toFixed(0)} MB`.padStart(9)}${note}`;
}

export function fmtRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return n.toFixed(0);
}

export function passFail(ok: boolean): string {
  return ok ? 'PASS' : 'FAIL';
}

/** wrk's latency figure (`812.34us`, `3.07ms`, `1.2s`) in milliseconds. */
export function parseLatency(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

/** Resolve once 127.0.0.1:port accepts a connection; throw after `ms`. */
export async function waitPort(port: number, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** SIGTERM a child and wait for it to exit (at once when it already has). */
export function stop(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });
}

/** The lock every bench holds while it measures (flock(1)), so two benches never share the machine. */
export const BENCH_LOCK = '/tmp/palisade-bench.lock';

/** Hold the bench lock while `fn` runs: `flock LOCK` around a shell that waits for its stdin to close. */
export async function locked<T>(fn: () => T | Promise<T>, lock = BENCH_LOCK): Promise<T> {
  const holder = spawn('flock', [lock, 'sh', '-c', 'echo locked; cat > /dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve();
    });
    holder.on('exit', (code) => reject(new Error(`flock exited ${code}`)));
  });
  try {
    return await fn();
  } finally {
    holder.stdin.end();
    await new Promise((r) => holder.on('exit', r));
  }
}
