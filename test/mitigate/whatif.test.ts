import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readCapture } from '../../src/sources/capture/capture.js';
import { frame, writePcap } from './packets.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-whatif-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', ...args], { encoding: 'utf8' });
}

// 3 s of traffic: benign web + DNS, an NTP reflection burst, a SYN flood from one source.
const frames: { data: Uint8Array; t: number }[] = [];
const labels: string[] = [];
for (let i = 0; i < 300; i++) {
  const t = i * 0.01;
  frames.push({ data: frame({ src: `192.0.2.${1 + (i % 50)}`, dst: '203.0.113.10', proto: 'tcp', dport: 443, flags: 0x18, payload: 100 }), t });
  labels.push('benign');
  if (i % 3 === 0) {
    frames.push({ data: frame({ src: '198.51.100.9', dst: '203.0.113.10', proto: 'udp', sport: 123, dport: 40000 + i, payload: 440 }), t: t + 0.001 });
    labels.push('ntp_amplification');
  }
  if (i >= 100) {
    frames.push({ data: frame({ src: '100.64.0.1', dst: '203.0.113.10', proto: 'tcp', dport: 443, flags: 0x02 }), t: t + 0.002 });
    labels.push('tcp_syn_flood');
  }
  if (i % 10 === 0) {
    frames.push({ data: frame({ src: '2001:db8::53', dst: '2001:db8::10', proto: 'udp', sport: 53000, dport: 53, payload: 30 }), t: t + 0.003 });
    labels.push('benign');
  }
}
const cap = join(dir, 'mix.pcap');
writePcap(cap, frames);
const truth = join(dir, 'mix.pcap.truth.json');
const rle: [string, number][] = [];
for (const l of labels) {
  const last = rle[rle.length - 1];
  if (last && last[0] === l) last[1]++;
  else rle.push([l, 1]);
}
writeFileSync(truth, JSON.stringify({ labels_rle: rle }));
const rules = join(dir, 'edge.yaml');
writeFileSync(
  rules,
  `name: edge
lists:
  partners: { kind: allow, entries: [192.0.2.0/28] }
rules:
  - id: ntp-amp
    expression: udp.srcport == 123 and ip.len > 400
    action: block
  - id: syn-limit
    expression: tcp.flags.syn and not tcp.flags.ack
    action: rate_limit
    action_parameters: { rate: 10, burst: 20, key: ip.src }
  - id: dns
    expression: udp.dstport == 53
    action: log
`,
);

describe('palisade mitigate (what-if)', () => {
  it('reports per rule, totals, timeline and the ground-truth score; splits dropped and passed', async () => {
    const dropped = join(dir, 'dropped.pcap');
    const passed = join(dir, 'passed.pcap');
    const r = cli('mitigate', '--ruleset', rules, cap, '--dropped', dropped, '--passed', passed, '--truth', truth, '--json');
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    const by = Object.fromEntries(rep.rules.map((x: { id: string }) => [x.id, x]));
    assert.equal(rep.totals.packets, frames.length);
    assert.equal(by['ntp-amp'].matched.packets, 100);
    assert.equal(by['ntp-amp'].dropped.packets, 100);
    // 200 SYNs at 100/s from one source over 2 s: burst 20, then 10/s refill → 20 + 10 × 1.99 s.
    assert.equal(by['syn-limit'].matched.packets, 200);
    assert.equal(by['syn-limit'].rate_limited.packets, 200 - 39);
    assert.equal(by.dns.matched.packets, 30);
    assert.equal(rep.lists[0].name, 'partners');
    assert.equal(rep.lists[0].matched.packets, 90);
    assert.equal(rep.totals.dropped.packets, 100);
    assert.equal(rep.totals.rate_limited.packets, 161);
    assert.equal(rep.totals.passed.packets, frames.length - 261);
    assert.deepEqual(
      rep.timeline.points.map((p: { t: number; dropped: number }) => [p.t, p.dropped]),
      [
        [0, 34],
        [1, 33],
        [2, 33],
      ],
    );
    assert.deepEqual(rep.truth.attack, { packets: 300, passed: 39, dropped: 100, rate_limited: 161 });
    assert.deepEqual(rep.truth.benign, { packets: 330, passed: 330, dropped: 0, rate_limited: 0 });
    assert.equal(rep.truth.attack_passed_share, 39 / 300);
    assert.equal(rep.truth.benign_dropped_share, 0);
    // The two output captures partition the input.
    const count = async (f: string) => {
      let n = 0;
      await readCapture(f, () => n++);
      return n;
    };
    assert.equal(await count(dropped), 261);
    assert.equal(await count(passed), frames.length - 261);
    assert.equal(rep.outputs.dropped.packets, 261);
  });

  it('scores against the truth file palisade generate writes (per-packet labels, base64)', () => {
    const pcap = join(dir, 'gen.pcap');
    const g = cli('generate', 'tcp_syn_flood', '--packets', '6000', '--seed', '2', '-w', pcap);
    assert.equal(g.status, 0, g.stderr);
    const t = JSON.parse(readFileSync(join(dir, 'gen.truth.json'), 'utf8'));
    const atk = t.attacks[0];
    const rs = join(dir, 'gen.yaml');
    // Block exactly the victim's SYNs; the flood's packets are the attack, the rest benign.
    writeFileSync(rs, `rules:\n  - id: syn\n    expression: ip.dst == ${atk.victim.ip} and tcp.flags.syn and not tcp.flags.ack\n    action: block\n`);
    const r = cli('mitigate', '--ruleset', rs, pcap, '--truth', join(dir, 'gen.truth.json'), '--json');
    assert.equal(r.status, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.equal(rep.truth.attack.packets, atk.packets);
    assert.equal(rep.truth.benign.packets, t.benign.packets);
    assert.equal(rep.truth.attack.packets + rep.truth.benign.packets, t.packets);
    assert.equal(rep.truth.attack.passed, 0);
    assert.ok(rep.truth.benign.dropped < rep.truth.benign.packets * 0.05, JSON.stringify(rep.truth.benign));
    // Not a truth file of ours: a clear error, exit 3.
    writeFileSync(join(dir, 'bad.truth.json'), JSON.stringify({ labels: { encoding: 'hex', data: '00' } }));
    const bad = cli('mitigate', '--ruleset', rs, pcap, '--truth', join(dir, 'bad.truth.json'));
    assert.equal(bad.status, 3);
    assert.match(bad.stderr, /base64-u8/);
  });

  it('prints a table for a person', () => {
    const r = cli('mitigate', '-r', rules, cap, '--truth', truth);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ntp-amp\s+block\s+100\s/);
    assert.match(r.stdout, /attack packets\s+300\s+passed 39 \(13\.0%\)/);
    assert.ok(!r.stdout.includes('\u001b['), 'no colour off a TTY');
  });

  it('exit codes: 2 without --ruleset, 3 for a bad ruleset (with file:line:col) or a missing capture', () => {
    assert.equal(cli('mitigate', cap).status, 2);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'rules:\n  - id: x\n    expression: tcp.dstport === 80\n    action: block\n');
    const r = cli('mitigate', '-r', bad, cap);
    assert.equal(r.status, 3);
    assert.match(r.stderr, /bad\.yaml:3:31: rule x: /);
    assert.equal(cli('mitigate', '-r', rules, join(dir, 'nope.pcap')).status, 3);
    assert.ok(readFileSync(rules, 'utf8').length > 0);
  });
});
