/**
 * analyze reports what the QUIC decoder did (capture.quic): on a corpus capture, and on a
 * capture with a flood of QUIC-looking junk, where the human output says the budget was hit.
 * Two analyses of one file in one process give the same counts and the same SNI (the decoder's
 * table of tried DCIDs outlives an analysis).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeCapture } from '../../src/analyze/run.js';
import { QUIC_BUDGET_PER_SECOND } from '../../src/decode/quic.js';
import { schemaErrors } from '../../src/model/validate.js';
import { renderAnalysis } from '../../src/report/terminal.js';
import { samples } from '../decode/app-payloads.js';
import { pcapFile, type Rec, udpFrame } from '../helpers/build.js';
import { prng } from '../helpers/prng.js';
import { CORPUS } from '../helpers/tshark.js';

test('capture.quic on the Firefox QUIC capture: one Initial opened, the server Initials and the later client Initial not', async () => {
  const a = await analyzeCapture(join(CORPUS, 'edge/quic_firefox-102.13.0esr-blog-cloudflare-com.pcap'), { detect: false });
  // tshark 4.0: frame 1 the client's Initial; frames 2 and 3 the server's (one DCID, server keys);
  // frame 5 the client's Initial under the server's DCID, still with frame 1's keys.
  assert.deepEqual(a.capture.quic, { initials: 4, opened: 1, repeats: 1, over_budget: 0, unreadable: 2, budget_per_s: QUIC_BUDGET_PER_SECOND });
  assert.deepEqual(a.traffic.top_tls_sni, [{ name: 'blog.cloudflare.com', packets: 1 }]);
  assert.equal(schemaErrors(a, 'analysis'), null);
  assert.doesNotMatch(renderAnalysis(a, false), /QUIC:/);
});

test('a junk Initial flood: the budget bounds what is tried, the counts add up, the human output says so', async () => {
  const rnd = prng(0x443);
  const client = samples('edge/quic_chromium-115.0.5790.110-api-cirrus-com.pcap', 'frame.number == 1')[0]?.bytes as Uint8Array;
  const recs: Rec[] = [];
  const junk = new Uint8Array(1250);
  const over = 700;
  for (let i = 0; i < QUIC_BUDGET_PER_SECOND + over; i++) {
    for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rnd() * 256);
    junk[0] = 0xc0 | (i & 3);
    junk.set([0, 0, 0, 1, 8], 1); // v1, 8-byte DCID (random), then random SCID length and the rest
    recs.push({ sec: 1_700_000_000, frac: i * 100, data: udpFrame([198, 51, 100, i & 255], [203, 0, 113, 7], 1024 + (i % 5000), 443, [...junk]) });
    if (i === 100) recs.push({ sec: 1_700_000_000, frac: i * 100 + 1, data: udpFrame([192, 0, 2, 1], [203, 0, 113, 7], 53727, 443, [...client]) });
  }
  // The client's Initial again, a second later: a repeat, not decrypted.
  recs.push({ sec: 1_700_000_001, frac: 0, data: udpFrame([192, 0, 2, 1], [203, 0, 113, 7], 53727, 443, [...client]) });
  const dir = mkdtempSync(join(tmpdir(), 'palisade-quic-'));
  try {
    const file = join(dir, 'flood.pcap');
    writeFileSync(file, pcapFile(recs));
    const a = await analyzeCapture(file, { detect: false });
    const q = a.capture.quic;
    assert.ok(q);
    assert.equal(q.initials, QUIC_BUDGET_PER_SECOND + over + 2);
    assert.equal(q.opened + q.unreadable, QUIC_BUDGET_PER_SECOND, 'tries in the flood second are the budget');
    // The client's Initial came early in the second: opened; its copy a second later: a repeat.
    assert.deepEqual(q, { initials: 2702, opened: 1, repeats: 1, over_budget: over + 1, unreadable: QUIC_BUDGET_PER_SECOND - 1, budget_per_s: QUIC_BUDGET_PER_SECOND });
    assert.deepEqual(a.traffic.top_tls_sni, [{ name: 'api.cirrus-ci.com', packets: 1 }]);
    assert.equal(schemaErrors(a, 'analysis'), null);
    assert.ok(renderAnalysis(a, false).includes('QUIC: 701 of 2,702 Initials not decrypted (budget 2,000/s): a flood of QUIC-looking packets?'));
    // The same file again in the same process: the same counts and the same hello.
    const b = await analyzeCapture(file, { detect: false });
    assert.deepEqual(b.capture.quic, q);
    assert.deepEqual(b.traffic.top_tls_sni, a.traffic.top_tls_sni);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
