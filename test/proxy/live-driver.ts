/**
 * A labelled synthetic request stream for live L7 protection's tests, played through a real gate
 * (createEdgeGate, memory counters, no WAF) on an injected clock: no sockets and no sleeping, so a
 * quarter of an hour of traffic runs in seconds.
 *
 * Actors: browsers (a page, then its assets with the site's cookie and the page as referer; new
 * visitors arrive without a cookie), monitors and an API client (scripts that are part of the
 * baseline), flash crowds (many new browsers on one page), and HTTP floods (hundreds of
 * addresses, each below 2 requests/s, with a shared trait). Each request carries its label; the
 * run counts per label what the gate answered.
 */
import { defaultEdgeOptions, type EdgeOptions } from '../../src/config/edge.js';
import { Rand } from '../../src/detect/l7/sample.js';
import { MemoryCounterStore } from '../../src/proxy/counters/memory.js';
import type { EdgeRequest, HeadVerdict, Outcome } from '../../src/proxy/gate.js';
import { createEdgeGate, type EdgeGate } from '../../src/proxy/phases/pipeline.js';
import type { HttpRequestView } from '../../src/scheme/http.js';

export type Label = 'legit' | 'flood' | 'crowd';

export interface Req {
  t: number;
  ip: string;
  target: string;
  ua: string;
  cookie?: string;
  referer?: string;
  /** GET unless said; the origin's status when the gate lets the request through (200 unless said). */
  method?: string;
  status?: number;
  label: Label;
}

/** The detector's seeded xorshift32 (a run is reproducible), with the picks the streams need. */
export class Rng extends Rand {
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
}

export const T0 = Date.UTC(2026, 11, 6, 12, 0, 0);
export const HOST = 'shop.example';

export const BROWSER_UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
];

const PAGES = ['/', '/products', '/products/1', '/products/2', '/products/3', '/cart', '/about', '/blog', '/blog/post-1', '/blog/post-2', '/help'];
const ASSETS = ['/static/app.css', '/static/app.js', '/static/logo.png', '/static/hero.jpg'];

/** One page view of a browser at time t: the page, then its assets within a second. */
function pageView(rng: Rng, out: Req[], t: number, ip: string, ua: string, path: string, cookie: string | undefined, referer: string | undefined, label: Label): void {
  out.push({ t, ip, target: path, ua, label, ...(cookie !== undefined && { cookie }), ...(referer !== undefined && { referer }) });
  // The page's response sets the cookie: the assets carry it.
  const c = cookie ?? `sid=${ip.replace(/\./g, '')}`;
  for (const a of ASSETS) out.push({ t: t + 50 + rng.int(900), ip, target: a, ua, cookie: c, referer: `https://${HOST}${path}`, label });
}

/**
 * Browsers on [from, to): `n` addresses in 10.x.y.z (base offset `first`), each a page view every
 * 20–60 s; a tenth arrive new (no cookie on their first page). Some pages are searches with a query.
 */
export function browsers(rng: Rng, out: Req[], n: number, from: number, to: number, first = 0, label: Label = 'legit'): void {
  for (let i = 0; i < n; i++) {
    const k = first + i;
    const ip = `10.${(k >> 16) & 255}.${(k >> 8) & 255}.${k & 255}`;
    const ua = rng.pick(BROWSER_UAS);
    let cookie: string | undefined = rng.next() < 0.1 ? undefined : `sid=${ip.replace(/\./g, '')}`;
    let t = from + rng.int(30_000);
    let prev: string | undefined;
    while (t < to) {
      const search = rng.next() < 0.1;
      const path = search ? `/search?q=${rng.pick(['shoes', 'bags', 'hats', 'gift'])}` : rng.pick(PAGES);
      pageView(rng, out, t, ip, ua, path, cookie, prev === undefined ? undefined : `https://${HOST}${prev}`, label);
      cookie ??= `sid=${ip.replace(/\./g, '')}`;
      prev = path.split('?')[0];
      t += 20_000 + rng.int(40_000);
    }
  }
}

/**
 * New visitors arriving all the time (10.100.x.y): a first page without cookie (from a search
 * engine half the time, else typed in: no referer), then up to three more with the cookie.
 */
export function newcomers(rng: Rng, out: Req[], perMinute: number, from: number, to: number): void {
  let i = 0;
  for (let t = from + rng.int(60_000 / perMinute); t < to; t += Math.floor((60_000 / perMinute) * (0.5 + rng.next()))) {
    const k = i++;
    const ip = `10.100.${(k >> 8) & 255}.${k & 255}`;
    const ua = rng.pick(BROWSER_UAS);
    const path = rng.pick(PAGES);
    pageView(rng, out, t, ip, ua, path, undefined, rng.next() < 0.5 ? 'https://www.search.example/' : undefined, 'legit');
    const views = rng.int(4);
    for (let v = 1; v <= views; v++)
      pageView(rng, out, t + v * (10_000 + rng.int(30_000)), ip, ua, rng.pick(PAGES), `sid=${ip.replace(/\./g, '')}`, `https://${HOST}${path}`, 'legit');
  }
}

