/**
 * The JavaScript challenge's parts alone (src/proxy/challenge/): seeds and clearances signed and
 * refused (tampered, expired, another /24 or /64, another browser, the other kind of token), the
 * proof of work at its difficulty, the replay cache's bound, return paths that would redirect
 * elsewhere, the page's own SHA-256 (the fallback of browsers without WebCrypto) against
 * node:crypto, and the `edge.challenge` config section.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { runInNewContext } from 'node:vm';
import { parseEdgeConfig } from '../../src/config/edge.js';
import { challengePage, SHA256_JS, VERIFY_PATH } from '../../src/proxy/challenge/page.js';
import { ReplayCache } from '../../src/proxy/challenge/replay.js';
import { safeReturnPath } from '../../src/proxy/challenge/return-path.js';
import { bindingOf, clientPrefix, issueClearance, issueSeed, leadingZeroBits, readClearance, readSeed, Signer, solves } from '../../src/proxy/challenge/tokens.js';
import { solve } from './challenge-helpers.js';

const signer = new Signer('a test secret of enough length');
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0';
const T0 = 1_800_000_000_000;
const me = bindingOf('203.0.113.7', UA);

describe('client binding', () => {
  it('IPv4 binds its /24, IPv6 its /64, IPv4-mapped IPv6 as IPv4', () => {
    assert.equal(clientPrefix('203.0.113.7'), clientPrefix('203.0.113.250'));
    assert.notEqual(clientPrefix('203.0.113.7'), clientPrefix('203.0.114.7'));
    assert.equal(clientPrefix('::ffff:203.0.113.9'), clientPrefix('203.0.113.7'));
    assert.equal(clientPrefix('2001:db8:1:2::1'), clientPrefix('2001:db8:1:2:ffff::9'));
    assert.notEqual(clientPrefix('2001:db8:1:2::1'), clientPrefix('2001:db8:1:3::1'));
  });
});

describe('seeds', () => {
  const seed = issueSeed(signer, me, T0, 60_000, 12);

  it('verify for the client they were issued to, within their lifetime', () => {
    const s = readSeed(signer, seed, bindingOf('203.0.113.99', UA), T0 + 59_000);
    assert.equal(s.ok, true);
    assert.equal(s.ok && s.bits, 12);
  });

  it('are refused when expired, from another /24, from another browser, or tampered with', () => {
    assert.deepEqual(readSeed(signer, seed, me, T0 + 60_000), { ok: false, reason: 'expired' });
    assert.deepEqual(readSeed(signer, seed, bindingOf('203.0.114.7', UA), T0), { ok: false, reason: 'signature' });
    assert.deepEqual(readSeed(signer, seed, bindingOf('203.0.113.7', `${UA} Edg/131`), T0), { ok: false, reason: 'signature' });
    // Lower difficulty, later expiry, another id: each part is under the MAC.
    const [v, exp, bits, id, mac] = seed.split('.') as [string, string, string, string, string];
    for (const forged of [
      [v, exp, '1', id, mac],
      [v, String(Number(exp) + 3600), bits, id, mac],
      [v, exp, bits, `${id.slice(0, 23)}${id[23] === 'a' ? 'b' : 'a'}`, mac],
      [v, exp, bits, id, `${mac.slice(0, 20)}${mac[20] === 'a' ? 'b' : 'a'}${mac.slice(21)}`],
      [v, exp, bits, id, mac.toUpperCase()],
    ])
      assert.equal(readSeed(signer, forged.join('.'), me, T0).ok, false, forged.join('.'));
    assert.deepEqual(readSeed(signer, 'garbage', me, T0), { ok: false, reason: 'malformed' });
    assert.deepEqual(readSeed(signer, `${seed}.x`, me, T0), { ok: false, reason: 'malformed' });
    // Another secret does not know it.
    assert.equal(readSeed(new Signer('another secret, also long enough'), seed, me, T0).ok, false);
  });

  it('are no clearance, and a clearance is no seed', () => {
    assert.equal(readClearance(signer, seed, me, T0).ok, false);
    const c = issueClearance(signer, me, T0, 60_000);
    assert.equal(readSeed(signer, c, me, T0).ok, false);
  });

  it('refuse a short secret', () => {
    assert.throws(() => new Signer('short'), /at least 16 bytes/);
  });
});

describe('clearances', () => {
  const c = issueClearance(signer, me, T0, 1800_000);

  it('verify for the same /24 and browser until they expire', () => {
    assert.equal(readClearance(signer, c, bindingOf('203.0.113.1', UA), T0 + 1799_000).ok, true);
    assert.deepEqual(readClearance(signer, c, me, T0 + 1800_000), { ok: false, reason: 'expired' });
  });

  it('are refused from another /24, another browser, or tampered with', () => {
    assert.equal(readClearance(signer, c, bindingOf('198.51.100.7', UA), T0).ok, false);
    assert.equal(readClearance(signer, c, bindingOf('203.0.113.7', 'curl/8.5'), T0).ok, false);
    const [v, exp, mac] = c.split('.') as [string, string, string];
    assert.equal(readClearance(signer, `${v}.${Number(exp) + 86400}.${mac}`, me, T0).ok, false);
    assert.equal(readClearance(signer, `${v}.${exp}.${mac.slice(1)}`, me, T0).ok, false);
    assert.equal(readClearance(signer, `${v}.${exp}.${'a'.repeat(64)}`, me, T0).ok, false);
    assert.equal(readClearance(signer, `${v}.${exp}.${mac.toUpperCase()}`, me, T0).ok, false, 'one spelling per MAC');
    assert.equal(readClearance(signer, '', me, T0).ok, false);
  });
});

describe('proof of work', () => {
  it('counts leading zero bits', () => {
    assert.equal(leadingZeroBits(Uint8Array.of(0, 0, 0x80)), 16);
    assert.equal(leadingZeroBits(Uint8Array.of(0, 0x01)), 15);
    assert.equal(leadingZeroBits(Uint8Array.of(0xff)), 0);
    assert.equal(leadingZeroBits(new Uint8Array(4)), 32);
  });

  it('a solution at D bits has D leading zero bits, and the difficulty is respected', () => {
    const seed = issueSeed(signer, me, T0, 60_000, 14);
    const n = solve(seed, 14);
    assert.ok(solves(seed, String(n), 14));
    const h = createHash('sha256')
      .update(seed + n)
      .digest();
    assert.ok(leadingZeroBits(h) >= 14);
    // The first nonce that reaches 14 bits is the first too: none below it does.
    for (let k = 0; k < n; k++) assert.equal(solves(seed, String(k), 14), false);
    // Asked for more than it has, the same nonce fails (unless it happens to be that good).
    assert.equal(solves(seed, String(n), leadingZeroBits(h) + 1), false);
    // Nonces are decimal digits only.
    assert.equal(solves(seed, `${n} `, 0), false);
    assert.equal(solves(seed, '', 0), false);
    assert.equal(solves(seed, '0x10', 0), false);
  });
});

describe('replay cache', () => {
  it('spends a seed once within its lifetime', () => {
    const c = new ReplayCache(10);
    assert.equal(c.spend('a', T0 + 1000, T0), true);
    assert.equal(c.spend('a', T0 + 1000, T0 + 500), false);
    // Expired, the seed itself is refused by readSeed; the cache may forget it.
    assert.equal(c.spend('a', T0 + 3000, T0 + 1000), true);
  });

  it('stays within its bound, dropping expired entries first, then the oldest', () => {
    const c = new ReplayCache(100);
    for (let i = 0; i < 1000; i++) c.spend(`s${i}`, T0 + 60_000, T0 + i);
    assert.equal(c.size, 100);
    // The newest 100 are remembered; the oldest were dropped to make room.
    assert.equal(c.spend('s999', T0 + 60_000, T0 + 1000), false);
    assert.equal(c.spend('s900', T0 + 60_000, T0 + 1000), false);
    // Once they expire, they go as new ones come.
    for (let i = 0; i < 10; i++) c.spend(`t${i}`, T0 + 200_000, T0 + 61_000);
    assert.ok(c.size <= 100);
    assert.equal(c.spend('t0', T0 + 200_000, T0 + 61_000), false);
    assert.throws(() => new ReplayCache(0));
  });
});

describe('return paths', () => {
  it('a path on this site is followed', () => {
    for (const p of ['/', '/shop/cart?item=1&q=a%20b', '/a/../b', '/%2F%2Fevil.example', '/x#frag']) assert.equal(safeReturnPath(p), p);
  });

  it('anything that could leave the site is refused', () => {
    for (const p of [
      '//evil.example/',
      '///evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      'https://evil.example/',
      'http:/evil.example',
      'javascript:alert(1)',
      'evil.example',
      '',
      '/\tevil',
      '/ok\r\nSet-Cookie: x=1',
      '/caf\u00e9',
      '/a/..//evil.example',
      `/${'a'.repeat(5000)}`,
    ])
      assert.equal(safeReturnPath(p), null, JSON.stringify(p));
  });
});

describe('the page', () => {
  it("its SHA-256 (for browsers without WebCrypto) is node:crypto's, at every length across the padding", () => {
    const sha = runInNewContext(`${SHA256_JS}; sha256`) as (m: Uint8Array) => number[];
    for (let len = 0; len < 200; len++) {
      const m = new Uint8Array(len);
      for (let i = 0; i < len; i++) m[i] = (i * 31 + len) & 255;
      const words = sha(m);
      const got = Buffer.alloc(32);
      for (let i = 0; i < 8; i++) got.writeInt32BE(words[i] as number, i * 4);
      assert.equal(got.toString('hex'), createHash('sha256').update(m).digest('hex'), `length ${len}`);
    }
  });

  it('is small and self-contained: no external resource, the seed, difficulty and return path escaped in the form', () => {
    const html = challengePage({ seed: 's1.1.16.abc.def', bits: 16, returnPath: '/a?b="<x>"&c', requestId: 'r-1', cspNonce: 'n0nce' });
    assert.ok(html.length < 5000, `${html.length} bytes`);
    assert.doesNotMatch(html, /\bsrc=|href=|@import|url\(/);
    assert.match(html, new RegExp(`action="${VERIFY_PATH}"`));
    assert.match(html, /data-bits="16"/);
    assert.match(html, /value="\/a\?b=&#34;&#60;x&#62;&#34;&#38;c"/);
    assert.match(html, /<noscript>.*JavaScript.*<\/noscript>/);
    assert.match(html, /<script nonce="n0nce">/);
  });
});

describe('edge.challenge in palisade.yaml', () => {
  it('reads every key, and the defaults without the section', () => {
    const o = parseEdgeConfig(
      'edge:\n  challenge:\n    secret: "0123456789abcdef0123"\n    difficulty_bits: 12\n    clearance_ttl_s: 600\n    cookie_name: __clear\n',
      'palisade.yaml',
    );
    assert.deepEqual(o.challenge, { secret: '0123456789abcdef0123', difficultyBits: 12, clearanceTtlS: 600, cookieName: '__clear' });
    assert.deepEqual(parseEdgeConfig('edge:\n  mode: auto\n', 'p.yaml').challenge, { difficultyBits: 16, clearanceTtlS: 1800, cookieName: 'palisade_clearance' });
  });

  it('names file, line and column of each bad value', () => {
    const text = 'edge:\n  challenge:\n    secret: short\n    difficulty_bits: 40\n    clearance_ttl_s: 1.5\n    cookie_name: "a b"\n    colour: red\n';
    assert.throws(
      () => parseEdgeConfig(text, 'palisade.yaml'),
      (e: Error) => {
        const lines = e.message.split('\n');
        assert.equal(lines.length, 5, e.message);
        assert.match(lines[0] as string, /^palisade\.yaml:3:13: edge\.challenge\.secret must be at least 16 characters/);
        assert.match(lines[1] as string, /^palisade\.yaml:4:22: edge\.challenge\.difficulty_bits must be a number from 0 to 24/);
        assert.match(lines[2] as string, /^palisade\.yaml:5:22: edge\.challenge\.clearance_ttl_s must be a number from 10 to 604800 \(an integer\)/);
        assert.match(lines[3] as string, /^palisade\.yaml:6:18: edge\.challenge\.cookie_name must be a cookie name/);
        assert.match(lines[4] as string, /^palisade\.yaml:7:5: unknown key edge\.challenge\.colour/);
        return true;
      },
    );
    assert.throws(() => parseEdgeConfig('edge:\n  challenge: yes\n', 'p.yaml'), /p\.yaml:2:14: edge\.challenge must be a mapping/);
  });
});
