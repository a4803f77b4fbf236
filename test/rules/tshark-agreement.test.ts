/**
 * Agreement with tshark: for every capture in ../shared/corpus/real, the number of packets each
 * Rules expression matches equals the number of frames the equivalent Wireshark display filter
 * matches (tshark with reassembly and defragmentation off, so counts are per frame). The pairs
 * and the two differences of model written into them are in tshark-filters.ts.
 *
 * Counts come from one tshark pass per capture (`-z io,stat,0,F1,F2,…`, the same display-filter
 * engine as `-Y`, all filters at once) and one pass of `filterCapture`, the function behind
 * `palisade filter --count`; the CLI itself is checked on a few captures, and against `-Y` directly.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { filterCapture } from '../../src/rules/filter-capture.js';
import { CORPUS, corpusFiles } from '../helpers/tshark.js';
import { FILTER_PAIRS } from './tshark-filters.js';

const NO_REASSEMBLY = ['-n', '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.desegment_tcp_streams:FALSE'];

const TUNNEL = 'tunnelled traffic: Palisade ip.* describe the innermost (customer) packet, ip.*#1 the outer header';
/** file → Rules expression → [ours, tshark's, why they differ]. Everything else must be equal. */
const EXPLAINED: Record<string, Record<string, [number, number, string]>> = {
  'amp.dns.RRSIG.fragmented.pcap': {
    'ip.dst in {192.168.0.0/16 10.0.0.0/8}': [4396, 4397, `frame 4194 is GRE-in-IPv4: ${TUNNEL}`],
    'ip.version == 4 and ip.ttl < 64': [1923, 1924, `frame 4194 is GRE-in-IPv4: ${TUNNEL}`],
    'ip.version == 4 and ip.proto == "udp"': [1297, 1296, `frame 4194 is GRE-in-IPv4: ${TUNNEL}`],
  },
  'tunnels_4in6.pcap': { 'ip.src in {2000::/3}': [0, 1, TUNNEL] },
  'tunnels_Teredo.pcap': {
    'ip.src in {10.0.0.0/8 172.16.0.0/12 192.168.0.0/16}': [44, 46, TUNNEL],
    'ip.dst in {192.168.0.0/16 10.0.0.0/8}': [44, 46, TUNNEL],
    'ip.version == 4 and ip.ttl >= 128': [47, 49, TUNNEL],
    'ip.version == 4 and ip.proto == "udp"': [41, 45, TUNNEL],
  },
  'tunnels_gre-sample.pcap': {
    'ip.src in {10.0.0.0/8 172.16.0.0/12 192.168.0.0/16}': [16, 21, TUNNEL],
    'ip.version == 4 and ip.ttl < 64': [19, 0, TUNNEL],
    'ip.version == 4 and ip.ttl >= 128': [0, 40, TUNNEL],
    'ip.version == 4 and ip.proto == "udp"': [8, 0, TUNNEL],
    'ip.flags.df': [32, 40, TUNNEL],
    'ip.version == 4 and ip.id == 0': [11, 40, TUNNEL],
  },
  'tunnels_gre-within-gre.pcap': {
    'ip.src in {10.0.0.0/8 172.16.0.0/12 192.168.0.0/16}': [624, 0, TUNNEL],
    'ip.dst in {192.168.0.0/16 10.0.0.0/8}': [624, 0, TUNNEL],
    'ip.version == 4 and ip.ttl < 64': [4, 0, TUNNEL],
    'ip.version == 4 and ip.ttl >= 128': [624, 628, TUNNEL],
    'ip.version == 4 and ip.proto == "udp"': [4, 0, TUNNEL],
    'ip.flags.df': [0, 314, TUNNEL],
    'ip.version == 4 and ip.id == 0': [4, 314, TUNNEL],
  },
  'tunnels_vxlan.pcap': {
    'ip.version == 4 and ip.proto == "udp"': [2, 10, TUNNEL],
    'ip.flags.df': [6, 10, TUNNEL],
  },
};

function ioStat(file: string): number[] | null {
  const out = execFileSync('tshark', ['-r', file, ...NO_REASSEMBLY, '-q', '-z', `io,stat,0,${FILTER_PAIRS.map(([, t]) => t).join(',')}`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1 << 24,
  });
  const rows = out.split('\n').filter((l) => /^\|\s*[\d.]+\s*<>/.test(l));
  if (rows.length === 0) return null;
  return FILTER_PAIRS.map((_, i) => rows.reduce((a, r) => a + Number(r.split('|').slice(2, -1)[2 * i]?.trim()), 0));
}

/**
 * Frames each Wireshark filter matches. io,stat prints no row for a capture that spans no time
 * (one packet, or all at one timestamp): then the capture is counted twice over, once as is and
 * once shifted 10 s later (editcap -t, mergecap -a), and the counts halved.
 */
