/**
 * The HTTP scheme over access logs (scheme/http-log.ts). Independent truth: the generator writes
 * the same requests twice, as an nginx line and as an HttpRequest JSON line. Every scheme field
 * read from the nginx line through HttpLogRequest must equal the field read from the JSON record
 * through httpRequestView, except the fields an nginx combined line cannot carry: those must be
 * missing or empty, never a wrong value. The fast accessors the compiler prefers (bytes, int,
 * ip4) must agree with `get`, and a compiled rule must count what the JSON records say.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateL7, type L7Truth, l7Paths } from '../../src/generate/l7/generator.js';
import type { HttpRequest } from '../../src/model/http.js';
import { compile } from '../../src/rules/compile.js';
import { type HttpRequestView, httpScheme, ipv4Of, normalizePath } from '../../src/scheme/http.js';
import { HttpLogRequest, httpRequestView, utf8Bytes } from '../../src/scheme/http-log.js';
import type { Field } from '../../src/scheme/types.js';
import { BYTES, INT, IP, IpValue, Slice, type Value } from '../../src/scheme/values.js';
import { JSON_FORMATS } from '../../src/sources/accesslog/json-format.js';
import { jsonParser } from '../../src/sources/accesslog/parsers.js';
import { readAccessLog } from '../../src/sources/accesslog/reader.js';
import { HttpLogView } from '../../src/sources/accesslog/view.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-http-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const LOG = join(dir, 'mixed.log');
const LINES = 6000;
let truth: L7Truth;
let records: HttpRequest[];

before(() => {
  truth = generateL7('http-mixed', LOG, { lines: LINES, seed: 3 });
  records = readFileSync(l7Paths(LOG).jsonl, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as HttpRequest);
  assert.equal(records.length, LINES);
});

/** Fields an nginx `combined + rt= host=` line does not carry, and what reading them must give. */
const NOT_IN_COMBINED: Record<string, (v: Value | undefined) => boolean> = {
  'http.cookie': (v) => v instanceof Uint8Array && v.length === 0,
  'http.request.cookies': (v) => v instanceof Map && v.size === 0,
  'http.request.headers.names': (v) => v === undefined,
  'http.request.headers.values': (v) => v === undefined,
  'http.request.headers.order': (v) => v === undefined,
  'http.request.body.size': (v) => v === undefined,
  'cf.bot_management.ja3_hash': (v) => v === undefined,
  'cf.bot_management.ja4': (v) => v === undefined,
  // The log does not say TLS: plain, and the full URIs say http://.
  ssl: (v) => v === false,
  'http.request.full_uri': (v) => v instanceof Uint8Array && text(v).startsWith('http://'),
  'raw.http.request.full_uri': (v) => v instanceof Uint8Array && text(v).startsWith('http://'),
  // nginx logs whole seconds, at completion: checked against the record's time below.
  'http.request.timestamp.sec': (v) => typeof v === 'number',
  'http.request.timestamp.msec': (v) => v === 0,
};

function text(b: Uint8Array): string {
  return Buffer.from(b).toString('latin1');
}

/** Values as comparable JSON (bytes as latin1 text, addresses as text). */
function plain(v: Value | undefined): unknown {
  if (v === undefined) return undefined;
  if (v instanceof Uint8Array) return text(v);
  if (v instanceof IpValue) return v.fam === 4 ? v.v4 : Buffer.from(v.v6 as Uint8Array).toString('hex');
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [k, plain(x)]);
  return v;
}

/** What a field's fast accessor says, in `get`'s terms; null when it has none. */
function fast(f: Field<HttpRequestView>, r: HttpRequestView): unknown {
  if (f.type === BYTES && f.bytes) {
    const s = new Slice();
    return f.bytes(r, s) ? text(s.buf.subarray(s.off, s.off + s.len)) : undefined;
  }
  if (f.type === INT && f.int) {
    const x = f.int(r);
    return Number.isNaN(x) ? undefined : x;
  }
  if (f.type === IP && f.ipFam && f.ip4) {
    const fam = f.ipFam(r);
    return fam === 4 ? f.ip4(r) : fam === 0 ? undefined : null;
  }
  return null;
}

