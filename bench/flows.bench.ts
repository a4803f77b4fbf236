/**
 * Issue 14: flows, side by side with the collectors users run.
 *
 * (a) Decoding from a file: flow records/s of the built decoder over a capture of IPFIX datagrams
 *     (softflowd's export of the carpet-bombing scenario, RFC 5103 biflows, ~22 records a datagram,
 *     repeated with rising sequence numbers to FLOW_RECORDS records), on one core. Target >= 2 M/s.
 * (b) From UDP on loopback, in one run on the same datagrams sent at full speed (a connected
 *     node:dgram socket, about 100 k datagrams/s from one core here): `palisade collect`, `nfcapd`
 *     (nfdump) and `nfacctd` (pmacct) on IPFIX; `palisade collect` and `sfacctd` (pmacct) on sFlow.
 *     For each: records counted, loss (what was sent minus what it counted; its socket's kernel
 *     drops beside), records/s delivered (counted / time from the first send until it went idle)
 *     and records per CPU second (the capacity figure: the machine has 2 shared cores, and the
 *     sender holds one). Each collector asks for the same 32 MiB receive buffer (the kernel grants
 *     what net.core.rmem_max allows, and says so).
 * (c) Detection through NetFlow: the DNS amplification scenario exported by softflowd as NetFlow v9
 *     (corpus), replayed at its own pace to FastNetMon's NetFlow collector with a per-host
 *     threshold on the victim's hostgroup, against `palisade analyze --as flows` on the same
 *     capture: which attacks each finds, how soon after the attack began, and what it tells the user.
 *
 * Every measured run holds /tmp/palisade-bench.lock (flock), so benches of several sessions on
 * this machine do not time each other. Traffic goes to 127.0.0.1 only. Every run is bounded in
 * time (DRAIN_LIMIT_MS, the collectors' own stop) and count (the datagram sets).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBatchSocket, nativeNote } from '../src/sources/flow-listen/batch-socket.js';
import { rowsOnPort } from '../src/sources/flow-listen/proc-udp.js';
import { BENCH_LOCK, CLI, commandLine, fmtRate, locked, OUT, passFail, RUNS, runsNote } from './common.js';
import { blast, FLOWS, type Protocol, payloadsOf, repeatWithSequence, writeCapture } from './flow-traffic.js';

const FLOW_RECORDS = Number(process.env.PALISADE_BENCH_FLOW_RECORDS ?? 4_000_000);
const UDP_DATAGRAMS = Number(process.env.PALISADE_BENCH_FLOW_DATAGRAMS ?? 200_000);
const TARGET_DECODE = 2e6;
const RCVBUF = 32 << 20;
const DRAIN_LIMIT_MS = 60_000;
const IPFIX_SOURCE = 'ipfix_softflowd_biflow_carpet_bombing.pcap';
const SFLOW_SOURCE = 'sflow5_pmacct_udp_flood_ipv6_vlan_1in4.pcap';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function spread(xs: number[], fmt: (x: number) => string): string {
  return `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`;
}

// ---- (a) decoding from a file -------------------------------------------------------------------

interface DecodeRun {
  records: number;
  datagrams: number;
  seconds: number;
  cpuSeconds: number;
  gaps: number;
  maxRssMb: number;
}

async function decodeFromFile(): Promise<void> {
  console.log('\n--- (a) IPFIX decoding from a file, one core ---');
  mkdirSync(OUT, { recursive: true });
  const base = await payloadsOf(join(FLOWS, IPFIX_SOURCE));
  const once = repeatWithSequence(base, 'ipfix', 1);
  const passes = Math.max(1, Math.ceil(FLOW_RECORDS / once.recordsPerPass));
  const file = join(OUT, `flows-ipfix-${passes * once.recordsPerPass}.pcap`);
  if (!existsSync(file)) {
    const set = repeatWithSequence(base, 'ipfix', passes);
    writeCapture(file, set.datagrams, 4739);
  }
  const args = ['--import', 'tsx', join(import.meta.dirname, 'flow-decode-run.ts'), file];
  console.log(`input:   ${file}: ${IPFIX_SOURCE} repeated ${passes} times with rising sequence numbers (${(statSync(file).size / 1e6).toFixed(0)} MB)`);
  console.log(`ours:    ${commandLine('node', args, '')}  (readFlowCapture of dist/, timed inside the process)`);
  console.log(runsNote());
  const runs: DecodeRun[] = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(await locked(async () => JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8', timeout: 300_000 })) as DecodeRun));
  }
  const r0 = runs[0] as DecodeRun;
  const wall = runs.map((r) => r.records / r.seconds);
  const cpu = runs.map((r) => r.records / r.cpuSeconds);
  console.log(
    `decoded ${r0.records.toLocaleString('en-US')} flow records from ${r0.datagrams.toLocaleString('en-US')} datagrams; sequence gaps ${r0.gaps}; peak RSS ${median(runs.map((r) => r.maxRssMb)).toFixed(0)} MB`,
  );
  console.log(`records/s (wall): ${spread(wall, (x) => `${fmtRate(x)}`)}; records/s (cpu): ${spread(cpu, (x) => `${fmtRate(x)}`)}`);
  console.log(
    `target: IPFIX decoding from a file >= ${fmtRate(TARGET_DECODE)} records/s on one core: ${fmtRate(median(cpu))} by cpu ${passFail(median(cpu) >= TARGET_DECODE)}, ${fmtRate(median(wall))} by wall ${passFail(median(wall) >= TARGET_DECODE)}`,
  );
}

// ---- (b) collectors on UDP ------------------------------------------------------------------------

interface Collector {
  name: string;
  bin: string;
  protocols: Protocol[];
  /** The command line for this port and work folder. */
  command: (port: number, dir: string) => [string, string[]];
  /** The signal that stops it with its counters written. */
  stopSignal: NodeJS.Signals;
  /** Extra environment. */
  env?: Record<string, string>;
  /** Records it says it received, read once it has stopped. */
  records: (dir: string, stdout: string) => number;
}

