/**
 * The monitor drill (issue 17): generated captures replayed at 1× speed through the live path
 * (paced byte stream → capture reader → detector → alerts → incidents), all at once, the clock
 * the wall's. Per attack: one alert with the right vector and victim within 2 s of wall time
 * after its onset, updates in place (one start per alert), an end after it stops; nothing on
 * the flash crowd; concurrent attacks on one network land on one incident.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { monitorTraffic } from '../../src/analyze/monitor.js';
import type { AlertEvent } from '../../src/incidents/alerts.js';
import type { Placement } from '../../src/incidents/desk.js';
import { type PaceClock, pacedCapture } from '../../src/sources/capture/paced.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-drill-'));
const CLI = join(import.meta.dirname, '../../bin/palisade.js');
const SCENARIOS = ['tcp_syn_flood', 'dns_amplification', 'carpet', 'same-victim', 'flash-crowd'];

interface Truth {
  attacks: Array<{ vector: string; victim: { ip?: string; prefix?: string }; start: string; end: string }>;
}

before(() => {
  for (const s of SCENARIOS) {
    const r = spawnSync(process.execPath, [CLI, 'generate', s, '-n', '60000', '-s', '3', '-w', join(dir, `${s}.pcap`)], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  }
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Seen {
  e: AlertEvent;
  p: Placement;
  /** capture time (ms) the wall clock stood for when the event reached us */
  captureMs: number;
}

async function drill(s: string): Promise<{ seen: Seen[]; truth: Truth }> {
  const pace: { current: PaceClock | null } = { current: null };
  const seen: Seen[] = [];
  await monitorTraffic({
    stream: pacedCapture(join(dir, `${s}.pcap`), { speed: 1 }, pace),
    name: s,
    pace,
    detection: {},
    services: [],
    sensor: 'drill',
    onEvent: (e, p) => {
      seen.push({ e, p, captureMs: (pace.current as PaceClock).captureMs(Date.now()) });
    },
  });
  return { seen, truth: JSON.parse(readFileSync(join(dir, `${s}.truth.json`), 'utf8')) as Truth };
}

test('drill at 1×: one alert per attack within 2 s of onset, updated in place, ended; nothing on a flash crowd; one incident per attacked network', {
  timeout: 120_000,
}, async () => {
  const runs = await Promise.all(SCENARIOS.map(async (s) => [s, await drill(s)] as const));
  for (const [s, { seen, truth }] of runs) {
    const starts = seen.filter((x) => x.e.kind === 'start');
    const label = (x: Seen): string => `${x.e.kind} ${x.e.alert.vector}→${x.e.alert.victim}`;
    if (truth.attacks.length === 0) {
      assert.deepEqual(seen.map(label), [], `${s}: no alert on benign traffic`);
      continue;
    }
    assert.equal(starts.length, truth.attacks.length, `${s}: one alert per attack: ${seen.map(label).join(', ')}`);
    for (const t of truth.attacks) {
      const victim = t.victim.ip ?? t.victim.prefix;
      const st = starts.find((x) => x.e.alert.vector === t.vector && x.e.alert.victim === victim);
      assert.ok(st, `${s}: ${t.vector} on ${victim} raised (${starts.map(label).join(', ')})`);
      const delay = st.captureMs - Date.parse(t.start);
      assert.ok(delay <= 2000, `${s}: ${t.vector} alerted ${delay.toFixed(0)} ms after onset`);
      const mine = seen.filter((x) => x.e.alert.id === st.e.alert.id);
      assert.equal(mine.filter((x) => x.e.kind === 'start').length, 1, `${s}: updates, not new alerts`);
      const end = mine.find((x) => x.e.kind === 'end');
      assert.ok(end, `${s}: ${t.vector} ended`);
      assert.ok(end.captureMs >= Date.parse(t.end), `${s}: the end comes after the attack stopped`);
      assert.equal(mine.at(-1)?.e.kind, 'end');
    }
    // attacks on one /24 are one incident
    const numbers = new Set(starts.map((x) => x.p.incident.number));
    assert.equal(numbers.size, 1, `${s}: ${numbers.size} incidents for attacks on one network`);
  }
});
