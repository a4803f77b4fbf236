/**
 * `palisade analyze` on access logs as a user runs it: the format detected and said, JSON that
 * fits the schema, the human tables, several files merged (one gzip-compressed), hostile lines
 * counted with their numbers, stdin read once.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { generateL7 } from '../../src/generate/l7/generator.js';
import type { Analysis } from '../../src/model/analysis.js';
import { schemaErrors } from '../../src/model/validate.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'palisade-analyze-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], input?: string): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'analyze', '--no-progress', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    ...(input !== undefined ? { input } : {}),
  }) as ReturnType<typeof spawnSync> & { stdout: string; stderr: string };
}

const vectors = (a: Analysis): string[] => a.attacks.map((x) => `${x.vector}@${x.victim.host}`).sort();

describe('palisade analyze on access logs', { timeout: 240_000 }, () => {
  const log = join(dir, 'mixed.log');
  let whole: Analysis;
  before(() => {
    generateL7('http-mixed', log, { lines: 120_000, seed: 4, noJson: true });
  });

  test('--json: the detected format said on stderr, the analysis fits its schema, the attacks are there', () => {
    const r = cli([log, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /mixed\.log: format combined \(detected\)/);
    whole = JSON.parse(r.stdout) as Analysis;
    assert.equal(schemaErrors(whole, 'analysis'), null);
    assert.equal(whole.capture.format, 'access_log');
    assert.equal(whole.capture.log?.measured_on, 'log');
    assert.equal(whole.capture.packets, 120_000);
    for (const v of ['http_flood', 'credential_stuffing', 'scanner', 'slowloris'])
      assert.ok(
        whole.attacks.some((a) => a.vector === v),
        `${v} found`,
      );
  });

  test('human output: the log header, the attacks with their rules, no colour off a TTY', () => {
    const r = cli([log]);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /\x1b\[/);
    assert.match(r.stdout, /^Access log .*mixed\.log/m);
    assert.match(r.stdout, /format\s+combined \(detected\)/);
    assert.match(r.stdout, /■ http_flood against www\.example\.com \(http\)/);
    assert.match(r.stdout, /rate limit\s+\d+ per \d+ s per ip\.src/);
    assert.match(r.stdout, /coverage [\d.]+%, collateral [\d.]+% \(measured over the log\)/);
  });

  test('several files, one gzip-compressed, with hostile lines: merged in time order, bad lines counted by number', () => {
    const lines = readFileSync(log, 'latin1')
      .split('\n')
      .filter((l) => l !== '');
    const half = Math.floor(lines.length / 2);
    const a = join(dir, 'part1.log.gz');
    const b = join(dir, 'part2.log');
    const hostile = [
      '\x00\x01\x02binary\xff\xfe',
      `1.2.3.4 - - [02/Mar/2026:10:00:00 +0000] "GET /${'A'.repeat(200_000)} HTTP/1.1" 200 1 "-" "x"`,
      '9.9.9.9 - - [garbage "unterminated',
    ];
    writeFileSync(a, gzipSync(Buffer.from(`${lines.slice(0, half).join('\n')}\n`, 'latin1')));
    writeFileSync(b, Buffer.from(`${hostile.join('\n')}\n${lines.slice(half).join('\n')}\n`, 'latin1'));
    const r = cli([b, a, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Analysis;
    assert.equal(schemaErrors(got, 'analysis'), null);
    const part2 = got.capture.log?.formats.find((f) => f.file === b);
    assert.ok(part2, 'each input is listed with its format');
    assert.ok((part2?.malformed ?? 0) >= 2, `hostile lines counted: ${JSON.stringify(part2)}`);
    assert.ok(part2?.malformed_lines.includes(1) && part2.malformed_lines.includes(3), `their numbers kept: ${part2?.malformed_lines}`);
    assert.deepEqual(vectors(got), vectors(whole), 'the same attacks as from the one file');
  });

  test('stdin (--format): read once, signatures measured on every record (kept in columns by the detection pass)', () => {
    const r = cli(['-', '--format', 'combined', '--json'], readFileSync(log, 'latin1'));
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as Analysis;
    assert.equal(got.capture.log?.measured_on, 'log');
    assert.ok(
      got.attacks.some((a) => a.vector === 'http_flood'),
      vectors(got).join(', '),
    );
    for (const a of got.attacks) assert.equal(schemaErrors(a, 'attack'), null);
  });

  test("--login-path: stuffing against the site's own login endpoint is found only once it is named (or in palisade.yaml)", () => {
    const custom = join(dir, 'stuffing-custom.log');
    generateL7('http-stuffing', custom, { lines: 60_000, seed: 3, noJson: true });
    // The site's login is /customer/enter: no default login segment ends it.
    writeFileSync(custom, readFileSync(custom, 'latin1').replaceAll(' /login ', ' /customer/enter '), 'latin1');
    const stuffing = (args: string[]): number => {
      const r = cli([custom, '--json', ...args]);
      assert.equal(r.status, 0, r.stderr);
      return (JSON.parse(r.stdout) as Analysis).attacks.filter((a) => a.vector === 'credential_stuffing').length;
    };
    assert.equal(stuffing([]), 0, 'not a login endpoint by default');
    assert.equal(stuffing(['--login-path', '/customer/enter']), 1);
    const cfg = join(dir, 'palisade.yaml');
    writeFileSync(cfg, 'detection:\n  login_paths: [/customer/enter]\n');
    assert.equal(stuffing(['--config', cfg]), 1, 'palisade.yaml detection.login_paths');
    const bad = cli([custom, '--login-path', 'customer/enter']);
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--login-path: .*must start with \//);
  });
});
