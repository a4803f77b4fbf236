/** An attack as live detection reports it, for the incident tests: a SYN flood on 203.0.113.10 unless told otherwise. */
import type { DetectedAttack } from '../../src/detect/l34/attacks.js';

export function liveAttack(over: Partial<DetectedAttack> = {}): DetectedAttack {
  return {
    id: 'attack-1',
    vector: 'tcp_syn_flood',
    victim: { ip: '203.0.113.10', protocol: 'tcp', port: 443 },
    start: '2026-12-06T10:00:00Z',
    end: '2026-12-06T10:00:05Z',
    detected_at: '2026-12-06T10:00:01Z',
    packets: 500_000,
    bytes: 30_000_000,
    peak_pps: 100_000,
    peak_bps: 48_000_000,
    sources: { unique: 50_000, spoofed_likely: true, top: [] },
    signature: null,
    confidence: 0.9,
    evidence: {
      out_of_state: 1,
      handshakes_completed: 0,
      sources_per_packet: 0.1,
      spoofed_likely: true,
      separating_fields: [],
      signature: 'none',
      field_signature: { expression: '', coverage: 0, collateral: 0 },
    },
    ...over,
  };
}
