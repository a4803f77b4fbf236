/**
 * The TypeScript HMAC-SHA-256 and AES-128 behind QUIC Initial keys: published vectors (FIPS 197
 * Appendix C.1, RFC 4231 test cases 1 and 2), then agreement with node:crypto on random keys and
 * messages of every length the decoder can pass, and no allocation once warm.
 */
import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { Aes128, HmacKey, hmacSha256 } from '../../src/decode/quic-crypto.js';
import { prng } from '../helpers/prng.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('AES-128: FIPS 197 Appendix C.1', () => {
  const out = new Uint8Array(16);
  new Aes128().set(Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'), 0).encrypt(Buffer.from('00112233445566778899aabbccddeeff', 'hex'), 0, out, 0);
  assert.equal(hex(out), '69c4e0d86a7b0430d8cdb78070b4c55a');
});

test('HMAC-SHA-256: RFC 4231 test cases 1 and 2', () => {
  const out = new Uint8Array(32);
  const k1 = new Uint8Array(20).fill(0x0b);
  const m1 = Buffer.from('Hi There', 'latin1');
  hmacSha256(new HmacKey().set(k1, 0, 20), m1, 0, m1.length, out, 0);
  assert.equal(hex(out), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
  const k2 = Buffer.from('Jefe', 'latin1');
  const m2 = Buffer.from('what do ya want for nothing?', 'latin1');
  hmacSha256(new HmacKey().set(k2, 0, 4), m2, 0, m2.length, out, 0);
  assert.equal(hex(out), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
});

test('HMAC-SHA-256 (keys 0..64 bytes, messages 0..55) and AES-128 agree with node:crypto, at any offset', () => {
  const rnd = prng(0xc0de);
  const buf = new Uint8Array(256);
  const out = new Uint8Array(64);
  const key = new HmacKey();
  const aes = new Aes128();
  for (let i = 0; i < 3000; i++) {
    for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rnd() * 256);
    const kl = i % 65;
    const ml = i % 56;
    const ko = Math.floor(rnd() * 64);
    const mo = 100 + Math.floor(rnd() * 100);
    const oo = Math.floor(rnd() * 32);
    hmacSha256(key.set(buf, ko, kl), buf, mo, ml, out, oo);
    const want = createHmac('sha256', buf.subarray(ko, ko + kl))
      .update(buf.subarray(mo, mo + ml))
      .digest('hex');
    assert.equal(hex(out.subarray(oo, oo + 32)), want, `key ${kl} message ${ml}`);
    const ecb = createCipheriv('aes-128-ecb', buf.subarray(ko, ko + 16), null);
    ecb.setAutoPadding(false);
    aes.set(buf, ko).encrypt(buf, mo, out, oo);
    assert.equal(hex(out.subarray(oo, oo + 16)), ecb.update(buf.subarray(mo, mo + 16)).toString('hex'));
  }
  // In place (the decoder encrypts its counter block onto itself).
  const block = buf.slice(0, 16);
  const ecb = createCipheriv('aes-128-ecb', buf.subarray(16, 32), null);
  ecb.setAutoPadding(false);
  const want = ecb.update(block).toString('hex');
  aes.set(buf, 16).encrypt(block, 0, block, 0);
  assert.equal(hex(block), want);
});

test('HMAC and AES allocate nothing once warm', () => {
  const key = new HmacKey();
  const aes = new Aes128();
  const buf = new Uint8Array(64).fill(7);
  const out = new Uint8Array(32);
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      buf[0] = i & 0xff;
      hmacSha256(key.set(buf, 0, 32), buf, 32, 20, out, 0);
      aes.set(out, 0).encrypt(buf, 0, out, 16);
    }
  };
  run(20_000);
  const before = process.memoryUsage().heapUsed;
  run(100_000);
  const grown = process.memoryUsage().heapUsed - before;
  assert.ok(grown < 1024 * 1024, `heap grew by ${grown} bytes`);
});
