/**
 * Proof in a real kernel: our nftables output, loaded on the receiving side of a veth pair
 * between two network namespaces, counts exactly what our what-if evaluation says, rule by
 * rule (matched and rate-limited), for crafted attack and benign traffic.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportNftables } from '../../src/export/nftables.js';
import { parseRuleset } from '../../src/mitigate/ruleset.js';
import { runWhatIf } from '../../src/mitigate/whatif.js';
import { writePcap } from '../mitigate/packets.js';
import { VethPair } from './netns.js';
import { KERNEL_RULESET, kernelTraffic } from './traffic.js';

interface NftRule {
  comment?: string;
  expr: Record<string, unknown>[];
}

function kernelCounters(pair: VethPair, family: string, table: string): Map<string, number[]> {
  const j = JSON.parse(pair.run('b', 'nft', ['-j', 'list', 'table', family, table])) as { nftables: { rule?: NftRule }[] };
  const out = new Map<string, number[]>();
  for (const item of j.nftables) {
    const r = item.rule;
    if (!r?.comment) continue;
    out.set(
      r.comment,
      r.expr.filter((e) => 'counter' in e).map((e) => (e.counter as { packets: number }).packets),
    );
  }
  return out;
}

describe('nftables export, proven in the kernel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-nft-'));
  const pair = new VethPair('nft');
  before(() => pair.create());
  after(() => {
    pair.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('nft -c accepts the inet (prerouting) form', () => {
    const rs = parseRuleset(KERNEL_RULESET, 'kernel.yaml');
    const out = exportNftables(rs);
    assert.deepEqual(out.problems, []);
    const f = join(dir, 'inet.nft');
    writeFileSync(f, out.text);
    execFileSync('nft', ['-c', '-f', f]);
  });

  it('kernel per-rule counters equal the what-if counts, packet for packet', async () => {
    const rs = parseRuleset(KERNEL_RULESET, 'kernel.yaml');
    const frames = kernelTraffic();
    const pcap = join(dir, 'traffic.pcap');
    writePcap(pcap, frames);
    const out = exportNftables(rs, { hook: 'ingress', device: pair.ifB });
    assert.deepEqual(out.problems, []);
    const f = join(dir, 'ingress.nft');
    writeFileSync(f, out.text);
    pair.run('b', 'nft', ['-c', '-f', f]);
    pair.run('b', 'nft', ['-f', f]);
    // An independent counter of everything that arrives, ahead of our table.
    pair.run('b', 'nft', ['-f', '-'], `table netdev arrivals { chain c { type filter hook ingress device "${pair.ifB}" priority -500; policy accept;\n counter\n }\n}\n`);

    pair.replay(pcap);

    const arrivals = JSON.parse(pair.run('b', 'nft', ['-j', 'list', 'table', 'netdev', 'arrivals'])) as { nftables: { rule?: NftRule }[] };
    const arrived = arrivals.nftables.flatMap((x) => x.rule?.expr ?? []).find((e) => 'counter' in e) as { counter: { packets: number } };
    assert.equal(arrived.counter.packets, frames.length, 'every crafted packet reached the receiver');

    const report = await runWhatIf(pcap, rs);
    assert.equal(report.totals.packets, frames.length);
    const kernel = kernelCounters(pair, 'netdev', 'palisade');
    const sum = (id: string, kind: 'rule' | 'list', idx: number): number =>
      out.map.filter((m) => m.id === id && m.kind === kind).reduce((s, m) => s + ((kernel.get(m.tag) ?? [])[idx] ?? Number.NaN), 0);

    const want: Record<string, [number, number]> = {};
    const got: Record<string, [number, number]> = {};
    for (const r of report.rules) {
      if (!r.enabled) continue;
      want[r.id] = [r.matched.packets, r.rate_limited.packets];
      got[r.id] = [sum(r.id, 'rule', 0), r.action === 'rate_limit' ? sum(r.id, 'rule', 1) : 0];
    }
    for (const l of report.lists) {
      want[`$${l.name}`] = [l.matched.packets, 0];
      got[`$${l.name}`] = [sum(l.name, 'list', 0), 0];
    }
    assert.deepEqual(got, want);
    // The traffic exercises every rule (a rule matching nothing would prove little).
    for (const [id, [m]] of Object.entries(want)) assert.ok(m > 0, `${id} matched nothing`);
    assert.ok(report.totals.rate_limited.packets > 0 && report.totals.dropped.packets > 0 && report.totals.passed.packets > 0);
  });
});
