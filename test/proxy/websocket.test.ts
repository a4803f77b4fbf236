/**
 * WebSocket through the edge: the handshake reaches the origin with the forwarding headers, the
 * 101 comes back, and frames flow both ways; a refused handshake does not open a pipe; the gate
 * can block a handshake.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Outcome } from '../../src/proxy/gate.js';
import type { Edge } from '../../src/proxy/server.js';
import { edgeFor, type Origin, raw, startOrigin, statuses } from './helpers.js';

/** A masked client text frame (RFC 6455 §5.2), payload under 126 bytes. */
function frame(text: string): Buffer {
  const p = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const out = Buffer.alloc(6 + p.length);
  out[0] = 0x81;
  out[1] = 0x80 | p.length;
  mask.copy(out, 2);
  for (let i = 0; i < p.length; i++) out[6 + i] = (p[i] as number) ^ (mask[i % 4] as number);
  return out;
}

const HANDSHAKE = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

describe('edge WebSocket', { timeout: 30_000 }, () => {
  let origin: Origin;
  let edge: Edge;
  const outcomes: Outcome[] = [];
  before(async () => {
    origin = await startOrigin();
    edge = await edgeFor(origin, {
      gate: {
        head: (r) => (r.view.header?.('x-block') ? { kind: 'respond', mitigated: 'block', status: 403 } : { kind: 'pass' }),
        done: (_r, o) => {
          outcomes.push(o);
        },
      },
    });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  test('handshake, 101, a frame echoed back, then close', async () => {
    const got = await new Promise<Buffer>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: edge.address().port });
      let buf = Buffer.alloc(0);
      const t = setTimeout(() => reject(new Error('timeout')), 5000);
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end > 0 && buf.length >= end + 4 + 11) {
          clearTimeout(t);
          s.end();
          resolve(buf);
        }
      });
      s.on('error', reject);
      s.write(HANDSHAKE('/chat'));
      setTimeout(() => s.write(frame('hello')), 100);
    });
    const text = got.toString('latin1');
    assert.deepEqual(statuses(text), [101]);
    const body = got.subarray(got.indexOf('\r\n\r\n') + 4);
    // The origin echoes our masked frame bytes as they came.
    assert.deepEqual(body, frame('hello'));
    const hs = origin.seen.at(-1);
    assert.equal(hs?.url, '/chat');
    const names = (hs?.rawHeaders ?? []).map((x) => x.toLowerCase());
    assert.ok(names.includes('x-forwarded-for') && names.includes('palisade-request-id'));
    assert.ok(names.includes('sec-websocket-key'));
    await new Promise((r) => setTimeout(r, 200));
    const o = outcomes.at(-1) as Outcome;
    assert.equal(o.status, 101);
    assert.equal(o.by, 'origin');
    assert.ok(o.bytesIn >= 11 && o.bytesOut > 0);
    assert.equal(edge.stats().upgrades, 1);
  });

  test('refused by the origin: its answer comes back and no pipe is opened', async () => {
    const r = await raw(edge.address().port, [HANDSHAKE('/ws-refuse'), 'GET /sneak HTTP/1.1\r\nHost: x\r\n\r\n'], { gapMs: 100, waitMs: 5000 });
    assert.deepEqual(statuses(r.text), [403]);
    assert.ok(!origin.seen.some((e) => e.url === '/sneak'));
  });

  test('blocked by the gate: 403 of our own, closed', async () => {
    const r = await raw(edge.address().port, HANDSHAKE('/chat', 'X-Block: 1\r\n'));
    assert.deepEqual(statuses(r.text), [403]);
    assert.match(r.text, /palisade-mitigated: block/i);
    assert.ok(r.closed);
  });

  test('origin down: 502 on the handshake', async () => {
    const dead = await edgeFor(['http://127.0.0.1:1']);
    try {
      const r = await raw(dead.address().port, HANDSHAKE('/chat'));
      assert.deepEqual(statuses(r.text), [502]);
    } finally {
      await dead.close();
    }
  });

  test('Upgrade: h2c (curl --http2 on http://) is answered as a plain request', async () => {
    const r = await raw(
      edge.address().port,
      'GET /plain HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
    );
    assert.deepEqual(statuses(r.text), [200]);
    assert.ok(r.closed);
    const e = origin.seen.at(-1);
    assert.equal(e?.url, '/plain');
    assert.ok(!(e?.rawHeaders ?? []).map((x) => x.toLowerCase()).includes('upgrade'));
    assert.ok(!(e?.rawHeaders ?? []).map((x) => x.toLowerCase()).includes('http2-settings'));
  });
});
