/**
 * The measuring pass on the detection pass's columns (detect/l7/columns.ts) gives the same attacks
 * as reading the log again, and the same as a stream measured on its sample when that sample is
 * the whole stream; value ids are equal exactly when the logged bytes are; the bounds drop the
 * columns (and the log is read again) instead of growing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { analyzeAccessLog } from '../../../src/analyze/analyze-log.js';
import { Col, RecordColumns } from '../../../src/detect/l7/columns.js';
import { RequestTraits } from '../../../src/detect/l7/features.js';
import { generateL7 } from '../../../src/generate/l7/generator.js';
import { type AccessLogSource, accessLogSource } from '../../../src/sources/accesslog/index.js';
import { parserFor } from '../../../src/sources/accesslog/parsers.js';
import { HttpLogView } from '../../../src/sources/accesslog/view.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-l7-columns-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The same file, as a source that cannot be read twice (what stdin is). */
function once(path: string): AccessLogSource {
  const s = accessLogSource(path);
  return {
    kind: s.kind,
    name: s.name,
    weight: s.weight,
    clock: s.clock,
    replayable: false,
    location: null,
    get formats() {
      return s.formats;
    },
    get detected() {
      return s.detected;
    },
    read: (on, o) => s.read(on, o),
  };
}

describe('measuring on columns', { timeout: 240_000 }, () => {
  test('the same attacks, signatures, figures and address lists as a second read of the log, and as a stream sampled whole', async () => {
    const log = join(dir, 'mixed.log');
    generateL7('http-mixed', log, { lines: 60_000, seed: 2, noJson: true });
    const cols = await analyzeAccessLog(log);
    const reread = await analyzeAccessLog(log, { maxColumnRecords: 1000 });
    const sampled = await analyzeAccessLog(once(log), { maxColumnRecords: 1000 });
    const stream = await analyzeAccessLog(once(log));
    assert.ok(cols.attacks.length >= 4, `attacks found: ${cols.attacks.map((a) => a.vector).join(', ')}`);
    assert.deepEqual(cols.attacks, reread.attacks);
    // 60k lines fit the stream's sample (STDIN_KEEP): measured on all of them, the same figures.
    assert.deepEqual(sampled.attacks, cols.attacks);
    assert.deepEqual(stream.attacks, cols.attacks);
    assert.equal(cols.capture.log?.measured_on, 'log');
    assert.equal(reread.capture.log?.measured_on, 'log');
    assert.equal(sampled.capture.log?.measured_on, `stdin sample of ${cols.capture.log?.records} lines`);
    assert.equal(stream.capture.log?.measured_on, 'log');
  });

  test('value ids: equal bytes share an id, different bytes do not; the first line of each id is kept', () => {
    const parser = parserFor('combined');
    const v = new HttpLogView();
    const tr = new RequestTraits();
    const cols = new RecordColumns();
    const lines = [
      '10.0.0.1 - - [02/Mar/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 1 "-" "UA-1"',
      '10.0.0.2 - - [02/Mar/2026:10:00:01 +0000] "GET /a?x=1 HTTP/1.1" 200 1 "https://r/" "UA-2"',
      '10.0.0.3 - - [02/Mar/2026:10:00:02 +0000] "POST /b HTTP/2.0" 401 1 "-" "UA-1"',
      '10.0.0.4 - - [02/Mar/2026:10:00:03 +0000] "GET /A HTTP/1.1" 200 1 "-" "UA-1 "',
      '10.0.0.5 - - [02/Mar/2026:10:00:04 +0000] "-" 400 0 "-" "-"',
    ];
    for (const l of lines) {
      assert.ok(parser.parse(l, v), l);
      assert.ok(tr.read(v));
      cols.add(v, tr);
    }
    assert.equal(cols.size, 5);
    const ids = (c: Col) => [...cols.ids[c].subarray(0, cols.size)];
    assert.deepEqual(ids(Col.PATH), [0, 0, 1, 2, 3], '/a twice (query apart), /b, /A, and the raw request line of the last');
    assert.deepEqual(ids(Col.UA), [0, 1, 0, 2, 3], 'a trailing space is another user agent; "-" is not logged');
    assert.deepEqual(ids(Col.QUERY), [0, 1, 0, 0, 0]);
    assert.deepEqual(ids(Col.REFERER), [0, 1, 0, 0, 0]);
    assert.deepEqual(ids(Col.METHOD), [0, 0, 1, 0, 2], 'a request line not understood reads no method');
    assert.deepEqual(ids(Col.VERSION), [0, 0, 1, 0, 2]);
    assert.equal(cols.repLine[Col.PATH]?.[1], lines[2]);
    assert.equal(cols.repLine[Col.UA]?.[2], lines[3]);
  });

  test('bounded: past its record bound the columns are dropped, not grown', () => {
    const parser = parserFor('combined');
    const v = new HttpLogView();
    const tr = new RequestTraits();
    const cols = new RecordColumns(70_000);
    for (let i = 0; i < 80_000; i++) {
      parser.parse(`10.0.${(i >> 8) & 255}.${i & 255} - - [02/Mar/2026:10:00:00 +0000] "GET /p${i % 100} HTTP/1.1" 200 1 "-" "UA"`, v);
      tr.read(v);
      cols.add(v, tr);
    }
    assert.equal(cols.overflowed, true);
    assert.equal(cols.size, 0);
    assert.equal(cols.hostHash.length, 0);
    assert.match(cols.overflowWhy, /more than 70,000 records/);
  });
});
