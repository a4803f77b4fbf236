/**
 * The combined format's one-pass reading (combined-fast.ts) against the general one (text-parser.ts,
 * `oneShape: false`): on the corpus's lines, on lines of the L7 generator, on hand-made edge cases
 * and on thousands of mutated ones, both say the same of every line (record or malformed), and a
 * record is the same record: every field, every raw slot, the numbers, the headers. The share of
 * lines the one-pass reading took is checked too, so a shape check that silently sent every line
 * to the general reading would fail here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateL7 } from '../../../src/generate/l7/generator.js';
import { TEXT_FORMATS } from '../../../src/sources/accesslog/format.js';
import { TextLineParser } from '../../../src/sources/accesslog/text-parser.js';
import { HttpLogView, Slot } from '../../../src/sources/accesslog/view.js';
import { prng } from '../../helpers/prng.js';
import { corpusFiles, HAVE_CORPUS, LOGS } from './corpus.js';

const fast = new TextLineParser(TEXT_FORMATS.combined?.() ?? assert.fail('no combined format'));
const general = new TextLineParser(TEXT_FORMATS.combined?.() ?? assert.fail('no combined format'), { oneShape: false });

/** Everything a reader downstream can see of a parsed view. */
function seen(v: HttpLogView): unknown {
  const raw: Array<string | undefined> = [];
  for (let k = 0; k < Slot.COUNT; k++) raw.push(v.raw(k));
  return {
    request: v.toHttpRequest(),
    raw,
    time: v.timeMs,
    status: v.status,
    size: v.responseSize,
    body: v.bodySize,
    version: v.version,
    requestOk: v.requestOk,
    hasV4: v.hasV4,
    clientV4: v.hasV4 ? v.clientV4 : 0,
    duration: v.durationMs,
    origin: v.originMs,
    truncated: v.truncated,
    headers: v.headerCount,
  };
}

/** Both readings of `lines` (one piece of text, as the reader hands them over); returns how many took the one-pass reading. */
function compare(lines: readonly string[]): { same: number; records: number } {
  const text = `${lines.join('\n')}\n`;
  const a = new HttpLogView();
  const b = new HttpLogView();
  fast.beginText(text);
  general.beginText(text);
  let p = 0;
  let records = 0;
  for (const line of lines) {
    const end = p + line.length;
    const okA = fast.parseRange(text, p, end, a);
    const okB = general.parseRange(text, p, end, b);
    assert.equal(okA, okB, `record or not: ${JSON.stringify(line)}`);
    if (okA) {
      records++;
      assert.deepEqual(seen(a), seen(b), JSON.stringify(line));
    }
    p = end + 1;
  }
  return { same: lines.length, records };
}

const EDGE_CASES = [
  '203.0.113.9 - - [10/Oct/2000:13:55:36 -0700] "GET /a/b.php?x=1&y=2 HTTP/1.1" 200 2326 "http://ex.com/start" "Mozilla/5.0 (X11)"',
  '203.0.113.9 - alice [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2 "-" "-"',
  '2001:db8::1 - - [10/Oct/2000:13:55:36 +0000] "POST /login HTTP/2.0" 401 0 "-" "curl/8.0"',
  '::ffff:192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 0 "-" "x"',
  'example.com - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 0 "-" "x"',
  '203.0.113.9:443 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 0 "-" "x"',
  '256.1.1.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 0 "-" "x"',
  '1.2.3.4.5 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 0 "-" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36] "GET / HTTP/1.1" 200 0 "-" "x"',
  '203.0.113.9 - - [10/Oct/2000:13]5:36 +0000] "GET / HTTP/1.1" 200 0 "-" "x"',
  '203.0.113.9 - - [32/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 0 "-" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "-" 400 0 "-" "-"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "" 400 0 "-" "-"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET /a\\"b HTTP/1.1" 200 0 "-" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET /a\\\\" 200 0 "-" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 0 "-" "Mozilla \\"quoted\\" agent"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 0 "http://a/\\"b" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 099 0 "-" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 2000 0 "-" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 - "-" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1234567890123456 "-" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 12 "-" "x',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 12 "-" ""',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 12 "" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 12 "a"b" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 12 "-" "x" rt=0.012 host=Example.COM ja3=abc',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 12 "-" "x" rt=- host= =x noeq  upstream_response_time=0.5 request_time=1',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 12 "-" "x" ua="a b" rt=0.1',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 12 "-" "x" x-request-id=abc cookie=a=b xff=1.1.1.1 http_x_real_ip=2.2.2.2',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 12 "-" "x"   ',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "BREW /pot?x HTTP/1.1" 418 12 "-" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "\\x16\\x03\\x01" 400 0 "-" "-"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000] "GET /x?a=1?b=2 HTTP/1.0" 200 0 "-" "x"',
  '203.0.113.9 -  - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 0 "-" "x"',
  '203.0.113.9 - - [10/Oct/2000:13:55:36 +0000]',
  '203.0.113.9',
  '',
];

test('edge cases: the one-pass and the general reading agree on every line', () => {
  compare(EDGE_CASES);
});

test('lines of the L7 generator: the same records, nearly all read in one pass', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-combined-fast-'));
  try {
    const log = join(dir, 'mixed.log');
    generateL7('http-mixed', log, { lines: 20_000, seed: 5, noJson: true });
    const lines = readFileSync(log, 'latin1')
      .split('\n')
      .filter((l) => l.length > 0);
    const { records } = compare(lines);
    assert.equal(records, lines.length);
    // the share read in one pass: every line the generator writes has the common shape
    const v = new HttpLogView();
    let oneShape = 0;
    const probe = new TextLineParser(TEXT_FORMATS.combined?.() ?? assert.fail('no combined format'));
    for (const l of lines) if (probe.parse(l, v) && probe.lastOneShape) oneShape++;
    assert.equal(oneShape, lines.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('corpus lines and mutations of them: the same verdict and the same record', { skip: !HAVE_CORPUS }, () => {
  const seeds: string[] = [];
  for (const f of corpusFiles()) for (const l of readFileSync(join(LOGS, f)).toString('latin1').split('\n')) if (l.length > 0 && l.length < 8000) seeds.push(l);
  compare(seeds);
  const rnd = prng(17);
  const junk = ['"', '\\', '\\"', '\x00', ' ', '-', '=', '[', ']', ':', '.', '9', 'a', '\n'.slice(1)];
  const mutated: string[] = [];
  for (let k = 0; k < 20_000; k++) {
    const l = seeds[Math.floor(rnd() * seeds.length)] as string;
    const kind = Math.floor(rnd() * 3);
    if (kind === 0) mutated.push(l.slice(0, Math.floor(rnd() * l.length)));
    else if (kind === 1) {
      const at = Math.floor(rnd() * l.length);
      mutated.push(l.slice(0, at) + (junk[Math.floor(rnd() * junk.length)] as string) + l.slice(at));
    } else {
      const at = Math.floor(rnd() * l.length);
      mutated.push(l.slice(0, at) + l.slice(at + 1));
    }
  }
  compare(mutated);
});
