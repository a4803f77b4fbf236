/**
 * The monitor's events made durable (incidents/recorder.ts), on both backends: three attacks on
 * one network become one incident with its alerts, a timeline (raised, signature found, ended,
 * status), observables and the notifications its routes ask for, each queued once; a restarted
 * monitor (a new alert book, a new recorder on the same database) carries an open attack on in
 * its stored alert and incident instead of opening new ones.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DetectedAttack } from '../../src/detect/l34/attacks.js';
import { AlertBook } from '../../src/incidents/alerts.js';
import { IncidentRecorder } from '../../src/incidents/recorder.js';
import { openStore } from '../../src/incidents/store/open.js';
import { ServiceMap } from '../../src/incidents/triage.js';
import { schemaErrors } from '../../src/model/validate.js';
import { liveAttack } from './attack-fixture.js';
import { BACKENDS } from './store/backends.js';

/** A non-spoofed attack of `vector` on `ip` (its top source repeats, as a botnet's or a reflector's do). */
function attack(vector: DetectedAttack['vector'], ip: string, protocol: string, over: Partial<DetectedAttack> = {}): DetectedAttack {
  return liveAttack({ vector, victim: { ip, protocol }, sources: { unique: 300, spoofed_likely: false, top: [{ ip: '192.0.2.1', packets: 1000 }] }, ...over });
}
const sig = { expression: 'ip.dst == 203.0.113.10 and tcp.flags == 0x02', coverage: 1, collateral: 0 };

for (const backend of BACKENDS) {
  describe(`recorder on ${backend.name}`, () => {
    it('attacks on one network: one incident, its timeline, observables and routed notifications, once each', async () => {
      const db = await backend.create();
      const store = await openStore(db.spec);
      try {
        let now = Date.parse('2026-12-06T10:00:01Z');
        const clock = () => now;
        const book = new AlertBook({ sensor: 's1', services: new ServiceMap([]), now: clock });
        const rec = new IncidentRecorder(store, { sensor: 's1', now: clock, routes: [{ targets: ['noc-hook'] }, { targets: ['pager'], minSeverity: 'critical' }] });
        const feed = async (a: DetectedAttack, ended = false) => {
          const e = book.observe(a, 1000, ended);
          if (e !== null) return rec.record(e);
          return null;
        };
        const first = await feed(attack('tcp_syn_flood', '203.0.113.10', 'tcp'));
        assert.equal(first?.created, true);
        now += 1000;
        await feed(attack('tcp_syn_flood', '203.0.113.10', 'tcp', { signature: sig }));
        now += 1000;
        const second = await feed(attack('udp_flood', '203.0.113.10', 'udp'));
        const third = await feed(attack('ntp_amplification', '203.0.113.11', 'udp'));
        assert.equal(second?.incident, first?.incident);
        assert.equal(third?.incident, first?.incident);
        now += 5000;
        for (const [v, ip, p] of [
          ['tcp_syn_flood', '203.0.113.10', 'tcp'],
          ['udp_flood', '203.0.113.10', 'udp'],
          ['ntp_amplification', '203.0.113.11', 'udp'],
        ] as const)
          await feed(attack(v, ip, p), true);
        const inc = await store.getIncident(first?.incident as number);
        assert.ok(inc);
        assert.equal(schemaErrors(inc, 'incident'), null);
        assert.equal(inc.alerts.length, 3);
        assert.equal(inc.status, 'monitoring', 'every attack of it ended');
        assert.deepEqual(
          inc.timeline.map((t) => t.kind),
          ['alert_raised', 'alert_updated', 'alert_raised', 'alert_raised', 'attack_ended', 'attack_ended', 'attack_ended', 'status'],
        );
        assert.ok(inc.observables.some((o) => o.kind === 'signature' && o.value === sig.expression));
        assert.ok(inc.observables.some((o) => o.kind === 'ip' && o.value === '203.0.113.11'));
        const alerts = await store.listAlerts({ incident: inc.number });
        assert.ok(alerts.every((a) => a.state === 'ended'));
        for (const a of alerts) assert.equal(schemaErrors(a, 'alert'), null, JSON.stringify(a));
        // 7 significant events went to the hook; none was critical, so nothing to the pager
        const items = await store.claimOutbox('t', 100, 60_000);
        assert.equal(items.filter((i) => i.target === 'noc-hook').length, 7);
        assert.equal(items.filter((i) => i.target === 'pager').length, 0);
      } finally {
        await store.close();
        await db.drop();
      }
    });

    it('a restarted monitor carries an open attack on in its stored alert and incident', async () => {
      const db = await backend.create();
      try {
        let now = Date.parse('2026-12-06T11:00:00Z');
        const clock = () => now;
        const s1 = await openStore(db.spec);
        const book1 = new AlertBook({ sensor: 's1', services: new ServiceMap([]), now: clock });
        const r1 = new IncidentRecorder(s1, { sensor: 's1', now: clock });
        const e1 = book1.observe(attack('dns_amplification', '198.51.100.20', 'udp'), 0, false);
        const before = await r1.record(e1 as never);
        await s1.close();
        // a new process: a new book (new alert ids), a new recorder on the same database
        now += 20_000;
        const s2 = await openStore(db.spec);
        try {
          const r2 = new IncidentRecorder(s2, { sensor: 's1', now: clock });
          assert.equal(await r2.resume(), 1);
          const book2 = new AlertBook({ sensor: 's1', services: new ServiceMap([]), now: clock });
          const e2 = book2.observe(attack('dns_amplification', '198.51.100.20', 'udp', { peak_pps: 300_000 }), 0, false);
          assert.notEqual(e2?.alert.id, e1?.alert.id);
          const after = await r2.record(e2 as never);
          assert.equal(after.alert.id, before.alert.id, 'the stored alert goes on');
          assert.equal(after.incident, before.incident);
          assert.equal(after.created, false);
          // and a new attack on the same network joins that incident too
          const e3 = book2.observe(attack('udp_flood', '198.51.100.21', 'udp'), 0, false);
          assert.equal((await r2.record(e3 as never)).incident, before.incident);
          assert.equal((await s2.listIncidents()).length, 1);
        } finally {
          await s2.close();
        }
      } finally {
        await db.drop();
      }
    });
  });
}

