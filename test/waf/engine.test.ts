/**
 * The WAF library API over the installed CRS 3.3.4 (Debian modsecurity-crs), plus the pieces
 * under it: the SecLang reader, transformations (values from ModSecurity's reference manual
 * definitions), and the SQLi/XSS detectors on attacks and on everyday benign text.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AhoCorasick } from '../../src/waf/aho.js';
import { createWaf, WafConfigError, type WafRequest } from '../../src/waf/engine.js';
import { parseActions, parseSecLang } from '../../src/waf/seclang.js';
import { detectSqli } from '../../src/waf/sqli.js';
import * as T from '../../src/waf/transforms.js';
import { detectXss } from '../../src/waf/xss.js';

const BROWSER: [string, string][] = [
  ['Host', 'shop.example.com'],
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['Accept-Language', 'en-US,en;q=0.9'],
  ['Accept-Encoding', 'gzip, deflate, br'],
  ['Cookie', 'session=3f9a1c07d2b84e55; theme=dark'],
];

function get(uri: string, headers = BROWSER): WafRequest {
  return { method: 'GET', uri, protocol: 'HTTP/1.1', headers };
}

const ids = (v: { matched: { id: number }[] }): number[] => v.matched.map((m) => m.id);

const waf = createWaf({ paranoia: 1, mode: 'block' });

test('the CRS loads without warnings', () => {
  assert.deepEqual(waf.warnings, []);
  assert.ok(waf.ruleCount > 600, `${waf.ruleCount} rules`);
});

test('benign browser requests pass with no rule matched', () => {
  for (const uri of ['/', '/products/view?id=1234&category=shoes&sort=price_asc', '/search?q=red+running+shoes&page=2', "/blog/it's-a-post?ref=home"]) {
    const v = waf.evaluate(get(uri));
    assert.equal(v.action, 'pass', `${uri}: ${ids(v)}`);
    assert.deepEqual(ids(v), []);
    assert.equal(v.anomaly.inbound, 0);
  }
  const body = 'first_name=Jane&last_name=Doe&email=jane.doe%40example.com&notes=Leave+it+at+the+door.';
  const v = waf.evaluate({
    method: 'POST',
    uri: '/checkout',
    protocol: 'HTTP/1.1',
    headers: [...BROWSER, ['Content-Type', 'application/x-www-form-urlencoded'], ['Content-Length', String(body.length)]],
    body,
  });
  assert.deepEqual(ids(v), []);
});

test('SQL injection is blocked by anomaly score with 942100 among the matches', () => {
  const v = waf.evaluate(get("/item?id=1'%20or%20'1'='1"));
  assert.equal(v.action, 'block');
  assert.equal(v.status, 403);
  assert.ok(ids(v).includes(942100), `${ids(v)}`);
  assert.ok(ids(v).includes(949110));
  assert.ok(v.anomaly.inbound >= 5);
  const m = v.matched.find((x) => x.id === 942100);
  assert.equal(m?.severity, 'CRITICAL');
  assert.match(m?.msg ?? '', /SQL Injection/i);
  assert.match(m?.data ?? '', /ARGS:id/);
});

test('XSS is blocked with 941100 (libinjection-style) among the matches', () => {
  const v = waf.evaluate(get('/?q=%3Cscript%3Ealert(1)%3C/script%3E'));
  assert.equal(v.action, 'block');
  assert.ok(ids(v).includes(941100), `${ids(v)}`);
});

test('detect mode logs but never blocks; thresholds and exclusions change the verdict', () => {
  const attack = get("/item?id=1'%20or%20'1'='1");
  const detect = createWaf({ paranoia: 1, mode: 'detect' });
  const d = detect.evaluate(attack);
  assert.equal(d.action, 'pass');
  assert.ok(ids(d).includes(942100));
  const lenient = createWaf({ paranoia: 1, thresholds: { inbound: 1000 } });
  assert.equal(lenient.evaluate(attack).action, 'pass');
  const noTarget = createWaf({ paranoia: 1, exclusions: [{ id: [942000, 942999], target: 'ARGS:id' }] });
  assert.ok(!ids(noTarget.evaluate(attack)).some((id) => id >= 942000 && id < 943000));
  const removed = createWaf({ paranoia: 1, exclusions: [{ id: 942100 }] });
  assert.ok(!ids(removed.evaluate(attack)).includes(942100));
});

test('paranoia levels: a PL2 rule fires only from paranoia 2', () => {
  // 920300: request missing an Accept header (a PL2 rule)
  const noAccept = get('/', [
    ['Host', 'a'],
    ['User-Agent', 'curl/8'],
  ]);
  assert.ok(!ids(waf.evaluate(noAccept)).includes(920300));
  assert.ok(ids(createWaf({ paranoia: 2 }).evaluate(noAccept)).includes(920300));
});

test('SecLang reader: continuation lines, quoting as Apache reads it, actions', () => {
  const d = parseSecLang('SecRule ARGS "@rx a\\\\b\\"c" \\\n    "id:1,\\\n    phase:2,msg:\'it\\\'s, ok\',t:none"\n# comment\nSecMarker END\n', 'x.conf');
  assert.equal(d.length, 2);
  assert.deepEqual(d[0].args, ['ARGS', '@rx a\\b"c', "id:1,phase:2,msg:'it\\'s, ok',t:none"]);
  assert.equal(d[1].line, 5);
  assert.deepEqual(parseActions(d[0].args[2]), [
    { name: 'id', value: '1' },
    { name: 'phase', value: '2' },
    { name: 'msg', value: "it's, ok" },
    { name: 't', value: 'none' },
  ]);
});

test('transformations behave as ModSecurity defines them', () => {
  assert.equal(T.urlDecodeUni('%41%u0042%uFF43+d%zz'), 'ABc d%zz');
  assert.equal(T.urlDecode('a%2fb+c%'), 'a/b c%');
  assert.equal(T.htmlEntityDecode('&lt;&#x41;&#66;&quot&amp;&bogus;'), '<AB"&&bogus;');
  assert.equal(T.jsDecode('\\x41\\u0042\\103\\n\\q'), 'ABC\nq');
  assert.equal(T.cssDecode('\\41 \\000042C\\\nD'), 'ABCD');
  assert.equal(T.cmdLine('C^:\\Win"dows, ;PING  (x) /y'), 'c:windows ping(x)/y');
  assert.equal(T.compressWhitespace('a \t\n b'), 'a b');
  assert.equal(T.removeWhitespace(' a b\tc '), 'abc');
  assert.equal(T.removeNulls('a\0b'), 'ab');
  assert.equal(T.replaceComments('a/*x*/b/*c'), 'a b ');
  assert.equal(T.normalizePath('/a/./b/../c//d'), '/a/c/d');
  assert.equal(T.normalizePathWin('\\a\\..\\b'), '/b');
  assert.equal(T.utf8toUnicode('\xc3\xa9'), '%u00e9');
  assert.equal(T.base64Decode('YWJj'), 'abc');
  assert.equal(T.hexEncode('AB'), '4142');
  assert.equal(T.length('abcd'), '4');
  assert.equal(T.lowercase('AbC'), 'abc');
  assert.equal(T.hexEncode(T.sha1('abc')), 'a9993e364706816aba3e25717850c26c9cd0d89d');
});

test('Aho-Corasick finds phrases case-insensitively, overlapping and suffix ones too', () => {
  const ac = new AhoCorasick(['he', 'she', 'hers', '/etc/passwd']);
  assert.equal(ac.phrases[ac.search('uSHErs')], 'she');
  assert.equal(ac.phrases[ac.search('x/ETC/passwd')], '/etc/passwd');
  assert.equal(ac.search('nothing'), -1);
});

test('SQLi detector: attacks found, everyday text left alone', () => {
  const attacks = [
    '1234 OR 1=1',
    "-1839' or '1'='1",
    "admin'--",
    "1' union select username,password from users--",
    "x'); drop table users; --",
    'sleep(10)',
    "1 and benchmark(1000000,md5('a'))",
    "' or 'x'='x",
    '1) or (1=1',
  ];
  const benign = [
    'hello world',
    "O'Reilly",
    "it's a nice day, isn't it",
    'cats or dogs',
    'select your size',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64)',
    'john.doe@example.com',
    '5" x 7" frame',
    "Tom's #1 fan",
    'We are open 9-5 or by appointment',
  ];
  for (const a of attacks) assert.ok(detectSqli(a) !== null, `missed ${a}`);
  for (const b of benign) assert.equal(detectSqli(b), null, `false positive on ${b}`);
});

test('XSS detector: attacks found, everyday text left alone', () => {
  const attacks = [
    '<script>alert(1)</script>',
    '"><img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '<svg/onload=alert(1)>',
    '" onmouseover="alert(1)',
    '<x:script xmlns:x="http://www.w3.org/1999/xhtml">',
  ];
  const benign = ['a < b and c > d', '<b>bold</b>', "O'Reilly online", 'the "one" on top', 'x=1 onion', "don't style it"];
  for (const a of attacks) assert.ok(detectXss(a), `missed ${a}`);
  for (const b of benign) assert.ok(!detectXss(b), `false positive on ${b}`);
});

test('unknown directives, operators and bad patterns are warnings naming file and line', () => {
  const w = createWaf({
    paranoia: 1,
    extraConfig: 'SecFooBar On\nSecRule ARGS "@noSuchOp x" "id:1,phase:2,pass"\nSecRule ARGS "@rx (?R)" "id:2,phase:2,pass"\n',
  });
  assert.equal(w.warnings.length, 3, w.warnings.join('\n'));
  assert.match(w.warnings[0], /<extraConfig>:1: unknown directive SecFooBar/);
  assert.match(w.warnings[1], /<extraConfig>:2: .*unsupported operator @noSuchOp/);
  assert.match(w.warnings[2], /<extraConfig>:3: .*recursion/);
});

test('a missing rule set is a clear error', () => {
  assert.throws(() => createWaf({ crsPath: '/nonexistent/crs' }), WafConfigError);
});
