/**
 * A newcomer's first look, in Chromium: `palisade serve --demo` (a real child, test/web/harness.ts)
 * replays its generated capture into a fresh store; the printed demo credentials log in; the
 * overview shows an attack in progress once the replay's SYN flood (8 s in) is detected — waited
 * for, bounded — and live traffic in its charts; the attack's page opens from there with its
 * facts and charts; then its alert is acknowledged from the keyboard in the queue, its incident
 * opened, a note added and the report downloaded with the note in it. No console error, no other
 * origin, axe-core clean, no horizontal scroll at 1280 px; screenshots under test-artifacts/demo/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { Console, preflight, ROOT, type Serve, startServe, stopServe } from './harness.js';

const ARTIFACTS = join(ROOT, 'test-artifacts', 'demo');
/** The flood starts 8 s into the replay; detection and the overview's 5 s refresh add a few; a busy machine the rest. */
const ATTACK_WITHIN_MS = 90_000;

describe('palisade serve --demo in Chromium', { timeout: 180_000 }, () => {
  let dir: string;
  let server: Serve | null = null;
  let ui: Console;
  let page: Page;
  let password = '';

  before(async () => {
    preflight(ARTIFACTS);
    dir = mkdtempSync(join(tmpdir(), 'palisade-demo-e2e-'));
    server = await startServe(['--db', join(dir, 'palisade.db'), '--demo'], 60_000);
    password = /demo account: name demo, password (\S+)/.exec(server.out)?.[1] ?? '';
    assert.notEqual(password, '', `no demo credentials printed: ${server.out}`);
    ui = await Console.open(server.base, ARTIFACTS);
    page = ui.page;
  });

  after(async () => {
    await ui?.close();
    await stopServe(server);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs in with the printed demo credentials and sees an attack appear live on the overview', async () => {
    await page.goto(`${server?.base}/`);
    await ui.logIn('demo', password);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    const attack = page.locator('table.list a[data-attack]').first();
    await attack.waitFor({ timeout: ATTACK_WITHIN_MS });
    const vectors = await page.locator('table.list a[data-attack]').allTextContents();
    assert.ok(vectors.includes('tcp_syn_flood'), `the replay's SYN flood is among the attacks in progress: ${vectors.join(', ')}`);
    // the live charts hold the replay's seconds
    await page.waitForFunction(() => Number(document.querySelector('figure.chart')?.getAttribute('data-points')) >= 5, null, { timeout: 30_000 });
    // and the attack's own packets in the by-vector chart, from the demo's live summaries
    const byVector = page.locator('figure[data-chart="vector-packets"]');
    await byVector.waitFor({ timeout: 30_000 });
    assert.match((await byVector.getAttribute('data-series')) ?? '', /\btcp_syn_flood\b/);
    await ui.check('overview');
  });

  it("opens the attack's page: its facts and its window's charts", async () => {
    const link = page.locator('table.list a[data-attack]', { hasText: 'tcp_syn_flood' }).first();
    const id = (await link.getAttribute('data-attack')) as string;
    await link.click();
    await page.getByRole('heading', { level: 1, name: /^tcp_syn_flood on / }).waitFor();
    assert.equal(new URL(page.url()).hash, `#/attacks/${encodeURIComponent(id)}`);
    await page.getByRole('heading', { name: 'Traffic of sensor demo' }).waitFor();
    const canvas = page.locator('figure.chart canvas').first();
    await canvas.waitFor();
    const size = await canvas.evaluate((c) => ({ w: (c as HTMLCanvasElement).width, h: (c as HTMLCanvasElement).height }));
    assert.ok(size.w > 0 && size.h > 0, JSON.stringify(size));
    assert.ok(Number(await page.locator('figure.chart').first().getAttribute('data-points')) > 0, 'the window has traffic');
    // the sensor's total and the attack vector's own traffic, side by side
    assert.match((await page.locator('figure.chart .chart-latest').first().textContent()) ?? '', /all [\d.]+ k?pps, tcp_syn_flood [\d.]+ k?pps/);
    await ui.check('attack');
  });

  it('triages the live attack: its alert acknowledged from the keyboard, its incident opened, a note added, its report downloaded', async () => {
    await page.getByRole('link', { name: 'Alert queue' }).click();
    await page.getByRole('heading', { level: 1, name: 'Alert queue' }).waitFor();
    const row = page.locator('table.queue tbody tr', { has: page.locator('a[data-attack]', { hasText: 'tcp_syn_flood' }) }).first();
    await row.waitFor();
    const id = (await row.getAttribute('data-alert-id')) as string;
    await row.focus();
    await page.keyboard.press('a');
    await page.locator(`tr[data-alert-id="${id}"] td[data-state="acknowledged"]`).waitFor();
    const acked = (await page.evaluate(async (u) => (await fetch(u)).json(), `/api/alerts/${encodeURIComponent(id)}`)) as { state: string; acked_by: string; incident_id: number };
    assert.deepEqual([acked.state, acked.acked_by], ['acknowledged', 'demo'], 'acknowledged by the demo account, as the API says');
    await page.keyboard.press('o');
    await page.getByRole('heading', { level: 1, name: new RegExp(`^Incident #${acked.incident_id}: `) }).waitFor();
    await ui.check('demo-incident');

    const text = `looked at the live SYN flood at ${new Date().toISOString()}`;
    await page.getByLabel('Add a note').fill(text);
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.locator('ol.timeline li[data-kind="note"]', { hasText: text }).waitFor();

    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.locator('a[data-format="html"]').click()]);
    assert.equal(download.suggestedFilename(), `incident-${acked.incident_id}.html`);
    const saved = join(ARTIFACTS, download.suggestedFilename());
    await download.saveAs(saved);
    const html = readFileSync(saved, 'utf8');
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, /tcp_syn_flood|SYN flood/);
    assert.ok(html.includes(text.replace(/&/g, '&amp;')), 'the note is in the report');
  });

  it('no console error and no request to another origin on any page', () => {
    assert.deepEqual(ui.consoleErrors, []);
    assert.deepEqual(ui.foreignRequests, []);
  });
});
