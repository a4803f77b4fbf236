/**
 * Report formatting: times in the customer's zone agree with GNU date (the system's tz database,
 * independent of Node's ICU) across summer-time changes; ISO times keep sub-millisecond
 * precision; HTML escaping leaves nothing a browser would parse as markup.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { UsageError } from '../../src/core/errors.js';
import { checkTimeZone, escapeHtml, fmtUtc, fmtZoned, isoSeconds } from '../../src/report/format.js';
import { niceBin } from '../../src/report/replay.js';

function gnuDate(epoch: number, tz: string): string {
  return execFileSync('date', ['-u', '-d', `@${epoch}`, '+%Y-%m-%d %H:%M:%S'], { encoding: 'utf8', env: { ...process.env, TZ: tz } }).trim();
}

function gnuLocal(epoch: number, tz: string): string {
  return execFileSync('date', ['-d', `@${epoch}`, '+%Y-%m-%d %H:%M:%S'], { encoding: 'utf8', env: { ...process.env, TZ: tz } }).trim();
}

test('times in a zone agree with GNU date, including around summer-time changes', () => {
  const instants = [
    '2021-03-28T00:59:59Z', // Paris: last second of CET
    '2021-03-28T01:00:00Z', // Paris: first second of CEST
    '2021-10-31T00:59:59.999Z',
    '2021-10-31T01:00:00Z',
    '2024-02-29T23:30:00Z',
    '2021-09-21T15:45:24.430031Z',
  ];
  for (const tz of ['Europe/Paris', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'UTC']) {
    for (const iso of instants) {
      const epoch = Math.floor(isoSeconds(iso));
      assert.equal(gnuDate(epoch, tz), fmtUtc(iso).slice(0, 19), iso);
      assert.equal(fmtZoned(iso, tz).slice(0, 19), gnuLocal(epoch, tz), `${iso} in ${tz}`);
    }
  }
});

test('ISO times keep their fraction beyond milliseconds', () => {
  assert.equal(isoSeconds('2021-04-28T10:30:44.783363Z') - isoSeconds('2021-04-28T10:30:44.783Z') > 3e-4, true);
  assert.ok(Math.abs(isoSeconds('2026-03-02T10:00:08.001957766Z') - (Date.parse('2026-03-02T10:00:08Z') / 1000 + 0.001957766)) < 1e-6);
  assert.equal(isoSeconds('2021-01-01T00:00:00Z'), 1609459200);
  assert.equal(fmtUtc('2021-09-21T15:45:24.430031Z'), '2021-09-21 15:45:24.430 UTC');
  assert.equal(fmtUtc('2021-09-21T15:45:24Z'), '2021-09-21 15:45:24 UTC');
});

test('unknown zones are a usage error', () => {
  assert.throws(() => checkTimeZone('Europe/Atlantis'), UsageError);
  assert.doesNotThrow(() => checkTimeZone('Europe/Paris'));
});

test('escapeHtml leaves no markup and no invisible control characters', () => {
  assert.equal(escapeHtml(`<a href="x" onclick='y'>&amp;</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  assert.equal(escapeHtml('a\u0000b\u001bc\u0085d\te'), 'a\ufffdb\ufffdc\ufffdd\te');
});

test('timeline bins are round and bounded', () => {
  assert.equal(niceBin(0.147), 0.001);
  assert.equal(niceBin(29.7), 0.2);
  assert.equal(niceBin(3600), 30);
  assert.equal(niceBin(86400 * 400), 86400);
  for (const d of [0.001, 1, 59, 61, 7200, 1e5]) assert.ok(d / niceBin(d) <= 150 || niceBin(d) === 86400, String(d));
});
