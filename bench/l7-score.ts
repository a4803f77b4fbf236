/**
 * Scoring for the L7 bench: which addresses each tool flagged, read from its own output (CrowdSec's
 * replay log, Palisade's `analyze --json`), held against the generator's truth: per attack group,
 * how many of the group's addresses were flagged (and by which scenario or vector), and which
 * legitimate addresses were flagged (the crawlers, monitors and carrier-NAT egresses the truth
 * names, and any other address that sent no attack line).
 */
import type { L7Truth } from '../src/generate/l7/generator.js';

/** Address → the names (CrowdSec scenarios, Palisade vectors) it was flagged under. */
export type Flagged = Map<string, Set<string>>;

function flag(into: Flagged, ip: string, why: string): void {
  let s = into.get(ip);
  if (!s) into.set(ip, (s = new Set()));
  s.add(why);
}

/**
 * CrowdSec 1.4's replay output (log_media is stdout in single-file mode): an alert is logged by the
 * agent as `Ip 1.2.3.4 performed 'crowdsecurity/http-probing' (11 events over 2s) at ...`, and a
 * decision the local API took on it as `(machine) crowdsecurity/http-probing by ip 1.2.3.4 : 4h ban
 * on Ip 1.2.3.4`. Range alerts (`Range 1.2.3.0/24 performed ...`) are kept under their range.
 */
export function crowdsecFlagged(output: string): { alerts: Flagged; decisions: Flagged } {
  const alerts: Flagged = new Map();
  const decisions: Flagged = new Map();
  const alertRe = /\b(?:Ip|Range) (\S+) performed '([^']+)'/g;
  const decisionRe = /\) (\S+) by ip \S+ : \S+ \w+ on (?:Ip|Range) ([^\s"\\]+)/g;
  for (const m of output.matchAll(alertRe)) flag(alerts, m[1] as string, m[2] as string);
  for (const m of output.matchAll(decisionRe)) flag(decisions, m[2] as string, m[1] as string);
  return { alerts, decisions };
}

/** What this bench reads of `palisade analyze --json` on an access log. */
export interface PalisadeL7Output {
  attacks?: Array<{ vector?: string; victim?: { host?: string }; sources?: { ips?: string[]; count?: number } }>;
}

/**
 * Every address an attack attributes itself to (`attacks[].sources.ips`), under the attack's
 * vector. `complete` is false when some attack has no `sources.ips` list (an output without it
 * cannot be scored by address).
 */
export function palisadeFlagged(out: PalisadeL7Output): { flagged: Flagged; attacks: number; complete: boolean } {
  const flagged: Flagged = new Map();
  const attacks = out.attacks ?? [];
  let complete = true;
  for (const a of attacks) {
    const ips = a.sources?.ips;
    if (!Array.isArray(ips)) {
      complete = false;
      continue;
    }
    for (const ip of ips) flag(flagged, ip, a.vector ?? '?');
  }
  return { flagged, attacks: attacks.length, complete };
}

export interface GroupScore {
  group: string;
  vector: string;
  ips: number;
  /** Addresses of the group flagged under any name. */
  flagged: number;
  /** Addresses of the group flagged under this vector's own name (Palisade: the attack's vector). */
  rightVector: number;
  /** Name → how many of the group's addresses it flagged, most first. */
  by: Array<[string, number]>;
}

export interface Score {
  groups: GroupScore[];
  /** The truth's named legitimate addresses that were flagged, per kind. */
  legit: Array<{ kind: string; ips: number; flagged: string[] }>;
  /** Flagged addresses that sent no attack line and are not in the named legitimate lists. */
  otherFlagged: string[];
  /** Every flagged address. */
  total: number;
}

/** How each attack group and each kind of legitimate address fared. */
export function score(truth: Pick<L7Truth, 'attacks' | 'legit'>, flagged: Flagged): Score {
  const attackIps = new Set<string>();
  const groups: GroupScore[] = truth.attacks.map((a) => {
    const by = new Map<string, number>();
    let hit = 0;
    let right = 0;
    for (const ip of a.ips) {
      attackIps.add(ip);
      const names = flagged.get(ip);
      if (!names) continue;
      hit++;
      if (names.has(a.vector)) right++;
      for (const n of names) by.set(n, (by.get(n) ?? 0) + 1);
    }
    return { group: a.group, vector: a.vector, ips: a.ips.length, flagged: hit, rightVector: right, by: [...by].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)) };
  });
  const named = new Set<string>();
  const legit = (['crawlers', 'monitors', 'nat_egresses'] as const).map((kind) => {
    const ips = truth.legit[kind] ?? [];
    for (const ip of ips) named.add(ip);
    return { kind, ips: ips.length, flagged: ips.filter((ip) => flagged.has(ip) && !attackIps.has(ip)) };
  });
  const otherFlagged = [...flagged.keys()].filter((ip) => !attackIps.has(ip) && !named.has(ip)).sort();
  return { groups, legit, otherFlagged, total: flagged.size };
}