function pmacctConfig(dir: string, daemon: 'nfacctd' | 'sfacctd', port: number): string {
  const file = join(dir, `${daemon}.conf`);
  writeFileSync(
    file,
    [
      'daemonize: false',
      `${daemon}_ip: 127.0.0.1`,
      `${daemon}_port: ${port}`,
      `${daemon}_pipe_size: ${RCVBUF}`,
      'plugins: print[p]',
      'aggregate[p]: proto, flows',
      'print_output[p]: csv',
      `print_output_file[p]: ${join(dir, 'out.csv')}`,
      'print_refresh_time[p]: 3600',
      // A large core-to-plugin pipe, so the plugin is not where records are lost.
      'plugin_pipe_size[p]: 268435456',
      'plugin_buffer_size[p]: 65536',
      `logfile: ${join(dir, `${daemon}.log`)}`,
      '',
    ].join('\n'),
  );
  return file;
}

/** pmacct's print plugin CSV: the FLOWS column summed (one per NetFlow/IPFIX record, per sFlow sample). */
function pmacctFlows(dir: string): number {
  const f = join(dir, 'out.csv');
  if (!existsSync(f)) return Number.NaN;
  const [head, ...rows] = readFileSync(f, 'utf8').trim().split('\n');
  const col = (head ?? '').split(',').indexOf('FLOWS');
  return col < 0 ? Number.NaN : rows.reduce((a, r) => a + Number(r.split(',')[col]), 0);
}

