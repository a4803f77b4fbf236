/**
 * Helpers of the spec-*.test.ts files: compile an expression against a scheme's catalogue over
 * plain records (as the conformance runner does) and look at the one error, the parsed
 * right-hand literal, or the result over a record. Offsets are code points (spec §1).
 */
import assert from 'node:assert/strict';
import type { Rhs } from '../../src/rules/ast.js';
import { compile, type NamedList } from '../../src/rules/compile.js';
import { recordSchemeFor } from '../../src/rules/conformance.js';
import { RulesError } from '../../src/rules/errors.js';
import { parseExpression } from '../../src/rules/parser.js';
import { type RecordView, recordFromJson } from '../../src/scheme/record.js';
import type { Scheme } from '../../src/scheme/types.js';

export type SchemeName = 'http' | 'packet';

function scheme(name: SchemeName): Scheme<RecordView> {
  return recordSchemeFor(name) as Scheme<RecordView>;
}

/** The error compile() raises for expr: class and span. Fails the test when it compiles. */
export function errorOf(expr: string, on: SchemeName = 'http', lists: Record<string, NamedList> = {}): { cls: string; start: number; end: number } {
  try {
    compile(expr, scheme(on), { lists });
  } catch (e) {
    if (!(e instanceof RulesError)) throw e;
    assert.ok(e.end >= e.start && e.end <= Array.from(expr).length, `span ${e.start}..${e.end} of ${JSON.stringify(expr)} must lie within it`);
    return { cls: e.cls, start: e.start, end: e.end };
  }
  return assert.fail(`${JSON.stringify(expr)} compiled; expected an error`);
}

/** Asserts that expr fails with class cls over [start, end). */
export function rejects(expr: string, cls: string, start: number, end: number, on: SchemeName = 'http', lists: Record<string, NamedList> = {}): void {
  assert.deepEqual(errorOf(expr, on, lists), { cls, start, end }, expr);
}

/** The right-hand side of the single comparison expr (which must compile). */
export function rhsOf(expr: string, on: SchemeName = 'http'): Rhs {
  compile(expr, scheme(on));
  const e = parseExpression(expr, scheme(on) as Scheme<unknown>);
  assert.equal(e.k, 'cmp', `${expr} is not one comparison`);
  return (e as { rhs: Rhs }).rhs;
}

/** The bytes of a Bytes literal (or pattern source) on the right of expr, as hex. */
export function bytesOf(expr: string, on: SchemeName = 'http'): string {
  const r = rhsOf(expr, on);
  if (r.k === 'bytes') return Buffer.from(r.v).toString('hex');
  if (r.k === 'regex' || r.k === 'wildcard') return Buffer.from(r.source).toString('hex');
  return assert.fail(`${expr}: the right side is ${r.k}, not bytes`);
}

export function hex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

/** Evaluates expr over a record given as conformance-format JSON fields. */
export function evaluate(expr: string, fields: Record<string, unknown>, on: SchemeName = 'http', lists: Record<string, NamedList> = {}): boolean {
  const s = scheme(on);
  return compile(expr, s, { lists })(recordFromJson(s, fields));
}
