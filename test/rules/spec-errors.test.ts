/**
 * Spec §11 (errors), rule by rule: each error class for each situation the table lists, with
 * the position the table gives and a span [start, end) covering the offending token, in code
 * points of the original expression (§1). Literal rules are in spec-literals.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorOf, rejects } from './spec-support.js';

const lists = { nets: { kind: 'ip' as const, items: ['10.0.0.0/8'] }, hosts: { kind: 'bytes' as const, items: ['a'] } };

describe('§11 parse', () => {
  test('§11 parse: an empty expression, at the length of the expression', () => {
    rejects('', 'parse', 0, 0);
    rejects(' \t\r\n', 'parse', 4, 4);
  });

  test('§11 parse: an unexpected token, at its first character', () => {
    rejects('ssl ssl', 'parse', 4, 7);
    rejects('tcp.dstport = 80', 'parse', 12, 13, 'packet');
    rejects('tcp.dstport == 80 80', 'parse', 18, 20, 'packet');
    rejects('ssl # comment', 'parse', 4, 5); // §1: there are no comments
  });

  test('§11 parse: input ending too early, at the length of the expression', () => {
    rejects('ssl and', 'parse', 7, 7);
    rejects('not', 'parse', 3, 3);
    rejects('tcp.dstport ==', 'parse', 14, 14, 'packet');
    rejects('lower(http.host,', 'parse', 16, 16);
  });

  test('§11 parse: unbalanced parentheses, brackets and braces', () => {
    rejects('(ssl', 'parse', 4, 4);
    rejects('((ssl) and ssl', 'parse', 14, 14);
    rejects('ssl)', 'parse', 3, 4);
    rejects('lower(http.host == "a"', 'parse', 22, 22);
    rejects('http.request.headers.names[0', 'parse', 28, 28);
    rejects('http.request.headers.names[0 == "a"', 'parse', 29, 30);
    rejects('tcp.dstport in {80 443', 'parse', 22, 22, 'packet');
  });

  test('§11 parse: an unterminated string, at its opening quote (or r)', () => {
    rejects('http.host == "abc', 'parse', 13, 17);
    rejects('http.host == r##"abc"#', 'parse', 13, 22);
    rejects('http.request.headers["accept', 'parse', 21, 28);
  });

  test('§11 parse: a bad escape, at its backslash', () => {
    rejects(String.raw`http.host == "ok\n"`, 'parse', 16, 18);
    rejects(String.raw`http.request.headers["a\q"][0] == "a"`, 'parse', 23, 25);
    rejects(String.raw`starts_with(http.host, "\u00e9")`, 'parse', 24, 26);
  });

  test('§11 parse: a malformed Int, IP, CIDR or range literal, at its start', () => {
    rejects('tcp.dstport == 12ab', 'parse', 15, 19, 'packet');
    rejects('ip.src == 10.0.0.256', 'parse', 10, 20, 'packet');
    rejects('ip.src in {10.0.0.1/8}', 'parse', 11, 21, 'packet');
    rejects('ip.src == 10.0.0.0/8', 'parse', 10, 20, 'packet');
    rejects('tcp.dstport in {90..80}', 'parse', 16, 22, 'packet');
    rejects('substring(http.host, 09) == "a"', 'parse', 21, 23);
  });

  test('§11 parse: a keyword where an operand is expected', () => {
    rejects('and ssl', 'parse', 0, 3);
    rejects('ssl or or ssl', 'parse', 7, 9);
    rejects('not in', 'parse', 4, 6);
    rejects('tcp.dstport == and', 'parse', 15, 18, 'packet');
  });

  test('§11 parse: commas in a set, at the comma', () => {
    rejects('tcp.dstport in {80,443}', 'parse', 18, 19, 'packet');
  });

  test('§11 parse: a literal or field on the wrong side', () => {
    rejects('"a" == http.host', 'parse', 0, 1);
    rejects('r"a" == http.host', 'parse', 0, 1);
    rejects('80 == tcp.dstport', 'parse', 0, 1, 'packet');
    rejects('ip.src == ip.dst', 'parse', 10, 16, 'packet');
    rejects('http.host == lower(http.host)', 'parse', 13, 18);
  });

  test('§11 parse: a bad list name, at the $', () => {
    rejects('ip.src in $Office', 'parse', 10, 17, 'packet', lists);
    rejects('ip.src in $', 'parse', 10, 11, 'packet', lists);
    rejects('ip.src in $-x', 'parse', 10, 11, 'packet', lists);
  });
});

describe('§11 unknown names', () => {
  test('§11 unknown_field: an identifier that is neither a field nor a function, at its first character', () => {
    rejects('http.hostname == "a"', 'unknown_field', 0, 13);
    rejects('ssl and  HTTP.HOST == "a"', 'unknown_field', 9, 18);
    rejects('tcp.dstport == 80', 'unknown_field', 0, 11); // a packet field in the HTTP scheme
  });

  test('§11 unknown_function: an unknown identifier directly followed by "(", at the name', () => {
    rejects('LOWER(http.host) == "a"', 'unknown_function', 0, 5);
    rejects('ssl or trim (http.host) == "a"', 'unknown_function', 7, 11);
    rejects('encode_base64(http.host) == "a"', 'unknown_function', 0, 13); // §7: a reserved name is unknown_function
  });
});

describe('§11 type', () => {
  test('§11 type: an operator not valid for the value type, at the operator', () => {
    rejects('tcp.dstport contains "4"', 'type', 12, 20, 'packet');
    rejects('http.host & 1', 'type', 10, 11);
    rejects('ip.src matches "^1"', 'type', 7, 14, 'packet');
  });

  test('§11 type: a literal of the wrong kind, at the literal', () => {
    rejects('tcp.dstport == "443"', 'type', 15, 20, 'packet');
    rejects('ip.src in {"10.0.0.1"}', 'type', 11, 21, 'packet');
    rejects('http.host wildcard 42', 'type', 19, 21);
  });

  test('§11 type: a Bool given an operator, at the operator', () => {
    rejects('ssl eq 1', 'type', 4, 6);
    rejects('tcp.flags.syn != 0', 'type', 14, 16, 'packet');
  });

  test('§11 type: a non-Bool value used as a condition, at the start of the value', () => {
    rejects('ssl and  lower(http.host)', 'type', 9, 25);
    rejects('not tcp.dstport', 'type', 4, 15, 'packet');
  });

  test('§11 type: an index of the wrong kind, at the [', () => {
    rejects('http.host[0] == "a"', 'type', 9, 10);
    rejects('http.request.headers.names["a"] == "a"', 'type', 26, 27);
    rejects('http.request.headers [0][0] == "a"', 'type', 21, 22);
  });

  test('§11 type: [*] misuse, at the argument', () => {
    rejects('concat("a", http.request.headers.names[*])[*] == "a"', 'type', 12, 41);
  });

  test('§11 type: Bool mixed with Array<Bool> in a logical operator, at the right operand', () => {
    rejects('ssl and http.request.headers.names[*] == "a"', 'type', 8, 44);
    rejects('http.request.headers.names[*] == "a" or  ssl', 'type', 41, 44);
  });

  test('§11 type: a non-Array<Bool> in any/all, at the argument', () => {
    rejects('any(ssl)', 'type', 4, 7);
    rejects('all( http.request.headers.names)', 'type', 5, 31);
  });

  test("§11 type: a top-level value that is not Bool, at the expression's first non-blank character", () => {
    rejects('  http.request.headers.names[*] == "a"', 'type', 2, 38);
    rejects('\t http.host', 'type', 2, 11);
  });

  test('§11 type: a list whose kind does not match the left side, at the $', () => {
    rejects('ip.src in $hosts', 'type', 10, 16, 'packet', lists);
  });
});

describe('§11 argument', () => {
  test('§11 argument: a wrong number of arguments, at the function name', () => {
    rejects('lower(http.host, http.host) == "a"', 'argument', 0, 5);
    rejects('starts_with(http.host)', 'argument', 0, 11);
  });

  test('§11 argument: inconsistent concat argument types, at the function name', () => {
    rejects('concat(http.host, http.request.headers.names) == "a"', 'argument', 0, 6);
  });

  test('§11 argument: a literal where a field is required or vice versa, at the argument', () => {
    rejects('lower("A") == "a"', 'argument', 6, 9);
    rejects('starts_with(http.host, http.host)', 'argument', 23, 32);
  });

  test('§11 argument: an argument type the function does not take, at the argument', () => {
    rejects('len(http.request.headers) > 1', 'argument', 4, 24);
    rejects('substring(http.host, "1") == "a"', 'argument', 21, 24);
  });

  test('§11 argument: a constant out of range (bits, limit, flags, options), at the argument', () => {
    rejects('cidr(ip.src, 33, 64) == 10.0.0.0', 'argument', 13, 15, 'packet');
    rejects('split(http.host, ".", 129)[0] == "a"', 'argument', 22, 25);
    rejects('wildcard_replace(http.host, "*", "x", "i") == "a"', 'argument', 38, 41);
    rejects('url_decode(http.host, "x") == "a"', 'argument', 22, 25);
  });
});

describe('§11 pattern and unknown_list', () => {
  test('§11 pattern: an invalid regex or wildcard, at the opening quote (or r) of the pattern literal', () => {
    rejects('http.host matches "a{2,1}"', 'pattern', 18, 26);
    rejects('http.host wildcard r"**"', 'pattern', 19, 24);
    rejects('wildcard_replace(http.host, "a**", "x") == "a"', 'pattern', 28, 33);
  });

  test('§11 unknown_list: $name not defined, at the $', () => {
    rejects('ip.src in $nope', 'unknown_list', 10, 15, 'packet', lists);
    rejects('ssl or http.host in $hostz', 'unknown_list', 20, 26, 'http', lists);
  });
});

describe('§11 general rules', () => {
  test('§11 the first error in left-to-right order is reported', () => {
    rejects('http.host == 42 and bogus.field', 'type', 13, 15);
    rejects('bogus.field == 42 and http.host == 42', 'unknown_field', 0, 11);
    rejects('http.host == "\\q" and http.host == 42', 'parse', 14, 16);
  });

  test('§1/§11 positions are code-point offsets of the original expression, before any trimming', () => {
    // "😀" is one code point (two UTF-16 units): the unknown field starts at 22, not 24.
    rejects('http.host == "😀😀" and bogus', 'unknown_field', 22, 27);
    rejects('  http.host == "é" and http.host == 1', 'type', 36, 37);
    rejects('   http.hostx', 'unknown_field', 3, 13);
  });

  test('§11 end >= start and the span covers the offending token', () => {
    for (const expr of ['', 'ssl and', '(ssl', 'http.host == "abc', 'ip.src == 10.0.0.0/8', 'http.host == 61:6', 'lower(http.host']) {
      const e = errorOf(expr);
      assert.ok(e.end >= e.start && e.end <= Array.from(expr).length, `${expr}: ${e.start}..${e.end}`);
    }
  });
});
