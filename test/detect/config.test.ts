/**
 * Static per-prefix thresholds from palisade.yaml: a limit below the automatic floors turns the
 * 1-pps SYN-ACK reflection remnant of the corpus (no attack by default) into a reported attack,
 * and configuration mistakes are refused with file:line:column.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyzeCapture } from '../../src/analyze/run.js';
import { loadConfig } from '../../src/config/index.js';
import type { DetectOptions } from '../../src/detect/l34/detector.js';
import { CORPUS } from '../helpers/tshark.js';

const loadDetectConfig = (file: string): DetectOptions => loadConfig(file).detection;

const dir = mkdtempSync(join(tmpdir(), 'palisade-detcfg-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const REMNANT = join(CORPUS, 'ddos/amp.TCP.syn.optionallyACK.optionallysamePort.pcapng');

function config(text: string): string {
  const f = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(f, text);
  return f;
}

test('a static per-vector threshold below the floors reports the low-rate reflection', async () => {
  const none = await analyzeCapture(REMNANT);
  assert.equal(none.attacks.length, 0);
  const f = config('detection:\n  quiet_s: 30\n  thresholds:\n    - prefix: 10.10.10.0/24\n      vectors:\n        tcp_synack_flood: { pps: 1 }\n');
  const opts = loadDetectConfig(f);
  assert.equal(opts.quietS, 30);
  const a = await analyzeCapture(REMNANT, { detection: opts });
  assert.equal(a.attacks.length, 1);
  assert.equal(a.attacks[0]?.vector, 'tcp_synack_flood');
  assert.equal(a.attacks[0]?.victim.ip, '10.10.10.10');
  assert.match(a.attacks[0]?.signature?.expression ?? '', /^ip\.dst == 10\.10\.10\.10 and tcp\.flags == 0x12/);
  // A threshold on another prefix changes nothing.
  const other = await analyzeCapture(REMNANT, { detection: loadDetectConfig(config('detection:\n  thresholds:\n    - prefix: 192.0.2.0/24\n      pps: 1\n')) });
  assert.equal(other.attacks.length, 0);
});

test('configuration errors name the file, line and key', () => {
  assert.throws(
    () => loadDetectConfig(config('detection:\n  thresholds:\n    - prefix: 10.0.0.0/8\n      vectors:\n        syn: { pps: 1 }\n')),
    /:5:9: .*unknown L3\/L4 vector "syn"/,
  );
  assert.throws(() => loadDetectConfig(config('detection:\n  prefix4: 40\n')), /:2:12: detection\.prefix4 must be a number from 8 to 32/);
  assert.throws(() => loadDetectConfig(config('detection:\n  thresholds:\n    - pps: 5\n')), /:3:7: .*needs a prefix/);
  assert.throws(() => loadDetectConfig(config('detection:\n  thresholds: [\n')), /:\d+:\d+: /);
  assert.throws(() => loadDetectConfig(config('detection:\n  windows: 2\n')), /:2:3: unknown key detection\.windows/);
});
