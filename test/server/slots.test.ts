/** Slots: at most `size` runs at once, the next refused with 429 (and Retry-After), a slot freed when its work ends, even by throwing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpError } from '../../src/server/http.js';
import { Slots } from '../../src/server/slots.js';

test('two at once, the third refused with 429; a failed run frees its slot', async () => {
  const slots = new Slots(2, 'report PDFs');
  const gates: Array<() => void> = [];
  const held = () => slots.run(() => new Promise<void>((r) => gates.push(r)));
  const a = held();
  const b = held();
  await assert.rejects(
    slots.run(async () => 'never'),
    (e: unknown) => e instanceof HttpError && e.status === 429 && e.headers['retry-after'] === '5' && /2 report PDFs already in progress/.test(e.message),
  );
  for (const g of gates) g();
  await Promise.all([a, b]);
  await assert.rejects(
    slots.run(async () => {
      throw new Error('chromium failed');
    }),
    /chromium failed/,
  );
  assert.equal(await slots.run(async () => 'ran'), 'ran', 'the slots are free again');
});
