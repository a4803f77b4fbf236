/**
 * Tunnelled traffic in a real kernel (nftables at the netdev ingress hook, iptables in the raw
 * table's PREROUTING), on the receiving side of a veth pair: GRE over IPv4 and IPv6, 4in4 and
 * 6in4 floods mixed with plain packets.
 *
 * - Rules on outer.ip.* are exact: the kernel's per-rule counters equal the what-if counts.
 * - A rule on ip.* is exact for packets without a tunnel only: the kernel tests the outermost
 *   header, so the exported `ip.dst == X` counts what Palisade's `outer.ip.dst == X` counts —
 *   GRE packets sent to X whatever they carry — and misses GRE packets carrying a packet for X.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exportIptables } from '../../src/export/iptables.js';
import { exportNftables } from '../../src/export/nftables.js';
import { parseRuleset, type Ruleset } from '../../src/mitigate/ruleset.js';
import { runWhatIf } from '../../src/mitigate/whatif.js';
import { filterCapture } from '../../src/rules/filter-capture.js';
import { EtherType, ethernet, gre, IpProto, ipv4, ipv6, udp } from '../helpers/frames.js';
import { DST_MAC, SRC_MAC, writePcap } from '../mitigate/packets.js';
import { VethPair } from './netns.js';

const VICTIM = '203.0.113.7';

const OUTER_RULESET = `name: tunnels
lists:
  relays: { entries: [198.18.0.0/30] }
rules:
  - id: relays
    expression: outer.ip.src in $relays and outer.ip.version == 4
    action: log
  - id: gre-victim
    expression: outer.ip.dst in {${VICTIM} 2001:db8:7::7} and outer.ip.proto == "gre"
    action: block
  - id: ipip-low-ttl
    expression: outer.ip.proto in {"ipip" "ipv6"} and outer.ip.ttl < 10 and outer.ip.len > 100
    action: block
`;

const INNER_RULESET = `name: inner
rules:
  - id: to-victim
    expression: ip.dst == ${VICTIM}
    action: log
`;

const eth = (type: number, payload: Uint8Array) => ethernet(type, payload, { dst: DST_MAC, src: SRC_MAC });
const datagram = (n: number) => udp({ sport: 40000, dport: 53 }, new Uint8Array(n).fill(0x61));
const in4 = (dst: string, n = 32) => ipv4({ src: '10.1.0.1', dst, proto: IpProto.UDP }, datagram(n));
const in6 = (n: number) => ipv6({ src: 'fd00::1', dst: 'fd00::2', next: IpProto.UDP }, datagram(n));
const over4 = (src: string, dst: string, proto: number, inner: Uint8Array, ttl = 64) => eth(EtherType.IPV4, ipv4({ src, dst, proto, ttl }, inner));

/** [count, frame]: what is sent, in rounds so the kinds interleave. */
const KINDS: [number, Uint8Array][] = [
  // GRE to the victim, carrying a packet for someone else.
  [10, over4('198.18.0.1', VICTIM, IpProto.GRE, gre({ proto: EtherType.IPV4 }, in4('10.9.9.9')))],
  // GRE to someone else, carrying a packet for the victim.
  [6, over4('198.18.0.2', '203.0.113.8', IpProto.GRE, gre({ proto: EtherType.IPV4, key: 7 }, in4(VICTIM)))],
  // GRE over IPv6 to the victim's IPv6 address.
  [5, eth(EtherType.IPV6, ipv6({ src: '2001:db8:1::1', dst: '2001:db8:7::7', next: IpProto.GRE }, gre({ proto: EtherType.IPV4 }, in4('10.9.9.9'))))],
  // 4in4 and 6in4 with a low outer TTL: long (matched) and short (outer length <= 100).
  [8, over4('198.18.0.3', '203.0.113.9', IpProto.IPIP, in4('10.2.0.2', 200), 5)],
  [4, over4('198.18.0.3', '203.0.113.9', IpProto.IPV6, in6(200), 5)],
  [4, over4('198.18.0.3', '203.0.113.9', IpProto.IPV6, in6(4), 5)],
  // 4in4 with a normal TTL.
  [3, over4('198.18.0.3', '203.0.113.9', IpProto.IPIP, in4('10.2.0.2', 200))],
  // Plain packets to the victim and to others.
  [7, eth(EtherType.IPV4, ipv4({ src: '198.18.0.4', dst: VICTIM, proto: IpProto.UDP }, datagram(20)))],
  [5, eth(EtherType.IPV4, ipv4({ src: '198.18.0.9', dst: '203.0.113.20', proto: IpProto.UDP }, datagram(20)))],
];

function traffic(): { data: Uint8Array; t: number }[] {
  const out: Uint8Array[] = [];
  const left = KINDS.map(([n]) => n);
  while (left.some((n) => n > 0))
    KINDS.forEach(([, f], i) => {
      if ((left[i] as number) > 0) {
        out.push(f);
        left[i] = (left[i] as number) - 1;
      }
    });
  return out.map((data, i) => ({ data, t: (i * 0.3) / out.length }));
}

