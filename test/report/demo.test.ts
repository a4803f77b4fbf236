/**
 * The report on `palisade generate demo` (two overlapping attacks over benign traffic): the
 * replayed what-if shares, which attribute packets by attack window and signature, agree with the
 * generator's per-packet ground truth.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, test } from 'node:test';
import { RuleEngine, Verdict } from '../../src/mitigate/engine.js';
import { parseRuleset } from '../../src/mitigate/ruleset.js';
import type { Analysis } from '../../src/model/analysis.js';
import type { Attack } from '../../src/model/attack.js';
import { buildReport, type ReportData, renderHtml } from '../../src/report/index.js';
import { readCapture } from '../../src/sources/capture/capture.js';
import { sigOf } from '../helpers/signature.js';
import { tsharkFields } from '../helpers/tshark.js';
import { type Demo, demoAnalysis, schemaErrors } from './fixture.js';

const ART = resolve(import.meta.dirname, '../../out/test-artifacts/demo');

let demo: Demo;
let data: ReportData;

before(async () => {
  mkdirSync(ART, { recursive: true });
  demo = await demoAnalysis(ART);
  assert.equal(schemaErrors(demo.analysis, 'analysis'), null);
  data = await buildReport(demo.analysis, { tz: 'Europe/Paris' });
});

test('what-if shares agree with the ground truth labels', async () => {
  const atk = demo.analysis.attacks;
  assert.equal(atk.length, 2);
  // Exact shares: each attack's rules over the capture, scored packet by packet against the labels.
  const engines = atk.map((x) => new RuleEngine(parseRuleset(JSON.stringify(x.mitigation.ruleset))));
  const dropped = atk.map(() => ({ attack: 0, benign: 0 }));
  const count = new Map<number, number>();
  let i = 0;
  await readCapture(demo.capture, (v) => {
    const label = demo.labels[i++] as number;
    count.set(label, (count.get(label) ?? 0) + 1);
    engines.forEach((e, k) => {
      if (e.process(v).verdict === Verdict.PASS) return;
      if (label === k + 1) (dropped[k] as { attack: number }).attack++;
      else if (label === 0) (dropped[k] as { benign: number }).benign++;
    });
  });
  assert.equal(i, demo.labels.length);
  atk.forEach((x: Attack, k) => {
    const ef = data.effects[k];
    assert.equal(ef?.method, 'replay');
    assert.equal(ef?.attack_packets, count.get(k + 1));
    assert.equal(ef?.legit_packets, count.get(0));
    const exactAttack = (dropped[k]?.attack ?? 0) / (count.get(k + 1) ?? 1);
    const exactLegit = (dropped[k]?.benign ?? 0) / (count.get(0) ?? 1);
    assert.ok(Math.abs((ef?.attack_dropped ?? -1) - exactAttack) <= 0.005, `${x.vector}: attack ${ef?.attack_dropped} vs truth ${exactAttack}`);
    assert.ok(Math.abs((ef?.legit_dropped ?? -1) - exactLegit) <= 0.002, `${x.vector}: legit ${ef?.legit_dropped} vs truth ${exactLegit}`);
  });
  // The SYN rule also hits real clients' SYNs to the same service: the report must show it.
  const syn = atk.findIndex((x) => x.vector === 'tcp_syn_flood');
  assert.ok((data.effects[syn]?.legit_dropped_packets ?? 0) > 0);
});

test('the timeline has one series per attack and the summary spans both', () => {
  assert.deepEqual(
    data.timeline.byVector.map((g) => [g.vector, g.attacks]),
    [
      ['tcp_syn_flood', [0]],
      ['dns_amplification', [1]],
    ],
  );
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  assert.equal(sum(data.timeline.total), demo.analysis.capture.packets);
  demo.analysis.attacks.forEach((x, k) => {
    // Every attack packet the signature matches is in its series (plus benign matches).
    assert.ok(sum(data.timeline.byVector[k]?.bins as number[]) >= Math.round(x.packets * sigOf(x).coverage));
  });
  const s = data.summary;
  assert.equal(s.attacks, 2);
  assert.equal(s.peak_pps, Math.max(...demo.analysis.attacks.map((x) => x.peak_pps)));
  assert.equal(
    s.attack_packets,
    demo.analysis.attacks.reduce((n, x) => n + x.packets, 0),
  );
  assert.match(s.what, /^2 attacks: TCP SYN flood against 203\.0\.113\.10 TCP port 443; DNS amplification against 203\.0\.113\.20 UDP\.$/);
});

/** The shares the truth labels give for one ruleset: attack packets of `label` dropped, benign dropped. */
async function truthShares(capture: string, labels: Uint8Array, ruleset: unknown, label: number): Promise<{ attack: number; legit: number }> {
  const engine = new RuleEngine(parseRuleset(typeof ruleset === 'string' ? ruleset : JSON.stringify(ruleset)));
  let i = 0;
  let a = 0;
  let aDrop = 0;
  let b = 0;
  let bDrop = 0;
  await readCapture(capture, (v) => {
    const l = labels[i++] as number;
    const drop = engine.process(v).verdict !== Verdict.PASS;
    if (l === label) {
      a++;
      if (drop) aDrop++;
    } else if (l === 0) {
      b++;
      if (drop) bDrop++;
    }
  });
  return { attack: aDrop / a, legit: bDrop / b };
}

