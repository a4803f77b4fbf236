/**
 * The HTML report in a real browser: `palisade report` writes it from an analysis of a real
 * attack capture; headless Chromium (Debian's, driven by playwright-core) opens it with no
 * network, and the test checks console errors, requests, chart geometry, and that the summary
 * figures on the page equal the analysis JSON. A screenshot is kept in out/test-artifacts/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import type { Analysis } from '../../src/model/analysis.js';
import type { Attack } from '../../src/model/attack.js';
import { buildReport, renderHtml } from '../../src/report/index.js';
import { CORPUS, demoAnalysis, dnsAmpAnalysis, HOSTILE, hostileAnalysis, schemaErrors } from './fixture.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ART = join(ROOT, 'out/test-artifacts');
const CLI = join(ROOT, 'bin/palisade.js');

let browser: Browser;
let analysis: Analysis;
let reportPath: string;

before(async () => {
  mkdirSync(ART, { recursive: true });
  analysis = await dnsAmpAnalysis();
  assert.equal(schemaErrors(analysis, 'analysis'), null);
  const json = join(ART, 'report-analysis.json');
  writeFileSync(json, JSON.stringify(analysis, null, 2));
  reportPath = join(ART, 'report.html');
  execFileSync(process.execPath, [CLI, 'report', json, '-o', reportPath, '--tz', 'Europe/Paris', '--customer', 'Example SA'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
});

after(async () => {
  await browser?.close();
});

test('the report opens with no console errors and no request but the file itself', async () => {
  const page = await browser.newPage({
    viewport: { width: 1100, height: 900 },
  });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(reportPath).href;
  await page.goto(url, { waitUntil: 'load' });
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, [url]);
  assert.equal(await page.evaluate(() => document.scripts.length), 0);

  // Every chart carries data: filled or stroked shapes with real extent, not just axes.
  const charts = await page.$$eval('figure[data-chart]', (figs) =>
    figs.map((f) => {
      const svg = f.querySelector('svg');
      const shapes = svg ? [...svg.querySelectorAll('path, rect, polygon')] : [];
      const boxes = shapes.map((s) => {
        const b = (s as SVGGraphicsElement).getBBox();
        const d = s.getAttribute('d') ?? '';
        return {
          w: b.width,
          h: b.height,
          fill: s.getAttribute('fill'),
          stroke: s.getAttribute('stroke'),
          segs: (d.match(/[LC]/g) ?? []).length,
        };
      });
      return {
        name: (f as HTMLElement).dataset.chart,
        hasSvg: svg !== null,
        boxes,
      };
    }),
  );
  assert.deepEqual(
    charts.map((c) => c.name),
    ['timeline', 'protocols'],
  );
  const timeline = charts[0]?.boxes ?? [];
  // The traffic line: one path through the ~150 bins, spanning most of the plot, with height.
  const lines = timeline.filter((b) => b.segs >= 50 && b.w > 500 && b.h > 50);
  assert.ok(lines.length >= 2, `timeline has ${lines.length} data paths (all traffic + attack signature)`);
  // The shaded attack window: a filled area wider than a sliver.
  assert.ok(
    timeline.some((b) => b.fill === 'rgb(213,94,0)' && b.w > 100 && b.h > 100),
    'attack window shaded',
  );
  const nonzero = Object.values(analysis.traffic.protocols).filter((n) => n > 0).length;
  const bars = (charts[1]?.boxes ?? []).filter((b) => b.fill && b.fill !== 'none' && b.w >= 1 && b.h >= 10 && b.h <= 40);
  assert.ok(bars.length >= nonzero, `protocol chart has ${bars.length} bars for ${nonzero} protocols`);

  await page.screenshot({ path: join(ART, 'report.png'), fullPage: true });
  await page.close();
});

test('summary figures on the page equal the analysis JSON', async () => {
  const page = await browser.newPage();
  await page.goto(pathToFileURL(reportPath).href);
  const facts = await page.$$eval('#summary [data-k]', (els) =>
    Object.fromEntries(els.map((e) => [(e as HTMLElement).dataset.k, { v: (e as HTMLElement).dataset.v, text: e.textContent ?? '' }])),
  );
  const atk = analysis.attacks;
  const a0 = atk[0] as Attack;
  const peakPps = Math.max(...atk.map((x) => x.peak_pps));
  const peakBps = Math.max(...atk.map((x) => x.peak_bps));
  const packets = atk.reduce((n, x) => n + x.packets, 0);
  const bytes = atk.reduce((n, x) => n + x.bytes, 0);
  assert.equal(Number(facts.peak_pps?.v), peakPps);
  assert.ok(facts.peak_pps?.text.includes(peakPps.toLocaleString('en-US')), facts.peak_pps?.text);
  assert.equal(Number(facts.peak_bps?.v), peakBps);
  assert.equal(Number(facts.attack_packets?.v), packets);
  assert.ok(facts.attack_packets?.text.includes(packets.toLocaleString('en-US')));
  assert.equal(Number(facts.attack_bytes?.v), bytes);
  const start = Date.parse(a0.start);
  const end = Date.parse(a0.end);
  assert.ok(Math.abs(Number(facts.duration_s?.v) - (end - start) / 1000) < 0.002);
  // UTC from the JSON's own times; Paris is UTC+2 in September (CEST).
  assert.ok(facts.when_utc?.text.includes(`${a0.start.slice(0, 10)} ${a0.start.slice(11, 19)}`), facts.when_utc?.text);
  const h = Number(a0.start.slice(11, 13));
  assert.ok(facts.when_local?.text.includes(`${String(h + 2).padStart(2, '0')}${a0.start.slice(13, 19)} CEST`), facts.when_local?.text);
  assert.equal(await page.locator('header [data-k="customer"]').textContent(), 'Example SA');
  assert.ok(facts.what?.text.includes('DNS amplification against 10.10.10.10'));
  // Per-attack figures equal the Attack record too.
  const first = await page.$$eval('#attack-1 [data-k]', (els) => Object.fromEntries(els.map((e) => [(e as HTMLElement).dataset.k, (e as HTMLElement).dataset.v])));
  assert.equal(Number(first.packets), atk[0]?.packets);
  assert.equal(Number(first.sources_unique), atk[0]?.sources.unique);
  assert.equal(Number(first.coverage), atk[0]?.signature?.coverage);
  assert.equal(first.effect_method, 'replay');
  await page.close();
});

test('the report reads with JavaScript disabled', async () => {
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(pathToFileURL(reportPath).href);
  const text = (await page.locator('#summary').textContent()) ?? '';
  assert.match(text, /DNS amplification against 10\.10\.10\.10/);
  assert.equal(await page.locator('figure[data-chart] svg').count(), 2);
  await ctx.close();
});

test('hostile names from the capture show as text and run nothing', async () => {
  const a = await hostileAnalysis();
  assert.equal(schemaErrors(a, 'analysis'), null);
  const file = join(ART, 'report-hostile.html');
  writeFileSync(file, renderHtml(await buildReport(a, { customer: HOSTILE.customer })));
  const page = await browser.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  const url = pathToFileURL(file).href;
  await page.goto(url);
  assert.deepEqual(requests, [url]);
  assert.deepEqual(errors, []);
  const found = await page.evaluate(() => ({
    pwned: (window as unknown as { __pwned?: number }).__pwned,
    scripts: document.scripts.length,
    bad: document.querySelectorAll('main iframe, main img, main b, main svg[onload]').length,
    codes: [...document.querySelectorAll('#appendix td code')].map((c) => c.textContent),
    customer: document.querySelector('[data-k="customer"]')?.textContent,
    file: document.querySelector('header code')?.textContent,
  }));
  assert.equal(found.pwned, undefined);
  assert.equal(found.scripts, 0);
  assert.equal(found.bad, 0);
  assert.ok(found.codes.includes(HOSTILE.sni), 'the <script> SNI is shown as text');
  assert.ok(found.codes.includes(HOSTILE.dns));
  assert.ok(found.codes.includes(HOSTILE.ja4));
  assert.equal(found.customer, HOSTILE.customer);
  assert.equal(found.file, HOSTILE.file);
  await page.close();
});

test('two overlapping attacks (generate demo): a line per vector and a shaded window each', async () => {
  const dir = join(ART, 'demo-e2e');
  mkdirSync(dir, { recursive: true });
  const demo = await demoAnalysis(dir);
  const json = join(dir, 'analysis.json');
  writeFileSync(json, JSON.stringify(demo.analysis));
  const out = join(ART, 'report-demo.html');
  execFileSync(process.execPath, [CLI, 'report', json, '-o', out], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  await page.goto(pathToFileURL(out).href);
  assert.deepEqual(errors, []);
  const shapes = await page.$$eval('figure[data-chart="timeline"] svg path, figure[data-chart="timeline"] svg polygon', (els) =>
    els.map((s) => {
      const b = (s as SVGGraphicsElement).getBBox();
      return {
        stroke: s.getAttribute('stroke'),
        fill: s.getAttribute('fill'),
        w: b.width,
        h: b.height,
        segs: ((s.getAttribute('d') ?? '').match(/L/g) ?? []).length,
      };
    }),
  );
  // Series colours from charts.ts: grey for all traffic, then one colour per attack.
  for (const colour of ['#9aa0a6', '#D55E00', '#0072B2'])
    assert.ok(
      shapes.some((x) => x.stroke === colour && x.segs >= 50 && x.w > 500 && x.h > 50),
      `a data line in ${colour}`,
    );
  assert.equal(shapes.filter((x) => x.fill === 'rgb(213,94,0)' && x.w > 100).length, 2, 'two shaded attack windows');
  const articles = await page.locator('article.attack').count();
  assert.equal(articles, 2);
  await page.screenshot({ path: join(ART, 'report-demo.png'), fullPage: false });
  await page.close();
});

/** A copy of a corpus capture with every occurrence of `from` replaced by `to` (same length). */
function patched(src: string, from: string, to: string, out: string): string {
  assert.equal(from.length, to.length);
  const b = readFileSync(src);
  let n = 0;
  for (let i = b.indexOf(from); i >= 0; i = b.indexOf(from, i + 1)) {
    b.write(to, i, 'latin1');
    n++;
  }
  assert.ok(n > 0, `${from} not in ${src}`);
  writeFileSync(out, b);
  return out;
}

