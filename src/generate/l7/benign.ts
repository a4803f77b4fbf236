/**
 * Legitimate L7 traffic: visitors in real browsers (a page, then its assets with the page as
 * referer, cookies once the site set them, think time between pages), the shop's apps and
 * partners on the API, crawlers at steady low rates from their operators' networks, and uptime
 * monitors on a fixed period. A flash crowd is the same visitors arriving in a surge on one page,
 * many of them new and many behind a handful of carrier-NAT egress addresses.
 */
import type { Rng } from '../prng.js';
import { type Actor, Arrivals, type Ctx, type Profile } from './actor.js';
import * as agents from './agents.js';
import { type Client, headerSlot, type RequestKind } from './agents.js';
import { type Endpoint, endpoint, L7_EPOCH_SEC, type Line } from './line.js';
import { APPLEBOT, BINGBOT, BROADBAND, GOOGLEBOT, MOBILE, MONITOR_NETS, type Network, YANDEXBOT } from './networks.js';
import { API, assetSize, BLOG, blogPost, COMMON_ASSETS, hex, type Page, PRODUCTS, productImages, randomPage, WWW } from './site.js';

const EXTERNAL_REFERERS = [
  'https://www.google.com/',
  'https://www.bing.com/',
  'https://duckduckgo.com/',
  'https://www.facebook.com/',
  'https://t.co/',
  'https://www.instagram.com/',
];

/** The XHR a product page makes after loading (same host, page as referer). */
const RECOMMENDATIONS = '/api/recommendations';

/** Where an ordinary visitor's address comes from: broadband mostly, mobile carriers too. */
export function visitorNetwork(rng: Rng): Network {
  return rng.chance(0.68) ? rng.pick(BROADBAND) : rng.pick(MOBILE);
}

function fill(
  l: Line,
  from: Endpoint,
  port: number,
  c: Client,
  kind: RequestKind,
  method: string,
  host: string,
  path: string,
  query: string,
  referer: string,
  cookies: string,
): void {
  l.from = from;
  l.port = port;
  l.client = c;
  l.headerSlot = headerSlot(kind, referer !== '', cookies !== '');
  l.method = method;
  l.host = host;
  l.path = path;
  l.query = query;
  l.referer = referer;
  l.cookiesJson = cookies;
  l.bodySize = 0;
  l.plain = false;
}

export interface VisitOptions {
  /** New to the site: no cookies until the first response, nothing cached. */
  fresh: boolean;
  /** The page the visit lands on (a flash crowd's hot page); random otherwise. */
  landing?: Page;
  tag?: number;
  /** Mean number of pages. */
  pages?: number;
}

/** One visit in a browser: pages, each followed by the assets it needs. */
export class Visit implements Actor {
  next: number;
  readonly label = 0;
  readonly tag: number;
  private readonly client: Client;
  private readonly port: number;
  private cookies = '';
  private readonly cookieValue: string;
  private pagesLeft: number;
  private assets: string[] = [];
  private ai = 0;
  private pageUrl = '';
  private cachedCommon: boolean;
  private readonly page: Page = { path: '/', query: '', images: [], size: 0 };
  private first = true;
  private loginStep = 0;

  constructor(
    private readonly rng: Rng,
    private readonly from: Endpoint,
    t: number,
    private readonly opts: VisitOptions,
  ) {
    this.next = t;
    this.tag = opts.tag ?? 0;
    this.client = agents.pickBrowser(rng.float());
    this.port = rng.int(1024, 65535);
    this.pagesLeft = 1 + Math.floor(rng.exp(opts.pages ?? 3));
    this.cookieValue = `"cookies":{"sid":"${hex(rng, 24)}","_ga":"GA1.1.${rng.int(100000000, 999999999)}.${rng.int(1760000000, 1772400000)}"}`;
    this.cachedCommon = !opts.fresh;
    if (!opts.fresh) this.cookies = this.cookieValue;
    // Some visits sign in: the login form, a post, then the account page.
    if (rng.chance(0.04)) this.loginStep = 1;
  }

