/**
 * Benign background: concurrent sessions whose packets interleave the way a link's traffic does.
 * Each session is a protocol exchange in order, from hosts with ordinary stacks (TTLs that are an
 * initial 64 or 128 minus a hop count; the windows and option layouts of Linux, Windows and
 * macOS, see stacks.ts):
 *
 *  - web: HTTPS with a real TLS 1.3 exchange over TCP (ClientHello with SNI, the server's flight,
 *    the client's Finished and requests, responses), HTTP/1.1, long-lived HTTP/2 connections with
 *    dozens of request/response exchanges, protected hosts browsing out, IPv6;
 *  - bulk transfers: CDN nodes pulling large objects from a protected origin, a protected backup
 *    host uploading, protected hosts downloading updates (hundreds of full-size segments, ACKs);
 *  - QUIC (RFC 9000): real, decryptable client Initials with a fresh DCID per connection, the
 *    server's Initial and Handshake flights, then 1-RTT packets both ways;
 *  - DNS: protected hosts resolving names, resolvers asking the protected authoritative server,
 *    a busy protected resolver answering clients and asking authoritative servers;
 *  - NTP: protected hosts polling servers, a protected NTP server answering clients;
 *  - ICMP echo; game traffic with a protected game server; RTP calls; VPN tunnels (WireGuard,
 *    IPsec ESP, GRE carrying inner TCP and UDP);
 *  - research scanners SYN-probing the protected /24 at a few packets per second.
 *
 * Each kind of session has its own pool and its own share of the packets (MIX), so the mix is
 * the same whatever the capture's size and however long a kind's sessions are.
 *
 * The flash-crowd variants are the same machinery restricted to one service of one server, with
 * a population of new clients of their own, each arriving once.
 */

import { host4, host6, NET4, randomPublic4, randomPublic6 } from './addresses.js';
import { Arrivals, type Component, type Session } from './component.js';
import type { Addr, Emitter } from './emitter.js';
import { Flow, FlowSession, PairSession } from './flows.js';
import { PayloadBlob } from './frames.js';
import { dnsQuery, dnsResponse, httpGet, httpResponseHead, ntpPacket, QTYPE, tlsClientFinishedHead, tlsClientHello, tlsRecordHead, tlsServerFlightHead } from './payloads.js';
import { ephemeralPort, rtpPort } from './ports.js';
import type { Rng } from './prng.js';
import { type HelloTemplate, QuicSession, quicClientHello, quicServerHello } from './quic.js';
import { MAX_HOPS, MIN_HOPS, STACKS, type Stack } from './stacks.js';
import { TcpSession } from './tcp.js';
import { GreTunnel } from './tunnel.js';

export { STACKS } from './stacks.js';

const SNIS = ['www.example.com', 'shop.example.com', 'api.example.com', 'static.example.com', 'login.example.com'];
const OUT_SNIS = ['www.wikipedia.org', 'github.com', 'fonts.gstatic.com', 'updates.example.org', 'cdn.jsdelivr.net', 'www.debian.org'];
const LOOKUPS = ['www.wikipedia.org', 'github.com', 'deb.debian.org', 'fonts.gstatic.com', 'mail.example.org', 'time.cloudflare.com', 'api.github.com', 'www.debian.org'];
/** What the protected resolver's clients look up. */
const POPULAR = [
  'www.google.com',
  'www.youtube.com',
  'graph.facebook.com',
  'www.wikipedia.org',
  'github.com',
  'api.github.com',
  'outlook.office365.com',
  'www.netflix.com',
  'cdn.jsdelivr.net',
  'fonts.googleapis.com',
  'i.ytimg.com',
  'time.cloudflare.com',
  'www.bbc.co.uk',
  'www.amazon.com',
  'push.apple.com',
  'connectivity-check.ubuntu.com',
];
export const ZONE = 'example.com';
const ZONE_HOSTS = ['www', 'mail', 'api', 'shop', 'ns1', 'cdn'];
/** The names a TTL expiry sends every resolver back for at once. */
const ZONE_POPULAR = ['www', 'api', 'cdn'];

/** Distinct public IPv4 addresses, none of them in `exclude`. */
function distinct4(rng: Rng, n: number, exclude?: Set<number>): Uint32Array {
  const out = new Uint32Array(n);
  const seen = new Set<number>(exclude);
  let i = 0;
  while (i < n) {
    const a = randomPublic4(rng);
    if (seen.has(a)) continue;
    seen.add(a);
    out[i++] = a;
  }
  return out;
}

/** Remote hosts: an address, a stack and a distance each. */
export class ClientPool {
  readonly addr: Uint32Array;
  readonly hops: Uint8Array;

