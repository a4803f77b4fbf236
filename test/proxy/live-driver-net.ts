/**
 * A labelled traffic driver over real HTTP/1.1 connections on loopback, for the live attack test
 * (live-attack.test.ts): every client has its own source address in 127.0.0.0/8 (Linux lets a
 * socket bind any 127.x.y.z; undici takes it as the Agent's `localAddress`), its own connection
 * pool, and every request it sends is labelled with its group and recorded with its outcome.
 *
 *   127.1.x.y  browser users: a page, then its assets with the page as Referer and the cookie the
 *              origin set; think time 1–5 s; some sign in (POST /login, one in ten mistyped: 401)
 *   127.9.x.y  newcomers: new browsers arriving all the time, on any page, half with no referer
 *   127.6.x.y  a flash crowd: many new browsers landing on one page, then browsing a little
 *   127.7.0.1  a carrier NAT egress: ~30 browser sessions interleaved behind one address
 *   127.2.x.y  an HTTP flood: hundreds of addresses each about 1 request/s, one old user agent,
 *              `/?q=<random>` cache-busting, no cookie, no assets
 *   127.3.0.x  busy credential stuffers: POST /login twice a second each, the origin says 401
 *   127.4.x.y  slow credential stuffers: 2–4 attempts per address
 *   127.5.0.1  a scanner: sensitive paths, the origin says 404
 *   127.8.0.x  slowloris: connections holding a request head open, a header line every 2 s
 *
 * Each request carries `x-driver-id`; the origin (startLabOrigin) records the ids it saw and the
 * `palisade-request-id` the edge sent, so an outcome says whether the origin saw the request.
 * Everything is bounded: each actor stops at its deadline, each request has a timeout, and
 * `close()` closes every agent and socket.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { Agent, request } from 'undici';
import { BROWSER_UAS, Rng } from './live-driver.js';

export type Group = 'user' | 'newcomer' | 'crowd' | 'nat' | 'flood' | 'stuff_busy' | 'stuff_slow' | 'scanner' | 'slowloris';
export const LEGIT: readonly Group[] = ['user', 'newcomer', 'crowd', 'nat'];

export interface Outcome {
  group: Group;
  ip: string;
  method: string;
  path: string;
  /** When it was sent (ms since the epoch). */
  t: number;
  /** 0: no HTTP answer (error or timeout). */
  status: number;
  mitigated: string | undefined;
  /** The origin saw it (its x-driver-id). */
  origin: boolean;
  /** palisade-request-id of the answer (the edge's own answers) or the one the origin saw. */
  requestId: string | undefined;
  error?: string;
}

// ---------------------------------------------------------------- the origin

export interface LabOrigin {
  url: string;
  port: number;
  /** x-driver-id values seen, and the palisade-request-id each came with. */
  seen: Map<string, string | undefined>;
  requests: number;
  close(): Promise<void>;
}

const PAGES = ['/', '/products', '/products/1', '/products/2', '/products/3', '/cart', '/about', '/blog', '/blog/post-1', '/help', '/launch', '/login', '/search'];
const ASSETS = ['/static/app.css', '/static/app.js', '/static/vendor.js', '/static/theme.css'];
const PASSWORD = 'correct horse';

/**
 * The site: pages (text/html, a session cookie when the request has none), assets under /static
 * (200), POST /login (303 for the right password, else 401), anything else 404.
 */
