/**
 * The multi-node mode's detector side (issue 19): sensors publish each second's window
 * (Detector.onWindowRows → window-rows.ts) and a correlator adds them up (Detector.mergeWindow)
 * and decides with the same code as one sensor.
 *
 * A carpet bombing of 203.0.113.0/24 (the generator's `carpet` scenario, a spoofed UDP flood) is
 * split between two sensors by a hash of each packet's source address, as two routers that each
 * carry part of the botnet: each sensor's share of the /24 stays below the UDP floor in every
 * second and neither reports anything, while the correlator fed both sensors' windows reports one
 * carpet bombing of the /24, started where the single detector on the whole capture starts it,
 * with each sensor's share near half. Merging one sensor's windows alone gives that sensor's own
 * decisions (the merge path invents and loses nothing), and benign traffic split and merged gives
 * no attack.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { PalisadeError } from '../../src/core/errors.js';
import { mix32 } from '../../src/detect/core/sketch/hash.js';
import { KeyTable } from '../../src/detect/core/table.js';
import { liveAttack } from '../../src/detect/l34/attacks.js';
import { Cls, NCLS } from '../../src/detect/l34/classify.js';
import { Detector, type Track } from '../../src/detect/l34/detector.js';
import { floorPackets } from '../../src/detect/l34/thresholds.js';
import { decodeWindow, encodeWindow } from '../../src/detect/l34/window-rows.js';
import { generate, type Truth } from '../../src/generate/generator.js';
import { schemaErrors } from '../../src/model/validate.js';
import { readCapture } from '../../src/sources/capture/capture.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-merge-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** 203.0.113.0/24, the generator's protected network. */
const NET = 0xcb007100;
/**
 * Packets of the carpet capture: its flood runs at 8/126 of them per second (scenarios.ts), about
 * 800 packets a second over the /24: above the UDP floor (500) whole, about 400 per half.
 */
const CARPET_PACKETS = 12_600;

/** One sensor: a detector whose windows are kept as they close (second → rows). */
interface Sensor {
  det: Detector;
  windows: Array<{ second: number; rows: Uint8Array }>;
}

function sensor(): Sensor {
  const s: Sensor = { det: new Detector(), windows: [] };
  s.det.onWindowRows = (second, rows) => s.windows.push({ second, rows });
  return s;
}

/**
 * Reads the capture into a detector of the whole and `n` sensors, each packet to the sensor its
 * source address hashes to (IPv4; anything else to the first); all finished.
 */
async function split(file: string, n: number): Promise<{ whole: Sensor; parts: Sensor[]; tracks: { whole: Track[]; parts: Track[][] } }> {
  const whole = sensor();
  const parts = Array.from({ length: n }, sensor);
  await readCapture(file, (v) => {
    whole.det.add(v);
    const k = v.ipVersion === 4 ? (mix32(v.src4 | 0) >>> 0) % n : 0;
    (parts[k] as Sensor).det.add(v);
  });
  return { whole, parts, tracks: { whole: whole.det.finish(), parts: parts.map((p) => p.det.finish()) } };
}

/**
 * A correlator: each second, every sensor's window of it merged (sensor index = position), then
 * the second closed — as src/cluster/correlator.ts drives it.
 */
function correlate(sensors: readonly Sensor[]): { det: Detector; tracks: Track[] } {
  const det = new Detector();
  const seconds = [...new Set(sensors.flatMap((s) => s.windows.map((w) => w.second)))].sort((a, b) => a - b);
  for (const sec of seconds) {
    sensors.forEach((s, k) => {
      for (const w of s.windows) if (w.second === sec) det.mergeWindow(sec, w.rows, k);
    });
    det.advance(sec + 1);
  }
  return { det, tracks: det.finish() };
}

/** Per second: UDP packets a sensor's window counted for the /24 (the carpet's class, summed over its addresses). */
function udpToNet(s: Sensor): number[] {
  return s.windows.map(({ rows }) => {
    const w = decodeWindow(rows);
    let n = 0;
    for (let r = 0; r < w.rows; r++) if (w.fam(r) === 4 && (w.v4(r) & 0xffffff00) === (NET | 0) && (w.clsMask(r) & (1 << Cls.UDP)) !== 0) n += w.packetsOf(r, Cls.UDP);
    return n;
  });
}

