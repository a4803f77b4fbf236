import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter, RuleEngine, Verdict } from '../../src/mitigate/engine.js';
import { parseRuleset, RulesetError } from '../../src/mitigate/ruleset.js';
import { compilePacketRule, ExprError, parseExpr } from '../../src/rules/packet-ir.js';
import { decode, frame } from './packets.js';

function problems(text: string): string[] {
  try {
    parseRuleset(text, 'r.yaml');
  } catch (e) {
    assert.ok(e instanceof RulesetError, String(e));
    return e.problems.map((p) => `${p.line}:${p.column} ${p.message}`);
  }
  assert.fail('expected the ruleset to be refused');
}

const match = (expr: string, spec: Parameters<typeof frame>[0]): boolean => {
  parseExpr(expr); // inside the packet IR
  return compilePacketRule(expr, null)(decode(frame(spec)));
};

describe('expressions (packet subset)', () => {
  it('evaluates comparisons, sets, flags, & and boolean structure with missing-value semantics', () => {
    const syn = { src: '198.51.100.7', dst: '203.0.113.5', proto: 'tcp', dport: 443, flags: 0x02 } as const;
    const udp = { src: '198.51.100.7', dst: '203.0.113.5', proto: 'udp', sport: 123, dport: 4444, payload: 468 } as const;
    assert.ok(match('tcp.flags.syn and not tcp.flags.ack and tcp.dstport == 443', syn));
    assert.ok(match('tcp.dstport in {80 443 8000..8080}', syn));
    assert.ok(!match('tcp.dstport in {80 8000..8080}', syn));
    assert.ok(match('tcp.flags & 0x12', syn));
    assert.ok(match('tcp.flags == 0x02 && ip.src in {198.51.100.0/24}', syn));
    assert.ok(match('ip.proto == "tcp"', syn));
    assert.ok(match('udp.srcport == 123 and ip.len > 400', udp));
    assert.ok(!match('udp.srcport == 123 and ip.len > 500', udp));
    // Missing values: tcp.dstport of a UDP packet compares false, even with !=.
    assert.ok(!match('tcp.dstport != 80', udp));
    assert.ok(match('not tcp.dstport == 80', udp));
    // IPv4 field against an IPv6 literal: only != is true.
    assert.ok(match('ip.src != 2001:db8::1', syn));
    assert.ok(!match('ip.src == 2001:db8::1', syn));
    assert.ok(match('ip.src == 2001:db8::1', { src: '2001:db8::1', dst: '2001:db8::2', proto: 'udp' }));
    assert.ok(match('icmp.type == 128', { src: '2001:db8::1', dst: '2001:db8::2', proto: 'icmp' }));
    assert.ok(match('ip.ttl < 10 xor ip.ttl < 20', { ...syn, ttl: 15 }));
    assert.ok(!match('ip.ttl < 10 xor ip.ttl < 20', { ...syn, ttl: 5 }));
    assert.ok(match('ip.dst == 203.0.113.5 or ip.dst == 203.0.113.6', syn));
    assert.ok(match('tcp.dstport == 0x1bb and tcp.dstport == 0673', syn));
  });

  it('refuses what it cannot evaluate, with spans', () => {
    const err = (s: string): [string, number, number] => {
      try {
        parseExpr(s);
      } catch (e) {
        assert.ok(e instanceof ExprError);
        return [e.cls, e.start, e.end];
      }
      assert.fail(`accepted: ${s}`);
    };
    assert.deepEqual(err('tcp.dstport == 80 and http.host == "x"'), ['unknown_field', 22, 31]);
    // lower() exists in the Rules language; the mitigation IR cannot express it.
    assert.deepEqual(err('lower(ip.proto) == "tcp"'), ['unsupported', 0, 5]);
    assert.deepEqual(err('trim(ip.proto) == "tcp"'), ['unknown_function', 0, 4]);
    assert.deepEqual(err('ip.proto contains "t"'), ['unsupported', 9, 17]);
    assert.deepEqual(err('tcp.flags.syn == 1'), ['type', 14, 16]);
    assert.deepEqual(err('tcp.dstport in {80, 443}'), ['parse', 18, 19]);
    assert.throws(
      () => parseExpr('ip.src in $nope', { has: () => false }),
      (e: ExprError) => e.cls === 'unknown_list' && e.start === 10,
    );
    assert.equal(err('ip.src == 10.0.0.0/8')[0], 'parse');
    assert.equal(err('(tcp.dstport == 80')[0], 'parse');
    assert.equal(err('')[0], 'parse');
  });
});

