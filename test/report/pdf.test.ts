/**
 * PDF through Debian's chromium: the file is a PDF that poppler (pdfinfo, pdftotext) reads, with
 * pages and the report's figures in its text; without chromium the CLI says so and exits 3.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import type { Attack } from '../../src/model/attack.js';
import { buildReport, renderHtml } from '../../src/report/index.js';
import { htmlToPdf } from '../../src/report/pdf.js';
import { dnsAmpAnalysis } from './fixture.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ART = join(ROOT, 'out/test-artifacts');
const CLI = join(ROOT, 'bin/palisade.js');

test('the report prints to a PDF with pages and the summary figures', async () => {
  mkdirSync(ART, { recursive: true });
  const a = await dnsAmpAnalysis();
  const out = join(ART, 'report.pdf');
  await htmlToPdf(renderHtml(await buildReport(a, { tz: 'Europe/Paris' })), out);
  assert.equal(readFileSync(out).subarray(0, 5).toString('latin1'), '%PDF-');
  const info = execFileSync('pdfinfo', [out], { encoding: 'utf8' });
  const pages = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]);
  assert.ok(pages >= 1, info);
  const text = execFileSync('pdftotext', ['-layout', out, '-'], { encoding: 'utf8' });
  const x = a.attacks[0] as Attack;
  assert.match(text, new RegExp(`${x.peak_pps.toLocaleString('en-US')} packets/s`));
  assert.match(text, /DNS amplification against 10\.10\.10\.10/);
});

test('without chromium, PDF output fails with exit 3 and says how to install it', () => {
  mkdirSync(ART, { recursive: true });
  const json = join(ART, 'pdf-empty-analysis.json');
  writeFileSync(json, execFileSync(process.execPath, [CLI, 'analyze', '--json', join(ROOT, '../shared/corpus/real/edge/dns53.pcap')]));
  const r = spawnSync(process.execPath, [CLI, 'report', json, '-o', join(ART, 'never.pdf')], {
    encoding: 'utf8',
    env: { ...process.env, PALISADE_CHROMIUM: '/nonexistent/chromium' },
  });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /PDF output needs Chromium, which is not installed at \/nonexistent\/chromium/);
  assert.match(r.stderr, /apt-get install chromium/);
});
