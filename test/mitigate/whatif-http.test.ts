/**
 * The HTTP what-if (mitigate/whatif-http.ts): rate limits worked out by hand on small logs with
 * known times (Cloudflare's documented example among them), rule order, lists, and on a generated
 * log the per-rule counts, top addresses and truth score against counts made from the lines and
 * the truth file directly.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateL7, type L7Truth, l7Paths, l7TruthLabels } from '../../src/generate/l7/generator.js';
import { parseHttpRuleset } from '../../src/mitigate/http-ruleset.js';
import { RulesetError } from '../../src/mitigate/ruleset.js';
import { type HttpWhatIfReport, runHttpWhatIf } from '../../src/mitigate/whatif-http.js';
import { renderHttpWhatIf } from '../../src/mitigate/whatif-http-render.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-whatif-http-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** One combined line at second `t` after 10:00:00. */
function line(t: number, ip: string, method = 'GET', path = '/', status = 200): string {
  const mm = String(Math.floor(t / 60)).padStart(2, '0');
  const ss = String(t % 60).padStart(2, '0');
  const hh = String(10 + Math.floor(t / 3600)).padStart(2, '0');
  return `${ip} - - [02/Mar/2026:${hh}:${String(Number(mm) % 60).padStart(2, '0')}:${ss} +0000] "${method} ${path} HTTP/1.1" ${status} 10 "-" "test"`;
}

let n = 0;
async function whatIf(rows: string[], yaml: string): Promise<HttpWhatIfReport> {
  const f = join(dir, `t${n++}.log`);
  writeFileSync(f, `${rows.join('\n')}\n`);
  return runHttpWhatIf(f, parseHttpRuleset(yaml), { format: 'combined', interval: 1 });
}

describe('rate limits, the Cloudflare way', () => {
  it("Cloudflare's example: 1 request per 10 s, then blocked for the mitigation timeout", async () => {
    const r = await whatIf(
      [line(0, '10.0.0.1'), line(1, '10.0.0.1'), line(1, '10.0.0.2'), line(2, '10.0.0.1'), line(500, '10.0.0.1'), line(700, '10.0.0.1')],
      `rules:
  - id: rl
    expression: http.request.uri.path eq "/"
    action: block
    ratelimit: { characteristics: [cf.colo.id, ip.src], period: 10, requests_per_period: 1, mitigation_timeout: 600 }`,
    );
    const rl = r.rules[0];
    assert.ok(rl);
    assert.equal(rl.matched, 6);
    // 10.0.0.1: t=0 passes, t=1 goes over and starts 600 s of blocking (t=2, t=500 inside), t=700 is past it.
    assert.equal(rl.rate_limited, 3);
    assert.equal(r.totals.passed, 3);
    assert.equal(r.rate_limit_tables[0]?.keys, 2);
  });

  it('mitigation_timeout 0 throttles: only while the estimated rate is over', async () => {
    const r = await whatIf(
      [line(0, '10.0.0.1'), line(0, '10.0.0.1'), line(0, '10.0.0.1'), line(300, '10.0.0.1'), line(300, '10.0.0.1')],
      `rules:
  - id: rl
    expression: http.request.method eq "GET"
    action: rate_limit
    action_parameters: { rate: 2, period: 60s, key: ip.src }`,
    );
    // The third in the first minute is over 2; five minutes later the counter starts afresh.
    assert.equal(r.rules[0]?.rate_limited, 1);
    assert.equal(r.totals.passed, 4);
  });

  it('the previous window counts in proportion to its overlap with the period', async () => {
    // Window [0,60) holds 4; at t=75 a quarter of the period has passed: 4*0.75 + 1 = 4 > 3 is over,
    // at t=115 (4*(1-55/60) + 2 = 2.33, the t=75 request counted) it is not.
    const rows = [0, 1, 2, 3].map((t) => line(t, '10.0.0.9'));
    const r = await whatIf(
      [...rows, line(75, '10.0.0.9'), line(115, '10.0.0.9')],
      `rules:
  - id: rl
    expression: ip.src eq 10.0.0.9
    action: rate_limit
    action_parameters: { rate: 3, period: 60, key: ip.src }`,
    );
    // t=3 is the 4th in the window (over 3): limited; t=75 limited; t=115 passes.
    assert.equal(r.rules[0]?.rate_limited, 2);
    assert.equal(r.totals.passed, 4);
  });

  it('a counting expression counts the failures, the rule stops the logins', async () => {
    const ip = '192.0.2.7';
    const r = await whatIf(
      [
        line(0, ip, 'POST', '/login', 200),
        line(1, ip, 'POST', '/login', 401),
        line(2, ip, 'POST', '/login', 401),
        line(3, ip, 'POST', '/login', 401),
        line(4, ip, 'GET', '/', 200),
        line(5, ip, 'POST', '/login', 200),
        line(6, '192.0.2.8', 'POST', '/login', 200),
      ],
      `rules:
  - id: stuffing
    expression: http.request.method eq "POST" and http.request.uri.path eq "/login"
    action: managed_challenge
    ratelimit:
      characteristics: [ip.src]
      period: 60
      requests_per_period: 2
      mitigation_timeout: 600
      counting_expression: http.request.uri.path eq "/login" and http.response.code eq 401`,
    );
    const s = r.rules[0];
    assert.ok(s);
    // The third 401 goes over 2: it and the later login are challenged; the GET and the other address pass.
    assert.equal(s.matched, 6);
    assert.equal(s.rate_limited, 2);
    assert.equal(s.challenged, 2);
    assert.equal(r.totals.passed, 5);
    assert.equal(s.rate_limit?.counting_expression?.includes('401'), true);
  });
});

