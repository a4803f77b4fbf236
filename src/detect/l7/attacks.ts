/**
 * From detected L7 attacks (detector.ts tracks) to Attack records, in two steps around the
 * measurement pass (measure.ts):
 *
 *  1. plan(): each attack's signature searched on the samples (signature.ts) and what the pass
 *     must measure;
 *  2. build(): attribution from the pass (an address belongs to the attack when most of its
 *     requests on the victim within the attack's time are the attack's — matched by the signature
 *     or in the vector's class: failed logins, probes, 408s — so a NAT egress whose visitors
 *     include a few such requests is not listed), the signature's measured coverage and
 *     collateral, the choice between field signature and source list, and the mitigation.
 */
import { geoDb } from '../../core/geoip.js';
import type { Attack, L7Mitigation } from '../../model/attack.js';
import { C } from './clients.js';
import { Kind, type L7Detector, type L7Track, otherVector, VECTOR_OF } from './detector.js';
import { hashString } from './features.js';
import { type MeasureTarget, T, type Tally } from './measure.js';
import { l7Mitigation } from './mitigation.js';
import type { Row } from './sample.js';
import { type FoundSignature, quote, searchSignature } from './signature.js';

/** Field signatures above this measured collateral give way to the source list. */
export const MAX_COLLATERAL = 0.001;
/** Addresses listed in sources.top and looked up for ASNs. */
const TOP = 10;
const MAX_ASN_LOOKUPS = 20000;
/** Time before and after an attack's firing windows in which its addresses are counted. */
const MARGIN_MS = 2 * 60_000;

export interface PlannedAttack {
  track: L7Track;
  found: FoundSignature;
  target: MeasureTarget;
  /** Sampled class requests kept as the attack's (for evidence). */
  positives: Row[];
}

function rowsOf(t: L7Track): Row[] {
  return t.sample.rows.filter((r) => r !== undefined);
}

/** Is a sampled request's client (as the table knows it at the end) one of the attack's kind? */
function clientFits(det: L7Detector, t: L7Track, r: Row): boolean {
  const cl = det.clients;
  const i = cl.lookup(r.ipKey, r.fam);
  if (i < 0) return true;
  switch (t.kind) {
    case Kind.FLOOD:
      return cl.get(i, C.ASSETS) === 0 && cl.get(i, C.COOKIES) === 0 && (cl.first[i] as number) >= t.start - 60_000;
    case Kind.STUFFING:
      return cl.get(i, C.LOGIN_OK) === 0 && cl.get(i, C.ASSETS) === 0 && cl.get(i, C.LOGIN_FAILS) > 0;
    case Kind.SCANNER: {
      const nf = cl.get(i, C.NOT_FOUND);
      return cl.get(i, C.SENSITIVE) > 0 || (nf >= 10 && nf * 2 >= cl.get(i, C.REQUESTS));
    }
    default:
      return cl.get(i, C.TIMEOUTS) > 0;
  }
}

/** A user agent is the surplus's when its share among the flood's rows is this many times its share of the reference. */
const SURPLUS_RATIO = 5;

/** Fewer script-like reference rows outside the flood than this: too few to say what rose. */
const MIN_BEFORE = 50;

/**
 * The host's sampled requests from script-like clients (no asset, no cookie) outside the attack's
 * time, a window's margin either side: what the flood's class looked like without it.
 */
function scriptLikeOutside(det: L7Detector, t: L7Track): Row[] {
  const cl = det.clients;
  const margin = det.windowMs;
  return t.host.ref.rows.filter((r): r is Row => {
    if (r === undefined || (r.timeMs >= t.start - margin && r.timeMs <= t.end + margin)) return false;
    const i = cl.lookup(r.ipKey, r.fam);
    return i >= 0 && cl.get(i, C.ASSETS) === 0 && cl.get(i, C.COOKIES) === 0;
  });
}

/**
 * The flood's own rows among the script-like requests of its time. New script-like clients keep
 * arriving at a site whatever happens — an app's users, API clients, feed readers — and they are
 * in the flood's class without being its surplus; where several sites share one log without a
 * Host field they are many. What sets the surplus apart is what rose: the user agents far more
 * frequent among these rows than among the script-like requests outside its time. When that
 * leaves less than half of the rows (a flood with the user agent the site's scripts already use),
 * or too little came before, the rows are kept as they are.
 */
