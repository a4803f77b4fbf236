/**
 * TLS on the edge: HTTP/2 and HTTP/1.1 on one listener by ALPN (curl --http2, node:http2's
 * client, curl --http1.1), the dev certificate, what the phases see of an HTTP/2 request, TLS
 * garbage and slow heads over TLS.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { type DevCert, ensureDevCert } from '../../src/proxy/dev-cert.js';
import type { EdgeRequest } from '../../src/proxy/gate.js';
import type { Edge } from '../../src/proxy/server.js';
import { type Echo, edgeFor, get, type Origin, raw, startOrigin, statuses } from './helpers.js';

const run = promisify(execFile);

/** One TLS connection (http/1.1 by ALPN): write the pieces, collect until closed or `waitMs`. */
function tlsRaw(port: number, ca: string, pieces: string[], gapMs: number, waitMs: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
    let text = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve({ text, closed });
    };
    const t = setTimeout(() => finish(false), waitMs);
    s.on('data', (d) => {
      text += d.toString('latin1');
    });
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('secureConnect', async () => {
      for (const p of pieces) {
        if (done) return;
        s.write(p);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

describe('edge over TLS', { timeout: 60_000 }, () => {
  let dir: string;
  let cert: DevCert;
  let origin: Origin;
  let edge: Edge;
  const seen: EdgeRequest[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-devcert-'));
    cert = ensureDevCert(dir);
    origin = await startOrigin();
    edge = await edgeFor(origin, {
      tls: { cert: cert.cert, key: cert.key },
      headerTimeoutMs: 1500,
      gate: {
        head: (r) => {
          seen.push(r);
          return { kind: 'pass' };
        },
      },
    });
  });
  after(async () => {
    await edge.close();
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('dev cert: made once with openssl, then reused; names localhost and 127.0.0.1', async () => {
    assert.equal(cert.created, true);
    const again = ensureDevCert(dir);
    assert.equal(again.created, false);
    assert.equal(again.cert, cert.cert);
    const { stdout } = await run('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', cert.certFile]);
    assert.match(stdout, /DNS:localhost/);
    assert.match(stdout, /IP Address:127\.0\.0\.1/);
  });

  test('curl --http2: HTTP/2 to the edge, HTTP/1.1 to the origin, Via 2.0 and X-Forwarded-Proto https', async () => {
    const { stdout } = await run(
      'curl',
      [
        '-s',
        '--http2',
        '--cacert',
        cert.certFile,
        '-w',
        '\n%{http_version}',
        `https://localhost:${edge.address().port}/h2?q=1`,
        '--resolve',
        `localhost:${edge.address().port}:127.0.0.1`,
      ],
      { timeout: 10_000 },
    );
    const [body, version] = stdout.split('\n');
    assert.equal(version, '2');
    const e = JSON.parse(body as string) as Echo;
    assert.equal(e.httpVersion, '1.1');
    assert.equal(e.url, '/h2?q=1');
    assert.deepEqual(get(e, 'via'), ['2.0 palisade']);
    assert.deepEqual(get(e, 'x-forwarded-proto'), ['https']);
    assert.deepEqual(get(e, 'host'), [`localhost:${edge.address().port}`]);
    const v = (seen.at(-1) as EdgeRequest).view;
    assert.equal(v.version, 'HTTP/2');
    assert.equal(v.ssl, true);
    assert.equal(v.host, `localhost:${edge.address().port}`);
    assert.ok(
      v.headers.every(([k]) => !k.startsWith(':')),
      'no pseudo-headers in the view',
    );
    assert.ok(typeof v.tlsVersion === 'string' && v.tlsVersion.startsWith('TLS'));
  });

  test('curl --http1.1 on the same port', async () => {
    const { stdout } = await run('curl', ['-s', '--http1.1', '-k', '-w', '\n%{http_version}', `https://127.0.0.1:${edge.address().port}/h1`], { timeout: 10_000 });
    assert.equal(stdout.split('\n')[1], '1.1');
    assert.equal(seen.at(-1)?.view.version, 'HTTP/1.1');
  });

  test('node:http2 client: GET and a streamed POST on one session', async () => {
    const session = h2connect(`https://localhost:${edge.address().port}`, { ca: cert.cert, lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }] as never, 4) });
    try {
      const one = (method: string, path: string, body?: string) =>
        new Promise<{ status: number; text: string; id?: string }>((resolve, reject) => {
          const s = session.request({ ':method': method, ':path': path, cookie: 'a=1' });
          let status = 0;
          let id: string | undefined;
          let text = '';
          s.on('response', (h) => {
            status = Number(h[':status']);
            id = h['palisade-request-id'] as string | undefined;
          });
          s.setEncoding('utf8');
          s.on('data', (d: string) => {
            text += d;
          });
          s.on('end', () => resolve({ status, text, id }));
          s.on('error', reject);
          if (body !== undefined) {
            s.write(body.slice(0, 5));
            setTimeout(() => s.end(body.slice(5)), 50);
          } else s.end();
        });
      const g = await one('GET', '/a');
      assert.equal(g.status, 200);
      const p = await one('POST', '/b', 'hello http2 body');
      assert.equal(p.status, 200);
      const e = JSON.parse(p.text) as Echo;
      assert.equal(e.body, 'hello http2 body');
      assert.equal(e.method, 'POST');
      const big = await one('GET', '/big?n=300000');
      assert.equal(big.text.length, 300_000);
    } finally {
      session.close();
    }
  });

  test('TLS garbage and plaintext on the TLS port: closed, counted, the edge carries on', async () => {
    const before = edge.stats().tlsErrors;
    for (const bad of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', '\x16\x03\x01\x00\x05hello', '\x16\x03\x03\xff\xff'.padEnd(300, '\x00')]) {
      const r = await raw(edge.address().port, Buffer.from(bad, 'latin1'), { waitMs: 3000 });
      assert.ok(r.closed);
      assert.ok(!r.text.startsWith('HTTP/1.1 200'));
    }
    assert.ok(edge.stats().tlsErrors >= before + 2);
    const { stdout } = await run('curl', ['-s', '-k', '-o', '/dev/null', '-w', '%{http_code}', `https://127.0.0.1:${edge.address().port}/`]);
    assert.equal(stdout, '200');
  });

  test('PROXY protocol before the TLS handshake: the client address is the header’s', async () => {
    const seenPP: string[] = [];
    const pp = await edgeFor(origin, {
      tls: { cert: cert.cert, key: cert.key },
      proxyProtocol: true,
      gate: {
        head: (r) => {
          seenPP.push(`${r.clientIp} ${r.view.ssl}`);
          return { kind: 'pass' };
        },
      },
    });
    try {
      const text = await new Promise<string>((resolve, reject) => {
        const tcp = connectTcp({ host: '127.0.0.1', port: pp.address().port }, () => {
          tcp.write('PROXY TCP4 192.0.2.77 127.0.0.1 4444 443\r\n');
          const s = tlsConnect({ socket: tcp, ca: cert.cert, servername: 'localhost', ALPNProtocols: ['http/1.1'] }, () =>
            s.write('GET /pp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
          );
          let got = '';
          s.on('data', (d) => {
            got += d.toString('latin1');
          });
          s.on('close', () => resolve(got));
          s.on('error', reject);
        });
        tcp.on('error', reject);
        setTimeout(() => reject(new Error('timeout')), 5000);
      });
      assert.deepEqual(statuses(text), [200]);
      assert.deepEqual(seenPP, ['192.0.2.77 true']);
    } finally {
      await pp.close();
    }
  });

  test('HTTP/2: answers of our own (a block, 413 on a streamed body, 502) on a session that carries on', async () => {
    const h2edge = await edgeFor(origin, {
      tls: { cert: cert.cert, key: cert.key },
      maxBodyBytes: 1000,
      gate: { head: (r) => (r.view.header?.('x-block') ? { kind: 'respond', mitigated: 'block', status: 403 } : { kind: 'pass' }) },
    });
    const dead = await edgeFor(['http://127.0.0.1:1'], { tls: { cert: cert.cert, key: cert.key } });
    const one = (url: string, headers: Record<string, string>, body?: Buffer) =>
      new Promise<{ status: number; headers: Record<string, unknown>; text: string }>((resolve, reject) => {
        const session = h2connect(url, { ca: cert.cert, checkServerIdentity: () => undefined });
        const st = session.request(headers);
        let status = 0;
        let hs: Record<string, unknown> = {};
        let text = '';
        st.on('response', (h) => {
          status = Number(h[':status']);
          hs = h;
        });
        st.setEncoding('utf8');
        st.on('data', (d: string) => {
          text += d;
        });
        st.on('close', () => {
          session.close();
          resolve({ status, headers: hs, text });
        });
        st.on('error', () => {});
        session.on('error', reject);
        if (body !== undefined) {
          st.write(body.subarray(0, 600));
          setTimeout(() => st.end(body.subarray(600)), 50);
        } else st.end();
      });
    try {
      const u = `https://127.0.0.1:${h2edge.address().port}`;
      const blocked = await one(u, { ':path': '/', 'x-block': '1' });
      assert.equal(blocked.status, 403);
      assert.equal(blocked.headers['palisade-mitigated'], 'block');
      assert.ok(typeof blocked.headers['palisade-request-id'] === 'string');
      const big = await one(u, { ':path': '/up', ':method': 'POST' }, Buffer.alloc(1500, 120));
      assert.equal(big.status, 413);
      const ok = await one(u, { ':path': '/fine' });
      assert.equal(ok.status, 200);
      const down = await one(`https://127.0.0.1:${dead.address().port}`, { ':path': '/' });
      assert.equal(down.status, 502);
      assert.match(down.text, /502 Bad Gateway/);
    } finally {
      await h2edge.close();
      await dead.close();
    }
  });

  test('slowloris over TLS (HTTP/1.1): 408 and closed', async () => {
    const head = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaa\r\n';
    const r = await tlsRaw(edge.address().port, cert.cert, head.split(''), 150, 10_000);
    assert.deepEqual(statuses(r.text), [408]);
    assert.ok(r.closed);
  });
});
