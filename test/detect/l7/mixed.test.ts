/**
 * http-mixed, three seeds: a flash crowd with carrier-NAT egresses, a botnet flood, busy and slow
 * stuffing, fast and slow scanners and slowloris in one log — each found with its vector, no
 * legitimate address flagged (scenario-check.ts); and what the records carry for each vector.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { L7Mitigation } from '../../../src/model/attack.js';
import { assertBars, runScenario, SEEDS } from './scenario-check.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-l7-mixed-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('L7 detection on http-mixed', { timeout: 300_000 }, () => {
  for (const seed of SEEDS) {
    test(`http-mixed seed ${seed}`, async () => {
      const { analysis, s } = await runScenario(dir, 'http-mixed', seed);
      assertBars('http-mixed', seed, analysis, s);
      assert.equal(analysis.capture.format, 'access_log');
      assert.equal(analysis.capture.log?.format, 'combined');
      assert.equal(analysis.capture.log?.detected, true);
      for (const a of analysis.attacks) {
        const m = a.mitigation as L7Mitigation;
        assert.equal(a.victim.protocol, 'http');
        assert.ok(a.victim.host, 'victim host');
        assert.equal(a.sources.ips?.length, a.sources.unique);
        assert.ok((a.requests ?? 0) > 0 && (a.peak_rps ?? 0) > 0);
        assert.ok(Date.parse(a.start) <= Date.parse(a.detected_at) && Date.parse(a.detected_at) <= Date.parse(a.end) + 10_000, `${a.id}: start ≤ detected_at ≤ end`);
        assert.equal(m.custom_rule.expression, a.signature?.expression);
        assert.deepEqual([...m.lists.ips].sort(), [...(a.sources.ips ?? [])].sort());
        assert.match(m.nftables, /saddr/, 'the address list as nftables');
        if (a.vector === 'slowloris') {
          assert.equal(m.rate_limit, null);
          assert.ok(typeof a.evidence.l7?.header_timeout_s === 'number', 'the header timeout is named');
        } else {
          const rl = m.rate_limit;
          assert.ok(rl, `${a.vector}: a rate-limiting rule`);
          assert.deepEqual(rl.ratelimit.characteristics, ['cf.colo.id', 'ip.src']);
          assert.ok([10, 60, 120, 300, 600, 3600].includes(rl.ratelimit.period));
          assert.ok(rl.ratelimit.requests_per_period >= 1 && rl.ratelimit.mitigation_timeout > 0);
        }
        if (a.vector === 'credential_stuffing') assert.match(m.rate_limit?.ratelimit.counting_expression ?? '', /http\.response\.code in \{401 403 429\}/);
      }
    });
  }
});
