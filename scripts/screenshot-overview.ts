/**
 * The README's picture of the console: `palisade serve --demo` in Debian's Chromium, logged in
 * with the printed demo account, the overview taken once the replay's SYN flood is an attack in
 * progress and its charts hold half a minute of seconds. Run after `npm run build`:
 *   node --import tsx scripts/screenshot-overview.ts [docs/overview.png]
 * It uses the browser tests' harness (test/web/harness.ts): the same serve child and Chromium.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Console, preflight, ROOT, type Serve, startServe, stopServe } from '../test/web/harness.js';

const out = resolve(process.argv[2] ?? join(ROOT, 'docs', 'overview.png'));
const dir = mkdtempSync(join(tmpdir(), 'palisade-screenshot-'));
let server: Serve | null = null;
let ui: Console | null = null;
try {
  preflight(join(dir, 'artifacts'));
  server = await startServe(['--db', join(dir, 'palisade.db'), '--demo'], 60_000);
  const password = /demo account: name demo, password (\S+)/.exec(server.out)?.[1];
  if (password === undefined) throw new Error(`no demo credentials printed: ${server.out}`);
  ui = await Console.open(server.base, join(dir, 'artifacts'));
  const page = ui.page;
  await page.setViewportSize({ width: 1280, height: 1200 });
  await page.goto(`${server.base}/`);
  await ui.logIn('demo', password);
  await page.locator('table.list a[data-attack]', { hasText: 'tcp_syn_flood' }).first().waitFor({ timeout: 120_000 });
  await page.waitForFunction(() => Number(document.querySelector('figure.chart')?.getAttribute('data-points')) >= 30, null, { timeout: 120_000 });
  await page.screenshot({ path: out, fullPage: false });
  process.stdout.write(`${out}\n`);
} finally {
  await ui?.close();
  await stopServe(server);
  rmSync(dir, { recursive: true, force: true });
}
