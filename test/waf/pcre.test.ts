/**
 * PCRE → JavaScript translation. The golden test runs every @rx pattern of the installed CRS
 * through GNU grep -P (PCRE2, byte semantics with LC_ALL=C) and through our translation over
 * the same sample lines — payloads taken from the shared CRS regression tests plus benign
 * strings — and requires identical match sets.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compilePcre, PcreError, translatePcre } from '../../src/waf/pcre.js';
import { canMatchPlain, isPlain } from '../../src/waf/prefilter.js';
import { parseSecLang } from '../../src/waf/seclang.js';
import { urlDecodeUni } from '../../src/waf/transforms.js';
import { prng } from '../helpers/prng.js';

const CRS_RULES = '/usr/share/modsecurity-crs/rules';
const TESTS = join(import.meta.dirname, '../../../shared/conformance/crs/tests');

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

function crsPatterns(): Set<string> {
  const patterns = new Set<string>();
  for (const f of readdirSync(CRS_RULES).filter((n) => n.endsWith('.conf'))) {
    for (const d of parseSecLang(readFileSync(join(CRS_RULES, f), 'latin1'), join(CRS_RULES, f))) {
      if (d.name !== 'SecRule') continue;
      const op = (d.args[1] ?? '').replace(/^!/, '');
      if (op.startsWith('@rx ')) patterns.add(op.slice(4));
      else if (!op.startsWith('@')) patterns.add(op);
    }
  }
  return patterns;
}

function samples(): string[] {
  const out = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.yaml')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/^\s*(?:uri|data|User-Agent|Referer|Cookie):\s*["']?(.*?)["']?\s*$/gm)) {
          const v = urlDecodeUni(m[1]);
          if (v && !/[\n\r\0]/.test(v) && v.length < 2000) out.add(v);
        }
      }
    }
  };
  walk(TESTS);
  for (const b of ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36', 'text/html,application/xhtml+xml;q=0.9', 'hello world', '/index.php', '']) out.add(b);
  return [...out].filter((s) => s.length > 0);
}

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

test('patterns judged unable to match plain values never match one (prefilter soundness)', () => {
  const plain = samples().filter(isPlain);
  const r = prng(3);
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-';
  for (let i = 0; i < 2000; i++) {
    let s = '';
    const n = 1 + Math.floor(r() * 40);
    for (let k = 0; k < n; k++) s += alphabet[Math.floor(r() * alphabet.length)];
    plain.push(s);
  }
  for (const w of ['select', 'union', 'script', 'javascript', 'etc', 'passwd', 'cmd.exe', 'system32', 'sleep', 'benchmark', 'x--', '..', 'a.b-c_d']) plain.push(w);
  let judged = 0;
  const wrong: string[] = [];
  for (const pat of crsPatterns()) {
    if (pat.includes('%{')) continue;
    const src = translatePcre(pat).source;
    if (canMatchPlain(src)) continue;
    judged++;
    const re = compilePcre(pat);
    for (const s of plain) if (re.test(s)) wrong.push(`${pat.slice(0, 60)} matched ${s}`);
  }
  assert.ok(judged > 100, `${judged} patterns judged`);
  assert.deepEqual(wrong, []);
});
