import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { exportRuleset, formatProblem } from '../../src/export/index.js';
import { parseRuleset } from '../../src/mitigate/ruleset.js';
import { VethPair } from './netns.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A ruleset touching every field and construct the exporters know. */
const WIDE = `name: wide
lists:
  office: { kind: allow, entries: [192.0.2.0/28, "2001:db8:1::/48"], match: either }
  bad: { kind: block, entries: [198.51.100.0/24, 198.51.100.9, "2001:db8:bad::/48"] }
  scanners: { entries: [203.0.113.0/24] }
rules:
  - id: r1
    expression: ip.src in $scanners and tcp.flags.syn and not tcp.flags.ack
    action: block
  - id: r2
    expression: udp.dstport in {53 123 1900 11211} and ip.len >= 512 and ip.ttl > 10
    action: block
  - id: r3
    expression: ip.dst in {203.0.113.5 203.0.113.6} and not tcp.dstport in {80 443}
    action: block
  - id: r4
    expression: icmp.type == 8 and icmp.code == 0 and ip.len > 1000
    action: block
  - id: r5
    expression: ip.proto in {"gre" "esp"} or ip.proto.num == 41
    action: block
  - id: r6
    expression: tcp.flags & 0x29 and tcp.srcport < 1024
    action: block
  - id: r7
    expression: ip.src != 10.1.2.3 and udp.srcport == 19
    action: log
  - id: r8
    expression: ip.version == 6 and udp.dstport == 443 and ip.dscp == 46
    action: allow
  - id: r9
    expression: tcp.dstport == 22 and not ip.src in $office
    action: rate_limit
    action_parameters: { rate: 5, period: minute, burst: 10, key: [ip.src, tcp.dstport], max_keys: 10000 }
  - id: r10
    expression: tcp.flags.reset
    action: rate_limit
    action_parameters: { rate: 100, burst: 50, key: ip.dst }
`;