function surplusRows(rows: Row[], ref: readonly Row[]): Row[] {
  if (rows.length === 0 || ref.length < MIN_BEFORE) return rows;
  const count = (xs: readonly Row[]) => {
    const m = new Map<string, number>();
    for (const r of xs) m.set(r.ua, (m.get(r.ua) ?? 0) + 1);
    return m;
  };
  const inRows = count(rows);
  const inRef = count(ref);
  const kept = new Set<string>();
  for (const [ua, n] of inRows) {
    // Add-one smoothing: a user agent the reference never shows has a small, not zero, share there.
    const refShare = ((inRef.get(ua) ?? 0) + 1) / (ref.length + 1);
    if (n / rows.length >= SURPLUS_RATIO * refShare) kept.add(ua);
  }
  const out = rows.filter((r) => kept.has(r.ua));
  return out.length * 2 >= rows.length ? out : rows;
}

export function plan(det: L7Detector, tracks: readonly L7Track[]): PlannedAttack[] {
  const out: PlannedAttack[] = [];
  for (const t of tracks) {
    const fits = rowsOf(t).filter((r) => clientFits(det, t, r));
    // The reference: the host's sampled requests, less those of the attack's kind of client (before
    // and after it fired too: a flood ramps up before it is judged one and tails off after).
    const neg = t.host.ref.rows.filter((r) => r !== undefined && !clientFits(det, t, r));
    const pos = t.kind === Kind.FLOOD ? surplusRows(fits, scriptLikeOutside(det, t)) : fits;
    const found = searchSignature(t.host.name, pos, neg);
    out.push({
      track: t,
      found,
      positives: pos,
      target: {
        kind: t.kind,
        hostHash: t.host.name === '' ? 1 : hashString(t.host.name),
        expression: found.expression,
        parts: found.parts,
        // The attack's addresses are looked for a little before it was judged one and after.
        fromMs: t.start - MARGIN_MS,
        toMs: t.end + det.windowMs + MARGIN_MS,
      },
    });
  }
  return out;
}

/**
 * Does the client's whole history (pass 1's table, when it still holds the address) agree? An
 * address whose requests were mostly a browser's — pages with their assets, a login that worked —
 * is not the attack's even if some of its requests within the attack's time fall in its class.
 */
function historyFits(det: L7Detector, kind: Kind, tl: Tally, i: number): boolean {
  const cl = det.clients;
  const c = cl.lookup(tl.keys[i] as number, tl.fam[i] as number);
  if (c < 0) return true;
  const req = cl.get(c, C.REQUESTS);
  switch (kind) {
    case Kind.FLOOD:
      return cl.get(c, C.ASSETS) * 5 < req && !otherVector(cl.n, c * C.COUNT);
    case Kind.STUFFING:
      return cl.get(c, C.LOGIN_FAILS) * 2 >= req;
    case Kind.SCANNER:
      return (cl.get(c, C.SENSITIVE) + cl.get(c, C.NOT_FOUND)) * 2 >= req;
    default:
      return cl.get(c, C.TIMEOUTS) * 2 >= req;
  }
}

/**
 * Does address i of the tally belong to the attack? Most of its requests within the attack's time
 * are in the vector's class, or (when the field signature met the bar on the samples) matched by
 * the signature.
 */
function attributed(kind: Kind, tl: Tally, i: number, bySignature: boolean): boolean {
  const req = tl.get(i, T.REQUESTS);
  const m = tl.get(i, T.MATCHED);
  const cls = tl.get(i, T.CLASS);
  if (bySignature && kind !== Kind.FLOOD && m >= 1 && m * 2 >= req) return true;
  switch (kind) {
    case Kind.FLOOD:
      return m >= 1 && m * 2 >= req && cls * 2 >= req;
    case Kind.STUFFING:
      return cls >= 1 && cls * 2 >= req;
    case Kind.SCANNER: {
      const s = tl.get(i, T.SENSITIVE);
      return (s >= 1 && (s + cls) * 2 >= req) || (cls >= 5 && cls * 2 >= req);
    }
    default:
      return cls >= 2 && cls * 2 >= req;
  }
}

/** An AS is listed when it holds at least this many of the attack's addresses. */
const MIN_ASN_ADDRESSES = 10;
/** /24s looked up to count the host's requests per AS (past it, no AS is listed). */
const MAX_PREFIX_LOOKUPS = 100_000;

