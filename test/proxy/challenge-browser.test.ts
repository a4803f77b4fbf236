/**
 * The JavaScript challenge in a real browser: Debian's Chromium (driven by playwright-core, a
 * fresh profile) through the edge's transport (`startEdge`, in process, loopback only) with the
 * phases' gate, in front of an origin started here. A rule challenges /shop:
 *
 *   - the browser gets the page, its script solves the proof of work (WebCrypto; 127.0.0.1 is a
 *     secure context) and posts it; it lands on the origin's page, holding the clearance cookie;
 *   - a second navigation goes straight to the origin (no page, no post);
 *   - with `crypto.subtle` taken away (what a plain-HTTP site's visitors have) the page's own
 *     SHA-256 solves it the same way;
 *   - the same over TLS and HTTP/2 (a self-signed certificate): the cookie is Secure, and the
 *     clearance is found among the cookie fields HTTP/2 sends apart;
 *   - with JavaScript off the browser stays on the challenge and the <noscript> line says why;
 *   - curl and undici (no JavaScript) stay at 403 `palisade-mitigated: challenge`;
 *   - the origin never sees the verification post, and the gate leaves the state on each request
 *     for the access log.
 * Everything is bounded in time and closed in `after`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium } from 'playwright-core';
import { defaultEdgeOptions } from '../../src/config/edge.js';
import { parseHttpRuleset } from '../../src/mitigate/http-ruleset.js';
import { ensureDevCert } from '../../src/proxy/dev-cert.js';
import type { EdgeRequest, Gate, Outcome } from '../../src/proxy/gate.js';
import { createEdgeGate, type EdgeGate } from '../../src/proxy/phases/pipeline.js';
import { type Edge, startEdge } from '../../src/proxy/server.js';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const STEP_MS = 20_000;

let origin: Server;
let originUrl = '';
const originSeen: string[] = [];
let gate: EdgeGate;
let edge: Edge;
/** The same gate behind TLS (h2 and HTTP/1.1 by ALPN). */
let tlsEdge: Edge;
/** What the transport would log: each exchange's challenge state, as `done` sees it. */
const logged: Array<{ method: string; target: string; status: number; challenge: string | undefined; version: string; cookieFields: string[] }> = [];
const profiles: string[] = [];
const contexts: BrowserContext[] = [];

async function browser(opts: { javaScriptEnabled?: boolean; noSubtle?: boolean; tls?: boolean } = {}): Promise<BrowserContext> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-chromium-'));
  profiles.push(dir);
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    args: ARGS,
    headless: true,
    timeout: STEP_MS,
    javaScriptEnabled: opts.javaScriptEnabled ?? true,
    ignoreHTTPSErrors: opts.tls === true,
  });
  contexts.push(ctx);
  ctx.setDefaultTimeout(STEP_MS);
  ctx.setDefaultNavigationTimeout(STEP_MS);
  if (opts.noSubtle === true) await ctx.addInitScript('Object.defineProperty(window.crypto, "subtle", { value: undefined });');
  return ctx;
}

