/**
 * Issue 3, item 7: the Rules engine's speed.
 *
 * 1. Evaluations/s of compiled predicates on pre-decoded packets (every frame of the real corpus,
 *    each decoded once into its own PacketView): a simple rule (two field comparisons), a CIDR
 *    list of 10,000 prefixes, and a rule with `contains` and `matches` on the payload.
 * 2. `palisade filter -e RULE -w out.pcap` end to end on the 5-million-packet bench capture,
 *    against `tshark -Y` with the same display filter and tcpdump with the equivalent compiled
 *    BPF filter, all in this run. All three do the same work with the same output: read the
 *    capture, select, and write the matching packets to a classic pcap with nanosecond
 *    timestamps, as ours does (`tshark -F nsecpcap`, `tcpdump --time-stamp-precision=nano`;
 *    tshark would write pcapng by default, tcpdump microseconds). tshark runs in its fastest
 *    set-up (common.ts tsharkFast(): `-n`, no TCP analysis, no reassembly or defragmentation).
 *    The three files must hold the same number of packets, and their records are compared byte
 *    for byte. Each command runs RUNS times (PALISADE_BENCH_RUNS, default 3), interleaved; the
 *    figures are medians with min–max.
 * Targets (issue 3): ≥ 20 M evals/s simple, ≥ 5 M evals/s CIDR list, filter ≥ 20× tshark and
 * within 2.5× of tcpdump.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { decodeFrame } from '../src/decode/frame.js';
import { PacketView } from '../src/decode/view.js';
import { compile } from '../src/rules/compile.js';
import { packetScheme } from '../src/scheme/packet.js';
import { readCapture } from '../src/sources/capture/capture.js';
import { prng } from '../test/helpers/prng.js';
import { corpusFiles } from '../test/helpers/tshark.js';
import { benchCapture, CLI, commandLine, fmtRate, medianOf, OUT, ROW_HEAD, RUNS, row, runsNote, type Sample, type Timed, timed, tsharkFast } from './common.js';

async function predecoded(limit: number): Promise<PacketView[]> {
  const views: PacketView[] = [];
  for (const f of corpusFiles()) {
    await readCapture(
      f,
      (v) => {
        if (views.length >= limit) return;
        const p = new PacketView();
        p.buf = v.buf.slice(v.frameOff, v.frameEnd);
        p.frameOff = 0;
        p.frameEnd = p.buf.length;
        p.caplen = v.caplen;
        p.wirelen = v.wirelen;
        p.linkType = v.linkType;
        p.reset();
        decodeFrame(p);
        views.push(p);
      },
      { decode: false },
    );
  }
  return views;
}

function evalsPerSecond(views: PacketView[], pred: (v: PacketView) => boolean, seconds = 2): { rate: number; hits: number } {
  const n = views.length;
  let hits = 0;
  for (let i = 0; i < 3 * n; i++) pred(views[i % n] as PacketView); // warm-up
  for (let i = 0; i < n; i++) if (pred(views[i] as PacketView)) hits++;
  let evals = 0;
  let sink = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < seconds * 1000) {
    for (let i = 0; i < n; i++) if (pred(views[i] as PacketView)) sink++;
    evals += n;
    t = performance.now();
  }
  if (sink < 0) console.log(sink);
  return { rate: evals / ((t - t0) / 1000), hits };
}

function countOf(pcap: string): number {
  // Count records with our reader (no decode): tcpdump/tshark wrote them.
  return Number(execFileSync(process.execPath, [CLI, 'filter', '--count', '-e', 'ip.version >= 0 or not ip.version >= 0', pcap], { encoding: 'utf8' }).trim());
}

export default async function run(): Promise<void> {
  const views = await predecoded(1 << 17);
  console.log(`pre-decoded packets: ${views.length.toLocaleString('en-US')} (every frame of ../shared/corpus/real, up to 131,072)`);
  const r = prng(42);
  const blocklist = Array.from({ length: 10_000 }, () => {
    const len = 8 + Math.floor(r() * 25);
    const a = Math.floor(r() * 2 ** 32);
    const net = len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
    return `${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${len}`;
  });
  const rules: Array<[string, string, number, Parameters<typeof compile>[2]]> = [
    ['simple (two comparisons)', 'tcp.dstport == 80 and ip.ttl < 128', 20e6, {}],
    ['CIDR list, 10,000 prefixes', 'ip.src in $blocklist', 5e6, { lists: { blocklist: { kind: 'ip', items: blocklist } } }],
    ['payload contains + matches', 'payload contains "/wp-login.php" or payload matches "(?i)(union|select)[^a-z]+(from|all)"', 0, {}],
  ];
  for (const [label, expr, target, opts] of rules) {
    const p = compile(expr, packetScheme, opts);
    const { rate, hits } = evalsPerSecond(views, p);
    console.log(
      `${label.padEnd(30)} ${fmtRate(rate).padStart(10)} evals/s${target ? `  (target ${fmtRate(target)})` : ''}  [${expr.length > 60 ? `${expr.slice(0, 57)}...` : expr}; ${hits} of the packets match]`,
    );
  }

  if (process.env.PALISADE_RULES_BENCH_EVAL_ONLY) return;
  const file = benchCapture();
  if (file === null) return;
  const expr = 'tcp.dstport == 80 and ip.ttl < 128';
  const display = 'tcp.dstport == 80 && ip.ttl < 128';
  // BPF sees only the outer headers; Palisade and tshark also match TCP inside GRE (the bench
  // capture's benign mix tunnels some traffic: flags 0, IPv4 payload), and tshark's `ip.ttl < 128`
  // holds when any IP layer's TTL does. The second half spells that out for the GRE case, so the
  // three select the same packets.
  const inner = '(ip[0]&0xf)*4+4';
  const bpf =
    `(tcp dst port 80 and ip[8] < 128) or (ip proto 47 and ip[(ip[0]&0xf)*4:2] = 0 and ip[(ip[0]&0xf)*4+2:2] = 0x0800` +
    ` and ip[${inner}+9] = 6 and ip[${inner}+6:2] & 0x1fff = 0 and ip[${inner}+((ip[${inner}]&0xf)*4)+2:2] = 80 and (ip[8] < 128 or ip[${inner}+8] < 128))`;
  const info = JSON.parse(
    execFileSync(process.execPath, [CLI, 'filter', '--count', '-e', 'ip.version >= 0 or not ip.version >= 0', '-e', expr, file], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .join(',')
      .replace(/^/, '[')
      .concat(']'),
  );
  const [packets, ourCount] = info as [number, number];
  console.log(`capture: ${file}: ${packets.toLocaleString('en-US')} packets; rule: ${expr}`);
  const ourOut = join(OUT, 'rules-palisade.pcap');
  const tsOut = join(OUT, 'rules-tshark.pcap');
  const tdOut = join(OUT, 'rules-tcpdump.pcap');
  const oursArgs = [CLI, 'filter', '-e', expr, file, '-w', ourOut];
  const tsharkArgs = [...tsharkFast(), '-r', file, '-Y', display, '-F', 'nsecpcap', '-w', tsOut];
  const tcpdumpArgs = ['--time-stamp-precision=nano', '-r', file, '-w', tdOut, bpf];
  console.log(`ours: ${commandLine('node', oursArgs, '')}`);
  console.log(`peer: ${commandLine('tshark', tsharkArgs, '2> /dev/null')}`);
  console.log(`peer: ${commandLine('tcpdump', tcpdumpArgs, '2> /dev/null')}`);
  console.log(runsNote());
  const [ours, tshark, tcpdump] = medianOf(
    RUNS,
    () => timed(process.execPath, oursArgs, { shell: true }),
    () => timed('tshark', tsharkArgs, { shell: true }),
    () => timed('tcpdump', tcpdumpArgs, { shell: true }),
  ) as [Sample<Timed>, Sample<Timed>, Sample<Timed>];
  const written = countOf(ourOut);
  const tsCount = countOf(tsOut);
  const tdCount = countOf(tdOut);
  console.log(ROW_HEAD);
  console.log(row('palisade filter -e RULE -w out.pcap', packets, ours));
  console.log(row('tshark (fast) -Y FILTER -F nsecpcap -w out', packets, tshark));
  console.log(row('tcpdump --time-stamp-precision=nano -w out BPF', packets, tcpdump));
  const same = ourCount === written && written === tsCount && written === tdCount;
  console.log(`matches: palisade ${ourCount} (counted) ${written} (written), tshark ${tsCount}, tcpdump ${tdCount}${same ? ' (equal)' : ' (DIFFER)'}`);
  // Records after the 24-byte file header: the same packets, timestamps and lengths, in order.
  const cmp = (a: string, b: string) => (spawnSync('cmp', ['-s', '-i', '24', a, b]).status === 0 ? 'identical' : 'DIFFERENT');
  console.log(`written records: palisade vs tshark ${cmp(ourOut, tsOut)}, palisade vs tcpdump ${cmp(ourOut, tdOut)}`);
  const o = ours.median;
  const ts = tshark.median;
  const td = tcpdump.median;
  console.log(
    `ratio (wall, medians): palisade is ${(ts.seconds / o.seconds).toFixed(1)}x tshark (target >= 20x); ${(o.seconds / td.seconds).toFixed(2)}x tcpdump's time (target <= 2.5x)`,
  );
  console.log(`ratio (CPU, medians):  palisade is ${(ts.cpuSeconds / o.cpuSeconds).toFixed(1)}x tshark; ${(o.cpuSeconds / td.cpuSeconds).toFixed(2)}x tcpdump's CPU time`);
}
