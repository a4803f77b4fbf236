/**
 * Exporting L7 attacks: Cloudflare gets lists, custom rules and rate-limiting rules in the
 * Rulesets API's shape, every expression valid against the HTTP scheme with its lists renamed to
 * valid list names; what Cloudflare cannot take is a problem, never a changed rule; the packet
 * targets get the address list, which nft -c accepts.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Kind } from '../../src/detect/l7/detector.js';
import { l7Mitigation } from '../../src/detect/l7/mitigation.js';
import { cloudflareListName, exportL7Attacks } from '../../src/export/l7.js';
import type { Attack } from '../../src/model/attack.js';
import { compile } from '../../src/rules/compile.js';
import { httpScheme } from '../../src/scheme/http.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-export-l7-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function attack(id: string, kind: Kind, fieldExpression: string | null, ips: string[], prefixes: string[] = []): Attack {
  const vector = (['http_flood', 'credential_stuffing', 'scanner', 'slowloris'] as const)[kind];
  const mitigation = l7Mitigation({
    id,
    kind,
    host: 'www.example.com',
    fieldExpression,
    traitExpression: fieldExpression,
    listName: `${vector}_${id}_sources`,
    ips,
    prefixes,
    asns: [],
    loginPath: '/login',
    ratePerMinuteP10: 30,
  });
  return {
    id,
    vector,
    victim: { protocol: 'http', host: 'www.example.com' },
    start: '2026-03-02T10:00:00Z',
    end: '2026-03-02T10:05:00Z',
    detected_at: '2026-03-02T10:00:20Z',
    packets: 1000,
    bytes: 0,
    peak_pps: 10,
    peak_bps: 0,
    requests: 1000,
    peak_rps: 10,
    sources: { unique: ips.length, spoofed_likely: false, top: [] },
    signature: null,
    confidence: 1,
    mitigation,
  } as unknown as Attack;
}

const flood = attack('l7-1', Kind.FLOOD, 'http.host eq "www.example.com" and http.user_agent eq "Go-http-client/1.1" and not http.cookie contains "session"', [
  '198.51.100.7',
  '203.0.113.9',
  '2001:db8::5',
]);
const stuffing = attack('l7-2', Kind.STUFFING, null, ['192.0.2.10', '192.0.2.11'], ['198.18.7.0/24']);

describe('export L7 attacks', () => {
  test('Cloudflare: lists, custom rules and rate limits as the Rulesets API takes them', () => {
    const out = exportL7Attacks([flood, stuffing], 'cloudflare');
    assert.deepEqual(out.problems, []);
    const json = JSON.parse(out.text) as {
      lists: Array<{ name: string; kind: string; items: Array<{ ip: string }> }>;
      rulesets: Array<{ phase: string; kind: string; rules: Array<{ action: string; expression: string; ratelimit?: Record<string, unknown> }> }>;
    };
    for (const l of json.lists) {
      assert.match(l.name, /^[a-z][a-z0-9_]{0,49}$/);
      assert.equal(l.kind, 'ip');
    }
    const stuffList = json.lists.find((l) => l.name.includes('l7_2'));
    assert.deepEqual(stuffList?.items.map((i) => i.ip).sort(), ['192.0.2.10', '192.0.2.11', '198.18.7.0/24']);
    const custom = json.rulesets.find((r) => r.phase === 'http_request_firewall_custom');
    const rate = json.rulesets.find((r) => r.phase === 'http_ratelimit');
    assert.equal(custom?.rules.length, 2);
    assert.equal(rate?.rules.length, 2, 'flood and stuffing each have a rate limit');
    const lists = Object.fromEntries(json.lists.map((l) => [l.name, { kind: 'ip' as const, items: l.items.map((i) => i.ip) }]));
    for (const r of [...(custom?.rules ?? []), ...(rate?.rules ?? [])]) {
      compile(r.expression, httpScheme, { lists });
      const counting = r.ratelimit?.counting_expression;
      if (typeof counting === 'string') compile(counting, httpScheme, { lists });
    }
    // The stuffing rule is its address list (no field signature), under its Cloudflare name.
    assert.ok(custom?.rules.some((r) => r.expression.includes(`$${stuffList?.name}`)));
    const stuffRate = rate?.rules.find((r) => String(r.ratelimit?.counting_expression).includes('http.response.code'));
    assert.ok(stuffRate, 'failed logins are counted by the response code');
    assert.ok([10, 60, 120, 300, 600, 3600].includes(stuffRate.ratelimit?.period as number));
  });

  test('what Cloudflare cannot take is a problem, and the rule is left out whole', () => {
    const px = attack('l7-3', Kind.FLOOD, 'http.request.headers.order eq "host,user-agent,accept"', ['198.51.100.1']);
    const resp = attack('l7-4', Kind.SCANNER, 'http.response.code eq 404', ['198.51.100.2']);
    const long = attack('l7-5', Kind.FLOOD, `http.user_agent in {${Array.from({ length: 300 }, (_, i) => `"bot-${i}-${'x'.repeat(10)}"`).join(' ')}}`, ['198.51.100.3']);
    const out = exportL7Attacks([px, resp, long], 'cloudflare');
    const json = JSON.parse(out.text) as { rulesets: Array<{ phase: string; rules: Array<{ ref: string }> }> };
    const custom = json.rulesets.find((r) => r.phase === 'http_request_firewall_custom');
    assert.equal(custom?.rules.length, 0);
    assert.ok(out.problems.some((p) => p.rule === 'l7-3' && /extension field/.test(p.reason) && p.span !== null));
    assert.ok(out.problems.some((p) => p.rule === 'l7-4' && /after the response/.test(p.reason)));
    assert.ok(out.problems.some((p) => p.rule === 'l7-5' && /4096/.test(p.reason)));
  });

  test('nftables and iptables: the attacks\u2019 address lists, accepted by nft -c', { skip: spawnSync('nft', ['--version']).status !== 0 && 'nft not installed' }, () => {
    const nft = exportL7Attacks([flood, stuffing], 'nftables');
    assert.deepEqual(nft.problems, []);
    const f = join(dir, 'l7.nft');
    writeFileSync(f, nft.text);
    execFileSync('nft', ['-c', '-f', f]);
    for (const a of ['198.51.100.7', '2001:db8::5', '192.0.2.10', '198.18.7.0/24']) assert.ok(nft.text.includes(a), a);
    const ipt = exportL7Attacks([flood, stuffing], 'iptables');
    assert.deepEqual(ipt.problems, []);
    assert.match(ipt.text, /198\.51\.100\.7/);
  });

  test('list names are valid for Cloudflare whatever the attack id', () => {
    for (const s of ['palisade_L7-1_http_flood_1_sources', '9lives', 'x'.repeat(80)]) assert.match(cloudflareListName(s), /^[a-z][a-z0-9_]{0,49}$/);
  });
});
