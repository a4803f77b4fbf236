/**
 * One pass over the capture for the report: each attack's mitigation ruleset runs through the
 * what-if rule engine (src/mitigate) to measure what it would have dropped, and each attack's
 * signature is counted per time bin to draw traffic by vector. All attacks share the pass.
 */

import { RuleEngine, Verdict } from '../mitigate/engine.js';
import { parseRuleset, type Ruleset } from '../mitigate/ruleset.js';
import type { Analysis } from '../model/analysis.js';
import type { Attack } from '../model/attack.js';
import { compilePacketRule, type Predicate } from '../rules/packet-ir.js';
import { asPacketSource, type PacketSource } from '../sources/capture/source.js';
import { isoSeconds } from './format.js';

/** How well an attack's rules separate it from everything else. Shares are 0..1. */
export interface Effectiveness {
  /**
   * `replay`: the rules ran over the capture. A packet counts as this attack's when it falls in
   * the attack's window and matches its signature (up to the attack's packet count); packets no
   * attack claims are legitimate, and other attacks' packets are in neither share.
   * `signature`: the capture was not available; the shares are the signature's coverage and
   * collateral from detection.
   * `truth`: the rules ran over a generated capture and every packet was scored against the
   * generator's per-packet labels: exact.
   */
  method: 'replay' | 'signature' | 'truth';
  attack_dropped: number;
  legit_dropped: number;
  /** Packet counts behind the shares (replay only). */
  attack_packets?: number;
  attack_dropped_packets?: number;
  legit_packets?: number;
  legit_dropped_packets?: number;
  /** Why a replay was not possible for this attack, if it was attempted. */
  note?: string;
}

/** The packets per bin that the signatures of one vector's attacks match (each packet once). */
export interface VectorSeries {
  vector: string;
  /** Indexes into analysis.attacks. */
  attacks: number[];
  bins: number[];
}

/** Packets per bin: all traffic and, per attack vector, the packets its attacks' signatures match. */
export interface VectorTimeline {
  bin_s: number;
  /** Start of bin 0, seconds since the epoch. */
  t0: number;
  total: number[];
  byVector: VectorSeries[];
}

/** Ground truth of a generated scenario (`palisade generate`): one label per packet, 0 = benign. */
export interface GroundTruth {
  file: string;
  labels: Uint8Array;
  /** `host`: an L7 attack's site (the HTTP log generator's truth). */
  attacks: Array<{ label: number; vector: string; victim: { ip?: string; prefix?: string; host?: string } }>;
}

export interface Replay {
  effects: Effectiveness[];
  /** Why the ground truth could not be used, or null. */
  truthNote: string | null;
  timeline: VectorTimeline;
  /** Why reading stopped early, or null. */
  error: string | null;
}

const NICE_BINS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400];

/** A round bin width giving at most about `points` bins over `duration` seconds. */
export function niceBin(duration: number, points = 150): number {
  for (const b of NICE_BINS) if (duration / b <= points) return b;
  return NICE_BINS[NICE_BINS.length - 1] as number;
}

/** One series per attack vector, in order of first appearance; each lane learns its series (`group`). */
export function seriesByVector(lanes: ReadonlyArray<{ attack: Attack; group: number }>, nBins: number): VectorSeries[] {
  const byVector: VectorSeries[] = [];
  for (const [k, l] of lanes.entries()) {
    let g = byVector.findIndex((x) => x.vector === l.attack.vector);
    if (g < 0) g = byVector.push({ vector: l.attack.vector, attacks: [], bins: new Array<number>(nBins).fill(0) }) - 1;
    (byVector[g] as VectorSeries).attacks.push(k);
    l.group = g;
  }
  return byVector;
}

export function signatureEffect(a: Attack): Effectiveness {
  return {
    method: 'signature',
    // No signature: nothing is blocked (the mitigation is a rate limit).
    attack_dropped: a.signature?.coverage ?? 0,
    legit_dropped: a.signature?.collateral ?? 0,
  };
}

interface Lane {
  attack: Attack;
  engine: RuleEngine | null;
  match: Predicate | null;
  from: number;
  to: number;
  /** Packets still to attribute to this attack (starts at its packet count). */
  budget: number;
  attackDropped: number;
  legitDropped: number;
  /** Index of this attack's vector in byVector. */
  group: number;
  note?: string;
  /** Label of this attack in the ground truth, -1 when there is none. */
  label: number;
  truthAttackDropped: number;
  truthLegitDropped: number;
}

function loadRules(a: Attack): Ruleset {
  const rs = a.mitigation.ruleset;
  // A ruleset is data (the JSON form) or, from other producers, the YAML/JSON text itself.
  return parseRuleset(typeof rs === 'string' ? rs : JSON.stringify(rs), `<mitigation ${a.id}>`);
}

