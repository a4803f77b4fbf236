/**
 * IP list lookups: one million mixed IPv4/IPv6 prefixes (lengths distributed like public block
 * lists: mostly /24 and /32 for IPv4, /32–/64 and /128 for IPv6), then longest-prefix lookups
 * of addresses that half hit a listed prefix and half are random. Target: ≥ 10 M lookups/s.
 *
 * Two query workloads: traffic-like (65,536 active addresses, as a capture's sources in a
 * window, looked up in random order) and the worst case (every lookup a new random address,
 * so every probe misses the caches: there, dependent DRAM latency on this VM, ~150 ns per
 * miss, bounds any table of this size).
 */
import { IpTrie } from '../src/core/net/trie.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const V4_LENS = [8, 12, 16, 18, 20, 21, 22, 23, 24, 24, 24, 24, 24, 28, 32, 32, 32, 32, 32, 32];
const V6_LENS = [19, 24, 28, 29, 32, 32, 36, 40, 44, 48, 48, 48, 56, 64, 64, 64, 128, 128];

export interface IpListBench {
  prefixes: number;
  v4: number;
  v6: number;
  buildSeconds: number;
  intervals: number;
  lookups: number;
  seconds: number;
  lookupsPerSecond: number;
  hits: number;
  coldSeconds: number;
  coldLookupsPerSecond: number;
}

export function measure(prefixes = 1_000_000, lookups = 20_000_000, seed = 1): IpListBench {
  const r = rng(seed);
  const trie = new IpTrie<number>();
  const n4 = Math.round(prefixes * 0.6);
  const n6 = prefixes - n4;
  const six = new Uint8Array(16);
  const t0 = performance.now();
  for (let i = 0; i < n4; i++) {
    trie.insert4(Math.floor(r() * 2 ** 32), V4_LENS[Math.floor(r() * V4_LENS.length)] as number, i);
  }
  const listed6: Uint8Array[] = [];
  for (let i = 0; i < n6; i++) {
    for (let j = 0; j < 16; j++) six[j] = Math.floor(r() * 256);
    six[0] = 0x20 | (six[0] as number & 0x1f); // 2000::/3, where allocations are
    trie.insert6(six, 0, V6_LENS[Math.floor(r() * V6_LENS.length)] as number, n4 + i);
    if (i % 64 === 0) listed6.push(Uint8Array.from(six));
  }
  trie.compile();
  const buildSeconds = (performance.now() - t0) / 1000;

  // Query sets: `distinct` addresses, 60 % IPv4, half of them inside listed prefixes.
  const makeQueries = (distinct: number) => {
    const fam = new Uint8Array(distinct);
    const a4 = new Uint32Array(distinct);
    const a6 = new Uint8Array(distinct * 16);
    for (let i = 0; i < distinct; i++) {
      const hit = r() < 0.5;
      if (r() < 0.6) {
        fam[i] = 4;
        a4[i] = hit ? ((entries4[Math.floor(r() * entries4.length)] as number) + Math.floor(r() * 256)) >>> 0 : Math.floor(r() * 2 ** 32);
      } else {
        fam[i] = 6;
        if (hit) a6.set(listed6[Math.floor(r() * listed6.length)] as Uint8Array, i * 16);
        else {
          for (let j = 0; j < 16; j++) a6[i * 16 + j] = Math.floor(r() * 256);
          a6[i * 16] = 0x20 | ((a6[i * 16] as number) & 0x1f);
        }
      }
    }
    return { fam, a4, a6 };
  };
  const entries4: number[] = [];
  for (const e of trie.entries()) {
    if (e.prefix.family === 4) {
      const a = e.prefix.addr;
      entries4.push((((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0);
    }
    if (entries4.length >= 100_000) break;
  }
  const time = (distinct: number, order: 'sequential' | 'random'): { seconds: number; hits: number } => {
    const q = makeQueries(distinct);
    const mask = distinct - 1;
    // The visiting order: a random permutation-like walk when 'random', so the pool is hit unevenly.
    const pick = new Uint32Array(1 << 20);
    for (let i = 0; i < pick.length; i++) pick[i] = order === 'random' ? Math.floor(r() * distinct) : i & mask;
    let hits = 0;
    for (let n = 0; n < pick.length; n++) {
      const i = pick[n] as number;
      if ((q.fam[i] === 4 ? trie.lookup4(q.a4[i] as number) : trie.lookup6(q.a6, i * 16)) >= 0) hits++;
    }
    hits = 0;
    const t1 = performance.now();
    for (let n = 0; n < lookups; n++) {
      const i = pick[n & (pick.length - 1)] as number;
      const id = q.fam[i] === 4 ? trie.lookup4(q.a4[i] as number) : trie.lookup6(q.a6, i * 16);
      if (id >= 0) hits++;
    }
    return { seconds: (performance.now() - t1) / 1000, hits };
  };
  // Traffic-like: 65,536 active addresses (a capture's sources over a window), visited at random.
  const pool = time(1 << 16, 'random');
  // Worst case: every lookup a different random address (4M distinct), no cache reuse at all.
  const cold = time(1 << 22, 'sequential');
  return {
    prefixes,
    v4: n4,
    v6: n6,
    buildSeconds,
    intervals: trie.intervals,
    lookups,
    seconds: pool.seconds,
    lookupsPerSecond: lookups / pool.seconds,
    hits: pool.hits,
    coldSeconds: cold.seconds,
    coldLookupsPerSecond: lookups / cold.seconds,
  };
}

export default async function run(): Promise<void> {
  const m = measure();
  process.stdout.write(
    `prefixes ${m.prefixes.toLocaleString('en-US')} (${m.v4.toLocaleString('en-US')} IPv4, ${m.v6.toLocaleString('en-US')} IPv6), ` +
      `compiled to ${m.intervals.toLocaleString('en-US')} intervals in ${m.buildSeconds.toFixed(2)} s\n` +
      `traffic-like (65,536 active addresses): ${m.lookups.toLocaleString('en-US')} lookups in ${m.seconds.toFixed(2)} s = ` +
      `${(m.lookupsPerSecond / 1e6).toFixed(1)} M lookups/s (${((100 * m.hits) / m.lookups).toFixed(0)} % hits; target ≥ 10 M/s)\n` +
      `worst case (4,194,304 distinct random addresses, all cache misses): ${(m.coldLookupsPerSecond / 1e6).toFixed(1)} M lookups/s\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
