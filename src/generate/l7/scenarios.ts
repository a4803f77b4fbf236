/**
 * The L7 scenario catalogue. A scenario draws its plan from the seed (how many bots, their UAs
 * and query shape, how many stuffers, the header timeout, …), so several seeds give different
 * but equally valid logs. Times are fractions of the log's length: per-client behaviour (a bot's
 * rate, a slow stuffer's 2–4 attempts) is fixed, and the requested number of lines sets how long
 * the log runs (generator.ts).
 */
import type { Rng } from '../prng.js';
import * as agents from './agents.js';
import type { FloodSpec, QueryShape, ScannerSpec, SlowlorisSpec, StuffingSpec } from './attacks.js';
import { API, type Page, PRODUCTS, productImages, WWW } from './site.js';

type Timed<T> = Omit<T, 't0' | 't1'> & { f0: number; f1: number };

export type Group =
  | ({ kind: 'flood' } & Timed<FloodSpec>)
  | ({ kind: 'stuffing' } & Timed<StuffingSpec>)
  | ({ kind: 'scanner' } & Timed<ScannerSpec>)
  | ({ kind: 'slowloris' } & Timed<SlowlorisSpec>)
  | { kind: 'flash'; f0: number; f1: number; host: string; landing: Page; peakFactor: number; natShare: number };

export interface L7Plan {
  /** Lines per second of everyday browsing and app traffic. */
  baseline: number;
  groups: Group[];
}

export interface L7Scenario {
  name: string;
  description: string;
  plan(rng: Rng): L7Plan;
}

function floodGroup(rng: Rng, f0: number, f1: number): Group {
  const nUa = rng.chance(0.4) ? 1 : rng.int(2, 4);
  const uas: string[] = [];
  const pool = [...agents.BOT_UAS];
  for (let i = 0; i < nUa; i++) uas.push(pool.splice(rng.int(0, pool.length - 1), 1)[0] as string);
  const query = rng.pick<QueryShape>(['random_kv', 'timestamp', 'search', 'version']);
  return {
    kind: 'flood',
    f0,
    f1,
    host: WWW,
    bots: rng.int(300, 600),
    minRate: 0.3,
    maxRate: rng.pick([2, 3, 4]),
    uas,
    rotate: nUa > 1 && rng.chance(0.5),
    headerOrder: rng.int(0, 2),
    path: query === 'search' ? '/search' : rng.pick(['/', '/', '/category/sale', '/products']),
    query,
    concentration: 0.5 + rng.float() * 0.4,
  };
}

function busyStuffing(rng: Rng, f0: number, f1: number): Group {
  return { kind: 'stuffing', f0, f1, host: WWW, path: '/login', ips: rng.int(30, 90), rate: 0.3 + rng.float() * 0.9, slow: false, formFirst: rng.chance(0.5), tool: rng.int(0, 1) };
}

function slowStuffing(rng: Rng, f0: number, f1: number): Group {
  const api = rng.chance(0.4);
  return { kind: 'stuffing', f0, f1, host: api ? API : WWW, path: api ? '/v1/auth/login' : '/login', ips: rng.int(200, 400), rate: 0, slow: true, formFirst: false, tool: 0 };
}

function fastScanner(rng: Rng, f0: number, f1: number): Group {
  return { kind: 'scanner', f0, f1, host: WWW, ips: rng.int(1, 3), rate: 4 + rng.float() * 20, slow: false };
}

function slowScanner(rng: Rng, f0: number, f1: number): Group {
  return { kind: 'scanner', f0, f1, host: rng.chance(0.7) ? WWW : API, ips: rng.int(12, 40), rate: 20 + rng.float() * 60, slow: true };
}

function slowlorisGroup(rng: Rng, f0: number, f1: number): Group {
  return { kind: 'slowloris', f0, f1, host: WWW, ips: rng.int(1, 4), conns: rng.int(150, 400), timeout: rng.pick([60, 60, 30, 20]) };
}

function flashGroup(rng: Rng, f0: number, f1: number): Group {
  const p = rng.pick(PRODUCTS);
  return {
    kind: 'flash',
    f0,
    f1,
    host: WWW,
    landing: {
      path: `/products/${p}`,
      query: rng.chance(0.5) ? `utm_source=${rng.pick(['tv', 'newsletter', 'tiktok'])}` : '',
      images: productImages(p),
      size: rng.int(26000, 34000),
    },
    peakFactor: 2 + rng.float() * 4,
    natShare: 0.3 + rng.float() * 0.2,
  };
}

function one(name: string, description: string, make: (rng: Rng) => Group[]): L7Scenario {
  return { name, description, plan: (rng) => ({ baseline: rng.int(100, 220), groups: make(rng) }) };
}

export const L7_SCENARIOS: L7Scenario[] = [
  one('http-baseline', 'HTTP log: site traffic only (browsers with assets, apps, crawlers, monitors)', () => []),
  one('http-flash-crowd', 'HTTP log: a legitimate flash crowd on one product page, carrier-NAT egresses with hundreds of requests', (r) => [flashGroup(r, 0.25, 0.8)]),
  one('http-flood', 'HTTP log: botnet http_flood, hundreds of bots each under a few req/s, cache-busting queries', (r) => [floodGroup(r, 0.3, 0.75)]),
  one('http-stuffing', 'HTTP log: busy credential_stuffing, tens of proxies POSTing /login (401/403)', (r) => [busyStuffing(r, 0.3, 0.75)]),
  one('http-stuffing-slow', 'HTTP log: slow credential_stuffing, hundreds of IPs with 2-4 attempts each', (r) => [slowStuffing(r, 0.15, 0.85)]),
  one('http-scanner', 'HTTP log: fast scanner, sensitive paths (/.env, /.git/config, /wp-login.php) in 404 bursts', (r) => [fastScanner(r, 0.3, 0.7)]),
  one('http-scanner-slow', 'HTTP log: slow distributed scanner, a few probes per IP minutes apart', (r) => [slowScanner(r, 0.1, 0.9)]),
  one('http-slowloris', 'HTTP log: slowloris, few IPs, many 408s at the header timeout', (r) => [slowlorisGroup(r, 0.3, 0.7)]),
  one('http-mixed', 'HTTP log: flood, busy and slow stuffing, fast and slow scanners, slowloris and a flash crowd', (r) => [
    flashGroup(r, 0.1, 0.35),
    floodGroup(r, 0.45, 0.75),
    busyStuffing(r, 0.2, 0.5),
    slowStuffing(r, 0.1, 0.9),
    fastScanner(r, 0.6, 0.7),
    slowScanner(r, 0.05, 0.95),
    slowlorisGroup(r, 0.8, 0.92),
  ]),
];

export function findL7Scenario(name: string): L7Scenario | undefined {
  return L7_SCENARIOS.find((s) => s.name === name);
}
