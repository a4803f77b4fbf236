/** Each single-attack scenario of the L7 generator, three seeds: found, attributed, clean (scenario-check.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { assertBars, runScenario, SEEDS } from './scenario-check.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-l7-single-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SCENARIOS = ['http-flood', 'http-stuffing', 'http-stuffing-slow', 'http-scanner', 'http-scanner-slow', 'http-slowloris'];

describe('L7 detection on single-attack scenarios', { timeout: 300_000 }, () => {
  for (const name of SCENARIOS) {
    for (const seed of SEEDS) {
      test(`${name} seed ${seed}`, async () => {
        const { analysis, s } = await runScenario(dir, name, seed);
        assertBars(name, seed, analysis, s);
      });
    }
  }
});
