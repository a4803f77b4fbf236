/**
 * The OWASP CRS 3.3.4 regression tests (the shared ftw set) against `palisade waf serve` in the
 * test profile the README defines (detection only, paranoia 4, thresholds 5/4,
 * combined_file_sizes=65535), judged by the shared runner through the x-waf-matched-rules header.
 * Every test we do not pass is listed with its reason in ftw-skip.txt, and every test the runner
 * skips because the CRS ships its file disabled is listed in ftw-disabled.txt; the test fails on
 * any other failure, on any skip not listed (or listed and not skipped, or skipped for another
 * reason), and if the pass rate counting the ftw-skip.txt ones as failures drops below 97.2 %.
 */

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const crs = join(root, '../shared/conformance/crs');

/** The runner's skip-file format: `TITLE reason...` per line, `#` starts a comment. */
function readListing(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const t = line.replace(/#.*/, '').trim();
    if (!t) continue;
    const [title, ...why] = t.split(/\s+/);
    out.set(title, why.join(' '));
  }
  return out;
}

/** the runner's reason for a test in a file with meta.enabled: false */
const DISABLED_REASON = 'test file disabled (meta.enabled: false)';

interface Summary {
  totals: { passed: number; failed: number; skipped: number };
  results: { title: string; verdict: string; reasons: string[] }[];
}

test('CRS regression tests: >= 97.2 % pass, every failure and every skip listed with its reason', { timeout: 240_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'test/waf/serve-main.ts'), 'waf', 'serve', '--listen', '127.0.0.1:0', '--profile', 'test'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const dir = mkdtempSync(join(tmpdir(), 'palisade-ftw-'));
  try {
    let err = '';
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on [^:]+:(\d+)/.exec(err);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`waf serve exited with ${code}: ${err}`)));
    });
    assert.doesNotMatch(err, /warning/, 'the CRS loads without warnings');
    const out = join(dir, 'ftw.json');
    const r = await run(
      process.execPath,
      [
        join(crs, 'run-ftw.mjs'),
        '--target',
        `127.0.0.1:${port}`,
        '--rules-from',
        'header',
        '--skip',
        join(root, 'test/waf/ftw-skip.txt'),
        '--json',
        out,
        '--quiet',
        join(crs, 'tests'),
      ],
      { maxBuffer: 1 << 24 },
    ).catch((e: { stdout: string; code: number }) => e);
    const s = JSON.parse(readFileSync(out, 'utf8')) as Summary;
    const failed = s.results.filter((x) => x.verdict === 'fail').map((x) => `${x.title}: ${x.reasons.join('; ')}`);
    assert.deepEqual(failed, [], `unexpected failures:\n${(r as { stdout: string }).stdout}`);
    // every skip is expected, for the expected reason: ours (ftw-skip.txt) or the CRS's (ftw-disabled.txt)
    const listedSkips = readListing(join(root, 'test/waf/ftw-skip.txt'));
    const disabledFiles = readListing(join(root, 'test/waf/ftw-disabled.txt'));
    const expected = new Map<string, string>();
    for (const title of disabledFiles.keys()) expected.set(title, DISABLED_REASON);
    for (const [title, why] of listedSkips) {
      assert.ok(!expected.has(title), `${title} is listed both in ftw-skip.txt and ftw-disabled.txt`);
      expected.set(title, why);
    }
    const skipped = new Map<string, string>();
    for (const x of s.results) if (x.verdict === 'skip') skipped.set(x.title, x.reasons.join('; '));
    const byTitle = (m: Map<string, string>): [string, string][] => [...m].sort((a, b) => a[0].localeCompare(b[0]));
    assert.deepEqual(byTitle(skipped), byTitle(expected), 'skipped tests (title, reason) differ from ftw-skip.txt + ftw-disabled.txt');
    assert.equal(s.totals.skipped, expected.size);
    const listed = listedSkips.size;
    const disabled = disabledFiles.size;
    const rate = s.totals.passed / (s.totals.passed + s.totals.failed + listed);
    assert.ok(rate >= 0.972, `pass rate ${(rate * 100).toFixed(2)} % is below 97.2 %`);
    process.stdout.write(`# ftw: ${s.totals.passed} passed, ${listed} listed in ftw-skip.txt, ${disabled} in disabled files; pass rate ${(rate * 100).toFixed(2)} %\n`);
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});
