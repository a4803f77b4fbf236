/**
 * @ipMatch and @ipMatchFromFile: the inputs ModSecurity's @ipMatch accepts (inet_pton addresses,
 * CIDR lengths 1..32 / 1..128, entries split on commas) through the shared parser in
 * src/core/net/prefix.ts and the trie in src/core/net/trie.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compileOperator, type OpContext, OperatorError } from '../../src/waf/operators.js';

const ctx: OpContext = { caps: new Array(10).fill(undefined), expand: (p) => p };
const matcher = (param: string) => {
  const op = compileOperator('ipMatch', param, '/x.conf');
  return (value: string): boolean => op.match(value, ctx, false);
};

test('@ipMatch: single addresses of both families, as the CRS writes them', () => {
  const m = matcher('127.0.0.1,::1');
  assert.equal(m('127.0.0.1'), true);
  assert.equal(m('::1'), true);
  assert.equal(m('0:0:0:0:0:0:0:1'), true);
  assert.equal(m('127.0.0.2'), false);
  assert.equal(m('::2'), false);
  assert.equal(m('not an address'), false);
  assert.equal(m(''), false);
});

test('@ipMatch: CIDR prefixes, host bits set in an entry, whitespace around entries and values', () => {
  const m = matcher('10.0.0.0/8, 192.168.1.7/24 ,2001:db8::/32');
  assert.equal(m('10.255.1.1'), true);
  assert.equal(m('192.168.1.200'), true);
  assert.equal(m('192.168.2.1'), false);
  assert.equal(m(' 10.1.1.1 '), true);
  assert.equal(m('2001:db8:1::5'), true);
  assert.equal(m('2001:db9::1'), false);
  // an IPv4 value never matches an IPv6 prefix and the other way round
  assert.equal(matcher('::/1')('10.0.0.1'), false);
  assert.equal(matcher('1.2.3.4/32')('1.2.3.4'), true);
  assert.equal(matcher('2001:db8::1/128')('2001:db8::1'), true);
});

test('@ipMatch: edge cases follow inet_pton (changed from the former hand-written parser)', () => {
  // IPv6 with a dotted IPv4 tail is an address (was refused)
  assert.equal(matcher('::ffff:10.0.0.0/104')('::ffff:10.1.2.3'), true);
  // an octet with a leading zero is not an address (was read as decimal)
  assert.equal(matcher('10.0.0.0/8')('010.0.0.1'), false);
  // `::` must stand for at least one group (was accepted for none)
  assert.equal(matcher('1:2:3:4:5:6:7:8')('1:2:3:4:5:6:7::8'), false);
  // empty entries are skipped, as ModSecurity's strtok does (was an error)
  const m = matcher('1.2.3.4,,5.6.7.8,');
  assert.equal(m('5.6.7.8'), true);
});

test('@ipMatch: entries ModSecurity refuses are compile errors', () => {
  // /0 (ModSecurity reads it as invalid; was a match-all), lengths over the family's (were read as
  // the full length), masks that are not a number (were a match-all), ranges, bad octets, leading
  // zeros, zones
  for (const bad of [
    '1.2.3.4/0',
    '1.2.3.4/33',
    '1.2.3.4/x',
    '1.2.3.4/255.0.0.0',
    '1.2.3.4-1.2.3.9',
    '300.1.1.1',
    '01.2.3.4',
    '2001:db8::/0',
    '2001:db8::/129',
    'fe80::1%eth0',
    'x',
  ]) {
    assert.throws(() => compileOperator('ipMatch', bad, '/x.conf'), OperatorError, bad);
  }
});

test('@ipMatchFromFile: one entry per line, comments and blank lines skipped, path relative to the rule file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-ipmatch-'));
  try {
    writeFileSync(join(dir, 'ips.data'), '# blocked\n203.0.113.0/24\n\n2001:db8:dead::/48\n');
    const op = compileOperator('ipMatchFromFile', 'ips.data', join(dir, 'rules.conf'));
    assert.equal(op.match('203.0.113.9', ctx, false), true);
    assert.equal(op.match('2001:db8:dead:1::1', ctx, false), true);
    assert.equal(op.match('198.51.100.1', ctx, false), false);
    assert.equal(op.pure, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
