/**
 * Flowspec mitigation with real BGP daemons: two network namespaces joined by a veth pair; BIRD 2
 * in one with a flow4 channel (`import all`) peering with ExaBGP in the other, whose CLI pipes
 * live in this test's temp dir. `palisade monitor --replay` of a generated NTP amplification with
 * `--mitigate auto --flowspec <pipe> --no-nft` announces the attack's signature as a Flowspec
 * route through ExaBGP: BIRD's flow4 table holds it, with the signature's destination, protocol
 * and ports and the discard action, while the attack runs, and loses it after the hold. A second
 * test drives the enforcer directly: TCP flags, an apply that replaces the routes of its id, and a
 * route two mitigations share staying until the second goes.
 *
 * Skips only without root or network namespaces; exabgp and bird2 missing is a failure (CI
 * installs them: .ci/apt-packages.txt).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildMitigation } from '../../../src/export/mitigation.js';
import { FlowspecEnforcer } from '../../../src/incidents/enforce/flowspec.js';
import { VethPair } from '../../export/netns.js';

const CLI = join(import.meta.dirname, '../../../bin/palisade.js');

function netnsWorks(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `palisade-t-${process.pid}-fsprobe`;
  if (spawnSync('ip', ['netns', 'add', probe]).status !== 0) return false;
  spawnSync('ip', ['netns', 'del', probe]);
  return true;
}
const skip = netnsWorks() ? false : 'needs root and network namespaces';

const dir = mkdtempSync(join(tmpdir(), 'palisade-flowspec-'));
const pair = new VethPair('fsb');
// the pipes' name is unique too: ExaBGP looks for it in /run/exabgp/ before its --root
const PIPE_NAME = `palisade-t-${process.pid}`;
const PIPE = join(dir, 'exabgp/run', PIPE_NAME);
const BIRD_CTL = join(dir, 'bird.ctl');
const daemons: ChildProcess[] = [];
const logs = { bird: '', exabgp: '' };

function daemon(ns: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, log: 'bird' | 'exabgp'): void {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  child.stdout?.on('data', (d: Buffer) => {
    logs[log] += d.toString('utf8');
  });
  child.stderr?.on('data', (d: Buffer) => {
    logs[log] += d.toString('utf8');
  });
  daemons.push(child);
}

function birdc(...args: string[]): string {
  return execFileSync('birdc', ['-s', BIRD_CTL, ...args], { encoding: 'utf8', timeout: 5000 });
}

/** BIRD's flow4 table, route by route (one block of lines each). */
function flowRoutes(): string[] {
  const out = birdc('show', 'route', 'table', 'flowtab4', 'all');
  return out
    .split(/\n(?=flow4 )/)
    .map((x) => x.trim())
    .filter((x) => x.startsWith('flow4 '));
}

async function until<T>(what: string, ms: number, f: () => T | null | undefined | false): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}\n--- bird ---\n${logs.bird.slice(-2000)}\n--- exabgp ---\n${logs.exabgp.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  if (skip) return;
  for (const tool of ['exabgp', 'bird', 'birdc']) assert.equal(spawnSync('sh', ['-c', `command -v ${tool}`]).status, 0, `${tool} is not installed (apt-get install exabgp bird2)`);
  pair.create();
  pair.run('a', 'ip', ['addr', 'add', '192.0.2.1/30', 'dev', pair.ifA]);
  pair.run('b', 'ip', ['addr', 'add', '192.0.2.2/30', 'dev', pair.ifB]);
  writeFileSync(
    join(dir, 'bird.conf'),
    `router id 192.0.2.2;
flow4 table flowtab4;
protocol device {}
protocol bgp exa {
  local 192.0.2.2 as 65001;
  neighbor 192.0.2.1 as 65002;
  connect retry time 1;
  flow4 { table flowtab4; import all; export none; };
}
`,
  );
  mkdirSync(join(dir, 'exabgp/run'), { recursive: true });
  execFileSync('mkfifo', ['-m', '600', `${PIPE}.in`, `${PIPE}.out`]);
  writeFileSync(
    join(dir, 'exabgp.conf'),
    `neighbor 192.0.2.2 {
  router-id 192.0.2.1;
  local-address 192.0.2.1;
  local-as 65002;
  peer-as 65001;
  family { ipv4 flow; }
}
`,
  );
  daemon(pair.b, 'bird', ['-f', '-c', join(dir, 'bird.conf'), '-s', BIRD_CTL, '-P', join(dir, 'bird.pid')], {}, 'bird');
  daemon(
    pair.a,
    'exabgp',
    ['--root', join(dir, 'exabgp'), join(dir, 'exabgp.conf')],
    {
      exabgp_api_cli: 'true',
      exabgp_api_pipename: PIPE_NAME,
      exabgp_api_ack: 'true',
      exabgp_daemon_daemonize: 'false',
      exabgp_daemon_drop: 'false',
      exabgp_daemon_user: 'root',
      exabgp_log_destination: 'stdout',
    },
    'exabgp',
  );
  await until('the BGP session between ExaBGP and BIRD', 30_000, () => {
    try {
      return /Established/.test(birdc('show', 'protocols', 'exa'));
    } catch {
      return false;
    }
  });
});

