/**
 * Triage: how much an alert matters and how soon someone must look, scored from what a network
 * security engineer weighs first — the attack's size against the service's link (or, without
 * one declared, against the size of attacks in general), its size against what the victim
 * normally receives, whose service it is (tier, customer), whether it is still growing,
 * whether a mitigation already holds it, and how sure detection is.
 *
 * The score is 0–100 (the alert queue's order); severity and urgency are read off it, and the
 * reasons say why in words, so a person reviewing the queue can disagree with a reason rather
 * than with a number.
 */

import type { Service } from '../config/services.js';
import { type Prefix, parsePrefixes } from '../core/net/prefix.js';
import { IpTrie } from '../core/net/trie.js';
import type { DetectedAttack } from '../detect/l34/attacks.js';
import { L34_VECTORS } from '../model/attack.js';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type Urgency = 'high' | 'medium' | 'low';

export interface TriageInput {
  attack: DetectedAttack;
  /** The victim's learnt rate of the attack's class before it (pps; 0: unknown). */
  baseRate: number;
  /** The peak went up since the last look. */
  growing: boolean;
  /** A mitigation holds the attack (its rules applied and matching). */
  mitigated: boolean;
}

export interface Triage {
  score: number;
  severity: Severity;
  urgency: Urgency;
  /** The service hit (null: the victim is in no declared service). */
  service: Service | null;
  reasons: string[];
}

const L34 = new Set<string>(L34_VECTORS);

/** Services by prefix: the most specific service holding an address or a prefix. */
export class ServiceMap {
  private readonly trie = new IpTrie<Service>();
  constructor(readonly services: readonly Service[]) {
    for (const s of services) for (const p of s.prefixes) this.trie.insert(p, s);
    this.trie.compile();
  }

  /** The service of a victim (`203.0.113.7`, `203.0.113.0/24`, an IPv6 address or prefix). */
  of(victim: string): Service | null {
    if (this.services.length === 0) return null;
    const ps = parsePrefixes(victim);
    if (typeof ps === 'string' || ps.length === 0) return null;
    const p = ps[0] as Prefix;
    const id =
      p.family === 4
        ? this.trie.lookup4((((p.addr[0] as number) << 24) | ((p.addr[1] as number) << 16) | ((p.addr[2] as number) << 8) | (p.addr[3] as number)) >>> 0)
        : this.trie.lookup6(p.addr, 0);
    return id < 0 ? null : this.trie.value(id);
  }
}

/** `12.3 Gbit/s`, `850 Mbit/s` */
export function bitsText(bps: number): string {
  const units: [number, string][] = [
    [1e12, 'Tbit/s'],
    [1e9, 'Gbit/s'],
    [1e6, 'Mbit/s'],
    [1e3, 'kbit/s'],
  ];
  for (const [u, name] of units) if (bps >= u) return `${(bps / u).toFixed(bps >= 10 * u ? 0 : 1)} ${name}`;
  return `${Math.round(bps)} bit/s`;
}

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

export function victimText(a: DetectedAttack): string {
  return a.victim.ip ?? a.victim.prefix ?? a.victim.host ?? '';
}

export function triage(input: TriageInput, services: ServiceMap): Triage {
  const a = input.attack;
  const reasons: string[] = [];
  const service = services.of(victimText(a));
  // Size: 0–40. Against the declared link when there is one (a flood at the link's capacity is
  // as bad as it gets for that service), else on a log scale of attack sizes.
  let size: number;
  if (L34.has(a.vector)) {
    if (service !== null && service.linkBps > 0) {
      const share = a.peak_bps / service.linkBps;
      size = 40 * clamp01(share);
      reasons.push(`peak ${bitsText(a.peak_bps)}, ${(share * 100).toFixed(share < 0.1 ? 1 : 0)} % of the ${bitsText(service.linkBps)} link`);
    } else {
      // 1 Mbit/s → 0, 100 Gbit/s → 40; packets: 1 kpps → 0, 100 Mpps → 40; the larger
      const byBits = clamp01((Math.log10(Math.max(a.peak_bps, 1)) - 6) / 5);
      const byPackets = clamp01((Math.log10(Math.max(a.peak_pps, 1)) - 3) / 5);
      size = 40 * Math.max(byBits, byPackets);
      reasons.push(`peak ${bitsText(a.peak_bps)}, ${Math.round(a.peak_pps).toLocaleString('en-US')} packets/s`);
    }
  } else {
    // L7: requests per second; 10 rps → 0, 100 000 rps → 40
    const rps = a.peak_rps ?? 0;
    size = 40 * clamp01((Math.log10(Math.max(rps, 1)) - 1) / 4);
    reasons.push(`peak ${Math.round(rps).toLocaleString('en-US')} requests/s`);
  }
  // Against the victim's normal: 0–10 (100× its learnt rate or more is all of it).
  let baseline = 0;
  if (input.baseRate > 0 && L34.has(a.vector)) {
    const ratio = a.peak_pps / input.baseRate;
    baseline = 10 * clamp01(Math.log10(Math.max(ratio, 1)) / 2);
    if (ratio >= 2) reasons.push(`${ratio >= 100 ? Math.round(ratio) : ratio.toFixed(1)}× the victim's usual rate`);
  }
  // Whose service: 0–25.
  let importance = 8;
  if (service !== null) {
    importance = service.tier === 1 ? 25 : service.tier === 2 ? 12 : 0;
    reasons.push(`tier ${service.tier} service ${service.name}${service.customer ? ` (${service.customer})` : ''}`);
  } else reasons.push('victim in no declared service');
  let score = size + baseline + importance;
  if (input.growing) {
    score += 10;
    reasons.push('growing');
  }
  if (input.mitigated) {
    score -= 20;
    reasons.push('a mitigation holds it');
  }
  // Detection's confidence scales it: a doubtful alert sinks in the queue.
  const conf = clamp01(a.confidence);
  score *= 0.5 + conf / 2;
  if (conf < 0.5) reasons.push(`low confidence (${conf.toFixed(2)})`);
  score = Math.round(Math.max(0, Math.min(100, score)) * 10) / 10;
  const severity: Severity = score >= 70 ? 'critical' : score >= 50 ? 'high' : score >= 30 ? 'medium' : score >= 12 ? 'low' : 'info';
  const rank = SEVERITY_RANK[severity];
  const urgency: Urgency = !input.mitigated && rank >= SEVERITY_RANK.high && input.growing ? 'high' : !input.mitigated && rank >= SEVERITY_RANK.medium ? 'medium' : 'low';
  return { score, severity, urgency, service, reasons };
}

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };
