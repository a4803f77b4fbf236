/**
 * Scoring an L7 analysis against the generator's ground truth (X.truth.json): per labelled attack,
 * the detected attack of the same vector and host that holds most of its addresses, the share of
 * its addresses matched (listed, or matched by the signature), the detection delay; legitimate
 * addresses flagged; attacks that match no labelled one; and the collateral of every attack's
 * rules measured with the per-line labels (not the analysis's own claim).
 */
import { readFileSync } from 'node:fs';
import type { Analysis } from '../../../src/model/analysis.js';
import type { Attack, L7Mitigation } from '../../../src/model/attack.js';
import { compile } from '../../../src/rules/compile.js';
import { httpScheme } from '../../../src/scheme/http.js';
import { HttpLogRequest } from '../../../src/scheme/http-log.js';
import { accessLogSource } from '../../../src/sources/accesslog/index.js';

export interface TruthAttack {
  label: number;
  vector: string;
  group: string;
  victim: { host: string };
  start: string;
  end: string;
  lines: number;
  ips: string[];
}

export interface Truth {
  scenario: string;
  seed: number;
  attacks: TruthAttack[];
  legit: { crawlers: string[]; monitors: string[]; nat_egresses: string[] };
  labels: { encoding: string; data: string };
}

export interface GroupScore {
  group: string;
  vector: string;
  ips: number;
  /** Share of the group's addresses listed or matched by the signature of the best attack of its vector and host. */
  matched: number;
  /** First detection: the earliest detected_at of an attack of its vector and host holding any of its addresses, − labelled start, seconds (NaN when none). */
  delay: number;
  attackId: string | null;
}

export interface Score {
  groups: GroupScore[];
  /** Legitimate addresses (crawlers, monitors, NAT egresses, any unlabelled address) in some attack's sources. */
  legitFlagged: string[];
  /** Attacks matching no labelled group (vector and host, sharing addresses). */
  spurious: Attack[];
  /** Per attack: legitimate requests its custom rule or lists would block, over all legitimate requests. */
  collateral: Array<{ id: string; vector: string; measured: number; claimed: number }>;
}

export function readTruth(base: string): Truth {
  return JSON.parse(readFileSync(`${base}.truth.json`, 'utf8')) as Truth;
}

/** Addresses of an attack that its mitigation reaches: the lists, and the signature's list. */
function reached(a: Attack): Set<string> {
  const m = a.mitigation as L7Mitigation;
  return new Set([...(a.sources.ips ?? []), ...(m.lists?.ips ?? []), ...(a.signature?.list?.addresses ?? [])]);
}

export async function score(base: string, analysis: Analysis): Promise<Score> {
  const truth = readTruth(base);
  const attackIps = new Set(truth.attacks.flatMap((t) => t.ips));
  const groups: GroupScore[] = [];
  const used = new Set<string>();
  for (const t of truth.attacks) {
    const ips = new Set(t.ips);
    let best: GroupScore = { group: t.group, vector: t.vector, ips: ips.size, matched: 0, delay: Number.NaN, attackId: null };
    let firstMs = Number.POSITIVE_INFINITY;
    for (const a of analysis.attacks) {
      if (a.vector !== t.vector || a.victim.host !== t.victim.host) continue;
      const r = reached(a);
      const got = [...ips].filter((i) => r.has(i)).length / ips.size;
      if (got > 0) firstMs = Math.min(firstMs, Date.parse(a.detected_at));
      if (got > best.matched) best = { ...best, matched: got, attackId: a.id };
    }
    if (best.attackId !== null) best.delay = (firstMs - Date.parse(t.start)) / 1000;
    if (best.attackId) used.add(best.attackId);
    groups.push(best);
  }
  const flagged = new Set(analysis.attacks.flatMap((a) => [...reached(a)]));
  const legitFlagged = [...flagged].filter((i) => !attackIps.has(i));
  const spurious = analysis.attacks.filter((a) => !used.has(a.id) && !truth.attacks.some((t) => t.vector === a.vector && t.victim.host === a.victim.host));

  // Collateral with the labels: every legitimate line the attack's custom rule (or its lists) would block.
  const labels = Buffer.from(truth.labels.data, 'base64');
  const rules = analysis.attacks.map((a) => {
    const m = a.mitigation as L7Mitigation;
    const lists = a.signature?.list ? { [a.signature.list.name]: { kind: 'ip' as const, items: a.signature.list.addresses } } : {};
    return { a, test: compile(m.custom_rule.expression, httpScheme, { lists }), ips: new Set(m.lists.ips), hits: 0 };
  });
  let legit = 0;
  const req = new HttpLogRequest();
  await accessLogSource(`${base}.log`).read((v) => {
    if (labels[v.lineNo - 1] !== 0) return;
    legit++;
    req.point(v);
    for (const r of rules) if (r.test(req) || r.ips.has(req.clientIp)) r.hits++;
  });
  const collateral = rules.map((r) => ({ id: r.a.id, vector: r.a.vector, measured: r.hits / Math.max(1, legit), claimed: r.a.signature?.collateral ?? 0 }));
  return { groups, legitFlagged, spurious, collateral };
}
