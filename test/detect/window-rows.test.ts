/**
 * The detector's window as bytes (src/detect/l34/window-rows.ts): random tables survive
 * encode → decode → add into an empty table exactly (counters, times moved to another base,
 * bitmaps, sparse and dense); a bounded window keeps the rows with the most flood-class packets
 * and says how many it left out; and mutated bytes either decode or throw a PalisadeError —
 * never another exception, never a hang.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PalisadeError } from '../../src/core/errors.js';
import { hashBytes, mix32 } from '../../src/detect/core/sketch/hash.js';
import { BITMAP_WORDS, KeyTable } from '../../src/detect/core/table.js';
import { NCLS } from '../../src/detect/l34/classify.js';
import { addRow, decodeWindow, encodeWindow, MAX_ROWS, type WindowRows } from '../../src/detect/l34/window-rows.js';
import { prng } from '../helpers/prng.js';

const SECOND = 1_700_000_123;

/** A table of the second SECOND with `keys` random destinations (a fifth IPv6), base second `base`. */
function randomTable(rnd: () => number, keys: number, base: number, cap = 8192): KeyTable {
  const t = new KeyTable(cap, NCLS);
  t.base = base;
  const addr6 = new Uint8Array(16);
  for (let k = 0; k < keys; k++) {
    let i: number;
    if (rnd() < 0.2) {
      for (let b = 0; b < 16; b++) addr6[b] = Math.floor(rnd() * 256);
      i = t.slot6(addr6, 0, 16, hashBytes(addr6, 0, 16));
    } else {
      const a = Math.floor(rnd() * 2 ** 32) | 0;
      i = t.slot4(a, mix32(a));
    }
    if (i < 0) continue;
    const packets = 1 + Math.floor(rnd() ** 3 * 400);
    for (let p = 0; p < packets; p++) {
      const c = rnd() < 0.4 ? 0 : 1 + Math.floor(rnd() * (NCLS - 1));
      const w = rnd() < 0.9 ? 1 : 1 + Math.floor(rnd() * 1000);
      // a few packets a little late (from the second before), as add() keeps them
      const sec = rnd() < 0.02 ? SECOND - 1 : SECOND;
      t.add(i, c, 40 + Math.floor(rnd() * 1460), sec, Math.floor(rnd() * 1e9), w, w === 1 ? 1 : 1 + Math.floor(rnd() * 3));
      if (c !== 0 && rnd() < 0.7) t.setSrc(i, mix32(Math.floor(rnd() * 2 ** 32)));
      if (c === 6 && rnd() < 0.5) t.setPort(i, mix32(Math.floor(rnd() * 65536)));
      if (c === 19) t.setName(i, mix32(Math.floor(rnd() * 2 ** 32)));
      if (c === 6 && rnd() < 0.3) t.aux[i] = (t.aux[i] as number) + w;
    }
  }
  return t;
}

/** Every row of `w` added into an empty table of base `base`. */
function rebuild(w: WindowRows, base: number, cap = 8192): KeyTable {
  const t = new KeyTable(cap, w.classes);
  t.base = base;
  for (let r = 0; r < w.rows; r++) {
    const i = w.fam(r) === 4 ? t.slot4(w.v4(r), mix32(w.v4(r))) : t.slot6(w.buf, w.addrOffset(r), 16, hashBytes(w.buf, w.addrOffset(r), 16));
    assert.ok(i >= 0);
    addRow(w, r, t, i, base);
  }
  return t;
}

/** Slot j of `b` holds what slot i of `a` holds, times compared as absolute ns. */
function sameSlot(a: KeyTable, i: number, b: KeyTable, j: number, what: string): void {
  assert.equal(b.fam[j], a.fam[i], what);
  assert.deepEqual(b.addr.subarray(j * 16, j * 16 + 16), a.addr.subarray(i * 16, i * 16 + 16), what);
  assert.equal(b.total[j], a.total[i], `${what} total`);
  assert.equal(b.totalBytes[j], a.totalBytes[i], `${what} bytes`);
  assert.equal(b.aux[j], a.aux[i], `${what} aux`);
  assert.equal(b.clsMask[j], a.clsMask[i], `${what} classes`);
  for (let c = 0; c < NCLS; c++) {
    if (((a.clsMask[i] as number) & (1 << c)) === 0) continue;
    assert.equal(b.packets(j, c), a.packets(i, c), `${what} class ${c} packets`);
    assert.equal(b.bytes(j, c), a.bytes(i, c), `${what} class ${c} bytes`);
    assert.equal(b.samples(j, c), a.samples(i, c), `${what} class ${c} samples`);
    assert.equal(b.firstTime(j, c) + b.base * 1e9, a.firstTime(i, c) + a.base * 1e9, `${what} class ${c} first`);
    assert.equal(b.lastTime(j, c) + b.base * 1e9, a.lastTime(i, c) + a.base * 1e9, `${what} class ${c} last`);
  }
  for (const [k, bits] of [
    [1, 'srcBits'],
    [2, 'portBits'],
    [4, 'nameBits'],
  ] as const) {
    assert.equal((b.touched[j] as number) & k, (a.touched[i] as number) & k, `${what} ${bits} present`);
    assert.deepEqual(b[bits].subarray(j * BITMAP_WORDS, (j + 1) * BITMAP_WORDS), a[bits].subarray(i * BITMAP_WORDS, (i + 1) * BITMAP_WORDS), `${what} ${bits}`);
  }
}

