/**
 * Exporting rules on the outermost IP header (outer.ip.*, scheme/packet.ts). Firewalls and
 * routers do not decode tunnels, so their ip header IS the outermost one: a rule on outer.ip.*
 * alone is exported exactly as the same rule on ip.* would be (normalize.ts toOutermost), a rule
 * mixing outer.ip.* with inner fields (or with a rate-limit key, all inner) is refused with the
 * span of the inner field, and Magic Firewall, which has no outer-header fields, refuses them.
 * The kernel side of this is test/export/kernel-tunnels.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { exportRuleset, TARGETS } from '../../src/export/index.js';
import { packetScheme } from '../../src/scheme/packet.js';
import { fieldsWith } from '../../src/scheme/types.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-tunnels-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ex = (target: (typeof TARGETS)[number], rules: { id: string; expression: string; action?: string; action_parameters?: Record<string, unknown> }[]) =>
  exportRuleset({ name: 't', rules: rules.map((r) => ({ action: 'block', ...r })) }, target, { cloudflare: { phases: ['magic'] } });

/** Tests on each outer field (F), made again on its inner counterpart. */
const CASES: Record<string, string[]> = {
  'outer.ip.src': ['F == 192.0.2.1', 'F != 2001:db8::1', 'F in {192.0.2.0/24 2001:db8::/48 198.51.100.1..198.51.100.9}', 'F in $relays'],
  'outer.ip.dst': ['F == 2001:db8::7', 'F in {203.0.113.0/24}', 'not F in $relays'],
  'outer.ip.proto': ['F == "gre"', 'F in {"ipip" "ipv6" "udp"}', 'F != "gre"'],
  'outer.ip.proto.num': ['F == 47', 'F in {4 41}'],
  'outer.ip.version': ['F == 6', 'F != 4'],
  'outer.ip.ttl': ['F < 10', 'F in {1..5 250..255}'],
  'outer.ip.len': ['F > 1000', 'not F in {100..200}'],
};

