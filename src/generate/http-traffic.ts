/**
 * Cleartext HTTP/1.1 to one web server (port 80), with each client's timing, for the packet
 * scenarios `http_flood` and `slowloris` (an HTTPS flood is not visible in a capture without the
 * keys: its requests are ciphertext):
 *
 * - WebVisitors (benign): browsers visiting www.example.com — a page, then its stylesheet,
 *   scripts and images over two kept-alive connections, with the page as referer and the site's
 *   cookies from the second page on (a returning visitor's from the first); a few pages a visit
 *   with reading time between; the browser's own header order.
 * - HttpFlood: a few hundred bots with real stacks and complete handshakes, each at its own rate
 *   (requests/s), some keeping connections alive for a few requests, others opening one per
 *   request; the flood tool's traits: one to three old browser UAs with a script's short header
 *   list, no cookie, no referer, no assets, a cache-busting query on one path.
 * - Slowloris: a few hosts each opening hundreds of connections, sending a request line and two
 *   headers, then one `X-a:` line per pause and never the empty line; the server closes each at
 *   its header timeout (nginx's client_header_timeout, Apache's mod_reqtimeout), the tool's next
 *   line draws a RST and it reconnects.
 *
 * Every packet of a flood's or slowloris's connections (both directions) carries the attack's label.
 */
import type { Vector } from '../model/attack.js';
import { formatAddr4, host4 } from './addresses.js';
import type { AttackTarget, Victim } from './attacks.js';
import { ClientPool, type Population } from './benign.js';
import type { Component } from './component.js';
import type { Emitter } from './emitter.js';
import { BOT_UAS } from './l7/agents.js';
import { COMMON_ASSETS, type Page, randomPage } from './l7/site.js';
import { ascii } from './payloads.js';
import type { Rng } from './prng.js';
import { ConnHeap, TimedConn } from './timed-tcp.js';

export const WEB_HOST = 'www.example.com';
const S = 1e9;
const MS = 1e6;

/** The vectors this module generates as packets. */
export const HTTP_PACKET_VECTORS: ReadonlySet<Vector> = new Set<Vector>(['http_flood', 'slowloris']);

/** Browser header orders on cleartext HTTP/1.1 (no Sec-Fetch or client hints: those are for secure origins). */
interface Browser {
  ua: string;
  page: readonly string[];
  asset: readonly string[];
}

const BROWSERS: readonly Browser[] = [
  {
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
    page: ['Host', 'Connection', 'Upgrade-Insecure-Requests', 'User-Agent', 'Accept', 'Referer', 'Accept-Encoding', 'Accept-Language', 'Cookie'],
    asset: ['Host', 'Connection', 'User-Agent', 'Accept', 'Referer', 'Accept-Encoding', 'Accept-Language', 'Cookie'],
  },
  {
    ua: 'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36',
    page: ['Host', 'Connection', 'Upgrade-Insecure-Requests', 'User-Agent', 'Accept', 'Referer', 'Accept-Encoding', 'Accept-Language', 'Cookie'],
    asset: ['Host', 'Connection', 'User-Agent', 'Accept', 'Referer', 'Accept-Encoding', 'Accept-Language', 'Cookie'],
  },
  {
    ua: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0',
    page: ['Host', 'User-Agent', 'Accept', 'Accept-Language', 'Accept-Encoding', 'Connection', 'Referer', 'Cookie', 'Upgrade-Insecure-Requests', 'Priority'],
    asset: ['Host', 'User-Agent', 'Accept', 'Accept-Language', 'Accept-Encoding', 'Connection', 'Referer', 'Cookie', 'Priority'],
  },
  {
    ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1',
    page: ['Host', 'Upgrade-Insecure-Requests', 'Accept', 'User-Agent', 'Accept-Language', 'Accept-Encoding', 'Connection', 'Referer', 'Cookie'],
    asset: ['Host', 'Accept', 'User-Agent', 'Accept-Language', 'Accept-Encoding', 'Connection', 'Referer', 'Cookie'],
  },
  {
    ua: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Safari/605.1.15',
    page: ['Host', 'Upgrade-Insecure-Requests', 'Accept', 'User-Agent', 'Accept-Language', 'Accept-Encoding', 'Connection', 'Referer', 'Cookie'],
    asset: ['Host', 'Accept', 'User-Agent', 'Accept-Language', 'Accept-Encoding', 'Connection', 'Referer', 'Cookie'],
  },
];

