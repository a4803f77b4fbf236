/**
 * Mitigation that applies itself, in a real kernel: two network namespaces joined by a veth pair;
 * side a replays a generated SYN flood over benign traffic with tcpreplay at its own pace; side
 * b runs `palisade monitor -i pal1 --mitigate auto` (capturing through dumpcap or tcpdump). The
 * monitor raises the alert, loads the signature into nftables at pal1's ingress once it has it,
 * and removes it after the hold once the attack has ended. Independent counters of the test's
 * own, keyed by the generator's per-packet labels (written into the source MAC address, which
 * no signature uses), show the attack dropped and every benign packet passing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openStore } from '../../src/incidents/store/open.js';
import { VethPair } from '../export/netns.js';
import { jsonLines } from '../helpers/json-lines.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-automit-'));
const CLI = join(import.meta.dirname, '../../bin/palisade.js');
const BENIGN_MAC = '02:00:00:00:be:00';
const ATTACK_MAC = '02:00:00:00:a7:00';
const pair = new VethPair('mit');

/** Writes the generator's per-packet labels into the frames' source MAC address. */
function labelMacs(pcap: string, truth: string, out: string): { attack: number; benign: number } {
  const labels = Buffer.from((JSON.parse(readFileSync(truth, 'utf8')) as { labels: { data: string } }).labels.data, 'base64');
  const b = readFileSync(pcap);
  const le = b.readUInt32LE(0) === 0xa1b2c3d4 || b.readUInt32LE(0) === 0xa1b23c4d;
  let at = 24;
  let k = 0;
  const n = { attack: 0, benign: 0 };
  while (at + 16 <= b.length) {
    const incl = le ? b.readUInt32LE(at + 8) : b.readUInt32BE(at + 8);
    const frame = at + 16;
    const attack = (labels[k] ?? 0) !== 0;
    Buffer.from((attack ? ATTACK_MAC : BENIGN_MAC).split(':').map((x) => Number.parseInt(x, 16))).copy(b, frame + 6);
    if (attack) n.attack++;
    else n.benign++;
    at = frame + incl;
    k++;
  }
  writeFileSync(out, b);
  return n;
}

function counters(table: string): { attack: number; benign: number } {
  const j = JSON.parse(pair.run('b', 'nft', ['-j', 'list', 'table', 'netdev', table])) as { nftables: { rule?: { comment?: string; expr: Record<string, unknown>[] } }[] };
  const out = { attack: 0, benign: 0 };
  for (const item of j.nftables) {
    const r = item.rule;
    if (r?.comment !== 'attack' && r?.comment !== 'benign') continue;
    const c = r.expr.find((e) => 'counter' in e) as { counter: { packets: number } } | undefined;
    out[r.comment] = c?.counter.packets ?? 0;
  }
  return out;
}

before(() => pair.create());
after(() => {
  pair.destroy();
  rmSync(dir, { recursive: true, force: true });
});

