/**
 * Report input that is odd or wrong: an empty capture, an attack whose rules cannot be loaded or
 * exported, a carpet-bombing victim; damaged analyses are refused with the path of the bad field,
 * and no mutation of a real analysis makes the renderers throw anything but that error.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { before, test } from 'node:test';
import { InputError } from '../../src/core/errors.js';
import { buildMitigation } from '../../src/export/mitigation.js';
import type { Analysis } from '../../src/model/analysis.js';
import type { Attack } from '../../src/model/attack.js';
import { buildReport, parseAnalysis, renderHtml, renderMarkdown } from '../../src/report/index.js';
import { prng } from '../helpers/prng.js';
import { sigOf } from '../helpers/signature.js';
import { CORPUS, schemaErrors, synFloodAnalysis } from './fixture.js';

const CLI = resolve(import.meta.dirname, '../../bin/palisade.js');
let syn: Analysis;

before(async () => {
  syn = await synFloodAnalysis();
});

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

test('an empty capture gives a report that says so', async () => {
  const json = execFileSync(process.execPath, [CLI, 'analyze', '--json', join(CORPUS, 'edge/empty.pcap')], { encoding: 'utf8' });
  const a = parseAnalysis(json, 'empty.json');
  const d = await buildReport(a);
  const html = renderHtml(d);
  assert.match(html, /No attack was detected in this capture \(0 packets\)/);
  assert.equal((html.match(/<svg /g) ?? []).length, 2);
  assert.match(renderMarkdown(d), /^No traffic in this capture\.$/m);
});

test('rules that cannot be loaded fall back to the signature, with the reason', async () => {
  const a = clone(syn);
  const x = a.attacks[0] as Attack;
  x.mitigation = { ruleset: { name: 'broken', rules: [{ id: 'r', expression: 'ip.src ==', action: 'block' }] }, nftables: '', iptables: '' };
  x.victim = { prefix: '10.0.1.0/24', protocol: 'tcp' };
  assert.equal(schemaErrors(a, 'analysis'), null);
  const d = await buildReport(a, { capture: join(CORPUS, 'ddos/ddosgrid.synflood.pcap') });
  assert.equal(d.effects[0]?.method, 'signature');
  assert.match(d.effects[0]?.note ?? '', /^its ruleset could not be loaded: /);
  const html = renderHtml(d);
  assert.match(html, /because its ruleset could not be loaded: /);
  assert.match(html, /no nftables rules: the signature cannot be expressed there/);
  assert.match(html, /against 10\.0\.1\.0\/24 \(carpet bombing\) TCP/);
  assert.match(renderMarkdown(d), /\(the signature cannot be expressed in iptables\)/);
});

test('damaged analyses are refused with the path of the bad field', () => {
  const cases: Array<[(a: Analysis) => void, RegExp]> = [
    [(a) => ((a.attacks[0] as Attack).start = 'yesterday'), /attacks\[0\]\.start: expected an ISO-8601 UTC time/],
    [(a) => (sigOf(a.attacks[0] as Attack).coverage = 1.5), /attacks\[0\]\.signature\.coverage: expected a share between 0 and 1/],
    [(a) => ((a.attacks[0] as Attack).sources.top = 'many' as never), /attacks\[0\]\.sources\.top: expected an array/],
    [(a) => ((a.traffic.timeline[0] as { packets: number }).packets = -1), /traffic\.timeline\[0\]\.packets: expected a number ≥ 0/],
    [(a) => (a.traffic.top_sources = null as never), /traffic\.top_sources: expected an array/],
    [(a) => (a.capture.start = 12 as never), /capture\.start: expected an ISO-8601 UTC time/],
  ];
  for (const [mutate, message] of cases) {
    const a = clone(syn);
    mutate(a);
    assert.throws(
      () => parseAnalysis(JSON.stringify(a), 'x.json'),
      (e: unknown) => e instanceof InputError && /^x\.json: /.test(e.message) && message.test(e.message),
    );
  }
  // Lists a report can do without are optional.
  const a = clone(syn) as unknown as { traffic: Record<string, unknown> };
  delete a.traffic.top_dns_names;
  delete a.traffic.top_conversations;
  assert.deepEqual(parseAnalysis(JSON.stringify(a), 'x.json').traffic.top_dns_names, []);
});

test('random damage never crashes the report: it renders or is refused', async () => {
  const rnd = prng(6);
  const text = JSON.stringify(syn);
  const junk = ['null', '-1', '"x"', '[]', '{}', '1e309', 'true', '"2021-01-01T00:00:00Z"', '0.5'];
  let rendered = 0;
  let refused = 0;
  for (let i = 0; i < 300; i++) {
    // Replace one JSON value (after a colon) by junk.
    const colons = [...text.matchAll(/:/g)].map((m) => m.index as number);
    const at = colons[Math.floor(rnd() * colons.length)] as number;
    const rest = text.slice(at + 1);
    const end = /^("(?:[^"\\]|\\.)*"|-?[\d.eE+-]+|true|false|null)/.exec(rest);
    if (!end) continue;
    const damaged = `${text.slice(0, at + 1)}${junk[Math.floor(rnd() * junk.length)]}${rest.slice(end[0].length)}`;
    let a: Analysis;
    try {
      a = parseAnalysis(damaged, 'd.json');
    } catch (e) {
      assert.ok(e instanceof InputError, String(e));
      refused++;
      continue;
    }
    const d = await buildReport(a, { capture: false });
    assert.ok(renderHtml(d).includes('</html>'));
    assert.ok(renderMarkdown(d).length > 0);
    rendered++;
  }
  assert.ok(rendered > 20 && refused > 20, `${rendered} rendered, ${refused} refused`);
});

test('rules a target cannot express are flagged, not shown as protection', async () => {
  const a = clone(syn);
  const x = a.attacks[0] as Attack;
  const m = buildMitigation({ expression: `${sigOf(x).expression} and tcp.window == 512`, id: 'syn-1' });
  assert.deepEqual(
    m.problems.map((p) => p.target),
    ['iptables'],
  );
  x.mitigation = { ruleset: m.ruleset, nftables: m.nftables, iptables: m.iptables };
  const d = await buildReport(a, { capture: false });
  assert.deepEqual(d.gaps[0], { nftables: null, iptables: { reasons: [`rule syn-1: ${m.problems[0]?.problem.reason}`], kind: 'left-out' } });
  const html = renderHtml(d);
  assert.match(html, /<p class="bad" data-gap="iptables" data-gap-kind="left-out">Not covered by these iptables rules/);
  assert.ok(!html.includes('data-gap="nftables"'));
  assert.match(renderMarkdown(d), /^- rule syn-1: tcp\.window cannot be expressed in iptables$/m);
  // Detection writes its own, broader iptables rules without the inexpressible condition: said so.
  x.mitigation.iptables = buildMitigation({ expression: sigOf(x).expression, id: 'syn-1' }).iptables;
  const b = await buildReport(a, { capture: false });
  assert.equal(b.gaps[0]?.iptables?.kind, 'broadened');
  assert.match(renderHtml(b), /data-gap-kind="broadened">These iptables rules are broader than the signature/);
  assert.match(renderMarkdown(b), /\*\*These iptables rules are broader than the signature\*\*/);
});

test('country and AS: shown where the database answers, blank for private addresses, absent without a database', async () => {
  const d = await buildReport(syn, { capture: false });
  assert.equal(d.geo, true, 'the npm databases are installed in this project');
  // 10.0.1.2 is private: no country and no AS, and nothing made up.
  assert.deepEqual(d.attackSources[0], [{ ip: '10.0.1.2', packets: (syn.attacks[0] as Attack).sources.top[0]?.packets }]);
  const withGeo = renderHtml(d);
  assert.match(withGeo, /<th>Country<\/th><th>AS<\/th>/);
  const without = renderHtml({ ...d, geo: false, attackSources: d.attackSources.map((rows) => rows.map(({ ip, packets }) => ({ ip, packets }))) });
  assert.ok(!without.includes('<th>Country</th>'));
  assert.match(without, /Country and AS are not shown: no GeoIP\/ASN database is installed\./);
  assert.ok(!renderMarkdown({ ...d, geo: false }).includes('| Country |'));
});
