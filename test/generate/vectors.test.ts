/** The generator keeps its own list of L3/L4 vectors (its truth must not depend on the classifier); it must cover the detector's. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { L34_VECTOR_NAMES } from '../../src/detect/l34/classify.js';
import { L34_VECTORS } from '../../src/generate/attacks.js';

test('the generator produces every vector the detector classifies, in the same order', () => {
  assert.deepEqual([...L34_VECTORS], [...L34_VECTOR_NAMES]);
});
