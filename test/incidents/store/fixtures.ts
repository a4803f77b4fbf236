/** Records for the store tests: an attack and an alert built around it, valid against schema/. */
import type { Alert } from '../../../src/model/alert.js';
import type { Attack } from '../../../src/model/attack.js';

export function attack(i = 0): Attack {
  const ip = `203.0.113.${i % 250}`;
  return {
    id: `atk-${i}`,
    vector: 'tcp_syn_flood',
    victim: { ip, port: 443, protocol: 'tcp' },
    start: '2026-12-06T05:00:00Z',
    end: '2026-12-06T05:01:00Z',
    detected_at: '2026-12-06T05:00:02Z',
    packets: 1000 + i,
    bytes: 60000,
    peak_pps: 100,
    peak_bps: 48000,
    sources: { unique: 900, spoofed_likely: true, top: [{ ip: '198.51.100.1', packets: 3 }] },
    signature: { expression: `ip.dst == ${ip} and tcp.flags == 0x02`, coverage: 1, collateral: 0 },
    confidence: 0.9,
    evidence: {
      out_of_state: 0.99,
      handshakes_completed: 0,
      sources_per_packet: 0.9,
      spoofed_likely: true,
      separating_fields: [],
      signature: 'fields',
      field_signature: { expression: `ip.dst == ${ip}`, coverage: 1, collateral: 0 },
    },
    mitigation: { action: 'block', ruleset: { rules: [] }, nftables: '', iptables: '' },
  };
}

export function alert(i: number, over: Partial<Alert> = {}): Alert {
  const a = attack(i);
  return {
    id: `alert-${i}-${Math.random().toString(36).slice(2, 8)}`,
    fingerprint: `tcp_syn_flood|${a.victim.ip}|fields`,
    kind: 'start',
    vector: a.vector,
    victim: a.victim,
    sensor: 'test',
    severity: 'high',
    urgency: 'high',
    score: 50,
    confidence: 0.9,
    first_seen: '2026-12-06T05:00:02Z',
    last_seen: '2026-12-06T05:00:02Z',
    attack: a,
    incident_id: null,
    peak: 100,
    ...over,
  };
}
