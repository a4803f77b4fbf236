/** The attack's emitted signature, failing the test when none met the bar (the tests' attacks all have one). */
import assert from 'node:assert/strict';
import type { Attack } from '../../src/model/attack.js';

export function sigOf(a: Pick<Attack, 'id' | 'signature'>): NonNullable<Attack['signature']> {
  assert.ok(a.signature !== null, `${a.id}: no signature met the bar`);
  return a.signature;
}
