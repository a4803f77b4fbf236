/**
 * Hostile input never throws or hangs: mutated and truncated corpus lines, random bytes, NUL
 * bytes, injected quotes and backslashes, huge fields and lines without newlines. Every line is
 * accounted for (records + malformed + skipped = lines) and every record makes a schema-valid
 * HttpRequest.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { schemaErrors } from '../../../src/model/validate.js';
import { MAX_LINE } from '../../../src/sources/accesslog/lines.js';
import { type AccessLogInfo, readAccessLog } from '../../../src/sources/accesslog/reader.js';
import { MAX_FIELD } from '../../../src/sources/accesslog/view.js';
import { prng } from '../../helpers/prng.js';
import { corpusFiles, HAVE_CORPUS, LOGS } from './corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-accesslog-fuzz-'));
let n = 0;

async function readAll(content: Buffer, format?: string): Promise<AccessLogInfo> {
  const p = join(dir, `z${n++}.log`);
  writeFileSync(p, content);
  let bad: string | null = null;
  const info = await readAccessLog(
    p,
    (v) => {
      const r = v.toHttpRequest();
      const e = schemaErrors(r, 'http-request');
      if (e !== null && bad === null) bad = `line ${v.lineNo}: ${e}`;
    },
    format ? { format } : {},
  );
  assert.equal(bad, null);
  for (const f of info.files) assert.equal(f.records + f.malformed + f.skipped, f.lines);
  return info;
}

const seedLines = (): Buffer[] => {
  const out: Buffer[] = [];
  for (const f of corpusFiles()) for (const l of readFileSync(join(LOGS, f)).toString('latin1').split('\n')) if (l.length > 0) out.push(Buffer.from(l, 'latin1'));
  return out;
};

function mutate(rnd: () => number, l: Buffer): Buffer {
  const b = Buffer.from(l);
  const kind = Math.floor(rnd() * 6);
  if (kind === 0) return b.subarray(0, Math.floor(rnd() * b.length));
  if (kind === 1) {
    for (let k = 0; k < 1 + rnd() * 8; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    return b;
  }
  if (kind === 2) {
    // Injected quotes, backslashes, NULs and spaces.
    const junk = ['"', '\\', '\\"', '\x00', ' ', '\\x', '=', '[', ']'];
    let out = b;
    for (let k = 0; k < 1 + rnd() * 6; k++) {
      const at = Math.floor(rnd() * out.length);
      const j = Buffer.from(junk[Math.floor(rnd() * junk.length)], 'latin1');
      out = Buffer.concat([out.subarray(0, at), j, out.subarray(at)]);
    }
    return out;
  }
  if (kind === 3) {
    const at = Math.floor(rnd() * b.length);
    return Buffer.concat([b.subarray(0, at), Buffer.alloc(Math.floor(rnd() * 3 * MAX_FIELD), 0x41), b.subarray(at)]);
  }
  if (kind === 4) {
    // Bad UTF-8: lone continuation bytes and cut sequences.
    const at = Math.floor(rnd() * b.length);
    return Buffer.concat([b.subarray(0, at), Buffer.from([0xc3, 0x80, 0xbf, 0xe2, 0x82]), b.subarray(at)]);
  }
  return Buffer.concat([b, Buffer.from(` k="${'v'.repeat(Math.floor(rnd() * 40))}" x=1 "tail`, 'latin1')]);
}

for (const format of ['combined', 'common', 'vhost_combined', 'cloudflare', 'caddy', 'traefik', 'palisade', undefined]) {
  test(`mutated corpus lines (${format ?? 'detected'}) never throw; every line accounted for`, { skip: !HAVE_CORPUS, timeout: 60000 }, async () => {
    const rnd = prng(format?.length ?? 99);
    const seeds = seedLines();
    const lines: Buffer[] = [];
    for (let i = 0; i < 3000; i++) lines.push(mutate(rnd, seeds[Math.floor(rnd() * seeds.length)]));
    const info = await readAll(Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])), format);
    assert.ok(info.lines >= 3000);
  });
}

test('random bytes never throw, and mostly do not parse', { timeout: 60000 }, async () => {
  const rnd = prng(7);
  const b = Buffer.alloc(2_000_000);
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(rnd() * 256);
  for (const format of ['combined', 'cloudflare', undefined]) {
    const info = await readAll(b, format);
    assert.ok(info.malformed > 0);
    assert.ok(info.records <= info.lines / 100);
  }
});

test('a line over MAX_LINE is cut, counted as malformed, and the next line still reads', { timeout: 60000 }, async () => {
  const ok = '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "-"';
  const huge = Buffer.alloc(MAX_LINE * 3 + 17, 0x22);
  const t0 = Date.now();
  const info = await readAll(Buffer.concat([Buffer.from(`${ok}\n`), huge, Buffer.from(`\n${ok}\n`)]), 'combined');
  assert.ok(Date.now() - t0 < 20000);
  assert.equal(info.records, 2);
  assert.equal(info.malformed, 1);
  assert.equal(info.files[0].overlongLines, 1);
  assert.deepEqual(info.files[0].malformedLines, [2]);
  // And a file that never ends its line.
  const none = await readAll(Buffer.alloc(MAX_LINE + 5, 0x41), 'combined');
  assert.equal(none.malformed, 1);
});

test('quotes, backslashes and NULs in quoted fields: parsed or malformed, in linear time', { timeout: 60000 }, async () => {
  const head = '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "';
  const lines = [
    `${head}${'\\"'.repeat(200000)}"`,
    `${head}${'\\'.repeat(200001)}"`,
    `${head}${'"'.repeat(200000)}`,
    `${head}a\x00b"`,
    `${head}${'\\x'.repeat(100000)}"`,
    `${head}${' k="'.repeat(50000)}`,
  ];
  const t0 = Date.now();
  const info = await readAll(Buffer.from(lines.join('\n'), 'latin1'), 'combined');
  assert.ok(Date.now() - t0 < 10000, `took ${Date.now() - t0} ms`);
  assert.equal(info.lines, lines.length);
  assert.ok(info.truncatedFields > 0, 'huge fields are cut and counted');
});
