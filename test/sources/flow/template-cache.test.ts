/**
 * The template cache stays inside its bounds: 100,000 templates (the default bound) over many
 * exporters and domains, then 100,000 more; the heap they take is measured and reported.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { FlowDecoder } from '../../../src/sources/flow/datagram.js';
import { ipfixMessage, ipfixTemplateSet, type Spec } from './build.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** 20 fields, like a typical IPv4 flow template. */
const FIELDS: Spec[] = [8, 12, 7, 11, 4, 6, 5, 1, 2, 10, 14, 16, 17, 15, 9, 13, 152, 153, 61, 136].map(
  (ie): Spec => [ie, ie === 1 || ie === 2 || ie === 152 || ie === 153 ? 8 : 4],
);

function learn(dec: FlowDecoder, domains: number, perDomain: number, base: number): void {
  for (let d = 0; d < domains; d++) {
    for (let t = 0; t < perDomain; t += 10) {
      const recs = [];
      for (let k = 0; k < 10; k++) recs.push({ id: 256 + t + k, fields: FIELDS });
      const m = ipfixMessage(base + d, 0, [ipfixTemplateSet(recs)]);
      dec.decode(m, 0, m.length, 4739, 0);
    }
  }
}

test('100,000 templates stay within the cache bounds, and the memory they take is bounded', (t) => {
  const dec = new FlowDecoder();
  dec.exporter.set4(0x0a000001);
  gc();
  const before = process.memoryUsage().heapUsed;
  learn(dec, 400, 250, 0);
  gc();
  const after = process.memoryUsage().heapUsed;
  assert.equal(dec.cache.count, 100_000);
  assert.equal(dec.stats.templates, 100_000);
  const mb = (after - before) / 1048576;
  t.diagnostic(`100,000 templates of 20 fields: ${mb.toFixed(1)} MB of heap (${Math.round((after - before) / 100_000)} bytes each)`);
  assert.ok(mb < 64, `template cache took ${mb.toFixed(1)} MB`);

  // 100,000 more from other domains: the oldest go, the count and the heap stay put.
  learn(dec, 400, 250, 1000);
  gc();
  const again = process.memoryUsage().heapUsed;
  assert.equal(dec.cache.count, 100_000);
  assert.equal(dec.stats.templateEvictions, 100_000);
  assert.ok(dec.cache.fields <= dec.cache.maxFields);
  const grew = (again - after) / 1048576;
  t.diagnostic(`after 100,000 more (evicting the oldest): heap ${grew >= 0 ? '+' : ''}${grew.toFixed(1)} MB`);
  assert.ok(grew < 16, `heap grew ${grew.toFixed(1)} MB after eviction`);
});

test('small bounds: templates and fields are capped, the oldest evicted first', () => {
  const dec = new FlowDecoder({ maxTemplates: 1000, maxTemplateFields: 16383 * 2 });
  dec.exporter.set4(0x0a000001);
  learn(dec, 10, 500, 0);
  assert.equal(dec.cache.count, 1000);
  assert.equal(dec.stats.templateEvictions, 4000);
  // The newest survive: the last domain has all of its templates.
  const last = dec.domains.domains.at(-1);
  assert.equal(last?.templates.size, 500);
  assert.equal(dec.domains.domains[0]?.templates.size, 0);
  // A field bound smaller than the templates' fields: the field count caps instead.
  const tight = new FlowDecoder({ maxTemplates: 100_000, maxTemplateFields: 1 });
  tight.exporter.set4(0x0a000001);
  learn(tight, 2, 2000, 0);
  assert.ok(tight.cache.fields <= tight.cache.maxFields);
  assert.ok(tight.stats.templateEvictions > 0);
});

test('the domain table is bounded: new exporters past it are refused and counted', () => {
  const dec = new FlowDecoder({ maxDomains: 50 });
  dec.exporter.set4(0x0a000001);
  learn(dec, 60, 10, 0);
  assert.equal(dec.domains.domains.length, 50);
  assert.equal(dec.stats.domainOverflow, 10);
});