after(() => {
  for (const d of daemons) if (d.exitCode === null && d.signalCode === null) d.kill('SIGTERM');
  pair.destroy();
  rmSync(dir, { recursive: true, force: true });
});

interface Line {
  event: string;
  at: number;
  entry?: { text: string; data?: Record<string, unknown> };
  alert?: { vector: string; victim: string; attack: { signature: { expression: string } | null } };
}

test('monitor --mitigate auto --flowspec: the attack is a Flowspec route in the peer BIRD while it runs, gone after the hold', { skip, timeout: 90_000 }, async (t) => {
  const started = Date.now();
  const gen = spawnSync(process.execPath, [CLI, 'generate', 'ntp_amplification', '-n', '20000', '-s', '5', '-w', join(dir, 'ntp.pcap')], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  const mon = spawn(
    process.execPath,
    [
      CLI,
      'monitor',
      '--replay',
      join(dir, 'ntp.pcap'),
      '--speed',
      '4',
      '--mitigate',
      'auto',
      '--flowspec',
      PIPE,
      '--no-nft',
      '--hold',
      '3',
      '--json',
      '--db',
      join(dir, 'monitor.db'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: Line[] = [];
  let partial = '';
  let err = '';
  mon.stdout.on('data', (d: Buffer) => {
    partial += d.toString('utf8');
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) if (p.trim() !== '') lines.push({ ...(JSON.parse(p) as Omit<Line, 'at'>), at: Date.now() });
  });
  mon.stderr.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  const exited = new Promise<number | null>((r) => mon.once('exit', (code) => r(code)));
  // BIRD's table while the monitor runs: the route's first sighting, and each look after it
  let seen: { at: number; route: string } | null = null;
  let running = true;
  void exited.then(() => {
    running = false;
  });
  while (running && Date.now() - started < 70_000) {
    const r = flowRoutes();
    if (seen === null && r.length > 0) seen = { at: Date.now(), route: r.join('\n') };
    await new Promise((res) => setTimeout(res, 200));
  }
  const code = await exited;
  assert.equal(code, 0, err);
  const kinds = lines.map((l) => (l.event === 'mitigation' ? `mitigation: ${l.entry?.text}` : `${l.event} ${l.alert?.vector}`));
  const start = lines.find((l) => l.event === 'start' && l.alert?.vector === 'ntp_amplification');
  assert.ok(start, kinds.join('\n'));
  const applied = lines.find((l) => l.event === 'mitigation' && /^applied to flowspec/.test(l.entry?.text ?? ''));
  assert.ok(applied, kinds.join('\n'));
  assert.ok(!lines.some((l) => l.event === 'mitigation' && /nftables/.test(l.entry?.text ?? '')), `--no-nft: nothing for nftables\n${kinds.join('\n')}`);
  const end = lines.find((l) => l.event === 'end');
  assert.ok(end, kinds.join('\n'));
  const removed = lines.find((l) => l.event === 'mitigation' && /^removed from flowspec after the hold/.test(l.entry?.text ?? ''));
  assert.ok(removed, kinds.join('\n'));

  // the route BIRD got is the signature's: destination, protocol, ports; discard (traffic-rate 0)
  assert.ok(seen !== null, `BIRD's flow4 table never held a route\n${kinds.join('\n')}`);
  assert.ok(seen.at < end.at, 'the route was in BIRD before the attack ended');
  const expression = lines.find((l) => l.alert?.attack.signature)?.alert?.attack.signature?.expression ?? '';
  const dst = /ip\.dst == ([\d.]+)/.exec(expression)?.[1];
  assert.ok(dst !== undefined, expression);
  assert.match(seen.route, new RegExp(`^flow4 \\{ dst ${dst.replaceAll('.', '\\.')}/32;`), seen.route);
  assert.match(seen.route, /proto 17;/, seen.route);
  for (const [field, bird] of [
    ['udp.srcport', 'sport'],
    ['udp.dstport', 'dport'],
  ] as const) {
    const port = new RegExp(`${field.replace('.', '\\.')} == (\\d+)`).exec(expression)?.[1];
    if (port !== undefined) assert.match(seen.route, new RegExp(`${bird} ${port};`), `${field} of ${expression}\n${seen.route}`);
  }
  assert.match(expression, /udp\.srcport == 123/, 'an NTP amplification signature keys on the reflectors’ port');
  assert.match(seen.route, /BGP\.ext_community: \(generic, 0x80060000, 0x0\)/, `discard is traffic-rate 0\n${seen.route}`);
  assert.deepEqual(flowRoutes(), [], 'withdrawn after the hold');
  t.diagnostic(
    `signature ${expression}; BIRD had "${seen.route.split('\n')[0]}" ${((seen.at - applied.at) / 1000).toFixed(2)} s after the apply; removed ${((removed.at - end.at) / 1000).toFixed(1)} s after the end; ${((Date.now() - started) / 1000).toFixed(1)} s in all`,
  );
});

test('the enforcer against the same peers: TCP flags, an apply that replaces its routes, a route two mitigations share', { skip, timeout: 60_000 }, async () => {
  const fs = new FlowspecEnforcer({ pipe: `${PIPE}.in` });
  const script = (expression: string): string => {
    const s = fs.script('m', buildMitigation({ expression, id: 'r', description: 'test' }).ruleset);
    assert.deepEqual(s.problems, []);
    return s.text;
  };
  const syn443 = script('ip.dst == 198.51.100.10 and tcp.flags.syn and not tcp.flags.ack and tcp.dstport == 443');
  const syn8443 = script('ip.dst == 198.51.100.10 and tcp.flags.syn and not tcp.flags.ack and tcp.dstport == 8443');
  const has = (port: number) => (r: string[]) => r.some((x) => x.startsWith('flow4 { dst 198.51.100.10/32; proto 6; dport ') && x.includes(`dport ${port};`));

  assert.deepEqual(await fs.apply('m1', syn443), { ok: true, command: `echo … > ${PIPE}.in (announce 1, withdraw 0 flow route(s))` });
  const r1 = await until('the port 443 route in BIRD', 10_000, () => (has(443)(flowRoutes()) ? flowRoutes() : null));
  assert.match(r1.join('\n'), /tcp flags 0x2\/0x2 && 0x0\/0x10;/, 'SYN set, ACK clear');
  // the same id again with another signature: the new route comes, the old one goes
  assert.equal((await fs.apply('m1', syn8443)).command, `echo … > ${PIPE}.in (announce 1, withdraw 1 flow route(s))`);
  await until('443 replaced by 8443', 10_000, () => {
    const r = flowRoutes();
    return has(8443)(r) && !has(443)(r);
  });
  // a second mitigation announcing the same route: removing the first leaves it
  assert.equal((await fs.apply('m2', syn8443)).ok, true);
  assert.equal((await fs.remove('m1')).command, `echo … > ${PIPE}.in (withdraw 0 flow route(s))`);
  await new Promise((r) => setTimeout(r, 1000));
  assert.ok(has(8443)(flowRoutes()), 'still announced for m2');
  assert.equal((await fs.remove('m2')).ok, true);
  await until('the table empty', 10_000, () => flowRoutes().length === 0);
  assert.deepEqual(await fs.remove('m2'), { ok: true, command: `echo … > ${PIPE}.in (withdraw 0 flow route(s))` }, 'removing what is not there is success');
  assert.equal(await fs.hits('m1'), null);
});