test('round trip: random tables come back exactly, rebased to another base second', () => {
  const rnd = prng(19);
  for (let round = 0; round < 40; round++) {
    const keys = round === 0 ? 0 : 1 + Math.floor(rnd() * 600);
    const baseA = SECOND - Math.floor(rnd() * 5000);
    const a = randomTable(rnd, keys, baseA);
    const bytes = encodeWindow(a, SECOND, baseA, { packets: 12345 });
    const w = decodeWindow(bytes);
    assert.equal(w.second, SECOND);
    assert.equal(w.packets, 12345);
    assert.equal(w.rows, a.nUsed);
    assert.equal(w.leftOut, 0);
    assert.equal(w.classes, NCLS);
    // another detector (another base) adds them up
    const baseB = SECOND - Math.floor(rnd() * 5000);
    const b = rebuild(w, baseB);
    assert.equal(b.nUsed, a.nUsed);
    for (let u = 0; u < a.nUsed; u++) {
      const i = a.used[u] as number;
      // slots in the same order (attack ids follow it)
      assert.equal(b.used[u], u);
      sameSlot(a, i, b, u, `round ${round} row ${u}`);
    }
  }
});

test('round trip: dense bitmaps (more than 63 bits) and sparse ones, IPv6 keys', () => {
  const t = new KeyTable(16, NCLS);
  t.base = SECOND;
  const a6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
  const i = t.slot6(a6, 0, 16, hashBytes(a6, 0, 16));
  const j = t.slot4(0xcb00710a | 0, mix32(0xcb00710a | 0));
  t.add(i, 6, 100, SECOND, 5, 1, 1);
  t.add(j, 1, 60, SECOND, 999_999_999, 1, 1);
  for (let k = 0; k < 500; k++) t.setSrc(i, mix32(k));
  for (let k = 0; k < 64; k++) t.setPort(i, k * 16);
  for (let k = 0; k < 63; k++) t.setName(j, k * 16);
  t.setSrc(j, 3);
  const bytes = encodeWindow(t, SECOND, SECOND);
  const b = rebuild(decodeWindow(bytes), SECOND);
  sameSlot(t, i, b, 0, 'v6');
  sameSlot(t, j, b, 1, 'v4');
  // 36 header + v6 row (6 + 16 + 24 + one class 40 + sources dense 130 + 64 ports dense 130)
  // + v4 row (6 + 4 + 24 + 40 + 1 source bit 2 + 2, 63 name bits sparse 2 + 126)
  assert.equal(bytes.length, 36 + (6 + 16 + 24 + 40 + 130 + 130) + (6 + 4 + 24 + 40 + 4 + 128));
});

test('bound: beyond maxRows the rows with the most flood-class packets are kept, the rest counted as left out', () => {
  const rnd = prng(5);
  const t = new KeyTable(8192, NCLS);
  t.base = SECOND;
  // 300 destinations of ordinary traffic only (lots of it), 50 with a little flood traffic
  for (let k = 0; k < 350; k++) {
    const a = (0x0a000000 + k) | 0;
    const i = t.slot4(a, mix32(a));
    const flood = k >= 300 ? 5 + (k - 300) : 0;
    for (let p = 0; p < 1000; p++) t.add(i, 0, 60, SECOND, p, 1, 1);
    for (let p = 0; p < flood; p++) t.add(i, 6, 60, SECOND, p, 1, 1);
    if (rnd() < 0.5) t.setSrc(i, k);
  }
  const w = decodeWindow(encodeWindow(t, SECOND, SECOND, { maxRows: 40 }));
  assert.equal(w.rows, 40);
  assert.equal(w.leftOut, 310);
  const kept = new Set<number>();
  for (let r = 0; r < w.rows; r++) kept.add(w.v4(r) - 0x0a000000);
  // the 40 with most UDP packets: 310..349, in the order the sensor met them
  assert.deepEqual(
    [...kept],
    Array.from({ length: 40 }, (_, k) => 310 + k),
  );
  assert.equal(MAX_ROWS, 4096);
  // the default bound
  const big = randomTable(prng(6), 5000, SECOND);
  const wb = decodeWindow(encodeWindow(big, SECOND, SECOND));
  assert.equal(wb.rows, MAX_ROWS);
  assert.equal(wb.leftOut, big.nUsed - MAX_ROWS);
});

