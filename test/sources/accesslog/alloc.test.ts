/**
 * The hot path allocates nothing per line: a combined line parsed into the reused view (offsets,
 * numbers, the time read in place) makes no garbage; strings are made only when asked for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parserFor } from '../../../src/sources/accesslog/parsers.js';
import { HttpLogView } from '../../../src/sources/accesslog/view.js';
import { gcsDuring } from '../../helpers/gc.js';

const lines: string[] = [];
for (let i = 0; i < 5000; i++) {
  lines.push(
    `10.${(i >> 8) & 255}.${i & 255}.7 - - [10/Oct/2000:13:55:${String(i % 60).padStart(2, '0')} -0700] "GET /p/${i}?q=${i} HTTP/1.1" ${200 + (i % 3)} ${i} "https://ex.com/${i}" "Mozilla/5.0 ${i}"`,
  );
}
const parser = parserFor('combined');
const view = new HttpLogView();
const sink = new Float64Array(1);

/** A million lines; the sum goes to a typed array (a double kept in a variable outside would be boxed per store). */
function run(): void {
  let sum = 0;
  for (let k = 0; k < 200; k++) for (const l of lines) if (parser.parse(l, view)) sum += view.status + view.responseSize + (view.timeMs % 1000);
  sink[0] += sum;
}

test('parsing combined lines into the view does not allocate', async () => {
  // Warm up until the code is optimised (Node 24's tiers take a few passes).
  for (let i = 0; i < 3; i++) run();
  assert.equal(await gcsDuring(run), 0);
  assert.ok(sink[0] > 0);
});