test('analyze --report on the real detection output: figures equal the JSON, what-if near the truth', async () => {
  const out = join(ART, 'real.html');
  const json = execFileSync(process.execPath, [resolve(import.meta.dirname, '../../bin/palisade.js'), 'analyze', demo.capture, '--json', '--report', out], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const real = JSON.parse(json) as Analysis;
  assert.equal(schemaErrors(real, 'analysis'), null);
  const html = readFileSync(out, 'utf8');
  const figure = (scope: string, k: string) => {
    const part = scope ? html.slice(html.indexOf(scope)) : html;
    return Number(new RegExp(`data-k="${k}" data-v="([^"]*)"`).exec(part)?.[1]);
  };
  assert.equal((html.match(/<article class="attack"/g) ?? []).length, real.attacks.length);
  const peak = real.attacks.length > 0 ? Math.max(...real.attacks.map((x) => x.peak_pps)) : real.traffic.peak.pps_1s;
  assert.equal(figure('', 'peak_pps'), peak);
  const truth = JSON.parse(readFileSync(join(ART, 'demo.truth.json'), 'utf8')) as {
    attacks: Array<{ label: number; vector: string; victim: { ip?: string } }>;
  };
  for (const [k, x] of real.attacks.entries()) {
    const scope = `id="attack-${k + 1}"`;
    assert.equal(figure(scope, 'packets'), x.packets);
    assert.equal(figure(scope, 'peak_pps'), x.peak_pps);
    assert.equal(figure(scope, 'coverage'), sigOf(x).coverage);
    // A detected attack that is one of the scenario's: its what-if shares are close to the truth.
    const t = truth.attacks.find((y) => y.vector === x.vector && y.victim.ip === x.victim.ip);
    if (!t) continue;
    const exact = await truthShares(demo.capture, demo.labels, x.mitigation.ruleset, t.label);
    assert.ok(Math.abs(figure(scope, 'attack_dropped') - exact.attack) <= 0.01, `${x.vector}: ${figure(scope, 'attack_dropped')} vs truth ${exact.attack}`);
    assert.ok(Math.abs(figure(scope, 'legit_dropped') - exact.legit) <= 0.005, `${x.vector}: ${figure(scope, 'legit_dropped')} vs truth ${exact.legit}`);
  }
});

test('--truth scores the what-if packet by packet against the labels', async () => {
  const CLI = resolve(import.meta.dirname, '../../bin/palisade.js');
  const truthFile = join(ART, 'demo.truth.json');
  const json = join(ART, 'fixture-analysis.json');
  writeFileSync(json, JSON.stringify(demo.analysis));
  const out = join(ART, 'truth.html');
  execFileSync(process.execPath, [CLI, 'report', json, '-o', out, '--truth', truthFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  const html = readFileSync(out, 'utf8');
  for (const [k, x] of demo.analysis.attacks.entries()) {
    const part = html.slice(html.indexOf(`id="attack-${k + 1}"`));
    const fig = (name: string) => new RegExp(`data-k="${name}" data-v="([^"]*)"`).exec(part)?.[1];
    assert.equal(fig('effect_method'), 'truth');
    const exact = await truthShares(demo.capture, demo.labels, x.mitigation.ruleset, k + 1);
    assert.equal(Number(fig('attack_dropped')), exact.attack);
    assert.equal(Number(fig('legit_dropped')), exact.legit);
  }
  assert.ok(html.includes('scored against its ground truth'));
  // Labels of another capture are refused: the what-if falls back to the window method, and says why.
  const other = join(ART, 'other.truth.json');
  const t = JSON.parse(readFileSync(truthFile, 'utf8')) as { labels: { data: string } };
  t.labels.data = Buffer.from(new Uint8Array(10)).toString('base64');
  writeFileSync(other, JSON.stringify(t));
  const d = await buildReport(demo.analysis, { truth: other });
  assert.deepEqual(
    d.effects.map((e) => e.method),
    ['replay', 'replay'],
  );
  assert.match(d.replayNote ?? '', /other\.truth\.json labels 10 packets but the capture holds 20000: not the same capture$/);
});

test('attacks of one vector share a series and a packet counts once in it', async () => {
  const a = JSON.parse(JSON.stringify(demo.analysis)) as Analysis;
  const syn = a.attacks[0] as Attack;
  a.attacks.push({ ...JSON.parse(JSON.stringify(syn)), id: 'demo-1-copy' });
  const d = await buildReport(a);
  assert.deepEqual(
    d.timeline.byVector.map((g) => [g.vector, g.attacks]),
    [
      ['tcp_syn_flood', [0, 2]],
      ['dns_amplification', [1]],
    ],
  );
  const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
  assert.equal(sum(d.timeline.byVector[0]?.bins ?? []), sum(data.timeline.byVector[0]?.bins ?? []));
  assert.match(renderHtml(d), /TCP SYN flood \(2 attacks\)/);
});

test('the summary says which attacks were measured and which estimated', async () => {
  const a = JSON.parse(JSON.stringify(demo.analysis)) as Analysis;
  (a.attacks[1] as Attack).mitigation.ruleset = { name: 'broken', rules: [{ id: 'x', expression: 'udp.srcport ==', action: 'block' }] };
  const d = await buildReport(a);
  assert.deepEqual(
    d.effects.map((e) => e.method),
    ['replay', 'signature'],
  );
  const dns = a.attacks[1] as Attack;
  assert.match(d.summary.done, /Replayed over this capture, the rules of 1 of the 2 attacks would drop 100\.0% of their attack packets/);
  assert.ok(
    d.summary.done.includes(
      `By their signatures, those of the other 1 match at least ${(sigOf(dns).coverage * 100).toFixed(1)}% of the attack packets and at most ${(sigOf(dns).collateral * 100).toFixed(2)}% of other traffic (an estimate: not measured on the capture).`,
    ),
    d.summary.done,
  );
});

test('traffic by vector equals tshark counting each signature per time bin', () => {
  const tl = data.timeline;
  const binOf = (t: number) => Math.min(tl.total.length - 1, Math.max(0, Math.floor((t - tl.t0) / tl.bin_s)));
  const count = (times: number[]) => {
    const bins = new Array<number>(tl.total.length).fill(0);
    for (const t of times) bins[binOf(t)] = (bins[binOf(t)] as number) + 1;
    return bins;
  };
  const all = tsharkFields(demo.capture, ['frame.time_epoch']).map((r) => Number(r[0]));
  assert.deepEqual(tl.total, count(all));
  for (const g of tl.byVector) {
    const x = demo.analysis.attacks[g.attacks[0] as number] as Attack;
    // The fixture's signatures use fields both languages spell the same.
    const filter = sigOf(x).expression.replace(/ and /g, ' && ').replace('0x02', '0x002');
    const times = tsharkFields(demo.capture, ['frame.time_epoch'], ['-Y', filter]).map((r) => Number(r[0]));
    assert.ok(times.length > 1000, `${filter}: ${times.length}`);
    assert.deepEqual(g.bins, count(times), g.vector);
  }
});
