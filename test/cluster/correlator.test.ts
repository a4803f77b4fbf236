/**
 * The Correlator on real sensor windows: a generated carpet bombing (a UDP flood over every
 * address of 203.0.113.0/24 at ~850 pps in all) split by source address between two sensors, each
 * of which alone reports nothing (its share is under the 500 pps floor), must come out of the
 * correlator as exactly one udp_flood alert on the /24 with both sensors' shares, ended after the
 * flood; a benign third sensor adds nothing. Summaries reach the correlator as they would from the
 * bus (the JSON round trip included), out of order between sensors, with a wall clock of our own.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Correlator } from '../../src/cluster/correlator.js';
import type { SummaryMessage } from '../../src/cluster/summary-message.js';
import { generate } from '../../src/generate/generator.js';
import type { AlertEvent } from '../../src/incidents/alerts.js';
import { splitPcapBySource } from '../helpers/split-pcap.js';
import { sensorWindows } from './sensor-windows.js';

describe('correlator: merged detection across sensors', () => {
  let dir = '';
  let truthStart = 0;
  const halves: Array<{ messages: SummaryMessage[]; attacks: number }> = [];
  let benign: { messages: SummaryMessage[]; attacks: number } = { messages: [], attacks: 0 };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-correlator-'));
    const carpet = join(dir, 'carpet.pcap');
    truthStart = Date.parse(generate('carpet', carpet, { packets: 12_600, seed: 1, noTruth: true }).attacks[0]?.start ?? '');
    splitPcapBySource(carpet, [join(dir, 'a.pcap'), join(dir, 'b.pcap')]);
    halves.push(await sensorWindows(join(dir, 'a.pcap'), 'r1'), await sensorWindows(join(dir, 'b.pcap'), 'r2'));
    const quiet = join(dir, 'benign.pcap');
    generate('benign', quiet, { packets: 8000, seed: 3, noTruth: true });
    benign = await sensorWindows(quiet, 'r3');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('each sensor alone reports nothing', () => {
    assert.equal(halves[0]?.attacks, 0);
    assert.equal(halves[1]?.attacks, 0);
  });

  it('the sum is one carpet-bombing alert with each sensor’s share', () => {
    let t = 1_000_000;
    const c = new Correlator({ name: 'core', detection: {}, services: [], now: () => t, holdMs: 3000 });
    const events: AlertEvent[] = [];
    let acked = 0;
    const a = halves[0]?.messages ?? [];
    const b = halves[1]?.messages ?? [];
    // sensor r2 runs a second behind r1; the benign sensor's clock is its own capture's
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n + 1; i++) {
      if (a[i]) c.ingest(a[i], () => acked++);
      if (i > 0 && b[i - 1]) c.ingest(b[i - 1], () => acked++);
      t += 1000;
      for (const d of c.tick()) {
        events.push(...d.events);
        for (const ack of d.acks) ack();
      }
    }
    for (const d of c.finish()) {
      events.push(...d.events);
      for (const ack of d.acks) ack();
    }
    const starts = events.filter((e) => e.kind === 'start');
    assert.equal(starts.length, 1, `one alert, got ${starts.map((e) => `${e.alert.vector} ${e.alert.victim}`).join(', ')}`);
    const alert = starts[0]?.alert;
    assert.equal(alert?.vector, 'udp_flood');
    assert.equal(alert?.attack.victim.prefix, '203.0.113.0/24');
    const start = Date.parse(alert?.attack.start ?? '');
    assert.ok(Math.abs(start - truthStart) <= 2000, `start ${alert?.attack.start} within 2 s of the flood's onset`);
    const last = events.at(-1);
    assert.equal(last?.kind, 'end');
    const shares = last?.alert.attack.evidence.sensors ?? [];
    assert.deepEqual(shares.map((s) => s.sensor).sort(), ['r1', 'r2']);
    for (const s of shares) assert.ok(s.share > 0.35 && s.share < 0.65, `${s.sensor} share ${s.share}`);
    assert.equal(acked, a.length + b.length, 'every summary acknowledged once its second was decided');
    assert.equal(c.counts.late, 0);
  });

  it('a benign sensor adds no alert; a window for a second already decided is a copy or late', () => {
    let t = 0;
    const c = new Correlator({ name: 'core', detection: {}, services: [], now: () => t, holdMs: 1000 });
    const events: AlertEvent[] = [];
    for (const m of benign.messages) {
      c.ingest(m, () => {});
      t += 1000;
      for (const d of c.tick()) events.push(...d.events);
    }
    for (const d of c.finish()) events.push(...d.events);
    assert.equal(events.length, 0);
    const first = benign.messages[0] as SummaryMessage;
    let acked = false;
    c.ingest(first, () => {
      acked = true;
    });
    assert.equal(c.counts.duplicates, 1, 'a copy of a merged window (handed over again) counts for nothing');
    assert.equal(c.counts.late, 0);
    assert.ok(acked, 'a copy is acknowledged');
    // the same second from a node whose window never made it: late, acknowledged (it can no longer count)
    c.ingest({ ...first, node: 'r9' }, () => {});
    assert.equal(c.counts.late, 1);
  });

  it('refuses a malformed summary with a clear error', () => {
    const c = new Correlator({ name: 'core', detection: {}, services: [], now: () => 0 });
    assert.throws(() => c.ingest({ v: 1, role: 'sensor', site: 'x', node: 'y', second: 'soon' }, () => {}), /second must be a non-negative number/);
    assert.throws(() => c.ingest({ v: 2 }, () => {}), /unknown version/);
    assert.equal(c.counts.malformed, 2);
  });

  it('a node silent for staleMs is reported once, and heard again; not while the correlator itself is cut off', () => {
    let t = 0;
    const c = new Correlator({ name: 'core', detection: {}, services: [], now: () => t, staleMs: 5000 });
    const said: string[] = [];
    c.onLiveness = (n, silent) => said.push(`${n.node} ${silent ? 'silent' : 'back'}`);
    const [m0, m1, m2] = benign.messages as [SummaryMessage, SummaryMessage, SummaryMessage];
    c.ingest(m0, () => {});
    t = 4000;
    c.tick();
    assert.deepEqual(said, []);
    t = 6000;
    c.tick();
    c.tick();
    assert.deepEqual(said, ['r3 silent']);
    c.ingest(m1, () => {});
    assert.deepEqual(said, ['r3 silent', 'r3 back']);
    // the correlator's own link down for a minute: nobody is judged, and once back each node has staleMs again
    c.busLink(false);
    t = 66_000;
    c.tick();
    c.busLink(true);
    t = 70_000;
    c.tick();
    assert.deepEqual(said, ['r3 silent', 'r3 back']);
    t = 72_000;
    c.tick();
    assert.deepEqual(said, ['r3 silent', 'r3 back', 'r3 silent']);
    c.ingest(m2, () => {});
  });

  /** A correlator (hold 2 s) on a clock of our own, both halves live for three seconds. */
  const liveThree = () => {
    const clock = { t: 0 };
    const c = new Correlator({ name: 'core', detection: {}, services: [], now: () => clock.t, holdMs: 2000 });
    const a = halves[0]?.messages ?? [];
    const b = halves[1]?.messages ?? [];
    const decided: number[] = [];
    const tick = (): void => {
      for (const d of c.tick()) {
        decided.push(d.second);
        for (const ack of d.acks) ack();
      }
    };
    for (let i = 0; i < 3; i++) {
      c.ingest(a[i] as SummaryMessage, () => {});
      c.ingest(b[i] as SummaryMessage, () => {});
      clock.t += 1000;
      tick();
    }
    clock.t += 3000;
    tick();
    /** `n` seconds pass, the correlator ticking each one */
    const seconds = (n: number): void => {
      for (let k = 0; k < n; k++) {
        clock.t += 1000;
        tick();
      }
    };
    /** a sensor's windows `from` to `to` (exclusive) arrive */
    const send = (msgs: unknown[], from: number, to: number): void => {
      for (let i = from; i < to; i++) c.ingest(msgs[i] as SummaryMessage, () => {});
    };
    return { clock, c, a, b, decided, tick, seconds, send };
  };

  it('a backlog being caught up (after an outage) waits longer for the other sensors than a live second', () => {
    const { c, a, b, decided, seconds, send } = liveThree();
    // then r1's backlog arrives at once, and r2's only 8 s later: more than the hold, less than the catch-up hold
    send(a, 3, a.length);
    seconds(8);
    send(b, 3, b.length);
    seconds(1);
    for (const d of c.finish()) decided.push(d.second);
    assert.equal(c.counts.late, 0, 'no window of the slower backlog came too late');
    assert.equal(c.counts.events > 0, true);
  });

  it('a NATS outage: seconds in flight wait while the correlator is cut off, and every sensor gets the catch-up hold after', () => {
    const { clock, c, a, b, decided, tick, seconds, send } = liveThree();
    assert.equal(decided.length, 3);
    // r1's window of the next second got through; r2's went to its spool: NATS is down for 30 s
    c.ingest(a[3] as SummaryMessage, () => {});
    c.busLink(false);
    seconds(30);
    assert.equal(decided.length, 3, 'nothing decided while the correlator cannot hear');
    // back: r1 resends a short backlog at once (within CATCH_UP_S of the newest), r2 its own 6 s later
    c.busLink(true);
    send(a, 4, 8);
    seconds(6);
    assert.equal(decided.length, 3, 'the seconds wait for r2 (more than the hold, less than the catch-up hold)');
    send(b, 3, 8);
    seconds(1);
    assert.equal(c.counts.late, 0, 'no window came too late');
    assert.ok(decided.length >= 7, `decided once both are in: ${decided.length}`);
    // and once the catch-up hold after the return is over, a live second waits the plain hold again
    clock.t += 15_000;
    c.ingest(a[8] as SummaryMessage, () => {});
    clock.t += 2500;
    tick();
    assert.ok(decided.includes((a[8] as SummaryMessage).second), 'a live second waits the plain hold');
  });

  it('after an outage, seconds wait for every sensor heard before it, even one back later than the catch-up hold; a minute at most', () => {
    const { clock, c, a, b, decided, tick, seconds, send } = liveThree();
    c.busLink(false);
    seconds(30);
    // back: r1 resends at once; r2's client gave up reconnecting and is made anew 25 s later
    c.busLink(true);
    send(a, 3, 8);
    seconds(25);
    assert.equal(decided.length, 3, 'nothing decided while r2, heard before the outage, is not heard again');
    send(b, 3, 8);
    seconds(1);
    assert.equal(c.counts.late, 0, 'r2 came 25 s after the return and none of its windows was late');
    assert.ok(decided.length >= 7, `decided once both are in: ${decided.length}`);
    // a second outage after which r2 never comes back: the seconds wait a minute, then go
    c.busLink(false);
    clock.t += 5000;
    tick();
    c.busLink(true);
    const before = decided.length;
    c.ingest(a[8] as SummaryMessage, () => {});
    seconds(59);
    assert.equal(decided.length, before, 'waiting for r2 within the minute');
    clock.t += 2000;
    tick();
    assert.ok(decided.includes((a[8] as SummaryMessage).second), 'decided after the minute without r2');
  });
});
