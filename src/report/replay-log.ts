/**
 * The report's pass over an access log (the L7 twin of replay.ts): each attack's block rules — its
 * custom rule, which carries the signature or the address list — are compiled against the HTTP
 * scheme and run over every request, to measure what they would have blocked, to draw requests
 * per second by vector, and to name what the attack's requests looked like (top user agents,
 * paths and networks), which a customer reads more easily than an expression.
 *
 * A request counts as an attack's when it falls in the attack's window and matches its rule, up
 * to the attack's request count (as packets do in replay.ts); the rest is legitimate. With the
 * generator's ground truth (one label per line) every request is scored exactly instead.
 * The rate-limiting rule is shown in the report but not replayed here: its effect depends on
 * counters over time that `palisade mitigate` on the log measures.
 */
import { geoDb } from '../core/geoip.js';
import type { Analysis } from '../model/analysis.js';
import type { Attack, L7Mitigation } from '../model/attack.js';
import { compile, type NamedList, type Predicate } from '../rules/compile.js';
import { httpScheme } from '../scheme/http.js';
import { HttpLogRequest } from '../scheme/http-log.js';
import { accessLogSource } from '../sources/accesslog/index.js';
import { Slot } from '../sources/accesslog/view.js';
import { isoSeconds } from './format.js';
import { type Effectiveness, type GroundTruth, niceBin, type Replay, seriesByVector, signatureEffect, type VectorSeries } from './replay.js';

/** What an attack's requests looked like: the most frequent values among the requests attributed to it. */
export interface L7Tops {
  user_agents: Array<{ value: string; requests: number }>;
  paths: Array<{ value: string; requests: number }>;
  asns: Array<{ asn: number; name: string; requests: number }>;
}

export interface LogReplay extends Replay {
  /** Per attack (analysis order), null for an attack whose rules could not be compiled. */
  tops: Array<L7Tops | null>;
}

/** Distinct values counted per table before new ones are lumped into "other" (bounded memory). */
const MAX_DISTINCT = 20_000;
const TOP = 8;

class Counter {
  readonly m = new Map<string, number>();
  other = 0;
  add(k: string): void {
    const n = this.m.get(k);
    if (n !== undefined) this.m.set(k, n + 1);
    else if (this.m.size < MAX_DISTINCT) this.m.set(k, 1);
    else this.other++;
  }
  top(): Array<{ value: string; requests: number }> {
    return [...this.m]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, TOP)
      .map(([value, requests]) => ({ value, requests }));
  }
}

interface Lane {
  attack: Attack;
  match: Predicate<HttpLogRequest> | null;
  from: number;
  to: number;
  budget: number;
  attackDropped: number;
  legitDropped: number;
  group: number;
  note?: string;
  /** Truth labels that are this attack's (same vector and host): a group may be labelled as several. */
  labels: Uint8Array;
  truthAttack: number;
  truthAttackDropped: number;
  truthLegitDropped: number;
  ua: Counter;
  path: Counter;
  asn: Map<number, number>;
}

export function isL7Mitigation(m: Attack['mitigation']): m is L7Mitigation {
  return typeof (m as Partial<L7Mitigation>).custom_rule === 'object' && (m as Partial<L7Mitigation>).custom_rule !== null;
}

/** The attack's block rules as one predicate: the custom rule, with the ruleset's named lists. */
function blockPredicate(a: Attack): Predicate<HttpLogRequest> {
  const m = a.mitigation;
  if (!isL7Mitigation(m)) throw new Error('not an L7 mitigation (no custom_rule)');
  const lists: Record<string, NamedList> = {};
  const rs = m.ruleset as { lists?: Record<string, { entries?: unknown[] }> } | null;
  for (const [name, def] of Object.entries(rs?.lists ?? {})) {
    lists[name] = { kind: 'ip', items: (def.entries ?? []).filter((x): x is string => typeof x === 'string') };
  }
  return compile(m.custom_rule.expression, httpScheme, { lists }) as Predicate<HttpLogRequest>;
}

