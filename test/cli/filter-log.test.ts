/**
 * `palisade filter` and `palisade mitigate` on access logs, end to end through the CLI (from
 * source): inputs told from captures by content, lines out as they came in (compared with grep
 * over the file), --json records with enrichment, --count, --format strings and their errors,
 * malformed lines by number on stderr, stdin and gzip, --follow bounded by a signal, exit codes.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { generateL7, type L7Truth, l7Paths } from '../../src/generate/l7/generator.js';
import type { HttpRequest } from '../../src/model/http.js';

const CLI = 'test/helpers/run-cli.ts';
const run = (args: string[], input?: Buffer) => spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'latin1', maxBuffer: 1 << 28, input });

const dir = mkdtempSync(join(tmpdir(), 'palisade-filter-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const LOG = join(dir, 'mixed.log');
let truth: L7Truth;
let lines: string[];

before(() => {
  truth = generateL7('http-mixed', LOG, { lines: 5000, seed: 11 });
  lines = readFileSync(LOG, 'latin1').split('\n').slice(0, -1);
});

/** What grep -F would print: the lines holding the text. */
const grep = (needle: string) => lines.filter((l) => l.includes(needle));

describe('palisade filter on access logs', () => {
  it('prints the matching lines as they were, the format on stderr', () => {
    const r = run(['filter', '-e', 'http.request.uri.path eq "/login" and http.request.method eq "POST"', LOG]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      grep('"POST /login ')
        .map((l) => `${l}\n`)
        .join(''),
    );
    assert.match(r.stderr, /format combined \(detected\), 5000 request\(s\)/);
  });

  it('the old positional form (input then rule) still works, and --count counts', () => {
    const r = run(['filter', LOG, 'http.response.code eq 404', '--count']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${lines.filter((l) => / 404 \d+ "/.test(l)).length}\n`);
  });

  it('several -e count in one pass; --json makes one object', () => {
    const r = run(['filter', '-e', 'http.response.code eq 404', '-e', 'http.response.code eq 200', '--json', LOG]);
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout) as { expressions: Array<{ expression: string; requests: number }>; total: number };
    assert.equal(o.total, 5000);
    assert.deepEqual(
      o.expressions.map((x) => x.requests),
      [lines.filter((l) => / 404 \d+ "/.test(l)).length, lines.filter((l) => / 200 \d+ "/.test(l)).length],
    );
  });

  it('--json prints HttpRequest records with enrichment agreeing with the generator', () => {
    const r = run(['filter', '-e', 'http.request.uri.path eq "/login"', '--json', LOG]);
    assert.equal(r.status, 0, r.stderr);
    const got = r.stdout
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l) as HttpRequest);
    const want = readFileSync(l7Paths(LOG).jsonl, 'utf8')
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l) as HttpRequest)
      .filter((x) => x.path === '/login');
    assert.equal(got.length, want.length);
    assert.ok(got.length > 0);
    got.forEach((g, i) => {
      const w = want[i] as HttpRequest;
      assert.equal(g.client.ip, w.client.ip);
      const { asn, country, prefix, ...what } = g.enrichment ?? {};
      assert.deepEqual({ asn, country, prefix }, w.enrichment, `record ${i}: the address's, as the generator recorded them`);
      // What the request is: the login endpoint's page; cookie names where the line had a cookie.
      assert.equal(what.login, true, `record ${i}`);
      assert.equal(what.static, false, `record ${i}`);
      assert.deepEqual(what.cookie_names, g.cookies ? Object.keys(g.cookies).sort() : undefined, `record ${i}`);
      assert.equal(what.header_order, undefined, "a text log's header order is its format's");
    });
  });

  it('a format string given, gzip and stdin read alike', () => {
    const fmt = truth.formats.log;
    const gz = join(dir, 'mixed.log.gz');
    writeFileSync(gz, gzipSync(readFileSync(LOG)));
    const want = `${grep('"GET /products').length}\n`;
    const a = run(['filter', '--format', fmt, '-e', 'starts_with(http.request.uri.path, "/products") and http.request.method eq "GET"', '--count', gz]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, want);
    assert.match(a.stderr, /format custom, 5000 request\(s\)/);
    assert.doesNotMatch(a.stderr, /detected/);
    const b = run(['filter', '--as', 'http', '-e', 'starts_with(http.request.uri.path, "/products") and http.request.method eq "GET"', '--count', '-'], readFileSync(gz));
    assert.equal(b.status, 0, b.stderr);
    assert.equal(b.stdout, want);
  });

  it('several files merge in time order', () => {
    const a = join(dir, 'a.log');
    const b = join(dir, 'b.log');
    writeFileSync(a, `${lines.filter((_, i) => i % 2 === 0).join('\n')}\n`);
    writeFileSync(b, `${lines.filter((_, i) => i % 2 === 1).join('\n')}\n`);
    const r = run(['filter', '-e', 'http.response.code ne 0', a, b]);
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.split('\n').slice(0, -1);
    assert.equal(out.length, 5000);
    assert.deepEqual([...out].sort(), [...lines].sort());
    const secs = out.map((l) => /:(\d\d):(\d\d) \+0000/.exec(l)?.slice(1).join('') ?? '');
    assert.deepEqual(secs, [...secs].sort());
  });

  it('malformed lines: counted, numbered on stderr, the rest filtered; hostile bytes go out unchanged', () => {
    const f = join(dir, 'hostile.log');
    const hostile = '6.6.6.6 - - [02/Mar/2026:10:00:01 +0000] "GET /\xff\xfe%22x HTTP/1.1" 200 1 "-" "a\\"b\xc3\x28" rt=0.001 host=h';
    const rows = [lines[0], 'not a log line', lines[1], `"${'x'.repeat(100000)}`, hostile, '\x00\x01binary', lines[2]] as string[];
    writeFileSync(f, Buffer.from(`${rows.join('\n')}\n`, 'latin1'));
    const r = run(['filter', '-e', 'ip.src eq 6.6.6.6', f]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${hostile}\n`);
    assert.match(r.stderr, /4 request\(s\); 3 malformed line\(s\): 2, 4, 6/);
  });

  it('errors: a bad format string (2), an unknown format (2), a bad rule (2), no such file (3), nothing parses (3)', () => {
    const bad = run(['filter', '--format', '$remote_addr ${unclosed', '-e', 'ip.src eq 1.2.3.4', LOG]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^palisade: --format: log format .*unclosed/);
    const unknown = run(['filter', '--format', 'nosuch', '-e', 'ip.src eq 1.2.3.4', LOG]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown log format "nosuch"/);
    const rule = run(['filter', '-e', 'http.request.uri.pth eq "/"', LOG]);
    assert.equal(rule.status, 2);
    assert.match(rule.stderr, /unknown field "http\.request\.uri\.pth" in the http scheme/);
    const missing = run(['filter', '--as', 'http', '-e', 'ip.src eq 1.2.3.4', join(dir, 'nope.log')]);
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /nope\.log: no such file/);
    const none = run(['filter', '--format', 'common', '-e', 'ip.src eq 1.2.3.4', join(import.meta.dirname, '../../package.json')]);
    assert.equal(none.status, 3);
    assert.match(none.stderr, /no line is a request in format common/);
  });

  it('--follow prints lines appended later and stops on SIGINT', async () => {
    const f = join(dir, 'live.log');
    writeFileSync(f, `${lines.slice(0, 50).join('\n')}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'filter', '-f', '-e', 'http.request.method eq "POST"', f]);
    let out = '';
    let err = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('latin1').on('data', (d: string) => {
      err += d;
    });
    const want = lines.slice(0, 200).filter((l) => l.includes('"POST '));
    const until = async (ok: () => boolean) => {
      for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
    };
    await until(() => err.includes('following'));
    appendFileSync(f, `${lines.slice(50, 200).join('\n')}\n`);
    await until(() => out.split('\n').length - 1 >= want.length);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(code, 0, err);
    assert.equal(out, want.map((l) => `${l}\n`).join(''));
    assert.match(err, /following .*format combined \(detected\)/);
    assert.match(err, /200 request\(s\)/);
  });
});