function headerValue(name: string, o: { host: string; ua: string; asset: string | null; referer: string; cookie: string }): string | null {
  switch (name) {
    case 'Host':
      return o.host;
    case 'Connection':
      return 'keep-alive';
    case 'Upgrade-Insecure-Requests':
      return '1';
    case 'User-Agent':
      return o.ua;
    case 'Accept':
      if (o.asset === null) return 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
      return o.asset.endsWith('.css') ? 'text/css,*/*;q=0.1' : o.asset.endsWith('.js') ? '*/*' : 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
    case 'Referer':
      return o.referer === '' ? null : o.referer;
    case 'Accept-Encoding':
      return 'gzip, deflate';
    case 'Accept-Language':
      return 'en-US,en;q=0.9';
    case 'Cookie':
      return o.cookie === '' ? null : o.cookie;
    case 'Priority':
      return o.asset === null ? 'u=0, i' : 'u=2';
    default:
      return null;
  }
}

function browserRequest(b: Browser, target: string, asset: string | null, referer: string, cookie: string): Uint8Array {
  const o = { host: WEB_HOST, ua: b.ua, asset, referer, cookie };
  let s = `GET ${target} HTTP/1.1\r\n`;
  for (const name of asset === null ? b.page : b.asset) {
    const v = headerValue(name, o);
    if (v !== null) s += `${name}: ${v}\r\n`;
  }
  return ascii(`${s}\r\n`);
}

const RESPONSE_HEADS = new Map<string, Uint8Array>();

/** A response head (shared per status, type and length: sessions only read it). */
function responseHead(status: number, type: string, len: number): Uint8Array {
  const key = `${status} ${type} ${len}`;
  let h = RESPONSE_HEADS.get(key);
  if (h === undefined) {
    const reason = status === 200 ? 'OK' : status === 304 ? 'Not Modified' : status === 503 ? 'Service Temporarily Unavailable' : 'Bad Gateway';
    h = ascii(
      `HTTP/1.1 ${status} ${reason}\r\nServer: nginx\r\nDate: Mon, 02 Mar 2026 10:00:00 GMT\r\nContent-Type: ${type}\r\nContent-Length: ${len}\r\nConnection: keep-alive\r\n\r\n`,
    );
    if (RESPONSE_HEADS.size < 4096) RESPONSE_HEADS.set(key, h);
  }
  return h;
}

function assetType(p: string): string {
  return p.endsWith('.css') ? 'text/css' : p.endsWith('.js') ? 'application/javascript' : p.endsWith('.svg') ? 'image/svg+xml' : p.endsWith('.woff2') ? 'font/woff2' : 'image/webp';
}

/** Ephemeral ports handed out in turn from a random start, as Linux does: a host's concurrent connections never share one. */
function nextPort(ports: Int32Array, i: number): number {
  const p = ports[i] as number;
  ports[i] = p + 1;
  return 32768 + (p % 28232);
}

/** Round trip of a client (ns): tens of milliseconds. */
function rtt(r: Rng): number {
  return r.int(12, 140) * MS;
}

/** A request and its response on a connection from `at`; returns when the client has the response. */
function exchange(c: TimedConn, r: Rng, at: number, rttNs: number, req: Uint8Array, status: number, type: string, body: number): number {
  const t = c.send(at, true, req, 0, 0, 0, false);
  const served = t + rttNs / 2 + r.int(2, 60) * MS;
  return c.send(served, false, responseHead(status, type, body), body, 40_000, rttNs / 2, true) + rttNs / 2;
}

/** Components whose packets come from timed connections, plus actors that start new ones. */
abstract class TimedTraffic implements Component {
  protected readonly heap = new ConnHeap();
  /** The next actor start (Infinity when none). */
  protected nextStart = Number.POSITIVE_INFINITY;

  constructor(readonly label: number) {}

  get next(): number {
    return this.heap.topTime;
  }

  emit(e: Emitter): void {
    this.heap.stepTop(e);
    this.settle();
  }

  /** Start every actor due before the next packet, so `next` is the true next packet. */
  protected settle(): void {
    while (this.nextStart < Number.POSITIVE_INFINITY && (this.heap.size === 0 || this.nextStart <= this.heap.topTime)) this.start();
  }

  /** Start the actor due at nextStart and move nextStart on. */
  protected abstract start(): void;
}

