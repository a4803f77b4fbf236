/**
 * Spec §4 (and the literal rules of §5.1, §5.2), rule by rule, beyond the shared conformance
 * vectors: every literal form's value, and for every rule that rejects text the error class and
 * its span [start, end) in code points (spec §11). Test names cite the section and the rule.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IpValue } from '../../src/scheme/values.js';
import { bytesOf, evaluate, hex, rejects, rhsOf } from './spec-support.js';

const ip6 = (h: string) => IpValue.of6(Uint8Array.from(Buffer.from(h, 'hex')));

describe('§4 Bool', () => {
  test('§4 Bool: there are no true/false literals', () => {
    rejects('ssl == true', 'type', 4, 6); // a Bool takes no operator at all (§6)
    rejects('http.host == true', 'parse', 13, 17);
    rejects('tcp.dstport == false', 'parse', 15, 20, 'packet');
  });
});

describe('§4 Int literals', () => {
  test('§4 Int: decimal with an optional "-"', () => {
    assert.deepEqual(rhsOf('tcp.dstport == 443', 'packet'), { k: 'int', v: 443 });
    assert.deepEqual(rhsOf('tcp.dstport == -5', 'packet'), { k: 'int', v: -5 });
    assert.deepEqual(rhsOf('tcp.dstport == 0', 'packet'), { k: 'int', v: 0 });
  });

  test('§4 Int: 0x + hex digits (lowercase x; digits in either case)', () => {
    assert.deepEqual(rhsOf('tcp.dstport == 0x1bb', 'packet'), { k: 'int', v: 443 });
    assert.deepEqual(rhsOf('tcp.dstport == 0x1BB', 'packet'), { k: 'int', v: 443 });
    assert.deepEqual(rhsOf('tcp.dstport == -0x10', 'packet'), { k: 'int', v: -16 });
    rejects('tcp.dstport == 0X1bb', 'parse', 15, 20, 'packet');
  });

  test('§4 Int: a leading 0 means octal (0443 is 291)', () => {
    assert.deepEqual(rhsOf('tcp.dstport == 0673', 'packet'), { k: 'int', v: 443 });
    assert.deepEqual(rhsOf('tcp.dstport == 0443', 'packet'), { k: 'int', v: 291 });
    assert.deepEqual(rhsOf('tcp.dstport == 00', 'packet'), { k: 'int', v: 0 });
  });

  test('§4 Int: signed 64-bit; values beyond i64 are parse errors at the literal', () => {
    // Int values are JS numbers (values.ts): the bounds are accepted, their low bits are not kept.
    assert.deepEqual(rhsOf('tcp.dstport == 9223372036854775807', 'packet'), { k: 'int', v: 2 ** 63 });
    assert.deepEqual(rhsOf('tcp.dstport == -9223372036854775808', 'packet'), { k: 'int', v: -(2 ** 63) });
    rejects('tcp.dstport == 9223372036854775808', 'parse', 15, 34, 'packet');
    rejects('tcp.dstport == -9223372036854775809', 'parse', 15, 35, 'packet');
    rejects('tcp.dstport == 0x8000000000000000', 'parse', 15, 33, 'packet');
  });

  test('§4 Int: malformed digits (09, 12ab, 0x) are parse errors at the start of the literal', () => {
    rejects('tcp.dstport == 09', 'parse', 15, 17, 'packet');
    rejects('tcp.dstport == 12ab', 'parse', 15, 19, 'packet');
    rejects('tcp.dstport == 0x', 'parse', 15, 17, 'packet');
    rejects('tcp.dstport == 0xg1', 'parse', 15, 19, 'packet');
    rejects('tcp.dstport == 1e3 and ssl', 'parse', 15, 18, 'packet');
    rejects('http.request.headers.names[09] == "a"', 'parse', 27, 29);
  });

  test('§4 Int ranges a..b appear only inside sets', () => {
    assert.deepEqual(rhsOf('tcp.dstport in {80..90}', 'packet'), { k: 'intset', items: [{ lo: 80, hi: 90 }] });
    assert.deepEqual(rhsOf('tcp.dstport in {0x10..020 -5..-1}', 'packet'), {
      k: 'intset',
      items: [
        { lo: 16, hi: 16 },
        { lo: -5, hi: -1 },
      ],
    });
    rejects('tcp.dstport == 80..90', 'parse', 17, 18, 'packet'); // the comparison ended after 80
  });

  test('§4 Int ranges: no whitespace around ".."', () => {
    rejects('tcp.dstport in {80 ..90}', 'parse', 19, 20, 'packet'); // ".." cannot start an item
    rejects('tcp.dstport in {80.. 90}', 'parse', 16, 20, 'packet'); // a range without its high bound
    rejects('tcp.dstport in {80..}', 'parse', 16, 20, 'packet');
    rejects('tcp.dstport in {80...90}', 'parse', 16, 23, 'packet');
  });

  test('§4 Int ranges: a <= b', () => {
    assert.deepEqual(rhsOf('tcp.dstport in {5..5}', 'packet'), { k: 'intset', items: [{ lo: 5, hi: 5 }] });
    rejects('tcp.dstport in {90..80}', 'parse', 16, 22, 'packet');
    assert.equal(evaluate('tcp.dstport in {80..90}', { 'tcp.dstport': 85 }, 'packet'), true);
    assert.equal(evaluate('tcp.dstport in {80..90}', { 'tcp.dstport': 91 }, 'packet'), false);
  });
});

describe('§4 quoted strings', () => {
  test('§4 quoted strings: escapes \\" \\\\ \\xHH \\OOO', () => {
    assert.equal(bytesOf(String.raw`http.host == "a\"b\\c"`), hex('a"b\\c'));
    assert.equal(bytesOf(String.raw`http.host == "\x41\x4a\x4A\x00\xff"`), '414a4a00ff');
    assert.equal(bytesOf(String.raw`http.host == "\101\000\377"`), '4100ff');
  });

  test('§4 quoted strings: \\xHH takes exactly two hex digits, else a parse error at the backslash', () => {
    rejects(String.raw`http.host == "\x4g"`, 'parse', 14, 18);
    rejects(String.raw`http.host == "\x4"`, 'parse', 14, 17);
    rejects(String.raw`http.host == "\x"`, 'parse', 14, 16);
    rejects(String.raw`http.host == "\xZZ"`, 'parse', 14, 17);
  });

  test('§4 quoted strings: \\OOO takes exactly three octal digits, value <= 255', () => {
    rejects(String.raw`http.host == "\12"`, 'parse', 14, 17);
    rejects(String.raw`http.host == "\1"`, 'parse', 14, 16);
    rejects(String.raw`http.host == "\18"`, 'parse', 14, 17);
    rejects(String.raw`http.host == "\400"`, 'parse', 14, 18);
    rejects(String.raw`http.host == "\777"`, 'parse', 14, 18);
  });

  test('§4 quoted strings: every other escape (\\n, \\t, \\u…, \\*) is a parse error at the backslash', () => {
    for (const esc of ['\\n', '\\t', '\\u0041', '\\*', '\\X41', '\\r', "\\'"]) rejects(`http.host == "ab${esc}"`, 'parse', 16, 18);
  });

  test('§4 quoted strings: any other character ({, (, #, non-ASCII) stands for its UTF-8 bytes', () => {
    assert.equal(bytesOf('http.host == "{(#é€😀)}"'), hex('{(#é€😀)}'));
    assert.equal(bytesOf('http.host == "a b\tc"'), hex('a b\tc'));
  });

  test('§4 quoted strings: an unterminated string is a parse error at its opening quote', () => {
    rejects('http.host == "abc', 'parse', 13, 17);
    rejects(String.raw`http.host == "abc\"`, 'parse', 13, 19);
    rejects(String.raw`http.host == "\x4`, 'parse', 13, 17); // input ends inside the escape
  });
});

describe('§4 raw strings', () => {
  test('§4 raw strings: r"…" content is verbatim, no escapes processed', () => {
    assert.equal(bytesOf(String.raw`http.host == r"a\nb\x41"`), hex(String.raw`a\nb\x41`));
    assert.equal(bytesOf('http.host == r""'), '');
  });

  test('§4 raw strings: r#"…"# ends at the first quote followed by the same number of #', () => {
    assert.equal(bytesOf('http.host == r#"a"b"#'), hex('a"b'));
    assert.equal(bytesOf('http.host == r##"a"#b"##'), hex('a"#b'));
    assert.equal(bytesOf('http.host == r#""#'), '');
  });

  test('§4 raw strings: 1 to 255 "#"', () => {
    const h255 = '#'.repeat(255);
    assert.equal(bytesOf(`http.host == r${h255}"x"${h255}`), hex('x'));
    const h256 = '#'.repeat(256);
    rejects(`http.host == r${h256}"x"${h256}`, 'parse', 13, 13 + 1 + 256);
  });

  test('§4 raw strings: unterminated is a parse error at the r', () => {
    rejects('http.host == r"abc', 'parse', 13, 18);
    rejects('http.host == r#"abc"', 'parse', 13, 20);
  });
});

describe('§4 hex byte strings', () => {
  test('§4 hex byte strings: two or more two-hex-digit bytes separated by ":", "-" or "."', () => {
    assert.equal(bytesOf('http.host == 2e:2e'), '2e2e');
    assert.equal(bytesOf('http.host == 17-fe.fd'), '17fefd');
    assert.equal(bytesOf('http.host == AB:cd'), 'abcd');
    assert.equal(bytesOf('http.host == 10.20.30.40'), '10203040'); // lexed by the left side's type
  });

  test('§4 hex byte strings: a malformed one is a parse error at its start covering it', () => {
    rejects('http.host == 61:6', 'parse', 13, 17);
    rejects('http.host == 61:62:', 'parse', 13, 19);
    rejects('http.host == 61:zz and ssl', 'parse', 13, 18);
    rejects('http.host == 6:61', 'parse', 13, 17);
    rejects('http.host == 616:2', 'parse', 13, 18);
    rejects('http.host in {"a" 61:6}', 'parse', 18, 22);
    // A single byte is no hex string: 61 is an Int literal, of the wrong kind (a type error).
    rejects('http.host == 61', 'type', 13, 15);
  });

  test('§4 hex byte strings: allowed wherever a Bytes literal is', () => {
    assert.equal(bytesOf('http.host contains 61:62'), '6162');
    assert.equal(bytesOf('http.host ne 61:62'), '6162');
    assert.equal(bytesOf('http.host >= 61:62'), '6162');
    const set = rhsOf('http.host in {61:62 "ab" 63-64}');
    assert.equal(set.k, 'bytesset');
    assert.deepEqual(set.k === 'bytesset' && set.items.map((b) => Buffer.from(b).toString('hex')), ['6162', '6162', '6364']);
    assert.equal(evaluate('http.host == 61:62', { 'http.host': 'ab' }), true);
  });

  test('§4 hex byte strings: not as a regex or wildcard pattern', () => {
    rejects('http.host matches 61:62', 'parse', 18, 23);
    rejects('http.host ~ 61:62', 'parse', 12, 17);
    rejects('http.host wildcard 61:62', 'parse', 19, 24);
    rejects('http.host strict wildcard 2a-2a', 'parse', 26, 31);
  });
});

describe('§4 IP literals', () => {
  test('§4 Ip: a single address in any valid textual form, compared by value', () => {
    assert.deepEqual(rhsOf('ip.src == 192.0.2.1', 'packet'), { k: 'ip', v: IpValue.of4(0xc0000201) });
    const v6 = { k: 'ip', v: ip6('20010db8000000000000000000000001') };
    assert.deepEqual(rhsOf('ip.src == 2001:db8::1', 'packet'), v6);
    assert.deepEqual(rhsOf('ip.src == 2001:DB8:0:0:0:0:0:1', 'packet'), v6);
    assert.deepEqual(rhsOf('ip.src == 2001:0db8::0:1', 'packet'), v6);
    assert.deepEqual(rhsOf('ip.src == ::ffff:1.2.3.4', 'packet'), { k: 'ip', v: ip6('00000000000000000000ffff01020304') });
    assert.deepEqual(rhsOf('ip.src == ::', 'packet'), { k: 'ip', v: ip6('00'.repeat(16)) });
    assert.equal(evaluate('ip.src == 2001:DB8:0::1', { 'ip.src': '2001:db8::1' }, 'packet'), true);
  });

  test('§4 Ip: a CIDR where a single address is expected is a parse error at the literal', () => {
    rejects('ip.src == 10.0.0.0/8', 'parse', 10, 20, 'packet');
    rejects('ip.src != 10.0.0.0/8 and ssl', 'parse', 10, 20, 'packet');
    rejects('ip.src < 2001:db8::/32', 'parse', 9, 22, 'packet');
    rejects('ip.src == 10.0.0.1/8', 'parse', 10, 20, 'packet');
    rejects('ip.src == 10.0.0.1/', 'parse', 10, 19, 'packet');
    rejects('cidr(ip.src, 8, 64) == 10.0.0.0/8', 'parse', 23, 33, 'packet');
  });

  test('§4 Ip: an explicit range a..b where a single address is expected is a parse error at the literal', () => {
    rejects('ip.src == 10.0.0.1..10.0.0.9', 'parse', 10, 28, 'packet');
    rejects('ip.src ge ::1..::9', 'parse', 10, 18, 'packet');
  });

  test('§4 Ip: CIDR prefixes must have all host bits zero', () => {
    rejects('ip.src in {10.0.0.1/8}', 'parse', 11, 21, 'packet');
    rejects('ip.src in {10.0.0.0/8 2001:db8::1/32}', 'parse', 22, 36, 'packet');
    assert.deepEqual(rhsOf('ip.src in {10.0.0.0/8}', 'packet'), { k: 'ipset', items: [{ fam: 4, addr: Uint8Array.of(10, 0, 0, 0), len: 8 }] });
  });

  test('§4 Ip: prefix length <= 32 / <= 128', () => {
    const ok = rhsOf('ip.src in {0.0.0.0/0 10.0.0.1/32 ::/0 ::1/128}', 'packet');
    assert.deepEqual(ok.k === 'ipset' && ok.items.map((i) => ('len' in i ? i.len : -1)), [0, 32, 0, 128]);
    rejects('ip.src in {10.0.0.0/33}', 'parse', 11, 22, 'packet');
    rejects('ip.src in {::/129}', 'parse', 11, 17, 'packet');
    rejects('ip.src in {10.0.0.0/08}', 'parse', 11, 22, 'packet');
    rejects('ip.src in {10.0.0.0/}', 'parse', 11, 20, 'packet');
  });

  test("§4 Ip: a range's bounds must be the same family and ordered", () => {
    rejects('ip.src in {10.0.0.1..2001:db8::1}', 'parse', 11, 32, 'packet');
    rejects('ip.src in {10.0.0.9..10.0.0.1}', 'parse', 11, 29, 'packet');
    rejects('ip.src in {::9..::1}', 'parse', 11, 19, 'packet');
    rejects('ip.src in {10.0.0.1.. 10.0.0.9}', 'parse', 11, 21, 'packet');
    const r = rhsOf('ip.src in {10.0.0.1..10.0.0.1 ::1..::9}', 'packet');
    assert.deepEqual(r.k === 'ipset' && r.items.map((i) => i.fam), [4, 6]);
    assert.equal(evaluate('ip.src in {10.0.0.1..10.0.0.9}', { 'ip.src': '10.0.0.5' }, 'packet'), true);
    assert.equal(evaluate('ip.src in {10.0.0.1..10.0.0.9}', { 'ip.src': '10.0.0.10' }, 'packet'), false);
  });

  test('§4 Ip: dotted IPv4 with leading zeros in an octet is rejected', () => {
    rejects('ip.src == 010.0.0.1', 'parse', 10, 19, 'packet');
    rejects('ip.src == 10.0.0.01', 'parse', 10, 19, 'packet');
    rejects('ip.src == ::ffff:01.2.3.4', 'parse', 10, 25, 'packet');
    rejects('ip.src in {10.0.0.0/8 010.0.0.1}', 'parse', 22, 31, 'packet');
    assert.deepEqual(rhsOf('ip.src == 0.0.0.0', 'packet'), { k: 'ip', v: IpValue.of4(0) });
  });

  test('§4 Ip: text that is no valid address is a parse error at the literal', () => {
    rejects('ip.src == 10.0.0.256', 'parse', 10, 20, 'packet');
    rejects('ip.src == 1.2.3', 'parse', 10, 15, 'packet');
    rejects('ip.src == 2001:db8:::1', 'parse', 10, 22, 'packet');
  });
});

describe('§4 literal kinds', () => {
  test('§4 a valid literal of another kind is a type error covering that literal', () => {
    rejects('tcp.dstport == "80"', 'type', 15, 19, 'packet');
    rejects('tcp.dstport == r#"80"#', 'type', 15, 22, 'packet');
    rejects('tcp.dstport == 10.0.0.1', 'type', 15, 23, 'packet');
    rejects('tcp.dstport in {80 10.0.0.1}', 'type', 19, 27, 'packet');
    rejects('ip.src == 42', 'type', 10, 12, 'packet');
    rejects('ip.src == "10.0.0.1"', 'type', 10, 20, 'packet');
    rejects('ip.src in {42}', 'type', 11, 13, 'packet');
    rejects('http.host == 4200 and ssl', 'type', 13, 17);
    rejects('http.host in {1.2.3.4}', 'type', 14, 21);
    rejects('http.host matches 42', 'type', 18, 20);
  });

  test('§4 text that is no valid literal at all is a parse error', () => {
    rejects('http.host == abc', 'parse', 13, 16);
    rejects('tcp.dstport == abc', 'parse', 15, 18, 'packet');
    rejects('ip.src == abc', 'parse', 10, 13, 'packet');
    // A string that does not scan is no literal of another kind either.
    rejects(String.raw`tcp.dstport == "8\q"`, 'parse', 17, 19, 'packet');
  });
});

describe('§4 sets', () => {
  test('§4 sets: zero or more literals of the left side type (Ints and ranges, IPs, CIDRs and ranges, Bytes)', () => {
    assert.deepEqual(rhsOf('tcp.dstport in {80 443 8000..8080}', 'packet'), {
      k: 'intset',
      items: [
        { lo: 80, hi: 80 },
        { lo: 443, hi: 443 },
        { lo: 8000, hi: 8080 },
      ],
    });
    const ips = rhsOf('ip.src in {10.0.0.1 10.0.0.0/8 10.0.0.1..10.0.0.2 2001:db8::/32}', 'packet');
    assert.equal(ips.k === 'ipset' && ips.items.length, 4);
    const strs = rhsOf('http.host in {"a" r"b" r#"c"# 64:64}');
    assert.deepEqual(strs.k === 'bytesset' && strs.items.map((b) => Buffer.from(b).toString()), ['a', 'b', 'c', 'dd']);
  });

  test('§4 sets: {} matches nothing', () => {
    assert.equal(evaluate('tcp.dstport in {}', { 'tcp.dstport': 0 }, 'packet'), false);
    assert.equal(evaluate('ip.src in {}', { 'ip.src': '0.0.0.0' }, 'packet'), false);
    assert.equal(evaluate('http.host in {}', { 'http.host': '' }), false);
  });

  test('§4 sets: duplicates are allowed', () => {
    assert.equal(evaluate('tcp.dstport in {80 80 79..81}', { 'tcp.dstport': 80 }, 'packet'), true);
    assert.equal(evaluate('http.host in {"a" "a"}', { 'http.host': 'a' }), true);
    assert.equal(evaluate('ip.src in {10.0.0.1 10.0.0.1 10.0.0.0/8}', { 'ip.src': '10.0.0.1' }, 'packet'), true);
  });

  test('§4 sets: items are separated by whitespace', () => {
    assert.equal(evaluate('http.host in {"a"\t"b"\r\n"c"}', { 'http.host': 'c' }), true);
    rejects('http.host in {"a""b"}', 'parse', 17, 18);
    rejects('tcp.dstport in {80"a"}', 'parse', 18, 19, 'packet');
  });

  test('§4 sets: commas are a parse error at the comma', () => {
    rejects('tcp.dstport in {80, 443}', 'parse', 18, 19, 'packet');
    rejects('ip.src in {10.0.0.1,10.0.0.2}', 'parse', 19, 20, 'packet');
    rejects('http.host in {"a", "b"}', 'parse', 17, 18);
    rejects('http.host in {,}', 'parse', 14, 15);
  });
});

describe('§5.1 regular expression literals', () => {
  test('§5.1 a raw string is the pattern, verbatim', () => {
    assert.equal(bytesOf(String.raw`http.host matches r"\d+\."`), hex(String.raw`\d+\.`));
    assert.equal(bytesOf(String.raw`http.host matches r#"a"b\\"#`), hex(String.raw`a"b\\`));
  });

  test('§5.1 a quoted pattern keeps a backslash and the character after it', () => {
    assert.equal(bytesOf(String.raw`http.host matches "\d+\."`), hex(String.raw`\d+\.`));
    assert.equal(bytesOf(String.raw`http.host matches "a\\b"`), hex(String.raw`a\\b`));
    assert.equal(bytesOf(String.raw`http.host ~ "\x41"`), hex(String.raw`\x41`));
  });

  test('§5.1 \\" outside a character class becomes "', () => {
    assert.equal(bytesOf(String.raw`http.host matches "a\"b"`), hex('a"b'));
    assert.equal(bytesOf(String.raw`http.host matches "[\"]"`), hex(String.raw`[\"]`));
  });

  test('§5.1 inside a character class an unescaped " does not end the string', () => {
    assert.equal(bytesOf('http.host matches "["]"'), hex('["]'));
    assert.equal(bytesOf('http.host matches "[]"]"'), hex('[]"]'));
    rejects('http.host matches "[a-"', 'parse', 18, 23);
    rejects('http.host matches "[a-" and ssl', 'parse', 18, 31);
    assert.equal(evaluate('http.host matches "["]"', { 'http.host': 'say "hi"' }), true);
  });

  test('§5.1 an invalid or unsupported pattern is a pattern error at the opening quote (or r)', () => {
    rejects('http.host matches "(abc"', 'pattern', 18, 24);
    rejects('http.host matches r"(abc"', 'pattern', 18, 25);
    rejects('http.host matches r#"a(?=b)"#', 'pattern', 18, 29);
    rejects(String.raw`http.host ~ "(a)\1"`, 'pattern', 12, 19);
  });

  test('§5.1 in function arguments the quoted string is an ordinary string whose value is the pattern', () => {
    assert.equal(evaluate(String.raw`regex_replace(http.host, "\\\\", "/") == "a/b"`, { 'http.host': 'a\\b' }), true);
    assert.equal(evaluate(String.raw`regex_replace(http.host, r"\\", "/") == "a/b"`, { 'http.host': 'a\\b' }), true);
    rejects(String.raw`regex_replace(http.host, "\d", "x") == "a"`, 'parse', 26, 28);
    rejects('regex_replace(http.host, "(", "x") == "a"', 'pattern', 25, 28);
  });
});

describe('§5.2 wildcard literals', () => {
  test('§5.2 the pattern is an ordinary string literal: quoted escapes first, or raw', () => {
    assert.equal(bytesOf(String.raw`http.host wildcard "a\\*"`), hex(String.raw`a\*`));
    assert.equal(bytesOf(String.raw`http.host wildcard r"a\*"`), hex(String.raw`a\*`));
    assert.equal(evaluate(String.raw`http.host wildcard r"a\*"`, { 'http.host': 'a*' }), true);
    assert.equal(evaluate(String.raw`http.host wildcard r"a\*"`, { 'http.host': 'ab' }), false);
    rejects(String.raw`http.host wildcard "a\*"`, 'parse', 21, 23); // \* is no string escape
  });

  test('§5.2 "**" and backslash sequences other than \\* and \\\\ are pattern errors at the opening quote (or r)', () => {
    rejects('http.host wildcard "a**b"', 'pattern', 19, 25);
    rejects('http.host strict wildcard r#"**"#', 'pattern', 26, 33);
    rejects(String.raw`http.host wildcard r"a\q"`, 'pattern', 19, 25);
    rejects(String.raw`http.host wildcard "a\\b"`, 'pattern', 19, 25); // the string's value is a\b
  });
});
