/**
 * `palisade report` and `palisade analyze --report` from the command line: formats, options,
 * exit codes for bad input, and the what-if figures (replayed over the capture, or estimated from
 * the signature) checked against an independent count over the same real capture.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, test } from 'node:test';
import type { Analysis } from '../../src/model/analysis.js';
import type { Attack } from '../../src/model/attack.js';
import { isoSeconds } from '../../src/report/format.js';
import { sigOf } from '../helpers/signature.js';
import { tsharkFields } from '../helpers/tshark.js';
import { DNS_AMP, SYN_FLOOD, schemaErrors, synFloodAnalysis } from './fixture.js';

const ROOT = resolve(import.meta.dirname, '../..');
const ART = join(ROOT, 'out/test-artifacts/cli');
const CLI = join(ROOT, 'bin/palisade.js');

function run(args: string[], input?: string) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', input, maxBuffer: 1 << 26 });
}

/** data-k → data-v of every figure in a report page. */
function figures(html: string, scope = ''): Record<string, string> {
  const part = scope ? html.slice(html.indexOf(scope)) : html;
  const out: Record<string, string> = {};
  for (const m of part.matchAll(/data-k="([^"]+)" data-v="([^"]*)"/g)) if (!((m[1] as string) in out)) out[m[1] as string] = m[2] as string;
  return out;
}

let syn: Analysis;
let synJson: string;

before(async () => {
  mkdirSync(ART, { recursive: true });
  syn = await synFloodAnalysis();
  assert.equal(schemaErrors(syn, 'analysis'), null);
  synJson = join(ART, 'syn-analysis.json');
  writeFileSync(synJson, JSON.stringify(syn));
});

