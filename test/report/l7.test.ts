/**
 * The attack report on an access log: a generated log with a botnet flood and busy credential
 * stuffing is analysed, then the report replays the log through each attack's custom rule and
 * scores every line against the generator's labels. The figures it prints must be the truth's
 * (recounted here from the labels and the rule, independently of the report's own pass), and
 * the text must speak of requests, user agents and paths, not of packets or bits.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { analyzeAccessLog } from '../../src/analyze/analyze-log.js';
import { generateL7 } from '../../src/generate/l7/generator.js';
import type { Analysis } from '../../src/model/analysis.js';
import type { L7Mitigation } from '../../src/model/attack.js';
import { buildReport, renderHtml, renderMarkdown } from '../../src/report/index.js';
import { compile } from '../../src/rules/compile.js';
import { httpScheme } from '../../src/scheme/http.js';
import { HttpLogRequest } from '../../src/scheme/http-log.js';
import { readAccessLog } from '../../src/sources/accesslog/index.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-report-l7-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('report on an access log', { timeout: 180_000 }, () => {
  const log = join(dir, 'mix.log');
  const truthFile = join(dir, 'mix.truth.json');
  let analysis: Analysis;
  let labels: Uint8Array;
  before(async () => {
    generateL7('http-flood', log, { lines: 200_000, seed: 2, noJson: true });
    labels = new Uint8Array(Buffer.from(JSON.parse(readFileSync(truthFile, 'utf8')).labels.data, 'base64'));
    analysis = await analyzeAccessLog(log);
  });

  test('the what-if is scored against the labels and equals a recount with the rule', async () => {
    const flood = analysis.attacks.find((x) => x.vector === 'http_flood');
    assert.ok(flood, `a flood was found: ${analysis.attacks.map((x) => x.vector).join(', ')}`);
    const data = await buildReport(analysis, { truth: truthFile, now: new Date('2026-12-06T00:00:00Z') });
    assert.equal(data.unit.many, 'requests');
    const k = analysis.attacks.indexOf(flood);
    const ef = data.effects[k];
    assert.equal(ef?.method, 'truth', data.replayNote ?? '');
    // Recount: the custom rule over every line, against the labels of the flood.
    const m = flood.mitigation as L7Mitigation;
    const lists = Object.fromEntries(
      Object.entries((m.ruleset as { lists: Record<string, { entries: string[] }> }).lists).map(([n, l]) => [n, { kind: 'ip' as const, items: l.entries }]),
    );
    const pred = compile(m.custom_rule.expression, httpScheme, { lists });
    const req = new HttpLogRequest();
    const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as { attacks: Array<{ label: number; vector: string }> };
    const floodLabel = truth.attacks.find((a) => a.vector === 'http_flood')?.label;
    let n = 0;
    let attack = 0;
    let attackHit = 0;
    let legit = 0;
    let legitHit = 0;
    await readAccessLog(log, (v) => {
      const label = labels[n++] as number;
      const hit = pred(req.point(v));
      if (label === floodLabel) {
        attack++;
        if (hit) attackHit++;
      } else if (label === 0) {
        legit++;
        if (hit) legitHit++;
      }
    });
    assert.equal(ef?.attack_packets, attack);
    assert.equal(ef?.attack_dropped_packets, attackHit);
    assert.equal(ef?.legit_packets, legit);
    assert.equal(ef?.legit_dropped_packets, legitHit);
    assert.ok(attackHit / attack >= 0.95, `the rule blocks ${attackHit} of ${attack} flood requests`);
    assert.ok(legitHit / legit <= 0.001, `the rule blocks ${legitHit} of ${legit} legitimate requests`);
    // The tops are of the attack's own requests: they add up to no more than it was attributed.
    const tops = data.l7Tops[k];
    assert.ok(tops && tops.user_agents.length > 0 && tops.paths.length > 0);
    assert.ok(tops.user_agents.reduce((s, r) => s + r.requests, 0) <= (flood.requests ?? 0));
  });

  test('HTML and Markdown speak of requests, show the rules and what the requests looked like', async () => {
    const data = await buildReport(analysis, { truth: truthFile, now: new Date('2026-12-06T00:00:00Z') });
    const html = renderHtml(data);
    assert.match(html, /requests\/s/);
    assert.match(html, /data-l7="custom_rule"/);
    assert.match(html, /data-l7="user_agents"/);
    assert.match(html, /data-l7="rate_limit"/);
    assert.doesNotMatch(html, /id="protocols"/, 'no protocol chart for a log');
    assert.doesNotMatch(html, /bit\/s|[0-9] packets/, 'no packet or bit figures for a log');
    const md = renderMarkdown(data);
    assert.match(md, /#### What its requests looked like/);
    assert.match(md, /Rate-limiting rule \(Cloudflare's http_ratelimit phase\)/);
    assert.doesNotMatch(md, /[0-9] packets|bit\/s/);
  });
});