/** `palisade collect` reading with recvmmsg batches (the native addon) or, as a fallback, node:dgram. */
function palisadeCollector(name: string, env?: Record<string, string>): Collector {
  return {
    name,
    bin: process.execPath,
    protocols: ['ipfix', 'sflow5'],
    command: (port, dir) => [
      process.execPath,
      [CLI, 'collect', `--${dir.endsWith('sflow5') ? 'sflow' : 'ipfix'}`, `127.0.0.1:${port}`, '--interval', '0', '--rcvbuf', String(RCVBUF), '--stats', join(dir, 'stats.json')],
    ],
    stopSignal: 'SIGINT',
    env,
    records: (dir) => (JSON.parse(readFileSync(join(dir, 'stats.json'), 'utf8')) as { records: number }).records,
  };
}

const COLLECTORS: Collector[] = [
  palisadeCollector(loadBatchSocket() !== null ? 'palisade collect' : `palisade collect (recvmmsg ${nativeNote})`),
  palisadeCollector('palisade (node:dgram)', { PALISADE_NO_NATIVE: '1' }),
  {
    name: 'nfcapd (nfdump 1.7)',
    bin: 'nfcapd',
    protocols: ['ipfix'],
    command: (port, dir) => ['nfcapd', ['-w', dir, '-b', '127.0.0.1', '-p', String(port), '-B', String(RCVBUF), '-t', '3600']],
    stopSignal: 'SIGTERM',
    records: (_dir, stdout) => Number(/Flows: (\d+)/.exec(stdout)?.[1] ?? Number.NaN),
  },
  {
    name: 'nfacctd (pmacct 1.7)',
    bin: 'nfacctd',
    protocols: ['ipfix'],
    command: (port, dir) => ['nfacctd', ['-f', pmacctConfig(dir, 'nfacctd', port)]],
    stopSignal: 'SIGINT',
    records: (dir) => pmacctFlows(dir),
  },
  {
    name: 'sfacctd (pmacct 1.7)',
    bin: 'sfacctd',
    protocols: ['sflow5'],
    command: (port, dir) => ['sfacctd', ['-f', pmacctConfig(dir, 'sfacctd', port)]],
    stopSignal: 'SIGINT',
    records: (dir) => pmacctFlows(dir),
  },
];

/** User + system CPU seconds of a process and its descendants still running (/proc). */
function treeCpuSeconds(root: number): number {
  const tick = 100; // USER_HZ on Linux
  const stats = new Map<number, { ppid: number; cpu: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / tick });
    } catch {
      // gone meanwhile
    }
  }
  let total = 0;
  for (const [pid, s] of stats) {
    for (let p = pid, hops = 0; p > 1 && hops < 16; hops++) {
      if (p === root) {
        total += s.cpu;
        break;
      }
      p = stats.get(p)?.ppid ?? 0;
    }
  }
  return total;
}

interface UdpRun {
  records: number;
  sentRecords: number;
  socketDrops: number;
  seconds: number;
  cpuSeconds: number;
  sendSeconds: number;
}

let nextPort = 47400;