/**
 * The networks (AS numbers) that sent the host nothing but the attack: at least
 * MIN_ASN_ADDRESSES of its addresses, and ≥ 99 % of the host's requests from the AS over the
 * whole log (each /24 the host heard from is looked up; an AS spans whole /24s). Blocking one is
 * cleaner than listing its addresses when the botnet rents a hosting network. Not offered when
 * the host had clients other than IPv4 (their networks are not counted), or too many /24s to look up.
 */
function cleanNetworks(tl: Tally, asns: ReadonlyMap<number, { addresses: number; requests: number }>, geo: ReturnType<typeof geoDb>): number[] {
  const candidates = [...asns].filter(([, e]) => e.addresses >= MIN_ASN_ADDRESSES);
  if (candidates.length === 0 || tl.otherRequests > 0 || tl.per24.size > MAX_PREFIX_LOOKUPS) return [];
  const want = new Set(candidates.map(([asn]) => asn));
  const hostReq = new Map<number, number>();
  for (const [k, n] of tl.per24) {
    const g = geo.lookup(`${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}.1`);
    if (g.asn !== undefined && want.has(g.asn)) hostReq.set(g.asn, (hostReq.get(g.asn) ?? 0) + n);
  }
  return candidates
    .filter(([asn, e]) => e.requests >= 0.99 * (hostReq.get(asn) ?? Number.POSITIVE_INFINITY))
    .map(([asn]) => asn)
    .sort((a, b) => a - b);
}

const iso = (ms: number): string => new Date(ms).toISOString();

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

/** The attack record of one planned attack and its pass's tally. */
export interface Others {
  keys: ReadonlySet<number>;
  requests: number;
}
const NO_OTHERS: Others = { keys: new Set(), requests: 0 };

/**
 * Every planned attack's record, from the pass's tallies (tallies[k] measured planned[k]):
 * attribution first for all of them, so each one's collateral leaves the others' traffic out.
 * Attacks to which no address could be attributed are dropped; ids are l7-1, l7-2, … in order.
 */
export function buildAll(det: L7Detector, planned: readonly PlannedAttack[], tallies: readonly Tally[]): Attack[] {
  const ids = planned.map((p, k) => attribute(det, p, tallies[k] as Tally));
  const out: Attack[] = [];
  let seq = 1;
  for (let k = 0; k < planned.length; k++) {
    const p = planned[k] as PlannedAttack;
    const keys = new Set<number>();
    let requests = 0;
    for (let j = 0; j < planned.length; j++) {
      if (j === k || (planned[j] as PlannedAttack).track.host !== p.track.host) continue;
      const tl = tallies[j] as Tally;
      for (const i of ids[j] as number[]) {
        const key = tallyKey(tl, i);
        if (keys.has(key)) continue;
        keys.add(key);
        requests += tl.get(i, T.REQUESTS) + tl.get(i, T.OUT_REQUESTS);
      }
    }
    const a = build(det, p, tallies[k] as Tally, seq, ids[k] as number[], { keys, requests });
    if (a === null) continue;
    seq++;
    out.push(a);
  }
  return out;
}

/** The tally slots of the addresses attributed to a planned attack. */
export function attribute(det: L7Detector, p: PlannedAttack, tl: Tally): number[] {
  const ids: number[] = [];
  const bySignature = p.found.atoms.length > 0 && p.found.collateral <= MAX_COLLATERAL;
  for (let i = 0; i < tl.size; i++) if (attributed(p.track.kind, tl, i, bySignature) && historyFits(det, p.track.kind, tl, i)) ids.push(i);
  return ids;
}

/** An address as a tally key (IPv4 as itself, others by hash), to tell addresses of other attacks. */
export function tallyKey(tl: Tally, i: number): number {
  const k = tl.keys[i] as number;
  return tl.fam[i] === 4 ? k : -1 - (k >>> 1);
}

/**
 * The attack record of one planned attack, its pass's tally and its attributed slots. `others`:
 * the addresses of the other attacks on the same host and their requests there — attack traffic,
 * so neither collateral nor its denominator (a slowloris tool may send the flood's user agent).
 */
