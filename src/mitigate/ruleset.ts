/**
 * Rulesets: the file format (YAML or JSON), its validation (errors name the line), and the
 * loaded form the rule engine and the exporters share.
 *
 * ```yaml
 * name: edge
 * lists:
 *   drop:   { kind: block, file: drop.txt, format: spamhaus }
 *   office: { kind: allow, entries: [192.0.2.0/24] }
 *   tor:    { kind: reputation, weight: 40, file: tor.csv, format: csv, column: ip }
 * rules:
 *   - id: syn-flood
 *     description: SYNs to the web server, 1000/s per source
 *     expression: tcp.flags.syn and not tcp.flags.ack and tcp.dstport == 443
 *     action: rate_limit
 *     action_parameters: { rate: 1000, unit: packets, burst: 2000, key: ip.src }
 *   - id: ntp-amp
 *     expression: udp.srcport == 123 and ip.len > 400
 *     action: block
 * ```
 *
 * `rules` may also be given as `{ rules: [...] }` JSON, or a bare array. Actions: `block`,
 * `allow` (skip the remaining rules), `log`, `rate_limit` (`rate` per `period` of `unit`
 * packets or bytes, `burst`, `key` one or more packet fields or `none`, `max_keys` bound on
 * the key table). Token buckets follow the Linux nftables limit semantics, so what-if counts
 * and the kernel agree.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { InputError } from '../core/errors.js';
import { ExprError, type Node, PACKET_FIELDS, parseExpr } from '../rules/packet-ir.js';
import { type ImportOptions, IpList, type ListFormat, type ListKind, ListSet } from './lists.js';

export type Action = 'block' | 'allow' | 'log' | 'rate_limit';
export const ACTIONS: readonly Action[] = ['block', 'allow', 'log', 'rate_limit'];

/** Fields a rate limit may be keyed on (values the engine can read as numbers or addresses). */
export const RATE_KEYS = ['ip.src', 'ip.dst', 'ip.proto.num', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'icmp.type'] as const;
export type RateKey = (typeof RATE_KEYS)[number];

export interface RateLimit {
  /** Units allowed per period. */
  rate: number;
  period: 'second' | 'minute' | 'hour' | 'day';
  unit: 'packets' | 'bytes';
  /** Bucket size beyond the rate: packets, or bytes (nftables semantics). */
  burst: number;
  /** Fields forming the key; empty = one bucket for all matching packets. */
  key: RateKey[];
  /** Bound on the number of keys tracked at once (least recently seen are evicted). */
  maxKeys: number;
}

export interface Rule {
  id: string;
  description: string;
  expression: string;
  action: Action;
  /** Parsed expression (packet-scheme IR). */
  node: Node;
  rateLimit: RateLimit | null;
  enabled: boolean;
  /** 1-based line of the rule in its file (for messages). */
  line: number;
  /** Line and column where the expression text starts, when it is a plain single-line scalar. */
  exprLine: number;
}

export interface ListDef {
  name: string;
  kind: ListKind;
  line: number;
}

export interface Ruleset {
  name: string;
  file: string;
  rules: Rule[];
  lists: ListSet;
  listDefs: ListDef[];
}

export interface RulesetProblem {
  line: number;
  column: number;
  message: string;
  /** Offsets into the file's text of what it is about, [start, end) (an editor underlines them). */
  start?: number;
  end?: number;
  /** A rule expression's error: the rule's id and the Rules compiler's span inside the expression. */
  rule?: string;
  span?: { start: number; end: number };
}

export class RulesetError extends InputError {
  constructor(
    readonly file: string,
    readonly problems: RulesetProblem[],
  ) {
    super(problems.map((p) => `${file}:${p.line}:${p.column}: ${p.message}`).join('\n'), 'E_FORMAT');
  }
}

const PERIOD_SECONDS = { second: 1, minute: 60, hour: 3600, day: 86400 } as const;
export function periodSeconds(p: RateLimit['period']): number {
  return PERIOD_SECONDS[p];
}

export interface LoadOptions {
  /** Base directory for list files (default: the ruleset's directory). */
  baseDir?: string;
  /**
   * Validate and load the lists only, leaving `rules` empty: a ruleset whose rules are of another
   * scheme (HTTP rules, mitigate/http-ruleset.ts) shares this file format and its lists.
   */
  listsOnly?: boolean;
}

