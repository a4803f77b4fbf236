/**
 * The console's files as `palisade serve` serves them, over real HTTP on 127.0.0.1:0, from a
 * small build directory made here: the shell without authentication, with the console's CSP and
 * the other security headers, content types and caching; no path out of the build directory
 * (dot-segments raw and %-encoded, backslashes, NUL, dot-files); every /api path still 401
 * without credentials; and a 503 page saying to build when there is no build.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/incidents/store/open.js';
import type { Store } from '../../src/incidents/store/store.js';
import { type ApiServer, createApiServer, listen } from '../../src/server/server.js';
import { CONSOLE_CSP, resolveInside } from '../../src/server/static.js';

const SECRET = 'top-secret-outside-the-build';

/** A raw GET: fetch() would normalise dot-segments away before they reach the server. */
function raw(port: number, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

describe('the console static files', () => {
  let dir: string;
  let store: Store;
  let api: ApiServer;
  let bare: ApiServer;
  let port: number;
  let barePort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-static-'));
    const web = join(dir, 'web');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>console</title><script type="module" src="/assets/app-1a2b.js"></script>');
    writeFileSync(join(web, 'assets', 'app-1a2b.js'), 'console.log(1);');
    writeFileSync(join(web, 'assets', 'app-1a2b.css'), 'body{}');
    writeFileSync(join(web, '.env'), SECRET);
    writeFileSync(join(dir, 'secret.txt'), SECRET);
    store = await openStore(join(dir, 'p.db'));
    api = createApiServer({ store, secureCookies: true, web, log: () => {} });
    port = (await listen(api.server, '127.0.0.1', 0)).port;
    bare = createApiServer({ store, secureCookies: true, web: join(dir, 'not-built'), log: () => {} });
    barePort = (await listen(bare.server, '127.0.0.1', 0)).port;
  });
  after(async () => {
    for (const s of [api, bare]) {
      s.server.closeAllConnections();
      await new Promise<void>((r) => s.server.close(() => r()));
    }
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the shell at / without authentication, with the console CSP, nosniff, no-referrer and revalidation', async () => {
    const r = await raw(port, '/');
    assert.equal(r.status, 200);
    assert.match(r.body, /<title>console<\/title>/);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['content-security-policy'], CONSOLE_CSP);
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"])
      assert.ok(CONSOLE_CSP.split('; ').includes(d), d);
    assert.doesNotMatch(CONSOLE_CSP, /unsafe-inline|unsafe-eval|\*/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.equal((await raw(port, '/index.html')).body, r.body);
    const head = await raw(port, '/', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  it('serves assets with their content type, cached for good (hashed names)', async () => {
    const js = await raw(port, '/assets/app-1a2b.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['content-security-policy'], CONSOLE_CSP);
    assert.equal((await raw(port, '/assets/app-1a2b.css')).headers['content-type'], 'text/css; charset=utf-8');
    const missing = await raw(port, '/assets/nope.js');
    assert.equal(missing.status, 404);
    assert.match(String(missing.headers['content-security-policy']), /^default-src 'none'; frame-ancestors 'none'/);
    assert.equal((await raw(port, '/', 'POST')).status, 405);
  });

  it('refuses every way out of the build directory', async () => {
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/%2e%2e%5csecret.txt',
      '/.env',
      '/assets/%00.js',
      '/%E0%A4%A',
    ]) {
      const r = await raw(port, path);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(r.body, new RegExp(SECRET), path);
    }
    const root = join(dir, 'web');
    assert.equal(resolveInside(root, '/../secret.txt'), null);
    assert.equal(resolveInside(root, '/assets/app-1a2b.js'), join(root, 'assets', 'app-1a2b.js'));
  });

  it('keeps every /api path behind authentication', async () => {
    for (const path of ['/api/alerts', '/api/stats/stream', '/api/incidents/1/report', '/api', '/api/', '/api/../api/alerts'])
      assert.equal((await raw(port, path)).status, 401, path);
    assert.equal((await raw(port, '/api/health')).status, 200);
  });

  it('without a build, / is a 503 page saying to run npm run build, and the API still answers', async () => {
    const r = await raw(barePort, '/');
    assert.equal(r.status, 503);
    assert.match(r.body, /npm run build/);
    assert.match(String(r.headers['content-type']), /^text\/html/);
    assert.equal((await raw(barePort, '/api/health')).status, 200);
    assert.equal((await raw(barePort, '/api/alerts')).status, 401);
  });
});