test('a capture with a <script> SNI and an <img> DNS name: analyze --report shows them as text', async () => {
  const dir = join(ART, 'hostile-capture');
  mkdirSync(dir, { recursive: true });
  // Real TLS and DNS packets whose names were rewritten in place (same lengths, so every length
  // field stays right): what an attacker can put on the wire.
  const tls = patched(join(CORPUS, 'edge/tls_tls13-ech.pcap'), 'cloudflare-ech.com', '<script>x</script>', join(dir, 'tls.pcap'));
  const dns = patched(join(CORPUS, 'edge/dns53.pcap'), 'distributed', '<img src=x>', join(dir, 'dns.pcap'));
  const capture = join(dir, 'hostile.pcap');
  execFileSync('mergecap', ['-F', 'pcap', '-w', capture, tls, dns]);
  const out = join(dir, 'report.html');
  const json = execFileSync(process.execPath, [CLI, 'analyze', capture, '--json', '--report', out], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const a = JSON.parse(json) as Analysis;
  // The decoders pass the names through as they are on the wire.
  assert.deepEqual(
    a.traffic.top_tls_sni.map((x) => x.name),
    ['<script>x</script>'],
  );
  assert.ok(a.traffic.top_dns_names.some((x) => x.name === 'us.v27.<img src=x>.net'));
  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(out).href;
  await page.goto(url);
  assert.deepEqual(requests, [url], 'no image request from the DNS name');
  const seen = await page.evaluate(() => ({
    scripts: document.scripts.length,
    imgs: document.images.length,
    codes: [...document.querySelectorAll('#appendix td code')].map((c) => c.textContent),
  }));
  assert.equal(seen.scripts, 0);
  assert.equal(seen.imgs, 0);
  assert.ok(seen.codes.includes('<script>x</script>'));
  assert.ok(seen.codes.includes('us.v27.<img src=x>.net'));
  await page.close();
  // The Markdown of the same analysis, rendered by GitHub's cmark-gfm with raw HTML allowed.
  const jsonFile = join(dir, 'analysis.json');
  writeFileSync(jsonFile, json);
  const md = join(dir, 'report.md');
  execFileSync(process.execPath, [CLI, 'report', jsonFile, '-o', md], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  const html = execFileSync('cmark-gfm', ['--unsafe', '-e', 'table', md], { encoding: 'utf8' });
  assert.ok(!/<(script|img)[\s>]/i.test(html), 'no element from the names in the Markdown');
  assert.ok(html.includes('&lt;script&gt;x&lt;/script&gt;'));
  assert.ok(html.includes('us.v27.&lt;img src=x&gt;.net'));
});
