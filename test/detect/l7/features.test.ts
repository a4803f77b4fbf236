/** What L7 detection reads of a record: addresses, static assets, login endpoints, sensitive paths, signature text. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultIsLogin, formatV4, isSensitivePath, parseV4, RequestTraits } from '../../../src/detect/l7/features.js';
import type { Row } from '../../../src/detect/l7/sample.js';
import { quote, searchSignature } from '../../../src/detect/l7/signature.js';
import { parserFor } from '../../../src/sources/accesslog/parsers.js';
import { HttpLogView } from '../../../src/sources/accesslog/view.js';

test('IPv4 addresses parse to int32 and back; anything else is -1', () => {
  for (const ip of ['1.2.3.4', '255.255.255.254', '0.0.0.0', '203.0.113.77']) assert.equal(formatV4(parseV4(ip, 0, ip.length)), ip);
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '2001:db8::1', '', 'a.b.c.d', '1.2.3.4 ']) assert.equal(parseV4(bad, 0, bad.length), -1, bad);
});

test('login endpoints: POSTs to the usual paths, any case, trailing slash', () => {
  for (const p of ['/login', '/wp-login.php', '/signin', '/api/auth', '/v1/auth/login', '/Account/Login/', '/oauth/token', '/users/sign-in']) assert.ok(defaultIsLogin(p), p);
  for (const p of ['/', '/products/login-jacket', '/logins', '/blog/how-to-login-safely', '/static/login.css']) assert.ok(!defaultIsLogin(p), p);
});

test('sensitive paths: secrets, VCS metadata, dumps, other software consoles, under any prefix; not the site', () => {
  for (const p of [
    '/.env',
    '/backup/.env',
    '/.git/config',
    '/.GIT/HEAD',
    '/wp-admin/',
    '/phpmyadmin/',
    '/db.sql',
    '/site.tar.gz',
    '/actuator/env',
    '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
    '/cgi-bin/luci',
    '/a/../../etc/passwd',
  ])
    assert.ok(isSensitivePath(p), p);
  for (const p of ['/', '/products/trail-jacket', '/search', '/static/js/app.4f9c21d7.js', '/category/sale', '/environment-policy', '/login']) assert.ok(!isSensitivePath(p), p);
});

test('traits of one nginx line: page or asset, referer, cookie, login attempt, client key', () => {
  const parser = parserFor('combined');
  const v = new HttpLogView();
  const tr = new RequestTraits();
  assert.ok(parser.parse('198.51.100.7 - - [02/Mar/2026:10:00:00 +0000] "POST /login HTTP/1.1" 401 220 "-" "curl/8"', v));
  assert.ok(tr.read(v));
  assert.equal(tr.fam, 4);
  assert.equal(formatV4(tr.ipKey), '198.51.100.7');
  assert.ok(tr.login && !tr.asset && !tr.hasReferer && !tr.hasCookie);
  assert.equal(tr.status, 401);
  assert.ok(parser.parse('2001:db8::1 - - [02/Mar/2026:10:00:01 +0000] "GET /static/app.JS?v=2 HTTP/2.0" 200 9 "https://www.example.com/" "Mozilla/5.0"', v));
  assert.ok(tr.read(v));
  assert.equal(tr.fam, 6);
  assert.ok(tr.asset && tr.hasReferer && !tr.login);
});

test('signature text: quoted as the Rules language wants; the search keeps the attack and drops the rest', () => {
  assert.equal(quote('a"b\\c\x01é'), '"a\\"b\\\\c\\x01\\xe9"');
  const row = (over: Partial<Row>): Row => ({
    timeMs: 0,
    ip: '192.0.2.1',
    ipKey: 1,
    fam: 4,
    host: 'h',
    method: 'GET',
    path: '/',
    query: '',
    version: 'HTTP/2',
    ua: 'Mozilla/5.0 browser',
    referer: 'https://h/',
    cookie: true,
    status: 200,
    ja3: '',
    ja4: '',
    ...over,
  });
  const pos = Array.from({ length: 200 }, (_, i) => row({ path: '/search', query: `q=${i}`, version: 'HTTP/1.1', referer: '', cookie: false, ua: i % 2 ? 'bot-a' : 'bot-b' }));
  const neg = [
    ...Array.from({ length: 5000 }, (_, i) => row({ path: i % 3 ? '/search' : '/products/x', query: i % 3 ? 'q=boots' : '' })),
    ...Array.from({ length: 50 }, () => row({ path: '/search', query: 'q=x', referer: '', cookie: false, version: 'HTTP/1.1', ua: 'curl/8' })),
  ];
  const s = searchSignature('h', pos, neg);
  assert.equal(s.coverage, 1);
  assert.equal(s.collateral, 0);
  assert.match(s.expression, /^http\.host eq "h" and /);
  assert.match(s.expression, /http\.user_agent in \{"bot-a" "bot-b"\}/);
});
