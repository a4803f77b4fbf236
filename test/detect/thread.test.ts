/**
 * Detection on a second thread (analyze's default for a file) reports exactly what detection on
 * the main thread reports, on real captures, on a generated concurrent attack and on a capture cut
 * off mid-record; a file that cannot be read fails as before, without a stray thread.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { withMitigation } from '../../src/analyze/mitigation.js';
import { analyzeCapture } from '../../src/analyze/run.js';
import { startDetection } from '../../src/detect/l34/thread.js';
import { generate } from '../../src/generate/generator.js';
import { readCapture } from '../../src/sources/capture/capture.js';
import { captureSource } from '../../src/sources/capture/source.js';
import { CORPUS } from '../helpers/tshark.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-thread-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function both(file: string): Promise<[string, string]> {
  const threaded = JSON.stringify(await analyzeCapture(file, { parallel: true }));
  const single = JSON.stringify(await analyzeCapture(file, { parallel: false }));
  return [threaded, single];
}

test('same attacks on a second thread as on the main thread: real captures', async () => {
  for (const f of ['ddos/pkt.TCP.synflood.spoofed.pcap', 'ddos/amp.dns.RRSIG.fragmented.pcap', 'ddos/amp.UDP.bacnet.IOT.37810.pcapng']) {
    const [threaded, single] = await both(join(CORPUS, f));
    assert.equal(threaded, single, f);
    assert.ok(JSON.parse(threaded).attacks.length > 0, `${f}: an attack is found`);
  }
});

test('same attacks on a second thread: concurrent generated attacks, and a capture cut off mid-record', async () => {
  const file = join(dir, 'concurrent.pcap');
  generate('concurrent', file, { packets: 60_000, seed: 7 });
  const [threaded, single] = await both(file);
  assert.equal(threaded, single);
  assert.ok(JSON.parse(threaded).attacks.length >= 2);
  const cut = join(dir, 'cut.pcap');
  const bytes = readFileSync(file);
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7) + 5));
  const [t2, s2] = await both(cut);
  assert.equal(t2, s2);
  assert.match(JSON.parse(t2).capture.error, /middle of a record/);
});

test('the main thread takes over the catch-up of signatures fixed during the pass: same attacks', async () => {
  const file = join(dir, 'handoff.pcap');
  generate('concurrent', file, { packets: 60_000, seed: 3 });
  const job = startDetection(captureSource(file), undefined);
  // This thread's own pass (as analyze's summary would be); then wait until the detection thread
  // has fixed both attacks' signatures (its messages arrive while this thread awaits).
  await readCapture(file, () => {});
  const deadline = Date.now() + 120_000;
  while (job.pending < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const attacks = (await job.finish()).map(withMitigation);
  assert.ok(job.caughtHere >= 2, `${job.caughtHere} signatures caught up here`);
  const single = (await analyzeCapture(file, { parallel: false })).attacks;
  assert.equal(JSON.stringify(attacks), JSON.stringify(single));
});

test('an unreadable file fails with the reader error, on either path', async () => {
  await assert.rejects(analyzeCapture(join(dir, 'missing.pcap'), { parallel: true }), /no such file/);
  writeFileSync(join(dir, 'junk.pcap'), 'not a capture at all');
  await assert.rejects(analyzeCapture(join(dir, 'junk.pcap'), { parallel: true }), /not a pcap or pcapng/);
  await assert.rejects(analyzeCapture(join(dir, 'junk.pcap'), { parallel: false }), /not a pcap or pcapng/);
});