export function build(det: L7Detector, p: PlannedAttack, tl: Tally, seq: number, ids: number[] = attribute(det, p, tl), others: Others = NO_OTHERS): Attack | null {
  const t = p.track;
  const kind = t.kind;
  if (ids.length === 0) return null;
  let attackReq = 0;
  let attackMatched = 0;
  let attackOutReq = 0;
  let attackOutMatched = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const i of ids) {
    attackReq += tl.get(i, T.REQUESTS);
    attackMatched += tl.get(i, T.MATCHED);
    attackOutReq += tl.get(i, T.OUT_REQUESTS);
    attackOutMatched += tl.get(i, T.OUT_MATCHED);
    first = Math.min(first, tl.get(i, T.FIRST));
    last = Math.max(last, tl.get(i, T.LAST));
  }
  const fieldCoverage = attackReq === 0 ? 0 : attackMatched / attackReq;
  // Collateral two ways, the larger kept: the host's requests from other addresses that the
  // signature matches (depends on attribution), and the estimate on the reference sample (the
  // host's requests outside the attack's class behaviour during its time: does not).
  let otherMatched = 0;
  if (others.keys.size > 0) {
    const mine = new Set(ids);
    for (let i = 0; i < tl.size; i++) if (!mine.has(i) && others.keys.has(tallyKey(tl, i))) otherMatched += tl.get(i, T.MATCHED) + tl.get(i, T.OUT_MATCHED);
  }
  const byAddress = Math.max(0, tl.matched - attackMatched - attackOutMatched - otherMatched) / Math.max(1, tl.hostRequests - attackReq - attackOutReq - others.requests);
  const fieldCollateral = Math.max(byAddress, p.found.collateral);
  // A surge whose requests share nothing the site's other traffic lacks is not told from a crowd
  // of users (an app release, a campaign on an API): not reported as a flood.
  if (kind === Kind.FLOOD && (p.found.atoms.length === 0 || fieldCollateral > 0.01)) return null;
  // Addresses the signature matched at least once: what blocking by the signature would reach.
  const reached = ids.filter((i) => tl.get(i, T.MATCHED) >= 1).length / ids.length;
  const useFields = p.found.atoms.length > 0 && fieldCollateral <= MAX_COLLATERAL && fieldCoverage >= 0.9 && reached >= 0.95;

  const ips = ids.map((i) => tl.address(i));
  ids.sort((a, b) => tl.get(b, T.REQUESTS) - tl.get(a, T.REQUESTS));
  const top = ids.slice(0, TOP).map((i) => ({ ip: tl.address(i), packets: tl.get(i, T.REQUESTS) }));

  // Prefixes: /24s holding several of the attack's addresses and nothing else on this host.
  const by24 = new Map<number, { n: number; req: number }>();
  for (const i of ids) {
    if (tl.fam[i] !== 4) continue;
    const k = (tl.keys[i] as number) >>> 8;
    const e = by24.get(k) ?? { n: 0, req: 0 };
    e.n++;
    e.req += tl.get(i, T.REQUESTS);
    by24.set(k, e);
  }
  const topPrefixes = [...by24]
    .sort((a, b) => b[1].req - a[1].req)
    .slice(0, TOP)
    .map(([k, e]) => ({ prefix: `${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}.0/24`, addresses: e.n, requests: e.req }));
  const cleanPrefixes = [...by24]
    .filter(([k, e]) => e.n >= 3 && e.req >= 0.99 * (tl.per24.get(k) ?? Number.POSITIVE_INFINITY))
    .map(([k]) => `${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}.0/24`)
    .sort();

  // ASNs of the attack's addresses (the offline database; absent when it is not installed).
  const asns = new Map<number, { name: string; addresses: number; requests: number }>();
  const geo = geoDb();
  for (const i of ids.slice(0, MAX_ASN_LOOKUPS)) {
    const g = geo.lookup(tl.address(i));
    if (g.asn === undefined) continue;
    const e = asns.get(g.asn) ?? { name: g.as_org ?? '', addresses: 0, requests: 0 };
    e.addresses++;
    e.requests += tl.get(i, T.REQUESTS);
    asns.set(g.asn, e);
  }
  const topAsns = [...asns]
    .sort((a, b) => b[1].requests - a[1].requests)
    .slice(0, TOP)
    .map(([asn, e]) => ({ asn, name: e.name, addresses: e.addresses, requests: e.requests }));
  const cleanAsns = cleanNetworks(tl, asns, geo);

  const id = `l7-${seq}`;
  const listName = `${VECTOR_OF[kind]}_${seq}_sources`;
  const host = t.host.name;
  const hostPart = host !== '' ? `http.host eq ${quote(host)} and ` : '';
  const listExpr = `${hostPart}ip.src in $${listName}`;
  const signature: NonNullable<Attack['signature']> = useFields
    ? { expression: p.found.expression, coverage: round(fieldCoverage), collateral: round(fieldCollateral), kind: 'fields' }
    : { expression: listExpr, coverage: 1, collateral: 0, kind: 'source_list', list: { name: listName, addresses: [...ips].sort() } };

  // Per-address rates of the attack's sources (requests per minute over each one's own span).
  const perMin = ids.map((i) => (tl.get(i, T.REQUESTS) * 60_000) / Math.max(60_000, tl.get(i, T.LAST) - tl.get(i, T.FIRST)));
  const loginPath = kind === Kind.STUFFING ? topValue(p.positives.map((r) => r.path)) : '';
  const mitigation: L7Mitigation = l7Mitigation({
    id,
    kind,
    host,
    fieldExpression: useFields ? p.found.expression : null,
    traitExpression: p.found.atoms.length > 0 ? p.found.expression : null,
    listName,
    ips,
    prefixes: cleanPrefixes,
    asns: cleanAsns,
    loginPath,
    ratePerMinuteP10: quantile(perMin, 0.1),
  });

  const windowS = det.windowMs / 1000;
  const peakRps = t.peakPps / windowS;
  const uas = new Set(p.positives.map((r) => r.ua));
  const queries = p.positives.filter((r) => r.query !== '');
  const distinctQueries = new Set(queries.map((r) => `${r.path}?${r.query}`)).size;
  const evidence: Attack['evidence'] = {
    out_of_state: null,
    handshakes_completed: null,
    sources_per_packet: round(ids.length / Math.max(1, attackReq)),
    spoofed_likely: false,
    separating_fields: useFields ? p.found.atoms.map((a) => a.split(' ')[0] as string) : ['ip.src'],
    signature: useFields ? 'fields' : 'source_list',
    field_signature: { expression: p.found.expression, coverage: round(fieldCoverage), collateral: round(fieldCollateral) },
    source_list: { size: ips.length, coverage: 1, collateral: 0 },
    l7: {
      window_s: windowS,
      at_detection: t.firing,
      baseline_per_window: round(t.baseline),
      sampled_requests: p.positives.length,
      user_agents: uas.size,
      ua_rotation: kind === Kind.FLOOD && uas.size > 1,
      cache_busting: queries.length >= 20 && distinctQueries >= 0.9 * queries.length,
      ...(kind === Kind.SLOWLORIS ? { header_timeout_s: modeSecond(t.host.timeoutSecs) } : {}),
      ...(kind === Kind.STUFFING ? { login_path: loginPath } : {}),
      sources_over_cap: tl.overflow,
      clients_evicted: det.clients.evictedIdle + det.clients.evictedBusy,
    },
  };
  return {
    id,
    vector: VECTOR_OF[kind] as Attack['vector'],
    victim: { ...(host !== '' ? { host } : {}), protocol: 'http' },
    start: iso(Math.min(t.start, first)),
    end: iso(Math.max(t.end, last)),
    detected_at: iso(t.detected),
    packets: attackReq,
    bytes: 0,
    peak_pps: round(peakRps),
    peak_bps: 0,
    requests: attackReq,
    peak_rps: round(peakRps),
    sources: { unique: ips.length, spoofed_likely: false, top, ips, top_prefixes: topPrefixes, top_asns: topAsns },
    signature,
    confidence: round(Math.min(1, 0.5 + 0.5 * Math.min(1, ids.length / 20)) * (useFields ? 1 : 0.9)),
    evidence,
    mitigation,
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function topValue(xs: string[]): string {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  let best = '';
  let n = 0;
  for (const [k, c] of m) if (c > n) [best, n] = [k, c];
  return best;
}

function modeSecond(h: Int32Array): number | null {
  let best = -1;
  let n = 0;
  for (let i = 1; i < h.length; i++) if ((h[i] as number) > n) [best, n] = [i, h[i] as number];
  return best < 0 ? null : best;
}