async function oneCollector(c: Collector, protocol: Protocol, datagrams: Uint8Array[], sentRecords: number): Promise<UdpRun> {
  const port = nextPort++;
  const dir = join(OUT, 'flows-udp', `${c.name.split(' ')[0]}-${port}-${protocol}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const [cmd, args] = c.command(port, dir);
  return locked(async () => {
    const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: c.env ? { ...process.env, ...c.env } : process.env });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    const killer = setTimeout(() => child.kill('SIGKILL'), DRAIN_LIMIT_MS * 2);
    try {
      // Ready once its socket is in the kernel's table.
      for (let i = 0; i < 200 && rowsOnPort(4, port).length === 0; i++) await sleep(50);
      await sleep(200);
      const cpu0 = treeCpuSeconds(child.pid as number);
      const t0 = performance.now();
      const sent = await blast(datagrams, port);
      // Drained: nothing queued and no CPU spent for 300 ms (bounded).
      let last = treeCpuSeconds(child.pid as number);
      let idleSince = performance.now();
      let tEnd = performance.now();
      while (performance.now() - t0 < DRAIN_LIMIT_MS) {
        await sleep(50);
        const now = treeCpuSeconds(child.pid as number);
        const queued = rowsOnPort(4, port).reduce((a, r) => a + r.rxQueue, 0);
        if (now !== last || queued > 0) {
          last = now;
          idleSince = performance.now();
          tEnd = idleSince;
        } else if (performance.now() - idleSince > 300) break;
      }
      const socketDrops = rowsOnPort(4, port).reduce((a, r) => a + r.drops, 0);
      const cpuSeconds = treeCpuSeconds(child.pid as number) - cpu0;
      child.kill(c.stopSignal);
      await Promise.race([exited, sleep(15_000)]);
      return {
        records: c.records(dir, out),
        sentRecords: Math.round((sentRecords * sent.datagrams) / datagrams.length),
        socketDrops,
        seconds: (tEnd - t0) / 1000,
        cpuSeconds,
        sendSeconds: sent.seconds,
      };
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
}

async function udpLoopback(): Promise<void> {
  console.log('\n--- (b) collectors on UDP loopback, the same datagrams sent at full speed ---');
  const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
  for (const [protocol, source] of [
    ['ipfix', IPFIX_SOURCE],
    ['sflow5', SFLOW_SOURCE],
  ] as Array<[Protocol, string]>) {
    const base = await payloadsOf(join(FLOWS, source));
    const passes = Math.max(1, Math.ceil(UDP_DATAGRAMS / base.length));
    const set = repeatWithSequence(base, protocol, passes);
    const sentRecords = set.recordsPerPass * passes;
    console.log(
      `\n${protocol}: ${source} x ${passes} = ${set.datagrams.length.toLocaleString('en-US')} datagrams, ${sentRecords.toLocaleString('en-US')} records (sequence numbers rising: a decoder sees ${set.gaps} gaps)`,
    );
    const sides = COLLECTORS.filter((c) => c.protocols.includes(protocol)).filter((c) => {
      if (c.bin === process.execPath || have(c.bin)) return true;
      console.log(`${c.name}: skipped: ${c.bin} is not installed (.ci/apt-packages.txt lists it)`);
      return false;
    });
    const shown = join(OUT, 'flows-udp', `DIR-${protocol}`);
    mkdirSync(shown, { recursive: true });
    for (const c of sides) {
      const [cmd, args] = c.command(47000, shown);
      console.log(`${c.name.padEnd(22)} ${commandLine(cmd === process.execPath ? 'node' : cmd, args, '')}`);
    }
    console.log(runsNote());
    const runs = sides.map(() => [] as UdpRun[]);
    for (let i = 0; i < RUNS; i++) {
      for (let k = 0; k < sides.length; k++) runs[k]?.push(await oneCollector(sides[k] as Collector, protocol, set.datagrams, sentRecords));
    }
    console.log(
      `${'collector'.padEnd(22)} ${'records counted'.padStart(16)} ${'loss'.padStart(8)} ${'socket drops'.padStart(13)} ${'records/s (wall)'.padStart(26)} ${'records/s per cpu-s'.padStart(26)} ${'sent at'.padStart(12)}`,
    );
    const rates: number[] = [];
    const cpuRates: number[] = [];
    for (let k = 0; k < sides.length; k++) {
      const rs = runs[k] as UdpRun[];
      const counted = median(rs.map((r) => r.records));
      const loss = median(rs.map((r) => 1 - r.records / r.sentRecords));
      const wall = rs.map((r) => r.records / r.seconds);
      const cpu = rs.map((r) => r.records / Math.max(r.cpuSeconds, 0.01));
      const offered = median(rs.map((r) => r.sentRecords / r.sendSeconds));
      rates.push(median(wall));
      cpuRates.push(median(cpu));
      console.log(
        `${(sides[k] as Collector).name.padEnd(22)} ${counted.toLocaleString('en-US').padStart(16)} ${`${(loss * 100).toFixed(1)} %`.padStart(8)} ${median(
          rs.map((r) => r.socketDrops),
        )
          .toLocaleString('en-US')
          .padStart(13)} ${spread(wall, fmtRate).padStart(26)} ${spread(cpu, fmtRate).padStart(26)} ${`${fmtRate(offered)}/s`.padStart(12)}`,
      );
    }
    const ours = rates[0] as number;
    const isPeer = (k: number) => !(sides[k] as Collector).name.startsWith('palisade');
    const peers = rates.filter((_, k) => isPeer(k));
    if (peers.length > 0) {
      const best = Math.max(...peers);
      const bestCpu = Math.max(...cpuRates.filter((_, k) => isPeer(k)));
      console.log(
        `target: ${protocol} from UDP at least the best peer's records/s: palisade ${fmtRate(ours)}/s vs ${fmtRate(best)}/s = ${(ours / best).toFixed(2)}x ${passFail(ours >= best)}` +
          ` (per CPU second: ${fmtRate(cpuRates[0] as number)} vs ${fmtRate(bestCpu)} = ${((cpuRates[0] as number) / bestCpu).toFixed(2)}x)`,
      );
    }
  }
}