export async function startLabOrigin(): Promise<LabOrigin> {
  const seen = new Map<string, string | undefined>();
  const o = { requests: 0 };
  let sid = 0;
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    try {
      for await (const c of req) body += (c as Buffer).toString('latin1');
    } catch {
      return;
    }
    o.requests++;
    const id = req.headers['x-driver-id'];
    const rid = req.headers['palisade-request-id'];
    if (typeof id === 'string') seen.set(id, typeof rid === 'string' ? rid : undefined);
    if (typeof rid === 'string') res.setHeader('x-origin-request-id', rid);
    const path = (req.url ?? '/').split('?')[0] as string;
    if (req.method === 'POST' && path === '/login') {
      if (new URLSearchParams(body).get('password') === PASSWORD) res.writeHead(303, { location: '/account' }).end();
      else res.writeHead(401, { 'content-type': 'text/html' }).end('<p>wrong user name or password</p>');
      return;
    }
    if (path.startsWith('/static/') && ASSETS.includes(path)) {
      res.writeHead(200, { 'content-type': path.endsWith('.css') ? 'text/css' : 'text/javascript', 'cache-control': 'max-age=60' }).end('/* asset */'.repeat(50));
      return;
    }
    if (PAGES.includes(path) || path === '/account') {
      const h: Record<string, string> = { 'content-type': 'text/html; charset=utf-8' };
      if (!/(^|;\s*)sid=/.test(req.headers.cookie ?? '')) h['set-cookie'] = `sid=s${++sid}; Path=/; HttpOnly`;
      res.writeHead(200, h).end(`<html><head><link rel="stylesheet" href="/static/app.css"><script src="/static/app.js"></script></head><body>${path}</body></html>`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/html' }).end('<p>not found</p>');
  });
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    get requests() {
      return o.requests;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// ---------------------------------------------------------------- the driver

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

const OLD_UA = 'Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)';
const SCAN_PATHS = [
  '/.env',
  '/.git/config',
  '/.git/HEAD',
  '/wp-login.php',
  '/wp-admin/',
  '/phpmyadmin/',
  '/backup.sql',
  '/db.sql.gz',
  '/config.php.bak',
  '/.aws/credentials',
  '/server-status',
  '/admin/config.yml',
  '/.svn/entries',
  '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php',
  '/actuator/env',
];

export class Driver {
  readonly outcomes: Outcome[] = [];
  private readonly agents: Agent[] = [];
  private readonly sockets = new Set<Socket>();
  private seq = 0;
  private stopped = false;
  private readonly running: Array<Promise<void>> = [];
  readonly hostHeader: string;

  /** `base`: the edge (or nginx) URL; `origin`: to tell whether a request reached it. */
  constructor(
    readonly base: string,
    readonly origin: LabOrigin,
    readonly rng: Rng = new Rng(16),
    /** Prefix of the x-driver-id values (drivers sharing an origin use different ones). */
    readonly prefix = 'd',
  ) {
    this.hostHeader = 'shop.example';
  }

  agent(ip: string, connections: number): Agent {
    const a = new Agent({ localAddress: ip, connections, keepAliveTimeout: 3000, keepAliveMaxTimeout: 3000, headersTimeout: 15_000, bodyTimeout: 15_000, connectTimeout: 5000 });
    this.agents.push(a);
    return a;
  }

  /** One request, recorded. */
  async send(
    group: Group,
    ip: string,
    agent: Agent,
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; setCookie: string | undefined }> {
    const id = `${this.prefix}${++this.seq}`;
    const t = Date.now();
    const o: Outcome = { group, ip, method, path, t, status: 0, mitigated: undefined, origin: false, requestId: undefined };
    let setCookie: string | undefined;
    try {
      const r = await request(`${this.base}${path}`, {
        dispatcher: agent,
        method,
        headers: { host: this.hostHeader, ...headers, 'x-driver-id': id, ...(body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }) },
        ...(body !== undefined && { body }),
        signal: AbortSignal.timeout(20_000),
      });
      await r.body.text();
      o.status = r.statusCode;
      const m = r.headers['palisade-mitigated'];
      o.mitigated = typeof m === 'string' ? m : undefined;
      const rid = r.headers['palisade-request-id'] ?? r.headers['x-origin-request-id'];
      o.requestId = typeof rid === 'string' ? rid : undefined;
      const sc = r.headers['set-cookie'];
      setCookie = Array.isArray(sc) ? sc[0] : sc;
    } catch (e) {
      o.error = (e as Error).message;
    }
    o.origin = this.origin.seen.has(id);
    this.outcomes.push(o);
    return { status: o.status, setCookie };
  }

  private spawn(p: Promise<void>): void {
    this.running.push(p.catch(() => {}));
  }

  /**
   * A browser session until `until`: pages with their assets (Referer, the cookie the origin set),
   * think time 1–5 s. `first`: the landing page; `views`: page views at most; `agent`: shared by
   * the sessions behind one address when given (a NAT egress), else the session's own.
   */
  browser(group: Group, ip: string, until: number, opts: { first?: string; views?: number; agent?: Agent; login?: boolean } = {}): void {
    const rng = this.rng;
    const ua = rng.pick(BROWSER_UAS);
    const agent = opts.agent ?? this.agent(ip, 6);
    const run = async (): Promise<void> => {
      let cookie: string | undefined;
      let referer: string | undefined = rng.next() < 0.5 ? 'https://www.search.example/' : undefined;
      let views = 0;
      let page = opts.first ?? rng.pick(PAGES.filter((p) => p !== '/login' && p !== '/launch'));
      while (!this.stopped && Date.now() < until && views < (opts.views ?? Number.POSITIVE_INFINITY)) {
        views++;
        const target = page === '/search' ? `/search?q=${rng.pick(['shoes', 'bags', 'hats', 'gift ideas'])}` : page;
        const h: Record<string, string> = {
          'user-agent': ua,
          accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
          'accept-language': 'en-GB,en;q=0.9',
          'accept-encoding': 'gzip, deflate, br',
        };
        if (referer !== undefined) h.referer = referer;
        if (cookie !== undefined) h.cookie = cookie;
        const got = await this.send(group, ip, agent, 'GET', target, h);
        if (got.setCookie !== undefined) cookie = got.setCookie.split(';')[0];
        const here = `https://${this.hostHeader}${page}`;
        const assets = ASSETS.filter(() => rng.next() < 0.7);
        await Promise.all(
          assets.map((a) =>
            this.send(group, ip, agent, 'GET', a, {
              'user-agent': ua,
              accept: a.endsWith('.css') ? 'text/css,*/*;q=0.1' : '*/*',
              'accept-language': 'en-GB,en;q=0.9',
              'accept-encoding': 'gzip, deflate, br',
              referer: here,
              ...(cookie !== undefined && { cookie }),
            }),
          ),
        );
        if (page === '/login' && cookie !== undefined) {
          await sleep(1000 + rng.int(2000));
          const wrong = rng.next() < 0.1;
          const post = (pw: string) =>
            this.send(
              group,
              ip,
              agent,
              'POST',
              '/login',
              { 'user-agent': ua, accept: 'text/html,*/*;q=0.8', referer: here, cookie: cookie as string },
              `user=u${ip}&password=${encodeURIComponent(pw)}`,
            );
          if (wrong) await post('correct hrose');
          await post(PASSWORD);
        }
        referer = here;
        await sleep(1000 + rng.int(4000));
        page = opts.login === true && rng.next() < 0.15 ? '/login' : rng.pick(PAGES.filter((p) => p !== '/login' && p !== '/launch'));
      }
    };
    this.spawn(run());
  }

  /** A flood bot until `until`: GET /?q=<random> about once a second (0.6–1.4 s apart), one old UA, no cookie, no assets. */
  floodBot(ip: string, until: number): void {
    const agent = this.agent(ip, 1);
    const rng = this.rng;
    this.spawn(
      (async () => {
        await sleep(rng.int(1000));
        const pending: Array<Promise<unknown>> = [];
        while (!this.stopped && Date.now() < until) {
          const t = Date.now();
          pending.push(this.send('flood', ip, agent, 'GET', `/?q=${rng.int(1e9).toString(36)}`, { 'user-agent': OLD_UA, accept: '*/*' }));
          await sleep(t + 600 + rng.int(800) - Date.now());
        }
        await Promise.all(pending);
      })(),
    );
  }

  /** A credential stuffer: `attempts` POST /login `gapMs` apart (±40 %), no session. */
  stuffer(group: 'stuff_busy' | 'stuff_slow', ip: string, until: number, attempts: number, gapMs: number, startMs = 0): void {
    const agent = this.agent(ip, 1);
    const rng = this.rng;
    const ua = rng.pick(BROWSER_UAS);
    this.spawn(
      (async () => {
        await sleep(startMs);
        for (let i = 0; i < attempts && !this.stopped && Date.now() < until; i++) {
          await this.send(
            group,
            ip,
            agent,
            'POST',
            '/login',
            { 'user-agent': ua, accept: '*/*' },
            `user=${rng.pick(['admin', 'alice', 'bob', 'carol'])}${rng.int(1000)}&password=${rng.int(1e9).toString(36)}`,
          );
          await sleep(gapMs * (0.6 + 0.8 * rng.next()));
        }
      })(),
    );
  }

  /** A scanner: sensitive paths every `gapMs`. */
  scanner(ip: string, until: number, gapMs = 300): void {
    const agent = this.agent(ip, 1);
    const rng = this.rng;
    this.spawn(
      (async () => {
        let i = 0;
        while (!this.stopped && Date.now() < until) {
          const p = SCAN_PATHS[i++ % SCAN_PATHS.length] as string;
          await this.send('scanner', ip, agent, 'GET', i > SCAN_PATHS.length ? `${p}?${rng.int(1000)}` : p, { 'user-agent': 'Mozilla/5.0 zgrab/0.x', accept: '*/*' });
          await sleep(gapMs);
        }
      })(),
    );
  }

  /**
   * Slowloris: `conns` connections from `ip`, each sending a request head a line every `lineMs`
   * and never finishing it; when the server closes one it is opened again. Each connection
   * closed is an outcome (status: what the server answered, 408 normally).
   */
  slowloris(ip: string, until: number, conns: number, lineMs = 2000): void {
    const port = Number(new URL(this.base).port);
    const one = (): Promise<void> =>
      new Promise((resolve) => {
        const t = Date.now();
        const s = connect({ host: '127.0.0.1', port, localAddress: ip });
        this.sockets.add(s);
        let got = '';
        let timer: NodeJS.Timeout | null = null;
        let ours = false;
        const done = (): void => {
          if (timer !== null) clearInterval(timer);
          timer = null;
          if (!this.sockets.delete(s)) return;
          s.destroy();
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
          this.outcomes.push({
            group: 'slowloris',
            ip,
            method: 'GET',
            path: '/',
            t,
            status: m ? Number(m[1]) : 0,
            mitigated: undefined,
            origin: false,
            requestId: undefined,
            ...(m === null && { error: ours || this.stopped ? 'still held at the end' : 'closed without an answer' }),
          });
          resolve();
        };
        s.on('data', (d) => {
          got += d.toString('latin1');
        });
        s.on('close', done);
        s.on('error', () => {});
        s.on('connect', () => {
          s.write(`GET /?slow=${this.rng.int(1e6)} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nUser-Agent: ${OLD_UA}\r\n`);
          let n = 0;
          timer = setInterval(() => {
            if (this.stopped || Date.now() >= until) {
              ours = true;
              done();
              return;
            }
            s.write(`X-a${n++}: ${this.rng.int(1e6)}\r\n`);
          }, lineMs);
        });
      });
    for (let c = 0; c < conns; c++)
      this.spawn(
        (async () => {
          await sleep(this.rng.int(lineMs));
          while (!this.stopped && Date.now() < until) await one();
        })(),
      );
  }

  /** Wait for every actor (bounded by their deadlines), then close every agent and socket. */
  async close(graceMs = 25_000): Promise<void> {
    await Promise.race([Promise.all(this.running), sleep(graceMs)]);
    this.stopped = true;
    for (const s of [...this.sockets]) s.destroy();
    await Promise.all(this.agents.map((a) => a.destroy().catch(() => {})));
  }
}

// ---------------------------------------------------------------- tallies

export interface Tally {
  sent: number;
  /** Answered by the origin (it saw the request) without a palisade-mitigated header. */
  served: number;
  /** Answered by the proxy itself (a palisade-mitigated header, or 429/503 from nginx). */
  refused: number;
  /** Reached the origin. */
  origin: number;
  errors: number;
  statuses: Record<string, number>;
}

export function tally(os: readonly Outcome[], pred: (o: Outcome) => boolean = () => true): Tally {
  const t: Tally = { sent: 0, served: 0, refused: 0, origin: 0, errors: 0, statuses: {} };
  for (const o of os) {
    if (!pred(o)) continue;
    t.sent++;
    if (o.origin) t.origin++;
    if (o.origin && o.mitigated === undefined && o.status !== 0) t.served++;
    if (o.mitigated !== undefined || (o.origin === false && (o.status === 429 || o.status === 503))) t.refused++;
    if (o.status === 0) t.errors++;
    const k = o.mitigated !== undefined ? `${o.status}:${o.mitigated}` : o.status === 0 ? `error:${(o.error ?? '').slice(0, 40)}` : String(o.status);
    t.statuses[k] = (t.statuses[k] ?? 0) + 1;
  }
  return t;
}

export const pct = (n: number, d: number): string => (d === 0 ? '-' : `${((100 * n) / d).toFixed(2)} %`);
