/**
 * The operator prefilters (src/waf/prefilter.ts, src/waf/factors.ts) must never skip a value an
 * operator matches: every operator of the installed CRS is run on the regression-test payloads,
 * benign values, random strings and transformed variants, and wherever a prefilter says "cannot
 * match" the operator must indeed not match. Transformation bounds and literal factors are
 * checked the same way, and the engine's verdicts must not depend on what its value cache holds.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createWaf, type WafRequest } from '../../src/waf/engine.js';
import { gramsMiss, gramsOf, patternFactors } from '../../src/waf/factors.js';
import { compileOperator, type OpContext } from '../../src/waf/operators.js';
import { compilePcre, translatePcre } from '../../src/waf/pcre.js';
import { classMask, transferOf } from '../../src/waf/prefilter.js';
import { parseSecLang } from '../../src/waf/seclang.js';
import { TRANSFORMS } from '../../src/waf/transforms.js';
import { CRS_RULES, crsPatterns, samples } from '../helpers/crs.js';
import { prng } from '../helpers/prng.js';

/** payloads, benign values, random strings over a few alphabets, and transformed variants */
function corpus(): string[] {
  const out = new Set(samples());
  const r = prng(11);
  const alphabets = ['abcdefghijklmnopqrstuvwxyz0123456789', 'abcXYZ019 .-_/,;=:()&+*?%', `<>'"\`;|&$(){}[]\\/=:.!#@^~%+ \t\r\n\0abcSELECTunion`, '\x80\xa0\xc3\xa9\xe2\xff%uUaA0'];
  for (let i = 0; i < 1500; i++) {
    const a = alphabets[i % alphabets.length];
    let s = '';
    const n = 1 + Math.floor(r() * 30);
    for (let k = 0; k < n; k++) s += a[Math.floor(r() * a.length)];
    out.add(s);
  }
  const base = [...out];
  for (const s of base.slice(0, 1500)) {
    for (const t of ['urldecodeuni', 'htmlentitydecode', 'jsdecode', 'cmdline', 'lowercase', 'base64decode']) {
      const v = TRANSFORMS[t](s);
      if (v.length > 0) out.add(v);
    }
  }
  return [...out];
}

const CORPUS = corpus();