/** What a decision is, to compare two detectors' (lastActive and the samples aside: a correlator has no packets). */
function decision(tr: Track): Record<string, unknown> {
  return {
    id: tr.id,
    vector: tr.vector,
    key: tr.key,
    isPrefix: tr.isPrefix,
    cls: tr.cls,
    start: tr.start,
    end: tr.end,
    detected: tr.detected,
    windowPackets: tr.windowPackets,
    windowBytes: tr.windowBytes,
    peakPps: tr.peakPps,
    peakBps: tr.peakBps,
    windows: tr.windows,
    baseRate: tr.baseRate,
  };
}

/** Absolute ns of a track's start. */
function startNs(det: Detector, tr: Track): number {
  return det.baseSecond * 1e9 + tr.start;
}

/** The first seed whose carpet bombing is a spoofed UDP flood (the generator picks the vector per seed). */
function carpetCapture(): { file: string; truth: Truth } {
  for (let seed = 1; seed <= 40; seed++) {
    const file = join(dir, `carpet-${seed}.pcap`);
    const truth = generate('carpet', file, { packets: CARPET_PACKETS, seed, noTruth: true });
    const a = truth.attacks[0];
    if (a?.vector === 'udp_flood' && a.sources.kind === 'spoofed') return { file, truth };
  }
  throw new Error('no seed in 1..40 makes the carpet a spoofed UDP flood');
}

test('a carpet bombing split over two sensors, each below the threshold, is one attack on the /24 once merged', async () => {
  const { file, truth } = carpetCapture();
  const { whole, parts, tracks } = await split(file, 2);
  // The single detector on the whole capture finds it.
  const single = tracks.whole.filter((t) => t.isPrefix);
  assert.equal(single.length, 1, tracks.whole.map((t) => `${t.vector}@${t.key}`).join(', '));
  const one = single[0] as Track;
  assert.equal(one.key, '203.0.113.0/24');
  assert.equal(one.vector, 'udp_flood');
  // Each half: below the UDP floor in every second, and no attack at all.
  const floor = floorPackets(Cls.UDP);
  const perSecond = parts.map(udpToNet);
  for (const [k, counts] of perSecond.entries()) {
    assert.ok(Math.max(...counts) < floor, `sensor ${k}: ${Math.max(...counts)} UDP packets to the /24 in one second (floor ${floor})`);
    assert.deepEqual(
      tracks.parts[k]?.map((t) => `${t.vector}@${t.key}`),
      [],
      `sensor ${k} alone reports nothing`,
    );
  }
  // Together they are above it.
  const sums = (perSecond[0] as number[]).map((x, s) => x + ((perSecond[1] as number[])[s] ?? 0));
  assert.ok(Math.max(...sums) >= floor, `merged peak ${Math.max(...sums)}`);
  // The correlator: exactly one attack, the carpet bombing of the /24.
  const merged = correlate(parts);
  assert.equal(merged.tracks.length, 1, merged.tracks.map((t) => `${t.vector}@${t.key}`).join(', '));
  const m = merged.tracks[0] as Track;
  assert.equal(m.key, '203.0.113.0/24');
  assert.ok(m.isPrefix);
  assert.equal(m.vector, truth.attacks[0]?.vector);
  const lag = Math.abs(startNs(merged.det, m) - startNs(whole.det, one)) / 1e9;
  assert.ok(lag <= 2, `merged start ${lag} s from the single detector's`);
  // Source-split halves judge each half of a conversation one-sided (each sensor sees one
  // direction): a little more UDP counts as out of state than on the whole capture.
  assert.ok(Math.abs(m.windowPackets - one.windowPackets) <= 0.01 * one.windowPackets, `merged ${m.windowPackets} vs single ${one.windowPackets} packets`);
  assert.equal(m.windows, one.windows);
  // Each sensor's share of it: near half, and together all of it.
  const shares = merged.det.sensorShares(m);
  assert.deepEqual(
    shares.map((s) => s.sensor),
    [0, 1],
  );
  assert.equal(
    shares.reduce((n, s) => n + s.packets, 0),
    m.windowPackets,
  );
  for (const s of shares) assert.ok(Math.abs(s.packets / m.windowPackets - 0.5) < 0.1, `sensor ${s.sensor}: ${s.packets} of ${m.windowPackets}`);
  // As the correlator reports it live: a valid Attack without a signature (no packet sample).
  const a = liveAttack(m, merged.det, merged.det.packets);
  assert.equal(a.signature, null);
  assert.equal(a.evidence.signature, 'none');
  assert.equal(a.evidence.field_signature.coverage, 0);
  assert.deepEqual(a.victim, { prefix: '203.0.113.0/24', protocol: 'udp' });
  assert.equal(a.packets, m.windowPackets);
  assert.equal(schemaErrors({ ...a, mitigation: { ruleset: null, nftables: '', iptables: '' } }, 'attack'), null);
  if (process.env.PALISADE_VERBOSE)
    console.log(
      `halves' peak UDP to the /24: ${perSecond.map((c) => Math.max(...c)).join(', ')} (floor ${floor}); merged peak ${m.peakPps}; ` +
        `single ${one.windowPackets} packets from ${one.start / 1e9} s, merged ${m.windowPackets} from ${m.start / 1e9} s; shares ${JSON.stringify(shares)}`,
    );
});

