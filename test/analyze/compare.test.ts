/**
 * analyze/compare: the capped tables, the divergence, the conditions each feature writes (they
 * compile and match the records whose key they name), and comparisons of generated L7 logs split
 * by their ground truth — the suggested expression separates the attack from the rest and
 * evaluating it gives the rates the comparison prints.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { type CompareResult, compare, type Populations } from '../../src/analyze/compare.js';
import { httpFeatures, isExpressible, packetFeatures } from '../../src/analyze/compare-features.js';
import { distribution, divergence } from '../../src/analyze/compare-stats.js';
import { CappedTable } from '../../src/analyze/compare-table.js';
import { generate } from '../../src/generate/generator.js';
import { generateL7, l7Paths, l7TruthLabels } from '../../src/generate/l7/generator.js';
import type { HttpRequest } from '../../src/model/http.js';
import { compile } from '../../src/rules/compile.js';
import { bytesLiteral } from '../../src/rules/literal.js';
import { type HttpRequestView, httpScheme } from '../../src/scheme/http.js';
import { httpRequestView } from '../../src/scheme/http-log.js';
import { packetScheme } from '../../src/scheme/packet.js';
import { type RecordView, recordScheme } from '../../src/scheme/record.js';
import { latin1 } from '../../src/scheme/values.js';
import { captureSource } from '../../src/sources/capture/source.js';

const ART = resolve(import.meta.dirname, '../../out/test-artifacts/compare');

describe('CappedTable', () => {
  test('keeps a heavy value that starts after the table is full, and its counts sum to the total', () => {
    const t = new CappedTable(64);
    for (let i = 0; i < 10_000; i++) t.add(`v${i}`); // 10 000 distinct values: the table is full
    for (let i = 0; i < 2_000; i++) {
      t.add('late');
      t.add(`w${i}`);
    }
    const top = t.top(1)[0];
    assert.equal(top?.value, 'late');
    assert.ok((top?.count as number) >= 2_000 && (top?.count as number) - (top?.error as number) <= 2_000);
    assert.equal(t.total, 14_000);
    assert.equal(
      t.top(64).reduce((s, e) => s + e.count, 0),
      14_000,
    );
    assert.equal(t.tracked, 64);
  });
});

describe('divergence', () => {
  const table = (vals: Record<string, number>) => {
    const t = new CappedTable(100);
    for (const [k, n] of Object.entries(vals)) for (let i = 0; i < n; i++) t.add(k);
    return t;
  };
  test('0 for the same distribution, 1 for disjoint ones, in between otherwise', () => {
    assert.equal(divergence(distribution(table({ x: 10, y: 30 }), table({ x: 1, y: 3 }), 10)).jsd, 0);
    const d = divergence(distribution(table({ x: 10 }), table({ y: 5 }), 10));
    assert.equal(d.jsd, 1);
    assert.equal(d.tv, 1);
    const mid = divergence(distribution(table({ x: 10, y: 10 }), table({ x: 10, y: 30 }), 10)).jsd;
    assert.ok(mid > 0 && mid < 1);
  });
  test('the "other" bucket keeps what falls outside the top k', () => {
    const a = table({ a1: 5, a2: 5, a3: 5, shared: 5 });
    const b = table({ b1: 5, b2: 5, b3: 5, shared: 5 });
    const d = distribution(a, b, 1);
    assert.equal(d.otherA + d.values.reduce((s, v) => s + v.a, 0), 20);
    assert.equal(d.otherB + d.values.reduce((s, v) => s + v.b, 0), 20);
  });
});

function view(over: Partial<HttpRequest>): HttpRequestView {
  const rec: HttpRequest = {
    time: '2026-03-02T10:00:00.000Z',
    client: { ip: '192.0.2.7' },
    method: 'GET',
    host: 'www.example.com',
    path: '/',
    query: '',
    version: 'HTTP/1.1',
    headers: [{ name: 'Host' }, { name: 'User-Agent' }],
    user_agent: 'curl/8.5.0',
    body_size: 0,
    status: 200,
    ...over,
  };
  return httpRequestView(rec);
}

describe('conditions', () => {
  const views = [
    view({}),
    view({
      path: '/products/12345/reviews',
      query: 'q=a%22b&page=2',
      referer: 'https://www.google.com/search?q=x',
      headers: [{ name: 'Host' }, { name: 'Referer' }, { name: 'Cookie' }],
      cookies: { sid: 'x', 'a"b': 'y' },
    }),
    view({ path: '/a.b/x\\y"z/0123456789abcdef', referer: 'http://Example.ORG:8080/', user_agent: 'Mozilla/5.0 "quoted" \\ back' }),
    view({ path: '/über/€', user_agent: 'agent ünïcode', client: { ip: '2001:db8:1:2::5' }, version: 'HTTP/2', status: 404, referer: 'android-app://x' }),
    view({ method: 'POST', path: '/login', headers: [], tls: { ja3: 'abc', ja4: 't13d' } }),
  ];
  test("every HTTP feature: the condition for a record's own key compiles and matches that record", () => {
    const features = httpFeatures(httpScheme);
    assert.ok(features.length >= 15, `${features.length} features`);
    for (const f of features) {
      for (const v of views) {
        const k = f.key(v);
        if (!isExpressible(k)) continue;
        const expr = f.condition([k]);
        const pred = compile(expr, httpScheme);
        assert.equal(pred(v), true, `${f.name}: ${expr} on key ${JSON.stringify(k)}`);
        // A set of keys: still matches, and a key of another record does not make it match this one.
        const others = views.map((w) => f.key(w)).filter((x) => isExpressible(x) && x !== k);
        if (others.length > 0) {
          const set = [...new Set(others)];
          compile(f.condition(set), httpScheme);
          assert.equal(compile(f.condition([...set, k]), httpScheme)(v), true, `${f.name}: set with ${JSON.stringify(k)}`);
        }
      }
    }
  });
  test('a condition on exact values does not match a record with another value', () => {
    const ua = httpFeatures(httpScheme).find((f) => f.field === 'http.user_agent');
    assert.ok(ua);
    const pred = compile(ua.condition([ua.key(views[2] as HttpRequestView)]), httpScheme);
    assert.equal(pred(views[0] as HttpRequestView), false);
  });
  test('byte strings become literals the lexer reads back byte for byte', () => {
    const s = 'a"b\\c\x01\xff é';
    const pred = compile(`http.user_agent == ${bytesLiteral(s)}`, httpScheme);
    assert.equal(pred({ ...view({}), header: (h: string) => (h === 'user-agent' ? s : undefined) }), true);
    assert.deepEqual(latin1(s).length, s.length);
  });
  test("every packet feature: the condition for a packet's own key compiles and matches that packet", async () => {
    mkdirSync(ART, { recursive: true });
    const pcap = join(ART, 'demo.pcap');
    generate('demo', pcap, { packets: 4000, seed: 2 });
    const features = packetFeatures(packetScheme);
    const cache = new Map<string, (v: never) => boolean>();
    let checked = 0;
    await captureSource(pcap).read((v) => {
      for (const f of features) {
        const k = f.key(v);
        if (!isExpressible(k)) continue;
        const expr = f.condition([k]);
        let pred = cache.get(expr);
        if (!pred) {
          pred = compile(expr, packetScheme) as (v: never) => boolean;
          cache.set(expr, pred);
        }
        assert.equal(pred(v as never), true, `${f.name}: ${expr}`);
        checked++;
      }
    });
    assert.ok(checked > 20_000, `${checked} conditions checked`);
  });
  test('packet features leave out per-packet-unique fields and name packet-scheme fields', () => {
    const names = packetFeatures(packetScheme).map((f) => f.field);
    for (const n of ['ip.ttl', 'ip.len', 'tcp.window', 'tcp.flags', 'udp.srcport', 'ip.src']) assert.ok(names.includes(n), n);
    for (const n of ['ip.id', 'tcp.seq', 'tcp.ack', 'tcp.srcport']) assert.ok(!names.includes(n), n);
    for (const f of packetFeatures(packetScheme)) assert.ok(packetScheme.fields.has(f.field));
  });
});

// ------------------------------------------------------------------ generated logs

interface Split {
  views: HttpRequestView[];
  labels: Uint8Array;
}

function generated(scenario: string, seed: number, lines: number): Split & { truth: ReturnType<typeof generateL7> } {
  mkdirSync(ART, { recursive: true });
  const out = join(ART, `${scenario}-${seed}.log`);
  const truth = generateL7(scenario, out, { lines, seed });
  const recs = readFileSync(l7Paths(out).jsonl, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => httpRequestView(JSON.parse(l) as HttpRequest));
  return { views: recs, labels: l7TruthLabels(truth), truth };
}

/** A = legitimate lines, B = the lines of attack `label`. */
function byLabel(s: Split, label: number): Populations<HttpRequestView> {
  return {
    replayable: true,
    async read(emit) {
      s.views.forEach((v, i) => {
        const l = s.labels[i] as number;
        emit(v, l === 0, l === label);
      });
    },
  };
}

