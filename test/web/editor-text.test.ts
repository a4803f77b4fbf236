/**
 * The console's pure helpers behind the rule and list editors, without a browser: where an
 * expression's error is drawn (caret.ts), the ruleset file's text after an edit of one rule or an
 * added rule, with comments and everything else kept and the server's checker agreeing
 * (ruleset-text.ts), and the list editor's light line check (lists/check.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkRuleset } from '../../src/server/rules-file.js';
import { checkLines, looksLikeAddress } from '../../web/src/pages/lists/check.js';
import { caretView } from '../../web/src/pages/rules/caret.js';
import { withExpression, withNewRule, withoutRule, withRule } from '../../web/src/pages/rules/ruleset-text.js';

describe('caretView', () => {
  it('splits the line around the span and puts a caret under each marked character', () => {
    const v = caretView('tcp.flags.syn and and ip.dst == 1.2.3.4', { start: 18, end: 21 });
    assert.deepEqual(v, { line: 1, column: 19, before: 'tcp.flags.syn and ', marked: 'and', after: ' ip.dst == 1.2.3.4', caret: `${' '.repeat(18)}^^^` });
  });

  it('an empty span at the end marks one blank column; a span on a later line shows that line only', () => {
    const end = caretView('(ip.ttl < 5', { start: 11, end: 11 });
    assert.equal(end.marked, ' ');
    assert.equal(end.caret, `${' '.repeat(11)}^`);
    const second = caretView('ip.ttl < 5\nand\tfoo.bar == 1', { start: 15, end: 22 });
    assert.deepEqual([second.line, second.column, second.before, second.marked, second.after], [2, 5, 'and ', 'foo.bar', ' == 1']);
  });

  it('a span running past its line is marked to the end of the line; out-of-range spans are clamped', () => {
    const v = caretView('a and\nb', { start: 2, end: 7 });
    assert.equal(v.marked, 'and');
    assert.equal(v.after, '');
    assert.equal(caretView('abc', { start: 9, end: 12 }).caret, '   ^');
  });
});

const FILE = `# edge rules
name: edge
lists:
  drop: { kind: block, file: drop.txt }
rules:
  - id: a
    description: first
    expression: ip.ttl < 5 # keep me
    action: log
  - id: b
    expression: tcp.dstport == 80
    action: block
    enabled: false
`;

describe('ruleset text edits', () => {
  // the server's checker reads the list files the ruleset names
  const dir = mkdtempSync(join(tmpdir(), 'palisade-editor-text-'));
  writeFileSync(join(dir, 'drop.txt'), '198.51.100.0/24\n');
  const RULES_FILE = join(dir, 'rules.yaml');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("replaces one rule's expression and keeps comments, lists and the other rules' keys", () => {
    const out = withExpression(FILE, 'b', 'tcp.dstport == 443 and ip.src in $drop');
    assert.match(out, /^# edge rules\n/);
    assert.match(out, /expression: ip\.ttl < 5 # keep me/);
    assert.match(out, /enabled: false/);
    const c = checkRuleset(out, RULES_FILE);
    assert.deepEqual(c.problems, []);
    assert.deepEqual(
      c.ruleset?.rules.map((r) => [r.id, r.expression, r.enabled]),
      [
        ['a', 'ip.ttl < 5', true],
        ['b', 'tcp.dstport == 443 and ip.src in $drop', false],
      ],
    );
    assert.throws(() => withExpression(FILE, 'c', 'ip.ttl < 1'), /no rule c/);
  });

  it('adds a rule as a block list, also to the empty ruleset the server creates, and keeps a long expression on one line', () => {
    const long = `ip.src in {${Array.from({ length: 40 }, (_v, i) => `192.0.2.${i}`).join(' ')}}`;
    const empty = '# palisade ruleset (palisade mitigate -r reads it; palisade serve edits it)\nrules: []\n';
    const out = withNewRule(empty, { id: 'n', expression: long, action: 'block' });
    assert.match(out, /^rules:\n {2}- id: n\n/m);
    assert.ok(
      out.split('\n').some((l) => l.endsWith(long)),
      out,
    );
    const c = checkRuleset(out, RULES_FILE);
    assert.deepEqual(c.problems, []);
    assert.equal(c.ruleset?.rules[0]?.expression, long);
    const two = withNewRule(FILE, { id: 'c', expression: 'ip.ttl > 200', action: 'allow' });
    assert.deepEqual(
      checkRuleset(two, RULES_FILE).ruleset?.rules.map((r) => r.id),
      ['a', 'b', 'c'],
    );
    assert.throws(() => withNewRule('rules: [\n', { id: 'x', expression: 'udp', action: 'log' }), /does not parse as YAML/);
  });

  it("changes a rule's action and enabled flag, writing only what changed, and keeps the rest", () => {
    const out = withRule(FILE, 'a', { action: 'block', enabled: false });
    assert.match(out, /^# edge rules\n/);
    assert.match(out, /expression: ip\.ttl < 5 # keep me/);
    assert.match(out, /description: first/);
    const c = checkRuleset(out, RULES_FILE);
    assert.deepEqual(c.problems, []);
    assert.deepEqual(
      c.ruleset?.rules.map((r) => [r.id, r.action, r.enabled]),
      [
        ['a', 'block', false],
        ['b', 'block', false],
      ],
    );
    // enabling b rewrites its flag; enabling a rule that has no flag adds none (enabled is the default)
    const on = withRule(FILE, 'b', { enabled: true });
    assert.deepEqual(
      checkRuleset(on, RULES_FILE).ruleset?.rules.map((r) => r.enabled),
      [true, true],
    );
    assert.equal(withRule(FILE, 'a', { enabled: true }), FILE, 'an unchanged rule leaves the file as it was');
    assert.throws(() => withRule(FILE, 'zz', { action: 'log' }), /no rule zz/);
  });

  it('deletes a rule by id and keeps the comments, the lists and the other rule', () => {
    const out = withoutRule(FILE, 'a');
    assert.match(out, /^# edge rules\n/);
    assert.match(out, /drop: \{ kind: block, file: drop\.txt \}/);
    assert.doesNotMatch(out, /keep me/);
    const c = checkRuleset(out, RULES_FILE);
    assert.deepEqual(c.problems, []);
    assert.deepEqual(
      c.ruleset?.rules.map((r) => r.id),
      ['b'],
    );
    assert.throws(() => withoutRule(FILE, 'zz'), /no rule zz/);
  });

  it("an expression error's span from the server is a span of the expression as typed (quoted in the file or not)", () => {
    // ": " inside makes YAML quote the scalar: the span must still be the expression's, not the file line's
    const typed = 'dns.qname == "a: b" and and ip.ttl > 1';
    const c = checkRuleset(withNewRule(FILE, { id: 'q', expression: typed, action: 'block' }), RULES_FILE);
    const p = c.problems.find((x) => x.rule === 'q');
    assert.ok(p?.span, JSON.stringify(c.problems));
    assert.equal(typed.slice(p.span.start, p.span.end), 'and');
    assert.equal(p.span.start, typed.indexOf('and and') + 4);
    assert.match(withNewRule(FILE, { id: 'q', expression: typed, action: 'block' }), /expression: '/, 'quoted in the file');
  });
});

describe('list line check', () => {
  it('addresses and prefixes of both families pass; slips are named by line; comments and blanks are skipped', () => {
    for (const ok of ['192.0.2.1', '198.51.100.0/24', '0.0.0.0/0', '2001:db8::1', '2001:db8::/32', '::', '::ffff:192.0.2.1']) assert.ok(looksLikeAddress(ok), ok);
    for (const bad of ['192.0.2.300', '192.0.2', '198.51.100.0/33', 'example.com', '2001:db8::1::2', '2001:db8::/129']) assert.ok(!looksLikeAddress(bad), bad);
    assert.deepEqual(checkLines('# blocked\n192.0.2.1 # a note\n\nnot-an-ip\n2001:db8::/32\n', 'plain'), [{ line: 4, text: 'not-an-ip' }]);
    assert.deepEqual(checkLines('1.10.16.0/20 ; SBL256894\n; comment\nbad ; x\n', 'spamhaus'), [{ line: 3, text: 'bad' }]);
    assert.deepEqual(checkLines('anything,at,all\n', 'csv'), [], 'CSV is the server’s to check');
  });
});
