/**
 * PROXY protocol v1 and v2: the parser on the spec's examples, split input and garbage (fuzzed),
 * then end to end: the client address the phases and the origin see is the header's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseProxyHeader, proxyV1, proxyV2v4 } from '../../src/proxy/proxy-protocol.js';
import type { Edge } from '../../src/proxy/server.js';
import { prng } from '../helpers/prng.js';
import { echoOf, edgeFor, get, type Origin, raw, startOrigin, statuses } from './helpers.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('PROXY protocol parser', () => {
  test('v1 TCP4, TCP6 and UNKNOWN', () => {
    assert.deepEqual(parseProxyHeader(b('PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET')), {
      status: 'ok',
      length: 45,
      version: 1,
      src: '192.0.2.1',
      srcPort: 56324,
      dst: '198.51.100.2',
      dstPort: 443,
    });
    const v6 = parseProxyHeader(b('PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n'));
    assert.equal(v6.status === 'ok' && v6.src, '2001:db8::1');
    assert.deepEqual(parseProxyHeader(b('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n')), { status: 'ok', length: 35, version: 1 });
  });

  test('v1 refusals', () => {
    for (const bad of [
      'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n',
      'PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n',
      'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n',
      'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n',
      'GET / HTTP/1.1\r\n',
      `PROXY ${'x'.repeat(120)}`,
    ]) {
      assert.equal(parseProxyHeader(b(bad)).status, 'bad', bad);
    }
  });

  test('v2 PROXY over IPv4, with TLVs; LOCAL; split anywhere asks for more', () => {
    const h = proxyV2v4('203.0.113.7', '192.0.2.1', 40000, 443, Uint8Array.of(0x04, 0, 1, 0x42));
    const r = parseProxyHeader(Buffer.concat([h, b('GET / ')]));
    assert.deepEqual(r, { status: 'ok', length: h.length, version: 2, src: '203.0.113.7', dst: '192.0.2.1', srcPort: 40000, dstPort: 443 });
    for (let i = 0; i < h.length; i++) assert.equal(parseProxyHeader(h.subarray(0, i)).status, 'need', `prefix ${i}`);
    const local = Buffer.from(h);
    local[12] = 0x20;
    assert.deepEqual(parseProxyHeader(local), { status: 'ok', length: h.length, version: 2 });
    const badVersion = Buffer.from(h);
    badVersion[12] = 0x31;
    assert.equal(parseProxyHeader(badVersion).status, 'bad');
  });

  test('fuzz: 20,000 random and mutated inputs never throw, and ok never claims more bytes than given', () => {
    const rnd = prng(16);
    const seeds = [b(proxyV1('192.0.2.1', '192.0.2.2', 1, 2)), b(proxyV1('2001:db8::1', '2001:db8::2', 1, 2)), proxyV2v4('1.2.3.4', '5.6.7.8', 1, 2), b('PROXY UNKNOWN\r\n')];
    for (let i = 0; i < 20_000; i++) {
      let x: Buffer;
      if (rnd() < 0.3) {
        x = Buffer.alloc(Math.floor(rnd() * 120));
        for (let k = 0; k < x.length; k++) x[k] = Math.floor(rnd() * 256);
        if (rnd() < 0.5 && x.length > 0) x[0] = rnd() < 0.5 ? 0x50 : 0x0d;
      } else {
        x = Buffer.from(seeds[Math.floor(rnd() * seeds.length)] as Buffer);
        const edits = 1 + Math.floor(rnd() * 3);
        for (let k = 0; k < edits; k++) x[Math.floor(rnd() * x.length)] = Math.floor(rnd() * 256);
        if (rnd() < 0.3) x = x.subarray(0, Math.floor(rnd() * x.length));
      }
      const r = parseProxyHeader(x);
      if (r.status === 'ok') assert.ok(r.length <= x.length && r.length > 0);
    }
  });
});

describe('PROXY protocol on the edge', { timeout: 30_000 }, () => {
  let origin: Origin;
  let edge: Edge;
  const clients: string[] = [];
  before(async () => {
    origin = await startOrigin();
    edge = await edgeFor(origin, {
      proxyProtocol: true,
      gate: {
        head: (r) => {
          clients.push(`${r.clientIp} ${r.peerIp}`);
          return { kind: 'pass' };
        },
      },
    });
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  test('v1: the header’s source is the client; pipelined requests in the same packet keep their order', async () => {
    const req = 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const r = await raw(edge.address().port, proxyV1('198.51.100.7', '127.0.0.1', 5555, 80) + req);
    assert.deepEqual(statuses(r.text), [200, 200]);
    assert.deepEqual(
      [...r.text.matchAll(/"url":"(\/\w)"/g)].map((m) => m[1]),
      ['/a', '/b'],
    );
    assert.deepEqual(clients.slice(-2), ['198.51.100.7 127.0.0.1', '198.51.100.7 127.0.0.1']);
    assert.deepEqual(get(echoOf(r.text.slice(0, r.text.indexOf('HTTP/1.1 200', 10))), 'x-forwarded-for'), ['198.51.100.7']);
  });

  test('v2 split over two writes, the request after it', async () => {
    const h = proxyV2v4('203.0.113.50', '127.0.0.1', 40000, 80);
    const r = await raw(edge.address().port, [h.subarray(0, 10), Buffer.concat([h.subarray(10), b('GET /v2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')])], { gapMs: 50 });
    assert.deepEqual(statuses(r.text), [200]);
    assert.equal(clients.at(-1), '203.0.113.50 127.0.0.1');
  });

  test('no header, or a bad one: closed without an answer', async () => {
    const before = edge.stats().proxyProtocolBad;
    for (const bad of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'PROXY TCP4 1.2.3.4 nope 1 2\r\nGET / HTTP/1.1\r\n\r\n']) {
      const r = await raw(edge.address().port, bad);
      assert.equal(r.text, '');
      assert.ok(r.closed);
    }
    assert.equal(edge.stats().proxyProtocolBad, before + 2);
  });
});
