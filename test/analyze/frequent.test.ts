/**
 * FrequentItems (the bounded top-k behind every "top" table): exact while it has room, the
 * Misra–Gries bound once it has purged, and the tie order analyze documents (count, bytes, key).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrequentItems } from '../../src/detect/core/sketch/frequent.js';
import { prng } from '../helpers/prng.js';

function truth(pairs: Array<[number, number]>): Map<number, { count: number; bytes: number }> {
  const m = new Map<number, { count: number; bytes: number }>();
  for (const [k, b] of pairs) {
    const e = m.get(k) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += b;
    m.set(k, e);
  }
  return m;
}

test('exact top-k while the table has room, with ties broken by bytes then key', () => {
  const r = prng(7);
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < 50_000; i++) pairs.push([Math.floor(r() ** 3 * 3000) - 1500, 40 + Math.floor(r() * 1400)]);
  // Two keys with equal counts and bytes: the smaller key ranks first.
  for (let i = 0; i < 20_000; i++) pairs.push([900_001, 100], [900_000, 100]);
  const f = new FrequentItems(8192);
  for (const [k, b] of pairs) f.add(k, b);
  assert.ok(f.exact);
  const want = [...truth(pairs).entries()]
    .sort((a, b) => b[1].count - a[1].count || b[1].bytes - a[1].bytes || a[0] - b[0])
    .slice(0, 25)
    .map(([key, e]) => ({ key, count: e.count, bytes: e.bytes }));
  const got = f.top(25).map(({ key, count, bytes }) => ({ key, count, bytes }));
  assert.deepEqual(got, want);
  assert.equal(got[0]?.key, 900_000);
  assert.equal(got[1]?.key, 900_001);
  assert.deepEqual(f.top(0), []);
});

test('under a spoofed flood the heavy hitters survive purges within the Misra–Gries bound, with their identities', () => {
  const r = prng(11);
  const f = new FrequentItems(1024, 4);
  const id = new Uint8Array(4);
  const heavy = [11, 22, 33, 44, 55];
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < 300_000; i++) {
    const key = i % 10 < 3 ? (heavy[Math.floor(i / 10) % heavy.length] as number) : 1_000_000 + Math.floor(r() * 2 ** 30);
    pairs.push([key, 60]);
    const slot = f.add(key, 60);
    if (slot >= 0) {
      new DataView(id.buffer).setUint32(0, key);
      f.setId(slot, id, 0, 4);
    }
  }
  assert.ok(!f.exact);
  assert.ok(f.entries <= 1024);
  const t = truth(pairs);
  const top = f.top(5);
  assert.deepEqual(
    top.map((e) => e.key).sort((a, b) => a - b),
    heavy,
  );
  for (const e of top) {
    const real = t.get(e.key)?.count as number;
    assert.ok(e.count <= real && e.count >= real - f.decremented, `${e.key}: ${e.count} vs ${real} (bound ${f.decremented})`);
    assert.equal(new DataView((e.id as Uint8Array).buffer).getUint32(0), e.key);
  }
});
