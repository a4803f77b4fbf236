/**
 * One generated scenario, analysed and scored against its truth (truth.ts), with the bars:
 * every labelled attack found with its vector on its host, ≥ 95 % of each group's addresses
 * reached by the attack's lists, no legitimate address flagged, no attack that matches no
 * labelled one, first detection within 60 s of the labelled start, and each attack's rules
 * blocking at most 0.1 % of the legitimate requests (measured with the labels), its claimed
 * collateral within 0.1 % of that.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { analyzeAccessLog } from '../../../src/analyze/analyze-log.js';
import { generateL7 } from '../../../src/generate/l7/generator.js';
import type { Analysis } from '../../../src/model/analysis.js';
import { schemaErrors } from '../../../src/model/validate.js';
import { type Score, score } from './truth.js';

export const SEEDS = [1, 2, 3];
/** Lines per scenario: about 200 s of log, enough for a baseline (50 s) before the attacks. */
export const LINES = 120_000;

export async function runScenario(dir: string, name: string, seed: number): Promise<{ analysis: Analysis; s: Score }> {
  const base = join(dir, `${name}-${seed}`);
  generateL7(name, `${base}.log`, { lines: LINES, seed, noJson: true });
  const analysis = await analyzeAccessLog(`${base}.log`);
  return { analysis, s: await score(base, analysis) };
}

export function assertBars(name: string, seed: number, analysis: Analysis, s: Score): void {
  const at = `${name} seed ${seed}`;
  assert.equal(schemaErrors(analysis, 'analysis'), null, `${at}: the analysis fits its schema`);
  for (const g of s.groups) {
    assert.ok(g.attackId !== null, `${at}: ${g.group} (${g.vector}) found`);
    assert.ok(g.matched >= 0.95, `${at}: ${g.group}: ${(g.matched * 100).toFixed(1)} % of ${g.ips} addresses listed (≥ 95 %)`);
    assert.ok(g.delay <= 60, `${at}: ${g.group}: detected ${g.delay.toFixed(1)} s after its start (≤ 60 s)`);
  }
  assert.deepEqual(s.legitFlagged, [], `${at}: no legitimate address flagged`);
  assert.deepEqual(
    s.spurious.map((a) => `${a.vector} on ${a.victim.host} (${a.sources.unique} addresses)`),
    [],
    `${at}: no attack that matches no labelled one`,
  );
  for (const c of s.collateral) {
    assert.ok(c.measured <= 0.001, `${at}: ${c.id} (${c.vector}) blocks ${(c.measured * 100).toFixed(3)} % of legitimate requests (≤ 0.1 %)`);
    assert.ok(Math.abs(c.claimed - c.measured) <= 0.001, `${at}: ${c.id} claims collateral ${c.claimed}, measured ${c.measured}`);
  }
}