describe('ruleset files', () => {
  it('loads YAML with lists and rules', () => {
    const rs = parseRuleset(
      `name: edge
lists:
  office: { kind: allow, entries: [192.0.2.0/24] }
  drop: { kind: block, entries: ["198.51.100.0/24", "2001:db8:bad::/48"] }
rules:
  - id: syn
    description: SYNs
    expression: tcp.flags.syn and not tcp.flags.ack
    action: rate_limit
    action_parameters: { rate: 10, burst: 5, key: ip.src }
  - id: ntp
    expression: udp.srcport == 123
    action: block
    enabled: false
`,
      'r.yaml',
    );
    assert.equal(rs.name, 'edge');
    assert.deepEqual(
      rs.rules.map((r) => [r.id, r.action, r.enabled, r.line]),
      [
        ['syn', 'rate_limit', true, 6],
        ['ntp', 'block', false, 11],
      ],
    );
    assert.deepEqual(rs.rules[0]?.rateLimit, { rate: 10, period: 'second', unit: 'packets', burst: 5, key: ['ip.src'], maxKeys: 65536 });
    assert.deepEqual(
      rs.listDefs.map((l) => [l.name, l.kind]),
      [
        ['office', 'allow'],
        ['drop', 'block'],
      ],
    );
  });

  it('loads JSON (a bare array of rules too)', () => {
    const rs = parseRuleset('{"rules":[{"id":"a","expression":"ip.ttl < 5","action":"log"}]}');
    assert.equal(rs.rules[0]?.action, 'log');
    const arr = parseRuleset('[{"id":"a","expression":"ip.ttl < 5","action":"block"}]');
    assert.equal(arr.rules.length, 1);
  });

  it('names the line (and column) of every problem', () => {
    const text = `rules:
  - id: a
    expression: tcp.dstport == 80
    action: drop
  - id: b
    expression: tcp.dstport == 80 and http.host == "x"
    action: block
  - id: c
    expression: ip.src in $missing
    action: block
  - id: a
    expression: ip.ttl < 5
    action: rate_limit
    action_parameters: { rate: -1, unit: furlongs, key: http.host, colour: red }
  - id: e
    expression: ip.ttl < 5
    action: block
    action_parameters: { rate: 1 }
    bogus: 1
`;
    const ps = problems(text);
    assert.deepEqual(
      ps.map((p) => p.split(' ')[0]),
      ['4:13', '6:39', '9:27', '11:9', '14:68', '14:32', '14:42', '14:57', '19:5', '18:24'],
    );
    assert.match(ps[0] as string, /action must be one of block, allow, log, rate_limit/);
    assert.match(ps[1] as string, /unknown field "http.host" in the packet scheme/);
    assert.match(ps[2] as string, /no list named \$missing/);
    assert.match(ps[3] as string, /used twice/);
    assert.match(ps.join('\n'), /rate must be a positive integer/);
    assert.match(ps.join('\n'), /cannot key a rate limit on "http.host"/);
    assert.deepEqual(problems('rules: [\n  {id: a,\n'), problems('rules: [\n  {id: a,\n'));
    assert.match(problems('rules:\n  - id: a\n    id: b\n')[0] as string, /^3:5 .*[Mm]ap keys must be unique/);
    assert.match(problems('name: x\n')[0] as string, /no "rules" list/);
  });
});

