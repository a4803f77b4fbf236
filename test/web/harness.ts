/**
 * What the console's browser tests share: a real `palisade serve` child (bin/palisade.js, so the
 * build in dist/ and dist/web is what is tested) on a free loopback port, stopped by its PID;
 * accounts made by `palisade serve --add-account`; Debian's Chromium through playwright-core with
 * every console error and every request to another origin recorded; and the check each page
 * passes — no serious or critical axe-core violation, no horizontal scroll at 1280 px, a
 * screenshot kept under test-artifacts/.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type ServeProcess, startServeProcess, stopServeProcess } from '../helpers/serve-process.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/palisade.js');
const CHROMIUM = '/usr/bin/chromium';
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** Every wait in a page: seconds, not minutes. */
export const WAIT_MS = 10_000;
export const WIDTH = 1280;

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Chromium and the build are there, and the artifacts directory is made. */
export function preflight(artifacts: string): void {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (listed in .ci/apt-packages.txt; scripts/setup.sh installs it)`);
  for (const built of ['dist/cli/main.js', 'dist/web/index.html'])
    if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run npm run build first (this test drives the built CLI and console)`);
  mkdirSync(artifacts, { recursive: true });
}

/** Runs `palisade serve --add-account` and returns the password it prints (its last line). */
export function addAccount(db: string, name: string, role: string): string {
  const r = spawnSync(process.execPath, [BIN, 'serve', '--add-account', name, '--role', role, '--db', db], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `--add-account ${name}: ${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1) as string;
}

export type Serve = ServeProcess;

/** Starts `palisade serve ARGS --listen 127.0.0.1:0` from the build and resolves once it says where it listens. */
export function startServe(args: readonly string[], waitMs = 20_000): Promise<Serve> {
  return startServeProcess(['--listen', '127.0.0.1:0', ...args], { from: 'build', waitMs });
}

/** SIGTERM by PID, SIGKILL after 3 s if it has not gone. */
export async function stopServe(serve: Serve | null): Promise<void> {
  await stopServeProcess(serve);
}

/** A Chromium page on the server, watched for console errors and requests to other origins. */
export class Console {
  readonly consoleErrors: string[] = [];
  readonly foreignRequests: string[] = [];
  /** Paths this test makes fail on purpose (a viewer's refused change): their console line is expected. */
  readonly expectedFailures = new Set<string>();
  readonly artifacts: string[] = [];

  private constructor(
    readonly base: string,
    readonly browser: Browser,
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly dir: string,
  ) {}

  static async open(base: string, artifacts: string): Promise<Console> {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 20_000,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const context = await browser.newContext({ viewport: { width: WIDTH, height: 900 }, acceptDownloads: true });
      const page = await context.newPage();
      page.setDefaultTimeout(WAIT_MS);
      const c = new Console(base, browser, context, page, artifacts);
      page.on('console', (m) => {
        if (m.type() !== 'error') return;
        const where = m.location().url;
        if ([...c.expectedFailures].some((path) => where.endsWith(path))) return;
        c.consoleErrors.push(`${m.text()} (${where})`);
      });
      page.on('pageerror', (err) => c.consoleErrors.push(`page error: ${err.message}`));
      const origin = new URL(base).origin;
      page.on('request', (r) => {
        const u = new URL(r.url());
        if (u.protocol !== 'data:' && u.origin !== origin) c.foreignRequests.push(r.url());
      });
      return c;
    } catch (err) {
      await browser.close().catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => {});
    if (this.artifacts.length > 0) process.stdout.write(`console screenshots and prints:\n${this.artifacts.map((a) => `  ${a}`).join('\n')}\n`);
  }

  /** The page as it is now: axe-core finds nothing serious or critical, no horizontal scroll, a screenshot kept. */
  async check(name: string): Promise<void> {
    const page = this.page;
    const file = join(this.dir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    this.artifacts.push(file);
    // evaluated over the DevTools protocol, which the page's CSP does not govern (a <script> tag would be refused)
    if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
    const violations = (await page.evaluate(() =>
      (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: Violation[] }> } }).axe
        .run(document, { resultTypes: ['violations'] })
        .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }))),
    )) as Violation[];
    const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(
      bad.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
      [],
      `axe-core on ${name}`,
    );
    const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
    assert.ok(scroll <= client, `${name}: horizontal scroll at ${WIDTH} px (${scroll} > ${client})`);
  }

  async logIn(name: string, password: string): Promise<void> {
    const page = this.page;
    await page.getByRole('heading', { level: 1, name: 'Log in to Palisade' }).waitFor();
    await page.getByLabel('Name').fill(name);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
  }

  /** GET an API path with the browser's session (the context's cookies). */
  async apiGet<T>(path: string): Promise<T> {
    const r = await this.context.request.get(`${this.base}${path}`, { timeout: WAIT_MS });
    assert.equal(r.status(), 200, path);
    return (await r.json()) as T;
  }

  /** A change sent from the page itself (its session and CSRF token): what a hand-made request would get. */
  async fetchFromPage(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: { error?: string } }> {
    return this.page.evaluate(
      async ({ method, path, body, headers }) => {
        const csrf = /(?:^|;\s*)palisade_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '';
        const h: Record<string, string> = { 'x-csrf-token': csrf, ...headers };
        if (body !== undefined) h['content-type'] = 'application/json';
        const r = await fetch(path, { method, headers: h, ...(body !== undefined && { body: JSON.stringify(body) }) });
        return { status: r.status, body: (await r.json()) as { error?: string } };
      },
      { method, path, body, headers },
    );
  }
}
