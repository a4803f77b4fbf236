/**
 * Bad input against the edge with raw sockets: every case's answer is what node:http's parser
 * (llhttp) answered when the edge ran on it, kept by the edge's own HTTP/1.1 parser (h1-head.ts,
 * h1-conn.ts: `parser` below), plus the edge's head checks (framing.ts: `edge`). Each must end in a clean
 * 400/413/431 or a closed connection, with nothing forwarded to the origin, and the edge keeps
 * serving. Then mutated requests (fuzz) against the live edge and against checkHead alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkHead, type HeadFacts } from '../../src/proxy/framing.js';
import type { Edge } from '../../src/proxy/server.js';
import { TrustedProxies } from '../../src/proxy/trusted.js';
import { prng } from '../helpers/prng.js';
import { edgeFor, type Origin, raw, startOrigin, statuses } from './helpers.js';

const H = 'Host: x\r\n';
const CHUNK_1K = `400\r\n${'a'.repeat(1024)}\r\n`;

/** name, request bytes, expected statuses ([] = closed without an answer), who refuses it. */
const CASES: Array<[string, string, number[], 'parser' | 'edge']> = [
  ['Content-Length and Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, [400], 'parser'],
  ['two differing Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, [400], 'parser'],
  ['two equal Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, [400], 'parser'],
  ['Content-Length list', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`, [400], 'parser'],
  ['Content-Length with a sign', `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`, [400], 'parser'],
  ['Transfer-Encoding gzip, chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, [400], 'edge'],
  ['Transfer-Encoding gzip alone', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`, [400], 'parser'],
  ['two Transfer-Encoding lines', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, [400], 'edge'],
  ['Transfer-Encoding chunked, chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`, [400], 'edge'],
  ['Transfer-Encoding xchunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`, [400], 'parser'],
  ['Transfer-Encoding on HTTP/1.0', `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, [400], 'edge'],
  ['space before the colon', `POST / HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`, [400], 'parser'],
  ['obs-fold continuation line', `GET / HTTP/1.1\r\n${H}X-A: 1\r\n  continued\r\n\r\n`, [400], 'parser'],
  ['bare LF line ends', 'GET / HTTP/1.1\nHost: x\n\n', [400], 'parser'],
  ['bare LF after a header', 'GET / HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n', [400], 'parser'],
  ['bare CR in a value', `GET / HTTP/1.1\r\n${H}X-A: 1\r2\r\n\r\n`, [400], 'parser'],
  ['NUL in a value', `GET / HTTP/1.1\r\n${H}X-A: 1\x002\r\n\r\n`, [400], 'parser'],
  ['invalid chunk size', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, [400], 'parser'],
  ['chunk size overflow', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nhello\r\n0\r\n\r\n`, [400], 'parser'],
  ['chunk lines ended by bare LF', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n`, [400], 'parser'],
  ['HTTP/0.9 request line', 'GET /\r\n\r\n', [400], 'edge'],
  ['not a request line', 'GARBAGE\r\n\r\n', [400], 'parser'],
  ['unknown version', `GET / HTTP/9.9\r\n${H}\r\n`, [400], 'parser'],
  ['TLS bytes on the plain port', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', [400], 'parser'],
  ['space in the target', `GET /a b HTTP/1.1\r\n${H}\r\n`, [400], 'parser'],
  ['control byte in the target', `GET /a\x01b HTTP/1.1\r\n${H}\r\n`, [400], 'parser'],
  ['asterisk form', `OPTIONS * HTTP/1.1\r\n${H}\r\n`, [400], 'edge'],
  ['no Host on HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', [400], 'parser'],
  ['two Host lines', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', [400], 'edge'],
  ['CONNECT', `CONNECT x:443 HTTP/1.1\r\n${H}\r\n`, [], 'parser'],
  ['announced body over --max-body-bytes', `POST / HTTP/1.1\r\n${H}Content-Length: 5000\r\n\r\n`, [413], 'edge'],
  ['chunked body over --max-body-bytes', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${CHUNK_1K}${CHUNK_1K}0\r\n\r\n`, [413], 'edge'],
  ['head over --max-header-bytes', `GET / HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, [431], 'parser'],
  ['more header lines than --max-header-count', `GET / HTTP/1.1\r\n${H}${Array.from({ length: 150 }, (_, i) => `X-${i}: 1\r\n`).join('')}\r\n`, [431], 'edge'],
];

describe('edge framing', { timeout: 120_000 }, () => {
  let origin: Origin;
  let edge: Edge;
  let port: number;
  before(async () => {
    origin = await startOrigin();
    edge = await edgeFor(origin, { maxBodyBytes: 1000 });
    port = edge.address().port;
  });
  after(async () => {
    await edge.close();
    await origin.close();
  });

  for (const [name, bytes, want, by] of CASES) {
    test(`${name}: ${want.length === 0 ? 'closed' : want.join(',')} (${by}), nothing forwarded`, async () => {
      const seen = origin.seen.length;
      const r = await raw(port, bytes, { waitMs: 2000 });
      assert.deepEqual(statuses(r.text), want);
      assert.ok(r.closed, 'the connection is closed after a framing error');
      assert.equal(origin.seen.length, seen, 'the origin got nothing');
    });
  }

  test('answers of the parser carry a request id too', async () => {
    const r = await raw(port, 'GARBAGE\r\n\r\n');
    assert.match(r.text, /^palisade-request-id: [0-9a-f]{12}-[0-9a-z]+$/m);
  });

  test('Transfer-Encoding in capitals and chunk extensions are fine', async () => {
    const r = await raw(port, `POST / HTTP/1.1\r\n${H}Transfer-Encoding: CHUNKED\r\nConnection: close\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n`);
    assert.deepEqual(statuses(r.text), [200]);
    assert.equal(origin.seen.at(-1)?.body, 'hello');
  });

  test('a request after Content-Length: 0 is a second request, each checked and forwarded on its own', async () => {
    const seen = origin.seen.length;
    const r = await raw(port, `GET /one HTTP/1.1\r\n${H}Content-Length: 0\r\n\r\nGET /two HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    assert.deepEqual(statuses(r.text), [200, 200]);
    assert.deepEqual(
      origin.seen.slice(seen).map((e) => e.url),
      ['/one', '/two'],
    );
  });

  test('the edge still serves after all of the above', async () => {
    const r = await raw(port, `GET /alive HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    assert.deepEqual(statuses(r.text), [200]);
    const s = edge.stats();
    assert.ok(s.badRequests >= 25 && s.tooLarge >= 2 && s.headersTooLarge >= 2, JSON.stringify(s));
  });

  test('fuzz: 400 mutated requests on live sockets — an answer or a close, never a hang or a crash', async () => {
    const rnd = prng(16);
    const seeds = CASES.map((c) => c[1]).concat([`GET /ok HTTP/1.1\r\n${H}\r\n`, `POST /p HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`]);
    const ALPHABET = ['\r', '\n', ' ', ':', ',', '0', 'f', '\x00', '\t', 'chunked', 'Content-Length: 3\r\n', 'Transfer-Encoding: chunked\r\n', '\r\n\r\n', 'HTTP/1.1'];
    const batch: Array<Promise<void>> = [];
    for (let i = 0; i < 400; i++) {
      let s = seeds[Math.floor(rnd() * seeds.length)] as string;
      const edits = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(rnd() * (s.length + 1));
        const op = rnd();
        if (op < 0.4) s = s.slice(0, at) + (ALPHABET[Math.floor(rnd() * ALPHABET.length)] as string) + s.slice(at);
        else if (op < 0.7) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 4));
        else s = s.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 256)) + s.slice(at + 1);
      }
      batch.push(
        raw(port, Buffer.from(s, 'latin1'), { waitMs: 1500 }).then((r) => {
          for (const st of statuses(r.text)) assert.ok([100, 200, 400, 408, 413, 431, 502].includes(st), `status ${st} for ${JSON.stringify(s)}`);
        }),
      );
      if (batch.length === 40) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
    const r = await raw(port, `GET /alive HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    assert.deepEqual(statuses(r.text), [200]);
  });

  test('fuzz: checkHead on 20,000 random header lists never throws and answers only 0/400/413/431', () => {
    const rnd = prng(7);
    const NAMES = [
      'Host',
      'host',
      'Content-Length',
      'content-length',
      'Transfer-Encoding',
      'transfer-encoding',
      'Connection',
      'X-Forwarded-For',
      'Expect',
      'Upgrade',
      'palisade-request-id',
      'X-A',
      '',
    ];
    const VALUES = ['chunked', 'CHUNKED', ' chunked ', 'gzip, chunked', '5', '-1', '99999999999999999999', '1e3', '', 'close, x-a', '100-continue', 'websocket', '1.2.3.4'];
    for (let i = 0; i < 20_000; i++) {
      const n = Math.floor(rnd() * 8);
      const rawH: string[] = [];
      for (let k = 0; k < n; k++) rawH.push(NAMES[Math.floor(rnd() * NAMES.length)] as string, VALUES[Math.floor(rnd() * VALUES.length)] as string);
      const f: HeadFacts = {
        host: undefined,
        contentLength: -1,
        chunked: false,
        connectionTokens: null,
        xff: undefined,
        xfProto: undefined,
        incomingId: undefined,
        upgrade: undefined,
        expectContinue: false,
      };
      const st = checkHead(rawH, rnd() < 0.2, { maxHeaderCount: 6, maxBodyBytes: 1000 }, f);
      assert.ok([0, 400, 413, 431].includes(st));
      if (st === 0) assert.ok(!(f.chunked && f.contentLength >= 0), 'never both framings');
    }
  });

  test('fuzz: X-Forwarded-For walking on 20,000 random lists never throws and answers the peer or an address from the list', () => {
    const rnd = prng(11);
    const t = new TrustedProxies(['10.0.0.0/8', '127.0.0.1', '2001:db8::/32']);
    const HOPS = ['10.1.2.3', '203.0.113.5', '2001:db8::1', '[2001:db8::2]:443', '198.51.100.1:80', 'unknown', '', ' ', '1.2.3', '::ffff:10.0.0.1', '999.1.1.1', '"x"', ',,'];
    for (let i = 0; i < 20_000; i++) {
      const n = Math.floor(rnd() * 6);
      const parts: string[] = [];
      for (let k = 0; k < n; k++) parts.push(HOPS[Math.floor(rnd() * HOPS.length)] as string);
      const xff = parts.join(rnd() < 0.5 ? ',' : ', ');
      const peer = rnd() < 0.7 ? '127.0.0.1' : '192.0.2.9';
      const c = t.clientFrom(peer, xff);
      assert.ok(c === peer || xff.includes(c.replace(/^::ffff:/, '')), `${peer} ${JSON.stringify(xff)} -> ${c}`);
      if (peer === '192.0.2.9') assert.equal(c, peer, 'an untrusted peer’s list is never read');
    }
  });
});