test('monitor --mitigate auto: the kernel drops the flood from the mitigation on, passes every benign packet, and the rule goes after the hold', {
  timeout: 150_000,
}, async (t) => {
  const gen = spawnSync(process.execPath, [CLI, 'generate', 'tcp_syn_flood', '-n', '40000', '-s', '5', '-w', join(dir, 'syn.pcap')], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  const sent = labelMacs(join(dir, 'syn.pcap'), join(dir, 'syn.truth.json'), join(dir, 'labelled.pcap'));
  // the test's own counters: everything that arrives (before any other chain), and what passed (after)
  const table = (name: string, prio: number): string =>
    `table netdev ${name} { chain c { type filter hook ingress device "${pair.ifB}" priority ${prio}; policy accept;\n ether saddr ${ATTACK_MAC} counter comment "attack"\n ether saddr ${BENIGN_MAC} counter comment "benign"\n }\n}\n`;
  pair.run('b', 'nft', ['-f', '-'], table('arrived', -500) + table('passed', 500));

  const mon = spawn(
    'ip',
    [
      'netns',
      'exec',
      pair.b,
      process.execPath,
      CLI,
      'monitor',
      '-i',
      pair.ifB,
      '--mitigate',
      'auto',
      '--nft-device',
      pair.ifB,
      '--hold',
      '3',
      '--json',
      '--duration',
      '110',
      '--db',
      join(dir, 'monitor.db'),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  // the monitor is stopped (SIGINT) once the rule has gone after the hold; --duration only bounds
  // the run (a fixed duration once ended it before the hold did on a loaded machine)
  mon.stdout.on('data', (d: Buffer) => {
    out += d.toString('utf8');
    if (/removed from nftables after the hold/.test(out)) mon.kill('SIGINT');
  });
  mon.stderr.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  const exited = new Promise<number | null>((r) => mon.once('exit', (code) => r(code)));
  // the capture program needs a moment before it sees packets
  await new Promise((r) => setTimeout(r, 2500));
  const replay = spawn('ip', ['netns', 'exec', pair.a, 'tcpreplay', '-q', '-i', pair.ifA, join(dir, 'labelled.pcap')], { stdio: 'ignore' });
  await new Promise<void>((r) => replay.once('exit', () => r()));
  const code = await exited;
  assert.equal(code, 0, err);

  const lines = jsonLines<{ event: string; entry?: { text: string }; alert?: { vector: string; victim: string } }>(out);
  const kinds = lines.map((l) => (l.event === 'mitigation' ? `mitigation: ${l.entry?.text.split(':')[0]}` : `${l.event} ${l.alert?.vector}`));
  assert.ok(kinds.includes('start tcp_syn_flood'), kinds.join('\n'));
  assert.ok(
    lines.some((l) => l.event === 'mitigation' && /^applied to nftables/.test(l.entry?.text ?? '')),
    kinds.join('\n'),
  );
  assert.ok(kinds.includes('end tcp_syn_flood'), kinds.join('\n'));
  assert.ok(
    lines.some((l) => l.event === 'mitigation' && /^removed from nftables after the hold/.test(l.entry?.text ?? '')),
    kinds.join('\n'),
  );

  const arrived = counters('arrived');
  const passed = counters('passed');
  assert.equal(arrived.attack, sent.attack, 'every attack packet reached b');
  assert.equal(arrived.benign, sent.benign, 'every benign packet reached b');
  assert.equal(passed.benign, arrived.benign, 'no benign packet dropped');
  const dropped = (arrived.attack - passed.attack) / arrived.attack;
  assert.ok(dropped >= 0.5, `${(dropped * 100).toFixed(1)} % of the flood dropped (the rule comes a few seconds into a 10 s flood)`);
  t.diagnostic(`sent ${sent.attack} attack / ${sent.benign} benign packets; dropped ${(dropped * 100).toFixed(1)} % of the flood, 0 benign`);
  const left = pair.run('b', 'nft', ['list', 'tables']);
  assert.ok(!/palisade_/.test(left), `the mitigation's table is gone: ${left}`);
  // the incident keeps the record: the mitigation with its hits, the decisions on the timeline
  const store = await openStore(join(dir, 'monitor.db'));
  try {
    const [summary] = await store.listIncidents();
    const inc = await store.getIncident(summary?.number ?? 0);
    assert.ok(inc, 'an incident was stored');
    assert.equal(inc.mitigations.length, 1);
    assert.equal(inc.mitigations[0]?.state, 'removed');
    assert.ok((inc.mitigations[0]?.hits ?? 0) >= arrived.attack - passed.attack - 5, `hits ${inc.mitigations[0]?.hits} vs ${arrived.attack - passed.attack} dropped`);
    const kinds = inc.timeline.map((e) => e.kind);
    assert.ok(kinds.includes('mitigation') && kinds.includes('alert_raised') && kinds.includes('attack_ended'), kinds.join(', '));
    assert.ok(inc.timeline.some((e) => e.kind === 'status' && /→ mitigating/.test(e.text)));
  } finally {
    await store.close();
  }
});