/**
 * A carrier-grade NAT egress: `users` browsers behind one address (100.64.0.1), each its own
 * cookie and user agent, a page view every 20–60 s.
 */
export function natEgress(rng: Rng, out: Req[], users: number, from: number, to: number): void {
  const ip = '100.64.0.1';
  for (let u = 0; u < users; u++) {
    const ua = rng.pick(BROWSER_UAS);
    for (let t = from + rng.int(30_000); t < to; t += 20_000 + rng.int(40_000)) pageView(rng, out, t, ip, ua, rng.pick(PAGES), `sid=nat${u}`, `https://${HOST}/`, 'legit');
  }
}

/** Scripts that are part of the site's baseline: three monitors (every 10 s) and an API client. */
export function scripts(rng: Rng, out: Req[], from: number, to: number): void {
  for (let m = 0; m < 3; m++)
    for (let t = from + m * 3000; t < to; t += 10_000) out.push({ t, ip: `192.0.2.${10 + m}`, target: '/health', ua: 'UptimeMonitor/2.1', label: 'legit' });
  for (let t = from; t < to; t += 2000 + rng.int(2000))
    out.push({ t, ip: '192.0.2.50', target: `/api/v1/stock?sku=${rng.int(500)}`, ua: 'shop-sync/1.4 (python-requests)', label: 'legit' });
}

/** A flash crowd: `n` new browsers (10.200.x.y) land on one page within [from, from + spanMs), then browse a little. */
export function flashCrowd(rng: Rng, out: Req[], n: number, from: number, spanMs: number, path = '/launch'): void {
  for (let i = 0; i < n; i++) {
    const ip = `10.200.${(i >> 8) & 255}.${i & 255}`;
    const ua = rng.pick(BROWSER_UAS);
    const t = from + rng.int(spanMs);
    pageView(rng, out, t, ip, ua, path, undefined, rng.next() < 0.5 ? 'https://news.example/' : undefined, 'crowd');
    const views = rng.int(3);
    for (let v = 1; v <= views; v++)
      pageView(rng, out, t + v * (5000 + rng.int(20_000)), ip, ua, rng.pick(PAGES), `sid=${ip.replace(/\./g, '')}`, `https://${HOST}${path}`, 'crowd');
  }
}

export interface FloodSpec {
  bots: number;
  from: number;
  to: number;
  /** Mean requests per second per bot (each below 2). */
  rate: number;
  /** The shared trait: a cache-busting query on `/`, one user agent, or none (browsers' UAs and pages, only no cookie). */
  trait: 'query' | 'ua' | 'none';
  /** First address (offset) of the bots in 172.16.0.0/12. */
  first?: number;
}

export const FLOOD_UA = 'Mozilla/5.0 (compatible; LoadBot/3.2)';

/** An HTTP flood: `bots` addresses in 172.16.x.y, each at about `rate` requests/s, no cookie, no assets. */
export function flood(rng: Rng, out: Req[], s: FloodSpec): void {
  for (let i = 0; i < s.bots; i++) {
    const k = (s.first ?? 0) + i;
    const ip = `172.16.${(k >> 8) & 255}.${k & 255}`;
    const ua = s.trait === 'ua' ? FLOOD_UA : rng.pick(BROWSER_UAS);
    const gap = 1000 / s.rate;
    for (let t = s.from + rng.int(gap); t < s.to; t += gap * (0.6 + 0.8 * rng.next())) {
      const target = s.trait === 'query' ? `/?q=${rng.int(1e9).toString(36)}` : rng.pick(PAGES);
      out.push({ t: Math.floor(t), ip, target, ua, label: 'flood' });
    }
  }
}

/**
 * Users signing in (10.50.x.y): the login page with its assets, then the form posted with the
 * site's cookie; one attempt in ten mistyped (401, then a second that works).
 */
export function logins(rng: Rng, out: Req[], n: number, from: number, to: number): void {
  for (let i = 0; i < n; i++) {
    const ip = `10.50.${(i >> 8) & 255}.${i & 255}`;
    const ua = rng.pick(BROWSER_UAS);
    const cookie = `sid=${ip.replace(/\./g, '')}`;
    for (let t = from + rng.int(120_000); t < to; t += 120_000 + rng.int(240_000)) {
      pageView(rng, out, t, ip, ua, '/login', cookie, `https://${HOST}/`, 'legit');
      const post = { ip, target: '/login', method: 'POST', ua, cookie, referer: `https://${HOST}/login`, label: 'legit' as const };
      if (rng.next() < 0.1) out.push({ ...post, t: t + 8000, status: 401 }, { ...post, t: t + 15_000, status: 302 });
      else out.push({ ...post, t: t + 8000, status: 302 });
    }
  }
}