/** The what-if counts of a ruleset: rule id → packets matched. */
async function whatIf(pcap: string, rs: Ruleset): Promise<Record<string, number>> {
  const r = await runWhatIf(pcap, rs);
  return Object.fromEntries([...r.rules.map((x) => [x.id, x.matched.packets]), ...r.lists.map((l) => [`$${l.name}`, l.matched.packets])]);
}

describe('tunnelled traffic: outer.ip.* rules exact in the kernel, ip.* rules exact without a tunnel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-tun-'));
  const pcap = join(dir, 'tunnels.pcap');
  const frames = traffic();
  writePcap(pcap, frames);
  const outerRs = parseRuleset(OUTER_RULESET, 'tunnels.yaml');
  const innerRs = parseRuleset(INNER_RULESET, 'inner.yaml');
  let want: Record<string, number> = {};
  let outerOfInner = 0;
  let innerOfInner = 0;

  before(async () => {
    want = await whatIf(pcap, outerRs);
    [outerOfInner, innerOfInner] = (await filterCapture(pcap, [`outer.ip.dst == ${VICTIM}`, `ip.dst == ${VICTIM}`])).counts as [number, number];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the what-if counts are the ones the traffic was built for', () => {
    assert.deepEqual(want, { relays: 10 + 6 + 8 + 4 + 4 + 3, 'gre-victim': 10 + 5, 'ipip-low-ttl': 8 + 4 });
    // Palisade's ip.dst is the inner packet's; the outer header's is what a firewall sees.
    assert.deepEqual([outerOfInner, innerOfInner], [10 + 7, 6 + 7]);
  });

  it('nftables (netdev ingress): kernel counters equal the what-if for outer.ip.*; ip.dst counts the outer header', () => {
    const pair = new VethPair('tun');
    try {
      pair.create();
      const outer = exportNftables(outerRs, { hook: 'ingress', device: pair.ifB, table: 'pal_outer', priority: 0 });
      const inner = exportNftables(innerRs, { hook: 'ingress', device: pair.ifB, table: 'pal_inner', priority: -10 });
      assert.deepEqual([...outer.problems, ...inner.problems], []);
      pair.run('b', 'nft', ['-f', '-'], outer.text);
      pair.run('b', 'nft', ['-f', '-'], inner.text);
      pair.replay(pcap);
      const got = (table: string, map: typeof outer.map): Record<string, number> => {
        const j = JSON.parse(pair.run('b', 'nft', ['-j', 'list', 'table', 'netdev', table])) as {
          nftables: { rule?: { comment?: string; expr: Record<string, unknown>[] } }[];
        };
        const byTag = new Map<string, number>();
        for (const x of j.nftables) {
          const c = x.rule?.expr.find((e) => 'counter' in e) as { counter: { packets: number } } | undefined;
          if (x.rule?.comment && c) byTag.set(x.rule.comment, c.counter.packets);
        }
        const out: Record<string, number> = {};
        for (const m of map) {
          const k = m.kind === 'list' ? `$${m.id}` : m.id;
          out[k] = (out[k] ?? 0) + (byTag.get(m.tag) ?? Number.NaN);
        }
        return out;
      };
      assert.deepEqual(got('pal_outer', outer.map), want);
      assert.deepEqual(got('pal_inner', inner.map), { 'to-victim': outerOfInner });
    } finally {
      pair.destroy();
    }
  });

  it('iptables (raw PREROUTING): kernel counters equal the what-if for outer.ip.*; ip.dst counts the outer header', () => {
    const pair = new VethPair('tun');
    try {
      pair.create({ v6OnB: true });
      const inner = exportIptables(innerRs, { chain: 'PAL-INNER' });
      const outer = exportIptables(outerRs, { chain: 'PAL-OUTER' });
      assert.deepEqual([...outer.problems, ...inner.problems], []);
      pair.run('b', 'ipset', ['restore', '-exist'], outer.ipset);
      // The inner chain's jump comes first: it logs and lets everything on to the outer chain.
      for (const out of [inner, outer]) {
        pair.run('b', 'iptables-restore', ['--noflush'], out.iptables);
        pair.run('b', 'ip6tables-restore', ['--noflush'], out.ip6tables);
      }
      pair.replay(pcap);
      const byTag = new Map<string, number>();
      for (const fam of [4, 6] as const)
        for (const line of pair.run('b', fam === 4 ? 'iptables-save' : 'ip6tables-save', ['-c', '-t', 'raw']).split('\n')) {
          const m = /^\[(\d+):\d+\] -A (\S+) .*--comment "?([^"\s]+)"?/.exec(line);
          if (m) byTag.set(`${m[2]}|${fam}|${m[3]}`, Number(m[1]));
        }
      const got = (chain: string, map: typeof outer.map): Record<string, number> => {
        const out: Record<string, number> = {};
        for (const m of map) {
          const k = m.kind === 'list' ? `$${m.id}` : m.id;
          out[k] = (out[k] ?? 0) + (byTag.get(`${chain}|${m.family}|${m.tag}`) ?? Number.NaN);
        }
        return out;
      };
      assert.deepEqual(got('PAL-OUTER', outer.map), want);
      assert.deepEqual(got('PAL-INNER', inner.map), { 'to-victim': outerOfInner });
    } finally {
      pair.destroy();
    }
  });
});
