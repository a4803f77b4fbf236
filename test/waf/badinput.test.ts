/**
 * Hostile input: oversized and malformed bodies, invalid encodings, NUL bytes, deep JSON and
 * XML, huge headers, and values built to make regular expressions backtrack. The WAF must give
 * the CRS-defined outcome (or a counted error), never throw or hang; and no single rule may
 * spend more than a bound on any one of these inputs (every rule runs: paranoia 4). The bound
 * is generous — it exists to catch runaway (super-linear) regexes, not to measure speed.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createWaf, enableRegexBacktrackFallback, type WafRequest } from '../../src/waf/engine.js';
import { parseRequest } from '../../src/waf/serve.js';
import { prng } from '../helpers/prng.js';

const RULE_BOUND_MS = 2000; // a runaway (exponential) pattern takes minutes here; the slowest bounded one takes ~0.5 s

// as `palisade waf serve` does: the bound below assumes V8's linear-time fallback for runaway regexes
enableRegexBacktrackFallback();

const pl4 = createWaf({ paranoia: 4, mode: 'detect', thresholds: { inbound: 5, outbound: 4 } });
const pl1 = createWaf({ paranoia: 1, mode: 'block' });

function req(over: Partial<WafRequest> & { ct?: string }): WafRequest {
  const headers: [string, string][] = [
    ['Host', 'localhost'],
    ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64)'],
    ['Accept', '*/*'],
  ];
  if (over.ct) headers.push(['Content-Type', over.ct]);
  if (over.body != null) headers.push(['Content-Length', String(over.body.length)]);
  return { method: over.body != null ? 'POST' : 'GET', uri: '/', protocol: 'HTTP/1.1', headers: [...headers, ...(over.headers ?? [])], ...over };
}

const ids = (v: { matched: { id: number }[] }): number[] => v.matched.map((m) => m.id);

const rnd = prng(7);
function randomBytes(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rnd() * 256));
  return s;
}

const K32 = 32768;
const HOSTILE_VALUES: [string, string][] = [
  ['a*32k', 'a'.repeat(K32)],
  ['<*32k', '<'.repeat(K32)],
  ["'*32k", "'".repeat(K32)],
  ['"*16k', '"'.repeat(K32 / 2)],
  ['%41*20k', '%41'.repeat(20000)],
  ['%*32k', '%'.repeat(K32)],
  ['\\*32k', '\\'.repeat(K32)],
  ['space*32k', ' '.repeat(K32)],
  ['(*32k', '('.repeat(K32)],
  ['select *', 'select '.repeat(8000)],
  ['/* */', '/*'.repeat(20000)],
  ['&#*', '&#'.repeat(20000)],
  ['\\u0061*', '\\u0061'.repeat(8000)],
  ['<a b=*', '<a b='.repeat(10000)],
  ["' or 1=1 *", "' or 1=1 ".repeat(5000)],
  ['../*', '../'.repeat(20000)],
  ['random bytes', randomBytes(K32)],
  ['NUL*', '\0'.repeat(K32)],
  ['mixed ws', ' \t\n\r\v\f'.repeat(8000)],
  ['${{', '${{'.repeat(15000)],
];

test('regex-hostile argument values: no rule runs away (paranoia 4, every rule)', { timeout: 600_000 }, () => {
  const slow: string[] = [];
  let worst = { ms: 0, id: 0, name: '' };
  for (const [name, value] of HOSTILE_VALUES) {
    for (const r of [req({ body: `q=${value}`, ct: 'application/x-www-form-urlencoded' }), req({ headers: [['X-Test', value.replace(/[\r\n]/g, ' ')]] })]) {
      const timings = new Map<number, number>();
      const v = pl4.evaluate(r, undefined, timings);
      assert.ok(Array.isArray(v.matched));
      // A rule over the bound is timed twice more and judged on its best run: on a shared,
      // loaded machine one run can take several times its real cost, while a runaway pattern
      // stays over the bound every time.
      for (let retry = 0; retry < 2 && [...timings.values()].some((ms) => ms > RULE_BOUND_MS); retry++) {
        const again = new Map<number, number>();
        pl4.evaluate(r, undefined, again);
        for (const [id, ms] of again) if (ms < (timings.get(id) ?? Number.POSITIVE_INFINITY)) timings.set(id, ms);
      }
      for (const [id, ms] of timings) {
        if (ms > worst.ms) worst = { ms, id, name };
        if (ms > RULE_BOUND_MS) slow.push(`rule ${id} took ${ms.toFixed(0)} ms on ${name}`);
      }
    }
  }
  process.stdout.write(`# slowest rule on hostile input: ${worst.id} ${worst.ms.toFixed(1)} ms (${worst.name})\n`);
  assert.deepEqual(slow, []);
});

