/**
 * Issue 5, item 6 end to end: the rules `palisade analyze` writes into each attack's
 * `mitigation` (nftables text and the iptables+ipset script), loaded into a real kernel on the
 * receiving side of a veth pair while the analysed capture is replayed into it, count what our
 * own what-if evaluation of `mitigation.ruleset` says they match: exactly for nftables; for
 * iptables exactly where the rule is exact, and at least as much where the script says it had to
 * broaden the rule (iptables has no TCP-window match).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRuleset } from '../../src/mitigate/ruleset.js';
import { runWhatIf } from '../../src/mitigate/whatif.js';
import { RECV_MAC, VethPair } from './netns.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'bin/palisade.js');

interface AttackOut {
  id: string;
  vector: string;
  mitigation: { ruleset: { rules: { id: string; expression: string; action: string }[] }; nftables: string; iptables: string };
}

describe('analyze mitigation rules, proven in the kernel against the analysed capture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-ak-'));
  const pair = new VethPair('ak');
  const pcap = join(dir, 'demo.pcap');
  let attacks: AttackOut[] = [];
  let want = new Map<string, number>();
  /** What-if of each attack's ruleset on its own (the iptables scripts are applied one at a time). */
  const alone = new Map<string, number>();

  before(async () => {
    pair.create();
    const raw = join(dir, 'raw.pcap');
    execFileSync(process.execPath, [CLI, 'generate', 'demo', '--packets', '20000', '--seed', '5', '-w', raw], { stdio: 'ignore' });
    // The receiver's interface only takes frames addressed to it.
    execFileSync('tcprewrite', [`--enet-dmac=${RECV_MAC}`, `--infile=${raw}`, `--outfile=${pcap}`]);
    const analysis = JSON.parse(execFileSync(process.execPath, [CLI, 'analyze', '--json', '--no-progress', pcap], { encoding: 'utf8', maxBuffer: 1 << 26 }));
    attacks = analysis.attacks as AttackOut[];
    const rules = attacks.flatMap((a) => a.mitigation.ruleset.rules);
    const report = await runWhatIf(pcap, parseRuleset(JSON.stringify({ name: 'all attacks', rules }), 'attacks.json'));
    want = new Map(report.rules.map((r) => [r.id, r.matched.packets]));
    for (const a of attacks) {
      const r = await runWhatIf(pcap, parseRuleset(JSON.stringify(a.mitigation.ruleset), `${a.id}.json`));
      for (const x of r.rules) alone.set(x.id, x.matched.packets);
    }
  });
  after(() => {
    pair.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the demo capture yields attacks with rules for every target', () => {
    assert.ok(attacks.length >= 2, `attacks: ${attacks.map((a) => a.vector).join(', ')}`);
    for (const a of attacks) {
      assert.ok(a.mitigation.nftables.includes('drop') && a.mitigation.iptables.includes('-j DROP'), a.id);
      assert.ok((want.get(a.mitigation.ruleset.rules[0]?.id ?? '') ?? 0) > 0, `${a.id}: its rule matches the capture`);
    }
  });

  it('nftables: loaded as analyze wrote it, the kernel counts what the what-if counts', () => {
    for (const a of attacks) pair.run('b', 'nft', ['-f', '-'], a.mitigation.nftables);
    pair.replay(pcap, 40);
    const listed = JSON.parse(pair.run('b', 'nft', ['-j', 'list', 'table', 'inet', 'palisade'])) as {
      nftables: { rule?: { comment?: string; expr: Record<string, unknown>[] } }[];
    };
    const got = new Map<string, number>();
    for (const item of listed.nftables) {
      const r = item.rule;
      const tag = r?.comment?.match(/^palisade:(.+):\d+$/)?.[1];
      if (!r || !tag) continue;
      const c = r.expr.find((e) => 'counter' in e) as { counter: { packets: number } } | undefined;
      got.set(tag, (got.get(tag) ?? 0) + (c?.counter.packets ?? 0));
    }
    assert.deepEqual(Object.fromEntries(got), Object.fromEntries(want));
    pair.run('b', 'nft', ['delete', 'table', 'inet', 'palisade']);
  });

  it('iptables + ipset: each script analyze wrote, run in the namespace, counts the same (or more where broadened)', () => {
    // One script at a time, each against its own what-if (applied together, an earlier
    // attack's broadened rule may take packets a later one would have counted).
    for (const a of attacks) {
      pair.run('b', 'iptables-restore', [], '*raw\nCOMMIT\n');
      pair.run('b', 'sh', ['-s'], a.mitigation.iptables);
      pair.replay(pcap, 40);
      const id = a.mitigation.ruleset.rules[0]?.id as string;
      let g = 0;
      for (const line of pair.run('b', 'iptables-save', ['-c', '-t', 'raw']).split('\n')) {
        const m = /^\[(\d+):\d+\] -A \S+ .*--comment "?palisade:([^"\s]+):\d+"?/.exec(line);
        if (m?.[2] === id) g += Number(m[1]);
      }
      const w = alone.get(id) as number;
      assert.ok(w > 0, `${id} matches the capture`);
      if (a.mitigation.iptables.includes('# broadened for iptables')) assert.ok(g >= w, `${id}: kernel ${g} >= what-if ${w}`);
      else assert.equal(g, w, `${id}: kernel ${g} vs what-if ${w}`);
    }
  });

  it('iptables: the scripts compose and can be run again (a chain each, one jump each)', () => {
    pair.run('b', 'iptables-restore', [], '*raw\nCOMMIT\n');
    for (let round = 0; round < 2; round++) for (const a of attacks) pair.run('b', 'sh', ['-s'], a.mitigation.iptables);
    const rules = pair.run('b', 'iptables', ['-t', 'raw', '-S']);
    for (const a of attacks) {
      const id = a.mitigation.ruleset.rules[0]?.id as string;
      assert.equal(rules.split('\n').filter((l) => l === `-A PREROUTING -j PAL-${id}`).length, 1, `${id}: one jump\n${rules}`);
      assert.equal(rules.split('\n').filter((l) => l.includes(`palisade:${id}:`)).length, 1, `${id}: its rule once\n${rules}`);
    }
  });
});
