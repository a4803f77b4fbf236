/**
 * Runner for Rules-language conformance vectors (../shared/conformance/rules/README.md): each
 * JSONL case compiles `expr` against its scheme's catalogue (over plain records) with the case's
 * named lists, then either evaluates it over `fields` or checks the error class and position.
 */
import { httpScheme } from '../scheme/http.js';
import { packetScheme } from '../scheme/packet.js';
import { type RecordView, recordFromJson, recordScheme } from '../scheme/record.js';
import type { Scheme } from '../scheme/types.js';
import { compile, ListError, type NamedList } from './compile.js';
import { RulesError } from './errors.js';

export interface CaseOutcome {
  id: string;
  line: number;
  ok: boolean;
  /** Why it failed (empty when ok). */
  detail: string;
}

const schemes: Record<string, Scheme<RecordView>> = {};
export function recordSchemeFor(name: string): Scheme<RecordView> | null {
  if (name !== 'packet' && name !== 'http') return null;
  schemes[name] ??= recordScheme((name === 'packet' ? packetScheme : httpScheme) as Scheme<unknown>);
  return schemes[name] as Scheme<RecordView>;
}

interface Case {
  id?: string;
  scheme?: string;
  expr?: unknown;
  fields?: Record<string, unknown>;
  lists?: Record<string, NamedList>;
  expect?: unknown;
  error?: unknown;
  at?: unknown;
}

export function runCase(c: Case, line: number): CaseOutcome {
  const id = typeof c.id === 'string' ? c.id : `line ${line}`;
  const out = (ok: boolean, detail = ''): CaseOutcome => ({ id, line, ok, detail });
  const scheme = recordSchemeFor(String(c.scheme));
  if (scheme === null) return out(false, `unknown scheme ${JSON.stringify(c.scheme)}`);
  if (typeof c.expr !== 'string') return out(false, 'expr is not a string');
  let pred: ((r: RecordView) => boolean) | null = null;
  let err: RulesError | null = null;
  try {
    pred = compile(c.expr, scheme, { lists: c.lists ?? {} });
  } catch (e) {
    if (e instanceof ListError) return out(false, `bad list: ${e.message}`);
    if (!(e instanceof RulesError)) return out(false, `internal error while compiling: ${(e as Error).stack ?? e}`);
    err = e;
  }
  if (c.error !== undefined) {
    if (err === null) return out(false, `expected a ${c.error} error, but it compiled`);
    if (err.cls !== c.error) return out(false, `expected a ${c.error} error, got ${err.cls} at ${err.start}: ${err.message}`);
    if (typeof c.at === 'number' && err.start !== c.at) return out(false, `expected the ${c.error} error at ${c.at}, got it at ${err.start}: ${err.message}`);
    return out(true);
  }
  if (err !== null) return out(false, `expected ${c.expect}, got a ${err.cls} error at ${err.start}: ${err.message}`);
  if (typeof c.expect !== 'boolean') return out(false, 'case has neither a boolean expect nor an error');
  let rec: RecordView;
  try {
    rec = recordFromJson(scheme, c.fields ?? {});
  } catch (e) {
    return out(false, `bad fields: ${(e as Error).message}`);
  }
  let got: boolean;
  try {
    got = (pred as (r: RecordView) => boolean)(rec);
  } catch (e) {
    return out(false, `internal error while evaluating: ${(e as Error).stack ?? e}`);
  }
  return got === c.expect ? out(true) : out(false, `expected ${c.expect}, got ${got}`);
}

/** Run every case of a JSONL text; blank lines are skipped, malformed lines are failures. */
export function runCases(text: string): CaseOutcome[] {
  const results: CaseOutcome[] = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim() === '') return;
    let c: Case;
    try {
      c = JSON.parse(l) as Case;
    } catch (e) {
      results.push({ id: `line ${i + 1}`, line: i + 1, ok: false, detail: `not JSON: ${(e as Error).message}` });
      return;
    }
    results.push(runCase(c, i + 1));
  });
  return results;
}
