/**
 * analyze/compare on the primary input, an nginx access log read by the access-log reader
 * through the HTTP scheme: in the generator's mixed scenario every attack group (flood, busy and
 * slow stuffing, fast and slow scanners, slowloris) against the legitimate lines. The nginx
 * format logs no header list and no TLS fingerprint, so the separation has to come from what
 * such a log has: request line, status, UA, referer, and where the client is.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { compare } from '../../src/analyze/compare.js';
import { httpFeatures } from '../../src/analyze/compare-features.js';
import { generateL7, l7TruthLabels } from '../../src/generate/l7/generator.js';
import { compile } from '../../src/rules/compile.js';
import { type HttpRequestView, httpScheme } from '../../src/scheme/http.js';
import { HttpLogRequest } from '../../src/scheme/http-log.js';
import { accessLogSource } from '../../src/sources/accesslog/index.js';

const ART = resolve(import.meta.dirname, '../../out/test-artifacts/compare-mixed');

test('http-mixed (nginx log): each attack group is separated from legitimate traffic, rates as re-measured', async () => {
  mkdirSync(ART, { recursive: true });
  const log = join(ART, 'mixed.log');
  const truth = generateL7('http-mixed', log, { lines: 60_000, seed: 1, noJson: true });
  const labels = l7TruthLabels(truth);
  /** Every record of the log with its line's label. */
  const each = async (fn: (v: HttpRequestView, label: number) => void): Promise<void> => {
    const req = new HttpLogRequest();
    let i = 0;
    await accessLogSource(log).read((v) => fn(req.point(v), labels[i++] as number));
    assert.equal(i, truth.lines);
  };
  assert.ok(truth.attacks.length >= 5);
  for (const attack of truth.attacks) {
    const r = await compare({ replayable: true, read: (emit) => each((v, l) => emit(v, l === 0, l === attack.label)) }, { scheme: httpScheme, features: httpFeatures(httpScheme) });
    assert.equal(r.b.records, attack.lines, attack.group);
    const s = r.suggestion;
    assert.ok(s, attack.group);
    assert.ok(s.b_share >= 0.9 && s.a_share <= 0.01, `${attack.group}: ${s.expression} B ${s.b_share} A ${s.a_share}`);
    const pred = compile(s.expression, httpScheme);
    let a = 0;
    let b = 0;
    await each((v, l) => {
      if (!pred(v)) return;
      if (l === 0) a++;
      if (l === attack.label) b++;
    });
    assert.deepEqual([b, a], [s.b_matched, s.a_matched], `${attack.group}: ${s.expression}`);
  }
});