  step(l: Line, _ctx: Ctx): boolean {
    const rng = this.rng;
    if (this.ai < this.assets.length) {
      const path = this.assets[this.ai++] as string;
      // Browsers fetch the favicon on their own, without a referer.
      fill(l, this.from, this.port, this.client, 'asset', 'GET', WWW, path, '', path === '/favicon.ico' ? '' : this.pageUrl, this.cookies);
      const revalidate = this.cachedCommon && rng.chance(0.5);
      l.status = revalidate ? 304 : 200;
      l.responseSize = revalidate ? 0 : path === RECOMMENDATIONS ? rng.int(900, 2400) : assetSize(rng, path);
      l.ms = rng.int(1, 40);
      this.next += rng.exp(0.035);
      if (this.ai >= this.assets.length) this.endPage();
      return true;
    }
    if (this.loginStep >= 2 && this.loginStep <= 3) return this.login(l);
    this.pageView(l);
    return true;
  }

  private pageView(l: Line): void {
    const rng = this.rng;
    const p = this.page;
    if (this.first && this.opts.landing) {
      const land = this.opts.landing;
      p.path = land.path;
      p.query = land.query;
      p.images = land.images;
      p.size = rng.int(land.size - 2000, land.size + 2000);
    } else if (this.loginStep === 1 && !this.first) {
      p.path = '/login';
      p.query = '';
      p.images = [];
      p.size = rng.int(6000, 7000);
      this.loginStep = 2;
    } else randomPage(rng, p);
    const referer = this.first ? (rng.chance(0.55) ? rng.pick(EXTERNAL_REFERERS) : '') : this.pageUrl;
    fill(l, this.from, this.port, this.client, 'page', 'GET', WWW, p.path, p.query, referer, this.cookies);
    // A stale link now and then.
    if (!this.first && rng.chance(0.008)) {
      l.status = 404;
      l.responseSize = rng.int(4800, 5200);
    } else {
      l.status = 200;
      l.responseSize = p.size;
    }
    l.ms = rng.int(18, 260);
    this.pageUrl = `https://${WWW}${p.path}${p.query === '' ? '' : `?${p.query}`}`;
    const a: string[] = [];
    if (!this.cachedCommon) {
      for (const x of COMMON_ASSETS) a.push(x);
      a.push('/favicon.ico');
      this.cachedCommon = true;
    } else if (rng.chance(0.15)) a.push(rng.pick(COMMON_ASSETS));
    for (const x of p.images) a.push(x);
    if (p.path.startsWith('/products/') && rng.chance(0.3)) a.push(RECOMMENDATIONS);
    this.assets = a;
    this.ai = 0;
    this.first = false;
    // The site sets its cookies on the first response.
    this.cookies = this.cookieValue;
    this.next += 0.02 + rng.exp(0.12);
    if (a.length === 0) this.endPage();
  }

  private login(l: Line): boolean {
    const rng = this.rng;
    if (this.loginStep === 2) {
      fill(l, this.from, this.port, this.client, 'post', 'POST', WWW, '/login', '', `https://${WWW}/login`, this.cookies);
      l.bodySize = rng.int(48, 86);
      // People mistype: a failed attempt returns the form with 401, then they retry.
      const ok = rng.chance(0.85);
      l.status = ok ? 302 : 401;
      l.responseSize = ok ? 0 : rng.int(6000, 7000);
      l.ms = rng.int(80, 300);
      if (ok) this.loginStep = 3;
      this.next += ok ? 0.05 + rng.exp(0.05) : 4 + rng.exp(6);
      return true;
    }
    fill(l, this.from, this.port, this.client, 'page', 'GET', WWW, '/account', '', `https://${WWW}/login`, this.cookies);
    l.status = 200;
    l.responseSize = rng.int(11000, 15000);
    l.ms = rng.int(40, 200);
    this.loginStep = 4;
    this.next += 5 + rng.exp(20);
    return true;
  }

  private endPage(): void {
    // The next page comes after the visitor has read this one; a sign-in goes on sooner.
    if (this.loginStep === 2 || this.loginStep === 3) {
      this.next += 3 + this.rng.exp(8);
      return;
    }
    this.pagesLeft--;
    this.next = this.pagesLeft > 0 ? this.next + 2 + this.rng.exp(25) : Number.POSITIVE_INFINITY;
  }
}

/** A session of the shop's app or a partner on the API host. */
class ApiSession implements Actor {
  next: number;
  readonly label = 0;
  readonly tag = 0;
  private left: number;
  private readonly port: number;

  constructor(
    private readonly rng: Rng,
    private readonly from: Endpoint,
    private readonly client: Client,
    t: number,
  ) {
    this.next = t;
    this.left = rng.int(3, 16);
    this.port = rng.int(1024, 65535);
  }

