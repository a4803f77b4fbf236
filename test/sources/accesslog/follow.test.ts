/**
 * followAccessLog: appended lines arrive, a partial line waits for its newline, rotation by
 * rename (logrotate's create mode) and by copytruncate are followed, stop() ends it. Bounded in
 * time: every wait has a deadline.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { followAccessLog } from '../../../src/sources/accesslog/follow.js';
import { Slot } from '../../../src/sources/accesslog/view.js';

const line = (ip: string) => `${ip} - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 5 "-" "ua"\n`;

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

test('follow: append, partial line, rotate by rename, copytruncate, stop', { timeout: 20000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-follow-'));
  const path = join(dir, 'access.log');
  writeFileSync(path, line('1.0.0.1') + line('1.0.0.2'));
  const ips: string[] = [];
  const f = followAccessLog(path, (v) => ips.push(v.get(Slot.CLIENT) ?? '?'), { pollMs: 20 });
  await until(() => ips.length === 2, 'the lines already there');
  assert.equal(f.done instanceof Promise, true);

  appendFileSync(path, line('1.0.0.3'));
  await until(() => ips.length === 3, 'an appended line');

  // Half a line: nothing until its newline comes.
  const l4 = line('1.0.0.4');
  appendFileSync(path, l4.slice(0, 20));
  await new Promise((ok) => setTimeout(ok, 100));
  assert.equal(ips.length, 3);
  appendFileSync(path, l4.slice(20));
  await until(() => ips.length === 4, 'the rest of a partial line');

  // Rotation by rename: the old file gets one last line after the rename, then a new file appears.
  renameSync(path, `${path}.1`);
  appendFileSync(`${path}.1`, line('1.0.0.5'));
  writeFileSync(path, line('2.0.0.1'));
  await until(() => ips.includes('2.0.0.1'), 'the new file after rotation');
  appendFileSync(path, line('2.0.0.2'));
  await until(() => ips.length === 7, 'appends to the new file');

  // copytruncate: the file shrinks to nothing and is written again from the start.
  truncateSync(path, 0);
  await new Promise((ok) => setTimeout(ok, 100));
  appendFileSync(path, line('3.0.0.1'));
  await until(() => ips.includes('3.0.0.1'), 'lines after truncation');

  const info = await f.stop();
  assert.deepEqual(ips, ['1.0.0.1', '1.0.0.2', '1.0.0.3', '1.0.0.4', '1.0.0.5', '2.0.0.1', '2.0.0.2', '3.0.0.1']);
  assert.equal(info.format, 'combined');
  assert.equal(info.detected, true);
  assert.equal(info.reopened, 1);
  assert.equal(info.truncations, 1);
  assert.equal(info.records, 8);
  // After stop nothing more is read.
  appendFileSync(path, line('4.0.0.1'));
  await new Promise((ok) => setTimeout(ok, 100));
  assert.equal(ips.length, 8);
  assert.deepEqual(await f.done, info);
});

test('follow: a file that does not exist yet is picked up when it appears; an abort signal stops it', { timeout: 10000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-follow-'));
  const path = join(dir, 'late.log');
  const ac = new AbortController();
  let n = 0;
  const f = followAccessLog(path, () => n++, { pollMs: 20, format: 'combined', signal: ac.signal });
  await new Promise((ok) => setTimeout(ok, 60));
  writeFileSync(path, line('1.1.1.1') + 'junk\n');
  await until(() => n === 1, 'the late file');
  ac.abort();
  const info = await f.done;
  assert.equal(info.records, 1);
  assert.deepEqual(info.malformedLines, [2]);
});

test('follow from the end skips what is there', { timeout: 10000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-follow-'));
  const path = join(dir, 'a.log');
  writeFileSync(path, line('1.1.1.1'));
  const ips: string[] = [];
  const f = followAccessLog(path, (v) => ips.push(v.get(Slot.CLIENT) ?? '?'), { pollMs: 20, format: 'combined', fromEnd: true });
  appendFileSync(path, line('2.2.2.2'));
  await until(() => ips.length === 1, 'the appended line');
  await f.stop();
  assert.deepEqual(ips, ['2.2.2.2']);
});