describe('HttpLogRequest over an nginx log vs the JSON records of the same requests', () => {
  it('every field agrees, or is missing/empty where the log cannot carry it', async () => {
    const adapter = new HttpLogRequest();
    const fields = [...httpScheme.fields.values()];
    const mismatches: string[] = [];
    let seen = 0;
    let fastChecked = 0;
    const info = await readAccessLog(
      LOG,
      (v) => {
        seen++;
        const r = adapter.point(v);
        const rec = records[v.lineNo - 1] as HttpRequest;
        const j = httpRequestView(rec);
        for (const f of fields) {
          const a = f.get(r);
          const fa = fast(f, r);
          if (fa !== null) {
            fastChecked++;
            if (JSON.stringify(fa) !== JSON.stringify(plain(a))) mismatches.push(`line ${v.lineNo} ${f.name}: fast ${JSON.stringify(fa)} vs get ${JSON.stringify(plain(a))}`);
          }
          const allowed = NOT_IN_COMBINED[f.name];
          if (allowed) {
            if (!allowed(a)) mismatches.push(`line ${v.lineNo} ${f.name}: ${JSON.stringify(plain(a))} should be missing/empty`);
            continue;
          }
          if (f.name === 'http.request.headers') {
            // The log's few headers (Host, User-Agent, Referer) hold the record's values.
            const jm = f.get(j) as Map<string, Value>;
            for (const [k, x] of (a as Map<string, Value>).entries()) {
              const want = k === 'host' ? [rec.host] : k === 'user-agent' ? [rec.user_agent] : k === 'referer' ? [rec.referer] : jm.get(k);
              if (JSON.stringify(plain(x)) !== JSON.stringify(plain(want as Value))) mismatches.push(`line ${v.lineNo} headers[${k}]`);
            }
            continue;
          }
          const b = f.get(j);
          if (JSON.stringify(plain(a)) !== JSON.stringify(plain(b)))
            mismatches.push(`line ${v.lineNo} ${f.name}: log ${JSON.stringify(plain(a))} vs record ${JSON.stringify(plain(b))}`);
        }
        // The log's time is the completion second (receive time + duration).
        const sec = httpScheme.fields.get('http.request.timestamp.sec')?.get(r);
        // (the generator rounds the completion time to the logged second, as l7.test.ts allows)
        const done = (Date.parse(rec.time) + (rec.duration_ms ?? 0)) / 1000;
        if (typeof sec !== 'number' || Math.abs(done - sec - 0.5) > 0.501) mismatches.push(`line ${v.lineNo} timestamp.sec ${sec} vs ${done}`);
      },
      { format: `nginx:${truth.formats.log}` },
    );
    assert.equal(info.malformed, 0);
    assert.equal(seen, LINES);
    assert.ok(fastChecked > LINES * 10, `fast accessors compared: ${fastChecked}`);
    assert.deepEqual(mismatches.slice(0, 20), []);
  });

  it('fields the log fills are really there (not vacuously equal)', async () => {
    const adapter = new HttpLogRequest();
    const get = (name: string) => (httpScheme.fields.get(name) as Field<HttpRequestView>).get(adapter);
    const codes = new Map<number, number>();
    let countries = 0;
    let asns = 0;
    let referers = 0;
    await readAccessLog(
      LOG,
      (v) => {
        adapter.point(v);
        const c = get('http.response.code') as number;
        codes.set(c, (codes.get(c) ?? 0) + 1);
        if ((get('ip.src.country') as Uint8Array | undefined)?.length === 2) countries++;
        if (typeof get('ip.src.asnum') === 'number') asns++;
        if ((get('http.referer') as Uint8Array).length > 0) referers++;
      },
      { format: `nginx:${truth.formats.log}` },
    );
    assert.ok((codes.get(200) ?? 0) > LINES / 2, JSON.stringify([...codes]));
    assert.ok(codes.size >= 4, `several status codes: ${JSON.stringify([...codes])}`);
    assert.ok(countries > LINES * 0.95 && asns > LINES * 0.95, `${countries} ${asns}`);
    assert.ok(referers > 0);
  });

  it('compiled rules count what the JSON records say', async () => {
    const exprs = [
      'http.response.code eq 404',
      'http.response.code ge 400 and http.request.method eq "POST"',
      'http.request.uri.path eq "/login"',
      'ip.src in {104.131.0.0/16 66.249.0.0/16}',
      'ip.src.country eq "US"',
      'ip.src.asnum in {15169 14061}',
      'http.user_agent contains "python" or http.referer eq ""',
      'http.request.version eq "HTTP/1.1" and not starts_with(http.request.uri.path, "/static/")',
    ];
    for (const e of exprs) {
      const p = compile(e, httpScheme);
      let want = 0;
      for (const rec of records) if (p(httpRequestView(rec))) want++;
      const adapter = new HttpLogRequest();
      let got = 0;
      await readAccessLog(
        LOG,
        (v) => {
          if (p(adapter.point(v))) got++;
        },
        { format: `nginx:${truth.formats.log}` },
      );
      assert.equal(got, want, e);
      assert.ok(e.includes('eq ""') || want < LINES, `${e}: ${want} of ${LINES} is no test`);
    }
  });
});

