/**
 * Inputs: a file, gzip (by magic, whatever the name), stdin, several files merged in time order,
 * lines without a final newline, CRLF, blank and `#` lines, malformed line numbers, the Source.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { MAX_LINE_NUMBERS } from '../../../src/sources/accesslog/handler.js';
import { readAccessLog } from '../../../src/sources/accesslog/reader.js';
import { accessLogSource } from '../../../src/sources/accesslog/source.js';
import { Slot } from '../../../src/sources/accesslog/view.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-accesslog-'));
let n = 0;
function file(content: string | Uint8Array, ext = '.log'): string {
  const p = join(dir, `f${n++}${ext}`);
  writeFileSync(p, content);
  return p;
}
const line = (ip: string, sec: number, path = '/') => `${ip} - - [10/Oct/2000:13:55:${String(sec).padStart(2, '0')} +0000] "GET ${path} HTTP/1.1" 200 5 "-" "ua"`;

async function collect(inputs: string | string[], format?: string) {
  const got: Array<{ ip: string | undefined; t: number; line: number; file: number }> = [];
  const info = await readAccessLog(inputs, (v) => got.push({ ip: v.get(Slot.CLIENT), t: v.timeMs, line: v.lineNo, file: v.fileIndex }), format ? { format } : {});
  return { info, got };
}

test('plain file: CRLF, blank and # lines skipped, no final newline, malformed lines by number', async () => {
  const p = file([line('1.1.1.1', 1), '', '# comment', 'garbage', line('2.2.2.2', 2), `${line('3.3.3.3', 3)}\r`, 'more garbage', line('4.4.4.4', 4)].join('\n'));
  const { info, got } = await collect(p);
  assert.equal(info.format, 'combined');
  assert.equal(info.detected, true);
  assert.deepEqual(
    got.map((g) => g.ip),
    ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'],
  );
  assert.deepEqual(
    got.map((g) => g.line),
    [1, 5, 6, 8],
  );
  assert.equal(info.lines, 8);
  assert.equal(info.skipped, 2);
  assert.equal(info.malformed, 2);
  assert.deepEqual(info.files[0].malformedLines, [4, 7]);
});

test('gzip is recognised by its magic, not its name', async () => {
  const text = `${[line('1.1.1.1', 1), line('2.2.2.2', 2)].join('\n')}\n`;
  const p = file(gzipSync(text), '.log');
  const { info, got } = await collect(p);
  assert.equal(info.records, 2);
  assert.equal(got[1].ip, '2.2.2.2');
});

test('a damaged gzip stream ends the read with an error, records before it kept', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 5000; i++) lines.push(line(`10.0.${i >> 8}.${i & 255}`, i % 60));
  const gz = gzipSync(lines.join('\n'));
  const cut = file(gz.subarray(0, Math.floor(gz.length / 2)));
  const { info } = await collect(cut, 'combined');
  assert.ok(info.error !== null);
  assert.ok(info.records > 0 && info.records < 5000);
});

test('many lines across chunk boundaries all arrive, in order', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 30000; i++) lines.push(line(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, i % 60, `/${'x'.repeat(i % 97)}`));
  const { info, got } = await collect(file(lines.join('\n')), 'combined');
  assert.equal(info.records, 30000);
  assert.equal(got[29999].line, 30000);
  assert.equal(got[12345].ip, '10.0.48.57');
});

test('several files are merged in time order (stable for equal times), each with its own format', async () => {
  const a = file([line('1.0.0.1', 1), line('1.0.0.3', 3), line('1.0.0.5', 5)].join('\n'));
  const b = file(
    [1712790000, 1712790002, 1712790004]
      .map((s) => JSON.stringify({ ClientIP: `2.0.0.${s % 10}`, ClientRequestMethod: 'GET', ClientRequestURI: '/', EdgeStartTimestamp: s * 1e9, EdgeResponseStatus: 200 }))
      .join('\n'),
  );
  // The JSON file is in 2024, the text file in 2000: shift the text file into the same seconds.
  const c = file([0, 2, 4, 4].map((s) => line(`3.0.0.${s}`, s).replace('10/Oct/2000:13:55', '10/Apr/2024:23:00')).join('\n'));
  const { info, got } = await collect([a, b, c]);
  assert.deepEqual(
    info.files.map((f) => f.format),
    ['combined', 'cloudflare', 'combined'],
  );
  assert.deepEqual(
    got.map((g) => g.ip),
    ['1.0.0.1', '1.0.0.3', '1.0.0.5', '2.0.0.0', '3.0.0.0', '2.0.0.2', '3.0.0.2', '2.0.0.4', '3.0.0.4', '3.0.0.4'],
  );
  for (let i = 1; i < got.length; i++) assert.ok(got[i].t >= got[i - 1].t);
  assert.equal(info.records, 10);
});

test('stdin (`-`), plain and gzip', () => {
  const text = `${[line('1.1.1.1', 1), 'bad', line('2.2.2.2', 2)].join('\n')}\n`;
  const script = `import { readAccessLog } from ${JSON.stringify(resolve('src/sources/accesslog/reader.ts'))};
const i = await readAccessLog('-', () => {});
console.log(JSON.stringify([i.records, i.malformed, i.format]));`;
  for (const input of [Buffer.from(text), gzipSync(text)]) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { input, encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [2, 1, 'combined']);
  }
});

test('malformed line numbers: the first MAX_LINE_NUMBERS kept, all counted', async () => {
  const lines = [line('1.1.1.1', 1)];
  for (let i = 0; i < MAX_LINE_NUMBERS + 50; i++) lines.push(`junk ${i}`);
  const { info } = await collect(file(lines.join('\n')), 'combined');
  assert.equal(info.malformed, MAX_LINE_NUMBERS + 50);
  assert.equal(info.files[0].malformedLines.length, MAX_LINE_NUMBERS);
  assert.equal(info.files[0].malformedLines[0], 2);
});

test('Source: kind http, the chosen format on the source after a pass, the clock at the last record', async () => {
  const p = file([line('1.1.1.1', 1), line('2.2.2.2', 7)].join('\n'));
  const src = accessLogSource(p);
  assert.equal(src.kind, 'http');
  assert.equal(src.replayable, true);
  assert.equal(src.location, p);
  let count = 0;
  const info = await src.read(() => count++);
  assert.equal(count, 2);
  assert.equal(info.records, 2);
  assert.deepEqual(src.formats, ['combined']);
  assert.equal(src.detected, true);
  assert.equal(new Date(src.clock.nowMs()).toISOString(), '2000-10-10T13:55:07.000Z');
  // A file can be read again.
  assert.equal((await src.read(() => {})).records, 2);
  assert.equal(accessLogSource('-').replayable, false);
});

test('an abort signal stops a read between chunks', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 40000; i++) lines.push(line('1.1.1.1', i % 60));
  const ac = new AbortController();
  let seen = 0;
  const info = await readAccessLog(
    file(lines.join('\n')),
    () => {
      seen++;
      ac.abort();
    },
    { format: 'combined', signal: ac.signal },
  );
  assert.ok(seen < 40000);
  assert.equal(info.records, seen);
});
