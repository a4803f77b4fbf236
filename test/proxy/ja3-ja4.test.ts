/**
 * JA3 and JA4 of the edge's TLS connections (src/proxy/client-hello.ts), checked against tshark:
 * curl connects over TLS while tshark captures the handshake on loopback; the JA3 the edge gave
 * the request (rules' view, access log) must equal tshark's `tls.handshake.ja3` of that hello,
 * and its JA4 the packet decoder's on the same capture. Also: the hello reassembled across
 * records, what is no hello left to the TLS layer, and a client silent past the header timeout closed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { analyzeCapture } from '../../src/analyze/run.js';
import { helloPrints, helloState, MAX_HELLO } from '../../src/proxy/client-hello.js';
import { type DevCert, ensureDevCert } from '../../src/proxy/dev-cert.js';
import type { EdgeRequest } from '../../src/proxy/gate.js';
import type { Edge } from '../../src/proxy/server.js';
import { edgeFor, type Origin, startOrigin } from './helpers.js';

const run = promisify(execFile);
const have = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const canCapture = have('tshark') && have('curl') && process.getuid?.() === 0;

/** A TLS 1.2-style record holding `body` (a handshake fragment). */
const record = (body: Uint8Array) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01, body.length >> 8, body.length & 255]), body]);

describe('ClientHello reading', () => {
  test('a hello split over two records is reassembled; not TLS, too large, cut: left to the TLS layer', () => {
    const hs = Buffer.alloc(300, 0);
    hs[0] = 0x01;
    hs.writeUIntBE(296, 1, 3);
    const one = record(hs);
    assert.equal(helloState(one).status, 'done');
    const two = Buffer.concat([record(hs.subarray(0, 100)), record(hs.subarray(100))]);
    const st = helloState(two);
    assert.equal(st.status, 'done');
    assert.deepEqual(Buffer.from((st as { hello: Uint8Array }).hello), hs);
    assert.equal(helloState(two.subarray(0, 150)).status, 'need');
    assert.equal(helloState(Buffer.from('GET / HTTP/1.1\r\n')).status, 'other');
    const huge = Buffer.alloc(8, 0);
    huge[0] = 0x01;
    huge.writeUIntBE(MAX_HELLO + 10, 1, 3);
    assert.equal(helloState(record(huge)).status, 'other');
    assert.doesNotThrow(() => helloPrints(hs));
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(Array.from({ length: 1 + (i % 400) }, (_, k) => (i * 31 + k * 7) & 255));
      junk[0] = 0x16;
      assert.doesNotThrow(() => helloState(junk));
      assert.doesNotThrow(() => helloPrints(junk.subarray(1)));
    }
  });
});

describe('JA3 and JA4 at the edge', { timeout: 90_000 }, () => {
  let dir: string;
  let cert: DevCert;
  let origin: Origin;
  let edge: Edge;
  const seen: EdgeRequest[] = [];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-ja3-'));
    cert = ensureDevCert(dir);
    origin = await startOrigin();
    edge = await edgeFor(origin, {
      tls: { cert: cert.cert, key: cert.key },
      headerTimeoutMs: 1500,
      accessLog: join(dir, 'edge.log'),
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

  test("curl's hello: the edge's JA3 is tshark's, its JA4 the packet decoder's, in the rules' view and the access log", {
    skip: !canCapture && 'needs tshark, curl and root to capture on lo',
  }, async () => {
    const port = edge.address().port;
    const pcap = join(dir, 'hello.pcap');
    const cap: ChildProcess = spawn('tshark', ['-q', '-i', 'lo', '-f', `tcp port ${port}`, '-w', pcap], { stdio: ['ignore', 'ignore', 'pipe'] });
    let capErr = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`tshark did not start: ${capErr}`)), 20_000);
      cap.stderr?.on('data', (d: Buffer) => {
        capErr += d.toString();
        if (/Capturing on/.test(capErr)) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    // tshark says it is capturing a moment before packets are really taken.
    await new Promise((r) => setTimeout(r, 1500));
    try {
      // Asynchronously: the edge runs in this process.
      for (const v of ['--http1.1', '--http2'])
        await run('curl', ['-sS', '--max-time', '10', v, '--cacert', cert.certFile, '--resolve', `localhost:${port}:127.0.0.1`, `https://localhost:${port}/ja`]);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      cap.kill('SIGINT');
      await new Promise((r) => cap.once('exit', r));
    }
    const tsharkJa3 = execFileSync('tshark', ['-r', pcap, '-Y', 'tls.handshake.type == 1', '-T', 'fields', '-e', 'tls.handshake.ja3'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter((l) => l !== '');
    assert.equal(tsharkJa3.length, 2, 'two hellos captured');
    const ours = seen.filter((r) => r.view.target === '/ja');
    assert.equal(ours.length, 2);
    assert.deepEqual(
      ours.map((r) => r.view.ja3),
      tsharkJa3,
      'JA3 as tshark computes it',
    );
    const a = await analyzeCapture(pcap, { detect: false });
    const decoderJa4 = a.traffic.top_ja4.map((x) => x.name);
    for (const r of ours) {
      assert.match(r.view.ja4 ?? '', /^t1[23]d\d{4}[a-z0-9]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/);
      assert.ok(decoderJa4.includes(r.view.ja4 as string), `${r.view.ja4} among the capture's ${decoderJa4.join(', ')}`);
    }
    await edge.close();
    const log = readFileSync(join(dir, 'edge.log'), 'utf8')
      .split('\n')
      .filter((l) => l.includes('"/ja"'))
      .map((l) => JSON.parse(l) as { tls?: { ja3?: string; ja4?: string } });
    assert.deepEqual(
      log.map((l) => l.tls?.ja3),
      tsharkJa3,
      'the access log carries them',
    );
    edge = await edgeFor(origin, { tls: { cert: cert.cert, key: cert.key }, headerTimeoutMs: 1500 });
  });

  test('a client that sends no hello within the header timeout is closed; plain HTTP to the TLS port refused', async () => {
    const port = edge.address().port;
    const closedIn = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      const s = connectTcp(port, '127.0.0.1');
      s.on('close', () => resolve(Date.now() - t0));
      s.on('error', () => {});
      setTimeout(() => s.destroy(), 10_000).unref();
    });
    assert.ok(closedIn < 9000, `closed after ${closedIn} ms (header timeout 1.5 s)`);
    const text = await new Promise<string>((resolve) => {
      let got = '';
      const s = connectTcp(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      s.on('data', (d) => {
        got += d.toString('latin1');
      });
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
      setTimeout(() => s.destroy(), 10_000).unref();
    });
    assert.doesNotMatch(text, /200 OK/);
  });
});
