/**
 * The console in a real browser: Debian's Chromium driven by playwright-core against a real
 * `palisade serve` child (test/web/harness.ts: bin/palisade.js, so the build in dist/ and
 * dist/web is what is tested) on a free loopback port, over a temporary SQLite store seeded here
 * through the Store API, with accounts made by `palisade serve --add-account`.
 *
 * An operator logs in; the overview's charts take new seconds as this test writes them into the
 * store; the alert queue is in score order; `a` acknowledges the focused alert (the API agrees);
 * `o` opens its incident, a note is added and shows in the timeline, the HTML report downloads;
 * the incident page prints. A viewer sees no acknowledge button and the API answers 403 to an ack
 * sent from the page. Throughout: no console error, no request to another origin, no serious or
 * critical axe-core violation, no horizontal scroll at 1280 px, a screenshot of each page kept
 * under test-artifacts/console/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { openStore } from '../../src/incidents/store/open.js';
import type { Store, Summary } from '../../src/incidents/store/store.js';
import type { Alert } from '../../src/model/alert.js';
import { alert } from '../incidents/store/fixtures.js';
import { addAccount, Console, preflight, ROOT, type Serve, startServe, stopServe, WAIT_MS } from './harness.js';

const ARTIFACTS = join(ROOT, 'test-artifacts', 'console');

function summary(second: number, packets: number, byVector: Record<string, number> = {}, traffic: Summary['traffic_by_vector'] = {}): Summary {
  return {
    sensor: 'e2e',
    second,
    packets,
    bytes: packets * 500,
    requests: Math.round(packets / 10),
    by_protocol: { tcp: Math.round(packets * 0.8), udp: Math.round(packets * 0.2) },
    by_vector: byVector,
    by_victim: {},
    traffic_by_vector: traffic,
  };
}

describe('the web console in Chromium', { timeout: 120_000 }, () => {
  let dir: string;
  let db: string;
  let store: Store;
  let server: Serve | null = null;
  let ui: Console;
  let page: Page;
  const passwords: Record<string, string> = {};
  const alerts: Record<'syn' | 'dns' | 'udp', Alert> = {} as Record<'syn' | 'dns' | 'udp', Alert>;
  let incident = 0;

  before(async () => {
    preflight(ARTIFACTS);
    dir = mkdtempSync(join(tmpdir(), 'palisade-console-'));
    db = join(dir, 'palisade.db');
    passwords.op = addAccount(db, 'op', 'operator');
    passwords.watcher = addAccount(db, 'watcher', 'viewer');

    store = await openStore(db);
    const now = new Date().toISOString();
    const seed = async (i: number, over: Partial<Alert>) => (await store.upsertAlert(alert(i, { first_seen: now, last_seen: now, ...over }))).alert;
    alerts.udp = await seed(1, { vector: 'udp_flood', fingerprint: 'udp_flood|203.0.113.1|fields', score: 40, severity: 'medium', urgency: 'medium' });
    alerts.syn = await seed(2, { score: 90, severity: 'critical' });
    alerts.dns = await seed(3, { vector: 'dns_amplification', fingerprint: 'dns_amplification|203.0.113.3|fields', score: 65 });
    const inc = await store.createIncident({ title: 'SYN flood on the shop front', severity: 'critical', customer: 'shop', tags: ['e2e'] });
    incident = inc.number;
    await store.linkAlert(incident, alerts.syn.id);
    await store.appendTimeline(incident, { at: now, kind: 'opened', actor: 'monitor', text: 'tcp_syn_flood on 203.0.113.2:443', data: null });
    await store.addObservables(incident, [
      { kind: 'ip', value: '203.0.113.2' },
      { kind: 'signature', value: 'ip.dst == 203.0.113.2 and tcp.flags == 0x02' },
    ]);
    await store.upsertMitigation(incident, {
      target: 'nftables',
      state: 'applied',
      hits: 123456,
      ruleset: { rules: [{ action: 'block', expression: 'ip.dst == 203.0.113.2 and tcp.flags == 0x02' }] },
    });
    const nowS = Math.floor(Date.now() / 1000);
    await store.writeSummaries(Array.from({ length: 20 }, (_v, i) => summary(nowS - 20 + i, 1000 + i * 10, i > 10 ? { tcp_syn_flood: 1 } : {})));

    server = await startServe(['--db', db]);
    ui = await Console.open(server.base, ARTIFACTS);
    page = ui.page;
  });

  after(async () => {
    await ui?.close();
    await stopServe(server);
    await store?.close().catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const check = (name: string) => ui.check(name);
  const logIn = (name: string) => ui.logIn(name, passwords[name] as string);
  const apiGet = <T>(path: string) => ui.apiGet<T>(path);

  it('shows the login page without a session, and an operator logs in', async () => {
    await page.goto(`${server?.base}/`);
    await page.getByRole('heading', { level: 1, name: 'Log in to Palisade' }).waitFor();
    await check('login');
    await logIn('op');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  });

  it("the overview charts the stored seconds and takes new ones live, with the attacks' own traffic by vector", async () => {
    const packets = page.locator('figure.chart').first();
    // the seeded seconds carry no attack traffic: the by-vector charts say so instead of drawing nothing
    await page.locator('[data-empty="traffic-by-vector"]').waitFor();
    await page.waitForFunction(() => Number(document.querySelector('figure.chart')?.getAttribute('data-points')) >= 20, null, { timeout: WAIT_MS });
    await page.locator('canvas').first().waitFor();
    for (const n of [7777, 8888]) {
      const last = Number(await packets.getAttribute('data-last'));
      const next = Math.max(last + 1, Math.floor(Date.now() / 1000));
      const traffic = { tcp_syn_flood: { packets: n / 2, bytes: n * 30, requests: 0 }, http_flood: { packets: 0, bytes: 0, requests: n / 1111 } };
      await store.writeSummaries([summary(next, n, { tcp_syn_flood: 1, dns_amplification: 1 }, traffic)]);
      await page.waitForFunction((s) => document.querySelector('figure.chart')?.getAttribute('data-last') === String(s), next, { timeout: WAIT_MS });
      assert.match((await packets.locator('.chart-latest').textContent()) ?? '', new RegExp(`all ${(n / 1000).toFixed(1)} kpps`));
      // the same second, live, in the by-vector charts: packets and bits of the L3/4 vector, requests of the L7 one
      for (const chart of ['vector-packets', 'vector-bits', 'vector-requests']) await page.locator(`figure[data-chart="${chart}"][data-last="${next}"]`).waitFor();
      const byVector = (chart: string) => page.locator(`figure[data-chart="${chart}"]`);
      assert.equal(await byVector('vector-packets').getAttribute('data-series'), 'tcp_syn_flood', 'an L7 vector has no packets line');
      assert.equal(await byVector('vector-requests').getAttribute('data-series'), 'http_flood');
      assert.match((await byVector('vector-packets').locator('.chart-latest').textContent()) ?? '', new RegExp(`tcp_syn_flood ${(n / 2000).toFixed(1)} kpps`));
      assert.match((await byVector('vector-bits').locator('.chart-latest').textContent()) ?? '', new RegExp(`tcp_syn_flood ${((n * 240) / 1e6).toFixed(1)} Mbps`));
      assert.match((await byVector('vector-requests').locator('.chart-latest').textContent()) ?? '', new RegExp(`http_flood ${n / 1111} rps`));
      assert.ok(Number(await byVector('vector-packets').getAttribute('data-points')) > 20, 'drawn over the whole window, 0 before the attack');
    }
    assert.equal(await page.locator('[data-empty="traffic-by-vector"]').count(), 0);
    // the legend names each vector beside its colour
    await page.locator('figure[data-chart="vector-packets"] .u-legend', { hasText: 'tcp_syn_flood' }).waitFor();
    assert.equal(await page.getByText('live', { exact: true }).count(), 1);
    // the alerts in progress: all three, highest score first
    await page.getByRole('heading', { name: 'Attacks in progress' }).waitFor();
    await page.locator('table.list tbody tr').nth(2).waitFor();
    assert.deepEqual(await page.locator('table.list tbody tr td:first-child').allTextContents(), ['90', '65', '40']);
    await check('overview');
  });

  it('the sensors page lists the sensor writing the seconds, and without --edge says how to add a proxy', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Sensors' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sensors and proxies' }).waitFor();
    await page.locator('tr[data-sensor="e2e"]').waitFor();
    await page.getByText('palisade serve --edge http://HOST:PORT').waitFor();
    assert.equal(await page.locator('table.proxies').count(), 0);
    // an operator has no admin page in the navigation
    assert.equal(await page.getByRole('navigation').getByRole('link', { name: 'Admin' }).count(), 0);
    await check('sensors-no-proxy');
  });

  it('the alert queue is in score order and the keyboard triages: j/k move, a acknowledges, o opens the incident', async () => {
    await page.getByRole('link', { name: 'Alert queue' }).click();
    await page.getByRole('heading', { level: 1, name: 'Alert queue' }).waitFor();
    const rows = page.locator('table.queue tbody tr');
    await rows.nth(2).waitFor();
    assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-score')))), [90, 65, 40]);
    await check('alerts');

    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-alert-id') ?? null);
    await rows.first().focus();
    await page.keyboard.press('j');
    assert.equal(await focused(), alerts.dns.id);
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), alerts.udp.id);
    await page.keyboard.press('k');
    await page.keyboard.press('k');
    assert.equal(await focused(), alerts.syn.id);
    await page.keyboard.press('a');
    await page.locator(`tr[data-alert-id="${alerts.syn.id}"] td[data-state="acknowledged"]`).waitFor();
    const acked = await apiGet<Alert>(`/api/alerts/${encodeURIComponent(alerts.syn.id)}`);
    assert.equal(acked.state, 'acknowledged');
    assert.equal(acked.acked_by, 'op');
    assert.equal(await focused(), alerts.syn.id, 'the focus stays on the acknowledged alert');
    await page.keyboard.press('o');
    await page.getByRole('heading', { level: 1, name: `Incident #${incident}: SYN flood on the shop front` }).waitFor();
    assert.equal(new URL(page.url()).hash, `#/incidents/${incident}`);
  });

  it('the alert queue links each alert to its attack page, and v opens it from the keyboard', async () => {
    await page.getByRole('link', { name: 'Alert queue' }).click();
    const rows = page.locator('table.queue tbody tr');
    await rows.nth(2).waitFor();
    assert.equal(await page.locator(`table.queue a[data-attack="${alerts.udp.id}"]`).getAttribute('href'), `#/attacks/${encodeURIComponent(alerts.udp.id)}`);
    await page.locator('#queue-keys kbd', { hasText: 'v' }).waitFor();
    await rows.first().focus();
    await page.keyboard.press('j');
    await page.keyboard.press('v');
    // the fixture's attack record is a SYN flood whatever the alert's vector: its victim names it
    await page.getByRole('heading', { level: 1, name: 'tcp_syn_flood on 203.0.113.3:443 (tcp)' }).waitFor();
    assert.equal(new URL(page.url()).hash, `#/attacks/${encodeURIComponent(alerts.dns.id)}`);
    await page.goto(`${server?.base}/#/incidents/${incident}`);
    await page.getByRole('heading', { level: 1, name: `Incident #${incident}: SYN flood on the shop front` }).waitFor();
  });

  it('the incident page: summary, observables, mitigation hits; a note goes into the timeline; the HTML report downloads; it prints', async () => {
    await page.getByText('123,456').waitFor();
    await page.getByRole('cell', { name: '203.0.113.2', exact: true }).waitFor();
    await check('incident');

    const text = `customer called at ${new Date().toISOString()}`;
    await page.getByLabel('Add a note').fill(text);
    await page.getByRole('button', { name: 'Add note' }).click();
    await page.locator('ol.timeline li[data-kind="note"]', { hasText: text }).waitFor();
    const inc = await apiGet<{ timeline: { kind: string; text: string; actor: string }[] }>(`/api/incidents/${incident}`);
    assert.ok(
      inc.timeline.some((e) => e.kind === 'note' && e.text === text && e.actor === 'op'),
      'the note is stored',
    );

    const [download] = await Promise.all([page.waitForEvent('download', { timeout: WAIT_MS }), page.locator('a[data-format="html"]').click()]);
    assert.equal(download.suggestedFilename(), `incident-${incident}.html`);
    const saved = join(ARTIFACTS, download.suggestedFilename());
    await download.saveAs(saved);
    ui.artifacts.push(saved);
    const html = readFileSync(saved, 'utf8');
    assert.ok(html.length > 500, `report of ${html.length} bytes`);
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, /SYN flood on the shop front/);

    // the PDF: printed by the server's own Chromium, so it may take a few seconds
    const [pdfDownload] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.locator('a[data-format="pdf"]').click()]);
    assert.equal(pdfDownload.suggestedFilename(), `incident-${incident}.pdf`);
    const pdfFile = join(ARTIFACTS, pdfDownload.suggestedFilename());
    await pdfDownload.saveAs(pdfFile);
    ui.artifacts.push(pdfFile);
    assert.equal(readFileSync(pdfFile).subarray(0, 5).toString('latin1'), '%PDF-');

    await page.emulateMedia({ media: 'print' });
    try {
      assert.equal(await page.locator('header.top').isVisible(), false, 'no navigation in print');
      assert.equal(await page.locator('form.note').isVisible(), false, 'no form in print');
      assert.equal(await page.locator('ol.timeline').isVisible(), true);
      const shot = join(ARTIFACTS, 'incident-print.png');
      await page.screenshot({ path: shot, fullPage: true });
      const pdf = join(ARTIFACTS, 'incident-print.pdf');
      await page.pdf({ path: pdf, format: 'A4', printBackground: false });
      ui.artifacts.push(shot, pdf);
      assert.ok(readFileSync(pdf).subarray(0, 5).toString() === '%PDF-');
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
  });

  it('a viewer sees no acknowledge button, no note form, and an ack sent from the page is refused (403)', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await logIn('watcher');
    await page.goto(`${server?.base}/#/alerts`);
    await page.getByRole('heading', { level: 1, name: 'Alert queue' }).waitFor();
    await page.locator('table.queue tbody tr').nth(2).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Acknowledge' }).count(), 0);
    await check('alerts-viewer');

    const path = `/api/alerts/${encodeURIComponent(alerts.dns.id)}/ack`;
    ui.expectedFailures.add(path);
    const refused = await page.evaluate(async (p) => {
      const csrf = /(?:^|;\s*)palisade_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '';
      const r = await fetch(p, { method: 'POST', headers: { 'x-csrf-token': csrf } });
      return { status: r.status, body: (await r.json()) as { error: string } };
    }, path);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error, /needs the operator role/, 'refused for the role, not for a missing CSRF token');
    assert.equal((await apiGet<Alert>(`/api/alerts/${encodeURIComponent(alerts.dns.id)}`)).state, 'open');

    await page.goto(`${server?.base}/#/incidents/${incident}`);
    await page.getByRole('heading', { level: 1, name: `Incident #${incident}: SYN flood on the shop front` }).waitFor();
    await page.locator('ol.timeline li[data-kind="note"]').first().waitFor();
    assert.equal(await page.getByLabel('Add a note').count(), 0);
    await check('incident-viewer');
  });

  it('no console error and no request to another origin on any page', () => {
    assert.deepEqual(ui.consoleErrors, []);
    assert.deepEqual(ui.foreignRequests, []);
  });
});
