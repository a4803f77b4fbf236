/**
 * Fuzz the decoder chain and the readers with mutated real packets (seeded, reproducible):
 * no exception, no hang, and every offset the decoders write stays inside the frame.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Analyzer } from '../../src/analyze/analyzer.js';
import { InputError } from '../../src/core/errors.js';
import { decodeFrame } from '../../src/decode/frame.js';
import { PacketView } from '../../src/decode/view.js';
import { readCapture } from '../../src/sources/capture/capture.js';
import { prng } from '../helpers/prng.js';
import { corpusFiles } from '../helpers/tshark.js';

const CASES = Number(process.env.PALISADE_FUZZ_CASES ?? 150_000);

interface Frame {
  link: number;
  bytes: Uint8Array;
}

async function corpusFrames(): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (const f of corpusFiles()) {
    let taken = 0;
    await readCapture(
      f,
      (v) => {
        // A spread of each capture: the first 200 frames is plenty of variety per file.
        if (taken++ < 200) frames.push({ link: v.linkType, bytes: v.buf.slice(v.frameOff, v.frameEnd) });
      },
      { decode: false },
    );
  }
  return frames;
}

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  const kind = Math.floor(rnd() * 6);
  let b = src.slice();
  const pick = () => Math.floor(rnd() * Math.max(1, b.length));
  switch (kind) {
    case 0: // flip a few bits
      for (let i = 0, n = 1 + Math.floor(rnd() * 8); i < n && b.length; i++) b[pick()] ^= 1 << Math.floor(rnd() * 8);
      break;
    case 1: // smash a byte with an extreme value (length fields, IHL, option lengths)
      for (let i = 0, n = 1 + Math.floor(rnd() * 4); i < n && b.length; i++) b[pick()] = [0, 1, 0x7f, 0x80, 0xff, 0x0f, 0xf0][Math.floor(rnd() * 7)] as number;
      break;
    case 2: // truncate anywhere
      b = b.slice(0, pick());
      break;
    case 3: // random bytes
      for (let i = 0; i < b.length; i++) if (rnd() < 0.1) b[i] = Math.floor(rnd() * 256);
      break;
    case 4: {
      // duplicate a region (nested headers, repeated tags)
      const s = pick();
      const e = Math.min(b.length, s + Math.floor(rnd() * 64));
      const out = new Uint8Array(b.length + (e - s));
      out.set(b.subarray(0, e));
      out.set(b.subarray(s), e);
      b = out;
      break;
    }
    default: // smash a 16-bit word
      if (b.length > 2) {
        const o = pick() % (b.length - 1);
        b[o] = 0xff;
        b[o + 1] = Math.floor(rnd() * 256);
      }
  }
  return b;
}

test(`decoders survive ${CASES} mutated corpus packets`, async () => {
  const frames = await corpusFrames();
  assert.ok(frames.length > 1000, `corpus frames: ${frames.length}`);
  const rnd = prng(0xdec0de);
  const v = new PacketView();
  const analyzer = new Analyzer();
  const links = [1, 101, 113, 276, 239, 127, 0, 228, 229];
  for (let i = 0; i < CASES; i++) {
    const f = frames[Math.floor(rnd() * frames.length)] as Frame;
    const data = mutate(f.bytes, rnd);
    // Put the frame at an offset inside a larger buffer, as the readers do.
    const buf = new Uint8Array(data.length + 64);
    buf.set(data, 32);
    v.buf = buf;
    v.frameOff = 32;
    v.frameEnd = 32 + data.length;
    v.caplen = data.length;
    v.wirelen = data.length + (rnd() < 0.1 ? 100 : 0);
    v.tsSec = 1700000000 + (i % 100);
    v.tsNsec = 0;
    v.linkType = rnd() < 0.05 ? (links[Math.floor(rnd() * links.length)] as number) : f.link;
    v.reset();
    try {
      decodeFrame(v);
      analyzer.add(v);
    } catch (e) {
      assert.fail(`case ${i}: ${(e as Error).stack}\nframe ${Buffer.from(data).toString('hex')} link ${v.linkType}`);
    }
    const end = v.frameEnd;
    if (v.payloadOff >= 0) assert.ok(v.payloadOff >= v.frameOff && v.payloadOff + v.payloadLen <= end, `case ${i}: payload out of frame`);
    if (v.l4Off >= 0) assert.ok(v.l4Off < end, `case ${i}: l4 out of frame`);
    if (v.ipOff >= 0) assert.ok(v.ipOff < end, `case ${i}: ip out of frame`);
    if (v.src6Off >= 0) assert.ok(v.src6Off + 16 <= end && v.dst6Off + 16 <= end, `case ${i}: IPv6 address out of frame`);
    if (v.tlsSniOff >= 0) assert.ok(v.tlsSniOff + v.tlsSniLen <= end, `case ${i}: SNI out of frame`);
    if (v.httpHostOff >= 0) assert.ok(v.httpHostOff + v.httpHostLen <= end, `case ${i}: Host out of frame`);
    assert.ok(v.dnsNameLen <= 255, `case ${i}: DNS name too long`);
  }
  const r = analyzer.result({
    file: 'fuzz',
    format: 'pcap',
    compressed: false,
    linkTypes: [1],
    packets: CASES,
    bytes: 0,
    skipped: { truncated: 0, malformed: 0, unsupported: 0 },
    anomalies: { caplen_over_snaplen: 0, skipped_blocks: 0 },
    error: null,
  });
  assert.ok(r.traffic.timeline.length > 0);
});

test('readers survive mutated capture files (only InputError, never a crash or hang)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-fuzz-'));
  const small = corpusFiles().filter((f) => readFileSync(f).length < 40_000);
  const rnd = prng(7);
  let i = 0;
  for (let round = 0; round < 600; round++) {
    const src = readFileSync(small[round % small.length] as string);
    const data = mutate(new Uint8Array(src), rnd);
    const p = join(dir, `m${i++}.pcap`);
    writeFileSync(p, data);
    try {
      const info = await readCapture(p, () => {});
      assert.ok(info.packets >= 0);
    } catch (e) {
      assert.ok(e instanceof InputError, `round ${round}: ${(e as Error).stack}`);
    }
  }
});
