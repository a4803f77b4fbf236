/**
 * nginx's default `combined` format logs no Host: every site of the server is one stream. The
 * generated logs with the host field cut off must still give every attack with its vector, the
 * bars of scenario-check.ts, and no legitimate address flagged — in particular the flood, whose
 * class (script-like clients) then also holds the other sites' app and API clients.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { analyzeAccessLog } from '../../../src/analyze/analyze-log.js';
import { generateL7 } from '../../../src/generate/l7/generator.js';
import { assertBars, LINES } from './scenario-check.js';
import { score } from './truth.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-l7-nohost-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('L7 detection on logs without a Host field', { timeout: 300_000 }, () => {
  for (const [name, seed] of [
    ['http-flood', 1],
    ['http-flood', 2],
    ['http-mixed', 1],
  ] as const) {
    test(`${name} seed ${seed}, combined format without host`, async () => {
      const full = join(dir, `${name}-${seed}-full`);
      generateL7(name, `${full}.log`, { lines: LINES, seed, noJson: true });
      const base = join(dir, `${name}-${seed}`);
      // The generator appends ` rt=… host=…` to combined: cut the host, keep the rest as it is.
      writeFileSync(`${base}.log`, readFileSync(`${full}.log`, 'latin1').replace(/ host=\S*$/gm, ''), 'latin1');
      // No Host logged: an attack's victim is the server, with no host (the analysis leaves it out).
      const truth = JSON.parse(readFileSync(`${full}.truth.json`, 'utf8')) as { attacks: Array<{ victim: { host?: string } }> };
      for (const a of truth.attacks) delete a.victim.host;
      writeFileSync(`${base}.truth.json`, JSON.stringify(truth));
      const analysis = await analyzeAccessLog(`${base}.log`);
      assertBars(`${name} (no host)`, seed, analysis, await score(base, analysis));
    });
  }
});
