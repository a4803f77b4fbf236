/**
 * The sensors and proxies page and the admin page in Chromium, against a real `palisade serve`
 * child (test/web/harness.ts) told about two edge proxies: a real `palisade edge` child (up) and a
 * closed loopback port (down, with the reason). Sensors are seeded as per-second summaries: one
 * writing now, one silent for a minute (stale).
 *
 * An admin creates an account (its password shown once), disables it, changes another's role and
 * resets its password (the new one shown once, working, the old one refused), creates a token and
 * revokes it, dry-runs a prune then prunes, and sees each change in the audit log (newest first,
 * filtered by actor). An operator has no Admin entry in the navigation and the page's own fetch
 * of /api/audit gets 403. Throughout: no console error (bar those 403s), no request to another
 * origin, axe-core clean, no horizontal scroll at 1280 px, screenshots under test-artifacts/admin/.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Page, request } from 'playwright-core';
import { openStore } from '../../src/incidents/store/open.js';
import type { Store, Summary } from '../../src/incidents/store/store.js';
import { type EdgeProcess, startEdgeProcess } from '../proxy/edge-process.js';
import { addAccount, Console, preflight, ROOT, type Serve, startServe, stopServe, WAIT_MS } from './harness.js';

const ARTIFACTS = join(ROOT, 'test-artifacts', 'admin');
const EDGE_TOKEN = 'e2e-edge-admin-token';
const DAY_S = 86_400;

/** A port nothing listens on: bound, noted, closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function summary(sensor: string, second: number): Summary {
  return { sensor, second, packets: 600, bytes: 600 * 500, requests: 60, by_protocol: {}, by_vector: {}, by_victim: {}, traffic_by_vector: {} };
}

interface AuditRow {
  actor: string;
  action: string;
  target: string;
}

describe('sensors, proxies and the admin page in Chromium', { timeout: 180_000 }, () => {
  let dir: string;
  let store: Store;
  let edge: EdgeProcess | null = null;
  let closed = '';
  let server: Serve | null = null;
  let ui: Console;
  let page: Page;
  const passwords: Record<string, string> = {};
  let heartbeat: ReturnType<typeof setInterval> | null = null;

  /**
   * edge-1 writing now: its last 31 seconds (600 packets each), then a summary with no traffic
   * every second, as a quiet sensor sends. Seeded when the test starts, not in the set-up (which
   * may take longer than the 10 s after which a sensor is stale on a loaded machine); the last
   * minute's rate stays 31 × 600 / 60 for the 30 s after seeding.
   */
  async function liveSensor(): Promise<void> {
    const nowS = Math.floor(Date.now() / 1000);
    const rows: Summary[] = [];
    for (let s = nowS - 30; s <= nowS; s++) rows.push(summary('edge-1', s));
    await store.writeSummaries(rows);
    let next = nowS + 1;
    heartbeat = setInterval(() => {
      const upTo = Math.floor(Date.now() / 1000);
      const quiet: Summary[] = [];
      for (; next <= upTo; next++) quiet.push({ ...summary('edge-1', next), packets: 0, bytes: 0, requests: 0 });
      if (quiet.length > 0) void store.writeSummaries(quiet).catch(() => {});
    }, 500);
  }

  before(async () => {
    preflight(ARTIFACTS);
    dir = mkdtempSync(join(tmpdir(), 'palisade-admin-e2e-'));
    const db = join(dir, 'palisade.db');
    passwords.root = addAccount(db, 'root', 'admin');
    passwords.op = addAccount(db, 'op', 'operator');
    passwords.analyst = addAccount(db, 'analyst', 'viewer');

    store = await openStore(db);
    const nowS = Math.floor(Date.now() / 1000);
    const rows: Summary[] = [];
    // old-tap went quiet a minute ago; edge-1 is seeded by the sensors test itself (liveSensor)
    for (let s = nowS - 120; s <= nowS - 60; s++) rows.push(summary('old-tap', s));
    // summaries 40 days old: what the prune below deletes
    for (let s = nowS - 40 * DAY_S; s < nowS - 40 * DAY_S + 5; s++) rows.push(summary('old-tap', s));
    await store.writeSummaries(rows);

    edge = await startEdgeProcess(['--listen', '127.0.0.1:0', '--origin', 'http://127.0.0.1:9', '--admin', '127.0.0.1:0', '--admin-token', EDGE_TOKEN]);
    closed = `http://127.0.0.1:${await closedPort()}`;
    server = await startServe(['--db', db, '--edge', edge.admin as string, '--edge', closed, '--edge-token', EDGE_TOKEN]);
    ui = await Console.open(server.base, ARTIFACTS);
    page = ui.page;
  });

  after(async () => {
    if (heartbeat !== null) clearInterval(heartbeat);
    await ui?.close();
    await stopServe(server);
    if (edge?.child.pid !== undefined && edge.child.exitCode === null) {
      process.kill(edge.child.pid, 'SIGTERM');
      await edge.exited;
    }
    await store?.close().catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const audit = () => ui.apiGet<AuditRow[]>('/api/audit?limit=50');

  it('the sensors page lists the sensors, the silent one marked stale in words; the proxies show one up and one down with the reason', async () => {
    await liveSensor();
    await page.goto(`${server?.base}/`);
    await ui.logIn('root', passwords.root as string);
    await page.getByRole('navigation').getByRole('link', { name: 'Sensors' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sensors and proxies' }).waitFor();
    const live = page.locator('tr[data-sensor="edge-1"]');
    const stale = page.locator('tr[data-sensor="old-tap"]');
    await stale.waitFor();
    assert.equal(await live.getAttribute('data-stale'), 'false');
    assert.match((await live.locator('td').nth(1).textContent()) ?? '', /^live/);
    assert.equal(await stale.getAttribute('data-stale'), 'true');
    assert.match((await stale.locator('td').nth(1).textContent()) ?? '', /^stale: silent \d+ s$/);
    // edge-1's last minute: 31 seconds of 600 packets over 60 s
    assert.equal(await live.locator('td').nth(4).textContent(), '310 pps');
    assert.equal(await live.locator('td').nth(5).textContent(), '1.2 Mbps');

    const down = page.locator(`tr[data-proxy="${closed}"]`);
    await down.waitFor();
    assert.equal(await down.getAttribute('data-up'), 'false');
    assert.equal(await down.locator('td').nth(1).textContent(), 'down: ECONNREFUSED');
    const up = page.locator(`tr[data-proxy="${edge?.admin}"]`);
    assert.equal(await up.getAttribute('data-up'), 'true');
    assert.equal(await up.locator('td').nth(1).textContent(), 'up');
    assert.match((await up.locator('td').nth(2).textContent()) ?? '', /^\d+ ms$/);
    await ui.check('sensors');

    // refreshed by itself: old-tap's silence grows without a reload
    const silent = async () => Number(/silent (\d+) s/.exec((await stale.locator('td').nth(1).textContent()) ?? '')?.[1]);
    const first = await silent();
    await page.waitForFunction((n) => Number(/silent (\d+) s/.exec(document.querySelector('tr[data-sensor="old-tap"] td:nth-child(2)')?.textContent ?? '')?.[1]) > n, first, {
      timeout: 12_000,
    });
  });

  it('an admin creates an account (the password shown once) and disables it', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { level: 1, name: 'Admin' }).waitFor();
    await page.locator('tr[data-account="op"]').waitFor();
    await page.getByLabel('New account name').fill('night-shift');
    await page.getByLabel('Role', { exact: true }).selectOption('operator');
    await page.getByRole('button', { name: 'Create account' }).click();
    const once = page.locator('[data-once="password"] code');
    await once.waitFor();
    const password = (await once.textContent()) ?? '';
    assert.ok(password.length >= 12, `a generated password: ${password}`);
    // the password works: a login with it from a client of its own (not this page's cookies) succeeds
    const other = await request.newContext();
    try {
      const login = await other.post(`${server?.base}/api/login`, { data: { name: 'night-shift', password }, timeout: WAIT_MS });
      assert.equal(login.status(), 200, await login.text());
    } finally {
      await other.dispose();
    }
    const row = page.locator('tr[data-account="night-shift"]');
    await row.waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Admin' }).waitFor();
    await row.waitFor();
    assert.equal(await page.locator('[data-once="password"]').count(), 0, 'shown once: not again after a reload');
    await ui.check('admin');

    await page.getByRole('button', { name: 'Disable night-shift' }).click();
    await page.locator('tr[data-account="night-shift"][data-disabled="true"]').waitFor();
    assert.equal(await row.locator('td').nth(2).textContent(), 'disabled');
    const accounts = await ui.apiGet<{ name: string; disabled: boolean; role: string; created_by: string }[]>('/api/accounts');
    const made = accounts.find((a) => a.name === 'night-shift');
    assert.deepEqual([made?.role, made?.disabled, made?.created_by], ['operator', true, 'root']);
  });

  it("an admin changes another account's role and resets its password (after a second click, the new one shown once)", async () => {
    const row = page.locator('tr[data-account="analyst"]');
    await row.waitFor();
    assert.equal(await page.getByLabel('Role of root', { exact: true }).count(), 0, "no role selector on one's own row");
    assert.equal(await page.getByRole('button', { name: 'Reset password of root' }).count(), 0, "no reset on one's own row");
    await page.getByLabel('Role of analyst', { exact: true }).selectOption('operator');
    await page.getByRole('button', { name: 'Change role of analyst' }).click();
    await page.locator('tr[data-account="analyst"] td[data-role="operator"]').waitFor();
    const accounts = await ui.apiGet<{ name: string; role: string }[]>('/api/accounts');
    assert.equal(accounts.find((a) => a.name === 'analyst')?.role, 'operator');
    const roleRow = page.locator('table.audit tr[data-action="account.role"][data-target="account:analyst"]');
    await roleRow.waitFor();
    assert.match((await roleRow.textContent()) ?? '', /"from":"viewer","to":"operator"/);

    // a session of analyst's own, which the reset ends
    const theirs = await request.newContext();
    try {
      const login = await theirs.post(`${server?.base}/api/login`, { data: { name: 'analyst', password: passwords.analyst }, timeout: WAIT_MS });
      assert.equal(login.status(), 200, await login.text());
      assert.equal((await theirs.get(`${server?.base}/api/me`, { timeout: WAIT_MS })).status(), 200);

      await page.getByRole('button', { name: 'Reset password of analyst' }).click();
      assert.equal(await page.locator('[data-once="password"]').count(), 0, 'nothing reset before the confirm');
      await page.getByRole('button', { name: 'Confirm password reset of analyst' }).click();
      const once = page.locator('[data-once="password"]');
      await once.getByText('New password for').waitFor();
      const password = (await once.locator('code').textContent()) ?? '';
      assert.ok(password.length >= 12 && password !== passwords.analyst, `a new generated password: ${password}`);
      assert.match((await once.textContent()) ?? '', /1 session of analyst ended/);
      await page.locator('table.audit tr[data-action="account.password"][data-target="account:analyst"]').waitFor();
      assert.doesNotMatch((await page.locator('table.audit').textContent()) ?? '', new RegExp(password), 'never in the audit log');
      await ui.check('admin-reset');

      assert.equal((await theirs.get(`${server?.base}/api/me`, { timeout: WAIT_MS })).status(), 401, "analyst's session ended");
      const old = await theirs.post(`${server?.base}/api/login`, { data: { name: 'analyst', password: passwords.analyst }, timeout: WAIT_MS });
      assert.equal(old.status(), 401, 'the old password is refused');
      const fresh = await request.newContext();
      try {
        const login2 = await fresh.post(`${server?.base}/api/login`, { data: { name: 'analyst', password }, timeout: WAIT_MS });
        assert.equal(login2.status(), 200, await login2.text());
        const me = (await (await fresh.get(`${server?.base}/api/me`, { timeout: WAIT_MS })).json()) as { name: string; role: string };
        assert.deepEqual([me.name, me.role], ['analyst', 'operator']);
      } finally {
        await fresh.dispose();
      }
    } finally {
      await theirs.dispose();
    }
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Admin' }).waitFor();
    await row.waitFor();
    assert.equal(await page.locator('[data-once="password"]').count(), 0, 'shown once: not again after a reload');
  });

  it('an admin creates a token for an account (shown once) and revokes it after a second click', async () => {
    await page.getByRole('button', { name: 'Tokens of op' }).click();
    await page.getByRole('heading', { name: 'API tokens of op' }).waitFor();
    await page.getByLabel('New token for').fill('grafana');
    await page.getByRole('button', { name: 'Create token' }).click();
    const once = page.locator('[data-once="token"] code');
    await once.waitFor();
    const token = (await once.textContent()) ?? '';
    const me = await ui.context.request.get(`${server?.base}/api/me`, { headers: { authorization: `Bearer ${token}` }, timeout: WAIT_MS });
    assert.equal(me.status(), 200, 'the token shown works');
    const tokens = await ui.apiGet<{ id: string; name: string }[]>('/api/accounts/op/tokens');
    assert.equal(tokens.length, 1);
    const id = tokens[0]?.id as string;
    const row = page.locator(`tr[data-token="${id}"]`);
    await row.waitFor();
    await ui.check('admin-tokens');

    await page.getByRole('button', { name: 'Revoke grafana' }).click();
    assert.equal((await ui.apiGet<unknown[]>('/api/accounts/op/tokens')).length, 1, 'nothing revoked before the confirm');
    await page.getByRole('button', { name: 'Confirm revoke' }).click();
    await page.getByText('op has no API token.').waitFor();
    assert.equal(await page.locator('[data-once="token"]').count(), 0, 'the revoked secret is no longer on screen');
    assert.deepEqual(await ui.apiGet<unknown[]>('/api/accounts/op/tokens'), []);
    const refused = await ui.context.request.get(`${server?.base}/api/me`, { headers: { authorization: `Bearer ${token}` }, timeout: WAIT_MS });
    assert.equal(refused.status(), 401, 'the revoked token is refused');
  });

  it('a prune is dry-run first (what would go), then done on confirm; the storage and notifications show', async () => {
    await page.locator('[data-storage="sqlite"]').waitFor();
    await page.locator('[data-outbox-pending="0"][data-outbox-dead="0"]').waitFor();
    await page.getByLabel('Delete closed incidents and summaries older than (days)').fill('30');
    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.locator('[data-prune="dry"]').getByText('5 per-second summaries').waitFor();
    const before = (await audit()).filter((a) => a.action === 'storage.prune').length;
    assert.equal(before, 0, 'a dry run is not audited: it changed nothing');
    await ui.check('admin-prune');
    await page.getByRole('button', { name: 'Prune now' }).click();
    await page.locator('[data-prune="done"]').getByText('Pruned: no closed incident').waitFor();
    assert.match((await page.locator('[data-prune="done"]').textContent()) ?? '', /5 per-second summaries/);
    // the old seconds are gone; the recent ones stay
    const sensors = await ui.apiGet<{ name: string; first_seen: string }[]>('/api/sensors');
    const oldTap = sensors.find((s) => s.name === 'old-tap');
    assert.ok(oldTap !== undefined && Date.parse(oldTap.first_seen) > Date.now() - DAY_S * 1000, JSON.stringify(oldTap));
  });

  it('the audit log shows those changes, newest first, and filters by actor', async () => {
    const log = page.locator('table.audit tbody tr');
    await page.locator('table.audit tr[data-action="storage.prune"]').waitFor();
    const actions = await log.evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-action')} ${tr.getAttribute('data-target')}`));
    // this test's changes (the accounts made by --add-account before serve started are audited too)
    const mine = actions.filter((a) => /^(account\.(create|disable) account:night-shift|token\.(create|revoke) |storage\.prune )/.test(a));
    assert.deepEqual(
      mine.map((a) => a.split(' ')[0]),
      ['storage.prune', 'token.revoke', 'token.create', 'account.disable', 'account.create'],
    );

    await page.getByLabel('Only the changes of (account)').fill('nobody');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No change by nobody recorded.').waitFor();
    await page.getByLabel('Only the changes of (account)').fill('root');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('table.audit tr[data-action="storage.prune"]').waitFor();
    assert.deepEqual([...new Set(await page.locator('table.audit tbody tr td:nth-child(2)').allTextContents())], ['root']);
    await ui.check('admin-audit');
  });

  it('an operator has no Admin entry, and the page opened by hand shows the API refusing the audit log (403)', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    // logged out for sure (else the overview below would ask with the ending session and get 401)
    await page.getByRole('heading', { level: 1, name: 'Log in to Palisade' }).waitFor();
    // from the overview: the admin page must not be what the login lands on
    await page.goto(`${server?.base}/#/`);
    await ui.logIn('op', passwords.op as string);
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    assert.equal(await page.getByRole('navigation').getByRole('link', { name: 'Admin' }).count(), 0);
    await page.getByRole('navigation').getByRole('link', { name: 'Sensors' }).waitFor();
    ui.expectedFailures.add('/api/audit?limit=200');
    const audited = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/audit', { timeout: WAIT_MS });
    await page.goto(`${server?.base}/#/admin`);
    assert.equal((await audited).status(), 403);
    await page
      .locator('[data-audit-error]')
      .getByText(/needs the admin role/)
      .waitFor();
    assert.equal(await page.getByRole('button', { name: 'Create account' }).count(), 0);
    await ui.check('admin-operator');
  });

  it('no console error and no request to another origin on any page', () => {
    assert.deepEqual(ui.consoleErrors, []);
    assert.deepEqual(ui.foreignRequests, []);
  });
});