/** Browsers visiting the site (benign). `pps` sets the visit rate. */
export class WebVisitors extends TimedTraffic {
  private readonly endNs: number;
  private readonly meanGap: number;
  private readonly page: Page = { path: '', query: '', images: [], size: 0 };

  constructor(
    private readonly rng: Rng,
    private readonly pop: Population,
    pps: number,
    t0: number,
    t1: number,
    private readonly server: number,
  ) {
    super(0);
    // About 60 packets a visit (pages, assets, handshakes and closes).
    this.meanGap = (60 * S) / Math.max(pps, 1e-6);
    this.endNs = t1 * S;
    this.nextStart = t0 * S + rng.exp(this.meanGap);
    this.settle();
  }

  protected start(): void {
    const r = this.rng;
    const at = this.nextStart;
    this.nextStart += r.exp(this.meanGap);
    if (this.nextStart >= this.endNs) this.nextStart = Number.POSITIVE_INFINITY;
    const pool = this.pop.clients;
    const i = Math.floor(r.float() * pool.size);
    const b = BROWSERS[i % BROWSERS.length] as Browser;
    const rttNs = rtt(r);
    const conns = [0, 1].map(() => new TimedConn(r, pool.addr[i] as number, this.server, r.int(32768, 60999), 80, pool.ttl(i), pool.stack(i), r.pick(this.pop.blobs)));
    const ready = conns.map((c, k) => c.handshake(at + k * 2 * MS, rttNs));
    const returning = r.chance(0.6);
    const sid = `sid=${r.u32().toString(16)}${r.u32().toString(16)}`;
    let cookie = returning ? `${sid}; _ga=GA1.2.${r.int(1e8, 1e9 - 1)}.${r.int(1.7e9, 1.77e9)}` : '';
    let referer = r.chance(0.5) ? 'https://www.google.com/' : '';
    let t = ready[1] as number;
    let answered = t;
    for (let pages = r.int(1, 4); pages > 0; pages--) {
      const pg = randomPage(r, this.page);
      const target = pg.query === '' ? pg.path : `${pg.path}?${pg.query}`;
      const size = Math.round(pg.size / 3);
      t = exchange(conns[0] as TimedConn, r, t, rttNs, browserRequest(b, target, null, referer, cookie), 200, 'text/html; charset=utf-8', size);
      const url = `http://${WEB_HOST}${target}`;
      // The page's assets alternate over the two connections (cached after the first page, mostly).
      const assets = pages === 1 || r.chance(0.3) ? [...COMMON_ASSETS.slice(0, 4), ...pg.images] : [...pg.images];
      const done = [t, t];
      for (let k = 0; k < assets.length; k++) {
        const a = assets[k] as string;
        const c = k % 2;
        const cached = r.chance(0.25);
        done[c] = exchange(
          conns[c] as TimedConn,
          r,
          done[c] as number,
          rttNs,
          browserRequest(b, a, a, url, cookie),
          cached ? 304 : 200,
          assetType(a),
          cached ? 0 : r.int(800, 9000),
        );
      }
      answered = Math.max(done[0] as number, done[1] as number);
      t = answered + r.int(4, 25) * S;
      referer = url;
      if (cookie === '') cookie = sid;
    }
    // The browser lets its connections go a few seconds after the last answer.
    for (const c of conns) {
      c.close(answered + r.int(2, 15) * S, true, rttNs);
      this.heap.push(c);
    }
  }
}

/** What the generator needs of an HTTP attack for its ground truth. */
export interface HttpAttackInfo {
  vector: Vector;
  victim: Victim;
  sources: 'botnet' | 'few';
  sourceCount: number;
}

/** Bots, each with its own rate and habit (keep-alive or not), one connection at a time. */
export class HttpFlood extends TimedTraffic {
  readonly info: HttpAttackInfo;
  private readonly bots: ClientPool;
  private readonly rate: Float64Array;
  private readonly keep: Uint8Array;
  private readonly ua: Uint8Array;
  private readonly uas: string[];
  private readonly order: readonly string[];
  private readonly path: string;
  private readonly query: number;
  private readonly endNs: number;
  private nextBot = 0;
  private readonly starts: Float64Array;