before(async () => {
  origin = createServer((req: IncomingMessage, res: ServerResponse) => {
    originSeen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Shop</title><h1>Welcome to the shop</h1><p id="where">${(req.url ?? '').replace(/[<&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</p>`);
    });
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  const o = defaultEdgeOptions();
  o.waf.enabled = false;
  o.ruleset = parseHttpRuleset(
    `
rules:
  - id: challenge-shop
    expression: starts_with(http.request.uri.path, "/shop")
    action: js_challenge
`,
    'rules.yaml',
  );
  // The default difficulty (16 bits), what a visitor meets.
  gate = createEdgeGate(o, { waf: null });
  const recording: Gate = {
    head: (r) => gate.head(r),
    body: (r, b, t) => gate.body(r, b, t),
    response: (r, s) => gate.response(r, s),
    done: (r: EdgeRequest, out: Outcome) => {
      gate.done(r, out);
      logged.push({
        method: r.view.method,
        target: r.view.target,
        status: out.status,
        challenge: r.challenge,
        version: r.view.version,
        cookieFields: r.view.headers.filter((h) => h[0].toLowerCase() === 'cookie').map((h) => h[1]),
      });
    },
  };
  edge = await startEdge({ host: '127.0.0.1', port: 0, origins: [originUrl], log: () => {}, gate: recording });
  const certDir = mkdtempSync(join(tmpdir(), 'palisade-cert-'));
  profiles.push(certDir);
  const cert = ensureDevCert(certDir);
  tlsEdge = await startEdge({ host: '127.0.0.1', port: 0, origins: [originUrl], log: () => {}, gate: recording, tls: { cert: cert.cert, key: cert.key } });
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await edge?.close();
  await tlsEdge?.close();
  await gate?.close();
  await new Promise<void>((r) => {
    origin.closeAllConnections();
    origin.close(() => r());
  });
  for (const d of profiles) rmSync(d, { recursive: true, force: true });
});

describe('a real browser meets the challenge', { timeout: 120_000 }, () => {
  it('solves it, lands on the origin page with the clearance cookie, and goes straight through the next time', async (t) => {
    const ctx = await browser();
    const page = await ctx.newPage();
    const first = `${edge.url}/shop/item?id=42&colour=red`;
    const t0 = performance.now();
    const r = await page.goto(first, { waitUntil: 'commit' });
    assert.equal(r?.status(), 403);
    assert.equal(r?.headers()['palisade-mitigated'], 'challenge');
    await page.waitForSelector('h1:text("Welcome to the shop")', { timeout: STEP_MS });
    const solvedMs = performance.now() - t0;
    assert.equal(page.url(), first);
    assert.equal(await page.textContent('#where'), '/shop/item?id=42&colour=red');
    const cookies = await ctx.cookies(edge.url);
    const c = cookies.find((x) => x.name === 'palisade_clearance');
    assert.ok(c, `cookies: ${JSON.stringify(cookies)}`);
    assert.equal(c.httpOnly, true);
    assert.equal(c.sameSite, 'Lax');
    assert.equal(c.path, '/');
    assert.ok(c.expires * 1000 > Date.now() + 25 * 60_000, 'about 30 minutes');
    // The chain the edge saw: the challenge, the post (303), the page itself through to the origin.
    const mine = logged.filter((l) => l.target.startsWith('/shop') || l.target.startsWith('/.well-known'));
    assert.deepEqual(
      mine.map((l) => `${l.method} ${l.target} ${l.status} ${l.challenge}`),
      ['GET /shop/item?id=42&colour=red 403 none', 'POST /.well-known/palisade/challenge 303 passed', 'GET /shop/item?id=42&colour=red 200 passed'],
    );
    t.diagnostic(`challenge solved and the origin page shown in ${solvedMs.toFixed(0)} ms (16 bits, WebCrypto)`);

    // Again: straight to the origin.
    const pagesBefore = gate.jsChallenge.stats.pages;
    const again = await page.goto(`${edge.url}/shop/cart`);
    assert.equal(again?.status(), 200);
    assert.equal(again?.request().redirectedFrom(), null);
    assert.equal(await page.textContent('h1'), 'Welcome to the shop');
    assert.equal(gate.jsChallenge.stats.pages, pagesBefore, 'no challenge page this time');
    // Found by its target, not as the last line: the browser may ask for /favicon.ico meanwhile.
    assert.equal(logged.findLast((l) => l.target === '/shop/cart')?.challenge, 'passed');
    assert.equal(
      originSeen.some((s) => s.includes('/.well-known/palisade')),
      false,
      'the origin never sees the verification post',
    );
  });

  it('over TLS and HTTP/2 too, with a Secure cookie', async () => {
    const ctx = await browser({ tls: true });
    // An older cookie than the clearance: the browser sends it first, in a field of its own under HTTP/2.
    await ctx.addCookies([{ name: 'theme', value: 'dark', url: tlsEdge.url }]);
    const page = await ctx.newPage();
    assert.match(tlsEdge.url, /^https:/);
    const r = await page.goto(`${tlsEdge.url}/shop/secure`, { waitUntil: 'commit' });
    assert.equal(r?.status(), 403);
    await page.waitForSelector('h1:text("Welcome to the shop")', { timeout: STEP_MS });
    assert.equal(await page.textContent('#where'), '/shop/secure');
    const c = (await ctx.cookies(tlsEdge.url)).find((x) => x.name === 'palisade_clearance');
    assert.equal(c?.secure, true);
    const again = await page.goto(`${tlsEdge.url}/shop/secure2`);
    assert.equal(again?.status(), 200);
    const last = logged.findLast((l) => l.target === '/shop/secure2');
    assert.ok(last, 'the page asked for is logged');
    assert.equal(last?.version, 'HTTP/2');
    assert.equal(last?.challenge, 'passed');
    assert.deepEqual(
      last?.cookieFields.map((f) => f.split('=')[0]),
      ['theme', 'palisade_clearance'],
      'the clearance came in the second cookie field',
    );
  });

  it("solves it with the page's own SHA-256 when WebCrypto is not offered", async (t) => {
    const ctx = await browser({ noSubtle: true });
    const page = await ctx.newPage();
    assert.equal(await page.evaluate('typeof crypto.subtle'), 'undefined');
    const t0 = performance.now();
    await page.goto(`${edge.url}/shop/fallback`, { waitUntil: 'commit' });
    await page.waitForSelector('h1:text("Welcome to the shop")', { timeout: STEP_MS });
    t.diagnostic(`challenge solved without WebCrypto in ${(performance.now() - t0).toFixed(0)} ms (16 bits)`);
    assert.equal(await page.textContent('#where'), '/shop/fallback');
    assert.ok((await ctx.cookies(edge.url)).some((x) => x.name === 'palisade_clearance'));
  });

  it('with JavaScript off the browser stays challenged, and the page says why', async () => {
    const ctx = await browser({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    const r = await page.goto(`${edge.url}/shop/nojs`);
    assert.equal(r?.status(), 403);
    await new Promise((res) => setTimeout(res, 1000));
    assert.equal(page.url(), `${edge.url}/shop/nojs`);
    assert.match((await page.textContent('body')) ?? '', /needs JavaScript/);
    assert.equal((await ctx.cookies(edge.url)).length, 0);
    assert.equal(
      originSeen.some((s) => s.includes('/shop/nojs')),
      false,
    );
  });
});

describe('clients without JavaScript', { timeout: 60_000 }, () => {
  it('undici (fetch) stays at 403 challenge', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${edge.url}/shop/api`, { signal: AbortSignal.timeout(STEP_MS), redirect: 'manual' });
      assert.equal(r.status, 403);
      assert.equal(r.headers.get('palisade-mitigated'), 'challenge');
      assert.equal(r.headers.get('set-cookie'), null);
      assert.match(await r.text(), /Checking your browser/);
    }
  });

  it('curl stays at 403 challenge, with or without a cookie jar', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        'curl',
        ['-s', '-o', '/dev/null', '-c', '-', '-L', '-w', '%{http_code} %header{palisade-mitigated}', '--max-time', '10', `${edge.url}/shop/curl`],
        { timeout: STEP_MS },
        (e, stdout) => (e ? reject(e) : resolve(stdout)),
      ),
    );
    assert.match(out, /^403 challenge/);
    assert.doesNotMatch(out, /palisade_clearance/);
    assert.equal(
      originSeen.some((s) => s.includes('/shop/api') || s.includes('/shop/curl')),
      false,
    );
  });
});
