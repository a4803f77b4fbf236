/**
 * Conformance: every case of ../shared/conformance/rules/cases.jsonl passes through
 * `palisade rules test` (the built CLI), and the command's output contract holds: failures are
 * printed, the last line is exactly "N passed, M failed", exit 1 when any case fails.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { CLI, ensureBuilt } from './cli-build.js';

const CASES = join(import.meta.dirname, '../../../shared/conformance/rules/cases.jsonl');

before(() => ensureBuilt());

test('palisade rules test passes 100% of the shared conformance cases', () => {
  const total = readFileSync(CASES, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '').length;
  const r = spawnSync(process.execPath, [CLI, 'rules', 'test', CASES], { encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.at(-1), `${total} passed, 0 failed`, r.stdout + r.stderr);
  assert.equal(lines.length, 1, `failures printed:\n${r.stdout}`);
  assert.equal(r.status, 0);
  assert.ok(total >= 500, `only ${total} cases found`);
});

test('a failing vector is printed with its id and makes the command exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-rules-'));
  const file = join(dir, 'cases.jsonl');
  writeFileSync(
    file,
    [
      JSON.stringify({ id: 'good', scheme: 'packet', expr: 'tcp.dstport == 443', fields: { 'tcp.dstport': 443 }, expect: true, tags: ['eq'] }),
      JSON.stringify({ id: 'wrong-expect', scheme: 'packet', expr: 'tcp.dstport == 443', fields: { 'tcp.dstport': 80 }, expect: true, tags: ['eq'] }),
      JSON.stringify({ id: 'wrong-at', scheme: 'http', expr: 'http.host == abc', error: 'parse', at: 3, tags: ['err_parse'] }),
      '',
      '{not json',
    ].join('\n'),
  );
  const r = spawnSync(process.execPath, [CLI, 'rules', 'test', file], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.at(-1), '1 passed, 3 failed');
  assert.match(r.stdout, /FAIL wrong-expect \(line 2\): expected true, got false/);
  assert.match(r.stdout, /FAIL wrong-at \(line 3\): expected the parse error at 3, got it at 13/);
  assert.match(r.stdout, /FAIL line 5 \(line 5\): not JSON/);
});

test('rules test on a missing file is an input error (exit 3)', () => {
  const r = spawnSync(process.execPath, [CLI, 'rules', 'test', '/nonexistent/cases.jsonl'], { encoding: 'utf8' });
  assert.equal(r.status, 3);
  assert.match(r.stderr, /cannot read/);
});

test('rules check prints ok, or the error class and a caret under the span', () => {
  const ok = spawnSync(process.execPath, [CLI, 'rules', 'check', 'ip.proto == "udp" and udp.srcport in {53 123} and ip.len > 1000'], { encoding: 'utf8' });
  assert.equal(ok.status, 0);
  assert.equal(ok.stdout, 'ok\n');
  const bad = spawnSync(process.execPath, [CLI, 'rules', 'check', 'tcp.dstport == 80 and ip.src in {10.0.0.1/8}'], { encoding: 'utf8' });
  assert.equal(bad.status, 1);
  const lines = bad.stderr.split('\n');
  assert.match(lines[0] as string, /^error\[parse\] at 33: a CIDR prefix must have its host bits zero/);
  assert.equal(lines[1], 'tcp.dstport == 80 and ip.src in {10.0.0.1/8}');
  assert.equal(lines[2], `${' '.repeat(33)}${'^'.repeat(10)}`);
  const http = spawnSync(process.execPath, [CLI, 'rules', 'check', '--scheme', 'http', 'lower(http.host) eq "x" and http.hostname == "a"'], { encoding: 'utf8' });
  assert.equal(http.status, 1);
  assert.match(http.stderr, /^error\[unknown_field\] at 28: unknown field "http.hostname" in the http scheme/);
  assert.equal(http.stderr.split('\n')[2], `${' '.repeat(28)}${'^'.repeat(13)}`);
});
