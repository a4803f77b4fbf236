/**
 * Hot paths do not allocate: longest-prefix lookups and the rule engine's per-packet decision
 * run a million times without a single garbage collection (after warm-up, so the code is
 * optimised and numbers are unboxed).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IpTrie } from '../../src/core/net/trie.js';
import { RuleEngine } from '../../src/mitigate/engine.js';
import { parseRuleset } from '../../src/mitigate/ruleset.js';
import { gcsDuring } from '../helpers/gc.js';
import { prng } from '../helpers/prng.js';
import { decode, frame } from './packets.js';

describe('no allocation on the hot path', () => {
  it('IpTrie lookups (IPv4 and IPv6)', async () => {
    const r = prng(3);
    const t = new IpTrie<number>();
    const b = new Uint8Array(16);
    for (let i = 0; i < 50_000; i++) {
      t.insert4(Math.floor(r() * 2 ** 32), 8 + Math.floor(r() * 25), i);
      for (let j = 0; j < 16; j++) b[j] = Math.floor(r() * 256);
      t.insert6(b, 0, 16 + Math.floor(r() * 113), i);
    }
    t.compile();
    const a4 = new Uint32Array(4096).map(() => Math.floor(r() * 2 ** 32));
    const a6 = new Uint8Array(4096 * 16).map(() => Math.floor(r() * 256));
    let sink = 0;
    const loop = (): void => {
      let s = 0;
      for (let i = 0; i < 1_000_000; i++) {
        const k = i & 4095;
        s = (s + t.lookup4(a4[k] as number) + t.lookup6(a6, k * 16)) | 0;
      }
      sink = s;
    };
    loop();
    loop();
    assert.equal(await gcsDuring(loop), 0);
    assert.ok(Number.isFinite(sink));
  });

  it('RuleEngine.process over decoded packets (rules, lists, keyed rate limit)', async () => {
    const rs = parseRuleset(`
lists:
  drop: { kind: block, entries: [198.51.100.0/24] }
rules:
  - id: ntp
    expression: udp.srcport == 123 and ip.len > 400
    action: block
  - id: syn
    expression: tcp.flags.syn and not tcp.flags.ack
    action: rate_limit
    action_parameters: { rate: 100, burst: 10, key: ip.src, max_keys: 64 }
  - id: v6
    expression: ip.src in {2001:db8::/32} and tcp.dstport in {80 443}
    action: log
`);
    const e = new RuleEngine(rs, { maxPoints: 1 << 20 });
    const views = [
      decode(frame({ src: '10.0.0.1', dst: '10.0.0.2', proto: 'tcp', flags: 0x02 })),
      decode(frame({ src: '10.0.0.3', dst: '10.0.0.2', proto: 'udp', sport: 123, payload: 500 })),
      decode(frame({ src: '198.51.100.3', dst: '10.0.0.2', proto: 'udp' })),
      decode(frame({ src: '2001:db8::1', dst: '2001:db8::2', proto: 'tcp', dport: 443, flags: 0x18 })),
    ];
    let sink = 0;
    let base = 0;
    const loop = (): void => {
      let s = 0;
      for (let i = 0; i < 1_000_000; i++) {
        const v = views[i & 3] as (typeof views)[number];
        // 1 µs apart, one second per loop; small integers, so the test itself stores no boxed doubles.
        v.tsSec = 1000 + base;
        v.tsNsec = i * 1000;
        s = (s + e.process(v).verdict) | 0;
      }
      base += 1;
      sink = s;
    };
    // Warm-up crosses the Smi and int32 ranges of the capture clock, so the measured loop runs optimised code.
    loop();
    loop();
    loop();
    assert.equal(await gcsDuring(loop), 0);
    assert.ok(sink > 0);
  });
});
