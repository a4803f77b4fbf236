/**
 * Attack traffic of the L7 scenarios, one actor per attacking address:
 *
 *  - http_flood: hundreds of bots, each below a few requests per second (per-IP limits never
 *    fire), sharing what gives them away together: one UA or a small set, a script's header list,
 *    no referer, no cookies, no asset fetches, a cache-busting query, addresses packed in a few
 *    prefixes of a few networks;
 *  - credential_stuffing: busy (tens of proxies, each posting the login form every second or
 *    few, mostly 401/403) or slow (hundreds of residential addresses, 2–4 attempts each);
 *  - scanner: fast (a few addresses sweeping sensitive paths, bursts of 404/403) or slow (many
 *    addresses, a handful of probes each, minutes apart);
 *  - slowloris: a few addresses holding hundreds of connections each, every one closed by the
 *    server's header timeout: 408, nothing sent, request time at the timeout.
 */
import type { Rng } from '../prng.js';
import type { Actor, Ctx } from './actor.js';
import * as agents from './agents.js';
import { type Client, headerSlot } from './agents.js';
import { visitorNetwork } from './benign.js';
import { type Endpoint, endpoint, L7_EPOCH_SEC, type Line } from './line.js';
import { BROADBAND, HOSTING, MOBILE, type Network } from './networks.js';
import { randomToken, SENSITIVE, sensitiveStatus } from './site.js';

export type L7Vector = 'http_flood' | 'credential_stuffing' | 'scanner' | 'slowloris';

function base(l: Line, from: Endpoint, c: Client, host: string, method: string, path: string, query: string, rng: Rng): void {
  l.from = from;
  l.port = rng.int(1024, 65535);
  l.client = c;
  l.headerSlot = headerSlot(method === 'POST' ? 'post' : 'page', false, false);
  l.method = method;
  l.host = host;
  l.path = path;
  l.query = query;
  l.referer = '';
  l.cookiesJson = '';
  l.bodySize = 0;
  l.plain = false;
}

// ---------------------------------------------------------------- http_flood

export type QueryShape = 'random_kv' | 'timestamp' | 'search' | 'version';

export interface FloodSpec {
  host: string;
  t0: number;
  t1: number;
  bots: number;
  /** Per-bot rates are drawn uniformly in [minRate, maxRate] requests/s. */
  minRate: number;
  maxRate: number;
  /** The UAs the botnet uses (1 to a few); each bot picks one, or rotates when `rotate`. */
  uas: readonly string[];
  rotate: boolean;
  headerOrder: number;
  path: string;
  query: QueryShape;
  /** Share of bots packed into a few /24s of hosting and CN broadband networks. */
  concentration: number;
}

class FloodBot implements Actor {
  next: number;
  readonly tag = 0;
  private readonly rate: number;
  private readonly clients: Client[];
  private readonly joined: number;

  constructor(
    private readonly rng: Rng,
    readonly label: number,
    private readonly from: Endpoint,
    private readonly s: FloodSpec,
    clients: Client[],
  ) {
    this.rate = s.minRate + rng.float() * (s.maxRate - s.minRate);
    this.clients = s.rotate ? clients : [rng.pick(clients)];
    // Bots join over the first half-minute (or the first tenth of a short attack).
    this.next = s.t0 + rng.float() * Math.min(30, (s.t1 - s.t0) / 10);
    this.joined = this.next;
  }

  step(l: Line): boolean {
    const rng = this.rng;
    const s = this.s;
    let q: string;
    switch (s.query) {
      case 'random_kv':
        q = `${randomToken(rng, rng.int(4, 8))}=${randomToken(rng, rng.int(6, 10))}`;
        break;
      case 'timestamp':
        q = `_=${Math.round((L7_EPOCH_SEC + this.next) * 1000) + rng.int(0, 999)}`;
        break;
      case 'search':
        q = `q=${randomToken(rng, rng.int(5, 9))}&nocache=${rng.int(100000, 999999)}`;
        break;
      default:
        q = `v=${rng.u32()}`;
    }
    base(l, this.from, this.clients.length === 1 ? (this.clients[0] as Client) : rng.pick(this.clients), s.host, 'GET', s.path, q, rng);
    // The origin strains under cache-busted load: slower answers and some 502/503/504.
    const fail = rng.float();
    // A 504 is logged a minute after the request: only once the bot has been at it that long.
    l.status = fail < 0.04 ? 503 : fail < 0.06 ? 502 : fail < 0.07 && this.next - this.joined > 61 ? 504 : 200;
    l.responseSize = l.status === 200 ? rng.int(24000, 52000) : l.status === 504 ? 160 : 494;
    l.ms = l.status === 504 ? 60000 + rng.int(0, 9) : rng.int(150, 2400);
    this.next += rng.exp(1 / this.rate);
    if (this.next >= s.t1) this.next = Number.POSITIVE_INFINITY;
    return true;
  }
}

