/**
 * Proof in a real kernel: our ipset + iptables-restore + ip6tables-restore output, loaded on
 * the receiving side of a veth pair, counts exactly what our what-if evaluation says, rule by
 * rule, for crafted IPv4 and IPv6 attack and benign traffic.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportIptables } from '../../src/export/iptables.js';
import { parseRuleset } from '../../src/mitigate/ruleset.js';
import { runWhatIf } from '../../src/mitigate/whatif.js';
import { writePcap } from '../mitigate/packets.js';
import { VethPair } from './netns.js';
import { KERNEL_RULESET, kernelTraffic } from './traffic.js';

/** The shared ruleset with its byte-based, family-spanning limit turned into one iptables can do exactly. */
const IPT_RULESET = KERNEL_RULESET.replace(
  'action_parameters: { rate: 1000, period: minute, unit: bytes, burst: 0, key: none }',
  'action_parameters: { rate: 1, period: minute, burst: 4, key: ip.src }',
);

function counters(pair: VethPair, cmd: 'iptables-save' | 'ip6tables-save'): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of pair.run('b', cmd, ['-c', '-t', 'raw']).split('\n')) {
    const m = /^\[(\d+):\d+\] -A \S+ .*--comment "?([^"\s]+)"?/.exec(line);
    if (m) out.set(m[2] as string, Number(m[1]));
  }
  return out;
}

describe('iptables + ipset export, proven in the kernel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-ipt-'));
  const pair = new VethPair('ipt');
  before(() => pair.create({ v6OnB: true }));
  after(() => {
    pair.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports what iptables cannot do exactly, with the rule and span', () => {
    const out = exportIptables(parseRuleset(KERNEL_RULESET, 'kernel.yaml'));
    assert.deepEqual(
      out.problems.map((p) => [p.rule, p.span?.start]),
      [['icmp-bytes', 0]],
    );
    assert.doesNotMatch(out.iptables + out.ip6tables, /icmp-bytes/);
  });

  it('ipset restore and iptables-restore --test accept the output; kernel counters equal the what-if counts', async () => {
    const rs = parseRuleset(IPT_RULESET, 'kernel.yaml');
    const out = exportIptables(rs);
    assert.deepEqual(out.problems, []);
    pair.run('b', 'ipset', ['restore', '-exist'], out.ipset);
    pair.run('b', 'iptables-restore', ['--test', '--noflush'], out.iptables);
    pair.run('b', 'ip6tables-restore', ['--test', '--noflush'], out.ip6tables);
    pair.run('b', 'iptables-restore', ['--noflush'], out.iptables);
    pair.run('b', 'ip6tables-restore', ['--noflush'], out.ip6tables);
    // Independent arrival counters ahead of our chain.
    pair.run('b', 'iptables', ['-t', 'raw', '-I', 'PREROUTING', '1', '-m', 'comment', '--comment', 'arrivals']);
    pair.run('b', 'ip6tables', ['-t', 'raw', '-I', 'PREROUTING', '1', '-m', 'comment', '--comment', 'arrivals']);

    const frames = kernelTraffic();
    const pcap = join(dir, 'traffic.pcap');
    writePcap(pcap, frames);
    pair.replay(pcap);

    const c4 = counters(pair, 'iptables-save');
    const c6 = counters(pair, 'ip6tables-save');
    assert.equal((c4.get('arrivals') ?? 0) + (c6.get('arrivals') ?? 0), frames.length, 'every crafted packet reached netfilter');

    const report = await runWhatIf(pcap, rs);
    const sum = (id: string, kind: 'rule' | 'list', counter: 'matched' | 'limited'): number =>
      out.map.filter((m) => m.id === id && m.kind === kind && m.counters[0] === counter).reduce((s, m) => s + ((m.family === 4 ? c4 : c6).get(m.tag) ?? Number.NaN), 0);
    const want: Record<string, [number, number]> = {};
    const got: Record<string, [number, number]> = {};
    for (const r of report.rules) {
      if (!r.enabled) continue;
      want[r.id] = [r.matched.packets, r.rate_limited.packets];
      got[r.id] = [sum(r.id, 'rule', 'matched'), r.action === 'rate_limit' ? sum(r.id, 'rule', 'limited') : 0];
    }
    for (const l of report.lists) {
      want[`$${l.name}`] = [l.matched.packets, 0];
      got[`$${l.name}`] = [sum(l.name, 'list', 'matched'), 0];
    }
    assert.deepEqual(got, want);
    for (const [id, [m]] of Object.entries(want)) assert.ok(m > 0, `${id} matched nothing`);
  });
});
