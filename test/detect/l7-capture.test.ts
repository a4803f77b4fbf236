/**
 * L7 attacks found in packet captures (`palisade analyze capture.pcap`): the HTTP flood and the
 * slowloris of the generator's packet scenarios at three seeds — reported with the right vector
 * and victim, >= 95 % of the attack's addresses (from the per-packet truth) among the attack's
 * sources, no address that only sent benign traffic among them, output valid against the schema —
 * and nothing L7 on the benign and flash-crowd captures.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyzeCapture } from '../../src/analyze/run.js';
import { type Truth, truthLabels } from '../../src/generate/generator.js';
import type { Attack } from '../../src/model/attack.js';
import { schemaErrors } from '../../src/model/validate.js';
import { readCapture } from '../../src/sources/capture/capture.js';
import { captureSource, type PacketSource } from '../../src/sources/capture/source.js';
import { makeScenario } from './truth.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-l7cap-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SEEDS = [1, 2, 3];
const L7 = new Set(['http_flood', 'slowloris', 'credential_stuffing']);

function ip4(u: number): string {
  return `${u >>> 24}.${(u >>> 16) & 255}.${(u >>> 8) & 255}.${u & 255}`;
}

/** Client addresses of the attack's packets, and addresses that sent benign packets only. */
async function addresses(pcap: string, truth: Truth, label: number, victim: string): Promise<{ attackers: Set<string>; benign: Set<string> }> {
  const labels = truthLabels(truth);
  const attackers = new Set<string>();
  const benign = new Set<string>();
  let i = 0;
  await readCapture(pcap, (v) => {
    const l = labels[i++] as number;
    if (v.ipVersion !== 4) return;
    const src = ip4(v.src4);
    if (src === victim) return;
    if (l === label) attackers.add(src);
    else if (l === 0) benign.add(src);
  });
  for (const a of attackers) benign.delete(a);
  return { attackers, benign };
}

async function check(scenario: string, packets: number, seed: number): Promise<void> {
  const name = `${scenario} (seed ${seed})`;
  const f = join(dir, `${scenario}-${seed}.pcap`);
  const truth = makeScenario(scenario, f, packets, seed);
  const out = JSON.parse(JSON.stringify(await analyzeCapture(f))) as { attacks: Attack[] };
  const errors = schemaErrors(out, 'analysis');
  assert.equal(errors, null, `${name}: ${errors}`);
  const t = truth.attacks[0];
  assert.ok(t !== undefined);
  const l7 = out.attacks.filter((a) => L7.has(a.vector));
  assert.deepEqual(
    l7.map((a) => `${a.vector}@${a.victim.ip}`),
    [`${t.vector}@${t.victim.ip}`],
    name,
  );
  const a = l7[0] as Attack;
  if (t.vector === 'http_flood') assert.equal(a.victim.host, 'www.example.com', name);
  assert.equal(a.victim.protocol, 'http', name);
  const { attackers, benign } = await addresses(f, truth, t.label, t.victim.ip as string);
  const listed = new Set(a.sources.ips ?? []);
  let found = 0;
  for (const ip of attackers) if (listed.has(ip)) found++;
  assert.ok(found >= 0.95 * attackers.size, `${name}: ${found} of ${attackers.size} attack addresses among the attack's sources`);
  const wrong = [...listed].filter((ip) => benign.has(ip));
  assert.deepEqual(wrong, [], `${name}: legitimate addresses flagged`);
  // Detected while it went on, not at the end of the capture.
  assert.ok(Date.parse(a.detected_at) <= Date.parse(t.end.replace(/(\.\d{3})\d*Z$/, '$1Z')) + 60_000, `${name}: detected at ${a.detected_at}, attack ended ${t.end}`);
}

for (const seed of SEEDS) test(`http_flood in a capture (seed ${seed})`, () => check('http_flood', 200_000, seed));
for (const seed of SEEDS) test(`slowloris in a capture (seed ${seed})`, () => check('slowloris', 80_000, seed));

test('a capture read once (stdin): the same L7 attack, measured over the requests kept from the first pass', async () => {
  const f = join(dir, 'slowloris-1.pcap');
  if (!existsSync(f)) makeScenario('slowloris', f, 80_000, 1);
  const file = await analyzeCapture(f);
  const once: PacketSource = { ...captureSource(f), replayable: false, location: null };
  const stdin = await analyzeCapture(once);
  const key = (a: Attack) => `${a.vector}@${a.victim.ip}`;
  const l7 = (x: Attack[]) => x.filter((a) => L7.has(a.vector));
  assert.deepEqual(l7(stdin.attacks).map(key), l7(file.attacks).map(key));
  assert.deepEqual(l7(stdin.attacks)[0]?.sources.ips, l7(file.attacks)[0]?.sources.ips);
  assert.deepEqual(stdin.capture.http_requests, file.capture.http_requests);
});

test('no L7 attack on the benign and flash-crowd captures', async () => {
  for (const seed of SEEDS) {
    for (const name of ['benign', 'flash-crowd']) {
      const f = join(dir, `${name}-${seed}.pcap`);
      makeScenario(name, f, 60_000, seed);
      const out = await analyzeCapture(f);
      assert.deepEqual(
        out.attacks.map((a) => `${a.vector}@${a.victim.ip ?? a.victim.prefix}`),
        [],
        `${name} (seed ${seed})`,
      );
    }
  }
});
