/**
 * `palisade incidents report N` on SQLite and PostgreSQL: an incident the monitor's alert book and
 * recorder made from an L3/4 and an L7 attack, with a person's note, a status change, an applied
 * mitigation and the sensor's per-second summaries, rendered as HTML and Markdown (through
 * cmark-gfm) and, once, as PDF (through chromium and poppler). The figures must equal the stored
 * ones, the timeline must be in order, and what summaries cannot give must be said, not drawn.
 * An unknown incident is exit 3.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, type TestContext, it as test } from 'node:test';
import { openStore } from '../../src/incidents/store/open.js';
import type { Store } from '../../src/incidents/store/store.js';
import type { Incident } from '../../src/model/incident.js';
import { type Seeded, seedIncident } from '../incidents/incident-seed.js';
import { BACKENDS, type TestDb } from '../incidents/store/backends.js';
import { cli } from './store-cli-run.js';

const n = (x: number) => x.toLocaleString('en-US');

function gfm(md: string): string {
  return execFileSync('cmark-gfm', ['--unsafe', '-e', 'table', '-e', 'autolink', '-e', 'strikethrough'], { input: md, encoding: 'utf8' });
}

/** The values of `data-k="key"` spans (data-v when present, else the text), in document order. */
function spans(html: string, key: string): string[] {
  const out: string[] = [];
  for (const m of html.matchAll(new RegExp(`<span data-k="${key}"(?: data-v="([^"]*)")?>([^<]*)</span>`, 'g'))) out.push((m[1] ?? m[2]) as string);
  return out;
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

for (const backend of BACKENDS) {
  describe(`palisade incidents report on ${backend.name}`, { timeout: 180_000 }, () => {
    let db: TestDb;
    let store: Store;
    let seeded: Seeded;
    let inc: Incident;
    let dir: string;
    let setupError: unknown = null;
    before(async () => {
      try {
        dir = mkdtempSync(join(tmpdir(), 'palisade-increport-'));
        db = await backend.create();
        store = await openStore(db.spec);
        seeded = await seedIncident(store);
        inc = (await store.getIncident(seeded.number)) as Incident;
      } catch (err) {
        setupError = err;
      }
    });
    after(async () => {
      await store?.close();
      await db?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
    const it = (name: string, fn: (t: TestContext) => Promise<void>) =>
      test(name, async (t) => {
        if (setupError !== null) throw setupError;
        await fn(t);
      });
    const run = (...args: string[]) => cli([...args, '--db', db.spec]);
    const packets = () => seeded.summaries.reduce((s, r) => s + r.packets, 0);
    const bytes = () => seeded.summaries.reduce((s, r) => s + r.bytes, 0);
    const peak = () => Math.max(...seeded.summaries.map((r) => r.packets));

    it('HTML: the ticket, both attacks, the timeline in order, the mitigation, and figures equal to the stored ones', async () => {
      const out = join(dir, 'incident.html');
      const r = await run('incidents', 'report', String(seeded.number), '-o', out, '--tz', 'Europe/Paris');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, `palisade: report of incident #${seeded.number} written to ${out}\n`);
      const html = readFileSync(out, 'utf8');
      assert.match(html, new RegExp(`<h1>Incident #${seeded.number}: ${inc.title.replace(/\./g, '\\.')}</h1>`));
      assert.deepEqual(spans(html, 'incident_number'), [`#${seeded.number}`]);
      assert.deepEqual(spans(html, 'incident_status'), ['resolved']);
      assert.match(html, /<dt>Assignee<\/dt><dd>alice<\/dd><dt>Tags<\/dt><dd>ddos, acme<\/dd>/);
      // each attack: its vector and victim, L3/4 counted in packets and L7 in requests
      assert.match(html, /<h3>1\. TCP SYN flood against 203\.0\.113\.10 TCP port 443 /);
      assert.match(html, /<h3>2\. HTTP flood against shop\.example \(HTTP on 203\.0\.113\.10\) /);
      assert.deepEqual(spans(html, 'packets'), ['500000']);
      assert.deepEqual(spans(html, 'requests'), ['24000']);
      // the timeline as stored, in order, people's entries not marked automatic
      assert.deepEqual(
        spans(html, 'timeline_text').map(unescapeHtml),
        inc.timeline.map((e) => e.text),
      );
      assert.ok(inc.timeline.some((e) => e.actor === 'alice') && inc.timeline.some((e) => e.actor === 'edge-1'));
      assert.match(html, /<td>alice<\/td><td><span data-k="timeline_text">customer confirmed: not a load test<\/span>/);
      assert.match(html, /<td>edge-1 <span class="note">\(automatic\)<\/span><\/td><td><span data-k="timeline_text">medium tcp_syn_flood/);
      assert.deepEqual(spans(html, 'mitigation_state'), ['applied']);
      assert.deepEqual(spans(html, 'mitigation_hits'), ['424242']);
      // the stored traffic: the sensor's seconds of the span only (not the other sensor's, not an hour before)
      assert.deepEqual(spans(html, 'stored_seconds'), [String(seeded.summaries.length)]);
      assert.deepEqual(spans(html, 'stored_packets'), [String(packets())]);
      assert.deepEqual(spans(html, 'stored_bytes'), [String(bytes())]);
      assert.deepEqual(spans(html, 'stored_peak_pps'), [String(peak())]);
      assert.deepEqual(spans(html, 'traffic_pps'), [String(peak())]);
      assert.match(html, /<td>TCP SYN flood \(tcp_syn_flood\)<\/td><td class="n">6<\/td><td class="n">1<\/td>/);
      assert.match(html, /<td>203\.0\.113\.10<\/td><td class="n">7<\/td><td class="n">2<\/td>/);
      // what summaries cannot give is said, and not drawn
      assert.match(html, /data-k="summary_limits">The store keeps, per sensor and second, the packets, bytes and requests seen/);
      assert.ok(!html.includes('data-chart="protocols"'), 'no protocol chart');
      assert.ok(!html.includes('id="appendix"'), 'no capture appendix');
      assert.match(html, /data-k="effect_method" data-v="signature">Estimated from the signature's coverage/);
      assert.match(html, /data-chart="timeline"><svg role="img"/);
      assert.match(html, /11:00:01 CET \(Europe\/Paris\)/);
      assert.ok(!/<script/i.test(html));
    });

    it('Markdown: the same facts, valid GFM tables', async () => {
      const out = join(dir, 'incident.md');
      const r = await run('incidents', 'report', `#${seeded.number}`, '-o', out);
      assert.equal(r.code, 0, r.stderr);
      const md = readFileSync(out, 'utf8');
      assert.match(md, new RegExp(`^# Incident #${seeded.number}: `, 'm'));
      assert.match(md, new RegExp(`^\\| Number \\| #${seeded.number} \\|$`, 'm'));
      assert.match(md, /^\| Status \| resolved \|$/m);
      assert.match(md, /^### 1\. TCP SYN flood against 203\.0\.113\.10 TCP port 443$/m);
      assert.match(md, /^### 2\. HTTP flood against shop\.example \(HTTP on 203\.0\.113\.10\)$/m);
      assert.match(md, /^\| `nft-syn-1` \| nftables \| applied \| 424,242 \| 2026-12-06 10:00:05 UTC \|$/m);
      assert.match(md, new RegExp(`^\\| Packets \\| ${n(packets())} \\|$`, 'm'));
      assert.match(md, new RegExp(`^\\| Peak \\(1 s\\) \\| ${n(peak())} packets/s, `, 'm'));
      assert.match(md, new RegExp(`^- Peak of all traffic: ${n(peak())} packets/s`, 'm'));
      const html = gfm(md);
      const tables = html.match(/<table>[\s\S]*?<\/table>/g) ?? [];
      assert.ok(tables.length >= 8, `${tables.length} tables`);
      for (const t of tables) {
        const rows = t.match(/<tr>[\s\S]*?<\/tr>/g) ?? [];
        assert.equal(new Set(rows.map((row) => (row.match(/<t[hd][ >]/g) ?? []).length)).size, 1, t.slice(0, 200));
      }
      // the timeline table's last cells, in order, as GFM renders them
      const timeline = (html.match(/<th>Time<\/th>\s*<th>Kind<\/th>[\s\S]*?<\/table>/) ?? [''])[0];
      const texts = [...timeline.matchAll(/<tr>[\s\S]*?<td>([^<]*)<\/td>\s*<\/tr>/g)].map((m) => unescapeHtml(m[1] as string));
      assert.deepEqual(
        texts,
        inc.timeline.map((e) => e.text),
      );
      assert.match(html, /alice \(automatic\)|<td>alice<\/td>/);
      assert.ok(!html.includes('alice (automatic)'));
      assert.match(md, /The store keeps, per sensor and second, the packets, bytes and requests seen/);
      assert.ok(!/^## Protocols$/m.test(md));
    });

    it('--json says what was written; -o - writes the report to stdout', async () => {
      const out = join(dir, 'j.md');
      const r = await run('incidents', 'report', String(seeded.number), '-o', out, '--json');
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      assert.equal(j.incident, seeded.number);
      assert.equal(j.format, 'md');
      assert.equal(j.attacks, 2);
      assert.deepEqual(j.sensors, ['edge-1']);
      assert.equal(j.seconds, seeded.summaries.length);
      assert.equal(j.timeline, inc.timeline.length);
      const s = await run('incidents', 'report', String(seeded.number), '-o', '-', '--format', 'md');
      assert.equal(s.code, 0, s.stderr);
      assert.equal(s.stdout, readFileSync(out, 'utf8').replace(/Generated [^.]*\./, s.stdout.match(/Generated [^.]*\./)?.[0] ?? ''));
    });

    it('an unknown incident is exit 3 with a message; a bad format is exit 2', async () => {
      const r = await run('incidents', 'report', '99', '-o', join(dir, 'x.html'));
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^palisade: no incident #99 in /);
      const bad = await run('incidents', 'report', String(seeded.number), '-o', join(dir, 'x.txt'));
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /cannot tell the report format from/);
    });

    if (backend.name === 'sqlite') {
      it('PDF through chromium: pages with the incident and its figures', async () => {
        const out = join(dir, 'incident.pdf');
        const r = await run('incidents', 'report', String(seeded.number), '-o', out);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(readFileSync(out).subarray(0, 5).toString('latin1'), '%PDF-');
        const text = execFileSync('pdftotext', ['-layout', out, '-'], { encoding: 'utf8' });
        assert.match(text, new RegExp(`Incident #${seeded.number}: `));
        assert.match(text, /HTTP flood against shop\.example/);
        assert.match(text, new RegExp(`${n(peak())} packets/s`));
      });
    }
  });
}

test('incidents report --help teaches: what it shows, exit codes and examples', async () => {
  const r = await cli(['incidents', 'report', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /-o, --output <file>/);
  assert.match(r.stdout, /Exit codes: 0 written; 2 usage .*; 3 no such incident/s);
  assert.match(r.stdout, /Examples:\n {2}palisade incidents report 12 -o incident-12\.html/);
});