test('a transformation never produces a character class its bound leaves out', () => {
  const wrong: string[] = [];
  for (const [name, fn] of Object.entries(TRANSFORMS)) {
    const transfer = transferOf(name);
    for (const s of CORPUS) {
      let out: string;
      try {
        out = fn(s);
      } catch {
        continue; // (urlencode throws on lone surrogates: no output, nothing to bound)
      }
      const extra = classMask(out) & ~transfer(classMask(s));
      if (extra !== 0 && wrong.length < 10) wrong.push(`${name}(${JSON.stringify(s.slice(0, 40))}) has classes ${extra.toString(16)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('every match of a CRS pattern contains one of the pattern’s literal factors', () => {
  let withFactors = 0;
  const wrong: string[] = [];
  const fold = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/[\x80-\uffff]/g, '\x80');
  for (const pat of crsPatterns()) {
    if (pat.includes('%{')) continue;
    const f = patternFactors(translatePcre(pat).source);
    if (f === null) continue;
    withFactors++;
    const re = compilePcre(pat);
    for (const s of CORPUS) {
      if (!re.test(s)) continue;
      const folded = fold(s);
      if (!f.some((x) => folded.includes(x))) wrong.push(`${pat.slice(0, 60)} matched ${JSON.stringify(s.slice(0, 60))} without ${f.slice(0, 5).join(' ')}`);
    }
  }
  assert.ok(withFactors > 60, `${withFactors} patterns have factors`);
  assert.deepEqual(wrong.slice(0, 10), []);
});

test('no CRS operator matches a value its prefilter rules out', { timeout: 300_000 }, () => {
  const ctx = { caps: new Array(10).fill(undefined), expand: (p: string) => p } as unknown as OpContext;
  const seen = new Set<string>();
  let filtered = 0;
  let skips = 0;
  const wrong: string[] = [];
  const g = new Int32Array(2);
  const masks = CORPUS.map(classMask);
  const grams = CORPUS.map((s) => {
    gramsOf(s, g, 0);
    return [g[0], g[1]];
  });
  for (const f of readdirSync(CRS_RULES).filter((n) => n.endsWith('.conf'))) {
    const file = join(CRS_RULES, f);
    for (const d of parseSecLang(readFileSync(file, 'latin1'), file)) {
      if (d.name !== 'SecRule' && d.name !== 'SecAction') continue;
      const text = (d.args[1] ?? '').replace(/^!/, '');
      if (text.includes('%{') || seen.has(text)) continue;
      seen.add(text);
      const m = /^@(\w+)\s?([\s\S]*)$/.exec(text);
      const op = m ? compileOperator(m[1], m[2], file) : compileOperator('rx', text, file);
      if (op.need === 0 && op.grams === null) continue;
      filtered++;
      for (let i = 0; i < CORPUS.length; i++) {
        const out = (op.need !== 0 && (masks[i] & op.need) === 0) || (op.grams !== null && gramsMiss(op.grams, grams[i][0], grams[i][1]));
        if (!out) continue;
        skips++;
        if (op.match(CORPUS[i], ctx, false)) wrong.push(`@${op.name} ${op.param.slice(0, 50)} matches ${JSON.stringify(CORPUS[i].slice(0, 50))}`);
      }
    }
  }
  assert.ok(filtered > 250, `${filtered} operators have a prefilter`);
  assert.ok(skips > 100_000, `${skips} values ruled out`);
  assert.deepEqual(wrong.slice(0, 10), []);
});

test('verdicts do not depend on what the value cache already holds', { timeout: 300_000 }, () => {
  // the same requests in two orders, on two engines, across several cache resets (thousands
  // of distinct values): every verdict must be the same
  const payloads = samples().slice(0, 600);
  const r = prng(5);
  const reqs: WafRequest[] = [];
  for (let i = 0; i < 2400; i++) {
    const p = payloads[i % payloads.length];
    const id = Math.floor(r() * 1e9).toString(16);
    const q = encodeURIComponent(i % 3 === 0 ? p : `${id}${i}`);
    reqs.push({
      method: i % 5 === 0 ? 'POST' : 'GET',
      uri: `/p/${id}?a=${q}&b=${i % 7}`,
      protocol: 'HTTP/1.1',
      headers: [
        ['Host', 'localhost'],
        ['User-Agent', i % 4 === 0 ? p.slice(0, 200) : 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0'],
        ['Cookie', `s=${id}; t=${i % 2 ? p.slice(0, 100) : 'dark'}`],
        ['Content-Type', 'application/x-www-form-urlencoded'],
      ],
      body: i % 5 === 0 ? `x=${encodeURIComponent(p)}&y=${id}` : null,
    });
  }
  const a = createWaf({ paranoia: 2 });
  const b = createWaf({ paranoia: 2 });
  const key = (v: ReturnType<typeof a.evaluate>): string => `${v.status} ${v.anomaly.inbound} ${v.matched.map((m) => `${m.id}:${m.data}`).join(',')}`;
  const fromA = reqs.map((q) => key(a.evaluate(q)));
  const fromB: string[] = new Array(reqs.length);
  for (let i = reqs.length - 1; i >= 0; i--) fromB[i] = key(b.evaluate(reqs[i]));
  let blocked = 0;
  const diff: string[] = [];
  for (let i = 0; i < reqs.length; i++) {
    if (fromA[i].startsWith('403')) blocked++;
    if (fromA[i] !== fromB[i] && diff.length < 5) diff.push(`${reqs[i].uri}: ${fromA[i]} / ${fromB[i]}`);
  }
  assert.ok(blocked > 100, `${blocked} requests blocked`);
  assert.deepEqual(diff, []);
});

test('a verdict that depends on more than the value itself is never kept', () => {
  const waf = createWaf({
    extraConfig: [
      'SecRule REQUEST_HEADERS:X-Want "@streq %{REQUEST_HEADERS.x-have}" "id:10001,phase:1,deny,status:403,log"',
      'SecRule ARGS:n "@lt %{ARGS.m}" "id:10002,phase:2,deny,status:403,log"',
      'SecRule ARGS:r "@rx ^%{ARGS.p}$" "id:10003,phase:2,deny,status:403,log"',
    ].join('\n'),
  });
  const req = (want: string, have: string, query: string): WafRequest => ({
    method: 'GET',
    uri: `/?${query}`,
    protocol: 'HTTP/1.1',
    headers: [
      ['Host', 'localhost'],
      ['X-Want', want],
      ['X-Have', have],
    ],
  });
  // the same value of the inspected variable each time; only the macro's value changes
  assert.equal(waf.evaluate(req('abc', 'xyz', 'n=5&m=1&r=k&p=j')).status, 200);
  assert.equal(waf.evaluate(req('abc', 'abc', 'n=5&m=1&r=k&p=j')).status, 403);
  assert.equal(waf.evaluate(req('abc', 'xyz', 'n=5&m=9&r=k&p=j')).status, 403);
  assert.equal(waf.evaluate(req('abc', 'xyz', 'n=5&m=1&r=k&p=k')).status, 403);
  assert.equal(waf.evaluate(req('abc', 'xyz', 'n=5&m=1&r=k&p=j')).status, 200);
});
