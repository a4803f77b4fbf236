/**
 * Edits of the ruleset file's text that keep everything else as it was: the editor changes one
 * rule's expression, action or enabled flag, adds a rule or deletes one, and the server validates
 * and saves the whole file. The
 * file is YAML (palisade mitigate -r format); `yaml`'s document model keeps the comments, the
 * lists and the other rules' keys untouched, where rewriting the file from the parsed rules
 * would drop them.
 */
import { type Document, isMap, isSeq, parseDocument, type YAMLSeq } from 'yaml';

/** A rule as the editor adds it. */
export interface NewRule {
  id: string;
  expression: string;
  action: string;
}

/** Where the rules are: the `rules` key, or the document itself (a bare array is allowed too). */
function rulesSeq(doc: Document): { seq: YAMLSeq | null; path: (string | number)[] } {
  if (isSeq(doc.contents)) return { seq: doc.contents, path: [] };
  const node = isMap(doc.contents) ? doc.contents.get('rules', true) : undefined;
  return { seq: isSeq(node) ? node : null, path: ['rules'] };
}

function parse(text: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`the ruleset file does not parse as YAML: ${doc.errors[0]?.message ?? ''}`);
  return doc;
}

/** Long expressions stay on one line: a folded scalar would move the server's spans off the text shown. */
const OUT = { lineWidth: 0 } as const;

/** What an edit of an existing rule may change; a key left out stays as the file has it. */
export interface RulePatch {
  expression?: string;
  action?: string;
  enabled?: boolean;
}

/** The index of rule `id` in the file's rules; found by id, not by position: the parsed rules the API lists need not line up one to one with the file's items. */
function ruleIndex(doc: Document, id: string): { seq: YAMLSeq; path: (string | number)[]; index: number } {
  const { seq, path } = rulesSeq(doc);
  const index = seq === null ? -1 : seq.items.findIndex((item) => isMap(item) && item.get('id') === id);
  if (seq === null || index < 0) throw new Error(`the ruleset has no rule ${id}`);
  return { seq, path, index };
}

/** The text with rule `id` changed as the patch says (its other keys and comments kept). */
export function withRule(text: string, id: string, patch: RulePatch): string {
  const doc = parse(text);
  const { path, index } = ruleIndex(doc, id);
  if (patch.expression !== undefined) doc.setIn([...path, index, 'expression'], patch.expression);
  if (patch.action !== undefined) doc.setIn([...path, index, 'action'], patch.action);
  if (patch.enabled !== undefined) {
    // a rule is enabled unless it says otherwise: enabling one without the key leaves the file as it was
    const has = doc.hasIn([...path, index, 'enabled']);
    if (has || !patch.enabled) doc.setIn([...path, index, 'enabled'], patch.enabled);
  }
  return doc.toString(OUT);
}

/** The text with rule `id`'s expression replaced. */
export function withExpression(text: string, id: string, expression: string): string {
  return withRule(text, id, { expression });
}

/** The text without rule `id` (the other rules, the lists and the comments kept). */
export function withoutRule(text: string, id: string): string {
  const doc = parse(text);
  const { seq, index } = ruleIndex(doc, id);
  seq.items.splice(index, 1);
  return doc.toString(OUT);
}

/** The text with a rule added at the end (a `rules` key made when there is none). */
export function withNewRule(text: string, rule: NewRule): string {
  const doc = parse(text);
  const { seq, path } = rulesSeq(doc);
  const node = doc.createNode({ id: rule.id, expression: rule.expression, action: rule.action });
  if (seq === null) {
    doc.set('rules', doc.createNode([]));
    (doc.get('rules', true) as YAMLSeq).items.push(node);
  } else seq.items.push(node);
  // `rules: []` is a flow sequence: a rule added to it reads better as a block list
  const target = path.length === 0 ? (doc.contents as YAMLSeq) : (doc.get('rules', true) as YAMLSeq);
  target.flow = false;
  return doc.toString(OUT);
}
