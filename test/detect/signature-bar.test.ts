/** Issue 13: a signature whose measured coverage is below the bar is never emitted; a source list takes over from a field signature that would drop real users. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COLLATERAL_BAR, COVERAGE_BAR, chooseSignature } from '../../src/detect/l34/attacks.js';

const fig = (coverage: number, collateral: number, other = 1000, base = 1e6) => ({ coverage, collateral, other, base });

test('below the coverage bar nothing is emitted, whatever the collateral', () => {
  assert.equal(chooseSignature(fig(0, 0), null), null, 'the GRE case: coverage 0');
  assert.equal(chooseSignature(fig(COVERAGE_BAR - 0.01, 0), null), null);
  assert.equal(chooseSignature(fig(0.71, 0), fig(0.5, 0)), null, 'neither covers');
});

test('a field signature meeting both bars is kept; one that drops real users gives way to a source list that does not', () => {
  assert.equal(chooseSignature(fig(1, 0), fig(1, 0)), 'fields');
  assert.equal(chooseSignature(fig(1, 0.026), fig(0.995, 0.0001)), 'list', 'the botnet case');
  assert.equal(chooseSignature(fig(1, 0.026), fig(0.9, 0)), null, 'a list that misses the attack does not take over; neither is emitted');
  assert.equal(chooseSignature(fig(1, 0.0042), null), null, 'the mimic case: every field copies real users');
  assert.equal(chooseSignature(fig(0.5, 0), fig(0.99, 0.0005)), 'list');
});

test('a handful of other packets is within the bar (a short capture), a real share is not', () => {
  assert.equal(chooseSignature(fig(1, 0.0167, 5), null), 'fields');
  assert.ok(COLLATERAL_BAR < 0.0167);
  assert.equal(chooseSignature(fig(1, 0.0167, 500), fig(1, 0.0001, 3)), 'list');
  assert.equal(chooseSignature(fig(1, 0.2, 15, 75), null), 'fields', 'a lab capture of nothing but the attack: 75 other packets say nothing');
});
