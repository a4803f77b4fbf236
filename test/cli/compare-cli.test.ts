/**
 * `palisade compare` end to end, from source: a generated nginx log split by its ground truth
 * (a --list of the attack's addresses; two files), JSON validated against
 * schema/compare.schema.json, the suggested expression compiled and re-evaluated over the log
 * with the access-log reader to give the printed counts; a capture; the table's width and
 * colour; usage errors (exit 2) and unreadable input (exit 3).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { generate } from '../../src/generate/generator.js';
import { generateL7, type L7Truth, l7TruthLabels } from '../../src/generate/l7/generator.js';
import { compile, type NamedList } from '../../src/rules/compile.js';
import { httpScheme } from '../../src/scheme/http.js';
import { HttpLogRequest } from '../../src/scheme/http-log.js';
import { accessLogSource } from '../../src/sources/accesslog/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ART = join(ROOT, 'out/test-artifacts/compare-cli');

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'compare', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 26 });
}

const schema = JSON.parse(readFileSync(join(ROOT, 'schema/compare.schema.json'), 'utf8'));
const ajv = new Ajv({ allErrors: true });
ajv.addKeyword({ keyword: 'expected', schemaType: 'string' });
const validate = ajv.compile(schema);

function valid(doc: unknown): void {
  assert.ok(validate(doc), ajv.errorsText(validate.errors));
}

interface Rate {
  expression: string;
  b_matched: number;
  a_matched: number;
  b_share: number;
  a_share: number;
}

/** Count over the log, with the CLI's own reader, the records each side and the expression match. */
async function recount(log: string, expr: string, inB: (ip: string) => boolean): Promise<{ a: number; b: number }> {
  const pred = compile(expr, httpScheme);
  const req = new HttpLogRequest();
  let a = 0;
  let b = 0;
  await accessLogSource(log).read((v) => {
    const r = req.point(v);
    if (!pred(r)) return;
    if (inB(r.clientIp)) b++;
    else a++;
  });
  return { a, b };
}

let log = '';
let truth: L7Truth;
let botsFile = '';
let bots = new Set<string>();

before(() => {
  mkdirSync(ART, { recursive: true });
  log = join(ART, 'flood.log');
  truth = generateL7('http-flood', log, { lines: 30_000, seed: 5 });
  const attack = truth.attacks[0];
  assert.ok(attack);
  bots = new Set(attack.ips);
  botsFile = join(ART, 'bots.txt');
  writeFileSync(botsFile, `# the flood's addresses\n${attack.ips.join('\n')}\n`);
});