  step(l: Line): boolean {
    const rng = this.rng;
    const x = rng.float();
    fill(l, this.from, this.port, this.client, 'xhr', 'GET', API, '/v1/products', '', '', '');
    l.status = 200;
    if (x < 0.35) {
      l.query = `page=${rng.int(1, 12)}&limit=20`;
      l.responseSize = rng.int(6000, 14000);
    } else if (x < 0.65) {
      l.path = `/v1/products/${rng.pick(PRODUCTS)}`;
      l.responseSize = rng.int(1500, 3500);
    } else if (x < 0.8) {
      l.path = '/v1/cart';
      l.responseSize = rng.int(300, 2000);
    } else if (x < 0.95) {
      l.method = 'POST';
      l.headerSlot = headerSlot('post', false, false);
      l.path = '/v1/events';
      l.bodySize = rng.int(200, 1400);
      l.status = 202;
      l.responseSize = 0;
    } else {
      l.path = '/v1/config';
      l.responseSize = 812;
      if (rng.chance(0.2)) l.status = 304;
    }
    l.ms = rng.int(8, 120);
    this.left--;
    this.next = this.left > 0 ? this.next + rng.exp(4) : Number.POSITIVE_INFINITY;
    return true;
  }
}

/** Something that asks at a steady rate until the end of the log: crawlers, monitors, partners. */
class Steady implements Actor {
  next: number;
  readonly label = 0;
  readonly tag = 0;
  private n = 0;

  constructor(
    private readonly rng: Rng,
    private readonly from: Endpoint,
    private readonly client: Client,
    /** Mean seconds between requests; periodic (with jitter) when `periodic`. */
    private readonly gap: number,
    private readonly periodic: boolean,
    private readonly what: (l: Line, rng: Rng, n: number) => void,
  ) {
    this.next = rng.float() * gap;
  }

  step(l: Line): boolean {
    fill(l, this.from, this.rng.int(1024, 65535), this.client, 'page', 'GET', WWW, '/', '', '', '');
    this.what(l, this.rng, this.n++);
    this.next += this.periodic ? this.gap + (this.rng.float() - 0.5) * 0.6 : this.rng.exp(this.gap);
    return true;
  }
}

function crawl(l: Line, rng: Rng, n: number): void {
  l.status = 200;
  l.ms = rng.int(15, 220);
  if (n % 200 === 0) {
    l.path = '/robots.txt';
    l.responseSize = 312;
    return;
  }
  const x = rng.float();
  if (x < 0.02) {
    l.path = '/sitemap.xml';
    l.responseSize = 48211;
  } else if (x < 0.2) {
    l.host = BLOG;
    l.path = blogPost(rng);
    l.responseSize = rng.int(22000, 41000);
  } else if (x < 0.23) {
    // Old product URLs from an index that has not caught up.
    l.path = `/products/discontinued-${rng.int(1, 400)}`;
    l.status = rng.chance(0.5) ? 404 : 301;
    l.responseSize = l.status === 404 ? 5012 : 162;
  } else {
    const p = rng.pick(PRODUCTS);
    l.path = rng.chance(0.7) ? `/products/${p}` : (productImages(p)[0] as string);
    l.responseSize = rng.int(20000, 36000);
  }
}

function monitor(l: Line, rng: Rng, n: number): void {
  l.status = 200;
  l.ms = rng.int(3, 40);
  if (n % 2 === 0) {
    l.method = 'HEAD';
    l.responseSize = 0;
  } else {
    l.host = API;
    l.path = '/healthz';
    l.responseSize = 15;
  }
}

function partner(l: Line, rng: Rng, n: number): void {
  l.host = API;
  l.status = 200;
  l.ms = rng.int(20, 300);
  if (n % 8 === 0) {
    l.path = '/v1/inventory';
    l.query = `since=${L7_EPOCH_SEC + n * 15}`;
    l.responseSize = rng.int(2000, 40000);
  } else {
    l.path = `/v1/products/${rng.pick(PRODUCTS)}`;
    l.responseSize = rng.int(1500, 3500);
  }
}

export interface LegitIps {
  crawlers: Set<string>;
  monitors: Set<string>;
  natEgresses: Set<string>;
}

/** Lines per second the baseline's browsers and apps add per unit of `rate`, for planning. */
export const VISIT_LINES = 26;

