/** The generator produces every L3/L4 vector of the model, and the detector's classes cover each exactly once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLS_VECTOR } from '../../src/detect/l34/classify.js';
import { L34_VECTORS } from '../../src/generate/attacks.js';
import { VECTORS } from '../../src/model/attack.js';

test('the generator produces every L3/L4 vector of the model', () => {
  assert.deepEqual([...L34_VECTORS], [...VECTORS.filter((v) => !['http_flood', 'slowloris', 'credential_stuffing', 'scanner'].includes(v))]);
});

test("each L3/L4 vector is one class of the detector, in the model's order", () => {
  assert.deepEqual(
    CLS_VECTOR.filter((v) => v !== null),
    [...L34_VECTORS],
  );
});