  constructor(
    private readonly rng: Rng,
    label: number,
    private readonly pop: Population,
    private readonly server: number,
    pps: number,
    t0: number,
    t1: number,
  ) {
    super(label);
    const n = rng.int(200, 400);
    this.bots = new ClientPool(rng.fork(5), n, pop.clients.set());
    this.endNs = t1 * S;
    // About ten packets a request (handshake and close shared by a connection's requests).
    const perBot = pps / 10 / n;
    this.rate = new Float64Array(n);
    this.keep = new Uint8Array(n);
    this.ua = new Uint8Array(n);
    this.starts = new Float64Array(n);
    this.ports = Int32Array.from({ length: n }, () => rng.int(0, 28231));
    this.uas = [];
    for (let k = rng.int(1, 3); k > 0; k--) this.uas.push(rng.pick(BOT_UAS));
    this.order = rng.pick([
      ['Host', 'User-Agent', 'Accept', 'Accept-Encoding', 'Connection'],
      ['Host', 'Connection', 'User-Agent', 'Accept', 'Accept-Language', 'Accept-Encoding'],
      ['User-Agent', 'Host', 'Accept', 'Cache-Control', 'Pragma', 'Connection'],
    ]);
    this.path = rng.pick(['/', '/', '/search', '/products', '/category/sale']);
    this.query = rng.int(0, 2);
    for (let i = 0; i < n; i++) {
      this.rate[i] = perBot * (0.4 + 1.2 * rng.float());
      this.keep[i] = rng.chance(0.5) ? rng.int(2, 6) : 1;
      this.ua[i] = rng.int(0, this.uas.length - 1);
      // Bots join over the first ten seconds (or the first tenth of a short attack).
      this.starts[i] = t0 * S + rng.float() * Math.min(10, (t1 - t0) / 10) * S;
    }
    const order = Array.from(this.starts.keys()).sort((a, b) => (this.starts[a] as number) - (this.starts[b] as number));
    this.joinOrder = Int32Array.from(order);
    this.nextStart = this.starts[this.joinOrder[0] as number] as number;
    this.info = { vector: 'http_flood', victim: { ip: formatAddr4(server), port: 80, protocol: 'http' }, sources: 'botnet', sourceCount: n };
    this.settle();
  }

  private readonly joinOrder: Int32Array;
  private readonly ports: Int32Array;

  protected start(): void {
    const i = this.joinOrder[this.nextBot++] as number;
    this.nextStart = this.nextBot < this.joinOrder.length ? (this.starts[this.joinOrder[this.nextBot] as number] as number) : Number.POSITIVE_INFINITY;
    this.connect(i, this.starts[i] as number);
  }

  private request(i: number): Uint8Array {
    const r = this.rng;
    const q = this.query === 0 ? `${r.u32().toString(36)}=${r.u32().toString(36)}` : this.query === 1 ? `_=${1772445600000 + r.int(0, 1e8)}` : `nocache=${r.int(100000, 999999)}`;
    let s = `GET ${this.path}?${q} HTTP/1.1\r\n`;
    for (const name of this.order) {
      const v =
        name === 'Host'
          ? WEB_HOST
          : name === 'User-Agent'
            ? (this.uas[this.ua[i] as number] as string)
            : name === 'Accept'
              ? '*/*'
              : name === 'Accept-Encoding'
                ? 'gzip, deflate'
                : name === 'Accept-Language'
                  ? 'en-US,en;q=0.5'
                  : name === 'Connection'
                    ? 'keep-alive'
                    : 'no-cache';
      s += `${name}: ${v}\r\n`;
    }
    return ascii(`${s}\r\n`);
  }

  /** One connection of bot i from `at`: a few requests at the bot's rate, then the next connection. */
  private connect(i: number, at: number): void {
    const r = this.rng;
    const bots = this.bots;
    const rttNs = rtt(r);
    const c = new TimedConn(r, bots.addr[i] as number, this.server, nextPort(this.ports, i), 80, bots.ttl(i), bots.stack(i), r.pick(this.pop.blobs));
    let t = c.handshake(at, rttNs);
    const gap = S / (this.rate[i] as number);
    for (let k = this.keep[i] as number; k > 0; k--) {
      // The origin strains: mostly pages, some 503s and 502s.
      const x = r.float();
      const status = x < 0.05 ? 503 : x < 0.07 ? 502 : 200;
      t = exchange(c, r, t, rttNs, this.request(i), status, 'text/html; charset=utf-8', status === 200 ? r.int(1500, 6000) : r.int(150, 500));
      if (k > 1) {
        t += r.exp(gap);
        if (t >= this.endNs) break;
      }
    }
    c.close(t + r.int(1, 30) * MS, true, rttNs);
    const next = t + r.exp(gap);
    // The bot's next connection: never before this one's last packet (packets leave in time order).
    if (next < this.endNs) c.onDone = (done) => this.connect(i, Math.max(next, done + MS));
    this.heap.push(c);
  }
}

