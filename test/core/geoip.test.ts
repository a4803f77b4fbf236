/**
 * The ASN table (core/geoip.ts) against its own source file read the plain way: for ranges spread
 * over the package's CSV (quoted names with commas and doubled quotes included), a lookup of the range's first and
 * last address gives the row's AS number and organisation; IPv6 ranges too (read on first use).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { geoDb } from '../../src/core/geoip.js';

const require = createRequire(import.meta.url);

function rows(file: string): Array<{ start: bigint; end: bigint; asn: number; org: string }> {
  const dir = require.resolve('@ip-location-db/asn/package.json').replace(/package\.json$/, '');
  return readFileSync(`${dir}${file}`, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(\d+),(\d+),(\d+),(?:"((?:[^"]|"")*)"|(.*))$/.exec(l.replace(/\r$/, ''));
      assert.ok(m, l);
      return { start: BigInt(m[1] as string), end: BigInt(m[2] as string), asn: Number(m[3]), org: m[4] !== undefined ? m[4].replaceAll('""', '"') : (m[5] ?? '') };
    });
}

const v4 = (x: bigint): string => [24n, 16n, 8n, 0n].map((s) => String((x >> s) & 255n)).join('.');
const v6 = (x: bigint): string => x.toString(16).padStart(32, '0').match(/.{4}/g)?.join(':') ?? '';

test('ASN lookups agree with the CSV rows, IPv4 and IPv6', { skip: !geoDb().available && 'no offline databases installed' }, () => {
  const g = geoDb();
  for (const [file, fmt] of [
    ['asn-ipv4-num.csv', v4],
    ['asn-ipv6-num.csv', v6],
  ] as const) {
    const all = rows(file);
    const step = Math.max(1, Math.floor(all.length / 1500));
    let quotedComma = 0;
    let quoteInside = 0;
    for (let i = 0; i < all.length; i += step) {
      const r = all[i] as (typeof all)[number];
      if (r.org.includes(',')) quotedComma++;
      if (r.org.includes('"')) quoteInside++;
      for (const at of [r.start, r.end]) {
        const got = g.lookup(fmt(at));
        assert.equal(got.asn, r.asn, `${file} row ${i}: ${fmt(at)}`);
        assert.equal(got.as_org, r.org, `${file} row ${i}: ${fmt(at)}`);
      }
    }
    if (file === 'asn-ipv4-num.csv') assert.ok(quotedComma > 0 && quoteInside > 0, 'names holding a comma or a quote were among those checked');
  }
  assert.equal(g.lookup('1.0.0.1').as_org, 'Cloudflare, Inc.');
  assert.equal(g.lookup('5.3.84.1').as_org, '"Credit Ural Bank" Joint Stock Company');
});