describe('outer.ip.* in the exporters', () => {
  it('each outer field is exported exactly as its ip.* counterpart, by the targets the catalogue names', () => {
    const lists = { relays: { entries: ['198.18.0.0/15', '2001:db8:aa::/48'] } };
    const wrong: string[] = [];
    for (const f of fieldsWith(packetScheme, 'ir').filter((x) => x.name.startsWith('outer.'))) {
      assert.ok(CASES[f.name], `cases for ${f.name}`);
      for (const test of CASES[f.name] ?? []) {
        for (const target of ['nftables', 'iptables', 'flowspec'] as const) {
          const rs = (field: string) => exportRuleset({ name: 't', lists, rules: [{ id: 'r', expression: test.replace('F', field), action: 'block' }] }, target);
          const outer = rs(f.name);
          const inner = rs(f.name.slice('outer.'.length));
          const declared = f.caps.targets?.includes(target) ?? false;
          const why = (r: typeof outer) => r.problems.map((p) => `${p.span?.start}-${p.span?.end} ${p.reason}`);
          if (!declared && outer.problems.length === 0) wrong.push(`${f.name} ${test} ${target}: exported, catalogue says no`);
          // The same text, or the same refusal (naming the field as written, its span widened by "outer.").
          else if (declared && outer.text !== inner.text) wrong.push(`${f.name} ${test} ${target}: text differs`);
          else if (declared && outer.problems.length > 0) {
            const shifted = inner.problems.map((p) => `${p.span?.start}-${(p.span?.end ?? 0) + 'outer.'.length} ${p.reason.replace(f.name.slice('outer.'.length), f.name)}`);
            if (JSON.stringify(why(outer)) !== JSON.stringify(shifted)) wrong.push(`${f.name} ${test} ${target}: ${why(outer)} vs ${shifted}`);
          }
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('a GRE flood on a victim: nftables, iptables and Flowspec match the outer header', () => {
    const rule = [{ id: 'gre', expression: 'outer.ip.dst == 203.0.113.7 and outer.ip.proto == "gre"' }];
    const nft = ex('nftables', rule);
    assert.deepEqual(nft.problems, []);
    assert.match(nft.text, /meta nfproto ipv4 meta l4proto 47 ip daddr 203\.0\.113\.7 counter drop comment "palisade:gre:0"/);
    const f = join(dir, 'gre.nft');
    writeFileSync(f, nft.text);
    execFileSync('nft', ['-c', '-f', f]);
    const ipt = ex('iptables', rule);
    assert.deepEqual(ipt.problems, []);
    assert.match((ipt.parts as { iptables: string }).iptables, /-A PALISADE -p 47 -d 203\.0\.113\.7 -m comment --comment palisade:gre:0 -j DROP/);
    assert.doesNotMatch((ipt.parts as { ip6tables: string }).ip6tables, /palisade:gre/);
    const fs = ex('flowspec', rule);
    assert.deepEqual(fs.problems, []);
    assert.match(fs.text, /announce flow route \{ match \{ protocol \[ =47 \]; destination 203\.0\.113\.7\/32; \} then \{ discard; \} \}/);
    const ttl = ex('nftables', [{ id: 'ttl', expression: 'outer.ip.ttl < 10 and outer.ip.proto in {"ipip" "ipv6"}' }]);
    assert.match(ttl.text, /meta nfproto ipv4 meta l4proto \{ 4, 41 \} ip ttl 0-9 counter drop/);
    assert.match(ttl.text, /meta nfproto ipv6 meta l4proto \{ 4, 41 \} ip6 hoplimit 0-9 counter drop/);
  });

  it('rules on inner fields are exported as before (exact for traffic without a tunnel)', () => {
    const nft = ex('nftables', [{ id: 'in', expression: 'ip.dst == 203.0.113.7' }]);
    assert.match(nft.text, /ip daddr 203\.0\.113\.7 counter drop/);
  });

  it('a rule mixing outer.ip.* and inner fields is refused by every exporter, at the inner field', () => {
    const rules = [
      { id: 'mix', expression: 'outer.ip.dst == 203.0.113.7 and ip.dst == 10.1.0.2' },
      { id: 'ports', expression: 'outer.ip.proto == "gre" and (udp.dstport == 53 or tcp.dstport == 53)' },
      { id: 'either', expression: 'ip.src == 192.0.2.1 or outer.ip.src == 192.0.2.1' },
      { id: 'ok', expression: 'outer.ip.dst == 203.0.113.7' },
    ];
    for (const target of ['nftables', 'iptables', 'flowspec'] as const) {
      const out = ex(target, rules);
      assert.deepEqual(
        out.problems.map((p) => [p.rule, p.span?.start, p.span?.end]),
        [
          ['mix', 32, 38],
          ['ports', 29, 40],
          ['either', 0, 6],
        ],
        target,
      );
      assert.match(
        out.problems[0]?.reason ?? '',
        /ip\.dst is a field of the innermost packet and outer\.ip\.dst of the outermost IP header; a firewall sees only the outermost header/,
      );
      assert.match(out.text, /palisade:ok:0|203\.0\.113\.7\/32/);
      assert.doesNotMatch(out.text, /palisade:(mix|ports|either)/);
    }
  });

  it('a rate limit keyed on an inner field cannot go with outer.ip.* (the firewall would key on the outer header)', () => {
    const rules = [
      { id: 'rl', expression: 'outer.ip.proto == "gre"', action: 'rate_limit', action_parameters: { rate: 100, burst: 100, key: 'ip.src' } },
      { id: 'rl-none', expression: 'outer.ip.version == 4 and outer.ip.proto == "gre"', action: 'rate_limit', action_parameters: { rate: 100, burst: 100, key: 'none' } },
    ];
    for (const target of ['nftables', 'iptables'] as const) {
      const out = ex(target, rules);
      assert.deepEqual(
        out.problems.map((p) => [p.rule, p.span?.start, p.span?.end]),
        [['rl', 0, 14]],
        target,
      );
      assert.match(out.problems[0]?.reason ?? '', /rate-limit key ip\.src is a field of the innermost packet/);
    }
  });

  it('Magic Firewall has no outer-header fields: reported with their spans', () => {
    const out = ex('cloudflare', [{ id: 'gre', expression: 'outer.ip.dst == 203.0.113.7 and outer.ip.proto == "gre"' }]);
    assert.deepEqual(
      out.problems.map((p) => [p.rule, p.span?.start, p.span?.end]),
      [
        ['gre', 0, 12],
        ['gre', 32, 46],
      ],
    );
    assert.match(
      out.problems[0]?.reason ?? '',
      /^Magic Firewall: outer\.ip\.dst is a Palisade extension field \(the outermost IP header of a tunnelled packet\); Magic Firewall has no fields for the outer header$/,
    );
  });

  it('tunnel and its kinds are for the mitigation engine only: every exporter refuses them', () => {
    for (const name of ['tunnel', 'tunnel.gre', 'tunnel.ipip', 'tunnel.vxlan', 'tunnel.teredo']) {
      for (const target of TARGETS) assert.equal(ex(target, [{ id: 't', expression: `not ${name}` }]).problems.length, 1, `${name} ${target}`);
    }
  });
});
