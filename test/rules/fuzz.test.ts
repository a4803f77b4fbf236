/**
 * Fuzzing the lexer, parser and checker (and the compiled predicates): at least 100,000
 * expressions — random token soup, grammar-generated rules, and mutations of the conformance
 * expressions — each either compiles or fails with one RulesError of a spec class whose span
 * lies inside the expression. Nothing else may escape: no TypeError, no RangeError (deep
 * recursion), no hang (the test has an overall timeout). Whatever compiles is evaluated over a
 * record and a decoded packet, which must not throw either.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compile } from '../../src/rules/compile.js';
import { ERROR_CLASSES, RulesError } from '../../src/rules/errors.js';
import { httpScheme } from '../../src/scheme/http.js';
import { packetScheme } from '../../src/scheme/packet.js';
import { type RecordView, recordFromJson, recordScheme } from '../../src/scheme/record.js';
import type { Scheme } from '../../src/scheme/types.js';
import { udpFrame } from '../helpers/build.js';
import { prng } from '../helpers/prng.js';
import { decode } from '../mitigate/packets.js';

const CASES = join(import.meta.dirname, '../../../shared/conformance/rules/cases.jsonl');
const cases = readFileSync(CASES, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as { scheme: string; expr: string; fields?: Record<string, unknown> });

const httpRec = recordScheme(httpScheme as Scheme<unknown>);
const pktRec = recordScheme(packetScheme as Scheme<unknown>);
const httpRecord = recordFromJson(httpRec, cases.find((c) => c.scheme === 'http' && c.fields)?.fields ?? {});
const pktRecord = recordFromJson(pktRec, cases.find((c) => c.scheme === 'packet' && c.fields)?.fields ?? {});
const LISTS = {
  office: { kind: 'ip' as const, items: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.1..192.0.2.9'] },
  ports: { kind: 'int' as const, items: [80, '8000..8999'] },
  hosts: { kind: 'bytes' as const, items: ['a.example', 'b.example'] },
};

const view = decode(udpFrame([198, 51, 100, 7], [203, 0, 113, 10], 53, 31337, [0x17, 0xfe, 0xfd, 0, 0x41, 0x42, 0x43, 0x0a]));

const stats = { total: 0, ok: 0, byClass: new Map<string, number>() };

function check(expr: string): void {
  stats.total++;
  const n = Array.from(expr).length;
  for (const [scheme, rec] of [
    [httpRec, httpRecord],
    [pktRec, pktRecord],
  ] as Array<[Scheme<RecordView>, RecordView]>) {
    try {
      const p = compile(expr, scheme, { lists: LISTS });
      const got = p(rec);
      assert.equal(typeof got, 'boolean');
      // The fused predicate (one generated function) and the closure tree agree.
      assert.equal(compile(expr, scheme, { lists: LISTS, fuse: false })(rec), got, `fused vs closures: ${JSON.stringify(expr)}`);
      if (scheme === pktRec) {
        const onView = compile(expr, packetScheme, { lists: LISTS })(view);
        assert.equal(typeof onView, 'boolean');
        assert.equal(compile(expr, packetScheme, { lists: LISTS, fuse: false })(view), onView, `fused vs closures: ${JSON.stringify(expr)}`);
      }
      stats.ok++;
    } catch (e) {
      if (!(e instanceof RulesError)) {
        assert.fail(`internal exception for ${JSON.stringify(expr)} (${scheme.name}): ${(e as Error)?.stack ?? e}`);
      }
      assert.ok(ERROR_CLASSES.includes(e.cls), `bad class ${e.cls}`);
      assert.ok(e.start >= 0 && e.start <= n && e.end >= e.start && e.end <= n + 1, `span ${e.start}..${e.end} outside ${JSON.stringify(expr)} (${e.cls}: ${e.message})`);
      assert.ok(e.message.length > 0);
      stats.byClass.set(e.cls, (stats.byClass.get(e.cls) ?? 0) + 1);
    }
  }
}

const FIELDS = [...new Set([...packetScheme.fields.keys(), ...httpScheme.fields.keys()])];
const FUNCS = [
  'lower',
  'upper',
  'len',
  'concat',
  'starts_with',
  'ends_with',
  'url_decode',
  'to_string',
  'regex_replace',
  'wildcard_replace',
  'remove_bytes',
  'lookup_json_string',
  'lookup_json_integer',
  'substring',
  'decode_base64',
  'cidr',
  'cidr6',
  'join',
  'split',
  'bit_slice',
  'any',
  'all',
];
const OPS = ['==', '!=', '<', '<=', '>', '>=', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'contains', 'matches', '~', 'wildcard', 'strict wildcard', 'in', '&', 'bitwise_and'];
const LITS = [
  '443',
  '-1',
  '0x1bb',
  '0443',
  '09',
  '9223372036854775808',
  '"a"',
  '""',
  '"\\x41"',
  '"\\777"',
  'r"x"',
  'r#"a"b"#',
  '61:62',
  '10.0.0.1',
  '2001:db8::1',
  '10.0.0.0/8',
  '{80 443}',
  '{1..9}',
  '{10.0.0.0/8 ::/0}',
  '{"a" "b"}',
  '{}',
  '$office',
  '$ports',
  '$hosts',
  '$nope',
  '"(a+)+$"',
  '"[a-"',
  '"*.x"',
  '"a**"',
];
const TYPED: Record<string, [string[], string[]]> = {
  Int: [
    ['==', '!=', '<', '>=', 'in', '&'],
    ['443', '0x10', '0', '-3'],
  ],
  Bytes: [
    ['==', 'contains', 'matches', 'wildcard', 'strict wildcard', 'lt'],
    ['"a"', '""', 'r"(?i)^A.*[0-9]+$"', '"*.example.*"', '"\\x41b"'],
  ],
  Ip: [
    ['==', '!=', 'in', '>'],
    ['10.0.0.1', '2001:db8::1', '{10.0.0.0/8 2001:db8::/32}', '$office'],
  ],
};
const JOIN = [' and ', ' or ', ' xor ', ' && ', ' || ', ' ^^ '];
const SOUP = [
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  '$',
  '*',
  '"',
  '\\',
  '#',
  'r#"',
  '..',
  '.',
  ':',
  '/',
  '-',
  '!',
  'not ',
  ' ',
  '\t',
  '\n',
  'é',
  '🙂',
  '\u0000',
  ...OPS,
  ...JOIN,
  ...LITS,
  ...FIELDS.slice(0, 30),
  ...FUNCS,
];

function gen(r: () => number, depth: number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)] as T;
  const x = r();
  if (depth > 4 || x < 0.35) {
    if (r() < 0.5) {
      // Well-typed comparison, so a good share compiles and gets evaluated.
      const f = pick(FIELDS);
      const t = (packetScheme.fields.get(f) ?? httpScheme.fields.get(f))?.type ?? 'Bool';
      const typed = TYPED[t];
      if (!typed) return t === 'Bool' ? f : `any(${f}[*] ${t.includes('Int') ? '> 3' : 'contains "a"'})`;
      return `${f} ${pick(typed[0])} ${pick(typed[1])}`;
    }
    let v = pick(FIELDS);
    if (r() < 0.25) v = `${pick(FUNCS)}(${v}${r() < 0.5 ? `, ${pick(LITS)}` : ''}${r() < 0.3 ? `, ${pick(LITS)}` : ''})`;
    if (r() < 0.2) v += pick(['[0]', '[*]', '["host"]', '[1][*]', '[*][*]']);
    return r() < 0.15 ? v : `${v} ${pick(OPS)} ${pick(LITS)}`;
  }
  if (x < 0.5) return `not ${gen(r, depth + 1)}`;
  if (x < 0.6) return `(${gen(r, depth + 1)})`;
  if (x < 0.7) return `${pick(['any', 'all'])}(${gen(r, depth + 1)})`;
  return `${gen(r, depth + 1)}${pick(JOIN)}${gen(r, depth + 1)}`;
}

function mutate(r: () => number, s: string): string {
  const cps = Array.from(s);
  const k = 1 + Math.floor(r() * 4);
  for (let i = 0; i < k; i++) {
    const at = Math.floor(r() * (cps.length + 1));
    const m = r();
    if (m < 0.3 && cps.length > 0) cps.splice(at, 1 + Math.floor(r() * 3));
    else if (m < 0.6) cps.splice(at, 0, ...Array.from(SOUP[Math.floor(r() * SOUP.length)] as string));
    else if (m < 0.8 && cps.length > 0) cps[Math.min(at, cps.length - 1)] = String.fromCodePoint(Math.floor(r() * 128));
    else {
      const a = Math.floor(r() * cps.length);
      const b = Math.floor(r() * cps.length);
      [cps[a], cps[b]] = [cps[b] as string, cps[a] as string];
    }
  }
  return cps.join('');
}

test('100,000+ random, generated and mutated expressions: RulesError or a working predicate, never anything else', { timeout: 600_000 }, () => {
  const r = prng(20261201);
  // Token soup.
  for (let i = 0; i < 30_000; i++) {
    const n = Math.floor(r() * 12);
    let s = '';
    for (let k = 0; k < n; k++) s += SOUP[Math.floor(r() * SOUP.length)];
    check(s);
  }
  // Grammar-generated rules, as written and mutated.
  for (let i = 0; i < 25_000; i++) {
    const g = gen(r, 0);
    check(g);
    check(mutate(r, g));
  }
  // Mutations of every conformance expression.
  for (let round = 0; round < 40; round++) for (const c of cases) check(mutate(r, c.expr));
  assert.ok(stats.total >= 100_000, `only ${stats.total} expressions`);
  // The generator must reach both outcomes and every error class, or it is not exploring.
  assert.ok(stats.ok > 5_000, `only ${stats.ok} compiled`);
  for (const cls of ERROR_CLASSES) assert.ok((stats.byClass.get(cls) ?? 0) > 0, `no ${cls} error produced`);
});

test('pathological inputs: deep nesting, long inputs, huge sets and raw-string hashes', () => {
  for (const d of [100, 128, 200, 5_000, 100_000]) {
    check(`${'('.repeat(d)}ssl${')'.repeat(d)}`);
    check(`${'not '.repeat(d)}ssl`);
    check(`${'!'.repeat(d)}ssl`);
    check(`${'lower('.repeat(d)}http.host${')'.repeat(d)} == "a"`);
    check(`${'any('.repeat(d)}x`);
  }
  // 128 levels of parentheses must compile (spec §2).
  assert.equal(
    compile(
      `${'('.repeat(128)}ssl${')'.repeat(128)}`,
      httpScheme,
    )({ method: 'GET', target: '/', host: 'h', version: 'HTTP/1.1', headers: [], clientIp: '192.0.2.1', ssl: true, timestampMs: 0 }),
    true,
  );
  check(`tcp.dstport in {${Array.from({ length: 50_000 }, (_, i) => i).join(' ')}}`);
  check(`ip.src in {${Array.from({ length: 20_000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`).join(' ')}}`);
  check(`http.host == r${'#'.repeat(300)}"x"${'#'.repeat(300)}`);
  check(`http.host == "${'a'.repeat(1_000_000)}"`);
  check(`ssl${' and ssl'.repeat(50_000)}`);
  check(`http.host matches "${'('.repeat(300)}a${')'.repeat(300)}"`);
  check(`http.host matches "a{1000}{1000}"`);
  check(`http.host matches "(a{1000}){1000}"`);
});