/** The printed rates are what evaluating the printed expression gives. */
function checkRates(r: CompareResult, s: Split, label: number): void {
  for (const rate of [r.suggestion, ...r.alternatives, ...r.fields.map((f) => f.condition)]) {
    if (rate === null || rate === undefined) continue;
    const pred = compile(rate.expression, httpScheme);
    let a = 0;
    let b = 0;
    s.views.forEach((v, i) => {
      const l = s.labels[i] as number;
      if (!pred(v)) return;
      if (l === 0) a++;
      if (l === label) b++;
    });
    assert.deepEqual([rate.b_matched, rate.a_matched], [b, a], rate.expression);
    assert.equal(rate.b_share, b / r.b.records);
    assert.equal(rate.a_share, a / r.a.records);
  }
}

/** What each attack group's plan (src/generate/l7/attacks.ts) sets apart from site traffic. */
const PLAN_FIELDS: Record<string, string[]> = {
  // One UA or a few, a script's header list, no referer/cookies, a cache-busting query, packed prefixes.
  flood: [
    'http.user_agent',
    'http.request.headers.order',
    'http.request.uri.args.names',
    'http.request.uri.query',
    'http.referer',
    'http.request.cookies',
    'ip.src',
    'ip.src.asnum',
    'cf.bot_management.ja3_hash',
    'cf.bot_management.ja4',
  ],
  // The tool's UA and headers, POST to the login path, 401/403, tens of proxies rented in hosting.
  stuffing_busy: [
    'ip.src',
    'http.user_agent',
    'http.request.headers.order',
    'http.request.uri.path',
    'http.request.method',
    'http.response.code',
    'cf.bot_management.ja3_hash',
    'cf.bot_management.ja4',
    'ip.src.asnum',
    'http.request.cookies',
  ],
};

