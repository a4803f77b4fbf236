/**
 * Block lists by network: a flood from a rented hosting network (OVH, AS16276) that sends the
 * site nothing else gets its AS listed (lists.asns, a rule on ip.src.asnum, and a Cloudflare custom
 * rule); the residential network (Comcast, AS7922) its real users share with a few bots is not.
 * Needs the offline ASN database (skipped, saying so, without it).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyzeAccessLog } from '../../../src/analyze/analyze-log.js';
import { geoDb } from '../../../src/core/geoip.js';
import { exportL7Attacks } from '../../../src/export/l7.js';
import type { L7Mitigation } from '../../../src/model/attack.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-l7-asn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));
const at = (sec: number): string => `[02/Mar/2026:10:${pad(Math.floor(sec / 60))}:${pad(sec % 60)} +0000]`;
const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';
const BOT = 'Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0';

function log(): string {
  const out: string[] = [];
  for (let sec = 0; sec < 600; sec++) {
    // Browsers from Comcast addresses: a page and its assets, with a cookie, ~60 requests a second.
    for (let k = 0; k < 20; k++) {
      const u = (sec * 20 + k) % 3000;
      const ip = `73.${1 + (u % 200)}.${Math.floor(u / 200)}.${10 + (u % 37)}`;
      for (const p of ['/products/item', '/static/app.js', '/static/site.css'])
        out.push(`${ip} - - ${at(sec)} "GET ${p} HTTP/2.0" 200 2048 "https://www.example.com/" "${BROWSER}" "sid=${u}" host=www.example.com`);
    }
    if (sec < 240 || sec >= 480) continue;
    // The flood, from minute 4 to 8: 60 bots on OVH and 10 on Comcast, ~300 requests a second, no assets, no cookie.
    for (let k = 0; k < 300; k++) {
      const b = (sec * 300 + k) % 70;
      const ip = b < 60 ? `51.68.${b * 3}.${20 + b}` : `73.${40 + b}.9.${b}`;
      out.push(`${ip} - - ${at(sec)} "GET /?r=${sec}${k} HTTP/1.1" 200 512 "-" "${BOT}" "-" host=www.example.com`);
    }
  }
  return `${out.join('\n')}\n`;
}

test('a hosting network that sent only the flood is listed by AS; a shared residential one is not', {
  skip: !geoDb().available && 'no offline databases installed',
  timeout: 120_000,
}, async () => {
  const file = join(dir, 'flood.log');
  writeFileSync(file, log());
  const a = await analyzeAccessLog(file, {
    format: 'nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_cookie" host=$host',
  });
  const flood = a.attacks.find((x) => x.vector === 'http_flood');
  assert.ok(flood, `the flood found: ${a.attacks.map((x) => x.vector).join(', ')}`);
  const m = flood.mitigation as L7Mitigation;
  assert.deepEqual(m.lists.asns, [16276], `top ASNs: ${JSON.stringify(flood.sources.top_asns)}`);
  const rules = (m.ruleset as { rules: Array<{ id: string; expression: string }> }).rules;
  assert.ok(
    rules.some((r) => r.expression === 'http.host eq "www.example.com" and ip.src.asnum in {16276}'),
    JSON.stringify(rules),
  );
  const cf = JSON.parse(exportL7Attacks([flood], 'cloudflare').text) as { rulesets: Array<{ rules: Array<{ expression: string }> }> };
  assert.ok(cf.rulesets[0]?.rules.some((r) => r.expression.includes('ip.src.asnum in {16276}')));
});