/**
 * Credential stuffing: `bots` addresses (172.20.x.y) each POST /login a few times a minute, no
 * session (no page, no asset, no cookie), the origin answering 401.
 */
export function stuffing(rng: Rng, out: Req[], bots: number, from: number, to: number, perMinute = 4): void {
  for (let i = 0; i < bots; i++) {
    const ip = `172.20.${(i >> 8) & 255}.${i & 255}`;
    const ua = rng.pick(BROWSER_UAS);
    const gap = 60_000 / perMinute;
    for (let t = from + rng.int(gap); t < to; t += gap * (0.6 + 0.8 * rng.next()))
      out.push({ t: Math.floor(t), ip, target: '/login', method: 'POST', status: 401, ua, label: 'flood' });
  }
}

export interface Counts {
  sent: number;
  passed: number;
  /** Answered by the edge itself: block, challenge, rate limit. */
  stopped: number;
}

export interface RunResult {
  /** Per label: over the whole run, and from `since` on (after installation). */
  all: Record<Label, Counts>;
  since: Record<Label, Counts>;
}

const zero = (): Record<Label, Counts> => ({ legit: { sent: 0, passed: 0, stopped: 0 }, flood: { sent: 0, passed: 0, stopped: 0 }, crowd: { sent: 0, passed: 0, stopped: 0 } });

export function edgeOptions(mutate?: (o: EdgeOptions) => void): EdgeOptions {
  const o = defaultEdgeOptions();
  o.waf.enabled = false;
  mutate?.(o);
  return o;
}

export function makeGate(o: EdgeOptions, clock: { t: number }): EdgeGate {
  return createEdgeGate(o, { waf: null, counters: new MemoryCounterStore(), now: () => clock.t, log: () => {} });
}

let seq = 0;

function toEdgeRequest(r: Req, now: number): EdgeRequest {
  const hs: Array<[string, string]> = [
    ['Host', HOST],
    ['User-Agent', r.ua],
    ['Accept', 'text/html,*/*'],
  ];
  if (r.referer !== undefined) hs.push(['Referer', r.referer]);
  if (r.cookie !== undefined) hs.push(['Cookie', r.cookie]);
  const view: HttpRequestView = { method: r.method ?? 'GET', target: r.target, host: HOST, version: 'HTTP/1.1', headers: hs, clientIp: r.ip, ssl: true, timestampMs: now };
  return { id: `r${++seq}`, view, clientIp: r.ip, peerIp: r.ip, headerOrder: hs.map((h) => h[0].toLowerCase()), ruleIds: [] };
}

/**
 * Play `reqs` (sorted here) through the gate, the clock at each request's time; `onSecond` is
 * called at each new second of stream time (ticks, checks). Counts from `sinceOf()` on go to `since`.
 */
export async function play(gate: EdgeGate, clock: { t: number }, reqs: Req[], opts: { onSecond?: (t: number) => void; sinceOf?: () => number } = {}): Promise<RunResult> {
  reqs.sort((a, b) => a.t - b.t);
  const res: RunResult = { all: zero(), since: zero() };
  let sec = Number.NaN;
  for (const r of reqs) {
    clock.t = r.t;
    const s = Math.floor(r.t / 1000);
    if (s !== sec) {
      sec = s;
      opts.onSecond?.(r.t);
    }
    const req = toEdgeRequest(r, r.t);
    let v: HeadVerdict = gate.head(req) as HeadVerdict;
    if (v instanceof Promise) v = await v;
    let outcome: Outcome;
    if (v.kind === 'respond') outcome = { status: v.status, by: 'phase', mitigated: v.mitigated, bytesIn: 0, bytesOut: 100, durationMs: 1 };
    else {
      const status = r.status ?? 200;
      gate.response(req, status);
      outcome = { status, by: 'origin', bytesIn: 0, bytesOut: 5000, durationMs: 20, originMs: 15 };
    }
    gate.done(req, outcome);
    const stopped = v.kind === 'respond';
    const since = opts.sinceOf?.() ?? Number.POSITIVE_INFINITY;
    for (const c of r.t >= since ? [res.all[r.label], res.since[r.label]] : [res.all[r.label]]) {
      c.sent++;
      if (stopped) c.stopped++;
      else c.passed++;
    }
  }
  return res;
}