for (const [scenario, group] of [
  ['http-flood', 'flood'],
  ['http-stuffing', 'stuffing_busy'],
] as const) {
  for (const seed of [1, 2]) {
    test(`${scenario} seed ${seed}: the suggestion separates the attack, rates as measured, top fields are the plan's`, async () => {
      const s = generated(scenario, seed, 40_000);
      const attack = s.truth.attacks.find((a) => a.group === group);
      assert.ok(attack);
      const r = await compare(byLabel(s, attack.label), { scheme: httpScheme, features: httpFeatures(httpScheme) });
      assert.equal(r.b.records, attack.lines);
      assert.equal(r.a.records, s.truth.benign.lines);
      assert.ok(r.measured);
      const sug = r.suggestion;
      assert.ok(sug, 'a suggestion');
      assert.ok(sug.b_share >= 0.9, `${sug.expression}: B ${sug.b_share}`);
      assert.ok(sug.a_share <= 0.01, `${sug.expression}: A ${sug.a_share}`);
      checkRates(r, s, attack.label);
      const top3 = r.fields.slice(0, 3).map((f) => f.field);
      for (const f of top3) assert.ok(PLAN_FIELDS[group]?.includes(f), `${f} among the top 3 (${top3.join(', ')})`);
      // Sorted by divergence, every divergence in [0, 1].
      for (let i = 1; i < r.fields.length; i++) assert.ok((r.fields[i - 1]?.divergence as number) >= (r.fields[i]?.divergence as number));
    });
  }
}