describe('rule engine', () => {
  const rs = parseRuleset(`
lists:
  office: { kind: allow, entries: [192.0.2.0/24] }
  drop: { kind: block, entries: [198.51.100.0/24] }
  watch: { entries: [203.0.113.0/24] }
rules:
  - id: log-watch
    expression: ip.src in $watch
    action: log
  - id: allow-dns
    expression: udp.dstport == 53
    action: allow
  - id: block-udp
    expression: ip.proto == "udp"
    action: block
  - id: syn-limit
    expression: tcp.flags.syn
    action: rate_limit
    action_parameters: { rate: 2, burst: 3, key: ip.src }
  - id: never
    expression: ip.ttl == 1
    action: block
    enabled: false
`);

  it('lists first (allow wins), then rules in order: log continues, allow and block stop', () => {
    const e = new RuleEngine(rs);
    const V = (spec: Parameters<typeof frame>[0]) => {
      const d = e.process(decode(frame(spec)));
      return [d.verdict, d.rule < 0 ? (d.list?.name ?? null) : rs.rules[d.rule]?.id];
    };
    assert.deepEqual(V({ src: '192.0.2.1', dst: '10.0.0.1', proto: 'udp' }), [Verdict.PASS, 'office']);
    assert.deepEqual(V({ src: '198.51.100.1', dst: '10.0.0.1', proto: 'udp' }), [Verdict.DROP, 'drop']);
    assert.deepEqual(V({ src: '203.0.113.1', dst: '10.0.0.1', proto: 'udp', dport: 53 }), [Verdict.PASS, 'allow-dns']);
    assert.deepEqual(V({ src: '203.0.113.1', dst: '10.0.0.1', proto: 'udp', dport: 54 }), [Verdict.DROP, 'block-udp']);
    assert.deepEqual(V({ src: '203.0.113.1', dst: '10.0.0.1', proto: 'icmp', ttl: 1 }), [Verdict.PASS, null]);
    const s = Object.fromEntries(e.ruleStats().map((r) => [r.id, [r.matched.packets, r.dropped.packets, r.passed.packets]]));
    assert.deepEqual(s, { 'log-watch': [3, 0, 0], 'allow-dns': [1, 0, 1], 'block-udp': [1, 1, 0], 'syn-limit': [0, 0, 0], never: [0, 0, 0] });
    assert.deepEqual(e.totals.dropped.packets, 2);
    assert.deepEqual(e.totals.passed.packets, 3);
  });

  it('rate limits per key with nftables token-bucket semantics', () => {
    const e = new RuleEngine(rs);
    const verdicts: number[] = [];
    // Source A: 6 SYNs within 0.1 s: burst 3 passes, the rest is limited.
    for (let i = 0; i < 6; i++) verdicts.push(e.process(decode(frame({ src: '10.0.0.1', dst: '10.9.9.9', proto: 'tcp' }), i * 0.02)).verdict);
    // Source B is keyed separately.
    verdicts.push(e.process(decode(frame({ src: '10.0.0.2', dst: '10.9.9.9', proto: 'tcp' }), 0.12)).verdict);
    // After 1 s source A has regained 2 tokens (rate 2/s).
    for (let i = 0; i < 3; i++) verdicts.push(e.process(decode(frame({ src: '10.0.0.1', dst: '10.9.9.9', proto: 'tcp' }), 1.1 + i * 0.001)).verdict);
    assert.deepEqual(verdicts, [0, 0, 0, 2, 2, 2, 0, 0, 0, 2]);
    const st = e.ruleStats().find((r) => r.id === 'syn-limit');
    assert.equal(st?.matched.packets, 10);
    assert.equal(st?.rate_limited.packets, 4);
    const tl = e.getTimeline();
    assert.deepEqual(
      tl.points.map((p) => [p.t, p.passed, p.rate_limited]),
      [
        [0, 4, 3],
        [1, 2, 1],
      ],
    );
  });

  it('the key table is bounded: least recently seen keys are evicted', () => {
    const rl = new RateLimiter({ rate: 1, period: 'second', unit: 'packets', burst: 1, key: ['ip.src'], maxKeys: 8 });
    for (let i = 0; i < 1000; i++) rl.conform(decode(frame({ src: `10.0.${i >> 8}.${i & 255}`, dst: '10.9.9.9', proto: 'tcp' })), i, 40);
    assert.equal(rl.size, 8);
    assert.equal(rl.evictions, 992);
    // A recent key is still tracked (its bucket is empty: limited); an old one starts afresh.
    assert.equal(rl.conform(decode(frame({ src: '10.0.3.231', dst: '10.9.9.9', proto: 'tcp' })), 999.5, 40), false);
    assert.equal(rl.conform(decode(frame({ src: '10.0.0.0', dst: '10.9.9.9', proto: 'tcp' })), 999.5, 40), true);
  });

  it('byte rate limits: capacity is one period of rate plus burst, cost is the IP length', () => {
    const rl = new RateLimiter({ rate: 1000, period: 'second', unit: 'bytes', burst: 500, key: [], maxKeys: 1 });
    const v = decode(frame({ src: '10.0.0.1', dst: '10.9.9.9', proto: 'udp', payload: 472 }));
    assert.equal(v.ipLen, 500);
    const got = [0, 1, 2, 3].map(() => rl.conform(v, 0, v.ipLen));
    assert.deepEqual(got, [true, true, true, false]);
  });
});