/** Run every L7 attack's custom rule over the log once. Throws InputError when the log cannot be read. */
export async function replayLogAttacks(log: string, analysis: Analysis, truth?: GroundTruth, onProgress?: (done: number, total?: number) => void): Promise<LogReplay> {
  const start = analysis.capture.start ? isoSeconds(analysis.capture.start) : 0;
  const bin = niceBin(Math.max(analysis.capture.duration_s, 0.001));
  const nBins = Math.min(100_000, Math.floor(analysis.capture.duration_s / bin) + 1);
  const total = new Array<number>(nBins).fill(0);
  const lanes: Lane[] = analysis.attacks.map((attack) => {
    const labels = new Uint8Array(256);
    for (const t of truth?.attacks ?? []) if (t.vector === attack.vector && t.victim.host !== undefined && t.victim.host === attack.victim.host) labels[t.label] = 1;
    const lane: Lane = {
      attack,
      match: null,
      // Log times are whole seconds or milliseconds: a second of slack at the ends.
      from: isoSeconds(attack.start) - 1,
      to: isoSeconds(attack.end) + 1,
      budget: attack.requests ?? attack.packets,
      attackDropped: 0,
      legitDropped: 0,
      group: 0,
      labels,
      truthAttack: 0,
      truthAttackDropped: 0,
      truthLegitDropped: 0,
      ua: new Counter(),
      path: new Counter(),
      asn: new Map(),
    };
    try {
      lane.match = blockPredicate(attack);
    } catch (e) {
      lane.note = `its rule could not be compiled: ${(e as Error).message}`;
    }
    return lane;
  });
  const byVector = seriesByVector(lanes, nBins);
  const counted = new Float64Array(byVector.length).fill(-1);
  const labels = truth?.labels ?? new Uint8Array(0);
  let legitTruth = 0;
  let n = 0;
  let t0 = -1;
  const req = new HttpLogRequest();
  const hits = new Uint8Array(lanes.length);
  const asNames = new Map<number, string>();
  const geo = geoDb();
  const source = accessLogSource(log);
  const info = await source.read(
    (v) => {
      const label = n < labels.length ? (labels[n] as number) : 0;
      n++;
      if (label === 0) legitTruth++;
      const tMs = v.timeMs;
      if (Number.isNaN(tMs)) return;
      const t = tMs / 1000;
      if (t0 < 0) t0 = Math.min(t, start || t);
      let i = Math.floor((t - t0) / bin);
      if (i < 0) i = 0;
      else if (i >= nBins) i = nBins - 1;
      total[i] = (total[i] as number) + 1;
      req.point(v);
      // Which lanes' rules match, then the owner: the first attack whose window holds the
      // request and whose rule matches, while it has requests left to account for.
      let owner = -1;
      for (let j = 0; j < lanes.length; j++) {
        const l = lanes[j] as Lane;
        if (l.labels[label] === 1) l.truthAttack++;
        const hit = l.match?.(req) === true;
        hits[j] = hit ? 1 : 0;
        if (!hit) continue;
        if (counted[l.group] !== n) {
          counted[l.group] = n;
          const bins = (byVector[l.group] as VectorSeries).bins;
          bins[i] = (bins[i] as number) + 1;
        }
        if (owner < 0 && l.budget > 0 && t >= l.from && t <= l.to) owner = j;
      }
      for (let j = 0; j < lanes.length; j++) {
        if (hits[j] === 0) continue;
        const l = lanes[j] as Lane;
        if (owner === j) {
          l.budget--;
          l.attackDropped++;
          l.ua.add(v.get(Slot.USER_AGENT) ?? '(none)');
          l.path.add(v.get(Slot.PATH) ?? '');
          let asn = v.asn;
          if (asn < 0) {
            const g = geo.lookup(v.get(Slot.CLIENT) ?? '');
            asn = g.asn ?? -1;
            if (g.asn !== undefined && g.as_org && !asNames.has(g.asn)) asNames.set(g.asn, g.as_org);
          }
          if (asn >= 0) l.asn.set(asn, (l.asn.get(asn) ?? 0) + 1);
        } else if (owner < 0) l.legitDropped++; // another attack's request is in neither share
        if (l.labels[label] === 1) l.truthAttackDropped++;
        else if (label === 0) l.truthLegitDropped++;
      }
    },
    { onProgress },
  );
  const requests = info.lines - info.malformed;
  const legitRequests = Math.max(0, requests - lanes.reduce((s, l) => s + (l.attack.requests ?? l.attack.packets), 0));
  let truthNote: string | null = null;
  if (truth && labels.length !== info.lines) truthNote = `${truth.file} labels ${labels.length} lines but the log holds ${info.lines}: not the same log`;
  const truthOk = truth !== undefined && truthNote === null;
  const effects = lanes.map((l): Effectiveness => {
    if (l.match === null) return { ...signatureEffect(l.attack), note: l.note };
    if (truthOk && l.truthAttack > 0) {
      return {
        method: 'truth',
        attack_dropped: l.truthAttackDropped / l.truthAttack,
        legit_dropped: legitTruth === 0 ? 0 : l.truthLegitDropped / legitTruth,
        attack_packets: l.truthAttack,
        attack_dropped_packets: l.truthAttackDropped,
        legit_packets: legitTruth,
        legit_dropped_packets: l.truthLegitDropped,
      };
    }
    const attackRequests = Math.min(l.attack.requests ?? l.attack.packets, requests);
    return {
      method: 'replay',
      attack_dropped: attackRequests === 0 ? 0 : l.attackDropped / attackRequests,
      legit_dropped: legitRequests === 0 ? 0 : l.legitDropped / legitRequests,
      attack_packets: attackRequests,
      attack_dropped_packets: l.attackDropped,
      legit_packets: legitRequests,
      legit_dropped_packets: l.legitDropped,
    };
  });
  if (truthOk && lanes.some((l) => l.truthAttack === 0))
    truthNote = `${truth.file} has no attack matching ${lanes
      .filter((l) => l.truthAttack === 0)
      .map((l) => l.attack.id)
      .join(', ')}`;
  const tops = lanes.map((l): L7Tops | null => {
    if (l.match === null) return null;
    const asns = [...l.asn]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, TOP)
      .map(([asn, requests]) => ({ asn, name: asNames.get(asn) ?? '', requests }));
    return { user_agents: l.ua.top(), paths: l.path.top(), asns };
  });
  return {
    effects,
    truthNote,
    timeline: {
      bin_s: bin,
      t0: t0 < 0 ? start : t0,
      total,
      byVector: byVector.filter((x) => x.attacks.some((k) => (lanes[k] as Lane).match !== null)),
    },
    error: null,
    tops,
  };
}
