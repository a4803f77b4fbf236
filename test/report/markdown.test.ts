/**
 * The Markdown report: its figures equal the analysis, and hostile names from a capture stay text
 * when GitHub's own Markdown implementation (Debian's cmark-gfm, raw HTML allowed so that any
 * escaping failure would show) renders it.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { before, test } from 'node:test';
import type { Analysis } from '../../src/model/analysis.js';
import type { Attack } from '../../src/model/attack.js';
import { escapeMd, mdCodeBlock } from '../../src/report/format.js';
import { buildReport, renderMarkdown } from '../../src/report/index.js';
import { sigOf } from '../helpers/signature.js';
import { dnsAmpAnalysis, HOSTILE, hostileAnalysis, schemaErrors } from './fixture.js';

function gfm(md: string): string {
  return execFileSync('cmark-gfm', ['--unsafe', '-e', 'table', '-e', 'autolink', '-e', 'strikethrough'], { input: md, encoding: 'utf8' });
}

const n = (x: number) => x.toLocaleString('en-US');

let dns: Analysis;
let md: string;

before(async () => {
  dns = await dnsAmpAnalysis();
  assert.equal(schemaErrors(dns, 'analysis'), null);
  md = renderMarkdown(await buildReport(dns, { tz: 'Europe/Paris', customer: 'Example SA', now: new Date('2026-01-02T03:04:05Z') }));
});

test('summary and attack figures equal the analysis', () => {
  const a = dns.attacks[0] as Attack;
  assert.match(md, new RegExp(`^- Peak attack rate: ${n(a.peak_pps)} packets/s$`, 'm'));
  assert.match(md, new RegExp(`^- Peak attack bandwidth: .*\\(${n(a.peak_bps)} bit/s\\)$`, 'm'));
  assert.match(md, new RegExp(`^- Attack traffic: ${n(a.packets)} packets`, 'm'));
  assert.match(md, /^- When \(UTC\): 2021-09-21 15:45:24\.430 UTC to 2021-09-21 15:45:52\.238 UTC$/m);
  assert.match(md, /^- When \(Europe\/Paris\): 2021-09-21 17:45:24 CEST to 2021-09-21 17:45:52 CEST$/m);
  assert.match(md, new RegExp(`^\\| Packets \\| ${n(a.packets)} \\(`, 'm'));
  for (const s of a.sources.top) assert.match(md, new RegExp(`^\\| \`${s.ip.replace(/\./g, '\\.')}\` \\| ${n(s.packets)} \\|`, 'm'));
  assert.ok(md.includes(mdCodeBlock(sigOf(a).expression)));
  assert.ok(md.includes(a.mitigation.nftables.trim()));
  assert.match(md, /^- Attack traffic dropped: \*\*\d+\.\d%\*\* \(\d[\d,]* of 1,269 packets\)$/m);
  const p = dns.traffic.protocols;
  assert.match(md, new RegExp(`^\\| TCP \\| ${n(p.tcp)} \\|`, 'm'));
  assert.match(md, new RegExp(`^\\| IP fragments \\| ${n(p.fragments)} \\|`, 'm'));
  for (const s of dns.traffic.top_sources) assert.match(md, new RegExp(`^\\| \`${s.ip.replace(/\./g, '\\.')}\` \\| ${n(s.packets)} \\| ${n(s.bytes)} \\|`, 'm'));
});

test('GFM renders every table with a consistent number of cells', () => {
  const html = gfm(md);
  const tables = html.match(/<table>[\s\S]*?<\/table>/g) ?? [];
  assert.ok(tables.length >= 10, `${tables.length} tables`);
  for (const t of tables) {
    const rows = t.match(/<tr>[\s\S]*?<\/tr>/g) ?? [];
    const widths = new Set(rows.map((r) => (r.match(/<t[hd][ >]/g) ?? []).length));
    assert.equal(widths.size, 1, t.slice(0, 200));
  }
  assert.ok(!/<(script|img|svg|iframe)/i.test(html));
});

test('hostile names stay text in GFM', async () => {
  const a = await hostileAnalysis();
  assert.equal(schemaErrors(a, 'analysis'), null);
  const out = renderMarkdown(await buildReport(a, { customer: HOSTILE.customer }));
  const html = gfm(out);
  assert.ok(!/<(script|img|svg|iframe|b)[\s>]/i.test(html), 'no element from a hostile string');
  assert.ok(!/href="javascript:/i.test(html), 'no javascript: link');
  const text = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  assert.ok(html.includes(text(HOSTILE.sni)), 'SNI shown literally');
  assert.ok(html.includes(text(HOSTILE.dns)), 'DNS name shown literally, pipe and all');
  assert.ok(html.includes(text(HOSTILE.ja4)), 'JA4 shown literally');
  assert.ok(html.includes(text(HOSTILE.file)), 'file name shown literally');
  assert.ok(html.includes(text(HOSTILE.customer)), 'customer shown literally');
  // The DNS row still has exactly two cells: the | in the name did not split it.
  const row = (html.match(/<tr>\s*<td>[^<]*\*\*bold\*\*[\s\S]*?<\/tr>/) ?? [''])[0];
  assert.equal((row.match(/<td/g) ?? []).length, 2, row);
});

test('escapeMd and mdCodeBlock against cmark-gfm', () => {
  for (const s of ['a*b*c', '_x_', '[l](u)', '<b>x</b>', 'a|b', '`c`', '&amp;', '~~s~~', 'back\\slash', 'line\nbreak']) {
    const html = gfm(`x ${escapeMd(s)} y\n`);
    const expect = s.replace(/\n/g, ' ').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    assert.equal(html, `<p>x ${expect} y</p>\n`, s);
  }
  const code = 'a ``` b\n````\n<script>';
  assert.equal(gfm(mdCodeBlock(code)), `<pre><code>${code.replace(/</g, '&lt;').replace(/>/g, '&gt;')}\n</code></pre>\n`);
});
