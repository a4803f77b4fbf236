/**
 * FrequentItems (the bounded top-k behind every "top" table): exact while it has room, the
 * Misra–Gries bound once it has purged, and the tie order analyze documents (count, bytes, key).
 */
import assert from 'node:assert/strict';
import { type PerformanceEntry, PerformanceObserver } from 'node:perf_hooks';
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

test('identities of different lengths in one table (IPv4 and IPv6 conversations) survive many purges byte for byte', () => {
  const r = prng(5);
  const f = new FrequentItems(2048, 33);
  const id = new Uint8Array(33);
  const idOf = (key: number): Uint8Array => {
    const len = key % 2 === 0 ? 9 : 33;
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = (Math.imul(key, 2654435761) >>> (i % 24)) & 0xff;
    return out;
  };
  const heavy = [2, 4, 7, 9];
  for (let i = 0; i < 200_000; i++) {
    const key = i % 5 === 0 ? (heavy[(i / 5) % heavy.length] as number) : 100 + Math.floor(r() * 2 ** 28);
    const slot = f.add(key, 100);
    if (slot >= 0) {
      const want = idOf(key);
      id.set(want);
      f.setId(slot, id, 0, want.length);
    }
  }
  assert.ok(f.decremented > 0);
  const top = f.top(4);
  assert.deepEqual(
    top.map((e) => e.key).sort((a, b) => a - b),
    heavy,
  );
  for (const e of top) assert.deepEqual(e.id, idOf(e.key));
});

test('a purge allocates nothing after the first: a flood with recurring keys through a 65,536-slot table with identities', async () => {
  const f = new FrequentItems(65536, 33);
  const id = new Uint8Array(33).fill(3);
  let x = 1;
  const run = (n: number) => {
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) | 0;
      // Half the packets from 20,000 recurring keys: tens of thousands survive each purge.
      const key = i % 2 === 0 ? (x >>> 1) % 20_000 : x;
      const slot = f.add(key, 60);
      if (slot >= 0) f.setId(slot, id, 0, 9);
    }
  };
  run(300_000); // the first purges (and the spare arrays they allocate once)
  const gcs: PerformanceEntry[] = [];
  const obs = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  obs.observe({ entryTypes: ['gc'] });
  await new Promise((r) => setTimeout(r, 20));
  gcs.length = 0;
  const purged = f.decremented;
  const t0 = performance.now();
  run(1_500_000);
  const t1 = performance.now();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  assert.ok(f.decremented >= purged + 10, `${f.decremented - purged} purged`);
  const during = gcs.filter((e) => e.startTime >= t0 && e.startTime <= t1);
  assert.ok(during.length <= 1, `${during.length} GCs during the purges`);
});