describe('HttpLogRequest over JSON logs', () => {
  const cf = jsonParser(JSON_FORMATS.cloudflare);
  // Readers hand lines over as bytes, one char per byte (the JSON parser decodes UTF-8 itself).
  const json = JSON.stringify({
    ClientIP: '8.8.8.8',
    ClientRequestMethod: 'POST',
    ClientRequestHost: 'shop.example',
    ClientRequestURI: '/api/l%C3%B6gin?next=/caf%C3%A9',
    ClientRequestProtocol: 'HTTP/2',
    ClientRequestUserAgent: 'curl/8.5 ☃',
    EdgeResponseStatus: 429,
    EdgeStartTimestamp: 1767225600123,
    ClientASN: 64500,
    ClientCountry: 'fr',
    JA3Hash: 'abc',
    ClientSSLProtocol: 'TLSv1.3',
    RequestHeaders: { 'x-test': 'é' },
    Cookies: { sid: '1' },
    RayID: 'r1',
  });
  const line = Buffer.from(json).toString('latin1');
  const v = new HttpLogView();
  assert.ok(cf.parse(line, v));
  const r = new HttpLogRequest().point(v);
  const get = (name: string) => plain((httpScheme.fields.get(name) as Field<HttpRequestView>).get(r));

  it('takes country and ASN from the log before the offline databases', () => {
    assert.equal(get('ip.src.country'), 'FR');
    assert.equal(get('ip.src.asnum'), 64500);
  });
  it('reads status, TLS and time', () => {
    assert.equal(get('http.response.code'), 429);
    assert.equal(get('ssl'), true);
    assert.equal(get('cf.bot_management.ja3_hash'), 'abc');
    assert.equal(get('cf.tls_version'), 'TLSv1.3');
    assert.equal(get('http.request.timestamp.msec'), 123);
  });
  it('gives Unicode text as its UTF-8 bytes', () => {
    assert.equal(get('http.user_agent'), utf8Bytes('curl/8.5 ☃'));
    assert.equal(get('http.user_agent'), Buffer.from('curl/8.5 ☃').toString('latin1'));
    assert.deepEqual(get('http.request.headers'), [['x-test', [Buffer.from('é').toString('latin1')]]]);
    assert.equal(get('raw.http.request.uri.path'), '/api/l%C3%B6gin');
    assert.equal(get('http.request.uri.query'), 'next=/caf%C3%A9');
  });
  it('rebuilds the Cookie header from logged cookies', () => {
    assert.equal(get('http.cookie'), 'sid=1');
    assert.deepEqual(get('http.request.cookies'), [['sid', ['1']]]);
  });
  it('a text line without a version or method leaves them missing, not invented', () => {
    const t = new HttpLogView();
    const p = jsonParser(JSON_FORMATS.caddy);
    assert.ok(p.parse(JSON.stringify({ ts: 1, logger: 'http.log.access', status: 200, request: { method: 'GET', uri: '/', remote_ip: '2001:db8::1' } }), t));
    const q = new HttpLogRequest().point(t);
    const g = (name: string) => (httpScheme.fields.get(name) as Field<HttpRequestView>).get(q);
    assert.equal(g('http.request.version'), undefined);
    assert.equal((g('ip.src') as IpValue).fam, 6);
    assert.equal(compile('ip.src in {2001:db8::/32}', httpScheme)(q), true);
    assert.equal(compile('ip.src in {0.0.0.0/0}', httpScheme)(q), false);
  });
});

describe('scheme helpers', () => {
  it('ipv4Of reads dotted quads only', () => {
    assert.equal(ipv4Of('1.2.3.4'), 0x01020304);
    assert.equal(ipv4Of('255.255.255.255'), 0xffffffff);
    assert.equal(ipv4Of('::ffff:10.0.0.1'), 0x0a000001);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.4 ', 'a.b.c.d', '2001:db8::1', '1..2.3', '1.2.3.1234']) assert.equal(ipv4Of(bad), -1, bad);
  });
  it('normalizePath keeps its answers with the fast path for plain paths', () => {
    for (const [p, want] of [
      ['/a/b', '/a/b'],
      ['/a/./b', '/a/b'],
      ['/a/../b', '/b'],
      ['/a%2fb', '/a%2Fb'],
      ['/%7euser', '/~user'],
      ['a/b', '/a/b'],
      ['/a.b/c.d', '/a.b/c.d'],
      ['/a/..', '/'],
    ])
      assert.equal(normalizePath(p as string), want, p);
  });
});
