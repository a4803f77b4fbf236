/**
 * The value cache's rows: a value keeps its row whatever order the transactions place values
 * in (the placement-order shortcut must never hand one value another value's row), and the
 * class bounds kept per row are those of the value.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Entry } from '../../src/waf/collections.js';
import { classMask, KNOWN } from '../../src/waf/prefilter.js';
import { ValueCache } from '../../src/waf/value-cache.js';

const chains = { parent: [0], fn: [null], classesAfter: [(m: number) => m] };

function placeAll(vc: ValueCache, gen: number, values: string[]): Entry[] {
  vc.begin();
  return values.map((v) => {
    const e = new Entry('ARGS', 'a', v);
    vc.place(e, gen);
    return e;
  });
}

test('a value keeps its row when the order of placement changes, repeats or grows', () => {
  const vc = new ValueCache(chains, 0, 4);
  const rowOf = new Map<string, number>();
  const rounds = [
    ['alpha', 'beta', 'gamma'],
    ['alpha', 'beta', 'gamma'],
    ['beta', 'alpha', 'gamma'],
    ['gamma', 'gamma', 'delta', 'alpha'],
    ['alpha', 'beta'],
    ['x'.repeat(40), 'alpha', 'beta', 'gamma', 'delta'],
  ];
  let gen = 1;
  for (const values of rounds) {
    const entries = placeAll(vc, gen++, values);
    for (const e of entries) {
      const known = rowOf.get(e.value);
      if (known === undefined) rowOf.set(e.value, e.row);
      else assert.equal(e.row, known, `row of ${e.value}`);
    }
  }
  // distinct values, distinct rows
  assert.equal(new Set(rowOf.values()).size, rowOf.size);
});

test('class bounds come from the value of the row', () => {
  const vc = new ValueCache(chains, 0, 4);
  const [a, b] = placeAll(vc, 1, ['abc', "1' or 1=1--"]);
  assert.equal(vc.boundsOfRow(a)[0], classMask('abc') | KNOWN);
  assert.equal(vc.boundsOfRow(b)[0], classMask("1' or 1=1--") | KNOWN);
  // the next request places them the other way round: each still gets its own
  const [b2, a2] = placeAll(vc, 2, ["1' or 1=1--", 'abc']);
  assert.equal(vc.boundsOfRow(a2)[0], classMask('abc') | KNOWN);
  assert.equal(vc.boundsOfRow(b2)[0], classMask("1' or 1=1--") | KNOWN);
});
