/**
 * The ruleset file behind the rule editor, and the list files it names: read with an ETag (a
 * hash of the text, so any change, by the API or by hand, is seen), checked with every problem
 * placed in the text, and replaced atomically (a temporary file beside it, fsync, rename, fsync
 * of the directory), one replacement at a time in this process.
 *
 * List files must sit in the ruleset's directory or below it: the API lets an operator change
 * the ruleset, and a ruleset naming /etc/shadow as a list must not make the server read or
 * write it.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { type ListFormat, parseList } from '../mitigate/lists.js';
import { parseRuleset, type Rule, type Ruleset, RulesetError, type RulesetProblem } from '../mitigate/ruleset.js';
import { secret, sha256 } from './auth.js';

/** A new ruleset file's text: valid, and empty. */
export const EMPTY_RULESET = '# palisade ruleset (palisade mitigate -r reads it; palisade serve edits it)\nrules: []\n';

export function etagOf(text: string): string {
  return `"${sha256(text).slice(0, 32)}"`;
}

/** The file's text; created with an empty ruleset when it does not exist. */
export function readOrCreate(path: string): string {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeAtomically(path, EMPTY_RULESET);
  }
  return readFileSync(path, 'utf8');
}

/** Replaces `path` with `text` so a reader sees the old file or the new one, never a part, even after a crash. */
export function writeAtomically(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${secret(6)}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o640);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  // the rename itself is durable once the directory is
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

/** One replacement at a time: the If-Match check and the write must not interleave with another's. */
let queue: Promise<unknown> = Promise.resolve();
export function serialized<T>(fn: () => Promise<T> | T): Promise<T> {
  const next = queue.then(fn, fn);
  queue = next.catch(() => undefined);
  return next;
}

/** A list of the ruleset as written: where its entries come from. */
export interface ListSource {
  name: string;
  kind: string;
  /** The file as written in the ruleset, and resolved; null for inline `entries`. */
  file: string | null;
  path: string | null;
  format: ListFormat | 'auto' | null;
  /** Inline entries, as written. */
  entries: string[] | null;
}

/** The lists a ruleset text declares (mapping or list form), without loading them. */
export function listSources(text: string, rulesFile: string): ListSource[] {
  const doc = parseDocument(text, { prettyErrors: false });
  const lists = doc.errors.length > 0 ? null : (doc.toJS() as { lists?: unknown } | null)?.lists;
  const out: ListSource[] = [];
  const take = (name: string, raw: unknown): void => {
    if (raw === null || typeof raw !== 'object') return;
    const l = raw as Record<string, unknown>;
    const file = typeof l.file === 'string' ? l.file : null;
    out.push({
      name,
      kind: typeof l.kind === 'string' ? l.kind : 'named',
      file,
      path: file === null ? null : isAbsolute(file) ? file : resolve(dirname(rulesFile), file),
      format: typeof l.format === 'string' ? (l.format as ListFormat) : null,
      entries: Array.isArray(l.entries) ? l.entries.map(String) : null,
    });
  };
  if (Array.isArray(lists)) for (const l of lists) take(String((l as Record<string, unknown>)?.name ?? ''), l);
  else if (lists !== null && typeof lists === 'object') for (const [k, v] of Object.entries(lists)) take(k, v);
  return out;
}

/** True when `path` is the rules directory or inside it. */
export function insideDir(dir: string, path: string): boolean {
  const rel = relative(resolve(dir), resolve(path));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export interface Checked {
  ruleset: Ruleset | null;
  problems: RulesetProblem[];
}

/**
 * The ruleset in `text` as if it were the file at `rulesFile`: parsed, each problem with its line,
 * column and offsets (a rule expression's also with the Rules compiler's span in it); list files
 * outside the rules directory are a problem here before anything reads them.
 */
export function checkRuleset(text: string, rulesFile: string): Checked {
  const dir = dirname(rulesFile);
  const outside = listSources(text, rulesFile).filter((l) => l.path !== null && !insideDir(dir, l.path));
  if (outside.length > 0) return { ruleset: null, problems: outside.map((l) => listFileProblem(text, l)) };
  try {
    return { ruleset: parseRuleset(text, rulesFile, { baseDir: dir }), problems: [] };
  } catch (e) {
    if (e instanceof RulesetError) return { ruleset: null, problems: e.problems };
    throw e;
  }
}

/** Where `file:` of a list stands in the text, with the message. */
function listFileProblem(text: string, l: ListSource): RulesetProblem {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const lists = doc.get('lists', true);
  let range: [number, number] = [0, 0];
  if (isMap(lists)) {
    const node = lists.get(l.name, true);
    const file = isMap(node) ? node.get('file', true) : null;
    if (file && typeof file === 'object' && 'range' in file && file.range) range = [file.range[0], file.range[1]];
  } else if (isSeq(lists)) {
    for (const item of lists.items)
      if (isMap(item) && item.get('name') === l.name) {
        const file = item.get('file', true);
        if (file && typeof file === 'object' && 'range' in file && file.range) range = [file.range[0], file.range[1]];
      }
  }
  const p = lc.linePos(range[0]);
  return {
    line: p.line,
    column: p.col,
    start: range[0],
    end: range[1],
    message: `list ${l.name}: file ${l.file} is outside the ruleset's directory (${dirname(resolve(l.path as string))})`,
  };
}

/** What a replacement changed, rule by rule (for the audit log). */
export function ruleChanges(before: Ruleset | null, after: Ruleset): { added: string[]; removed: string[]; changed: string[] } {
  const key = (r: Rule): string => JSON.stringify([r.expression, r.action, r.enabled, r.description, r.rateLimit]);
  const old = new Map((before?.rules ?? []).map((r) => [r.id, key(r)]));
  const now = new Map(after.rules.map((r) => [r.id, key(r)]));
  return {
    added: [...now.keys()].filter((id) => !old.has(id)),
    removed: [...old.keys()].filter((id) => !now.has(id)),
    changed: [...now.keys()].filter((id) => old.has(id) && old.get(id) !== now.get(id)),
  };
}

/** A list file's text checked in its format: the lines that would be skipped. */
export function checkListText(text: string, l: ListSource): { entries: number; problems: { line: number; message: string; severity: string }[] } {
  const parsed = parseList(text, { ...(l.format !== null && { format: l.format }) }, l.path ?? '');
  return { entries: parsed.entries.length, problems: parsed.problems };
}
