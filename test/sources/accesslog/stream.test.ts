/**
 * readLogStream: a log as a stream that keeps coming (stdin, the edge's request stream). Records
 * are handed over as their newlines arrive, whatever the chunking; the format is detected on the
 * first chunk's lines; hostile input (random bytes, cut lines, NUL, huge lines) is counted as
 * malformed or skipped, never thrown, and every line is accounted for.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { readLogStream } from '../../../src/sources/accesslog/stream.js';
import { prng } from '../../helpers/prng.js';

const LINE = (i: number): string => `192.0.2.${i % 250} - - [06/Dec/2026:12:00:${String(i % 60).padStart(2, '0')} +0000] "GET /p/${i} HTTP/1.1" 200 ${100 + i} "-" "curl/8.5.0"\n`;

test('records arrive whatever the chunking; the format is detected; the last line without its newline counts', async () => {
  const text = Array.from({ length: 500 }, (_, i) => LINE(i))
    .join('')
    .slice(0, -1);
  const rnd = { next: prng(3) };
  const chunks: Buffer[] = [];
  for (let at = 0; at < text.length; ) {
    const n = 1 + Math.floor(rnd.next() * 300);
    chunks.push(Buffer.from(text.slice(at, at + n), 'latin1'));
    at += n;
  }
  let n = 0;
  const info = await readLogStream(Readable.from(chunks), 'chunked', () => {
    n++;
  });
  assert.equal(n, 500);
  assert.equal(info.records, 500);
  assert.equal(info.malformed, 0);
  assert.equal(info.format, 'combined');
});

test('hostile bytes: counted, never thrown; lines = records + malformed + skipped', async () => {
  const rnd = { next: prng(11) };
  for (let round = 0; round < 30; round++) {
    const parts: Buffer[] = [];
    for (let k = 0; k < 40; k++) {
      const r = rnd.next();
      if (r < 0.4) parts.push(Buffer.from(LINE(k), 'latin1'));
      else if (r < 0.6) parts.push(Buffer.from(LINE(k).slice(0, Math.floor(rnd.next() * 60)), 'latin1'));
      else if (r < 0.8) parts.push(Buffer.from(Array.from({ length: Math.floor(rnd.next() * 200) }, () => Math.floor(rnd.next() * 256))));
      else parts.push(Buffer.from(`{"time":"2026-12-06T12:00:00Z","client":{"ip":"192.0.2.1"},"method":"GET"${rnd.next() < 0.5 ? '}' : ''}\n`));
    }
    for (const format of ['combined', 'palisade', undefined]) {
      const info = await readLogStream(Readable.from(parts), 'fuzz', () => {}, format === undefined ? {} : { format });
      assert.equal(info.lines, info.records + info.malformed + info.skipped, `${format} round ${round}`);
    }
  }
});