export function flood(rng: Rng, ctx: Ctx, label: number, s: FloodSpec): Actor[] {
  const clients = s.uas.map((ua) => agents.botClient(ua, s.headerOrder));
  // The concentrated part: a few networks, a few /24s in each, several bots per /24.
  const nets: Network[] = [];
  const pool = [...HOSTING];
  for (let i = 0; i < rng.int(2, 4) && pool.length > 0; i++) nets.push(pool.splice(rng.int(0, pool.length - 1), 1)[0] as Network);
  const prefixes: Array<[Network, number]> = [];
  for (const n of nets) for (let i = rng.int(4, 10); i > 0; i--) prefixes.push([n, ctx.book.random24(n)]);
  const out: Actor[] = [];
  for (let i = 0; i < s.bots; i++) {
    let from: Endpoint;
    if (rng.chance(s.concentration)) {
      const [n, p] = rng.pick(prefixes);
      from = endpoint(ctx.book.drawIn24(n, p));
    } else from = endpoint(ctx.book.draw(rng.chance(0.8) ? rng.pick(BROADBAND) : rng.pick(MOBILE), 0.05));
    out.push(new FloodBot(rng.fork(i), label, from, s, clients));
  }
  return out;
}

// ------------------------------------------------------- credential_stuffing

export interface StuffingSpec {
  host: string;
  path: string;
  t0: number;
  t1: number;
  ips: number;
  /** Busy: attempts per second per IP. Slow: unused. */
  rate: number;
  slow: boolean;
  /** Busy tools fetch the form first now and then (for a CSRF token) and send its cookie. */
  formFirst: boolean;
  tool: number;
}

function attempt(l: Line, rng: Rng, from: Endpoint, c: Client, s: StuffingSpec, cookie: string): void {
  base(l, from, c, s.host, 'POST', s.path, '', rng);
  const withRef = s.tool === 1;
  if (withRef) l.referer = `https://${s.host}${s.path}`;
  l.cookiesJson = cookie;
  l.headerSlot = headerSlot('post', withRef, cookie !== '');
  l.bodySize = rng.int(44, 96);
  const x = rng.float();
  // Wrong passwords; the account-lockout or WAF answers some with 403; a rare hit.
  l.status = x < 0.82 ? 401 : x < 0.995 ? 403 : 302;
  l.responseSize = l.status === 302 ? 0 : l.status === 401 ? rng.int(180, 260) : 548;
  l.ms = rng.int(90, 420);
}

class Stuffer implements Actor {
  next: number;
  readonly tag = 0;
  private readonly cookie: string;
  private formDue: boolean;
  /** Slow: the times of its 2–4 attempts. */
  private readonly times: number[] = [];
  private ti = 0;

  constructor(
    private readonly rng: Rng,
    readonly label: number,
    private readonly from: Endpoint,
    private readonly client: Client,
    private readonly s: StuffingSpec,
  ) {
    this.cookie = s.formFirst ? `"cookies":{"csrftoken":"${randomToken(rng, 32)}"}` : '';
    this.formDue = s.formFirst;
    if (s.slow) {
      const k = rng.int(2, 4);
      for (let i = 0; i < k; i++) this.times.push(s.t0 + rng.float() * (s.t1 - s.t0));
      this.times.sort((a, b) => a - b);
      this.next = this.times[0] as number;
    } else this.next = s.t0 + rng.float() * Math.min(10, (s.t1 - s.t0) / 10);
  }

  step(l: Line): boolean {
    const rng = this.rng;
    const s = this.s;
    if (this.formDue) {
      base(l, this.from, this.client, s.host, 'GET', s.path, '', rng);
      l.status = 200;
      l.responseSize = rng.int(6000, 7000);
      l.ms = rng.int(20, 90);
      this.formDue = false;
      this.next += rng.exp(0.3);
      return true;
    }
    attempt(l, rng, this.from, this.client, s, this.cookie);
    if (s.slow) {
      this.ti++;
      this.next = this.ti < this.times.length ? (this.times[this.ti] as number) : Number.POSITIVE_INFINITY;
      return true;
    }
    if (s.formFirst && rng.chance(0.1)) this.formDue = true;
    this.next += rng.exp(1 / s.rate);
    if (this.next >= s.t1) this.next = Number.POSITIVE_INFINITY;
    return true;
  }
}

export function stuffing(rng: Rng, ctx: Ctx, label: number, s: StuffingSpec): Actor[] {
  const out: Actor[] = [];
  const tool = agents.STUFFING_TOOLS[s.tool % agents.STUFFING_TOOLS.length] as Client;
  for (let i = 0; i < s.ips; i++) {
    // Busy stuffing rents proxies in hosting; slow stuffing hides in residential and mobile space.
    const net = s.slow ? visitorNetwork(rng) : rng.chance(0.7) ? rng.pick(HOSTING) : rng.pick(BROADBAND);
    const from = endpoint(ctx.book.draw(net, s.slow ? 0.25 : 0.05));
    // Slow stuffers present real browser strings, one per address (UA rotation across the set).
    const c = s.slow ? agents.pickBrowser(rng.float()) : tool;
    out.push(new Stuffer(rng.fork(i), label, from, c, s));
  }
  return out;
}

