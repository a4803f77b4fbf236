/**
 * Slow and abusive clients (issue 16 item 7): slow request heads (slowloris) get 408 and are
 * closed while other clients are served; connections beyond the per-address cap are closed
 * (clients bound to different 127.x addresses); stalled and trickling bodies get 408.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import type { HttpRequest } from '../../src/model/http.js';
import { schemaErrors } from '../../src/model/validate.js';
import type { EdgeRequest, Gate, Outcome } from '../../src/proxy/gate.js';
import { edgeFor, type Origin, raw, startOrigin, statuses } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function open(port: number, localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves true when the server closes `s` within `ms`. */
function closedWithin(s: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
    s.resume();
  });
}

describe('edge limits', { timeout: 60_000 }, () => {
  let origin: Origin;
  before(async () => {
    origin = await startOrigin();
  });
  after(async () => {
    await origin.close();
  });

  test('slowloris: heads dribbling in get 408 and are closed; other clients are served meanwhile; each is logged and observed', async () => {
    const lines: HttpRequest[] = [];
    const logged = new PassThrough();
    logged.on('data', (d: Buffer) => {
      for (const l of d.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as HttpRequest);
    });
    const observed: Array<[EdgeRequest, Outcome]> = [];
    const gate: Gate = { head: () => ({ kind: 'pass' }), done: (req, out) => void observed.push([req, out]) };
    const edge = await edgeFor(origin, { headerTimeoutMs: 1500, accessLog: logged, gate });
    const port = edge.address().port;
    try {
      const head = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa\r\n';
      const slow = Array.from({ length: 8 }, (_, i) => raw(port, head.split(''), { gapMs: 150, waitMs: 10_000, localAddress: `127.0.9.${i + 1}` }));
      // Served while the slow ones hang on.
      for (let i = 0; i < 10; i++) {
        const r = await request(`${edge.url}/fast${i}`);
        assert.equal(r.statusCode, 200);
        await r.body.dump();
        await sleep(50);
      }
      for (const r of await Promise.all(slow)) {
        assert.deepEqual(statuses(r.text), [408]);
        assert.ok(r.closed);
      }
      assert.equal(edge.stats().headerTimeouts, 8);
      // as nginx logs `"-" 408`: a line per slow connection, and an exchange the gate observes
      // (what live L7 protection counts), with the request id the 408 carried
      await sleep(100);
      const refused = lines.filter((l) => l.status === 408);
      assert.equal(refused.length, 8, JSON.stringify(lines));
      assert.deepEqual(
        refused.map((l) => l.client.ip).sort(),
        Array.from({ length: 8 }, (_, i) => `127.0.9.${i + 1}`),
      );
      for (const l of refused) {
        assert.equal(l.method, '-');
        assert.equal(l.edge?.action, 'error');
        assert.equal(l.edge?.error, 'header_timeout');
        assert.ok((l.duration_ms ?? 0) >= 1000, `waited ${l.duration_ms} ms`);
        assert.equal(schemaErrors(l, 'http-request'), null, JSON.stringify(l));
      }
      assert.equal(lines.filter((l) => l.status === 200).length, 10);
      const seen = observed.filter(([, o]) => o.status === 408);
      assert.equal(seen.length, 8);
      for (const [req, o] of seen) {
        assert.equal(o.by, 'transport');
        assert.equal(req.view.method, '');
        assert.ok(refused.some((l) => l.edge?.request_id === req.id));
      }
    } finally {
      await edge.close();
    }
  });

  test('per-address connection cap: the fourth connection from 127.0.0.2 is closed, 127.0.0.3 is served', async () => {
    const edge = await edgeFor(origin, { maxConnsPerIp: 3 });
    const port = edge.address().port;
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 3; i++) held.push(await open(port, '127.0.0.2'));
      const extra = await open(port, '127.0.0.2');
      assert.ok(await closedWithin(extra, 3000), 'over the cap: closed');
      const other = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { localAddress: '127.0.0.3' });
      assert.deepEqual(statuses(other.text), [200]);
      // The held ones still work.
      const r = await new Promise<string>((resolve) => {
        const s = held[0] as Socket;
        let got = '';
        s.on('data', (d) => {
          got += d.toString('latin1');
          if (got.includes('\r\n0\r\n\r\n') || got.includes('}')) resolve(got);
        });
        s.write('GET /held HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      assert.deepEqual(statuses(r), [200]);
      // Closing one frees a place.
      (held.pop() as Socket).destroy();
      await sleep(200);
      const again = await raw(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { localAddress: '127.0.0.2' });
      assert.deepEqual(statuses(again.text), [200]);
      assert.equal(edge.stats().connLimited, 1);
    } finally {
      for (const s of held) s.destroy();
      await edge.close();
    }
  });

  test('a stalled request body gets 408 and the connection closed; the origin request is abandoned', async () => {
    const edge = await edgeFor(origin, { bodyTimeoutMs: 800 });
    try {
      const seen = origin.seen.length;
      const r = await raw(edge.address().port, 'POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789', { waitMs: 5000 });
      assert.deepEqual(statuses(r.text), [408]);
      assert.ok(r.closed);
      assert.equal(origin.seen.length, seen, 'the origin never got a whole request');
      assert.equal(edge.stats().slowBodies, 1);
    } finally {
      await edge.close();
    }
  });

  test('a body below the minimum rate after the grace period gets 408', async () => {
    const edge = await edgeFor(origin, { minBodyRate: 1000, bodyGraceMs: 600 });
    try {
      const pieces = ['POST /trickle HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n', ...Array.from({ length: 60 }, () => 'x')];
      const r = await raw(edge.address().port, pieces, { gapMs: 100, waitMs: 8000 });
      assert.deepEqual(statuses(r.text), [408]);
      assert.ok(r.closed);
      assert.equal(edge.stats().slowBodies, 1);
    } finally {
      await edge.close();
    }
  });
});