test('fuzz: 10,000 mutated windows decode (and add up) or throw a PalisadeError', () => {
  const rnd = prng(77);
  const seeds = [0, 3, 40, 200].map((n) => encodeWindow(randomTable(rnd, n, SECOND - 7, 1024), SECOND, SECOND - 7));
  // one table reused (cleared) for every decodable mutation
  const sink = new KeyTable(8192, 32);
  let decoded = 0;
  let refused = 0;
  for (let it = 0; it < 10_000; it++) {
    const src = seeds[it % seeds.length] as Uint8Array;
    let buf: Uint8Array = src.slice();
    const kind = Math.floor(rnd() * 6);
    if (kind === 0) buf = buf.subarray(0, Math.floor(rnd() * buf.length));
    else if (kind === 1) {
      // a few random bytes
      for (let k = 1 + Math.floor(rnd() * 4); k > 0 && buf.length > 0; k--) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
    } else if (kind === 2 && buf.length > 0) {
      // one bit
      const at = Math.floor(rnd() * buf.length);
      buf[at] = (buf[at] as number) ^ (1 << Math.floor(rnd() * 8));
    } else if (kind === 3) {
      // a header count or row field overwritten with a large or odd value
      const at = Math.floor(rnd() * Math.min(buf.length, 80));
      const v = [0xff, 0xffffffff, 0x7fffffff, 0, 1, 4, 6, 0xffff][Math.floor(rnd() * 8)] as number;
      for (let k = 0; k < 4 && at + k < buf.length; k++) buf[at + k] = (v >>> (8 * k)) & 255;
    } else if (kind === 4) {
      // bytes inserted or appended
      const at = Math.floor(rnd() * (buf.length + 1));
      const extra = Uint8Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 256));
      const out = new Uint8Array(buf.length + extra.length);
      out.set(buf.subarray(0, at));
      out.set(extra, at);
      out.set(buf.subarray(at), at + extra.length);
      buf = out;
    } else {
      // random bytes behind a valid header
      buf = buf.slice(0, Math.min(buf.length, 36 + Math.floor(rnd() * 200)));
      for (let k = 36; k < buf.length; k++) buf[k] = Math.floor(rnd() * 256);
    }
    // an odd offset into a larger buffer: views must respect byteOffset
    const host = new Uint8Array(buf.length + 3);
    host.set(buf, 3);
    const view = host.subarray(3);
    let w: WindowRows;
    try {
      w = decodeWindow(view);
    } catch (e) {
      assert.ok(e instanceof PalisadeError, `iteration ${it}: ${e}`);
      assert.equal(e.code, 'E_FORMAT');
      refused++;
      continue;
    }
    decoded++;
    // whatever decodes reads in bounds and adds up into a table
    sink.clear();
    for (let r = 0; r < w.rows; r++) {
      const i = w.fam(r) === 4 ? sink.slot4(w.v4(r), mix32(w.v4(r))) : sink.slot6(w.buf, w.addrOffset(r), 16, hashBytes(w.buf, w.addrOffset(r), 16));
      if (i < 0) continue;
      addRow(w, r, sink, i, SECOND);
      for (let m = w.clsMask(r); m !== 0; m &= m - 1) {
        const c = 31 - Math.clz32(m & -m);
        assert.ok(Number.isFinite(sink.packets(i, c)) && Number.isFinite(sink.firstTime(i, c)));
      }
    }
  }
  assert.ok(decoded > 100 && refused > 5000, `decoded ${decoded}, refused ${refused}`);
});

test('malformed: each fault is named', () => {
  const t = randomTable(prng(3), 5, SECOND);
  const good = encodeWindow(t, SECOND, SECOND);
  const fault = (b: Uint8Array, re: RegExp) =>
    assert.throws(
      () => decodeWindow(b),
      (e: unknown) => e instanceof PalisadeError && re.test(e.message),
    );
  fault(good.subarray(0, 10), /shorter than the 36-byte header/);
  const magic = good.slice();
  magic[0] = 0;
  fault(magic, /magic/);
  const version = good.slice();
  version[4] = 9;
  fault(version, /version 9/);
  const rows = good.slice();
  new DataView(rows.buffer).setUint32(24, 0xffffffff, true);
  fault(rows, /rows do not fit/);
  fault(good.subarray(0, good.length - 1), /runs past the end/);
  const trailing = new Uint8Array(good.length + 2);
  trailing.set(good);
  fault(trailing, /after the last row/);
  const fam = good.slice();
  fam[36] = 5;
  fault(fam, /address family 5/);
});