describe('silences', () => {
  it('an alert a silence in force matches is stored silenced, on its incident, and notifies no one; once the silence ends, the next alert notifies', async () => {
    const db = await BACKENDS[0]?.create();
    assert.ok(db);
    const store = await openStore(db.spec);
    try {
      let now = Date.parse('2026-12-06T12:00:00Z');
      const clock = () => now;
      await store.addSilence({
        expression: 'alert.vector eq "ntp_amplification" and alert.victim.ip in {203.0.113.0/24}',
        until: '2026-12-06T12:10:00Z',
        created_by: 'ops',
        reason: 'NTP test',
      });
      const book = new AlertBook({ sensor: 's1', services: new ServiceMap([]), now: clock });
      const rec = new IncidentRecorder(store, { sensor: 's1', now: clock, routes: [{ targets: ['hook'] }] });
      const e = book.observe(attack('ntp_amplification', '203.0.113.11', 'udp'), 0, false);
      const r = await rec.record(e as never);
      assert.equal(r.alert.state, 'open', 'the upsert result is before the silence');
      assert.equal((await store.getAlert(r.alert.id))?.state, 'silenced');
      const inc = await store.getIncident(r.incident);
      assert.ok(inc?.timeline.some((t) => t.kind === 'silenced' && /NTP test/.test(t.text)));
      assert.equal((await store.outboxBacklog()).pending, 0, 'no notification');
      // another vector on the same network is not silenced
      const other = book.observe(attack('udp_flood', '203.0.113.12', 'udp'), 0, false);
      await rec.record(other as never);
      assert.equal((await store.outboxBacklog()).pending, 1);
      // after the silence: expired (the alert unsilenced), a new NTP attack elsewhere notifies
      now = Date.parse('2026-12-06T12:11:00Z');
      const later = book.observe(attack('ntp_amplification', '203.0.113.40', 'udp'), 0, false);
      await rec.record(later as never);
      assert.equal((await store.outboxBacklog()).pending, 2);
      assert.equal((await store.getAlert(r.alert.id))?.state, 'open', 'the expired silence lifted');
    } finally {
      await store.close();
      await db.drop();
    }
  });
});