  constructor(rng: Rng, n: number, exclude?: Set<number>) {
    this.addr = distinct4(rng, n, exclude);
    this.hops = new Uint8Array(n);
    for (let i = 0; i < n; i++) this.hops[i] = rng.int(MIN_HOPS, MAX_HOPS);
  }

  get size(): number {
    return this.addr.length;
  }

  stack(i: number): Stack {
    return STACKS[i % STACKS.length] as Stack;
  }

  ttl(i: number): number {
    return this.stack(i).ttl - (this.hops[i] as number);
  }

  set(): Set<number> {
    return new Set(this.addr);
  }

  /** The addresses as dotted quads. */
  texts(): Set<string> {
    return new Set([...this.addr].map((a) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`));
  }
}

interface Flight {
  head: Uint8Array;
  len: number;
}

interface DnsPair {
  q: Uint8Array;
  a: Uint8Array;
}

/** Shared pools of endpoints and payloads. */
export class Population {
  readonly clients: ClientPool;
  readonly clients6: Uint8Array[];
  readonly resolvers = [0x08080808, 0x09090909, 0x01010101, 0x4a7d2a0a];
  readonly ntpServers: Uint32Array;
  readonly outServers: Uint32Array;
  readonly blobs: PayloadBlob[];
  /** Random bytes whose stretches stand for ciphertext and encoded media. */
  readonly noise: PayloadBlob;
  /** Protected web servers (IPv4) and the IPv6 one. */
  readonly web4 = [host4(10), host4(11), host4(20)];
  readonly web6 = host6(0x10);
  /** The protected authoritative DNS server, recursive resolver, NTP server and game server. */
  readonly dns4 = host4(53);
  readonly resolver4 = host4(54);
  readonly ntp4 = host4(123);
  readonly game4 = host4(25);
  /** Protected VPN endpoints: WireGuard, IPsec, the router terminating GRE tunnels. */
  readonly wg4 = host4(5);
  readonly esp4 = host4(6);
  readonly router4 = host4(1);
  /** A protected backup host (uploads offsite). */
  readonly backup4 = host4(40);
  readonly inside4: number[] = [];
  readonly inResolvers: Uint32Array;
  readonly authServers: Uint32Array;
  readonly cdnNodes: Uint32Array;
  readonly backupSites: Uint32Array;
  readonly mirrors: Uint32Array;
  readonly voipPeers: Uint32Array;
  readonly wgPeers: Uint32Array;
  readonly espPeers: Uint32Array;
  readonly tunnels: GreTunnel[];
  private readonly hellos = new Map<string, Uint8Array[]>();
  private readonly gets = new Map<string, Uint8Array[]>();
  private readonly quicHellos = new Map<string, HelloTemplate[]>();
  private readonly serverHellos: Uint8Array[] = [];
  private readonly serverFlights: Flight[] = [];
  private readonly clientFlights: Flight[] = [];
  private readonly dnsPairs = new Map<string, DnsPair[]>();
  /** Echo payloads of the usual ping sizes. */
  readonly echoes = [32, 48, 56, 56, 56].map((n) => Uint8Array.from({ length: n }, (_, i) => (0x10 + i) & 255));

  constructor(rng: Rng, clients = 4000) {
    this.clients = new ClientPool(rng, clients);
    this.clients6 = [];
    for (let i = 0; i < 400; i++) this.clients6.push(randomPublic6(rng));
    const taken = this.clients.set();
    const servers = (n: number): Uint32Array => {
      const a = distinct4(rng, n, taken);
      for (const x of a) taken.add(x);
      return a;
    };
    this.ntpServers = servers(4);
    this.outServers = servers(60);
    this.inResolvers = servers(40);
    this.authServers = servers(50);
    this.cdnNodes = servers(20);
    this.backupSites = servers(3);
    this.mirrors = servers(8);
    this.voipPeers = servers(12);
    this.wgPeers = servers(4);
    this.espPeers = servers(4);
    const sites = servers(2);
    this.tunnels = [...sites].map((s) => {
      const hops = rng.int(4, 12);
      return new GreTunnel({ src: s, dst: this.router4, ttl: 255 - hops, ipId: rng.int(0, 65535) }, { src: this.router4, dst: s, ttl: 255, ipId: rng.int(0, 65535) });
    });
    for (let i = 100; i < 140; i++) this.inside4.push(host4(i));
    this.blobs = [];
    for (let k = 0; k < 4; k++) {
      const b = new Uint8Array(2048);
      for (let i = 0; i < b.length; i++) b[i] = rng.int(0, 255);
      this.blobs.push(new PayloadBlob(b));
    }
    const n = new Uint8Array(8192);
    for (let i = 0; i < n.length; i++) n[i] = rng.int(0, 255);
    this.noise = new PayloadBlob(n);
  }

  /** ClientHellos and GETs come from small per-name pools: building one per session is costly. */
  hello(r: Rng, sni: string): Uint8Array {
    return fromPool(this.hellos, sni, 24, r, () => tlsClientHello(r, sni));
  }

  get(r: Rng, host: string): Uint8Array {
    return fromPool(this.gets, host, 48, r, () => httpGet(r, host));
  }

  /** A QUIC ClientHello template (its random, key share and SCID are rewritten per connection). */
  quicHello(r: Rng, sni: string): HelloTemplate {
    const scidLen = r.pick([0, 8, 8]);
    return fromPool(this.quicHellos, `${sni}/${scidLen}`, 8, r, () => quicClientHello(r, sni, scidLen));
  }

  serverHello(r: Rng): Uint8Array {
    return fromPool1(this.serverHellos, 16, r, () => quicServerHello(r));
  }

  /** A TLS server's first flight: ServerHello, CCS and the encrypted certificates (2.5-4.5 KB). */
  serverFlight(r: Rng): Flight {
    return fromPool1(this.serverFlights, 32, r, () => {
      const len = r.int(2500, 4500);
      return { head: tlsServerFlightHead(r, len), len };
    });
  }

  /**
   * A DNS query and its answer, from a pool per kind of lookup (building them is costly), copied
   * with a fresh transaction id.
   */
  dns(r: Rng, key: string, make: () => DnsPair): DnsPair & { id: number } {
    const d = fromPool(this.dnsPairs, key, 48, r, make);
    const id = r.int(0, 65535);
    const q = d.q.slice();
    const a = d.a.slice();
    q[0] = a[0] = id >>> 8;
    q[1] = a[1] = id & 255;
    return { q, a, id };
  }

  /** A TLS client's second flight with its first request (an HTTP request of 250-700 bytes). */
  clientFlight(r: Rng): Flight {
    return fromPool1(this.clientFlights, 32, r, () => {
      const len = r.int(250, 700);
      return { head: tlsClientFinishedHead(r, len), len };
    });
  }
}

function fromPool<T>(pools: Map<string, T[]>, key: string, size: number, r: Rng, make: () => T): T {
  let pool = pools.get(key);
  if (!pool) {
    pool = [];
    pools.set(key, pool);
  }
  return fromPool1(pool, size, r, make);
}

function fromPool1<T>(pool: T[], size: number, r: Rng, make: () => T): T {
  if (pool.length < size) {
    const x = make();
    pool.push(x);
    return x;
  }
  return r.pick(pool);
}

/** The benign mix: each kind's share of the packets. */
const MIX = [
  ['https', 0.31],
  ['h2', 0.1],
  ['http', 0.08],
  ['out', 0.06],
  ['https6', 0.07],
  ['bulk', 0.08],
  ['quic', 0.08],
  ['dns-stub', 0.018],
  ['dns-auth', 0.017],
  ['dns-resolver', 0.02],
  ['ntp-out', 0.007],
  ['ntp-server', 0.008],
  ['icmp', 0.015],
  ['game', 0.03],
  ['rtp', 0.03],
  ['wireguard', 0.025],
  ['esp', 0.02],
  ['gre', 0.03],
] as const;

export type MixKind = (typeof MIX)[number][0];
/** Flash crowds: 'flash' (HTTP(S) to one server, short responses), 'https' (large responses), 'game', 'dns'. */
export type FlashKind = 'flash' | 'https' | 'game' | 'dns';
export type BenignKind = 'mix' | FlashKind;

/** Packets per second one session of a flash crowd carries (its pool grows with the rate). */
const FLASH_SESSION_PPS: Record<Exclude<FlashKind, 'flash'>, number> = { https: 150, game: 20, dns: 40 };
/** Fresh clients of each flash crowd's own population. */
const FLASH_CLIENTS: Record<Exclude<FlashKind, 'flash'>, number> = { https: 24000, game: 12000, dns: 2500 };

export interface BenignOptions {
  kind?: BenignKind;
  /** Concurrent sessions (default: from the rate). */
  concurrency?: number;
  /** Seconds over which the rate ramps up (see Arrivals). */
  rampS?: number;
  /** The server a flash crowd goes to. */
  target?: number;
  /**
   * Flash kinds: clients from a population of their own, each new one arriving once (default),
   * or the everyday clients (a busy service rather than a crowd).
   */
  fresh?: boolean;
}

/**
 * The benign component: `pps` packets per second from pools of concurrent sessions. 'mix' is the
 * everyday mix; the flash kinds are crowds of new clients of one service of one server.
 */
export class BenignTraffic implements Component {
  readonly label = 0;
  private readonly arr: Arrivals;
  private readonly kind: BenignKind;
  private readonly target: number;
  /** Per mix kind (or the one flash kind): its sessions. */
  private readonly pools: Session[][] = [];
  /** 4096 slots mapping a random number to a pool index by the kinds' shares. */
  private readonly table = new Uint8Array(4096);
  private readonly kinds: MixKind[] = [];
  private nextClient = 0;
  private readonly endNs: number;
  /** Sessions a crowd started (its pool's size before it drains). */
  private slots = 0;
  private readonly crowd: ClientPool | null = null;
  private readonly fresh: boolean = true;

  constructor(
    private readonly rng: Rng,
    private readonly pop: Population,
    pps: number,
    t0: number,
    t1: number,
    o: BenignOptions = {},
  ) {
    this.kind = o.kind ?? 'mix';
    this.target = o.target ?? host4(10);
    // A crowd stops arriving at t1 but its sessions run to their end (see advance()).
    this.endNs = t1 * 1e9;
    this.arr = new Arrivals(rng, pps, t0, this.kind === 'mix' ? t1 : Number.POSITIVE_INFINITY, o.rampS ?? 0);
    if (this.kind === 'mix') {
      // More concurrent sessions as the rate grows, as a busier link carries more flows.
      const total = o.concurrency ?? Math.min(512, Math.max(64, Math.round(pps / 50)));
      let at = 0;
      for (let k = 0; k < MIX.length; k++) {
        const [name, share] = MIX[k] as (typeof MIX)[number];
        this.kinds.push(name);
        const end = k === MIX.length - 1 ? 4096 : Math.round((at / 4096 + share) * 4096);
        this.table.fill(k, at, end);
        at = end;
        const pool: Session[] = [];
        const slots = Math.max(1, Math.round(total * share));
        for (let i = 0; i < slots; i++) pool.push(this.mixSession(name));
        this.pools.push(pool);
      }
      return;
    }
    if (this.kind !== 'flash' && o.fresh !== false) this.crowd = new ClientPool(rng.fork(3), FLASH_CLIENTS[this.kind], pop.clients.set());
    this.fresh = o.fresh !== false;
    const n = o.concurrency ?? (this.kind === 'flash' ? 256 : Math.min(4096, Math.max(8, Math.round(pps / FLASH_SESSION_PPS[this.kind]))));
    const pool: Session[] = [];
    for (let i = 0; i < n; i++) pool.push(this.flashSession());
    this.pools.push(pool);
    this.slots = n;
  }

  get next(): number {
    return this.arr.next;
  }

  emit(e: Emitter): void {
    const r = this.rng;
    if (this.kind === 'mix') {
      const k = this.table[r.u32() >>> 20] as number;
      const pool = this.pools[k] as Session[];
      const slot = Math.floor(r.float() * pool.length);
      if ((pool[slot] as Session).step(e, this.arr.next)) pool[slot] = this.mixSession(this.kinds[k] as MixKind);
      this.arr.advance();
      return;
    }
    const pool = this.pools[0] as Session[];
    const slot = Math.floor(r.float() * pool.length);
    if ((pool[slot] as Session).step(e, this.arr.next)) {
      if (this.arr.next < this.endNs) pool[slot] = this.flashSession();
      else {
        pool[slot] = pool[pool.length - 1] as Session;
        pool.pop();
      }
    }
    this.advanceCrowd();
  }

  /**
   * After t1 a crowd's finished sessions are not replaced: the rest run to their end, each at the
   * pace it had (arrivals thinned by the share of sessions still open), then the crowd is done.
   */
  private advanceCrowd(): void {
    const pool = this.pools[0] as Session[];
    for (;;) {
      this.arr.advance();
      if (pool.length === 0) {
        this.arr.next = Number.POSITIVE_INFINITY;
        return;
      }
      if (this.arr.next < this.endNs || this.rng.float() * this.slots < pool.length) return;
    }
  }

  /** A client of the everyday population (or, in a crowd, the next fresh one). */
  private client(): { a: number; ttl: number; stack: Stack } {
    const pool = this.crowd ?? this.pop.clients;
    const i = this.kind === 'mix' || !this.fresh ? Math.floor(this.rng.float() * pool.size) : this.nextClient++ % pool.size;
    return { a: pool.addr[i] as number, ttl: pool.ttl(i), stack: pool.stack(i) };
  }

  /**
   * An HTTPS connection over TLS 1.3: ClientHello, the server's flight, the client's Finished
   * with the first request, the response, then `more` further request/response exchanges.
   */
  private https(c: Addr, s: Addr, cport: number, cttl: number, stack: Stack, sni: string, body: () => number, more: number, sttl = 64): TcpSession {
    const r = this.rng;
    const pop = this.pop;
    const t = new TcpSession(r, c, s, cport, 443, cttl, stack, r.pick(pop.blobs), sttl);
    t.handshake();
    t.send(true, pop.hello(r, sni), 0, true);
    const sf = pop.serverFlight(r);
    t.send(false, sf.head, sf.len);
    const cf = pop.clientFlight(r);
    t.send(true, cf.head, cf.len, true);
    let b = body();
    t.send(false, tlsRecordHead(b), b);
    for (let k = 0; k < more; k++) {
      const q = r.int(40, 500);
      t.send(true, tlsRecordHead(q), q, true);
      b = body();
      t.send(false, tlsRecordHead(b), b);
    }
    return t.close();
  }

  private http(c: Addr, s: Addr, cport: number, cttl: number, stack: Stack, host: string, body: number, sttl = 64): TcpSession {
    const r = this.rng;
    const t = new TcpSession(r, c, s, cport, 80, cttl, stack, r.pick(this.pop.blobs), sttl);
    return t.handshake().send(true, this.pop.get(r, host), 0, true).send(false, httpResponseHead(body), body).close();
  }

  private flashSession(): Session {
    const r = this.rng;
    const pop = this.pop;
    const target = this.target;
    const { a, ttl, stack } = this.client();
    switch (this.kind) {
      case 'https':
        // Page loads of large objects; a third of the clients ask a second time on the connection.
        return this.https(a, target, r.int(32768, 60999), ttl, stack, 'www.example.com', () => r.int(20000, 300000), r.chance(0.3) ? 1 : 0);
      case 'game':
        return new FlowSession(r, Flow.GAME, a, target, r.chance(0.5) ? 27005 : ephemeralPort(r), 27015, ttl, 64, pop.noise, r.int(20, 80));
      case 'dns': {
        const d = pop.dns(r, 'expired', () => {
          const name = `${r.pick(ZONE_POPULAR)}.${ZONE}`;
          const qt = r.chance(0.75) ? QTYPE.A : QTYPE.AAAA;
          return { q: dnsQuery(0, name, qt, true, false), a: dnsResponse(r, 0, name, qt, r.int(1, 2), qt, qt === QTYPE.AAAA ? 16 : 4, true) };
        });
        return new PairSession('udp', a, target, r.int(1024, 65535), 53, ttl, 64, d.q, d.a, d.id);
      }
      default: {
        const https = r.chance(0.7);
        const body = r.int(300, 6000);
        const blob = r.pick(pop.blobs);
        const t = new TcpSession(r, a, target, r.int(32768, 60999), https ? 443 : 80, ttl, stack, blob);
        t.handshake().send(true, https ? pop.hello(r, 'www.example.com') : pop.get(r, 'www.example.com'), 0, true);
        return t.send(false, https ? null : httpResponseHead(body), body).close();
      }
    }
  }

  private mixSession(kind: MixKind): Session {
    const r = this.rng;
    const pop = this.pop;
    switch (kind) {
      case 'https': {
        const { a, ttl, stack } = this.client();
        const body = (): number => (r.chance(0.2) ? r.int(4000, 16000) : r.int(200, 4000));
        return this.https(a, r.pick(pop.web4), r.int(32768, 60999), ttl, stack, r.pick(SNIS), body, r.chance(0.2) ? r.int(1, 3) : 0);
      }
      case 'h2': {
        // A browser's HTTP/2 connection kept open across a visit: dozens of requests.
        const { a, ttl, stack } = this.client();
        const body = (): number => (r.chance(0.7) ? r.int(300, 6000) : r.int(6000, 60000));
        return this.https(a, r.pick(pop.web4), r.int(32768, 60999), ttl, stack, r.pick(SNIS), body, r.int(10, 60));
      }
      case 'http': {
        const { a, ttl, stack } = this.client();
        return this.http(a, r.pick(pop.web4), r.int(1024, 65000), ttl, stack, r.pick(SNIS), r.int(100, 8000));
      }
      case 'out': {
        // Protected hosts browsing out (their TTL is seen before any hop).
        const stack = r.pick(STACKS);
        const s = pop.outServers[r.int(0, pop.outServers.length - 1)] as number;
        return this.https(r.pick(pop.inside4), s, r.int(32768, 60999), stack.ttl, stack, r.pick(OUT_SNIS), () => r.int(500, 12000), r.chance(0.3) ? r.int(1, 4) : 0, r.int(44, 58));
      }
      case 'https6': {
        const stack = r.pick(STACKS);
        return this.https(r.pick(pop.clients6), pop.web6, r.int(32768, 60999), stack.ttl - r.int(4, 16), stack, 'www.example.com', () => r.int(300, 6000), r.chance(0.2) ? 1 : 0);
      }
      case 'bulk':
        return this.bulk();
      case 'quic': {
        const v6 = r.chance(0.1);
        if (v6) {
          const stack = r.pick(STACKS);
          return new QuicSession(
            r,
            r.pick(pop.clients6),
            pop.web6,
            r.int(32768, 60999),
            stack.ttl - r.int(4, 16),
            64,
            pop.quicHello(r, 'www.example.com'),
            pop.serverHello(r),
            pop.noise,
          );
        }
        const { a, ttl } = this.client();
        return new QuicSession(r, a, r.pick(pop.web4), r.int(32768, 60999), ttl, 64, pop.quicHello(r, r.pick(SNIS)), pop.serverHello(r), pop.noise);
      }
      case 'dns-stub': {
        // A protected host resolving a name.
        const d = pop.dns(r, 'stub', () => {
          const name = r.pick(LOOKUPS);
          const qt = r.chance(0.7) ? QTYPE.A : QTYPE.AAAA;
          const edns = r.chance(0.5);
          return { q: dnsQuery(0, name, qt, edns), a: dnsResponse(r, 0, name, qt, r.int(1, 4), qt, qt === QTYPE.A ? 4 : 16, edns) };
        });
        return new PairSession('udp', r.pick(pop.inside4), r.pick(pop.resolvers), r.int(1024, 65535), 53, 64, r.int(50, 60), d.q, d.a, d.id);
      }
      case 'dns-auth': {
        // Resolvers asking the protected authoritative server.
        const c = pop.inResolvers[r.int(0, pop.inResolvers.length - 1)] as number;
        const d = pop.dns(r, 'auth', () => {
          const name = `${r.pick(ZONE_HOSTS)}.${ZONE}`;
          const qt = r.pick([QTYPE.A, QTYPE.A, QTYPE.AAAA, QTYPE.MX]);
          const a = dnsResponse(r, 0, name, qt, r.int(1, 2), qt === QTYPE.MX ? QTYPE.A : qt, qt === QTYPE.AAAA ? 16 : 4, true);
          return { q: dnsQuery(0, name, qt, true, false), a };
        });
        return new PairSession('udp', c, pop.dns4, r.int(1024, 65535), 53, r.int(44, 60), 64, d.q, d.a, d.id);
      }
      case 'dns-resolver': {
        const lookup = (recursive: boolean): DnsPair => {
          const name = r.pick(POPULAR);
          const qt = r.chance(0.65) ? QTYPE.A : QTYPE.AAAA;
          const edns = !recursive || r.chance(0.8);
          return { q: dnsQuery(0, name, qt, edns, recursive), a: dnsResponse(r, 0, name, qt, r.int(1, recursive ? 4 : 3), qt, qt === QTYPE.A ? 4 : 16, edns) };
        };
        if (r.chance(0.25)) {
          // The resolver's own iterative query to an authoritative server (no recursion asked).
          const auth = pop.authServers[r.int(0, pop.authServers.length - 1)] as number;
          const d = pop.dns(r, 'iterative', () => lookup(false));
          return new PairSession('udp', pop.resolver4, auth, r.int(1024, 65535), 53, 64, r.int(44, 60), d.q, d.a, d.id);
        }
        const { a, ttl } = this.client();
        const d = pop.dns(r, 'recursive', () => lookup(true));
        return new PairSession('udp', a, pop.resolver4, r.int(1024, 65535), 53, ttl, 64, d.q, d.a, d.id);
      }
      case 'ntp-out': {
        const s = pop.ntpServers[r.int(0, pop.ntpServers.length - 1)] as number;
        return new PairSession('udp', r.pick(pop.inside4), s, 123, 123, 64, r.int(50, 58), ntpPacket(r, 3), ntpPacket(r, 4), r.int(0, 65535));
      }
      case 'ntp-server': {
        // Clients polling the protected server: ntpd from port 123, chrony and timesyncd from an ephemeral one.
        const { a, ttl } = this.client();
        return new PairSession('udp', a, pop.ntp4, r.chance(0.4) ? 123 : r.int(32768, 60999), 123, ttl, 64, ntpPacket(r, 3), ntpPacket(r, 4), r.int(0, 65535));
      }
      case 'icmp': {
        // Ping from outside to a protected host.
        const { a, ttl } = this.client();
        const pay = r.pick(pop.echoes);
        return new PairSession('icmp', a, r.pick(pop.web4), r.int(1, 65535), 0, ttl, 64, pay, pay, r.int(0, 65535));
      }
      case 'game': {
        const { a, ttl } = this.client();
        return new FlowSession(r, Flow.GAME, a, pop.game4, r.chance(0.4) ? 27005 : ephemeralPort(r), 27015, ttl, 64, pop.noise, r.int(60, 400));
      }
      case 'rtp': {
        // A call between a protected phone system and a carrier's media gateway (even RTP ports).
        const peer = pop.voipPeers[r.int(0, pop.voipPeers.length - 1)] as number;
        return new FlowSession(r, Flow.RTP, r.pick(pop.inside4), peer, rtpPort(r), rtpPort(r), 64, r.int(48, 60), pop.noise, r.int(100, 600));
      }
      case 'wireguard': {
        if (r.chance(0.5)) {
          // A site-to-site peer: both ends on 51820.
          const peer = pop.wgPeers[r.int(0, pop.wgPeers.length - 1)] as number;
          return new FlowSession(r, Flow.WIREGUARD, peer, pop.wg4, 51820, 51820, 64 - r.int(MIN_HOPS, MAX_HOPS), 64, pop.noise, r.int(50, 400));
        }
        const { a, ttl } = this.client();
        return new FlowSession(r, Flow.WIREGUARD, a, pop.wg4, ephemeralPort(r), 51820, ttl, 64, pop.noise, r.int(50, 400));
      }
      case 'esp': {
        const peer = pop.espPeers[r.int(0, pop.espPeers.length - 1)] as number;
        return new FlowSession(r, Flow.ESP, peer, pop.esp4, 0, 0, 255 - r.int(MIN_HOPS, MAX_HOPS), 255, pop.noise, r.int(50, 400));
      }
      case 'gre':
        return this.greSession();
    }
  }

  /** CDN nodes pulling from a protected origin, a protected backup host uploading, updates downloaded. */
  private bulk(): Session {
    const r = this.rng;
    const pop = this.pop;
    const x = r.float();
    if (x < 0.45) {
      const i = r.int(0, pop.cdnNodes.length - 1);
      const stack = STACKS[0] as Stack;
      const big = (): number => r.int(300000, 900000);
      return this.https(pop.cdnNodes[i] as number, r.pick(pop.web4), r.int(32768, 60999), 64 - 4 - (i % 10), stack, r.pick(SNIS), big, r.chance(0.3) ? 1 : 0);
    }
    if (x < 0.75) {
      // Backup upload to object storage: the protected host sends, the far end ACKs.
      const stack = STACKS[0] as Stack;
      const s = pop.backupSites[r.int(0, pop.backupSites.length - 1)] as number;
      const t = new TcpSession(r, pop.backup4, s, r.int(32768, 60999), 443, 64, stack, r.pick(pop.blobs), r.int(46, 56));
      t.handshake();
      t.send(true, pop.hello(r, 'backup.example.net'), 0, true);
      const sf = pop.serverFlight(r);
      t.send(false, sf.head, sf.len);
      const cf = pop.clientFlight(r);
      t.send(true, cf.head, cf.len);
      t.send(true, tlsRecordHead(16401), r.int(300000, 900000));
      t.send(false, tlsRecordHead(320), 320);
      return t.close(0);
    }
    const stack = r.pick(STACKS);
    const s = pop.mirrors[r.int(0, pop.mirrors.length - 1)] as number;
    return this.http(r.pick(pop.inside4), s, r.int(32768, 60999), stack.ttl, stack, 'deb.debian.org', r.int(300000, 900000), r.int(46, 58));
  }

  /** Traffic between a remote site's LAN and the protected LAN, carried in a GRE tunnel. */
  private greSession(): Session {
    const r = this.rng;
    const pop = this.pop;
    const tun = r.pick(pop.tunnels);
    const site = tun === pop.tunnels[0] ? 0x0a010000 : 0x0a020000;
    const c = (site | r.int(10, 250)) >>> 0;
    if (r.chance(0.2)) {
      const id = r.int(0, 65535);
      const name = r.pick(['intranet.corp.example', 'fileserver.corp.example', 'mail.corp.example']);
      const resp = dnsResponse(r, id, name, QTYPE.A, 1, QTYPE.A, 4, false);
      return new PairSession('udp', c, 0x0a000035, r.int(1024, 65535), 53, 127, 63, dnsQuery(id, name, QTYPE.A), resp, id, tun);
    }
    const stack = r.pick(STACKS);
    const s = (0x0a000000 | r.int(10, 40)) >>> 0;
    const sport = r.chance(0.7) ? 443 : 80;
    const t = new TcpSession(r, c, s, r.int(32768, 60999), sport, stack.ttl - 1, stack, r.pick(pop.blobs), 63, tun);
    t.handshake();
    if (sport === 443) {
      t.send(true, pop.hello(r, 'intranet.corp.example'), 0, true);
      const sf = pop.serverFlight(r);
      t.send(false, sf.head, sf.len);
      const cf = pop.clientFlight(r);
      t.send(true, cf.head, cf.len, true);
      const b = r.int(500, 40000);
      t.send(false, tlsRecordHead(b), b);
    } else {
      const b = r.int(500, 40000);
      t.send(true, pop.get(r, 'intranet.corp.example'), 0, true).send(false, httpResponseHead(b), b);
    }
    return t.close();
  }
}

/**
 * Research scanners (Censys-, Shodan-like): two hosts SYN-probing ports 443 and 22 of every
 * address of the protected /24 in a shuffled order, together at `pps` packets per second. One
 * probes as ZMap does (TTL 255, IP id 54321, an MSS option), the other as masscan (window 1024,
 * no options). Open web servers answer port 443 with a SYN-ACK, which the scanner resets.
 */
export class ResearchScanners implements Component {
  readonly label = 0;
  private readonly arr: Arrivals;
  private readonly hosts: Array<{ addr: number; ttl: number; sport: number; first: number }>;
  private i = 0;
  /** A SYN-ACK and its RST owed to a probe of an open port. */
  private owed = 0;
  private owedDst = 0;
  private owedPort = 0;
  private owedSeq = 0;
  private owedHost = 0;

  constructor(
    private readonly rng: Rng,
    pps: number,
    t0: number,
    t1: number,
    private readonly open: number[],
  ) {
    this.arr = new Arrivals(rng, pps, t0, t1);
    this.hosts = [0, 1].map(() => ({ addr: randomPublic4(rng), ttl: 255 - rng.int(8, 16), sport: rng.int(40000, 60000), first: rng.int(0, 511) }));
  }

  get next(): number {
    return this.arr.next;
  }

  emit(e: Emitter): void {
    const r = this.rng;
    const p = e.p.reset();
    if (this.owed > 0) {
      const h = this.hosts[this.owedHost] as (typeof this.hosts)[number];
      if (this.owed === 2) {
        p.src = this.owedDst;
        p.dst = h.addr;
        p.sport = 443;
        p.dport = this.owedPort;
        p.ttl = 64;
        p.ipId = 0;
        p.df = true;
        p.seq = r.u32();
        p.ack = (this.owedSeq + 1) >>> 0;
        p.flags = 0x12;
        p.win = 65160;
        p.opts = MSS_ONLY;
      } else {
        p.src = h.addr;
        p.dst = this.owedDst;
        p.sport = this.owedPort;
        p.dport = 443;
        p.ttl = h.ttl;
        p.ipId = this.owedHost === 0 ? 54321 : r.int(0, 65535);
        p.seq = (this.owedSeq + 1) >>> 0;
        p.flags = 0x04;
      }
      this.owed--;
      e.tcp(this.arr.next);
      this.arr.advance();
      return;
    }
    const k = this.i & 1;
    const h = this.hosts[k] as (typeof this.hosts)[number];
    // 512 probes per sweep (256 addresses x 2 ports), visited in a stride order.
    const n = (h.first + (this.i >> 1) * 197) & 511;
    this.i++;
    const dst = (NET4 | (n >> 1)) >>> 0;
    const port = n & 1 ? 22 : 443;
    p.src = h.addr;
    p.dst = dst;
    p.sport = h.sport;
    p.dport = port;
    p.ttl = h.ttl;
    p.flags = 0x02;
    p.seq = r.u32();
    if (k === 0) {
      p.ipId = 54321;
      p.win = 65535;
      p.opts = MSS_ONLY;
    } else {
      p.ipId = r.int(0, 65535);
      p.win = 1024;
    }
    if (port === 443 && this.open.includes(dst)) {
      this.owed = 2;
      this.owedDst = dst;
      this.owedPort = h.sport;
      this.owedSeq = p.seq;
      this.owedHost = k;
    }
    e.tcp(this.arr.next);
    this.arr.advance();
  }
}

const MSS_ONLY = Uint8Array.from([2, 4, 0x05, 0xb4]);
