/**
 * A capture replayed at its own pace (monitor --replay): the stream the pacer gives is the same
 * capture the file is (the reader sees every packet, in order, same times), records come out
 * when the wall clock reaches them (scaled by the speed), and a looped replay shifts each round
 * after the last so time never goes backwards.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