/** A ruleset file's text, or an InputError a person can act on. */
export function readRulesetText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new InputError(`${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, 'E_INPUT');
  }
}

export function loadRuleset(path: string, opts: LoadOptions = {}): Ruleset {
  return parseRuleset(readRulesetText(path), path, { baseDir: opts.baseDir ?? dirname(path) });
}

/** Parse and validate a ruleset; throws RulesetError listing every problem with its line. */
export function parseRuleset(text: string, file = '<ruleset>', opts: LoadOptions = {}): Ruleset {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: RulesetProblem[] = [];
  const at = (offset: number): { line: number; column: number } => {
    const p = lc.linePos(offset);
    return { line: p.line, column: p.col };
  };
  for (const e of doc.errors) problems.push({ ...at(e.pos[0]), start: e.pos[0], end: e.pos[1], message: e.message.split('\n')[0] as string });
  if (problems.length > 0) throw new RulesetError(file, problems);

  const nodeAt = (path: (string | number)[]): YamlNode | null => {
    const n = doc.getIn(path, true);
    return isNode(n) ? n : null;
  };
  /** The nearest node on the path that has a place in the text: its position and offsets. */
  const placeOf = (path: (string | number)[]): { line: number; column: number; start: number; end: number } => {
    for (let i = path.length; i >= 0; i--) {
      const n = nodeAt(path.slice(0, i));
      if (n?.range) return { ...at(n.range[0]), start: n.range[0], end: n.range[1] };
    }
    return { line: 1, column: 1, start: 0, end: 0 };
  };
  const posOf = (path: (string | number)[]): { line: number; column: number } => {
    const p = placeOf(path);
    return { line: p.line, column: p.column };
  };
  const problem = (path: (string | number)[], message: string): void => {
    problems.push({ ...placeOf(path), message });
  };
  /** A problem with a key itself (unknown key): points at the key, not its value. */
  const keyProblem = (path: (string | number)[], message: string): void => {
    const parent = nodeAt(path.slice(0, -1));
    const key = path[path.length - 1];
    if (parent && isMap(parent)) {
      for (const pair of parent.items) {
        const k = pair.key;
        if (isScalar(k) && k.value === key && k.range) {
          problems.push({ ...at(k.range[0]), start: k.range[0], end: k.range[1], message });
          return;
        }
      }
    }
    problem(path, message);
  };

  const root = doc.toJS() as unknown;
  let rulesRaw: unknown;
  let rulesPath: (string | number)[] = ['rules'];
  let name = '';
  let listsRaw: unknown;
  if (Array.isArray(root)) {
    rulesRaw = root;
    rulesPath = [];
  } else if (root !== null && typeof root === 'object') {
    const o = root as Record<string, unknown>;
    for (const k of Object.keys(o)) if (!['name', 'description', 'rules', 'lists'].includes(k)) keyProblem([k], `unknown key "${k}" (expected name, description, lists, rules)`);
    rulesRaw = o.rules;
    listsRaw = o.lists;
    if (o.name !== undefined) {
      if (typeof o.name !== 'string') problem(['name'], 'name must be a string');
      else name = o.name;
    }
  } else {
    throw new RulesetError(file, [{ line: 1, column: 1, message: 'expected a mapping with "rules" (or a list of rules)' }]);
  }

  // ---- lists ----
  const lists = new ListSet();
  const listDefs: ListDef[] = [];
  const baseDir = opts.baseDir ?? '.';
  const listEntries: [string, unknown, (string | number)[]][] = [];
  if (Array.isArray(listsRaw)) {
    for (const [i, l] of listsRaw.entries()) {
      listEntries.push([typeof l === 'object' && l !== null ? String((l as Record<string, unknown>).name ?? '') : '', l, ['lists', i]]);
    }
  } else if (listsRaw !== null && typeof listsRaw === 'object') {
    for (const [k, v] of Object.entries(listsRaw as Record<string, unknown>)) listEntries.push([k, v, ['lists', k]]);
  } else if (listsRaw !== undefined) problem(['lists'], 'lists must be a mapping of name to list');
  for (const [lname, raw, path] of listEntries) {
    if (raw === null || typeof raw !== 'object') {
      problem(path, `list ${lname}: expected a mapping (kind, file/entries, format ...)`);
      continue;
    }
    const l = raw as Record<string, unknown>;
    const allowed = ['name', 'kind', 'file', 'entries', 'format', 'column', 'weight_column', 'delimiter', 'header', 'field', 'weight_field', 'weight', 'match'];
    for (const k of Object.keys(l)) if (!allowed.includes(k)) keyProblem([...path, k], `list ${lname}: unknown key "${k}" (expected ${allowed.join(', ')})`);
    if (!/^[a-z0-9_]+$/.test(lname)) {
      problem(path, `list name "${lname}": use lowercase letters, digits and _`);
      continue;
    }
    const kind = (l.kind ?? 'named') as ListKind;
    if (!['block', 'allow', 'reputation', 'named'].includes(kind)) {
      problem([...path, 'kind'], `list ${lname}: kind must be block, allow, reputation or named`);
      continue;
    }
    const match = (l.match ?? 'src') as 'src' | 'dst' | 'either';
    if (!['src', 'dst', 'either'].includes(match)) problem([...path, 'match'], `list ${lname}: match must be src, dst or either`);
    if (l.weight !== undefined && typeof l.weight !== 'number') problem([...path, 'weight'], `list ${lname}: weight must be a number`);
    const list = new IpList({ name: lname, kind, weight: typeof l.weight === 'number' ? l.weight : undefined, match } as never);
    const iopts: ImportOptions = {};
    if (l.format !== undefined) {
      if (!['plain', 'spamhaus', 'firehol', 'csv', 'json', 'auto'].includes(String(l.format)))
        problem([...path, 'format'], `list ${lname}: format must be plain, spamhaus, firehol, csv, json or auto`);
      iopts.format = l.format as ListFormat;
    }
    if (typeof l.column === 'number' || typeof l.column === 'string') iopts.column = l.column;
    if (typeof l.weight_column === 'number' || typeof l.weight_column === 'string') iopts.weightColumn = l.weight_column;
    if (typeof l.delimiter === 'string') iopts.delimiter = l.delimiter;
    if (typeof l.header === 'boolean') iopts.header = l.header;
    if (typeof l.field === 'string') iopts.field = l.field;
    if (typeof l.weight_field === 'string') iopts.weightField = l.weight_field;
    if (l.file === undefined && l.entries === undefined) problem(path, `list ${lname}: give "file" or "entries"`);
    try {
      if (typeof l.file === 'string') {
        const f = isAbsolute(l.file) ? l.file : join(baseDir, l.file);
        list.addFile(f, iopts);
        for (const p of list.problems.filter((p) => p.severity === 'error').slice(0, 5)) problem([...path, 'file'], `list ${lname}: ${f}:${p.line}: ${p.message}`);
      } else if (l.file !== undefined) problem([...path, 'file'], `list ${lname}: file must be a path`);
      if (Array.isArray(l.entries)) {
        const before = list.problems.length;
        list.addText(l.entries.map(String).join('\n'), { format: 'plain' }, 'entries');
        for (const p of list.problems.slice(before).filter((p) => p.severity === 'error')) problem([...path, 'entries', p.line - 1], `list ${lname}: ${p.message}`);
      } else if (l.entries !== undefined) problem([...path, 'entries'], `list ${lname}: entries must be a list of addresses/prefixes`);
    } catch (e) {
      problem(path, (e as Error).message);
    }
    try {
      lists.add(list);
      listDefs.push({ name: lname, kind, line: posOf(path).line });
    } catch (e) {
      problem(path, (e as Error).message);
    }
  }

  if (opts.listsOnly) {
    if (problems.length > 0) throw new RulesetError(file, problems);
    return { name: name || file, file, rules: [], lists, listDefs };
  }

  // ---- rules ----
  const rules: Rule[] = [];
  if (!Array.isArray(rulesRaw)) {
    if (rulesRaw === undefined) problem([], 'no "rules" list');
    else problem(rulesPath, 'rules must be a list');
    throw new RulesetError(file, problems);
  }
  const ids = new Set<string>();
  rulesRaw.forEach((raw, i) => {
    const path = [...rulesPath, i];
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      problem(path, `rule ${i + 1}: expected a mapping with id, expression, action`);
      return;
    }
    const r = raw as Record<string, unknown>;
    const allowed = ['id', 'description', 'expression', 'action', 'action_parameters', 'enabled', 'ref'];
    for (const k of Object.keys(r)) if (!allowed.includes(k)) keyProblem([...path, k], `unknown key "${k}" (expected ${allowed.join(', ')})`);
    const id = r.id === undefined ? `rule${i + 1}` : String(r.id);
    if (ids.has(id)) problem([...path, 'id'], `rule id "${id}" is used twice`);
    ids.add(id);
    const who = `rule ${id}`;
    if (typeof r.expression !== 'string' || r.expression.trim() === '') {
      problem(r.expression === undefined ? path : [...path, 'expression'], `${who}: expression must be a non-empty string`);
      return;
    }
    const action = r.action as Action;
    if (!ACTIONS.includes(action)) {
      problem(
        r.action === undefined ? path : [...path, 'action'],
        `${who}: action must be one of ${ACTIONS.join(', ')}${r.action === 'challenge' ? ' (challenge is for HTTP rules)' : ''}`,
      );
      return;
    }
    if (r.enabled !== undefined && typeof r.enabled !== 'boolean') problem([...path, 'enabled'], `${who}: enabled must be true or false`);
    if (r.description !== undefined && typeof r.description !== 'string') problem([...path, 'description'], `${who}: description must be a string`);
    let node: Node;
    const exprNode = nodeAt([...path, 'expression']);
    // Column offset of the expression text inside a plain or quoted scalar on one line.
    const exprPos = posOf([...path, 'expression']);
    const quoted = exprNode && 'type' in exprNode && (exprNode.type === 'QUOTE_DOUBLE' || exprNode.type === 'QUOTE_SINGLE') ? 1 : 0;
    try {
      node = parseExpr(r.expression, { has: (n) => lists.get(n) !== undefined });
    } catch (e) {
      if (e instanceof ExprError) {
        const oneLine = !r.expression.slice(0, e.start).includes('\n') && exprNode && 'type' in exprNode && exprNode.type !== 'BLOCK_LITERAL' && exprNode.type !== 'BLOCK_FOLDED';
        const base = placeOf([...path, 'expression']).start;
        problems.push({
          line: exprPos.line,
          column: oneLine ? exprPos.column + quoted + e.start : exprPos.column,
          // in the file: the span itself when the expression is on one line, else the whole scalar
          start: oneLine ? base + quoted + e.start : base,
          end: oneLine ? base + quoted + Math.max(e.end, e.start) : placeOf([...path, 'expression']).end,
          rule: id,
          span: { start: e.start, end: e.end },
          message: `${who}: ${e.message} (at ${e.start} in "${r.expression}")`,
        });
        return;
      }
      throw e;
    }
    let rateLimit: RateLimit | null = null;
    const ap = r.action_parameters;
    if (action === 'rate_limit') {
      rateLimit = parseRateLimit(ap, (k, m, isKey) =>
        (isKey ? keyProblem : problem)(k === null ? [...path, 'action_parameters'] : [...path, 'action_parameters', k], `${who}: ${m}`),
      );
      if (ap === undefined) problem(path, `${who}: rate_limit needs action_parameters (rate, unit, burst, key)`);
    } else if (ap !== undefined && !(typeof ap === 'object' && ap !== null && Object.keys(ap).length === 0)) {
      problem([...path, 'action_parameters'], `${who}: action ${action} takes no action_parameters`);
    }
    rules.push({
      id,
      description: typeof r.description === 'string' ? r.description : '',
      expression: r.expression,
      action,
      node,
      rateLimit,
      enabled: r.enabled !== false,
      line: posOf(path).line,
      exprLine: exprPos.line,
    });
  });
  if (problems.length > 0) throw new RulesetError(file, problems);
  return { name: name || file, file, rules, lists, listDefs };
}

function parseRateLimit(raw: unknown, problem: (key: string | null, msg: string, isKey?: boolean) => void): RateLimit | null {
  if (raw === undefined) return null;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problem(null, 'action_parameters must be a mapping (rate, unit, burst, key)');
    return null;
  }
  const o = raw as Record<string, unknown>;
  const allowed = ['rate', 'period', 'unit', 'burst', 'key', 'max_keys'];
  for (const k of Object.keys(o)) if (!allowed.includes(k)) problem(k, `unknown rate_limit parameter "${k}" (expected ${allowed.join(', ')})`, true);
  let ok = true;
  const rate = o.rate;
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate <= 0) {
    problem('rate', 'rate must be a positive integer');
    ok = false;
  }
  const period = (o.period ?? 'second') as RateLimit['period'];
  if (!(period in PERIOD_SECONDS)) {
    problem('period', 'period must be second, minute, hour or day');
    ok = false;
  }
  const unitRaw = String(o.unit ?? 'packets');
  const unit = unitRaw === 'pps' || unitRaw === 'packets' ? 'packets' : unitRaw === 'bytes' || unitRaw === 'Bps' ? 'bytes' : null;
  if (unit === null) {
    problem('unit', 'unit must be packets (pps) or bytes (bytes per period)');
    ok = false;
  }
  const burst = o.burst ?? (unit === 'bytes' ? 0 : 5);
  if (typeof burst !== 'number' || !Number.isInteger(burst) || burst < 0 || (unit === 'packets' && burst === 0)) {
    problem('burst', unit === 'packets' ? 'burst must be a positive integer (packets)' : 'burst must be a non-negative integer (bytes)');
    ok = false;
  }
  const keyRaw = o.key ?? 'ip.src';
  const keys = keyRaw === 'none' ? [] : Array.isArray(keyRaw) ? keyRaw.map(String) : [String(keyRaw)];
  for (const k of keys) {
    if (!(RATE_KEYS as readonly string[]).includes(k)) {
      problem('key', `cannot key a rate limit on "${k}"${k in PACKET_FIELDS ? '' : ' (unknown field)'}; use one or more of ${RATE_KEYS.join(', ')} or none`);
      ok = false;
    }
  }
  const maxKeys = o.max_keys ?? 65536;
  if (typeof maxKeys !== 'number' || !Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > 1 << 24) {
    problem('max_keys', 'max_keys must be an integer from 1 to 16777216');
    ok = false;
  }
  if (!ok) return null;
  return { rate: rate as number, period, unit: unit as 'packets' | 'bytes', burst: burst as number, key: keys as RateKey[], maxKeys: maxKeys as number };
}
