/**
 * Alerts from attacks as detection follows them: one alert per attack (fingerprint), significant
 * updates only when something a person would care about changed, quiet refreshes otherwise;
 * triage scores from size against the link or the usual rate, the service's tier, growth and
 * mitigation; incident grouping by network or shared sources within a window.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/index.js';
import { parseBps } from '../../src/config/services.js';
import { AlertBook, fingerprintOf } from '../../src/incidents/alerts.js';
import { incidentFor, sameNetwork } from '../../src/incidents/grouping.js';
import { ServiceMap, triage } from '../../src/incidents/triage.js';
import { liveAttack } from './attack-fixture.js';

const attack = liveAttack;

const services = new ServiceMap(
  parseConfig(
    [
      'services:',
      '  - name: shop',
      '    prefixes: [203.0.113.0/24]',
      '    tier: 1',
      '    customer: ACME',
      '    link_bps: 1G',
      '  - name: lab',
      '    prefixes: [198.51.100.0/24]',
      '    tier: 3',
      '',
    ].join('\n'),
    'palisade.yaml',
  ).services,
);

describe('services and triage', () => {
  it('reads services (rates with units) and finds the most specific one of a victim', () => {
    assert.equal(parseBps('10G'), 1e10);
    assert.equal(parseBps('400 Mbps'), 4e8);
    assert.equal(parseBps(2_500_000_000), 2.5e9);
    assert.equal(parseBps('fast'), null);
    assert.equal(services.of('203.0.113.10')?.name, 'shop');
    assert.equal(services.of('203.0.113.0/24')?.name, 'shop');
    assert.equal(services.of('192.0.2.1'), null);
    assert.throws(() => parseConfig('services:\n  - name: x\n    prefixes: [10.0.0.0/33]\n', 'p.yaml'), /p\.yaml:3:.*services\[0\]\.prefixes/);
    assert.throws(() => parseConfig('services:\n  - name: x\n    prefixes: [10.0.0.0/8]\n    link_bps: lots\n', 'p.yaml'), /link_bps: a rate in bits\/s/);
  });

  it('the same flood scores higher on a tier-1 service, near its link capacity, growing, and lower once mitigated', () => {
    const big = attack({ peak_bps: 900e6 });
    const onShop = triage({ attack: big, baseRate: 1000, growing: true, mitigated: false }, services);
    const onLab = triage({ attack: { ...big, victim: { ip: '198.51.100.5', protocol: 'tcp' } }, baseRate: 1000, growing: true, mitigated: false }, services);
    assert.ok(onShop.score > onLab.score, `${onShop.score} > ${onLab.score}`);
    assert.equal(onShop.severity, 'critical');
    assert.equal(onShop.urgency, 'high');
    assert.match(onShop.reasons.join('; '), /90 % of the 1\.0 Gbit\/s link/);
    assert.match(onShop.reasons.join('; '), /tier 1 service shop \(ACME\)/);
    const held = triage({ attack: big, baseRate: 1000, growing: false, mitigated: true }, services);
    assert.ok(held.score < onShop.score);
    assert.equal(held.urgency, 'low');
    const doubtful = triage({ attack: { ...big, confidence: 0.2 }, baseRate: 1000, growing: true, mitigated: false }, services);
    assert.ok(doubtful.score < onShop.score);
    assert.match(doubtful.reasons.join('; '), /low confidence/);
  });
});

describe('alert lifecycle', () => {
  it('one alert per attack: start, quiet refreshes, a significant update when the peak doubles or the signature is found, end', () => {
    let now = Date.parse('2026-12-06T10:00:01Z');
    const book = new AlertBook({ sensor: 's1', services, now: () => now, refreshMs: 10_000, newId: () => 'alert-1' });
    const e1 = book.observe(attack(), 1000, false);
    assert.equal(e1?.kind, 'start');
    assert.equal(e1?.significant, true);
    assert.equal(e1?.alert.fingerprint, 'tcp_syn_flood|203.0.113.10|tcp');
    now += 1000;
    assert.equal(book.observe(attack({ peak_pps: 110_000 }), 1000, false), null, 'nothing new within the refresh period');
    now += 1000;
    const sig = book.observe(attack({ peak_pps: 110_000, signature: { expression: 'ip.dst == 203.0.113.10 and tcp.flags.syn', coverage: 1, collateral: 0 } }), 1000, false);
    assert.equal(sig?.kind, 'update');
    assert.equal(sig?.significant, true);
    assert.match(sig?.change ?? '', /signature found/);
    now += 1000;
    const doubled = book.observe(attack({ peak_pps: 250_000, signature: { expression: 'x', coverage: 1, collateral: 0 } }), 1000, false);
    assert.match(doubled?.change ?? '', /peak doubled \(110000 → 250000\/s\)/);
    assert.equal(doubled?.alert.growing, true);
    now += 10_000;
    const quiet = book.observe(attack({ peak_pps: 250_000, signature: { expression: 'x', coverage: 1, collateral: 0 } }), 1000, false);
    assert.equal(quiet?.significant, false);
    assert.equal(quiet?.alert.id, 'alert-1');
    now += 1000;
    const end = book.observe(attack({ peak_pps: 250_000 }), 1000, true);
    assert.equal(end?.kind, 'end');
    assert.equal(end?.alert.first_seen, '2026-12-06T10:00:01.000Z');
    assert.equal(end?.alert.peak, 250_000);
    assert.equal(book.size, 0);
  });

  it('different vectors or victims are different alerts', () => {
    assert.notEqual(fingerprintOf(attack()), fingerprintOf(attack({ vector: 'udp_flood', victim: { ip: '203.0.113.10', protocol: 'udp' } })));
    assert.notEqual(fingerprintOf(attack()), fingerprintOf(attack({ victim: { ip: '203.0.113.11', protocol: 'tcp' } })));
    // the port is learnt with the signature: not part of the fingerprint
    assert.equal(fingerprintOf(attack()), fingerprintOf(attack({ victim: { ip: '203.0.113.10', protocol: 'tcp' } })));
  });
});

describe('incident grouping', () => {
  const now = 1_800_000_000_000;
  it('same /24, a covering prefix, or shared sources within the window join; else a new incident', () => {
    assert.ok(sameNetwork('203.0.113.10', '203.0.113.99'));
    assert.ok(sameNetwork('203.0.113.0/24', '203.0.113.7'));
    assert.ok(!sameNetwork('203.0.113.10', '203.0.114.10'));
    assert.ok(sameNetwork('2001:db8::1', '2001:db8::ff:1'));
    assert.ok(!sameNetwork('2001:db8::1', '203.0.113.1'));
    const open = [
      { number: 1, victims: ['203.0.113.10'], sources: new Set(['192.0.2.1', '192.0.2.2', '192.0.2.3']), lastActivity: now - 60_000 },
      { number: 2, victims: ['198.51.100.0/24'], sources: new Set<string>(), lastActivity: now - 3 * 3600_000 },
    ];
    assert.equal(incidentFor({ victim: '203.0.113.77', sources: [] }, open, now), 1);
    assert.equal(incidentFor({ victim: '192.0.2.200', sources: ['192.0.2.1', '192.0.2.3', '10.0.0.1'] }, open, now), 1, 'shared sources');
    assert.equal(incidentFor({ victim: '192.0.2.200', sources: ['192.0.2.1'] }, open, now), null, 'one shared source is chance');
    assert.equal(incidentFor({ victim: '198.51.100.9', sources: [] }, open, now), null, 'incident 2 has been quiet longer than the window');
  });
});