test('replayed what-if equals tshark counting the signature over the capture', () => {
  const out = join(ART, 'syn.html');
  const r = run(['report', synJson, '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  const f = figures(html, 'id="attack-1"');
  assert.equal(f.effect_method, 'replay');
  // Independent count by tshark: the signature as a display filter, split by the attack window.
  const x = syn.attacks[0] as Attack;
  assert.equal(sigOf(x).expression, 'ip.src == 10.0.1.2 and ip.dst == 10.0.1.12 and tcp.dstport == 12345 and tcp.flags == 0x02');
  const filter = 'ip.src == 10.0.1.2 && ip.dst == 10.0.1.12 && tcp.dstport == 12345 && tcp.flags == 0x002';
  const times = tsharkFields(SYN_FLOOD, ['frame.time_epoch'], ['-Y', filter]).map((r) => Number(r[0]));
  const total = tsharkFields(SYN_FLOOD, ['frame.number']).length;
  const from = isoSeconds(x.start);
  const to = isoSeconds(x.end);
  const inWin = times.filter((t) => t >= from - 1e-6 && t <= to + 1e-6).length;
  const outWin = times.length - inWin;
  const attackDropped = Math.min(inWin, x.packets);
  const legitDropped = outWin + inWin - attackDropped;
  assert.equal(Number(f.attack_dropped), attackDropped / x.packets);
  assert.equal(Number(f.legit_dropped), legitDropped / (total - x.packets));
  // The legitimate connection after the flood (same source, same port) is what the rule hits.
  assert.ok(legitDropped > 0, 'the real SYN after the flood is collateral');
  assert.match(html, new RegExp(`${attackDropped.toLocaleString('en-US')} of ${x.packets.toLocaleString('en-US')} packets`));
});

test('--no-replay and a missing capture fall back to the signature, and say so', () => {
  const out = join(ART, 'syn-noreplay.html');
  const r = run(['report', synJson, '-o', out, '--no-replay']);
  assert.equal(r.status, 0, r.stderr);
  const f = figures(readFileSync(out, 'utf8'), 'id="attack-1"');
  const x = syn.attacks[0] as Attack;
  assert.equal(f.effect_method, 'signature');
  assert.equal(Number(f.attack_dropped), sigOf(x).coverage);
  assert.equal(Number(f.legit_dropped), sigOf(x).collateral);

  const moved = JSON.parse(JSON.stringify(syn)) as Analysis;
  moved.capture.file = '/nonexistent/capture.pcap';
  const json = join(ART, 'moved.json');
  writeFileSync(json, JSON.stringify(moved));
  const md = join(ART, 'moved.md');
  assert.equal(run(['report', json, '-o', md]).status, 0);
  assert.match(readFileSync(md, 'utf8'), /Estimated from the signature's coverage and collateral, because the capture \/nonexistent\/capture\.pcap is not available\./);
  // --capture points at it again.
  const html = join(ART, 'moved.html');
  assert.equal(run(['report', json, '-o', html, '--capture', SYN_FLOOD]).status, 0);
  assert.equal(figures(readFileSync(html, 'utf8'), 'id="attack-1"').effect_method, 'replay');
});

test('a relative capture path is also looked up beside the analysis file', () => {
  const dir = join(ART, 'rel');
  mkdirSync(dir, { recursive: true });
  copyFileSync(SYN_FLOOD, join(dir, 'syn.pcap'));
  const rel = JSON.parse(JSON.stringify(syn)) as Analysis;
  rel.capture.file = 'syn.pcap';
  const json = join(dir, 'analysis.json');
  writeFileSync(json, JSON.stringify(rel));
  const out = join(dir, 'report.html');
  const r = run(['report', json, '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(figures(readFileSync(out, 'utf8'), 'id="attack-1"').effect_method, 'replay');
});

test('analysis from stdin, Markdown by extension, --format overrides', () => {
  const out = join(ART, 'stdin.txt');
  const r = run(['report', '-', '-o', out, '--format', 'md', '--customer', 'ACME'], JSON.stringify(syn));
  assert.equal(r.status, 0, r.stderr);
  const md = readFileSync(out, 'utf8');
  assert.match(md, /^# Attack report for ACME, 2020-01-04$/m);
  assert.match(md, /^### 1\. TCP SYN flood against 10\.0\.1\.12 TCP port 12345$/m);
});

test('-o - writes the report to stdout, with --format', () => {
  const r = run(['report', synJson, '-o', '-', '--format', 'md']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^# Attack report, 2020-01-04\n/);
  assert.equal(r.stderr, '');
  const bad = run(['report', synJson, '-o', '-']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /writing the report to stdout \(-o -\) needs --format html, md or pdf/);
});

test('bad input and bad options: exit 3 and 2 with one clear line', () => {
  const notJson = join(ART, 'not.json');
  writeFileSync(notJson, 'pcap?');
  let r = run(['report', notJson, '-o', join(ART, 'x.html')]);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /not JSON .*expected the output of "palisade analyze --json"/);
  const other = join(ART, 'other.json');
  writeFileSync(other, '{"rules": []}');
  r = run(['report', other, '-o', join(ART, 'x.html')]);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /not an analysis/);
  r = run(['report', join(ART, 'missing.json'), '-o', join(ART, 'x.html')]);
  assert.equal(r.status, 3);
  assert.match(r.stderr, /missing\.json: no such file/);
  r = run(['report', synJson, '-o', join(ART, 'x.docx')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot tell the report format/);
  r = run(['report', synJson, '-o', join(ART, 'x.html'), '--tz', 'Mars/Olympus']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown time zone "Mars\/Olympus"/);
  r = run(['report', synJson]);
  assert.equal(r.status, 2);
});

test('analyze --report writes the report for the capture it analysed', () => {
  const out = join(ART, 'analyze.html');
  const r = run(['analyze', DNS_AMP, '--json', '--report', out, '--tz', 'Asia/Tokyo']);
  assert.equal(r.status, 0, r.stderr);
  const a = JSON.parse(r.stdout) as Analysis;
  const html = readFileSync(out, 'utf8');
  const f = figures(html);
  assert.equal(Number(f.capture_packets), a.capture.packets);
  assert.equal(Number(f.capture_bytes), a.capture.bytes);
  assert.equal(Number(f.peak_pps), a.attacks.length > 0 ? Math.max(...a.attacks.map((x) => x.peak_pps)) : a.traffic.peak.pps_1s);
  assert.ok(html.includes('When (Asia/Tokyo)'));
  // 15:45:24 UTC is 00:45:24 the next day in Tokyo (UTC+9, no summer time).
  assert.ok(html.includes('2021-09-22 00:45:24 GMT+9'));
  // Bad report names are refused before the capture is read.
  const bad = run(['analyze', DNS_AMP, '--report', join(ART, 'x.xls')]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, '');
});
