/**
 * PCRE → JavaScript translation. The golden test runs every @rx pattern of the installed CRS
 * through GNU grep -P (PCRE2, byte semantics with LC_ALL=C) and through our translation over
 * the same sample lines — payloads taken from the shared CRS regression tests plus benign
 * strings — and requires identical match sets.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compilePcre, PcreError, translatePcre } from '../../src/waf/pcre.js';
import { crsPatterns, samples } from '../helpers/crs.js';

test('constructs JavaScript lacks are rewritten', () => {
  const cases: [string, string, boolean][] = [
    ['(?i:select)\\s+', 'SeLeCt  ', true],
    ['(?i)^abc$', 'ABC', true],
    ['\\Aab\\z', 'ab', true],
    ['\\Aab\\z', 'ab\n', false],
    ['ab\\Z', 'ab\n', true],
    ['[[:alpha:]]+[[:digit:]]', 'abc1', true],
    ['[]a]', ']', true],
    ['[^]a]', 'b', true],
    ['a*+b', 'aaab', true],
    ['(?>ab|a)c', 'abc', true],
    ['\\x{41}\\x42', 'AB', true],
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['x(?i:a[b-c])y', 'xABy', true],
    ['x(?i:a[b-c])y', 'XABy', false],
    ['\\s', '\xa0', false],
    ['[\\s]', '\x0b', true],
    ['(?#comment)a', 'a', true],
    ['a$', 'a\n', false],
  ];
  for (const [pat, input, want] of cases) {
    assert.equal(compilePcre(pat).test(input), want, `${pat} on ${JSON.stringify(input)}`);
  }
});

test('unsupported PCRE is rejected with a reason', () => {
  for (const pat of ['(?R)', 'a\\Gb', '(?x) a b', '(?(1)a|b)']) {
    assert.throws(() => translatePcre(pat), PcreError, pat);
  }
});

test('every CRS @rx pattern matches like PCRE (grep -P) on the regression-test payloads', { timeout: 120_000 }, () => {
  const lines = samples();
  const dir = mkdtempSync(join(tmpdir(), 'palisade-pcre-'));
  const file = join(dir, 'samples.txt');
  writeFileSync(file, Buffer.from(`${lines.join('\n')}\n`, 'latin1'));
  const patterns = crsPatterns();
  assert.ok(patterns.size > 200, `found ${patterns.size} patterns`);
  const mismatches: string[] = [];
  try {
    for (const pat of patterns) {
      if (pat.includes('%{')) continue; // macros are expanded at run time
      const re = compilePcre(pat);
      const r = spawnSync('grep', ['-P', '-n', '-a', '--', pat, file], { env: { ...process.env, LC_ALL: 'C' }, encoding: 'latin1' });
      assert.ok(r.status === 0 || r.status === 1, `grep -P failed on ${pat}: ${r.stderr}`);
      const want = new Set(
        (r.stdout ?? '')
          .split('\n')
          .filter(Boolean)
          .map((l) => Number(l.slice(0, l.indexOf(':'))) - 1),
      );
      for (let i = 0; i < lines.length; i++) {
        if (re.test(lines[i]) !== want.has(i)) mismatches.push(`${pat.slice(0, 80)} on ${JSON.stringify(lines[i].slice(0, 80))}: grep ${want.has(i)}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(mismatches.slice(0, 20), []);
});
