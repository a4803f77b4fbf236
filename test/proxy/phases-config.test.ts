/**
 * The edge's configuration: palisade.yaml's `edge:` section (src/config/edge.ts), every problem
 * listed with file:line:col (inline lists and rules at palisade.yaml's own lines), and the
 * `--block-list FILE` flags (src/proxy/phases/edge-config.ts) in the formats the rulesets read.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { EdgeConfigError, parseEdgeConfig } from '../../src/config/edge.js';
import { InputError } from '../../src/core/errors.js';
import { MemoryCounterStore } from '../../src/proxy/counters/memory.js';
import type { EdgeRequest, Respond } from '../../src/proxy/gate.js';
import { blockListsFromFiles, edgeOptionsFromFlags, keepOnReload } from '../../src/proxy/phases/edge-config.js';
import { createEdgeGate } from '../../src/proxy/phases/pipeline.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-edge-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function errorOf(text: string, file = join(dir, 'palisade.yaml')): EdgeConfigError {
  try {
    parseEdgeConfig(text, file);
  } catch (e) {
    assert.ok(e instanceof EdgeConfigError, `an EdgeConfigError, not ${String(e)}`);
    return e;
  }
  assert.fail(`no error for:\n${text}`);
}

function request(ip: string, target = '/'): EdgeRequest {
  return {
    id: 'c1',
    view: { method: 'GET', target, host: 'h', version: 'HTTP/1.1', headers: [['Host', 'h']], clientIp: ip, ssl: false, timestampMs: 0 },
    clientIp: ip,
    peerIp: ip,
    headerOrder: ['host'],
    ruleIds: [],
  };
}

describe("palisade.yaml's edge section", () => {
  it('no file section: every default (WAF PL1 blocking, memory counters, auto)', () => {
    const o = parseEdgeConfig('detection:\n  quiet_s: 5\n', 'palisade.yaml');
    assert.equal(o.mode, 'auto');
    assert.deepEqual(o.waf, { enabled: true, mode: 'block', paranoia: 1, bodyLimit: 131072, exclusions: [], crsSetup: {} });
    assert.equal(o.counters.store, 'memory');
    assert.equal(o.ruleset, null);
    assert.deepEqual(o.lists, []);
  });

  it('a full section: lists from files and inline, an inline ruleset, WAF, counters', async () => {
    writeFileSync(join(dir, 'drop.txt'), '; Spamhaus DROP\n198.51.100.0/24 ; SBL1\n');
    const text = [
      'edge:',
      '  mode: suggest',
      '  lists:',
      '    drop: { kind: block, file: drop.txt, format: spamhaus }',
      '    office: { kind: allow, entries: [198.51.100.7] }',
      '  ruleset:',
      '    lists:',
      '      bots: { kind: named, entries: [203.0.113.0/24] }',
      '    rules:',
      '      - id: bots',
      '        expression: ip.src in $bots',
      '        action: block',
      '  waf:',
      '    mode: detect',
      '    paranoia: 2',
      '    body_limit: 65536',
      '    exclusions:',
      '      - { path_prefix: /upload, ids: [920420, "942100-942199"], tags: [attack-sqli] }',
      '    crs_setup: { dos_burst_time_slice: 60, dos_counter_threshold: 100, static_extensions: "/.jpg/ /.png/" }',
      '  counters:',
      '    store: redis',
      '    redis_url: redis://10.0.0.5:6379/2',
      '    fail: closed',
      '    timeout_ms: 50',
      '    prefix: "shop:"',
      '',
    ].join('\n');
    const f = join(dir, 'palisade.yaml');
    writeFileSync(f, text);
    const o = edgeOptionsFromFlags({ config: f });
    assert.equal(o.mode, 'suggest');
    assert.deepEqual(
      o.lists.map((l) => [l.name, l.kind, l.size]),
      [
        ['drop', 'block', 1],
        ['office', 'allow', 1],
      ],
    );
    assert.deepEqual(
      o.ruleset?.rules.map((r) => r.id),
      ['bots'],
    );
    assert.deepEqual(o.waf, {
      enabled: true,
      mode: 'detect',
      paranoia: 2,
      bodyLimit: 65536,
      exclusions: [{ pathPrefix: '/upload', ids: [920420, [942100, 942199]], tags: ['attack-sqli'] }],
      crsSetup: { dos_burst_time_slice: 60, dos_counter_threshold: 100, static_extensions: '/.jpg/ /.png/' },
    });
    assert.deepEqual(o.counters, { store: 'redis', redisUrl: 'redis://10.0.0.5:6379/2', fail: 'closed', timeoutMs: 50, prefix: 'shop:' });
    // The gate applies it: the allow entry wins inside the blocked prefix, the ruleset's rule blocks its list.
    const g = createEdgeGate(o, { waf: null, counters: new MemoryCounterStore() });
    assert.equal((await g.head(request('198.51.100.7'))).kind, 'pass');
    assert.equal(((await g.head(request('198.51.100.8'))) as Respond).status, 403);
    const b = request('203.0.113.4');
    assert.equal(((await g.head(b)) as Respond).status, 403);
    assert.deepEqual(b.ruleIds, ['bots']);
  });

  it('a ruleset file, relative to palisade.yaml, and a bare list of rules inline', () => {
    writeFileSync(join(dir, 'rules.yaml'), 'rules:\n  - id: r1\n    expression: http.request.uri.path eq "/x"\n    action: block\n');
    assert.deepEqual(
      parseEdgeConfig('edge:\n  ruleset: rules.yaml\n', join(dir, 'p.yaml')).ruleset?.rules.map((r) => r.id),
      ['r1'],
    );
    const o = parseEdgeConfig('edge:\n  ruleset:\n    - id: a\n      expression: http.host eq "x"\n      action: log\n  waf: off\n', join(dir, 'p.yaml'));
    assert.deepEqual(
      o.ruleset?.rules.map((r) => r.id),
      ['a'],
    );
    assert.equal(o.waf.enabled, false);
  });

  it('every problem is listed, each at its file:line:col, inline lists and rules at palisade.yaml lines', () => {
    const text = [
      'edge:', //                                             1
      '  mode: sometimes', //                                 2
      '  lists:', //                                          3
      '    bad: { kind: block, entries: [300.1.1.1] }', //    4
      '  ruleset:', //                                        5
      '    rules:', //                                        6
      '      - id: r1', //                                    7
      '        expression: http.nope eq 1', //                8
      '        action: block', //                             9
      '  waf:', //                                            10
      '    paranoia: 7', //                                   11
      '    exclusions:', //                                   12
      '      - { path_prefix: api }', //                      13
      '  counters:', //                                       14
      '    store: disk', //                                   15
      '    timeout_ms: 0', //                                 16
      '  colour: blue', //                                    17
      '',
    ].join('\n');
    const f = join(dir, 'palisade.yaml');
    const e = errorOf(text, f);
    const where = e.problems.map((p) => `${p.line}:${p.column}`);
    assert.deepEqual(where, ['2:9', '4:35', '8:1', '11:15', '13:24', '15:12', '16:17', '17:3'], e.message);
    for (const p of e.problems) assert.equal(p.file, f);
    const lines = e.message.split('\n');
    assert.equal(lines.length, 8);
    assert.match(lines[0] as string, /palisade\.yaml:2:9: edge\.mode must be auto, suggest or off$/);
    assert.match(lines[1] as string, /:4:35: list bad: not an IP address or prefix: "300.1.1.1"/);
    assert.match(lines[2] as string, /:8:1: rule r1: unknown field "http\.nope"/);
    assert.match(lines[3] as string, /:11:15: edge\.waf\.paranoia must be a number from 1 to 4/);
    assert.match(lines[4] as string, /:13:24: .*path_prefix must start with \//);
    assert.match(lines[7] as string, /:17:3: unknown key edge\.colour/);
    // It is a ConfigError with the first problem's position (what reload handlers show first).
    assert.equal(`${e.line}:${e.column}`, '2:9');
  });

  it('crs_setup takes setting names with numbers or plain strings, nothing that could break out of the SecLang it becomes', () => {
    const bad = errorOf('edge:\n  waf:\n    crs_setup: { "tx.x y": 1 }\n');
    assert.match(bad.message, /:3:18: edge\.waf\.crs_setup: "tx\.x y" is not a CRS setting name/);
    const quote = errorOf('edge:\n  waf:\n    crs_setup: { a: "x\',setvar:tx.y=1" }\n');
    assert.match(quote.message, /:3:21: edge\.waf\.crs_setup\.a must be a number or a plain string/);
    assert.match(errorOf('edge:\n  waf:\n    crs_setup: { a: [1] }\n').message, /crs_setup\.a must be a number or a plain string/);
  });

  it('a ruleset file with errors names that file and its lines', () => {
    writeFileSync(join(dir, 'broken.yaml'), 'rules:\n  - id: x\n    expression: http.request.uri.path eq "/"\n    action: explode\n');
    const e = errorOf('edge:\n  ruleset: broken.yaml\n');
    assert.equal(e.problems.length, 1);
    assert.equal(e.problems[0]?.file, join(dir, 'broken.yaml'));
    assert.equal(e.problems[0]?.line, 4);
  });

  it('a missing list or ruleset file is a problem at its key', () => {
    const e = errorOf('edge:\n  ruleset: nowhere.yaml\n  lists:\n    x: { kind: block, file: nowhere.txt }\n');
    assert.deepEqual(
      e.problems.map((p) => p.line),
      [2, 4],
      e.message,
    );
    assert.match(e.message, /no such file/);
  });
});

describe('--block-list FILE', () => {
  it('each file is a block list in whatever format it is: plain, Spamhaus DROP, FireHOL netset, JSON', async () => {
    const files = {
      'plain.txt': '# bad hosts\n192.0.2.1\n192.0.2.2  # note\n',
      'drop.txt': '; Spamhaus\n198.51.100.0/24 ; SBL123\n',
      'level1.netset': '#\n203.0.113.0/25\n',
      'feed.json': '[{"cidr": "2001:db8:bad::/48"}]',
    };
    const paths = Object.entries(files).map(([n, t]) => {
      const p = join(dir, n);
      writeFileSync(p, t);
      return p;
    });
    const o = edgeOptionsFromFlags({ blockLists: paths });
    assert.deepEqual(
      o.lists.map((l) => [l.name, l.kind, l.size]),
      [
        ['block_list_1', 'block', 2],
        ['block_list_2', 'block', 1],
        ['block_list_3', 'block', 1],
        ['block_list_4', 'block', 1],
      ],
    );
    const g = createEdgeGate(o, { waf: null, counters: new MemoryCounterStore() });
    for (const ip of ['192.0.2.2', '198.51.100.200', '203.0.113.100', '2001:db8:bad::5']) {
      const r = request(ip);
      assert.equal(((await g.head(r)) as Respond).status, 403, ip);
      assert.equal(r.ruleIds.length, 1);
    }
    assert.equal((await g.head(request('203.0.113.200'))).kind, 'pass');
  });

  it('adds to the config file lists without clashing names, and refuses a file that is not a list', () => {
    const f = join(dir, 'with-list.yaml');
    writeFileSync(f, 'edge:\n  lists:\n    block_list_1: { kind: block, entries: [192.0.2.0/24] }\n');
    writeFileSync(join(dir, 'one.txt'), '10.0.0.1\n');
    const o = edgeOptionsFromFlags({ config: f, blockLists: [join(dir, 'one.txt')] });
    assert.deepEqual(
      o.lists.map((l) => l.name),
      ['block_list_1', 'block_list_2'],
    );
    writeFileSync(join(dir, 'notes.txt'), 'hello world\nthis is not a list\n');
    assert.throws(
      () => blockListsFromFiles([join(dir, 'notes.txt')]),
      (e: unknown) => e instanceof InputError && /notes\.txt:1: /.test(e.message),
    );
    assert.throws(() => blockListsFromFiles([join(dir, 'absent.txt')]), /no such file/);
  });
});

describe('reload', () => {
  it('keeps the WAF and the counters when their sections did not change', () => {
    const a = parseEdgeConfig('edge:\n  waf: { paranoia: 2 }\n  counters: { store: memory }\n', 'p.yaml');
    const b = parseEdgeConfig('edge:\n  mode: off\n  waf: { paranoia: 2 }\n  counters: { store: memory }\n', 'p.yaml');
    assert.deepEqual(keepOnReload(a, b), { waf: true, counters: true });
    const c = parseEdgeConfig('edge:\n  waf: { paranoia: 3 }\n  counters: { store: redis }\n', 'p.yaml');
    assert.deepEqual(keepOnReload(a, c), { waf: false, counters: false });
  });
});
