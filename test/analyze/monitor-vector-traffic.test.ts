/**
 * The per-second summaries' traffic by vector (what the console's overview charts): a generated
 * SYN flood replayed through the monitor's live path. Every second's share of the attack adds up
 * to the packets and bytes the attack itself reports at its end (nothing counted twice, nothing
 * lost between windows), and that is close to what the generator labelled as the flood.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { monitorTraffic, type SecondSummary } from '../../src/analyze/monitor.js';
import type { AlertEvent } from '../../src/incidents/alerts.js';
import { type PaceClock, pacedCapture } from '../../src/sources/capture/paced.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-vector-traffic-'));
const CLI = join(import.meta.dirname, '../../bin/palisade.js');
after(() => rmSync(dir, { recursive: true, force: true }));

test('traffic by vector: the seconds add up to the attack, which is most of the labelled flood', { timeout: 60_000 }, async () => {
  const file = join(dir, 'syn.pcap');
  const r = spawnSync(process.execPath, [CLI, 'generate', 'tcp_syn_flood', '-n', '60000', '-s', '3', '-w', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const truth = JSON.parse(readFileSync(join(dir, 'syn.truth.json'), 'utf8')) as { attacks: Array<{ vector: string; packets: number; bytes: number }> };
  const pace: { current: PaceClock | null } = { current: null };
  const seconds: SecondSummary[] = [];
  const events: AlertEvent[] = [];
  await monitorTraffic({
    // 20 s of capture in about a second
    stream: pacedCapture(file, { speed: 20 }, pace),
    name: 'syn',
    pace,
    detection: {},
    services: [],
    sensor: 'test',
    drain: false,
    onEvent: (e) => void events.push(e),
    onSecond: (s) => void seconds.push(s),
  });
  const last = events.filter((e) => e.alert.vector === 'tcp_syn_flood').at(-1);
  assert.ok(last, `an alert for the flood: ${events.map((e) => e.alert.vector).join(', ')}`);
  const attack = last.alert.attack;
  let packets = 0;
  let bytes = 0;
  let withTraffic = 0;
  for (const s of seconds) {
    const t = s.trafficByVector.tcp_syn_flood;
    if (t === undefined) continue;
    withTraffic++;
    packets += t.packets;
    bytes += t.bytes;
    assert.equal(t.requests, 0, 'an L3/4 attack has no requests');
    assert.ok(t.packets <= s.packets, `second ${s.second}: the attack's ${t.packets} packets within the second's ${s.packets}`);
  }
  assert.deepEqual([packets, bytes], [attack.packets, attack.bytes], "the seconds' shares add up to the attack's own count");
  const flood = truth.attacks[0] as { packets: number };
  // the attack's packets are its class's packets to the victim while it lasts: the few
  // legitimate SYNs to it in those seconds count too, hence a little over the flood itself
  assert.ok(packets >= 0.8 * flood.packets && packets <= 1.02 * flood.packets, `${packets} against the ${flood.packets} flood packets`);
  assert.ok(withTraffic >= 5, `the flood spread over ${withTraffic} seconds (it lasts 10)`);
  assert.deepEqual(Object.keys(Object.assign({}, ...seconds.map((s) => s.trafficByVector))), ['tcp_syn_flood'], 'no other vector');
});