/** A few hosts holding hundreds of connections open with a header line per pause. */
export class Slowloris extends TimedTraffic {
  readonly info: HttpAttackInfo;
  private readonly hosts: ClientPool;
  private readonly conns: number;
  private readonly pauseNs: number;
  private readonly timeoutNs: number;
  private readonly endNs: number;
  private readonly uaOf: string[];
  private nextHost = 0;
  private readonly t0: number;
  private readonly ports: Int32Array;

  constructor(
    private readonly rng: Rng,
    label: number,
    private readonly pop: Population,
    private readonly server: number,
    t0: number,
    t1: number,
  ) {
    super(label);
    const n = rng.int(2, 4);
    this.hosts = new ClientPool(rng.fork(5), n, pop.clients.set());
    this.conns = rng.int(150, 300);
    // slowloris.py sleeps 15 s between rounds by default; variants use 10-20 s.
    this.pauseNs = rng.int(10, 15) * S;
    // nginx closes after client_header_timeout (60 s); Apache's mod_reqtimeout after 20-40 s.
    this.timeoutNs = rng.pick([60, 40, 20]) * S;
    this.endNs = t1 * S;
    this.t0 = t0 * S;
    this.uaOf = Array.from({ length: n }, () => rng.pick(BOT_UAS));
    this.ports = Int32Array.from({ length: n }, () => rng.int(0, 28231));
    this.nextStart = this.t0;
    this.info = { vector: 'slowloris', victim: { ip: formatAddr4(server), port: 80, protocol: 'http' }, sources: 'few', sourceCount: n };
    this.settle();
  }

  protected start(): void {
    const h = this.nextHost++;
    this.nextStart = this.nextHost < this.hosts.size ? this.t0 + this.nextHost * 0.3 * S : Number.POSITIVE_INFINITY;
    // The tool opens its sockets over a few seconds.
    for (let k = 0; k < this.conns; k++) this.open(h, this.t0 + h * 0.3 * S + this.rng.float() * 4 * S);
  }

  private open(h: number, at: number): void {
    const r = this.rng;
    const hosts = this.hosts;
    const rttNs = rtt(r);
    const c = new TimedConn(r, hosts.addr[h] as number, this.server, nextPort(this.ports, h), 80, hosts.ttl(h), hosts.stack(h), r.pick(this.pop.blobs));
    const opened = c.handshake(at, rttNs);
    let t = c.send(opened, true, ascii(`GET /?${r.int(0, 2000)} HTTP/1.1\r\nUser-Agent: ${this.uaOf[h]}\r\nAccept-language: en-US,en,q=0.5\r\n`), 0, 0, rttNs / 2, true);
    const closeAt = opened + this.timeoutNs;
    for (;;) {
      const line = t + this.pauseNs + r.int(0, 300) * MS;
      if (line >= this.endNs) {
        // The tool is stopped: its sockets close.
        c.close(Math.min(this.endNs, closeAt) + r.int(0, 500) * MS, this.endNs < closeAt, rttNs);
        break;
      }
      if (line >= closeAt) {
        // The server's header timeout: its FIN; the tool's next line draws a RST and it reconnects.
        c.serverFin(closeAt, rttNs);
        c.dataThenRst(line, ascii(`X-a: ${r.int(1, 5000)}\r\n`), rttNs);
        c.onDone = (done) => this.open(h, done + r.int(1, 50) * MS);
        break;
      }
      t = c.send(line, true, ascii(`X-a: ${r.int(1, 5000)}\r\n`), 0, 0, rttNs / 2, true);
    }
    this.heap.push(c);
  }
}

/** The flood or slowloris component of a scenario part, and its truth. */
export function makeHttpAttack(vector: Vector, rng: Rng, label: number, target: AttackTarget, pop: Population, pps: number, t0: number, t1: number): HttpFlood | Slowloris {
  const server = typeof target.victim === 'number' ? target.victim : host4(10);
  if (vector === 'http_flood') return new HttpFlood(rng, label, pop, server, pps, t0, t1);
  if (vector === 'slowloris') return new Slowloris(rng, label, pop, server, t0, t1);
  throw new RangeError(`no packet generator for ${vector}`);
}