/** Run every attack's rules over the capture (a source, or a path opened once here) once. Throws InputError when it cannot be read. */
export async function replayAttacks(capture: string | PacketSource, analysis: Analysis, truth?: GroundTruth, onProgress?: (done: number, total?: number) => void): Promise<Replay> {
  const start = analysis.capture.start ? isoSeconds(analysis.capture.start) : 0;
  const bin = niceBin(Math.max(analysis.capture.duration_s, 0.001));
  const nBins = Math.min(100_000, Math.floor(analysis.capture.duration_s / bin) + 1);
  const total = new Array<number>(nBins).fill(0);
  // Window ends get a microsecond of slack: ISO times and packet stamps round differently.
  const lanes: Lane[] = analysis.attacks.map((attack) => {
    const lane: Lane = {
      attack,
      engine: null,
      match: null,
      from: isoSeconds(attack.start) - 1e-6,
      to: isoSeconds(attack.end) + 1e-6,
      budget: attack.packets,
      attackDropped: 0,
      legitDropped: 0,
      group: 0,
      label: truth?.attacks.find((t) => t.vector === attack.vector && (t.victim.ip ?? t.victim.prefix) === (attack.victim.ip ?? attack.victim.prefix))?.label ?? -1,
      truthAttackDropped: 0,
      truthLegitDropped: 0,
    };
    try {
      const rs = loadRules(attack);
      lane.engine = new RuleEngine(rs);
      const preds = rs.rules.filter((r) => r.enabled).map((r) => compilePacketRule(r.expression, rs.lists));
      lane.match = (v) => {
        for (const p of preds) if (p(v)) return true;
        return false;
      };
    } catch (e) {
      lane.note = `its ruleset could not be loaded: ${(e as Error).message}`;
    }
    return lane;
  });
  const byVector = seriesByVector(lanes, nBins);
  // Packet number that last counted in each vector's series: a packet two signatures of the
  // same vector match counts once.
  const counted = new Float64Array(byVector.length).fill(-1);
  let t0 = -1;
  const labels = truth?.labels ?? new Uint8Array(0);
  const perLabel = new Float64Array(256);
  let n = 0;
  const source = asPacketSource(capture);
  const info = await source.read(
    (v) => {
      const label = n < labels.length ? (labels[n] as number) : 0;
      n++;
      perLabel[label] = (perLabel[label] as number) + 1;
      const t = v.tsSec + v.tsNsec / 1e9;
      if (t0 < 0) t0 = Math.min(t, start || t);
      let i = Math.floor((t - t0) / bin);
      if (i < 0) i = 0;
      else if (i >= nBins) i = nBins - 1;
      total[i] = (total[i] as number) + 1;
      // Attribute the packet: to the first attack whose window holds it and whose signature
      // matches it, while that attack has packets left to account for; otherwise it is legitimate.
      let owner = -1;
      for (let j = 0; j < lanes.length; j++) {
        const l = lanes[j] as Lane;
        if (l.match === null || !l.match(v)) continue;
        if (counted[l.group] !== n) {
          counted[l.group] = n;
          const bins = (byVector[l.group] as VectorSeries).bins;
          bins[i] = (bins[i] as number) + 1;
        }
        if (owner < 0 && l.budget > 0 && t >= l.from && t <= l.to) {
          owner = j;
          l.budget--;
        }
      }
      for (let j = 0; j < lanes.length; j++) {
        const l = lanes[j] as Lane;
        if (l.engine === null || l.engine.process(v).verdict === Verdict.PASS) continue;
        if (owner === j) l.attackDropped++;
        else if (owner < 0) l.legitDropped++;
        if (l.label < 0) continue;
        if (label === l.label) l.truthAttackDropped++;
        else if (label === 0) l.truthLegitDropped++;
      }
    },
    { onProgress },
  );
  const packets = info.packets;
  const legitPackets = Math.max(0, packets - lanes.reduce((n, l) => n + l.attack.packets, 0));
  let truthNote: string | null = null;
  if (truth && labels.length !== packets) truthNote = `${truth.file} labels ${labels.length} packets but the capture holds ${packets}: not the same capture`;
  const truthOk = truth !== undefined && truthNote === null;
  const effects = lanes.map((l): Effectiveness => {
    if (l.engine === null) return { ...signatureEffect(l.attack), note: l.note };
    if (truthOk && l.label >= 0) {
      const a = perLabel[l.label] as number;
      const b = perLabel[0] as number;
      return {
        method: 'truth',
        attack_dropped: a === 0 ? 0 : l.truthAttackDropped / a,
        legit_dropped: b === 0 ? 0 : l.truthLegitDropped / b,
        attack_packets: a,
        attack_dropped_packets: l.truthAttackDropped,
        legit_packets: b,
        legit_dropped_packets: l.truthLegitDropped,
      };
    }
    const attackPackets = Math.min(l.attack.packets, packets);
    const attackDropped = l.attackDropped;
    const legitDropped = l.legitDropped;
    return {
      method: 'replay',
      attack_dropped: attackPackets === 0 ? 0 : attackDropped / attackPackets,
      legit_dropped: legitPackets === 0 ? 0 : legitDropped / legitPackets,
      attack_packets: attackPackets,
      attack_dropped_packets: attackDropped,
      legit_packets: legitPackets,
      legit_dropped_packets: legitDropped,
    };
  });
  if (truthOk && lanes.some((l) => l.label < 0))
    truthNote = `${truth.file} has no attack matching ${lanes
      .filter((l) => l.label < 0)
      .map((l) => l.attack.id)
      .join(', ')}`;
  return {
    effects,
    truthNote,
    timeline: {
      bin_s: bin,
      t0: t0 < 0 ? start : t0,
      total,
      byVector: byVector.filter((x) => x.attacks.some((k) => (lanes[k] as Lane).match !== null)),
    },
    error: info.error,
  };
}