// ---- (c) detection through NetFlow --------------------------------------------------------------

interface TruthAttack {
  vector: string;
  victim: { ip: string | null };
  start: string;
  end: string;
  packets: number;
}

async function detection(): Promise<void> {
  console.log('\n--- (c) detection from the same attack through NetFlow v9 ---');
  const source = 'nf9_softflowd_dns_amplification.pcap';
  const file = join(FLOWS, source);
  const truth = JSON.parse(readFileSync(file.replace(/\.pcap$/, '.truth.json'), 'utf8')) as { source: { capture: { start: string }; attacks: TruthAttack[] } };
  const attacks = truth.source.attacks;
  const t0 = Date.parse(truth.source.capture.start);
  console.log(`input: ${file} (softflowd's NetFlow v9 export of the '${source.replace(/^nf9_softflowd_|\.pcap$/g, '')}' scenario)`);
  for (const a of attacks)
    console.log(
      `truth: ${a.vector} on ${a.victim.ip} from +${((Date.parse(a.start) - t0) / 1000).toFixed(1)} s to +${((Date.parse(a.end) - t0) / 1000).toFixed(1)} s, ${a.packets} packets`,
    );
  await fastnetmonSide(file, attacks, t0);
  palisadeSide(file, attacks, t0);
}

/** When each datagram was exported (the NetFlow v9 header's unix_secs, ms), and relative to the first. */
function exportTimes(datagrams: Uint8Array[]): { firstMs: number; offsets: number[] } {
  const secs = datagrams.map((d) => new DataView(d.buffer, d.byteOffset).getUint32(8));
  const first = Math.min(...secs);
  return { firstMs: first * 1000, offsets: secs.map((s) => (s - first) * 1000) };
}

