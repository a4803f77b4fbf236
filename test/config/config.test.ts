/**
 * palisade.yaml: one loader validates the whole file; every mistake is a ConfigError naming the
 * file, line and column of the offending node.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig, parseConfig } from '../../src/config/index.js';
import { ConfigError, UsageError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The error parsing `text` as palisade.yaml throws. */
function errorOf(text: string): ConfigError {
  try {
    parseConfig(text, 'palisade.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `a ConfigError, not ${String(e)}`);
    return e;
  }
  assert.fail(`no error for:\n${text}`);
}

/** Asserts the error's file:line:col and that the message matches. */
function refuses(text: string, line: number, column: number, message: RegExp): void {
  const e = errorOf(text);
  assert.equal(e.file, 'palisade.yaml');
  assert.equal(`${e.line}:${e.column}`, `${line}:${column}`, e.message);
  assert.ok(e.message.startsWith(`palisade.yaml:${line}:${column}: `), e.message);
  assert.match(e.message, message);
}

const threshold = (prefix: string) => `detection:\n  thresholds:\n    - prefix: ${prefix}\n      pps: 100\n`;

test('a valid file gives the typed detection section', () => {
  const text = [
    'detection:',
    '  prefix4: 22',
    '  prefix6: 56',
    '  quiet_s: 30',
    '  thresholds:',
    '    - prefix: 203.0.113.0/24',
    '      pps: 20000',
    '      bps: 1000000000',
    '      vectors:',
    '        dns_amplification: { pps: 500 }',
    '        tcp_syn_flood: { bps: 8000000 }',
    '    - prefix: 2001:db8:10::/48',
    '      pps: 1000',
    '    - prefix: 192.0.2.7',
    '      pps: 5',
    '',
  ].join('\n');
  const f = join(dir, 'palisade.yaml');
  writeFileSync(f, text);
  const cfg = loadConfig(f);
  assert.equal(cfg.file, f);
  const d = cfg.detection;
  assert.equal(d.prefix4, 22);
  assert.equal(d.prefix6, 56);
  assert.equal(d.quietS, 30);
  assert.equal(d.thresholds?.length, 3);
  const [a, b, c] = d.thresholds ?? [];
  assert.deepEqual({ ...a?.prefix, addr: [...(a?.prefix.addr ?? [])] }, { family: 4, addr: [203, 0, 113, 0], len: 24 });
  assert.equal(a?.pps, 20000);
  assert.equal(a?.bps, 1e9);
  assert.deepEqual(a?.vectors, { dns_amplification: { pps: 500 }, tcp_syn_flood: { bps: 8e6 } });
  assert.equal(b?.prefix.family, 6);
  assert.equal(b?.prefix.len, 48);
  assert.deepEqual([...(b?.prefix.addr ?? [])].slice(0, 6), [0x20, 0x01, 0x0d, 0xb8, 0, 0x10]);
  assert.equal(c?.prefix.len, 32);
  // No file, an empty file, an empty section: every default.
  assert.deepEqual(parseConfig('', 'x.yaml').detection, {});
  assert.deepEqual(parseConfig('detection:\n', 'x.yaml').detection, {});
});

test('a missing file is a usage error', () => {
  assert.throws(
    () => loadConfig(join(dir, 'nope.yaml')),
    (e: unknown) => e instanceof UsageError && /no such configuration file/.test((e as Error).message),
  );
});

test('threshold prefixes are parsed strictly (core/net/prefix)', () => {
  refuses(threshold('10.0.0/24'), 3, 15, /thresholds\[0\]\.prefix: not an IP address or prefix: "10\.0\.0\/24"/);
  refuses(threshold('10.0.0.1/24'), 3, 15, /host bits set in "10\.0\.0\.1\/24"/);
  refuses(threshold('10.0.0.0/33'), 3, 15, /prefix length 33 is over 32/);
  refuses(threshold('10.0.0.0/'), 3, 15, /bad prefix length/);
  refuses(threshold('10.0.0.0/-1'), 3, 15, /range is not a prefix|bad prefix length/);
  refuses(threshold('10.0.0.0-10.0.0.255'), 3, 15, /a range is not a prefix/);
  refuses(threshold('010.0.0.0/8'), 3, 15, /not an IP address or prefix/);
  refuses(threshold('2001:db8:::/48'), 3, 15, /not an IP address or prefix/);
  refuses(threshold('2001:db8::1/48'), 3, 15, /host bits set/);
  refuses(threshold('2001:db8::/129'), 3, 15, /prefix length 129 is over 128/);
  refuses(threshold('fe80::1%eth0'), 3, 15, /not an IP address or prefix/);
  refuses(threshold('12345::/16'), 3, 15, /not an IP address or prefix/);
  refuses(threshold('10'), 3, 15, /prefix must be a string/);
});

test('detection keys, values and vectors', () => {
  refuses('detection:\n  prefix4: 40\n', 2, 12, /detection\.prefix4 must be a number from 8 to 32/);
  refuses('detection:\n  prefix4: 24.5\n', 2, 12, /detection\.prefix4 must be a number from 8 to 32 \(an integer\)/);
  refuses('detection:\n  prefix6: 60\n', 2, 12, /detection\.prefix6 must be a multiple of 8/);
  refuses('detection:\n  quiet_s: "10"\n', 2, 12, /detection\.quiet_s must be a number from 1 to 3600/);
  refuses('detection:\n  quiet_s:\n', 2, 11, /detection\.quiet_s must be a number/);
  refuses('detection:\n  windows: 2\n', 2, 3, /unknown key detection\.windows/);
  refuses('detection: 5\n', 1, 12, /detection must be a mapping/);
  refuses('detection:\n  thresholds: 5\n', 2, 15, /detection\.thresholds must be a list/);
  refuses('detection:\n  thresholds:\n    - 5\n', 3, 7, /thresholds\[0\].*must be a mapping/);
  refuses('detection:\n  thresholds:\n    - pps: 5\n', 3, 7, /needs a prefix/);
  refuses('detection:\n  thresholds:\n    - prefix: 10.0.0.0/8\n      pps: -1\n', 4, 12, /thresholds\[0\]\.pps must be a number from 0/);
  refuses('detection:\n  thresholds:\n    - prefix: 10.0.0.0/8\n      limit: 1\n', 4, 7, /unknown key limit \(prefix, pps, bps, vectors\)/);
  refuses('detection:\n  thresholds:\n    - prefix: 10.0.0.0/8\n      vectors:\n        syn: { pps: 1 }\n', 5, 9, /unknown L3\/L4 vector "syn"/);
  refuses('detection:\n  thresholds:\n    - prefix: 10.0.0.0/8\n      vectors:\n        udp_flood: 5\n', 5, 20, /vectors\.udp_flood .*must be a mapping/);
  refuses('detection:\n  thresholds:\n    - prefix: 10.0.0.0/8\n      vectors:\n        udp_flood: { rate: 1 }\n', 5, 22, /vectors\.udp_flood: unknown key rate/);
});

test('the whole file is validated: YAML errors, the top level, unknown sections', () => {
  const e = errorOf('detection:\n  thresholds: [\n');
  assert.match(e.message, /^palisade\.yaml:\d+:\d+: /);
  refuses('detection:\n  prefix4: 24\n  prefix4: 22\n', 3, 3, /unique|duplicate/i);
  refuses('- detection\n', 1, 1, /the top of palisade\.yaml must be a mapping/);
  refuses('detection: {}\nthreshold: 5\n', 2, 1, /unknown section threshold \(detection, edge, services, notifications, cluster\)/);
});

test("detection.login_paths: the site's login endpoints for L7, each a path", () => {
  assert.deepEqual(parseConfig('detection:\n  login_paths: [/api/v2/session, /customer/enter]\n', 'x.yaml').detection.loginPaths, ['/api/v2/session', '/customer/enter']);
  refuses('detection:\n  login_paths: /login\n', 2, 16, /detection\.login_paths must be a list/);
  refuses('detection:\n  login_paths: [customer/enter]\n', 2, 17, /login_paths\[0\]: a path starting with \//);
});

test('cluster: the multi-node settings, every key checked with its line', () => {
  const c = parseConfig(
    [
      'cluster:',
      '  nats: nats://n1:4222,tls://n2:4222',
      '  site: ams',
      '  node: r1',
      '  spool: /var/lib/palisade/spool',
      '  redis: redis://r:6379',
      '  nats_creds: /etc/palisade/nats.creds',
      '  nats_tls: { ca: /etc/ca.pem, cert: /etc/c.pem, key: /etc/k.pem }',
      '  correlate: { sites: [ams, fra], wait_s: 2, decisions_key: "p:decisions" }',
      '  metrics: 127.0.0.1:9101',
      '  stream: { max_gib: 8, max_age_days: 0.5, replicas: 3 }',
      '',
    ].join('\n'),
    'x.yaml',
  ).cluster;
  assert.deepEqual(c, {
    nats: 'nats://n1:4222,tls://n2:4222',
    site: 'ams',
    node: 'r1',
    spool: '/var/lib/palisade/spool',
    redis: 'redis://r:6379',
    natsCreds: '/etc/palisade/nats.creds',
    natsTls: { ca: '/etc/ca.pem', cert: '/etc/c.pem', key: '/etc/k.pem' },
    correlate: { sites: ['ams', 'fra'], waitS: 2, decisionsKey: 'p:decisions' },
    metrics: '127.0.0.1:9101',
    stream: { maxBytes: 8 * 1024 ** 3, maxAgeMs: 43_200_000, replicas: 3 },
  });
  assert.deepEqual(parseConfig('', 'x.yaml').cluster, {});
  assert.deepEqual(parseConfig('cluster:\n  stream: { max_gib: 2 }\n', 'x.yaml').cluster, { stream: { maxBytes: 2 * 1024 ** 3 } });
  refuses('cluster:\n  stream: { max_gib: 0 }\n', 2, 22, /cluster\.stream\.max_gib must be a number from 0\.01/);
  refuses('cluster:\n  stream: { max_age: 7 }\n', 2, 13, /unknown key cluster\.stream\.max_age \(max_gib, max_age_days, replicas\)/);
  refuses('cluster:\n  stream: { replicas: 1.5 }\n', 2, 23, /cluster\.stream\.replicas must be/);
  refuses('cluster:\n  nats: http://n1:4222\n', 2, 9, /cluster\.nats must be nats:\/\/host:port/);
  refuses('cluster:\n  site: a.b\n', 2, 9, /cluster\.site must be 1 to 64 letters/);
  refuses('cluster:\n  redis: localhost\n', 2, 10, /cluster\.redis must be a redis:\/\//);
  refuses('cluster:\n  correlate: { wait_s: -1 }\n', 2, 24, /cluster\.correlate\.wait_s must be a number from 0/);
  refuses('cluster:\n  natz: x\n', 2, 3, /unknown key cluster\.natz/);
});
