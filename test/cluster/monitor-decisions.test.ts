/**
 * A monitor applies the correlator's list decisions in the kernel: decisions published on a
 * private NATS JetStream reach MonitorDecisions, which loads them through the real nftables
 * enforcement point into a network namespace of the test's own — the sources are in the ruleset
 * `nft list ruleset` prints; a later decision about the same rule replaces them; a remove and an
 * expiry take them away; suggest mode loads nothing; a decision that is not a correlator's, or
 * malformed, changes nothing; the limit of decisions in force holds; and stopping the monitor
 * leaves no rule behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { Bus } from '../../src/cluster/bus.js';
import { newDecision } from '../../src/cluster/decisions.js';
import { MonitorDecisions } from '../../src/cluster/monitor-decisions.js';
import { subject } from '../../src/cluster/subjects.js';
import { NftEnforcer } from '../../src/incidents/enforce/nft.js';
import { NatsServer } from '../helpers/nats-server.js';

const NS = `palisade-t-${process.pid}-decisions`;
const ruleset = (): string => execFileSync('ip', ['netns', 'exec', NS, 'nft', 'list', 'ruleset'], { encoding: 'utf8' });
const until = async (what: string, test: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('monitor: the correlator’s decisions in the kernel', { timeout: 90_000 }, () => {
  let nats: NatsServer;
  let pub: Bus;
  let sub: Bus;
  const from = { site: 'lab', node: 'core', role: 'correlator' as const };
  const topic = subject('lab', 'core', 'decision');
  const log: string[] = [];

  before(async () => {
    execFileSync('ip', ['netns', 'add', NS]);
    nats = await NatsServer.start();
    pub = await Bus.connect({ url: nats.url, name: 'test-correlator' });
    sub = await Bus.connect({ url: nats.url, name: 'test-monitor' });
  });
  after(async () => {
    await pub?.close();
    await sub?.close();
    await nats?.dispose();
    execFileSync('ip', ['netns', 'del', NS]);
  });

  it('loads, replaces, removes and expires list decisions; refuses beyond the limit; leaves nothing behind', async () => {
    let now = Date.now();
    const m = new MonitorDecisions({ bus: sub, enforcers: [new NftEnforcer({ netns: NS })], mode: 'auto', maxActive: 2, now: () => now, log: (l) => log.push(l) });
    await m.start();
    const add = (id: string, rule: string, entries: string[], expiresMs: number | null = null) =>
      newDecision(from, 'add', { id, spec: { type: 'list', id: rule, entries, expiresMs }, reason: 'test' }, now);
    pub.publish(topic, 'd1', add('d1', 'flood-a', ['198.51.100.7', '203.0.113.0/28']));
    await until('the first decision loaded', () => /198\.51\.100\.7/.test(ruleset()));
    assert.match(ruleset(), /203\.0\.113\.0\/28/);
    // a later decision about the same rule replaces its sources
    pub.publish(topic, 'd2', add('d2', 'flood-a', ['198.51.100.9']));
    await until('replaced', () => /198\.51\.100\.9/.test(ruleset()) && !/198\.51\.100\.7/.test(ruleset()));
    // not a correlator's, and malformed: nothing changes
    pub.publish(topic, 'e1', { ...add('e1', 'flood-x', ['192.0.2.99']), from: { site: 'lab', node: 'edge-1', role: 'edge' } });
    pub.publish(topic, 'bad', { v: 1, id: 'bad', op: 'add' });
    // a second rule with an expiry, and a third beyond the limit of two
    pub.publish(topic, 'd3', add('d3', 'flood-b', ['192.0.2.1'], now + 2000));
    pub.publish(topic, 'd4', add('d4', 'flood-c', ['192.0.2.2']));
    await until('the second rule loaded and the third refused', () => /192\.0\.2\.1\b/.test(ruleset()) && m.stats.refused === 1);
    assert.doesNotMatch(ruleset(), /192\.0\.2\.99|192\.0\.2\.2\b/);
    assert.equal(m.stats.invalid, 1);
    assert.equal(m.active, 2);
    // expiry
    now += 3000;
    await until('expired', () => !/192\.0\.2\.1\b/.test(ruleset()));
    // remove
    pub.publish(topic, 'r1', newDecision(from, 'remove', { id: 'r1', ruleId: 'flood-a', reason: 'attack over' }, now));
    await until('removed', () => !/198\.51\.100\.9/.test(ruleset()));
    pub.publish(topic, 'd5', add('d5', 'flood-d', ['192.0.2.5']));
    await until('loaded again', () => /192\.0\.2\.5/.test(ruleset()));
    await m.stop();
    assert.doesNotMatch(ruleset(), /192\.0\.2\.5/, 'a stopped monitor leaves no rule behind');
    assert.ok(
      log.some((l) => /blocked in nftables/.test(l)),
      'every load is on the log',
    );
  });

  it('suggest mode writes what it would load and loads nothing', async () => {
    const lines: string[] = [];
    const m = new MonitorDecisions({ bus: sub, enforcers: [new NftEnforcer({ netns: NS })], mode: 'suggest', log: (l) => lines.push(l) });
    await m.start();
    pub.publish(topic, 's1', newDecision(from, 'add', { id: 's1', spec: { type: 'list', id: 'flood-s', entries: ['198.51.100.77'] }, reason: 'test' }));
    await until('suggested', () => lines.some((l) => /would load into nftables/.test(l)));
    assert.doesNotMatch(ruleset(), /198\.51\.100\.77/);
    assert.equal(m.active, 0);
    await m.stop();
  });
});