async function fastnetmonSide(file: string, attacks: TruthAttack[], t0: number): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v fastnetmon']).status !== 0) {
    console.log('fastnetmon: skipped: not installed (apt-get install -y --no-install-recommends fastnetmon)');
    return;
  }
  const dir = join(OUT, 'fastnetmon');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const port = 47390;
  const victim = attacks[0]?.victim.ip ?? '198.51.100.10';
  const prefix = victim.replace(/\.\d+$/, '.0/24');
  writeFileSync(join(dir, 'networks_list'), `${prefix}\n`);
  writeFileSync(join(dir, 'networks_whitelist'), '');
  const notify = join(dir, 'notify.sh');
  // FastNetMon calls this with: IP, direction, pps, action (ban / unban / attack_details), details on stdin.
  writeFileSync(notify, `#!/bin/sh\necho "$(date +%s.%N) $1 $2 $3 $4" >> ${join(dir, 'notify.log')}\ncat >> ${join(dir, 'details.log')}\n`, { mode: 0o755 });
  const threshold = 1000;
  writeFileSync(
    join(dir, 'fastnetmon.conf'),
    [
      'logging_level = info',
      'enable_ban = on',
      'process_incoming_traffic = on',
      'process_outgoing_traffic = off',
      'ban_details_records_count = 20',
      'ban_time = 1900',
      `networks_list_path = ${join(dir, 'networks_list')}`,
      `white_list_path = ${join(dir, 'networks_whitelist')}`,
      'check_period = 1',
      'enable_connection_tracking = on',
      // Global thresholds off; the victim's hostgroup carries the per-host ones.
      'ban_for_pps = off',
      'ban_for_bandwidth = off',
      'ban_for_flows = off',
      `hostgroup = victims:${prefix}`,
      'victims_enable_ban = on',
      'victims_ban_for_pps = on',
      'victims_ban_for_bandwidth = on',
      'victims_ban_for_flows = off',
      `victims_threshold_pps = ${threshold}`,
      'victims_threshold_mbps = 100',
      'victims_threshold_flows = 3500',
      'netflow = on',
      'sflow = off',
      'mirror_afpacket = off',
      'pcap = off',
      `netflow_port = ${port}`,
      'netflow_host = 127.0.0.1',
      'netflow_sampling_ratio = 1',
      'average_calculation_time = 5',
      'speed_calculation_delay = 1',
      `notify_script_path = ${notify}`,
      'enable_api = off',
      'prometheus = off',
      'disable_usage_report = on',
      `pid_path = ${join(dir, 'fastnetmon.pid')}`,
      `cli_stats_file_path = ${join(dir, 'fastnetmon.dat')}`,
      `cli_stats_ipv6_file_path = ${join(dir, 'fastnetmon_ipv6.dat')}`,
      'monitor_local_ip_addresses = off',
      'redis_enabled = off',
      'mongodb_enabled = off',
      'exabgp = off',
      'gobgp = off',
      'influxdb = off',
      'graphite = off',
      'kafka_traffic_export = off',
      '',
    ].join('\n'),
  );
  const args = ['--configuration_file', join(dir, 'fastnetmon.conf'), '--log_file', join(dir, 'fastnetmon.log'), '--disable_pid_logic'];
  console.log(`fastnetmon: ${commandLine('fastnetmon', args, '')} (hostgroup ${prefix}: ban at ${threshold} pps or 100 Mbit/s per host; NetFlow on 127.0.0.1:${port})`);
  const datagrams = await payloadsOf(file);
  const { firstMs, offsets } = exportTimes(datagrams);
  const child = spawn('fastnetmon', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  try {
    for (let i = 0; i < 100 && rowsOnPort(4, port).length === 0; i++) await sleep(100);
    if (rowsOnPort(4, port).length === 0) {
      console.log(`fastnetmon: did not open its NetFlow port: ${out.trim().split('\n').slice(-3).join(' | ')}`);
      return;
    }
    // Replay at the export's own pace (its header clock), as the router sent it.
    const start = Date.now();
    for (let i = 0; i < datagrams.length; ) {
      const due = start + (offsets[i] as number);
      if (Date.now() < due) await sleep(due - Date.now());
      const batch: Uint8Array[] = [];
      while (i < datagrams.length && start + (offsets[i] as number) <= Date.now()) batch.push(datagrams[i++] as Uint8Array);
      if (batch.length > 0) await blast(batch, port, 64);
    }
    const replay = (Date.now() - start) / 1000;
    await sleep(8000); // its averaging window (5 s) and check period, past the last datagram
    const notes = existsSync(join(dir, 'notify.log')) ? readFileSync(join(dir, 'notify.log'), 'utf8').trim().split('\n') : [];
    console.log(`fastnetmon: replayed ${datagrams.length} datagrams in ${replay.toFixed(1)} s (the export's own pace)`);
    const bans = notes.filter((l) => / ban$/.test(l));
    if (bans.length === 0) console.log('fastnetmon: found nothing (no ban called)');
    for (const b of bans) {
      const [when, ip, direction, pps] = b.split(' ');
      // The export's clock runs with the capture's: seconds into the replay are seconds into the capture's export.
      const after = Number(when) - start / 1000;
      // softflowd -a stamps its headers with the capture's clock: the replay's second 0 is the first header's time.
      console.log(
        `fastnetmon: ban ${ip} (${direction}, ${pps} pps) ${after.toFixed(1)} s into the replay, i.e. at +${((firstMs - t0) / 1000 + after).toFixed(1)} s of the capture's clock`,
      );
    }
    if (existsSync(join(dir, 'details.log'))) {
      const details = readFileSync(join(dir, 'details.log'), 'utf8').split('\n');
      const keep = details
        .filter((l) => /Attack type|Attack protocol|Initial attack power|Peak attack power|Attack direction|Total incoming|Incoming (udp|tcp|icmp)/i.test(l))
        .slice(0, 10);
      if (keep.length > 0) console.log(`fastnetmon tells the user:\n  ${keep.map((l) => l.trim()).join('\n  ')}`);
    }
    const truthStart = Math.min(...attacks.map((a) => Date.parse(a.start))) - t0;
    console.log(
      `(the attack starts ${(truthStart / 1000).toFixed(1)} s into the source capture; softflowd exports a flow when it ends or its table fills, so the export lags the traffic)`,
    );
  } finally {
    clearTimeout(killer);
    child.kill('SIGTERM');
    await Promise.race([new Promise((r) => child.on('exit', r)), sleep(5000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

function palisadeSide(file: string, attacks: TruthAttack[], t0: number): void {
  const help = spawnSync(process.execPath, [CLI, 'analyze', '--help'], { encoding: 'utf8' }).stdout ?? '';
  if (!/--as\b/.test(help)) {
    console.log('palisade analyze: skipped: analyze --as flows not available');
    return;
  }
  const args = [CLI, 'analyze', '--as', 'flows', '--json', '--no-progress', file];
  console.log(`palisade: ${commandLine('node', args, '')}`);
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 300_000 });
  const secs = (performance.now() - t) / 1000;
  if (r.status !== 0) {
    console.log(`palisade analyze: failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}`);
    return;
  }
  const a = JSON.parse(r.stdout) as {
    attacks: Array<{
      vector: string;
      victim: { ip?: string; prefix?: string };
      start: string;
      detected_at: string;
      peak_pps: number;
      signature?: { expression?: string; coverage?: number };
      evidence?: unknown;
    }>;
  };
  console.log(`palisade: ${a.attacks.length} attack(s) in ${secs.toFixed(1)} s`);
  for (const x of a.attacks) {
    const after = (Date.parse(x.detected_at) - t0) / 1000;
    const truthHit = attacks.find((y) => y.vector === x.vector && y.victim.ip === x.victim.ip);
    console.log(
      `palisade: ${x.vector} on ${x.victim.ip ?? x.victim.prefix}, detected at +${after.toFixed(1)} s of the capture (attack from +${((Date.parse(x.start) - t0) / 1000).toFixed(1)} s), peak ${fmtRate(x.peak_pps)} pps${truthHit ? ' (as the truth says)' : ''}`,
    );
    if (x.signature?.expression)
      console.log(`  signature: ${x.signature.expression}${x.signature.coverage !== undefined ? ` (coverage ${(x.signature.coverage * 100).toFixed(1)} %)` : ''}`);
  }
}

export default async function run(): Promise<void> {
  console.log(`every measured run holds ${BENCH_LOCK}; traffic to 127.0.0.1 only`);
  // PALISADE_BENCH_FLOW_PARTS=file,udp,detection (default all) picks the parts.
  const parts = (process.env.PALISADE_BENCH_FLOW_PARTS ?? 'file,udp,detection').split(',');
  if (parts.includes('file')) await decodeFromFile();
  if (parts.includes('udp')) await udpLoopback();
  if (parts.includes('detection')) await detection();
}
