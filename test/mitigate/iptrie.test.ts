import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAddr, formatPrefix, parsePrefixes, parseV4Bytes, parseV6Bytes, rangeToPrefixes } from '../../src/core/net/prefix.js';
import { IpTrie } from '../../src/core/net/trie.js';
import { prng } from '../helpers/prng.js';

function v4(s: string): number {
  const b = parseV4Bytes(s);
  assert.ok(b);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

/** Brute-force oracle: longest prefix containing the address, later insert wins on ties. */
function oracle4(ps: { a: number; len: number; id: number }[], addr: number): number {
  let best = -1;
  let bestLen = -1;
  for (const p of ps) {
    const mask = p.len === 0 ? 0 : (0xffffffff << (32 - p.len)) >>> 0;
    if ((addr & mask) >>> 0 === p.a && p.len >= bestLen) {
      best = p.id;
      bestLen = p.len;
    }
  }
  return best;
}

function big16(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

describe('prefix text', () => {
  it('parses IPv4, IPv6, CIDR and ranges', () => {
    assert.deepEqual(parseV6Bytes('::1'), Uint8Array.from([...new Array(15).fill(0), 1]));
    assert.equal(formatAddr(6, parseV6Bytes('2001:DB8:0:0:0::1') as Uint8Array), '2001:db8::1');
    assert.equal(formatAddr(6, parseV6Bytes('::ffff:192.0.2.1') as Uint8Array), '::ffff:c000:201');
    assert.equal(parseV6Bytes('1::2::3'), null);
    assert.equal(parseV6Bytes('1:2:3:4:5:6:7:8:9'), null);
    assert.equal(parseV4Bytes('01.2.3.4'), null);
    assert.equal(parseV4Bytes('1.2.3.256'), null);
    const r = parsePrefixes('10.0.0.1/8');
    assert.ok(Array.isArray(r));
    assert.equal(formatPrefix(r[0] as never), '10.0.0.0/8');
    assert.equal(typeof parsePrefixes('10.0.0.1/8', { lenient: false }), 'string');
    assert.equal(typeof parsePrefixes('10.0.0.0/33'), 'string');
    assert.equal(typeof parsePrefixes('hello'), 'string');
    const range = rangeToPrefixes(4, parseV4Bytes('10.0.0.1') as Uint8Array, parseV4Bytes('10.0.0.10') as Uint8Array).map(formatPrefix);
    assert.deepEqual(range, ['10.0.0.1', '10.0.0.2/31', '10.0.0.4/30', '10.0.0.8/31', '10.0.0.10']);
    const all = parsePrefixes('0.0.0.0-255.255.255.255');
    assert.ok(Array.isArray(all));
    assert.deepEqual(all.map(formatPrefix), ['0.0.0.0/0']);
  });
});

describe('IpTrie', () => {
  it('longest prefix wins, nested and adjacent prefixes, both families', () => {
    const t = new IpTrie<string>();
    t.insertText('10.0.0.0/8', 'a');
    t.insertText('10.1.0.0/16', 'b');
    t.insertText('10.1.2.3', 'c');
    t.insertText('11.0.0.0/8', 'd');
    t.insertText('2001:db8::/32', 'e');
    t.insertText('2001:db8:1::/48', 'f');
    t.insertText('::/0', 'g');
    const val = (id: number): string | null => (id < 0 ? null : t.value(id));
    assert.equal(val(t.lookup4(v4('10.0.0.1'))), 'a');
    assert.equal(val(t.lookup4(v4('10.1.2.2'))), 'b');
    assert.equal(val(t.lookup4(v4('10.1.2.3'))), 'c');
    assert.equal(val(t.lookup4(v4('10.1.2.4'))), 'b');
    assert.equal(val(t.lookup4(v4('10.2.0.0'))), 'a');
    assert.equal(val(t.lookup4(v4('10.255.255.255'))), 'a');
    assert.equal(val(t.lookup4(v4('11.255.255.255'))), 'd');
    assert.equal(val(t.lookup4(v4('12.0.0.0'))), null);
    assert.equal(val(t.lookup4(v4('9.255.255.255'))), null);
    const six = (s: string): string | null => val(t.lookup6(parseV6Bytes(s) as Uint8Array, 0));
    assert.equal(six('2001:db8::1'), 'e');
    assert.equal(six('2001:db8:1:ffff::1'), 'f');
    assert.equal(six('2001:db9::'), 'g');
    assert.equal(six('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), 'g');
    assert.equal(t.size, 7);
  });

  it('a prefix inserted again keeps the later value; inserting after lookups recompiles', () => {
    const t = new IpTrie<number>();
    t.insertText('192.0.2.0/24', 1);
    assert.equal(t.value(t.lookup4(v4('192.0.2.7'))), 1);
    t.insertText('192.0.2.0/24', 2);
    assert.equal(t.value(t.lookup4(v4('192.0.2.7'))), 2);
    t.insertText('0.0.0.0/0', 3);
    t.insertText('255.255.255.255/32', 4);
    assert.equal(t.value(t.lookup4(v4('255.255.255.255'))), 4);
    assert.equal(t.value(t.lookup4(0)), 3);
    const empty = new IpTrie();
    assert.equal(empty.lookup4(v4('1.2.3.4')), -1);
    assert.equal(empty.lookup6(new Uint8Array(16), 0), -1);
  });

  it('matches a brute-force oracle on random nested IPv4 prefixes', () => {
    const r = prng(7);
    const t = new IpTrie<number>();
    const ps: { a: number; len: number; id: number }[] = [];
    // Clustered under a few /8s so that nesting is frequent.
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(r() * 33);
      const base = ((Math.floor(r() * 4) + 10) << 24) >>> 0;
      const a = (base | Math.floor(r() * 2 ** 24)) >>> 0;
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      const id = t.insert4(a, len, i);
      ps.push({ a: (a & mask) >>> 0, len, id });
    }
    for (let i = 0; i < 20000; i++) {
      const pick = ps[Math.floor(r() * ps.length)] as {
        a: number;
        len: number;
      };
      const addr = i % 3 === 0 ? Math.floor(r() * 2 ** 32) : (pick.a + Math.floor(r() * Math.min(2 ** (32 - pick.len), 2 ** 20))) >>> 0;
      assert.equal(t.lookup4(addr), oracle4(ps, addr), `address ${addr}`);
    }
  });

  it('matches a brute-force oracle on random nested IPv6 prefixes', () => {
    const r = prng(11);
    const t = new IpTrie<number>();
    const ps: { a: bigint; len: number; id: number }[] = [];
    const rand16 = (): Uint8Array => {
      const b = new Uint8Array(16);
      for (let i = 0; i < 16; i++) b[i] = Math.floor(r() * 256);
      b[0] = 0x20;
      b[1] = Math.floor(r() * 2);
      return b;
    };
    for (let i = 0; i < 1500; i++) {
      const len = Math.floor(r() * 129);
      const b = rand16();
      const id = t.insert6(b, 0, len, i);
      const mask = len === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - len)) - 1n);
      ps.push({ a: big16(b) & mask, len, id });
    }
    for (let i = 0; i < 6000; i++) {
      let b: Uint8Array;
      if (i % 2 === 0) b = rand16();
      else {
        const pick = ps[Math.floor(r() * ps.length)] as {
          a: bigint;
          len: number;
        };
        const host = pick.len === 128 ? 0n : BigInt(Math.floor(r() * 2 ** 30)) & ((1n << BigInt(128 - pick.len)) - 1n);
        let v = pick.a | host;
        b = new Uint8Array(16);
        for (let j = 15; j >= 0; j--) {
          b[j] = Number(v & 255n);
          v >>= 8n;
        }
      }
      const addr = big16(b);
      let best = -1;
      let bestLen = -1;
      for (const p of ps) {
        const mask = p.len === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - p.len)) - 1n);
        if ((addr & mask) === p.a && p.len >= bestLen) {
          best = p.id;
          bestLen = p.len;
        }
      }
      const buf = new Uint8Array(20);
      buf.set(b, 3);
      assert.equal(t.lookup6(buf, 3), best);
    }
  });

  it('entries() gives back what was inserted', () => {
    const t = new IpTrie<string>();
    t.insertText('10.0.0.9/8', 'x');
    t.insertText('2001:db8::/32', 'y');
    assert.deepEqual(
      [...t.entries()].map((e) => `${formatPrefix(e.prefix)}=${e.value}`),
      ['10.0.0.0/8=x', '2001:db8::/32=y'],
    );
  });
});