function tsharkCounts(file: string): number[] {
  const direct = ioStat(file);
  if (direct !== null) return direct;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-io-'));
  execFileSync('editcap', ['-t', '10', file, join(dir, 'later.pcapng')], { stdio: 'ignore' });
  execFileSync('mergecap', ['-a', '-w', join(dir, 'twice.pcapng'), file, join(dir, 'later.pcapng')], { stdio: 'ignore' });
  const twice = ioStat(join(dir, 'twice.pcapng'));
  if (twice === null) return FILTER_PAIRS.map(() => 0); // no packets at all
  for (const n of twice) assert.equal(n % 2, 0, `doubled capture gave an odd count for ${basename(file)}`);
  return twice.map((n) => n / 2);
}

test(`${FILTER_PAIRS.length} filters exist in both languages`, () => {
  assert.ok(FILTER_PAIRS.length >= 20);
});

const totals = FILTER_PAIRS.map(() => 0);

for (const file of corpusFiles()) {
  test(`filter counts match tshark -Y: ${basename(file)}`, async () => {
    const ours = (
      await filterCapture(
        file,
        FILTER_PAIRS.map(([o]) => o),
      )
    ).counts;
    const theirs = tsharkCounts(file);
    ours.forEach((c, i) => {
      totals[i] = (totals[i] as number) + c;
    });
    const why = EXPLAINED[basename(file)] ?? {};
    const diffs: string[] = [];
    FILTER_PAIRS.forEach(([o, t], i) => {
      const known = why[o];
      const [want, wantTs] = known ? [known[0], known[1]] : [theirs[i], theirs[i]];
      if (ours[i] !== want || theirs[i] !== wantTs)
        diffs.push(`${o}  vs  ${t}: ours ${ours[i]}, tshark ${theirs[i]}${known ? ` (explained as ${known[0]}/${known[1]}: ${known[2]})` : ''}`);
    });
    assert.deepEqual(diffs, []);
  });
}

test('every filter pair matches packets somewhere in the corpus (no vacuous 0 = 0)', () => {
  assert.deepEqual(
    FILTER_PAIRS.filter((_, i) => totals[i] === 0).map(([o]) => o),
    [],
  );
});

test('palisade filter --count (the CLI) prints the same counts as tshark on attack captures', () => {
  for (const name of ['ddos/ddosgrid.synflood.pcap', 'ddos/amp.UDP.snmp.src161.pcapng', 'edge/dns53.pcap']) {
    const file = join(CORPUS, name);
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'filter', '--count', ...FILTER_PAIRS.flatMap(([o]) => ['-e', o]), file], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map(Number), tsharkCounts(file), name);
  }
});

test('palisade filter -w writes a pcap that tshark reads back with exactly the matching frames', () => {
  const file = join(CORPUS, 'ddos/amp.UDP.snmp.src161.pcapng');
  const out = join(mkdtempSync(join(tmpdir(), 'palisade-filter-')), 'out.pcap');
  const expr = 'udp.srcport == 161 and ip.len > 1000';
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'filter', '-e', expr, file, '-w', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const want = execFileSync('tshark', ['-r', file, ...NO_REASSEMBLY, '-Y', '!icmp && udp.srcport == 161 && ip.len#1 > 1000', '-T', 'fields', '-e', 'frame.len'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const back = spawnSync('tshark', ['-r', out, '-n', '-T', 'fields', '-e', 'frame.len', '-e', 'udp.srcport'], { encoding: 'utf8' });
  assert.equal(back.status, 0, back.stderr);
  const wantLens = want.split('\n').filter(Boolean);
  const rows = back.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t'));
  assert.ok(wantLens.length > 100, `only ${wantLens.length} frames selected`);
  assert.deepEqual(
    rows.map((x) => x[0]),
    wantLens,
  );
  assert.ok(rows.every((x) => x[1] === '161'));
  assert.match(r.stderr, new RegExp(`^${wantLens.length} of \\d+ packets written`));
});

test('io,stat counts are -Y counts: five filters checked with tshark -Y directly', async () => {
  const file = join(CORPUS, 'ddos/amp.TCP.reflection.SYNACK.pcap');
  const pairs = FILTER_PAIRS.filter(([o]) =>
    ['tcp.flags == 0x12', 'tcp.dstport in {1..1023}', 'ip.version == 4 and ip.ttl >= 128', 'ip.proto == "icmp"', 'udp.len > 500'].includes(o),
  );
  assert.equal(pairs.length, 5);
  const ours = (
    await filterCapture(
      file,
      pairs.map(([o]) => o),
    )
  ).counts;
  const y = pairs.map(
    ([, t]) =>
      execFileSync('tshark', ['-r', file, ...NO_REASSEMBLY, '-Y', t, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
        .split('\n')
        .filter(Boolean).length,
  );
  assert.deepEqual(ours, y);
  assert.ok(y.every((n) => n > 0));
});
