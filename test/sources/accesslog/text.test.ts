/**
 * Text formats: nginx and Apache format strings compiled and run over lines, the built-ins,
 * trailing key=value fields, escapes, `-`, times, and request lines that are not METHOD URI VERSION.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { schemaErrors } from '../../../src/model/validate.js';
import { decodeEscapes, encodeEscapes } from '../../../src/sources/accesslog/escape.js';
import { compileApache, compileNginx, FieldKind } from '../../../src/sources/accesslog/format.js';
import { detectFormat, parserFor } from '../../../src/sources/accesslog/parsers.js';
import { parseClfTime, parseIsoTime } from '../../../src/sources/accesslog/time.js';
import { HttpLogView, MAX_FIELD, Slot } from '../../../src/sources/accesslog/view.js';

function one(format: string, line: string) {
  const v = new HttpLogView();
  const ok = parserFor(format).parse(line, v);
  return { ok, v, r: ok ? v.toHttpRequest() : null };
}

const COMBINED = '203.0.113.9 - alice [10/Oct/2000:13:55:36 -0700] "GET /a/b.php?x=1&y=2 HTTP/1.1" 200 2326 "http://ex.com/start" "Mozilla/5.0 (X11)"';

test('nginx combined: every field, time to UTC, request split', () => {
  const { ok, v, r } = one('combined', COMBINED);
  assert.ok(ok);
  assert.equal(v.get(Slot.USER), 'alice');
  assert.deepEqual(r, {
    time: '2000-10-10T20:55:36.000Z',
    client: { ip: '203.0.113.9' },
    method: 'GET',
    host: '',
    path: '/a/b.php',
    query: 'x=1&y=2',
    version: 'HTTP/1.1',
    headers: [
      { name: 'User-Agent', value: 'Mozilla/5.0 (X11)' },
      { name: 'Referer', value: 'http://ex.com/start' },
    ],
    user_agent: 'Mozilla/5.0 (X11)',
    referer: 'http://ex.com/start',
    body_size: 0,
    status: 200,
    response_size: 2326,
  });
  assert.equal(schemaErrors(r, 'http-request'), null);
});

test('the same line through the Apache combined LogFormat (as written in httpd.conf, with \\")', () => {
  const apache = one('apache:%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-Agent}i\\"', COMBINED);
  assert.deepEqual(apache.r, one('combined', COMBINED).r);
});

test('common, vhost_combined and main built-ins', () => {
  const c = one('common', '::1 - - [26/Dec/2016:16:16:29 +0200] "GET /favicon.ico HTTP/1.1" 404 209');
  assert.equal(c.r?.client.ip, '::1');
  assert.equal(c.r?.status, 404);
  assert.equal(c.r?.response_size, 209);
  const vh = one('vhost_combined', 'www.ex.com:443 1.2.3.4 - - [25/Oct/2021:11:05:52 +0200] "GET /x HTTP/2.0" 403 6963 "-" "UA"');
  assert.equal(vh.r?.host, 'www.ex.com');
  assert.equal(vh.v.serverPort, 443);
  assert.equal(vh.r?.version, 'HTTP/2');
  assert.equal(vh.r?.referer, undefined, '`-` is not logged');
  const m = one('main', `${COMBINED} "198.51.100.1, 10.0.0.1"`);
  assert.deepEqual(m.r?.headers.at(-1), { name: 'X-Forwarded-For', value: '198.51.100.1, 10.0.0.1' });
});

test('custom nginx format with ISO time, request_time, upstream time, host, ports, cookie and a header', () => {
  const f =
    '$host $remote_addr:$remote_port [$time_iso8601] "$request_method $request_uri $server_protocol" $status $bytes_sent $request_length rt=$request_time urt=$upstream_response_time "$http_x_requested_with" "$cookie_session" ja3=$http_ssl_ja3';
  const line =
    'shop.ex 198.51.100.7:51234 [2024-04-10T22:20:00.250+02:00] "POST /login?next=%2F HTTP/2.0" 302 512 733 rt=0.120 urt=0.100, 0.002 "XMLHttpRequest" "abc123" ja3=771,4865-4866';
  const { ok, v, r } = one(`nginx:${f}`, line);
  assert.ok(ok);
  assert.equal(r?.time, '2024-04-10T20:20:00.250Z');
  assert.equal(r?.host, 'shop.ex');
  assert.equal(r?.client.port, 51234);
  assert.equal(r?.method, 'POST');
  assert.equal(r?.path, '/login');
  assert.equal(r?.query, 'next=%2F');
  assert.equal(r?.version, 'HTTP/2');
  assert.equal(r?.body_size, 733);
  assert.equal(r?.duration_ms, 120);
  assert.equal(r?.origin_ms, 100);
  assert.deepEqual(r?.cookies, { session: 'abc123' });
  assert.ok(r?.headers.some((h) => h.name === 'X-Requested-With' && h.value === 'XMLHttpRequest'));
  assert.equal(r?.tls?.ja3, '771,4865-4866');
  assert.equal(v.requestOk, true);
  assert.equal(schemaErrors(r, 'http-request'), null);
});

test('compiled programs: literals between fields, quoted fields known, unknown variables skipped', () => {
  const f = compileNginx('$remote_addr - $remote_user [$time_local] "$request" $status $nonsense');
  assert.equal(f.lead, '');
  assert.deepEqual(f.lits, [' - ', ' [', '] "', '" ', ' ', '']);
  assert.deepEqual(f.quoted, [false, false, false, true, false, false]);
  assert.equal(f.kinds[5], FieldKind.SKIP);
  const a = compileApache('%{X-Real-IP}i %400,501{User-agent}i %D %%');
  assert.deepEqual(f.kinds.length, 6);
  assert.deepEqual(a.names, ['X-Real-IP', '', '']);
  assert.equal(a.kinds[1], FieldKind.USER_AGENT);
  assert.equal(a.kinds[2], FieldKind.DURATION_US);
  assert.equal(a.lits[2], ' %');
  assert.throws(() => compileNginx('no fields'), /no fields/);
  assert.throws(() => compileApache('%{Referer'), /unclosed/);
});

test('trailing key=value fields after a known format become fields or headers', () => {
  const { ok, r } = one('combined', `${COMBINED} rt=0.250 urt="0.200" ja4=t13d1516h2_8daaf6152771_b186095e22b6 cache=HIT xff="1.1.1.1, 2.2.2.2" 17 "router@docker"`);
  assert.ok(ok);
  assert.equal(r?.duration_ms, 250);
  assert.equal(r?.origin_ms, 200);
  assert.equal(r?.tls?.ja4, 't13d1516h2_8daaf6152771_b186095e22b6');
  assert.ok(r?.headers.some((h) => h.name === 'cache' && h.value === 'HIT'));
  assert.ok(r?.headers.some((h) => h.name === 'X-Forwarded-For' && h.value === '1.1.1.1, 2.2.2.2'));
});

test('\\xHH escapes (nginx) and \\" (Apache) decoded in quoted fields; raw bytes as UTF-8 in the record', () => {
  const { r, v } = one('combined', '1.2.3.4 - - [29/Jul/2023:10:26:06 -0700] "GET /\\xC3\\xA9t\\xC3\\xA9 HTTP/1.1" 200 1 "-" "say \\"hi\\" \\x5C o/"');
  assert.equal(r?.path, '/été');
  assert.equal(v.get(Slot.PATH), '/\xc3\xa9t\xc3\xa9', 'latin1 bytes in the view');
  assert.equal(r?.user_agent, 'say "hi" \\ o/');
  assert.equal(decodeEscapes('a\\x4', 0, 5), 'a\\x4', 'a cut escape is kept');
  assert.equal(encodeEscapes('\x16\x03"é'), '\\x16\\x03\\x22\\xE9');
});

test('request lines that are not METHOD URI VERSION: kept, raw line as path, method "-"', () => {
  for (const [req, path, version] of [
    ['-', '-', 'HTTP/1.0'],
    ['', '', 'HTTP/1.0'],
    ['hello', 'hello', 'HTTP/1.0'],
    ['\\x16\\x03\\x01\\x00t', '\x16\x03\x01\x00t', 'HTTP/1.0'],
    ['GET /only-path', '/only-path', 'HTTP/1.0'],
  ] as const) {
    const { ok, r, v } = one('combined', `1.2.3.4 - - [29/Jul/2023:10:26:06 -0700] "${req}" 400 157 "-" "-"`);
    assert.ok(ok, req);
    assert.equal(r?.path, path, req);
    assert.equal(r?.version, version, req);
    assert.equal(r?.method, req.startsWith('GET') ? 'GET' : '-', req);
    assert.equal(v.requestOk, req.startsWith('GET'));
    assert.equal(schemaErrors(r, 'http-request'), null);
  }
});

test('malformed as GoAccess judges: client not an address, bad time, status `-`, missing fields', () => {
  const base = (host: string, time = '10/Oct/2000:13:55:36 -0700', status = '200') => `${host} - - [${time}] "GET / HTTP/1.1" ${status} 1 "-" "-"`;
  assert.equal(one('combined', base('10.0.0.2, 10.0.0.1')).ok, false);
  assert.equal(one('combined', base('unix:')).ok, false);
  assert.equal(one('combined', base('localhost')).ok, false);
  assert.equal(one('combined', base('2a03:0:10ff::8000')).ok, true);
  assert.equal(one('combined', base('1.2.3.4', '99/Foo/2000:13:55:36 -0700')).ok, false);
  assert.equal(one('combined', base('1.2.3.4', '10/Oct/2000:13:55:36 -0700', '-')).ok, false);
  assert.equal(one('combined', '1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1').ok, false);
  // The client check can be relaxed for logs that write host names.
  const v = new HttpLogView();
  assert.equal(parserFor('combined', { strictClient: false }).parse(base('monitoring-server'), v), true);
  assert.equal(v.get(Slot.CLIENT), 'monitoring-server');
});

test('times: CLF with zones, ISO forms, the per-minute cache does not leak between zones', () => {
  const t = (s: string) => new Date(parseClfTime(s, 0, s.length)).toISOString();
  assert.equal(t('[10/Oct/2000:13:55:36 -0700]'), '2000-10-10T20:55:36.000Z');
  assert.equal(t('10/Oct/2000:13:55:36 +0330'), '2000-10-10T10:25:36.000Z');
  assert.equal(t('10/Oct/2000:13:55:37 -0700'), '2000-10-10T20:55:37.000Z');
  assert.equal(t('29/Feb/2024:00:00:00 +0000'), '2024-02-29T00:00:00.000Z');
  assert.ok(Number.isNaN(parseClfTime('10/Oct/2000', 0, 11)));
  // Times inside a piece of the log (offsets, as the reader passes them): the cached minute is
  // compared where it is, a changed minute, hour or zone digit reads afresh.
  const piece = 'x [10/Oct/2000:13:55:36 -0700] y [10/Oct/2000:13:56:01 -0700] z [10/Oct/2000:13:56:02 -0600] w [10/Oct/2000:14:56:02 -0600]';
  const at = (k: number) => new Date(parseClfTime(piece, piece.indexOf('[', k), piece.indexOf(']', k) + 1)).toISOString();
  assert.equal(at(0), '2000-10-10T20:55:36.000Z');
  assert.equal(at(piece.indexOf('y')), '2000-10-10T20:56:01.000Z');
  assert.equal(at(piece.indexOf('z')), '2000-10-10T19:56:02.000Z');
  assert.equal(at(piece.indexOf('w')), '2000-10-10T20:56:02.000Z');
  const i = (s: string) => new Date(parseIsoTime(s, 0, s.length)).toISOString();
  assert.equal(i('2022-10-30T00:00:02Z'), '2022-10-30T00:00:02.000Z');
  assert.equal(i('2021-12-08T14:02:43.587599541+01:00'), '2021-12-08T13:02:43.587Z');
  assert.equal(i('2021-12-08 14:02:43+0100'), '2021-12-08T13:02:43.000Z');
  assert.ok(Number.isNaN(parseIsoTime('2021-12-08T14:02:43Q', 0, 20)));
});

test('fields longer than MAX_FIELD are cut and counted', () => {
  const ua = 'A'.repeat(MAX_FIELD * 3);
  const { ok, r, v } = one('combined', `1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "${ua}"`);
  assert.ok(ok);
  assert.equal(r?.user_agent?.length, MAX_FIELD);
  assert.equal(v.truncated > 0, true);
});

test('detection prefers the format that parses most, then the one with more fields', () => {
  const lines = [COMBINED, COMBINED.replace('alice', '-')];
  assert.equal(detectFormat(lines).parser.name, 'combined');
  assert.equal(detectFormat(lines.map((l) => `${l} "-"`)).parser.name, 'main');
  assert.equal(detectFormat(['1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 5']).parser.name, 'common');
  const d = detectFormat(['{"ClientIP":"1.2.3.4","ClientRequestMethod":"GET","ClientRequestURI":"/","EdgeResponseStatus":200,"EdgeStartTimestamp":1712790000100000000}']);
  assert.equal(d.parser.name, 'cloudflare');
  assert.equal(d.scores[0].parsed, 1);
});

test('Palisade edge log: the HttpRequest record read back whole', () => {
  const rec = {
    time: '2026-12-01T10:00:00.000Z',
    client: { ip: '192.0.2.1', port: 40000 },
    method: 'GET',
    host: 'ex.com',
    path: '/',
    query: '',
    version: 'HTTP/2',
    headers: [{ name: 'user-agent', value: 'x' }, { name: 'accept' }],
    user_agent: 'x',
    body_size: 0,
    status: 200,
    tls: { ja4: 't13d' },
    enrichment: { asn: 64500, country: 'FR' },
  };
  const { ok, r, v } = one('palisade', JSON.stringify(rec));
  assert.ok(ok);
  assert.deepEqual(r, rec);
  assert.equal(v.get(Slot.JA4), 't13d');
  assert.equal(v.asn, 64500);
});

test('Cloudflare: times in s, ms, ns and RFC 3339; headers and cookies objects', () => {
  for (const ts of [1712790000.25, 1712790000250, 1712790000250000000, '2024-04-10T23:00:00.25Z']) {
    const line = JSON.stringify({
      ClientIP: '1.2.3.4',
      ClientRequestMethod: 'GET',
      ClientRequestURI: '/a?b=1',
      EdgeStartTimestamp: ts,
      RequestHeaders: { 'accept-language': 'fr' },
      Cookies: { sid: 'x' },
      JA4: 'j4',
      ClientASN: 13335,
    });
    const { ok, r } = one('cloudflare', line);
    assert.ok(ok);
    assert.equal(r?.time, '2024-04-10T23:00:00.250Z');
    assert.deepEqual(r?.headers, [{ name: 'accept-language', value: 'fr' }]);
    assert.deepEqual(r?.cookies, { sid: 'x' });
    assert.equal(r?.path, '/a');
    assert.equal(r?.query, 'b=1');
    assert.equal(r?.enrichment?.asn, 13335);
  }
});

test('JSON lines keep UTF-8 text; a line that is not an object of the format does not parse', () => {
  const line = Buffer.from(JSON.stringify({ ClientIP: '1.2.3.4', ClientRequestMethod: 'GET', ClientRequestURI: '/été', ClientRequestUserAgent: 'ü' }), 'utf8').toString('latin1');
  const { r } = one('cloudflare', line);
  assert.equal(r?.path, '/été');
  assert.equal(r?.user_agent, 'ü');
  for (const bad of ['[1,2]', 'null', '{"ClientIP":', '"x"', '{"other":1}']) assert.equal(one('cloudflare', bad).ok, false, bad);
});

test("the L7 generator's nginx format (combined + rt= host=) reads the same through combined and through its own log_format", () => {
  const f = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time host=$host';
  const line = '198.51.100.23 - - [01/Dec/2026:10:00:01 +0000] "GET /shop/item?id=7 HTTP/2.0" 200 5120 "-" "Mozilla/5.0 (X11; Linux x86_64)" rt=0.042 host=shop.example';
  const a = one('combined', line);
  const b = one(`nginx:${f}`, line);
  assert.ok(a.ok && b.ok);
  assert.deepEqual(a.r, b.r);
  assert.equal(a.r?.host, 'shop.example');
  assert.equal(a.r?.duration_ms, 42);
  assert.equal(a.r?.version, 'HTTP/2');
  assert.equal(detectFormat([line]).parser.name, 'combined');
});
