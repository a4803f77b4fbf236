/**
 * The edge's JSON access log: one HttpRequest per line, valid against its schema, read back
 * whole by the project's log reader (format `palisade`, detected), and by `palisade analyze`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import type { HttpRequest } from '../../src/model/http.js';
import { schemaErrors } from '../../src/model/validate.js';
import { readAccessLog } from '../../src/sources/accesslog/reader.js';
import { edgeFor, type Origin, raw, startOrigin } from './helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('edge access log', { timeout: 60_000 }, () => {
  let dir: string;
  let file: string;
  let origin: Origin;
  let lines: HttpRequest[];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-edge-log-'));
    file = join(dir, 'edge.log');
    origin = await startOrigin();
    let t = Date.parse('2026-12-06T10:00:00Z');
    const edge = await edgeFor(origin, {
      accessLog: file,
      clock: { nowMs: () => (t += 250) },
      gate: { head: (r) => (r.view.target.startsWith('/admin') ? { kind: 'respond', mitigated: 'block', status: 403 } : { kind: 'pass' }) },
    });
    const p = edge.address().port;
    // User-Agent bytes are UTF-8 on the wire ("é").
    await raw(
      p,
      Buffer.from(
        'GET /shop/item?id=7&c=shoes HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: Mozilla/5.0 (é)\r\nAccept: */*\r\nReferer: https://shop.example/\r\nCookie: sid=abc; theme=dark\r\nAuthorization: Bearer secret\r\nConnection: close\r\n\r\n',
        'utf8',
      ),
    );
    const res = await request(`${edge.url}/login`, { method: 'POST', body: 'user=a&pass=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    await res.body.dump();
    await raw(p, 'GET /admin/x HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
    await raw(p, 'GET /status/404 HTTP/1.0\r\n\r\n');
    await edge.close();
    lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as HttpRequest);
  });
  after(async () => {
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('one schema-valid HttpRequest per request', () => {
    assert.equal(lines.length, 4);
    for (const l of lines) assert.equal(schemaErrors(l, 'http-request'), null, JSON.stringify(l));
    const [get, post, blocked, old] = lines as [HttpRequest, HttpRequest, HttpRequest, HttpRequest];
    assert.equal(get.time, '2026-12-06T10:00:00.250Z');
    assert.deepEqual([get.method, get.host, get.path, get.query, get.version, get.status], ['GET', 'shop.example', '/shop/item', 'id=7&c=shoes', 'HTTP/1.1', 200]);
    assert.equal(get.client.ip, '127.0.0.1');
    assert.equal(get.user_agent, 'Mozilla/5.0 (é)');
    assert.equal(get.referer, 'https://shop.example/');
    assert.deepEqual(get.cookies, { sid: 'abc', theme: 'dark' });
    assert.deepEqual(
      get.headers.map((h) => h.name),
      ['Host', 'User-Agent', 'Accept', 'Referer', 'Cookie', 'Authorization', 'Connection'],
    );
    assert.equal(get.headers.find((h) => h.name === 'Authorization')?.value, undefined, 'secrets are not logged');
    assert.ok((get.response_size ?? 0) > 0 && get.duration_ms !== undefined && get.origin_ms !== undefined);
    assert.equal(post.body_size, 13);
    assert.equal(blocked.status, 403);
    assert.equal(blocked.origin_ms, undefined);
    // What the edge did: the action, the request id the origin saw, the rules that matched.
    assert.equal(get.edge?.action, 'pass');
    assert.equal(blocked.edge?.action, 'block');
    assert.match(get.edge?.request_id ?? '', /\S{8,}/);
    assert.notEqual(get.edge?.request_id, post.edge?.request_id);
    const seenAt = origin.seen.find((e) => e.url.startsWith('/shop/item'))?.rawHeaders ?? [];
    assert.equal(seenAt[seenAt.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'palisade-request-id') + 1], get.edge?.request_id, 'the id the origin was sent');
    assert.deepEqual([old.version, old.status], ['HTTP/1.0', 404]);
  });

  test('round trip: the log reader detects the palisade format and reads each record back as written', async () => {
    const back: HttpRequest[] = [];
    const info = await readAccessLog(file, (v) => {
      back.push(v.toHttpRequest());
    });
    assert.equal(info.format, 'palisade');
    assert.equal(info.malformed, 0);
    assert.deepEqual(back, lines);
  });

  test('palisade analyze edge.log', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'analyze', '--no-progress', file, '--json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /format palisade/);
    const a = JSON.parse(r.stdout) as { capture: { packets: number; format: string } };
    assert.equal(a.capture.format, 'access_log');
    assert.equal(a.capture.packets, 4);
  });
});
