/** Parsers of untrusted input (list files, rulesets, expressions) never throw anything but their own errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/core/errors.js';
import { parseList } from '../../src/mitigate/lists.js';
import { parseRuleset, RulesetError } from '../../src/mitigate/ruleset.js';
import { ExprError, parseExpr } from '../../src/rules/packet-ir.js';
import { prng } from '../helpers/prng.js';

const ALPHABET = [
  '1',
  '0',
  '.',
  ':',
  '/',
  '-',
  ';',
  '#',
  ',',
  '"',
  ' ',
  '\n',
  '\t',
  'a',
  'f',
  'x',
  '{',
  '}',
  '[',
  ']',
  '2001:db8::',
  '10.0.0.',
  '255',
  '/33',
  'SBL1',
  '\u00e9',
  '\u0000',
];
const EXPR_TOKENS = [
  'ip.src',
  'tcp.dstport',
  'tcp.flags.syn',
  'ip.len',
  'udp.srcport',
  ' == ',
  ' != ',
  ' < ',
  ' in ',
  ' & ',
  ' and ',
  ' or ',
  ' not ',
  ' xor ',
  '(',
  ')',
  '{',
  '}',
  '80',
  '0x1f',
  '10.0.0.0/8',
  '2001:db8::1',
  '"tcp"',
  '$x',
  '..',
  ',',
  'ip.proto',
  ' ',
  'lower(',
  '#',
];

function mutate(r: () => number, parts: string[], n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += parts[Math.floor(r() * parts.length)];
  return s;
}

describe('fuzz', () => {
  it('parseList: every format, random text: entries or problems, never a crash', () => {
    const r = prng(99);
    for (let i = 0; i < 3000; i++) {
      const text = mutate(r, ALPHABET, 1 + Math.floor(r() * 60));
      for (const format of ['plain', 'spamhaus', 'firehol', 'csv', 'json'] as const) {
        try {
          const out = parseList(text, { format });
          for (const e of out.entries) assert.ok(e.prefix.len >= 0 && e.prefix.len <= (e.prefix.family === 4 ? 32 : 128));
        } catch (e) {
          assert.ok(e instanceof InputError, `${format}: ${JSON.stringify(text)}: ${e}`);
        }
      }
    }
  });

  it('parseExpr: random token soup parses or fails with an ExprError inside the input', () => {
    const r = prng(7);
    for (let i = 0; i < 20000; i++) {
      const src = mutate(r, EXPR_TOKENS, 1 + Math.floor(r() * 12));
      try {
        parseExpr(src, { has: (n) => n === 'x' });
      } catch (e) {
        assert.ok(e instanceof ExprError, `${JSON.stringify(src)}: ${e}`);
        assert.ok(e.start >= 0 && e.start <= src.length && e.end >= e.start, `${JSON.stringify(src)}: span ${e.start}-${e.end}`);
      }
    }
  });

  it('parseRuleset: damaged YAML/JSON fails with a RulesetError naming lines', () => {
    const r = prng(5);
    const base = 'rules:\n  - id: a\n    expression: tcp.dstport == 80\n    action: rate_limit\n    action_parameters: { rate: 5, burst: 1, key: ip.src }\n';
    for (let i = 0; i < 2000; i++) {
      const chars = [...base];
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++) chars[Math.floor(r() * chars.length)] = ALPHABET[Math.floor(r() * ALPHABET.length)] as string;
      const text = chars.join('');
      try {
        parseRuleset(text);
      } catch (e) {
        assert.ok(e instanceof RulesetError, `${JSON.stringify(text)}: ${e}`);
        for (const p of e.problems) assert.ok(p.line >= 1 && p.column >= 1, JSON.stringify(p));
      }
    }
  });
});