describe('palisade mitigate on access logs', () => {
  it('per rule what it did, with the truth score; a packet ruleset is refused with its line', () => {
    const rules = join(dir, 'waf.yaml');
    writeFileSync(
      rules,
      `rules:
  - id: scan
    expression: http.request.uri.path.extension eq "php"
    action: block
  - id: login
    expression: http.request.uri.path eq "/login"
    action: block
    ratelimit: { characteristics: [ip.src], period: 60, requests_per_period: 5, mitigation_timeout: 600 }
`,
    );
    const r = run(['mitigate', '-r', rules, LOG, '--truth', l7Paths(LOG).truth, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout) as { totals: { requests: number }; rules: Array<{ id: string; matched: number; blocked: number }>; truth: { unlabelled: number } };
    assert.equal(o.totals.requests, 5000);
    assert.equal(o.rules[0]?.blocked, lines.filter((l) => /"[A-Z]+ [^ ?"]*\.php[ ?]/.test(l)).length);
    assert.equal(o.truth.unlabelled, 0);
    const text = run(['mitigate', '-r', rules, LOG]);
    assert.equal(text.status, 0);
    assert.match(text.stdout, /login \[rate_limit \(block\)\]: matched \d+/);
    const packet = join(dir, 'packet.yaml');
    writeFileSync(packet, 'rules:\n  - id: syn\n    expression: tcp.flags.syn\n    action: block\n');
    const p = run(['mitigate', '-r', packet, LOG]);
    assert.equal(p.status, 3);
    assert.match(p.stderr, /packet\.yaml:3:1: rule syn: unknown field "tcp\.flags\.syn"/);
  });
});
