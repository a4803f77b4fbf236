/**
 * Legitimate traffic only: the site's everyday browsing, apps, crawlers and monitors, and a flash
 * crowd (new visitors in real browsers surging on one page, many behind carrier-NAT egresses with
 * hundreds of requests each). Nothing may be reported, three seeds each.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runScenario, SEEDS } from './scenario-check.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-l7-benign-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('no attack in legitimate traffic', { timeout: 300_000 }, () => {
  for (const name of ['http-baseline', 'http-flash-crowd']) {
    for (const seed of SEEDS) {
      test(`${name} seed ${seed}`, async () => {
        const { analysis } = await runScenario(dir, name, seed);
        assert.deepEqual(
          analysis.attacks.map((a) => `${a.vector} on ${a.victim.host}: ${a.sources.unique} addresses from ${a.start}`),
          [],
        );
        // The flash crowd surged: the log really holds a surge that had to be told from a flood.
        if (name === 'http-flash-crowd') {
          const t = analysis.traffic.timeline.map((b) => b.packets);
          const sorted = [...t].sort((a, b) => a - b);
          assert.ok((sorted[Math.floor(t.length * 0.99)] as number) > 1.8 * (sorted[Math.floor(t.length * 0.25)] as number), 'the crowd doubled the rate at least');
        }
      });
    }
  }
});