// ------------------------------------------------------------------- scanner

export interface ScannerSpec {
  host: string;
  t0: number;
  t1: number;
  ips: number;
  /** Fast: requests/s per IP within a burst. Slow: mean seconds between probes. */
  rate: number;
  slow: boolean;
}

class Scanner implements Actor {
  next: number;
  readonly tag = 0;
  private i = 0;
  private readonly order: number[];
  private readonly client: Client;
  private prefix = '';

  constructor(
    private readonly rng: Rng,
    readonly label: number,
    private readonly from: Endpoint,
    private readonly s: ScannerSpec,
  ) {
    this.client = agents.scannerClient(rng.pick(agents.SCANNER_UAS));
    this.order = SENSITIVE.map((_, k) => k);
    for (let k = this.order.length - 1; k > 0; k--) {
      const j = rng.int(0, k);
      const t = this.order[k] as number;
      this.order[k] = this.order[j] as number;
      this.order[j] = t;
    }
    this.next = s.t0 + rng.float() * (s.slow ? s.rate : 2);
  }

  step(l: Line): boolean {
    const rng = this.rng;
    const s = this.s;
    const path = `${this.prefix}${SENSITIVE[this.order[this.i % this.order.length] as number]}`;
    this.i++;
    // Each sweep after the first tries the list again under another directory.
    if (this.i % this.order.length === 0) this.prefix = rng.pick(['/backup', '/old', '/wp', '/new', '/test', '/dev', '/app', '/public']);
    base(l, this.from, this.client, s.host, 'GET', path, '', rng);
    l.plain = rng.chance(0.3);
    l.status = this.prefix === '' ? sensitiveStatus(path) : 404;
    l.responseSize = l.status === 404 ? rng.int(4800, 5200) : l.status === 403 ? 548 : l.status === 200 ? rng.int(200, 48000) : 162;
    l.ms = rng.int(1, 30);
    if (s.slow) this.next += s.rate * (0.3 + rng.exp(0.7));
    else this.next += rng.chance(0.01) ? 2 + rng.exp(5) : rng.exp(1 / s.rate);
    if (this.next >= s.t1) this.next = Number.POSITIVE_INFINITY;
    return true;
  }
}

export function scanners(rng: Rng, ctx: Ctx, label: number, s: ScannerSpec): Actor[] {
  const out: Actor[] = [];
  for (let i = 0; i < s.ips; i++) {
    const net = s.slow && rng.chance(0.5) ? rng.pick(BROADBAND) : rng.pick(HOSTING);
    out.push(new Scanner(rng.fork(i), label, endpoint(ctx.book.draw(net, 0.1)), s));
  }
  return out;
}

// ----------------------------------------------------------------- slowloris

export interface SlowlorisSpec {
  host: string;
  t0: number;
  t1: number;
  ips: number;
  /** Connections each address keeps open. */
  conns: number;
  /** The server's client_header_timeout, seconds. */
  timeout: number;
}

class Slowloris implements Actor {
  next: number;
  readonly tag = 0;
  /** When each connection will be closed by the server. */
  private readonly closes: Float64Array;
  private readonly client: Client;

  constructor(
    private readonly rng: Rng,
    readonly label: number,
    private readonly from: Endpoint,
    private readonly s: SlowlorisSpec,
  ) {
    this.client = agents.slowlorisClient(rng.pick(agents.BOT_UAS));
    this.closes = new Float64Array(s.conns);
    // The tool opens its sockets over the first few seconds; each is closed `timeout` later.
    for (let i = 0; i < s.conns; i++) this.closes[i] = s.t0 + rng.float() * 5 + s.timeout;
    this.next = this.earliest();
  }

  private earliest(): number {
    let m = Number.POSITIVE_INFINITY;
    const c = this.closes;
    for (let i = 0; i < c.length; i++) if ((c[i] as number) < m) m = c[i] as number;
    return m;
  }

  step(l: Line): boolean {
    const rng = this.rng;
    const s = this.s;
    const c = this.closes;
    let k = 0;
    for (let i = 1; i < c.length; i++) if ((c[i] as number) < (c[k] as number)) k = i;
    base(l, this.from, this.client, s.host, 'GET', '/', String(rng.int(0, 2000)), rng);
    l.plain = true;
    l.status = 408;
    l.responseSize = 0;
    l.ms = s.timeout * 1000 + rng.int(0, 4);
    // The tool reconnects at once; it stops opening new sockets at t1.
    const again = (c[k] as number) + rng.float() * 0.5 + s.timeout;
    c[k] = again - s.timeout < s.t1 ? again : Number.POSITIVE_INFINITY;
    this.next = this.earliest();
    return true;
  }
}

export function slowloris(rng: Rng, ctx: Ctx, label: number, s: SlowlorisSpec): Actor[] {
  const out: Actor[] = [];
  for (let i = 0; i < s.ips; i++) out.push(new Slowloris(rng.fork(i), label, endpoint(ctx.book.draw(rng.pick(HOSTING), 0)), s));
  return out;
}
