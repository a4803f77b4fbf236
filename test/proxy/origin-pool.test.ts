/**
 * The edge's own HTTP/1.1 client to the origin (src/proxy/origin-pool.ts, origin-response.ts),
 * against origins on raw sockets that answer byte for byte as scripted: every framing (length,
 * chunked with extensions and trailers, until close, none), responses cut anywhere, heads a proxy
 * must refuse (smuggling shapes, obs-fold, control characters, too large), interim 1xx answers,
 * keep-alive reuse and a keep-alive connection the origin closed as we wrote, timeouts, backpressure,
 * request bodies (chunked and under Content-Length), and a fuzz of the response parser.
 */
import assert from 'node:assert/strict';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { type OriginHandler, OriginPool, type OriginPoolOptions, type OriginRequest } from '../../src/proxy/origin-pool.js';
import { BadResponse, ChunkedDecoder, headEnd, parseHead } from '../../src/proxy/origin-response.js';
import { Rng } from './live-driver.js';

const OPTS: OriginPoolOptions = { connectTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 1000, keepAliveTimeoutMs: 4000, connections: null };

interface Seen {
  /** Every request's bytes, per connection, in arrival order. */
  conns: string[];
  sockets: Socket[];
}

/** An origin that answers the n-th request it reads (any connection) with `answers(n, head)`. */
async function scripted(answer: (n: number, req: string, s: Socket) => void): Promise<{ port: number; seen: Seen; close(): Promise<void> }> {
  const seen: Seen = { conns: [], sockets: [] };
  let n = 0;
  const server: Server = net.createServer((s) => {
    const k = seen.conns.push('') - 1;
    seen.sockets.push(s);
    let buf = '';
    s.on('data', (d) => {
      seen.conns[k] += d.toString('latin1');
      buf += d.toString('latin1');
      for (;;) {
        const e = buf.indexOf('\r\n\r\n');
        if (e < 0) return;
        const head = buf.slice(0, e + 4);
        // Bodies: the tests that send one consume it themselves from seen.conns.
        buf = '';
        answer(n++, head, s);
        if (buf === '') return;
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of seen.sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

interface Got {
  status: number;
  headers: string[];
  body: Buffer;
  error: (Error & { code?: string }) | null;
}

/** One request through `pool`; resolves with what the handler heard. */
function fetchVia(pool: OriginPool, req: Partial<OriginRequest> = {}, opts: { pauseFirst?: number } = {}): Promise<Got> {
  return new Promise((resolve) => {
    const got: Got = { status: 0, headers: [], body: Buffer.alloc(0), error: null };
    const parts: Buffer[] = [];
    let resume: (() => void) | null = null;
    const h: OriginHandler = {
      onConnect() {},
      onHeaders(status, headers, r) {
        got.status = status;
        got.headers = headers;
        resume = r;
        return true;
      },
      onData(chunk) {
        parts.push(Buffer.from(chunk));
        if (opts.pauseFirst !== undefined && parts.length === 1) {
          setTimeout(() => resume?.(), opts.pauseFirst);
          return false;
        }
        return true;
      },
      onComplete() {
        got.body = Buffer.concat(parts);
        resolve(got);
      },
      onError(err) {
        got.body = Buffer.concat(parts);
        got.error = err;
        resolve(got);
      },
    };
    pool.dispatch({ method: 'GET', path: '/', headers: ['host', 'o.test'], body: null, ...req }, h);
  });
}

const pools: OriginPool[] = [];
function poolFor(port: number, o: Partial<OriginPoolOptions> = {}): OriginPool {
  const p = new OriginPool('127.0.0.1', port, false, { ...OPTS, ...o });
  pools.push(p);
  return p;
}
after(async () => {
  await Promise.all(pools.map((p) => p.destroy()));
});

describe('origin pool: framing', () => {
  test('Content-Length, chunked (extensions, trailers, split anywhere), until close, HEAD and 204/304', async () => {
    const bodies = [
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n',
      'HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n',
      'HTTP/1.1 304 Not Modified\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n', // to HEAD: no body follows
      'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
    ];
    const o = await scripted((n, _req, s) => {
      const text = bodies[n] as string;
      // byte by byte for the chunked one: every state of the decoder split from the next
      if (n === 1) {
        let i = 0;
        const tick = (): void => {
          if (i < text.length) s.write(text[i++] as string, 'latin1', () => setImmediate(tick));
        };
        tick();
      } else s.write(text, 'latin1');
    });
    try {
      const p = poolFor(o.port);
      const a = await fetchVia(p);
      assert.equal(a.status, 200);
      assert.equal(a.body.toString(), 'hello');
      assert.deepEqual(a.headers, ['Content-Length', '5', 'X-A', '1']);
      const b = await fetchVia(p);
      assert.equal(b.error, null);
      assert.equal(b.body.toString(), 'hello world');
      assert.equal((await fetchVia(p)).status, 204);
      assert.equal((await fetchVia(p)).status, 304);
      const head = await fetchVia(p, { method: 'HEAD' });
      assert.deepEqual([head.status, head.body.length], [200, 0]);
      const empty = await fetchVia(p);
      assert.deepEqual([empty.status, empty.body.length, empty.error], [200, 0, null]);
      assert.equal(o.seen.conns.length, 1, 'all six on one keep-alive connection');
    } finally {
      await o.close();
    }
  });

  test('a body until close (no length, HTTP/1.0): all of it, and the connection is not reused', async () => {
    const o = await scripted((n, _req, s) => {
      s.end(n === 0 ? 'HTTP/1.0 200 OK\r\n\r\nuntil the end' : 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw bytes');
    });
    try {
      const p = poolFor(o.port);
      const a = await fetchVia(p);
      assert.deepEqual([a.status, a.body.toString(), a.error], [200, 'until the end', null]);
      const b = await fetchVia(p);
      assert.deepEqual([b.status, b.body.toString(), b.error], [200, 'raw bytes', null]);
      assert.equal(o.seen.conns.length, 2);
    } finally {
      await o.close();
    }
  });

  test('100 Continue and 103 Early Hints are skipped; the final answer is passed on', async () => {
    const o = await scripted((_n, _req, s) => {
      s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok');
    });
    try {
      const a = await fetchVia(poolFor(o.port));
      assert.deepEqual([a.status, a.body.toString()], [201, 'ok']);
    } finally {
      await o.close();
    }
  });

  test('heads a proxy must not pass on: an error, never a guess', async () => {
    const bad = [
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      'HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello',
      'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX A: 1\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip, chunked\r\n\r\n0\r\n\r\n',
      'HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n',
      `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20_000)}\r\nContent-Length: 0\r\n\r\n`,
    ];
    const o = await scripted((n, _req, s) => s.write(bad[n] as string, 'latin1'));
    try {
      const p = poolFor(o.port);
      for (const [i, text] of bad.entries()) {
        const a = await fetchVia(p);
        assert.ok(a.error !== null, `refused: ${JSON.stringify(text.slice(0, 60))} (got ${a.status})`);
        assert.ok(['ORIGIN_BAD_RESPONSE', 'ORIGIN_HEADERS_OVERFLOW'].includes(a.error.code ?? ''), `${i}: ${a.error.code}`);
      }
      // each broken answer cost its connection; none was reused
      assert.equal(o.seen.conns.length, bad.length);
    } finally {
      await o.close();
    }
  });

  test('an answer cut short is an error, not a shorter body', async () => {
    const cut = ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel', 'HTTP/1.1 200 OK\r\nContent-Le'];
    const o = await scripted((n, _req, s) => s.end(cut[n] as string));
    try {
      const p = poolFor(o.port);
      for (let i = 0; i < cut.length; i++) {
        const a = await fetchVia(p);
        assert.equal(a.error?.code, 'ORIGIN_CLOSED', `answer ${i}`);
      }
    } finally {
      await o.close();
    }
  });
});

describe('origin pool: connections', () => {
  test('a keep-alive connection the origin closed as we wrote: the request is sent again on a new one', async () => {
    const o = await scripted((n, _req, s) => {
      if (n === 1)
        s.destroy(); // the second request dies on the reused connection, unanswered
      else s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    try {
      const p = poolFor(o.port);
      assert.equal((await fetchVia(p)).status, 200);
      const b = await fetchVia(p);
      assert.deepEqual([b.status, b.error], [200, null]);
      assert.equal(o.seen.conns.length, 2);
    } finally {
      await o.close();
    }
  });

  test('the same on a new connection is an error (nothing to blame on keep-alive)', async () => {
    const o = await scripted((_n, _req, s) => s.destroy());
    try {
      const a = await fetchVia(poolFor(o.port));
      assert.equal(a.error?.code, 'ORIGIN_CLOSED');
      assert.equal(o.seen.conns.length, 1, 'not retried');
    } finally {
      await o.close();
    }
  });

  test('timeouts: no head in time, a body that stops, a connection refused', async () => {
    const o = await scripted((n, _req, s) => {
      if (n === 1) s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel');
    });
    try {
      const p = poolFor(o.port, { headersTimeoutMs: 300, bodyTimeoutMs: 300 });
      const t0 = performance.now();
      const a = await fetchVia(p);
      assert.equal(a.error?.code, 'ORIGIN_HEADERS_TIMEOUT');
      assert.ok(performance.now() - t0 >= 290);
      const b = await fetchVia(p);
      assert.equal(b.status, 200);
      assert.equal(b.error?.code, 'ORIGIN_BODY_TIMEOUT');
      assert.equal(b.body.toString(), 'hel');
    } finally {
      await o.close();
    }
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const c = await fetchVia(poolFor(port));
    assert.equal(c.error?.code, 'ECONNREFUSED');
  });

  test('a paused reader is not a stalled origin; the body waits for resume', async () => {
    const big = Buffer.alloc(4 << 20, 'x');
    const o = await scripted((_n, _req, s) => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`);
      s.write(big);
    });
    try {
      const a = await fetchVia(poolFor(o.port, { bodyTimeoutMs: 300 }), {}, { pauseFirst: 800 });
      assert.equal(a.error, null);
      assert.equal(a.body.length, big.length);
    } finally {
      await o.close();
    }
  });

  test('connections capped: requests beyond wait for a free one', async () => {
    const o = await scripted((_n, _req, s) => setTimeout(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 50));
    try {
      const p = poolFor(o.port, { connections: 2 });
      const all = await Promise.all(Array.from({ length: 8 }, () => fetchVia(p)));
      assert.deepEqual(
        all.map((g) => g.status),
        Array(8).fill(200),
      );
      assert.equal(o.seen.conns.length, 2);
    } finally {
      await o.close();
    }
  });

  test('request bodies: chunked without a length, as is under Content-Length; a body longer than its length is refused', async () => {
    const o = await scripted((_n, _req, s) => setTimeout(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 30));
    async function* parts(...xs: string[]): AsyncGenerator<Buffer> {
      for (const x of xs) yield Buffer.from(x);
    }
    try {
      const p = poolFor(o.port);
      const a = await fetchVia(p, { method: 'POST', body: parts('ab', 'cde') });
      assert.equal(a.status, 200);
      assert.match(o.seen.conns[0] as string, /\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n$/);
      const b = await fetchVia(p, { method: 'POST', headers: ['host', 'o.test', 'content-length', '5'], body: parts('ab', 'cde') });
      assert.equal(b.status, 200);
      assert.match(o.seen.conns[0] as string, /\r\ncontent-length: 5\r\n\r\nabcde$/);
      const c = await fetchVia(p, { method: 'POST', headers: ['host', 'o.test', 'content-length', '3'], body: parts('ab', 'cde') });
      assert.equal(c.error?.code, 'BODY_LENGTH_MISMATCH');
      const d = await fetchVia(p, { method: 'POST', headers: ['host', 'o.test', 'content-length', '3x'], body: parts('abc') });
      assert.equal(d.error?.code, 'BODY_LENGTH_MISMATCH', 'a length that is not one is never sent');
    } finally {
      await o.close();
    }
  });

  test('no Host from the client (HTTP/1.0): the origin’s authority is sent', async () => {
    const o = await scripted((_n, _req, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    try {
      await fetchVia(poolFor(o.port), { headers: [] });
      assert.match(o.seen.conns[0] as string, new RegExp(`^GET / HTTP/1.1\\r\\nhost: 127.0.0.1:${o.port}\\r\\n\\r\\n$`));
    } finally {
      await o.close();
    }
  });
});

describe('origin response parser', () => {
  test('heads: status, trimmed values in order, keep-alive and its hint', () => {
    const h = parseHead('HTTP/1.1 200 OK\r\nA:  x \r\nConnection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 3\r\n\r\n', false);
    assert.deepEqual([h.status, h.headers.slice(0, 2), h.keepAlive, h.keepAliveMs, h.length], [200, ['A', 'x'], true, 5000, 3]);
    assert.equal(parseHead('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', false).keepAlive, false);
    assert.equal(parseHead('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', false).keepAlive, false);
    assert.equal(parseHead('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n', false).keepAlive, true);
    assert.equal(parseHead('HTTP/1.1 200\nContent-Length: 0\n\n', false).status, 200, 'bare LF line ends');
    assert.equal(headEnd(Buffer.from('HTTP/1.1 200 OK\r\n\r\nbody\n\n')), 19);
  });

  test('fuzz: random and mutated heads and chunked bodies throw BadResponse or parse, nothing else', () => {
    const rng = new Rng(7);
    const seeds = ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\nKeep-Alive: timeout=3\r\n\r\n'];
    const alphabet = 'HTP/1.0 2:\r\n\t ;=-abcxyzACL,\x00\x7f\xff';
    let parsed = 0;
    for (let i = 0; i < 20_000; i++) {
      const s = [...(seeds[i % 2] as string)];
      const edits = 1 + Math.floor(rng.next() * 4);
      for (let k = 0; k < edits; k++) {
        const at = Math.floor(rng.next() * s.length);
        const c = alphabet[Math.floor(rng.next() * alphabet.length)] as string;
        const op = rng.next();
        if (op < 0.4) s[at] = c;
        else if (op < 0.7) s.splice(at, 0, c);
        else s.splice(at, 1);
      }
      const text = s.join('');
      const b = Buffer.from(text, 'latin1');
      const e = headEnd(b);
      if (e < 0) continue;
      try {
        parseHead(b.toString('latin1', 0, e), false);
        parsed++;
      } catch (err) {
        assert.ok(err instanceof BadResponse, `${JSON.stringify(text)}: ${err}`);
      }
      const d = new ChunkedDecoder();
      let got = 0;
      try {
        d.push(b, (piece) => {
          got += piece.length;
        });
        assert.ok(got <= b.length);
      } catch (err) {
        assert.ok(err instanceof BadResponse, `chunked ${JSON.stringify(text)}: ${err}`);
      }
    }
    assert.ok(parsed > 1000, `some mutations still parse (${parsed})`);
  });
});