/**
 * Everyday traffic at about `rate` lines per second: visits and app sessions arriving as Poisson
 * processes, plus the crawlers, monitors and partners (a few lines per second on their own).
 */
export function baseline(rng: Rng, ctx: Ctx, rate: number, end: number, legit: LegitIps): Actor[] {
  const out: Actor[] = [];
  const book = ctx.book;
  const visitRng = rng.fork(1);
  const visits: Profile = { t0: 0, t1: end, peak: (0.85 * rate) / VISIT_LINES, up: 0, down: 0 };
  out.push(
    new Arrivals(rng.fork(2), visits, (t) => {
      const net = visitorNetwork(visitRng);
      return new Visit(visitRng.fork(3), endpoint(book.draw(net, 0.3)), t, { fresh: visitRng.chance(0.45) });
    }),
  );
  const appRng = rng.fork(4);
  const apps: Profile = { t0: 0, t1: end, peak: (0.15 * rate) / 9.5, up: 0, down: 0 };
  out.push(new Arrivals(rng.fork(5), apps, (t) => new ApiSession(appRng.fork(6), endpoint(book.draw(visitorNetwork(appRng), 0.4)), appRng.pick(agents.APPS), t)));
  const crawlers: Array<[Network, Client, number, number]> = [
    [GOOGLEBOT, agents.GOOGLEBOT, rng.int(3, 6), 2.5],
    [GOOGLEBOT, agents.GOOGLEBOT_MOBILE, rng.int(2, 4), 3],
    [BINGBOT, agents.BINGBOT, rng.int(2, 3), 6],
    [APPLEBOT, agents.APPLEBOT, 1, 20],
    [YANDEXBOT, agents.YANDEXBOT, 1, 15],
  ];
  const crawlRng = rng.fork(7);
  for (const [net, c, n, gap] of crawlers) {
    for (let i = 0; i < n; i++) {
      const e = endpoint(book.draw(net, 0.2));
      legit.crawlers.add(e.addr.ip);
      out.push(new Steady(crawlRng.fork(i), e, c, gap, false, crawl));
    }
  }
  const monRng = rng.fork(8);
  for (let i = 0; i < 5; i++) {
    const e = endpoint(book.draw(monRng.pick(MONITOR_NETS)));
    legit.monitors.add(e.addr.ip);
    out.push(new Steady(monRng.fork(i), e, i < 3 ? agents.UPTIMEROBOT : agents.PINGDOM, i < 3 ? 60 : 30, true, monitor));
  }
  const partRng = rng.fork(9);
  for (let i = 0; i < 3; i++) {
    const e = endpoint(book.draw(partRng.pick([MONITOR_NETS[1] as Network, BROADBAND[0] as Network]), 0));
    out.push(new Steady(partRng.fork(i), e, partRng.pick(agents.PARTNERS), 2, false, partner));
  }
  return out;
}

/** Lines per second of the crawlers, monitors and partners together (for planning). */
export const STEADY_RATE = 4.5 / 2.5 + 3 / 3 + 2.5 / 6 + 1 / 20 + 1 / 15 + 3 / 60 + 2 / 30 + 3 / 2;

export interface FlashSpec {
  profile: Profile;
  landing: Page;
  /** Number of carrier-NAT egress addresses the crowd's mobile users share. */
  egresses: number;
  /** Share of the crowd's visits that leave through those egresses. */
  natShare: number;
  tag: number;
}

/** A flash crowd: new visitors in a surge on one page, a share of them behind carrier NAT. */
export function flashCrowd(rng: Rng, ctx: Ctx, spec: FlashSpec, legit: LegitIps): Actor {
  const egress: Endpoint[] = [];
  for (let i = 0; i < spec.egresses; i++) {
    const e = endpoint(ctx.book.draw(rng.pick(MOBILE), 0.15));
    legit.natEgresses.add(e.addr.ip);
    egress.push(e);
  }
  const vrng = rng.fork(1);
  return new Arrivals(rng.fork(2), spec.profile, (t) => {
    const from = vrng.chance(spec.natShare) ? vrng.pick(egress) : endpoint(ctx.book.draw(visitorNetwork(vrng), 0.3));
    return new Visit(vrng.fork(3), from, t, { fresh: vrng.chance(0.85), landing: spec.landing, tag: spec.tag, pages: 1.2 });
  });
}

/** Lines a flash-crowd visit makes on average (landing page with all assets, a page or two more). */
export const FLASH_VISIT_LINES = 14;