describe('exporters: every output is accepted by the real tools', () => {
  const rs = parseRuleset(WIDE, 'wide.yaml');

  it('nftables: nft -c accepts prerouting, input and forward forms; no problems', () => {
    for (const hook of ['prerouting', 'input', 'forward'] as const) {
      const out = exportRuleset(rs, 'nftables', { nftables: { hook } });
      assert.deepEqual(out.problems, [], hook);
      const f = join(dir, `wide-${hook}.nft`);
      writeFileSync(f, out.text);
      execFileSync('nft', ['-c', '-f', f]);
      // Every rule carries a counter and a comment mapping it back.
      for (const line of out.text.split('\n').filter((l) => /\b(drop|accept|log prefix)\b/.test(l) && !l.includes('policy'))) {
        assert.match(line, /counter .*comment "palisade:/);
      }
    }
  });

  it('iptables: ipset restore and iptables-restore --test / ip6tables-restore --test accept it', () => {
    const out = exportRuleset(rs, 'iptables');
    assert.deepEqual(out.problems, []);
    const parts = out.parts as { ipset: string; iptables: string; ip6tables: string };
    const ns = new VethPair('exp');
    try {
      ns.create();
      ns.run('b', 'ipset', ['restore', '-exist'], parts.ipset);
      ns.run('b', 'iptables-restore', ['--test', '--noflush'], parts.iptables);
      ns.run('b', 'ip6tables-restore', ['--test', '--noflush'], parts.ip6tables);
      // The shell form applies cleanly too.
      const sh = ns.tryRun('b', 'sh', ['-e'], out.text);
      assert.equal(sh.status, 0, sh.stderr);
      assert.match(ns.run('b', 'iptables', ['-t', 'raw', '-S', 'PALISADE']), /--comment "?palisade:r1:0/);
    } finally {
      ns.destroy();
    }
    assert.match(parts.iptables, /-m hashlimit --hashlimit-above 5\/minute --hashlimit-burst 10 --hashlimit-mode srcip,dstport/);
    assert.match(parts.iptables, /-p icmp .*-m icmp --icmp-type 8\/0/);
    assert.match(parts.iptables, /--tcp-flags SYN,ACK SYN .*palisade:r1:0/);
    assert.match(parts.ip6tables, /-p ipv6-icmp .*-m icmp6 --icmpv6-type 8\/0/);
    assert.equal((parts.ipset.match(/^create pal_r3_/gm) ?? []).length, 1);
  });

  it('iptables: an exact TCP flags value reads the whole flags byte (the tcp match has no ECE/CWR)', () => {
    const ecn = parseRuleset('rules:\n  - id: ecn\n    expression: ip.dst == 192.0.2.77 and tcp.flags == 0xc2\n    action: block\n', 'ecn.yaml');
    const out = exportRuleset(ecn, 'iptables');
    assert.deepEqual(out.problems, []);
    const parts = out.parts as { iptables: string };
    assert.match(parts.iptables, /-p tcp ! -f -m u32 --u32 "0>>22&0x3C@12>>16&0xff=0xc2" -d 192\.0\.2\.77/);
    assert.doesNotMatch(parts.iptables, /--tcp-flags ALL/);
    const ns = new VethPair('ecn');
    try {
      ns.create();
      ns.run('b', 'iptables-restore', ['--test', '--noflush'], parts.iptables);
    } finally {
      ns.destroy();
    }
  });

  it('reports what a target cannot express, with the span, and leaves that rule out whole', () => {
    const bad = parseRuleset(
      `rules:
  - id: ok
    expression: tcp.dstport == 80
    action: block
  - id: paylen
    expression: tcp.dstport == 80 and payload.len > 1000
    action: block
  - id: hdr6
    expression: ip.hdr_len > 20 and ip.src in {2001:db8::/32}
    action: block
  - id: overlap
    expression: tcp.dstport == 80 or ip.ttl < 5
    action: log
  - id: window
    expression: tcp.window == 0
    action: block
  - id: frag6
    expression: ip.dst == 2001:db8::5 and not tcp.dstport == 80
    action: block
  - id: flags6
    expression: ip.dst == 2001:db8::5 and tcp.flags == 0x02
    action: block
`,
      'bad.yaml',
    );
    const nft = exportRuleset(bad, 'nftables');
    assert.deepEqual(
      nft.problems.map((p) => [p.rule, p.span?.start, p.span?.end]),
      [
        ['paylen', 22, 40],
        ['hdr6', 0, 15],
        ['overlap', 0, 31],
      ],
    );
    assert.match(nft.problems[0]?.reason ?? '', /payload\.len cannot be expressed in nftables/);
    assert.match(nft.problems[2]?.reason ?? '', /overlapping/);
    assert.doesNotMatch(nft.text, /palisade:(paylen|hdr6|overlap)/);
    assert.match(nft.text, /palisade:ok:0/);
    assert.match(nft.text, /tcp window 0 counter drop/);
    assert.match(nft.text, /frag frag-off != 0 ip6 daddr 2001:db8::5 counter drop comment "palisade:frag6:1"/);
    const f = join(dir, 'bad.nft');
    writeFileSync(f, nft.text);
    execFileSync('nft', ['-c', '-f', f]);
    const ipt = exportRuleset(bad, 'iptables');
    assert.deepEqual(
      ipt.problems.map((p) => [p.rule, p.span?.start]),
      [
        ['paylen', 22],
        ['hdr6', 0],
        ['overlap', 0],
        ['window', 0],
        ['frag6', 0],
        ['flags6', 26],
      ],
    );
    // ip6tables' tcp match cannot see ECE/CWR: an exact flags value would be widened, so it is reported.
    assert.match(ipt.problems[5]?.reason ?? '', /ECE\/CWR/);
    assert.equal(
      formatProblem(nft.problems[0] as never, bad),
      'bad.yaml:5: rule paylen: payload.len cannot be expressed in nftables\n    tcp.dstport == 80 and payload.len > 1000\n                          ^^^^^^^^^^^^^^^^^^',
    );
  });

  it('flowspec: discard routes for what keeps its meaning, problems for the rest', () => {
    const fs = parseRuleset(
      `lists:
  bad: { kind: block, entries: [198.51.100.0/24] }
rules:
  - id: ntp
    expression: ip.dst == 203.0.113.5 and udp.srcport == 123 and ip.len > 468
    action: block
  - id: syn
    expression: tcp.flags.syn and not tcp.flags.ack and tcp.dstport in {80 443}
    action: block
  - id: dns-cap
    expression: ip.dst == 203.0.113.53 and udp.dstport == 53
    action: rate_limit
    action_parameters: { rate: 1250000, unit: bytes, key: none }
  - id: per-src
    expression: icmp.type == 8
    action: rate_limit
    action_parameters: { rate: 10, burst: 10 }
  - id: web
    expression: tcp.dstport == 443
    action: allow
`,
      'fs.yaml',
    );
    const out = exportRuleset(fs, 'flowspec');
    assert.equal(
      out.text,
      `# Generated by palisade export --to flowspec from ruleset fs.yaml (ExaBGP text API)
announce flow route { match { source 198.51.100.0/24; } then { discard; community [ 65535:666 ]; } }
announce flow route { match { protocol [ =17 ]; source-port [ =123 ]; packet-length [ >=469&<=65535 ]; destination 203.0.113.5/32; } then { discard; } }
announce flow route { match { protocol [ =6 ]; destination-port [ =80 =443 ]; tcp-flags [ =syn&!ack ]; } then { discard; } }
announce flow route { match { destination ::/0; protocol [ =6 ]; destination-port [ =80 =443 ]; tcp-flags [ =syn&!ack ]; } then { discard; } }
announce flow route { match { protocol [ =17 ]; destination-port [ =53 ]; destination 203.0.113.53/32; } then { rate-limit 1250000; } }
`,
    );
    assert.deepEqual(
      out.problems.map((p) => p.rule),
      ['per-src', 'web'],
    );
    assert.match(out.problems[0]?.reason ?? '', /per source or per key/);
  });

  it('cloudflare: Magic Firewall and WAF rulesets with lists; extension fields are reported with spans', () => {
    const out = exportRuleset(rs, 'cloudflare');
    const j = (
      out.parts as {
        json: {
          lists: { name: string; items: { ip: string }[] }[];
          rulesets: { phase: string; rules: { action: string; expression: string; ref: string }[] }[];
        };
      }
    ).json;
    assert.deepEqual(
      j.lists.map((l) => [l.name, l.items.map((i) => i.ip)]),
      [
        ['office', ['192.0.2.0/28', '2001:db8:1::/48']],
        ['bad', ['198.51.100.0/24', '2001:db8:bad::/48']],
        ['scanners', ['203.0.113.0/24']],
      ],
    );
    const magic = j.rulesets.find((r) => r.phase === 'magic_transit');
    assert.deepEqual(
      magic?.rules.map((r) => [r.action, r.ref]),
      [
        ['skip', 'palisade_list_office'],
        ['block', 'palisade_list_bad'],
        ['block', 'palisade_r1'],
        ['block', 'palisade_r2'],
        ['block', 'palisade_r3'],
        ['block', 'palisade_r4'],
        ['block', 'palisade_r6'],
        ['log', 'palisade_r7'],
      ],
    );
    assert.equal(magic?.rules[0]?.expression, 'ip.src in $office or ip.dst in $office');
    const mf = out.problems.filter((p) => p.reason.startsWith('Magic Firewall'));
    assert.deepEqual(
      mf.map((p) => [p.rule, p.span?.start ?? null, p.span?.end ?? null]),
      [
        ['r5', 29, 41],
        ['r8', 0, 10],
        ['r8', 43, 50],
        ['r9', null, null],
        ['r10', null, null],
      ],
    );
    assert.match(mf[0]?.reason ?? '', /ip\.proto\.num is a Palisade extension field/);
    const waf = j.rulesets.find((r) => r.phase === 'http_request_firewall_custom');
    assert.deepEqual(
      waf?.rules.map((r) => r.expression),
      ['ip.src in $bad'],
    );
  });
});

describe('palisade export (CLI)', () => {
  const file = join(dir, 'wide.yaml');
  writeFileSync(file, WIDE);
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', ...args], { encoding: 'utf8' });

  it('prints the target text; exit 0 when everything was exported', () => {
    const r = cli('export', '--to', 'nftables', file);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^# Generated by palisade export --to nftables/);
    assert.equal(r.stderr, '');
  });

  it('exit 1 with problems on stderr (rule, reason, caret); --json carries them too', () => {
    const r = cli('export', '--to', 'flowspec', file, '--json');
    assert.equal(r.status, 1);
    const j = JSON.parse(r.stdout);
    assert.equal(j.target, 'flowspec');
    assert.ok(j.problems.length > 0);
    assert.match(r.stderr, /not exported: .*wide\.yaml:\d+: rule r\d+: /);
    assert.match(r.stderr, /\n {4}\^+/);
  });

  it('usage errors: exit 2', () => {
    assert.equal(cli('export', file).status, 2);
    assert.equal(cli('export', '--to', 'pf', file).status, 2);
    assert.equal(cli('export', '--to', 'nftables', '--hook', 'ingress', file).status, 2);
  });

  it('accepts a ruleset given as data (what detection passes)', () => {
    const out = exportRuleset({ rules: [{ id: 'syn', expression: 'tcp.flags.syn and ip.dst == 203.0.113.5', action: 'block' }] }, 'nftables');
    assert.deepEqual(out.problems, []);
    assert.match(out.text, /tcp flags & 0x2 != 0 ip daddr 203.0.113.5 counter drop comment "palisade:syn:0"/);
  });
});
