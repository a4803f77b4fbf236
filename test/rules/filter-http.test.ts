/**
 * filterHttp (rules/filter-http.ts) against truth made without Palisade's readers: a reference
 * regex over the generator's nginx lines (as test/generate/l7.test.ts parses them) and the
 * generator's truth file; several files, gzip; hostile lines that must be counted, not fatal.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { generateL7, type L7Truth, l7TruthLabels } from '../../src/generate/l7/generator.js';
import { RulesError } from '../../src/rules/errors.js';
import { filterHttp, followHttp } from '../../src/rules/filter-http.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-filter-http-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const LOG = join(dir, 'mixed.log');
const LINES = 8000;
let truth: L7Truth;
let lines: string[];

/** The reference parse of the generator's format. */
const RE = /^(\S+) - (\S+) \[[^\]]+\] "(\S+) ([^ ?"]*)(\?[^ "]*)? (HTTP\/[\d.]+)" (\d{3}) (\d+) "([^"]*)" "([^"]*)" rt=(\S+) host=(\S+)$/;
interface Ref {
  ip: string;
  method: string;
  path: string;
  query: string;
  status: number;
  ua: string;
  referer: string;
  host: string;
}
let refs: Ref[];

before(() => {
  truth = generateL7('http-mixed', LOG, { lines: LINES, seed: 4, noJson: true });
  lines = readFileSync(LOG, 'latin1').split('\n').slice(0, -1);
  refs = lines.map((l, i) => {
    const m = RE.exec(l);
    assert.ok(m, `reference regex: line ${i + 1}`);
    const g = m as RegExpExecArray;
    return {
      ip: g[1] as string,
      method: g[3] as string,
      path: g[4] as string,
      query: (g[5] ?? '').slice(1),
      status: Number(g[7]),
      referer: g[9] === '-' ? '' : (g[9] as string),
      ua: g[10] as string,
      host: g[12] as string,
    };
  });
});

describe('filterHttp counts what the reference parse counts', () => {
  const cases: Array<[string, (r: Ref) => boolean]> = [
    ['http.request.uri.path eq "/login"', (r) => r.path === '/login'],
    ['http.request.method eq "POST" and http.response.code eq 401', (r) => r.method === 'POST' && r.status === 401],
    ['http.response.code ge 400 and http.response.code lt 500', (r) => r.status >= 400 && r.status < 500],
    ['http.response.code in {404 408}', (r) => r.status === 404 || r.status === 408],
    ['starts_with(http.request.uri.path, "/static/")', (r) => r.path.startsWith('/static/')],
    ['http.request.uri.query ne ""', (r) => r.query !== ''],
    ['http.referer eq "" and http.host eq "www.example.com"', (r) => r.referer === '' && r.host === 'www.example.com'],
    ['lower(http.user_agent) contains "bot"', (r) => r.ua.toLowerCase().includes('bot')],
    ['ip.src in {104.131.0.0/16 157.0.0.0/8}', (r) => r.ip.startsWith('104.131.') || r.ip.startsWith('157.')],
    ['not http.request.uri.path matches "^/(static|products)"', (r) => !/^\/(static|products)/.test(r.path)],
  ];
  for (const [expr, ref] of cases) {
    it(expr, async () => {
      const want = refs.filter(ref).length;
      assert.ok(want > 0 && want < LINES, `${expr}: ${want} is no test`);
      const got = await filterHttp(LOG, [expr]);
      assert.equal(got.total, LINES);
      assert.deepEqual(got.counts, [want]);
    });
  }

  it('several expressions in one pass, and the matching lines themselves', async () => {
    const seen: string[] = [];
    const r = await filterHttp(LOG, ['http.response.code eq 404', 'http.request.uri.path eq "/login"'], { onMatch: (v) => seen.push(v.line) });
    assert.deepEqual(r.counts, [refs.filter((x) => x.status === 404).length, refs.filter((x) => x.path === '/login').length]);
    assert.deepEqual(
      seen,
      lines.filter((_, i) => (refs[i] as Ref).status === 404),
    );
  });

  it("the flood's addresses from the truth file: ip.src in {them} counts their lines", async () => {
    const flood = truth.attacks.find((a) => a.vector === 'http_flood');
    assert.ok(flood);
    const labels = l7TruthLabels(truth);
    const ips = new Set(flood.ips);
    const want = refs.filter((r) => ips.has(r.ip)).length;
    const r = await filterHttp(LOG, [`ip.src in {${flood.ips.join(' ')}}`]);
    assert.equal(r.counts[0], want);
    // Every line labelled as the flood is from one of its addresses.
    const floodLabel = truth.attacks.indexOf(flood) + 1;
    const labelled = [...labels].filter((l) => l === floodLabel).length;
    assert.ok(labelled > 0 && labelled <= want, `${labelled} flood lines, ${want} from its addresses`);
  });
});

describe('inputs', () => {
  it('several files (one gzip) are merged, each counted', async () => {
    const gz = join(dir, 'copy.log.gz');
    writeFileSync(gz, gzipSync(readFileSync(LOG)));
    const r = await filterHttp([LOG, gz], ['http.request.uri.path eq "/login"']);
    assert.equal(r.total, 2 * LINES);
    assert.equal(r.counts[0], 2 * refs.filter((x) => x.path === '/login').length);
    assert.equal(r.info.files.length, 2);
  });

  it('an expression error is a RulesError before anything is read', async () => {
    await assert.rejects(filterHttp(join(dir, 'nonexistent.log'), ['http.request.uri.pth eq "/"']), RulesError);
    await assert.rejects(filterHttp(LOG, ['http.response.code eq "x"']), RulesError);
  });

  it('hostile lines are counted with their numbers and never crash', async () => {
    const good = lines.slice(0, 20);
    const bad = [
      `${'9'.repeat(200000)} - - [02/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x" rt=0.001 host=a`,
      `1.2.3.4 - - [02/Mar/2026:10:00:00 +0000] "GET /${'a'.repeat(300000)} HTTP/1.1" 200 1 "-" "x" rt=0.001 host=a`,
      '1.2.3.4 - - [02/Mar/2026:10:00:00 +0000] "GET /\xff\xfe\xc3( HTTP/1.1" 200 1 "-" "\xc3\x28\xa0\xa1" rt=0.001 host=a',
      '1.2.3.4 - - [02/Mar/2026:10:00:00 +0000] "GET /" HTTP/1.1" 200 1 "-" "x\\" \\"y" rt=0.001 host=a',
      '"""""""""""""',
      '\x00\x01\x02\x03 binary',
      '1.2.3.4 - - [99/Foo/2026:99:99:99 +0000] "GET / HTTP/1.1" 200 1 "-" "x" rt=0.001 host=a',
    ];
    const text = [...good, ...bad, ...good].join('\n');
    const f = join(dir, 'hostile.log');
    writeFileSync(f, Buffer.from(text, 'latin1'));
    const r = await filterHttp(f, ['http.user_agent contains "x" or http.request.uri.path contains "a"', 'ip.src eq 1.2.3.4'], { format: 'combined' });
    const info = r.info.files[0];
    assert.ok(info);
    assert.equal(info.lines, good.length * 2 + bad.length);
    assert.equal(info.records + info.malformed + info.skipped, info.lines);
    assert.ok(info.records >= good.length * 2, `${info.records}`);
    for (const n of info.malformedLines) assert.ok(n > good.length && n <= good.length + bad.length, `malformed line ${n} is a hostile one`);
    assert.equal(r.total, info.records);
  });
});

describe('followHttp', () => {
  it('counts lines appended while following, until aborted', async () => {
    const f = join(dir, 'follow.log');
    writeFileSync(f, `${lines.slice(0, 100).join('\n')}\n`);
    const stop = new AbortController();
    const want = (xs: string[]) => xs.filter((l) => RE.exec(l)?.[4] === '/login').length;
    const p = followHttp([f], ['http.request.uri.path eq "/login"'], { format: 'combined', pollMs: 20, signal: stop.signal });
    await new Promise((ok) => setTimeout(ok, 100));
    writeFileSync(f, `${lines.slice(0, 300).join('\n')}\n`, { flag: 'w' });
    // The file grew in place (same inode): wait for the follower to read it, bounded.
    for (let i = 0; i < 50; i++) await new Promise((ok) => setTimeout(ok, 20));
    stop.abort();
    const r = await p;
    assert.equal(r.total, 300);
    assert.deepEqual(r.counts, [want(lines.slice(0, 300))]);
  });
});
