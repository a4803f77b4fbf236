/**
 * The template cache stays inside its bounds: 100,000 templates (the default bound) over many
 * exporters and domains, then 100,000 more; the heap they take is measured and reported.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { FlowDecoder } from '../../../src/sources/flow/datagram.js';
import { DomainTable, ExporterAddr } from '../../../src/sources/flow/domains.js';
import { prng } from '../../helpers/prng.js';
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

test('the domain table is bounded: past it the least recently seen exporter/domain goes, with its templates', () => {
  const dec = new FlowDecoder({ maxDomains: 50 });
  dec.exporter.set4(0x0a000001);
  // Domain 7 keeps sending while 100 others come and go: it keeps its place and its templates.
  const keep = ipfixMessage(7, 0, [ipfixTemplateSet([{ id: 256, fields: FIELDS }])]);
  for (let d = 100; d < 200; d++) {
    dec.decode(keep, 0, keep.length, 4739, 0);
    const m = ipfixMessage(d, 0, [ipfixTemplateSet([{ id: 256, fields: FIELDS }])]);
    dec.decode(m, 0, m.length, 4739, 0);
  }
  assert.equal(dec.domains.domains.length, 50);
  assert.equal(dec.stats.domainOverflow, 51);
  assert.equal(dec.cache.count, 50, 'evicted domains took their templates with them');
  const ids = new Set(dec.domains.domains.map((d) => d.domainId));
  assert.ok(ids.has(7), 'the busy exporter stayed');
  assert.ok(ids.has(199) && !ids.has(100), 'the newest are in, the oldest out');
  // Lookups still find every remaining domain after the deletions shifted entries about.
  for (const d of dec.domains.domains) {
    const again = dec.domains.get(d.kind, dec.exporter, d.domainId, dec.exporter.port);
    assert.equal(again, d);
    assert.equal(dec.domains.created, false);
  }
});

test('the domain table against a Map: random exporters, v4 and v6, with evictions', () => {
  const table = new DomainTable(64);
  const model = new Map<string, number>();
  const rnd = prng(99);
  const exp = new ExporterAddr();
  let evicted = 0;
  table.onEvict = (d) => {
    evicted++;
    model.delete(`${d.kind}/${d.exporterVersion}/${d.exporter4}/${[...d.exporter6].join('.')}/${d.domainId}`);
  };
  for (let i = 0; i < 20_000; i++) {
    const v6 = rnd() < 0.3;
    const a = Math.floor(rnd() * 40);
    if (v6) {
      const b = new Uint8Array(16);
      b[0] = 0x20;
      b[15] = a;
      exp.set6(b, 0);
    } else exp.set4(0x0a000000 + a);
    const dom = Math.floor(rnd() * 3);
    const kind = rnd() < 0.5 ? 9 : 10;
    const key = `${kind}/${exp.version}/${exp.v4}/${exp.version === 6 ? [...exp.v6].join('.') : '0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0'}/${dom}`;
    const d = table.get(kind, exp, dom, 0);
    assert.equal(table.created, !model.has(key), `lookup ${i}`);
    if (table.created) model.set(key, i);
    assert.equal(d.domainId, dom);
  }
  assert.ok(evicted > 1000);
  assert.equal(model.size, 64);
});
