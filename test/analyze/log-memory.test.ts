/**
 * Issue 15's memory bound: `analyzeAccessLog` over 10 M lines from 1 M distinct addresses, with a
 * botnet flood in its last fifth, keeps its heap bounded. Every part that grows with the log has a
 * cap: the client table (evicts, counted), the samples, the measuring columns (dropped past
 * MAX_RECORDS, and the log read again), the measuring tallies (MAX_SOURCES addresses). The lines
 * are made on the fly by a replayable source (no 2.6 GB file), parsed by the real combined parser.
 *
 * Checked after a collection at every million lines (JS heap and typed arrays): never above
 * HEAP_CAP, and once the columns are gone no growth with the lines read (measured here: 208 MB
 * with 4 M records in columns, 82 MB after, a passing 124 MB while the flood's samples fill).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { analyzeAccessLog } from '../../src/analyze/analyze-log.js';
import { MAX_RECORDS } from '../../src/detect/l7/columns.js';
import type { AccessLogInfo, AccessLogSource } from '../../src/sources/accesslog/index.js';
import { parserFor } from '../../src/sources/accesslog/parsers.js';
import { HttpLogView } from '../../src/sources/accesslog/view.js';

const LINES = 10_000_000;
const ADDRESSES = 1_000_000;
const HEAP_CAP = 400 * 1024 * 1024;

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));
const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
];
const BOT_UA = 'Mozilla/5.0 (compatible; load-test/1.0)';

/**
 * Line i: browsers (pages and assets, with a cookie) from 1 M addresses, 2,000 lines a second; in
 * the last fifth of the lines a flood from 5,000 bots doubles the rate.
 */
function line(i: number): string {
  const onset = LINES * 0.8;
  const sec = i < onset ? Math.floor(i / 2000) : onset / 2000 + Math.floor((i - onset) / 4000);
  const time = `[02/Mar/2026:${pad(10 + Math.floor(sec / 3600))}:${pad(Math.floor(sec / 60) % 60)}:${pad(sec % 60)} +0000]`;
  if (i >= onset && i % 2 === 0) {
    const b = (i >>> 1) % 5000;
    return `45.${(b >> 8) & 255}.${b & 255}.9 - - ${time} "GET /?q=${i} HTTP/1.1" 200 512 "-" "${BOT_UA}" rt=0.002 host=www.example.com sid=-`;
  }
  const c = (i * 7919) % ADDRESSES;
  const ip = `${20 + (c >> 16)}.${(c >> 8) & 255}.${c & 255}.${1 + (c % 200)}`;
  const path = i % 3 === 0 ? `/static/app.${c % 7}.js` : `/products/${c % 5000}`;
  return `${ip} - - ${time} "GET ${path} HTTP/2.0" 200 4096 "https://www.example.com/" "${UAS[c & 1]}" rt=0.020 host=www.example.com sid=${c}`;
}

test('10 M lines from 1 M addresses: the heap stays bounded, the flood is still found', { timeout: 900_000 }, async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const parser = parserFor(
    'nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time host=$host sid=$cookie_sid',
  );
  const heap: number[] = [];
  let passes = 0;
  const source: AccessLogSource = {
    kind: 'http',
    name: 'synthetic',
    weight: 1,
    clock: { nowMs: () => 0 },
    replayable: true,
    location: null,
    formats: ['custom'],
    detected: false,
    async read(onRecord): Promise<AccessLogInfo> {
      const first = passes++ === 0;
      const view = new HttpLogView();
      for (let i = 0; i < LINES; i++) {
        assert.ok(parser.parse(line(i), view));
        view.lineNo = i + 1;
        onRecord(view);
        if (first && (i + 1) % 1_000_000 === 0) {
          gc();
          // Typed arrays' memory is outside the JS heap: count both.
          const m = process.memoryUsage();
          heap.push(m.heapUsed + m.external);
        }
      }
      const file = {
        file: 'synthetic',
        format: 'custom',
        detected: false,
        lines: LINES,
        records: LINES,
        malformed: 0,
        skipped: 0,
        malformedLines: [],
        overlongLines: 0,
        truncatedFields: 0,
      };
      return { records: LINES, error: null, files: [file], format: 'custom', detected: false, lines: LINES, malformed: 0, skipped: 0, truncatedFields: 0, parsers: [parser] };
    },
  };
  const a = await analyzeAccessLog(source);
  const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
  const at = heap.map((h, k) => `${k + 1}M ${mb(h)}`).join(', ');
  for (const h of heap) assert.ok(h < HEAP_CAP, `heap under ${mb(HEAP_CAP)} at every million lines: ${at}`);
  // The columns hold the first MAX_RECORDS records and are dropped past them: from then on the heap is flat.
  const after = Math.ceil(MAX_RECORDS / 1_000_000) + 1;
  const tail = heap.slice(after);
  assert.ok(Math.max(...tail) - Math.min(...tail) < 64 * 1024 * 1024, `no growth once the columns are dropped: ${at}`);
  assert.equal(passes, 2, 'past the columns the log is read again to measure');
  const flood = a.attacks.find((x) => x.vector === 'http_flood');
  assert.ok(flood, `the flood found: ${a.attacks.map((x) => x.vector).join(', ')}`);
  assert.ok((flood.sources.unique ?? 0) >= 4750, `its bots attributed: ${flood.sources.unique}`);
  assert.ok((a.traffic.http?.clients_evicted ?? 0) > 0, 'the client table evicted (and counted) addresses');
});