test("merging one sensor's windows alone gives that sensor's own decisions", async () => {
  const { file } = carpetCapture();
  const { whole, parts, tracks } = await split(file, 2);
  // The whole capture as one sensor (it reports the carpet bombing), and each half (nothing).
  for (const [name, s, own] of [['whole', whole, tracks.whole], ...parts.map((p, k) => [`half ${k}`, p, tracks.parts[k]] as const)] as const) {
    const merged = correlate([s]);
    assert.deepEqual(merged.tracks.map(decision), (own as Track[]).map(decision), name);
    assert.equal(merged.det.baseSecond, s.det.baseSecond, name);
    assert.equal(merged.det.packets, s.det.packets, `${name}: packets`);
    for (const tr of merged.tracks) assert.deepEqual(merged.det.sensorShares(tr), [{ sensor: 0, packets: tr.windowPackets }], name);
  }
  assert.ok(tracks.whole.length > 0);
});

test('one sensor merged alone decides as itself on every kind of window: IPv6, scans (port bitmaps), random subdomains (name bitmaps), reflections, pulses', async () => {
  for (const scenario of ['concurrent', 'ipv6-floods', 'scanner', 'scanner_udp', 'dns_random_subdomain', 'dns_amplification', 'pulse', 'syn-botnet']) {
    const file = join(dir, `${scenario}.pcap`);
    generate(scenario, file, { packets: 20_000, seed: 2, noTruth: true });
    const s = sensor();
    await readCapture(file, (v) => s.det.add(v));
    const own = s.det.finish();
    assert.ok(own.length > 0, scenario);
    const merged = correlate([s]);
    assert.deepEqual(merged.tracks.map(decision), own.map(decision), scenario);
  }
});

test('routed symmetrically (both directions of a conversation on one sensor), the merged sensors equal one detector exactly', async () => {
  const { file } = carpetCapture();
  const whole = sensor();
  const parts = [sensor(), sensor()];
  await readCapture(file, (v) => {
    whole.det.add(v);
    // the address outside the /24: the source of what comes in, the destination of what goes out
    const outside = (v.src4 & 0xffffff00) === (NET | 0) ? v.dst4 : v.src4;
    (parts[(mix32(outside | 0) >>> 0) % 2] as Sensor).det.add(v);
  });
  const own = whole.det.finish();
  for (const p of parts) assert.deepEqual(p.det.finish(), []);
  const merged = correlate(parts);
  assert.deepEqual(merged.tracks.map(decision), own.map(decision));
});

test('benign traffic split over two sensors and merged gives no attack', async () => {
  const file = join(dir, 'benign.pcap');
  generate('benign', file, { packets: 40_000, seed: 3, noTruth: true });
  const { parts, tracks } = await split(file, 2);
  assert.deepEqual(tracks.whole, []);
  const merged = correlate(parts);
  assert.deepEqual(
    merged.tracks.map((t) => `${t.vector}@${t.key}`),
    [],
  );
  assert.ok(merged.det.packets === 40_000, `${merged.det.packets} packets merged`);
});

test('mergeWindow refuses bytes that are not a window, or a window of another second, before changing anything', () => {
  const det = new Detector();
  assert.throws(
    () => det.mergeWindow(5, new Uint8Array(10)),
    (e: unknown) => e instanceof PalisadeError && e.code === 'E_FORMAT',
  );
  const other = encodeWindow(new KeyTable(16, NCLS), 1000, 1000);
  assert.throws(
    () => det.mergeWindow(1001, other),
    (e: unknown) => e instanceof PalisadeError && /second 1000, merged as 1001/.test(e.message),
  );
  const fewer = encodeWindow(new KeyTable(16, NCLS - 1), 1000, 1000);
  assert.throws(
    () => det.mergeWindow(1000, fewer),
    (e: unknown) => e instanceof PalisadeError && /19 classes/.test(e.message),
  );
  assert.equal(det.baseSecond, -1);
  assert.equal(det.packets, 0);
});