test('a population that is empty gives no suggestion and no divergence', async () => {
  const s: Split = { views: [view({}), view({ path: '/x' })], labels: new Uint8Array([0, 0]) };
  const r = await compare(byLabel(s, 1), { scheme: httpScheme, features: httpFeatures(httpScheme) });
  assert.equal(r.b.records, 0);
  assert.equal(r.suggestion, null);
  for (const f of r.fields) assert.equal(f.divergence, 0);
});

test('read once (stdin): one pass, rates estimated from the tables', async () => {
  const s = generated('http-stuffing', 3, 20_000);
  const attack = s.truth.attacks[0];
  assert.ok(attack);
  let passes = 0;
  const once: Populations<HttpRequestView> = {
    replayable: false,
    async read(emit) {
      passes++;
      await byLabel(s, attack.label).read(emit);
    },
  };
  const r = await compare(once, { scheme: httpScheme, features: httpFeatures(httpScheme) });
  assert.equal(passes, 1);
  assert.equal(r.measured, false);
  assert.ok(r.suggestion && r.suggestion.b_share >= 0.9);
});

test('memory is bounded: every field of every record unique, tables stay at their capacity', async () => {
  let n = 0;
  const unique: Populations<HttpRequestView> = {
    replayable: true,
    async read(emit) {
      for (let i = 0; i < 20_000; i++) {
        const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
        emit(view({ path: `/p${i}`, user_agent: `ua-${i}`, client: { ip }, query: `k${i}=1` }), i % 2 === 0, i % 2 === 1);
        n++;
      }
    },
  };
  const r = await compare(unique, { scheme: httpScheme, features: httpFeatures(httpScheme), capacity: 256 });
  // No condition worth measuring, so no second pass.
  assert.equal(n, 20_000);
  for (const f of r.fields) assert.ok(f.distinct.a <= 256 && f.distinct.b <= 256, `${f.feature}: ${f.distinct.a}/${f.distinct.b}`);
  // Nothing B shows more than A by a share worth a condition.
  assert.equal(r.suggestion, null);
});

test('a numeric field whose B values spread is told by a range, measured like any condition', async () => {
  const scheme = recordScheme(packetScheme as never);
  const rec = (len: number, ttl: number): RecordView =>
    new Map<string, number>([
      ['ip.len', len],
      ['ip.ttl', ttl],
    ]);
  // B: 4000 packets of 500 different lengths from 1000 to 1499; A: lengths under 600. TTLs alike.
  const pops: Populations<RecordView> = {
    replayable: true,
    async read(emit) {
      for (let i = 0; i < 4000; i++) emit(rec(1000 + (i % 500), 64), false, true);
      for (let i = 0; i < 4000; i++) emit(rec(60 + (i % 540), 64), true, false);
    },
  };
  const r = await compare(pops, { scheme, features: packetFeatures(scheme) });
  assert.equal(r.suggestion?.expression, 'ip.len in {1000..1499}');
  assert.deepEqual([r.suggestion?.b_matched, r.suggestion?.a_matched], [4000, 0]);
  assert.equal(r.fields.find((f) => f.field === 'ip.ttl')?.divergence, 0);
});
