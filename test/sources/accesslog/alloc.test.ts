/**
 * The hot path allocates nothing per line: a combined line parsed into the reused view (offsets,
 * numbers, the time read in place) makes no garbage; strings are made only when asked for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parserFor } from '../../../src/sources/accesslog/parsers.js';
import { HttpLogView } from '../../../src/sources/accesslog/view.js';
import { gcsDuring } from '../../helpers/gc.js';

test('parsing combined lines into the view does not allocate', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 5000; i++) {
    lines.push(
      `10.${(i >> 8) & 255}.${i & 255}.7 - - [10/Oct/2000:13:55:${String(i % 60).padStart(2, '0')} -0700] "GET /p/${i}?q=${i} HTTP/1.1" ${200 + (i % 3)} ${i} "https://ex.com/${i}" "Mozilla/5.0 ${i}"`,
    );
  }
  const p = parserFor('combined');
  const v = new HttpLogView();
  let sink = 0;
  const run = (): void => {
    // A local sum: a double kept in the closure would be a heap number per store.
    let sum = 0;
    for (let k = 0; k < 200; k++) for (const l of lines) if (p.parse(l, v)) sum += v.status + v.responseSize + (v.timeMs % 1000);
    sink += sum;
  };
  run();
  assert.equal(await gcsDuring(run), 0);
  assert.ok(sink > 0);
});
