import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildMitigation } from '../../src/export/mitigation.js';
import { parseRuleset } from '../../src/mitigate/ruleset.js';

describe('buildMitigation (for detection)', () => {
  it('a signature becomes a one-rule ruleset plus nftables and iptables text', () => {
    const m = buildMitigation({ id: 'atk-1', expression: 'ip.dst == 203.0.113.5 and udp.srcport == 123 and ip.len > 400' });
    assert.deepEqual(m.problems, []);
    assert.equal(parseRuleset(JSON.stringify(m.ruleset)).rules[0]?.action, 'block');
    assert.match(m.nftables, /udp sport 123 ip length 401-65535 ip daddr 203\.0\.113\.5 counter drop comment "palisade:atk-1:0"/);
    assert.match(m.iptables, /-p udp -m udp --sport 123 -m length --length 401:65535 -d 203\.0\.113\.5 -m comment --comment palisade:atk-1:0 -j DROP/);
  });

  it('rate limits per source; problems come back with spans', () => {
    const m = buildMitigation({
      id: 'syn',
      expression: 'tcp.flags.syn and payload.len > 0',
      action: 'rate_limit',
      rate_limit: { rate: 100, burst: 200, key: 'ip.src' },
    });
    assert.deepEqual(
      m.problems.map((p) => [p.target, p.problem.span?.start]),
      [
        ['nftables', 18],
        ['iptables', 18],
      ],
    );
    const bad = buildMitigation({ expression: 'tcp.dstport == ' });
    assert.equal(bad.problems[0]?.target, 'ruleset');
    assert.equal(bad.nftables, '');
  });
});