describe('order, actions and lists', () => {
  it('lists first, then rules in order: block, challenge and allow stop, log goes on', async () => {
    const rows = [
      line(0, '198.51.100.1', 'GET', '/wp-login.php'),
      line(0, '198.51.100.2', 'GET', '/admin'),
      line(0, '198.51.100.3', 'GET', '/admin'),
      line(0, '203.0.113.5', 'GET', '/x.php'),
      line(0, '198.51.100.4', 'GET', '/ok'),
    ];
    const r = await whatIf(
      rows,
      `lists:
  office: { kind: allow, entries: [198.51.100.3] }
  bad: { kind: block, entries: [203.0.113.0/24] }
rules:
  - id: note
    expression: http.request.method eq "GET"
    action: log
  - id: php
    expression: http.request.uri.path.extension eq "php"
    action: block
  - id: admin
    expression: starts_with(http.request.uri.path, "/admin")
    action: challenge
  - id: never
    expression: http.request.method eq "GET"
    action: block
    enabled: false`,
    );
    const by = Object.fromEntries(r.rules.map((x) => [x.id, x]));
    assert.equal(by.note?.matched, 3);
    assert.equal(by.php?.blocked, 1);
    assert.equal(by.admin?.challenged, 1);
    assert.equal(by.never?.matched, 0);
    assert.deepEqual(
      r.lists.map((l) => [l.name, l.matched]),
      [
        ['office', 1],
        ['bad', 1],
      ],
    );
    assert.deepEqual(r.totals, { requests: 5, passed: 2, blocked: 2, challenged: 1, rate_limited: 0 });
    assert.match(renderHttpWhatIf(r), /php \[block\]: matched 1/);
  });

  it('ruleset problems name their line', () => {
    const bad = `rules:
  - id: a
    expression: http.request.uri.pth eq "/"
    action: block
  - id: b
    expression: http.request.uri.path eq "/"
    action: block
    ratelimit: { characteristics: [http.request.headers.names], period: 0, requests_per_period: 1 }
  - id: c
    expression: ip.src eq 1.2.3.4
    action: explode`;
    try {
      parseHttpRuleset(bad, 'r.yaml');
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof RulesetError);
      const msg = (e as Error).message;
      assert.match(msg, /r\.yaml:3:1: rule a: unknown field "http\.request\.uri\.pth"/);
      assert.match(msg, /r\.yaml:8:\d+: rule b: characteristic "http\.request\.headers\.names" is a Array<Bytes>/);
      assert.match(msg, /r\.yaml:8:\d+: rule b: period must be/);
      assert.match(msg, /r\.yaml:11:1: rule c: action must be/);
    }
  });
});

describe('on a generated log', () => {
  const LOG = join(dir, 'gen.log');
  let truth: L7Truth;
  let ips: string[];
  before(() => {
    truth = generateL7('http-mixed', LOG, { lines: 8000, seed: 9, noJson: true });
    ips = readFileSync(LOG, 'latin1')
      .split('\n')
      .slice(0, -1)
      .map((l) => l.slice(0, l.indexOf(' ')));
  });

  it('blocking the flood by its addresses: counts, top addresses and the truth score from the lines', async () => {
    const flood = truth.attacks.find((a) => a.vector === 'http_flood');
    assert.ok(flood);
    const set = new Set(flood.ips);
    const yaml = `rules:\n  - id: flood\n    expression: ip.src in {${flood.ips.join(' ')}}\n    action: block\n`;
    const r = await runHttpWhatIf(LOG, parseHttpRuleset(yaml), { truth: l7Paths(LOG).truth });
    const hits = ips.filter((ip) => set.has(ip));
    assert.equal(r.rules[0]?.blocked, hits.length);
    // Top addresses: exact counts from the lines.
    const count = new Map<string, number>();
    for (const ip of hits) count.set(ip, (count.get(ip) ?? 0) + 1);
    for (const t of r.rules[0]?.top.ips ?? []) assert.equal(t.requests, count.get(t.value), t.value);
    assert.equal(r.rules[0]?.top.ips[0]?.requests, Math.max(...count.values()));
    // Truth: stopped attack requests are the labelled lines from those addresses; none legitimate.
    const labels = l7TruthLabels(truth);
    let attackStopped = 0;
    let legitStopped = 0;
    ips.forEach((ip, i) => {
      if (!set.has(ip)) return;
      if (labels[i] === 0) legitStopped++;
      else attackStopped++;
    });
    assert.ok(r.truth);
    assert.equal(r.truth.attack.stopped, attackStopped);
    assert.equal(r.truth.legitimate.stopped, legitStopped);
    assert.equal(r.truth.legitimate.stopped, 0);
    assert.equal(r.truth.attack.requests + r.truth.legitimate.requests, 8000);
    assert.equal(r.truth.unlabelled, 0);
    assert.equal(
      r.timeline.points.reduce((s, p) => s + p.blocked, 0),
      hits.length,
    );
  });
});