describe('compare an access log split by a list of addresses', () => {
  test('--json validates, the suggestion separates the bots, and re-evaluating it gives the printed counts', async () => {
    const r = cli([log, '--b', 'ip.src in $bots', '--list', `bots=${botsFile}`, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    valid(doc);
    assert.deepEqual(doc.split_fields, ['ip.src']);
    assert.equal(doc.a.records + doc.b.records, truth.lines);
    assert.equal(doc.b.source, `${log} where ip.src in $bots`);
    const sug = doc.suggestion as Rate;
    assert.ok(sug.b_share >= 0.9 && sug.a_share <= 0.01, JSON.stringify(sug));
    assert.ok(!/\bip\.src\b(?!\.)/.test(sug.expression), `the split field stays out: ${sug.expression}`);
    const n = await recount(log, sug.expression, (ip) => bots.has(ip));
    assert.deepEqual([n.b, n.a], [sug.b_matched, sug.a_matched]);
    for (const alt of doc.alternatives as Rate[]) {
      const m = await recount(log, alt.expression, (ip) => bots.has(ip));
      assert.deepEqual([m.b, m.a], [alt.b_matched, alt.a_matched], alt.expression);
    }
  });

  test('the table fits 100 columns and has no colour off a terminal', () => {
    const r = cli([log, '--a', 'not ip.src in $bots', '--b', 'ip.src in $bots', '--list', `bots=${botsFile}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!r.stdout.includes('\x1b['));
    for (const line of r.stdout.split('\n')) assert.ok([...line].length <= 100, `${[...line].length}: ${line}`);
    assert.match(r.stdout, /Suggested expression — matches \d/);
    assert.match(r.stdout, /^http\.user_agent\s/m);
  });
});

test('two files: the attack lines against the rest', () => {
  const lines = readFileSync(log, 'latin1').split('\n');
  const labels = l7TruthLabels(truth);
  const a: string[] = [];
  const b: string[] = [];
  labels.forEach((l, i) => {
    (l === 0 ? a : b).push(lines[i] as string);
  });
  const fa = join(ART, 'legit.log');
  const fb = join(ART, 'attack.log');
  writeFileSync(fa, `${a.join('\n')}\n`, 'latin1');
  writeFileSync(fb, `${b.join('\n')}\n`, 'latin1');
  const r = cli([fa, fb, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  valid(doc);
  assert.deepEqual([doc.a.records, doc.b.records], [a.length, b.length]);
  assert.deepEqual(doc.split_fields, []);
  assert.ok(doc.suggestion.b_share >= 0.9 && doc.suggestion.a_share <= 0.01, JSON.stringify(doc.suggestion));
});

test('a capture: packet fields, the flood told apart by its headers', () => {
  const pcap = join(ART, 'syn.pcap');
  const t = generate('tcp_syn_flood', pcap, { packets: 20_000, seed: 1 });
  const victim = t.attacks[0]?.victim.ip;
  assert.ok(victim);
  const r = cli([pcap, '--b', `ip.dst == ${victim}`, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  valid(doc);
  assert.equal(doc.scheme, 'packet');
  assert.equal(doc.a.records + doc.b.records, 20_000);
  assert.ok(doc.suggestion.b_share >= 0.9 && doc.suggestion.a_share <= 0.01, JSON.stringify(doc.suggestion));
  assert.ok(!doc.suggestion.fields.includes('ip.dst'));
});

describe('errors', () => {
  const usage: Array<[string, string[], RegExp]> = [
    ['one input and no split', [], /give two inputs, or one input and --a/],
    ['an invalid expression', ['--b', 'http.nope == 1'], /invalid --b expression/],
    ['an unknown list', ['--b', 'ip.src in $nope'], /invalid --b expression/],
    ['a bad --list', ['--b', 'ip.src in $x', '--list', 'x'], /--list takes NAME=FILE/],
    ['a bad --as', ['--b', 'ip.src == 192.0.2.1', '--as', 'flows'], /--as must be http or packets/],
    ['an unknown --fields name', ['--b', 'ip.src == 192.0.2.1', '--fields', 'http.nope'], /no such field here: http.nope/],
    ['a bad --rows', ['--b', 'ip.src == 192.0.2.1', '--rows', '0'], /--rows must be/],
  ];
  for (const [what, args, msg] of usage) {
    test(`${what}: exit 2`, () => {
      const r = cli([log, ...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, msg);
    });
  }
  test('an invalid expression is shown with a caret', () => {
    const r = cli([log, '--b', 'http.request.method == ']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /\^/);
  });
  test('a missing file: exit 3', () => {
    const r = cli([join(ART, 'missing.log'), join(ART, 'missing2.log')]);
    assert.equal(r.status, 3, r.stderr);
  });
  test('--help teaches with examples', () => {
    const r = cli(['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Examples:\n {2}palisade compare /);
  });
});

// Named lists are how the CLI's --list reaches the compiler: the same shape compiles here.
test('a --list is an ip list to the compiler', () => {
  const l: NamedList = { kind: 'ip', items: [], has4: () => true, has6: () => false };
  assert.ok(compile('ip.src in $x', httpScheme, { lists: { x: l } }));
});

test('stdin: one pass, rates estimated and said so', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'compare', '-', '--b', 'ip.src in $bots', '--list', `bots=${botsFile}`, '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
    input: readFileSync(log),
    maxBuffer: 1 << 26,
  });
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  valid(doc);
  assert.equal(doc.measured, false);
  assert.equal(doc.a.records + doc.b.records, truth.lines);
  assert.ok(doc.suggestion.b_share >= 0.9);
  const table = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'compare', '-', '--b', 'ip.src in $bots', '--list', `bots=${botsFile}`], {
    cwd: ROOT,
    encoding: 'utf8',
    input: readFileSync(log),
  });
  assert.match(table.stdout, /estimated from the tables/);
});