test('deep JSON is a body-processing error (200002), 400 when blocking', () => {
  const deep = `${'['.repeat(20000)}${']'.repeat(20000)}`; // 40 KB, under the body limit
  const r = req({ body: deep, ct: 'application/json' });
  assert.ok(ids(pl4.evaluate(r)).includes(200002));
  const v = pl1.evaluate(r);
  assert.equal(v.action, 'block');
  assert.equal(v.status, 400);
  // just under the limit parses
  const ok = `${'['.repeat(100)}1${']'.repeat(100)}`;
  assert.ok(!ids(pl4.evaluate(req({ body: ok, ct: 'application/json' }))).includes(200002));
});

test('malformed JSON, XML and deep XML are body errors', () => {
  for (const [ct, body] of [
    ['application/json', '{"a": '],
    ['application/json', '{"a": "\ud800"'],
    ['text/xml', '<a><b></a>'],
    ['text/xml', `${'<a>'.repeat(5000)}${'</a>'.repeat(5000)}`],
    ['application/xml', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'],
  ] as const) {
    const v = pl1.evaluate(req({ body, ct }));
    assert.ok(ids(v).includes(200002), `${ct} ${body.slice(0, 40)}: ${ids(v)}`);
    assert.equal(v.status, 400);
  }
});

test('malformed multipart bodies fail strict validation (200003), never crash', () => {
  const ct = 'multipart/form-data; boundary=XyZ';
  const bodies = [
    '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue', // no final boundary
    'junk before\r\n--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--XyZ--\r\n', // data before
    '--XyZ\r\nContent-Disposition: form-data; name="a\r\n\r\nv\r\n--XyZ--\r\n', // bad quoting
    '--XyZ\r\n\r\nv\r\n--XyZ--\r\n', // no disposition
    `--XyZ\r\n${'Content-Disposition: form-data; name="a"\r\n'.repeat(3)} folded\r\n\r\nv\r\n--XyZ--\r\n`,
    `${'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n\r\nx\r\n'.repeat(2000)}--XyZ--\r\n`,
  ];
  for (const body of bodies) {
    const v = pl1.evaluate(req({ body, ct }));
    assert.ok(ids(v).includes(200003) || ids(v).includes(200002), `${JSON.stringify(body.slice(0, 50))}: ${ids(v)}`);
    assert.equal(v.action, 'block');
  }
  // a bad boundary parameter
  const v = pl1.evaluate(req({ body: '--a\r\n', ct: 'multipart/form-data; boundary="unterminated' }));
  assert.ok(ids(v).includes(200002) || ids(v).includes(200003));
});

test('oversized bodies: 413 when blocking, inspected up to the limit when detecting', () => {
  const big = `q=${'a'.repeat(200_000)}`; // over SecRequestBodyNoFilesLimit (128 KB)
  const v = pl1.evaluate(req({ body: big, ct: 'application/x-www-form-urlencoded' }));
  assert.equal(v.status, 413);
  const d = pl4.evaluate(req({ body: big, ct: 'application/x-www-form-urlencoded' }));
  assert.equal(d.action, 'pass');
  const huge = Buffer.alloc(14 * 1024 * 1024, 0x61);
  assert.equal(pl1.evaluate(req({ body: huge, ct: 'multipart/form-data; boundary=x' })).status, 413);
});

test('invalid encodings and NUL bytes give CRS outcomes', () => {
  // invalid %-encoding in the query: 920220
  assert.ok(ids(pl4.evaluate(req({ uri: '/?a=%zz%' }))).includes(920220));
  // NUL in an argument: 920270 (invalid character in request)
  assert.ok(ids(pl4.evaluate(req({ uri: '/?a=b%00c' }))).includes(920270));
  // invalid UTF-8 when UTF-8 validation is enabled in the setup
  const utf = createWaf({ paranoia: 1, mode: 'detect', setup: { crs_validate_utf8_encoding: 1 } });
  assert.ok(ids(utf.evaluate(req({ uri: '/?a=%c0%af' }))).includes(920250));
  // NUL and high bytes in header names and values, method and URI do not throw
  for (const s of ['\0', '\xff\xfe', '%u', '%uD800', '%u12', '\\x', '&#x;', '&#99999999999;']) {
    pl4.evaluate(
      req({
        uri: `/${s}?${s}=${s}`,
        method: `G${s}T`,
        headers: [
          [`X-${s}`, s],
          ['Cookie', `${s}=${s}`],
        ],
      }),
    );
  }
});

test('huge and many headers: refused by the HTTP parser, survivable by the engine', () => {
  const many: [string, string][] = Array.from({ length: 500 }, (_, i) => [`X-H${i}`, 'v'.repeat(1000)]);
  const v = pl4.evaluate(req({ headers: many }));
  assert.ok(Array.isArray(v.matched));
  const head = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`;
  assert.deepEqual(parseRequest(Buffer.from(head), 65536, 1 << 20), { error: 431 });
  const manyHead = `GET / HTTP/1.1\r\n${'A: b\r\n'.repeat(2000)}\r\n`;
  assert.deepEqual(parseRequest(Buffer.from(manyHead), 65536, 1 << 20), { error: 431 });
  assert.deepEqual(parseRequest(Buffer.from('GET / HTTP/1.1\r\nBad Header\r\n\r\n'), 65536, 1 << 20), { error: 400 });
  assert.deepEqual(parseRequest(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n'), 65536, 1 << 20), { error: 413 });
  assert.deepEqual(parseRequest(Buffer.from('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), 65536, 1 << 20), { error: 400 });
  assert.deepEqual(parseRequest(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nab'), 65536, 1 << 20), { need: true, until: 43 });
});

test('random request bytes never throw in the HTTP parser or the engine', () => {
  const r = prng(11);
  for (let i = 0; i < 300; i++) {
    const n = Math.floor(r() * 600);
    let s = 'GET /?';
    for (let k = 0; k < n; k++) s += String.fromCharCode(Math.floor(r() * 256));
    s += ' HTTP/1.1\r\nHost: x\r\n\r\n';
    const p = parseRequest(Buffer.from(s, 'latin1'), 65536, 1 << 20);
    if ('req' in p) pl4.evaluate(p.req);
  }
});

test('the server reassembles bodies sent in many small pieces (Content-Length and chunked)', async () => {
  const { startServer } = await import('../../src/waf/serve.js');
  const { connect } = await import('node:net');
  const server = await startServer(pl1, '127.0.0.1', 0);
  const port = (server.address() as { port: number }).port;
  const send = (pieces: Buffer[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      let out = '';
      s.on('data', (d) => {
        out += d.toString('latin1');
      });
      s.on('end', () => resolve(out));
      s.on('error', reject);
      s.on('connect', async () => {
        for (const p of pieces) {
          s.write(p);
          await new Promise((r) => setImmediate(r));
        }
      });
    });
  try {
    const body = Buffer.from(`q=${'a'.repeat(100_000)}`);
    const head = Buffer.from(
      `POST / HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\nAccept: */*\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    const pieces = [head];
    for (let i = 0; i < body.length; i += 997) pieces.push(body.subarray(i, i + 997));
    assert.match(await send(pieces), /^HTTP\/1\.1 200 /);
    const ch = [
      'POST / HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\nAccept: */*\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n',
    ];
    for (let i = 0; i < 200; i++) ch.push('5\r\naaaaa\r\n');
    ch.push('0\r', '\n', '\r', '\n');
    assert.match(await send(ch.map((x) => Buffer.from(x))), /^HTTP\/1\.1 200 /);
  } finally {
    server.close();
  }
});
