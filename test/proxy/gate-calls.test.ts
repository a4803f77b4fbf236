/**
 * The transport's side of gate.ts: the order of calls, what a request looks like to the phases
 * (EdgeRequest, its HttpRequestView), answers of our own (palisade-mitigated, Retry-After), the
 * NeedBody path, and a gate that fails.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import type { EdgeRequest, Gate, Outcome } from '../../src/proxy/gate.js';
import type { Edge } from '../../src/proxy/server.js';
import { type Echo, echoOf, edgeFor, get, headerOf, type Origin, raw, startOrigin, statuses } from './helpers.js';

interface Call {
  what: string;
  req: EdgeRequest;
  extra?: unknown;
}

describe('edge gate calls', { timeout: 30_000 }, () => {
  let origin: Origin;
  let edge: Edge;
  const calls: Call[] = [];
  const gate: Gate = {
    head(req) {
      calls.push({ what: 'head', req });
      const v = req.view;
      const mode = v.header?.('x-mode');
      if (mode === 'block') return { kind: 'respond', mitigated: 'block', status: 403 };
      if (mode === 'limit') return { kind: 'respond', mitigated: 'rate_limit', status: 429, headers: [['Retry-After', '7']], body: 'slow down\n' };
      if (mode === 'body') return { kind: 'body', bodyLimit: 10 };
      if (mode === 'throw') throw new Error('phase bug');
      if (mode === 'reject') return Promise.reject(new Error('async phase bug'));
      if (mode === 'badheader') return { kind: 'respond', mitigated: 'block', status: 403, headers: [['x-bad', 'a\r\nb']] };
      if (mode === 'badpass') return Promise.resolve({ kind: 'pass', headers: [['x-bad', 'a\r\nb']] });
      if (mode === 'async') return new Promise((r) => setTimeout(() => r({ kind: 'pass', headers: [['x-challenge-state', 'ok']] }), 20));
      return { kind: 'pass' };
    },
    body(req, bytes, truncated) {
      calls.push({ what: 'body', req, extra: { text: Buffer.from(bytes).toString('latin1'), truncated, size: req.view.bodySize } });
      if (Buffer.from(bytes).includes('attack')) return { kind: 'respond', mitigated: 'waf', status: 403 };
      return { kind: 'pass' };
    },
    response(req, status) {
      calls.push({ what: 'response', req, extra: status });
    },
    done(req, outcome) {
      calls.push({ what: 'done', req, extra: outcome });
    },
  };
  const callsFor = (id: string) => calls.filter((c) => c.req.id === id);

  before(async () => {
    origin = await startOrigin();
    edge = await edgeFor(origin, { gate, clock: { nowMs: () => 1_800_000_000_000 } });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  test('pass: head → response → done; the view as the scheme reads it', async () => {
    const r = await raw(edge.address().port, 'GET /p/a.php?x=1&y=2 HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: UA/1\r\nAccept: */*\r\nConnection: close\r\n\r\n');
    assert.deepEqual(statuses(r.text), [200]);
    const id = get(echoOf(r.text), 'palisade-request-id')[0] as string;
    const cs = callsFor(id);
    assert.deepEqual(
      cs.map((c) => c.what),
      ['head', 'response', 'done'],
    );
    const req = (cs[0] as Call).req;
    const v = req.view;
    assert.equal(v.method, 'GET');
    assert.equal(v.target, '/p/a.php?x=1&y=2');
    assert.equal(v.host, 'shop.example');
    assert.equal(v.version, 'HTTP/1.1');
    assert.equal(v.clientIp, '127.0.0.1');
    assert.equal(v.ssl, false);
    assert.equal(v.timestampMs, 1_800_000_000_000);
    assert.equal(v.serverPort, edge.address().port);
    assert.deepEqual(v.headers, [
      ['Host', 'shop.example'],
      ['User-Agent', 'UA/1'],
      ['Accept', '*/*'],
      ['Connection', 'close'],
    ]);
    assert.deepEqual(req.headerOrder, ['host', 'user-agent', 'accept', 'connection']);
    assert.equal(req.clientIp, '127.0.0.1');
    assert.equal(req.peerIp, '127.0.0.1');
    assert.equal((cs[1] as Call).extra, 200);
    const out = (cs[2] as Call).extra as Outcome;
    assert.equal(out.status, 200);
    assert.equal(out.by, 'origin');
    assert.ok(out.bytesOut > 0 && out.originMs !== undefined && out.durationMs >= out.originMs);
  });

  test('block: 403 of our own with palisade-mitigated and the request id; origin not asked', async () => {
    const seen = origin.seen.length;
    const r = await raw(edge.address().port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Mode: block\r\nConnection: close\r\n\r\n');
    assert.deepEqual(statuses(r.text), [403]);
    assert.equal(headerOf(r.text, 'palisade-mitigated'), 'block');
    const id = headerOf(r.text, 'palisade-request-id') as string;
    assert.ok(id.length > 0);
    assert.equal(origin.seen.length, seen);
    const out = callsFor(id).find((c) => c.what === 'done')?.extra as Outcome;
    assert.deepEqual([out.status, out.by, out.mitigated], [403, 'phase', 'block']);
    assert.equal(
      callsFor(id).some((c) => c.what === 'response'),
      false,
    );
  });

  test('rate limit: 429 with the gate’s Retry-After and body', async () => {
    const res = await request(`${edge.url}/`, { headers: { 'x-mode': 'limit' } });
    assert.equal(res.statusCode, 429);
    assert.equal(res.headers['retry-after'], '7');
    assert.equal(res.headers['palisade-mitigated'], 'rate_limit');
    assert.equal(await res.body.text(), 'slow down\n');
  });

  test('pass with headers: the origin gets them; an async gate works alike', async () => {
    const res = await request(`${edge.url}/`, { headers: { 'x-mode': 'async' } });
    const e = (await res.body.json()) as Echo;
    assert.deepEqual(get(e, 'x-challenge-state'), ['ok']);
  });

  test('NeedBody: the gate sees the first bodyLimit bytes, the origin the whole body', async () => {
    const body = 'hello world and more';
    const res = await request(`${edge.url}/form`, { method: 'POST', body, headers: { 'x-mode': 'body' } });
    const e = (await res.body.json()) as Echo;
    assert.equal(e.body, body);
    const id = get(e, 'palisade-request-id')[0] as string;
    const b = callsFor(id).find((c) => c.what === 'body')?.extra as { text: string; truncated: boolean; size: number };
    assert.deepEqual(b, { text: 'hello worl', truncated: true, size: body.length });
    const done = callsFor(id).find((c) => c.what === 'done')?.extra as Outcome;
    assert.equal(done.bytesIn, body.length);
  });

  test('NeedBody: a chunked body with 100-continue, blocked on its content; the connection is closed', async () => {
    const seen = origin.seen.length;
    const r = await raw(
      edge.address().port,
      ['POST /f HTTP/1.1\r\nHost: x\r\nX-Mode: body\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n', '6\r\nattack\r\n', '10\r\n0123456789abcdef\r\n0\r\n\r\n'],
      { gapMs: 100 },
    );
    assert.deepEqual(statuses(r.text), [100, 403]);
    assert.equal(headerOf(r.text.slice(r.text.indexOf('HTTP/1.1 403')), 'palisade-mitigated'), 'waf');
    assert.equal(origin.seen.length, seen);
  });

  test('NeedBody on a request without a body: body() gets no bytes', async () => {
    const res = await request(`${edge.url}/nobody`, { headers: { 'x-mode': 'body' } });
    const e = (await res.body.json()) as Echo;
    const id = get(e, 'palisade-request-id')[0] as string;
    assert.deepEqual(callsFor(id).find((c) => c.what === 'body')?.extra, { text: '', truncated: false, size: undefined });
  });

  test('a gate that throws or rejects: 500 for that request, the edge carries on', async () => {
    for (const mode of ['throw', 'reject']) {
      const res = await request(`${edge.url}/`, { headers: { 'x-mode': mode } });
      assert.equal(res.statusCode, 500);
      assert.equal(res.headers['palisade-mitigated'], undefined);
      await res.body.dump();
    }
    assert.equal(edge.stats().gateErrors, 2);
    const ok = await request(`${edge.url}/`);
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  });

  test('a verdict with a header value node refuses: the request fails, not the process', async () => {
    const r = await request(`${edge.url}/`, { headers: { 'x-mode': 'badheader' } });
    assert.equal(r.statusCode, 403);
    assert.equal(r.headers['x-bad'], undefined);
    assert.equal(r.headers['palisade-mitigated'], 'block');
    await r.body.dump();
    const p = await request(`${edge.url}/`, { headers: { 'x-mode': 'badpass' } });
    assert.ok(p.statusCode >= 400, String(p.statusCode));
    await p.body.dump();
    const ok = await request(`${edge.url}/`);
    assert.equal(ok.statusCode, 200);
    await ok.body.dump();
  });

  test('a blocked request with an unread body closes the connection: its body is never read as a request', async () => {
    const seen = origin.seen.length;
    const r = await raw(edge.address().port, 'POST / HTTP/1.1\r\nHost: x\r\nX-Mode: block\r\nContent-Length: 40\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.deepEqual(statuses(r.text), [403]);
    assert.ok(r.closed);
    assert.equal(origin.seen.length, seen);
  });

  test('transport answers reach done() too (502 from a dead origin)', async () => {
    const dead = await edgeFor(['http://127.0.0.1:1'], { gate });
    try {
      const r = await raw(dead.address().port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.deepEqual(statuses(r.text), [502]);
      const id = headerOf(r.text, 'palisade-request-id') as string;
      const out = callsFor(id).find((c) => c.what === 'done')?.extra as Outcome;
      assert.deepEqual([out.status, out.by, out.error], [502, 'transport', 'origin_unreachable']);
    } finally {
      await dead.close();
    }
  });
});
