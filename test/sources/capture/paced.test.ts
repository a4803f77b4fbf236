/**
 * A capture replayed at its own pace (monitor --replay): the stream the pacer gives is the same
 * capture the file is (the reader sees every packet, in order, same times), records come out
 * when the wall clock reaches them (scaled by the speed), and a looped replay shifts each round
 * after the last so time never goes backwards.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readCapture } from '../../../src/sources/capture/capture.js';
import { type PaceClock, pacedCapture } from '../../../src/sources/capture/paced.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-paced-'));
const CLI = join(import.meta.dirname, '../../../bin/palisade.js');
const pcap = join(dir, 'demo.pcap');

before(() => {
  const r = spawnSync(process.execPath, [CLI, 'generate', 'demo', '-n', '5000', '-s', '2', '-w', pcap], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function times(stream?: NodeJS.ReadableStream): Promise<number[]> {
  const out: number[] = [];
  await readCapture(pcap, (v) => void out.push(v.tsSec * 1000 + v.tsNsec / 1e6), stream ? { stream: stream as never } : {});
  return out;
}

test('paced: the same packets at the same times, played no faster than the speed allows', async () => {
  const direct = await times();
  const span = (direct.at(-1) as number) - (direct[0] as number);
  const pace: { current: PaceClock | null } = { current: null };
  const t0 = Date.now();
  const played = await times(pacedCapture(pcap, { speed: 40 }, pace));
  const took = Date.now() - t0;
  assert.deepEqual(played, direct);
  assert.ok(took >= span / 40 - 50, `played ${span.toFixed(0)} ms of capture in ${took} ms at 40×`);
  assert.ok(took < span / 40 + 2000, `not much slower than 40× either: ${took} ms`);
  const c = pace.current as PaceClock;
  assert.ok(Math.abs(c.captureMs(Date.now()) - (direct.at(-1) as number)) < 2000, 'the pace clock stands at the end of the capture');
});

test('a reader that stalls: the pace clock stays at the first record not handed on, not where the wall clock is', async () => {
  // The demo capture is little-endian pcap: a 24-byte header, then records (16-byte header + bytes).
  const file = readFileSync(pcap);
  const perMs = file.readUInt32LE(0) === 0xa1b23c4d ? 1e6 : 1e3;
  const records: Array<{ end: number; ms: number }> = [];
  for (let at = 24; at + 16 <= file.length; at += 16 + file.readUInt32LE(at + 8))
    records.push({ end: at + 16 + file.readUInt32LE(at + 8), ms: file.readUInt32LE(at) * 1000 + file.readUInt32LE(at + 4) / perMs });
  const pace: { current: PaceClock | null } = { current: null };
  const stream = pacedCapture(pcap, { speed: 40 }, pace);
  let received = 0;
  let seen: { clock: number; held: number; wallSays: number } | null = null;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (seen === null && received > 24 + 2000) {
      // The reader is busy for 400 ms (16 s of capture at 40×) and pulls nothing meanwhile.
      const t0 = Date.now();
      const wall0 = (pace.current as PaceClock).captureMs(t0);
      while (Date.now() < t0 + 400) {}
      const handed = received + stream.readableLength;
      const held = records.find((r) => r.end > handed);
      seen = { clock: (pace.current as PaceClock).captureMs(Date.now()), held: held?.ms ?? Number.POSITIVE_INFINITY, wallSays: wall0 + 16_000 };
    }
  }
  assert.ok(seen !== null);
  assert.ok(seen.clock <= seen.held, `the clock (${seen.clock}) stays at or before the first record not handed on (${seen.held})`);
  assert.ok(seen.clock < seen.wallSays - 8000, `not where the wall clock alone would put it (${seen.wallSays})`);
  // Once all is handed on, the wall clock rules again (a replay that fell behind does not slow down the time it stands for).
  assert.ok((pace.current as PaceClock).captureMs(Date.now()) >= (records.at(-1) as { ms: number }).ms, 'and past the last record once all is read');
});

test('looped: every round after the last, the file header once', async () => {
  const direct = await times();
  const played = await times(pacedCapture(pcap, { speed: 1000, loops: 3 }, undefined));
  assert.equal(played.length, 3 * direct.length);
  for (let i = 1; i < played.length; i++) assert.ok((played[i] as number) >= (played[i - 1] as number) - 1000, `time goes forward at ${i}`);
  assert.ok((played[direct.length] as number) > (direct.at(-1) as number), 'round two starts after round one ends');
});

test('not a capture: a clear error', async () => {
  await assert.rejects(times(pacedCapture(CLI)), /not a pcap or pcapng capture/);
  await assert.rejects(times(pacedCapture(join(dir, 'missing.pcap'))), /no such file/);
});
