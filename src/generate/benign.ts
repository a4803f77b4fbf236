/**
 * Benign background: a pool of concurrent sessions whose packets interleave the way a link's
 * traffic does. Each session is a protocol exchange in order — TCP handshake, request, response
 * segments with ACKs, FIN handshake (HTTPS with a TLS ClientHello carrying SNI, HTTP/1.1 GETs),
 * DNS lookups (protected hosts asking resolvers, resolvers asking the protected authoritative
 * server), NTP client polls, ICMP echo — from many clients with ordinary stacks: TTLs that are an
 * initial 64 or 128 minus a hop count, the windows and option layouts of Linux, Windows and
 * macOS, and varied request and response sizes.
 *
 * The flash-crowd variant is the same machinery restricted to HTTP(S) to one server from a large
 * population of new clients, every one of which completes its handshake and request.
 */

import { host4, host6, pool4, randomPublic6 } from './addresses.js';
import type { Component } from './component.js';
import { Arrivals } from './component.js';
import type { Addr, Emitter } from './emitter.js';
import { PayloadBlob } from './frames.js';
import { dnsQuery, dnsResponse, httpGet, httpResponseHead, ntpPacket, QTYPE, tlsClientHello } from './payloads.js';
import type { Rng } from './prng.js';

/** SYN option layouts (all multiples of 4 bytes). */
const OPTS_LINUX = Uint8Array.from([2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]);
const OPTS_WINDOWS = Uint8Array.from([2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2]);
const OPTS_MAC = Uint8Array.from([2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 0, 4, 2, 0, 0]);
const OPTS_V6 = Uint8Array.from([2, 4, 0x05, 0xa0, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]);
const OPTS_SYNACK = Uint8Array.from([2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7]);
/** Established-segment timestamps option (NOP NOP TS). */
const OPTS_TS = Uint8Array.from([1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7]);

interface Stack {
  ttl: number;
  win: number;
  opts: Uint8Array;
  ts: boolean;
}

const STACKS: Stack[] = [
  { ttl: 64, win: 64240, opts: OPTS_LINUX, ts: true },
  { ttl: 64, win: 65535, opts: OPTS_MAC, ts: true },
  { ttl: 128, win: 64240, opts: OPTS_WINDOWS, ts: false },
  { ttl: 128, win: 8192, opts: OPTS_WINDOWS, ts: false },
  { ttl: 64, win: 29200, opts: OPTS_LINUX, ts: true },
];

const SNIS = ['www.example.com', 'shop.example.com', 'api.example.com', 'static.example.com', 'login.example.com'];
const OUT_SNIS = ['www.wikipedia.org', 'github.com', 'fonts.gstatic.com', 'updates.example.org', 'cdn.jsdelivr.net', 'www.debian.org'];
const LOOKUPS = ['www.wikipedia.org', 'github.com', 'deb.debian.org', 'fonts.gstatic.com', 'mail.example.org', 'time.cloudflare.com', 'api.github.com', 'www.debian.org'];
export const ZONE = 'example.com';
const ZONE_HOSTS = ['www', 'mail', 'api', 'shop', 'ns1', 'cdn'];

interface Session {
  /** Write the next packet; true when the session has ended. */
  step(e: Emitter, t: number): boolean;
}

/** Shared pools of endpoints and payload blobs. */
export class Population {
  readonly clients4: Uint32Array;
  readonly clients6: Uint8Array[];
  readonly hops: Uint8Array;
  readonly resolvers = [0x08080808, 0x09090909, 0x01010101, 0x4a7d2a0a];
  readonly ntpServers: Uint32Array;
  readonly outServers: Uint32Array;
  readonly blobs: PayloadBlob[];
  /** Protected web servers (IPv4) and the IPv6 one. */
  readonly web4 = [host4(10), host4(11), host4(20)];
  readonly web6 = host6(0x10);
  readonly dns4 = host4(53);
  readonly inside4: number[] = [];
  readonly inResolvers: Uint32Array;
  private readonly hellos = new Map<string, Uint8Array[]>();
  private readonly gets = new Map<string, Uint8Array[]>();

  /** ClientHellos and GETs come from small per-name pools: building one per session is costly. */
  hello(r: Rng, sni: string): Uint8Array {
    let pool = this.hellos.get(sni);
    if (!pool) {
      pool = [];
      this.hellos.set(sni, pool);
    }
    if (pool.length < 24) {
      const h = tlsClientHello(r, sni);
      pool.push(h);
      return h;
    }
    return r.pick(pool);
  }

  get(r: Rng, host: string): Uint8Array {
    let pool = this.gets.get(host);
    if (!pool) {
      pool = [];
      this.gets.set(host, pool);
    }
    if (pool.length < 48) {
      const g = httpGet(r, host);
      pool.push(g);
      return g;
    }
    return r.pick(pool);
  }

  constructor(rng: Rng, clients = 4000) {
    this.clients4 = pool4(rng, clients);
    this.hops = new Uint8Array(clients);
    for (let i = 0; i < clients; i++) this.hops[i] = rng.int(3, 18);
    this.clients6 = [];
    for (let i = 0; i < 400; i++) this.clients6.push(randomPublic6(rng));
    this.ntpServers = pool4(rng, 4);
    this.outServers = pool4(rng, 60);
    this.inResolvers = pool4(rng, 40);
    for (let i = 100; i < 140; i++) this.inside4.push(host4(i));
    this.blobs = [];
    for (let k = 0; k < 4; k++) {
      const b = new Uint8Array(1460);
      for (let i = 0; i < b.length; i++) b[i] = rng.int(0, 255);
      this.blobs.push(new PayloadBlob(b));
    }
  }
}

interface TcpStep {
  fromClient: boolean;
  flags: number;
  pay: Uint8Array | null;
  blobLen: number;
}

/** One TCP connection, scripted at creation and replayed a packet at a time. */
class TcpSession implements Session {
  private readonly steps: TcpStep[] = [];
  private i = 0;
  private cSeq: number;
  private sSeq: number;
  private cId: number;
  private sId: number;

  constructor(
    private readonly rng: Rng,
    private readonly c: Addr,
    private readonly s: Addr,
    private readonly cport: number,
    private readonly sport: number,
    private readonly cttl: number,
    private readonly stack: Stack,
    private readonly blob: PayloadBlob,
    request: Uint8Array,
    responseHead: Uint8Array | null,
    responseBody: number,
    private readonly sttl = 64,
  ) {
    this.cSeq = rng.u32();
    this.sSeq = rng.u32();
    this.cId = rng.int(0, 65535);
    this.sId = rng.int(0, 65535);
    const st = this.steps;
    st.push({ fromClient: true, flags: 0x02, pay: null, blobLen: 0 });
    st.push({ fromClient: false, flags: 0x12, pay: null, blobLen: 0 });
    st.push({ fromClient: true, flags: 0x10, pay: null, blobLen: 0 });
    st.push({ fromClient: true, flags: 0x18, pay: request, blobLen: 0 });
    st.push({ fromClient: false, flags: 0x10, pay: null, blobLen: 0 });
    const mss = typeof c === 'number' ? 1448 : 1428;
    let left = responseBody;
    let first = true;
    let n = 0;
    while (left > 0 || first) {
      if (first && responseHead) {
        const room = Math.min(mss - responseHead.length, left);
        const pay = new Uint8Array(responseHead.length + Math.max(room, 0));
        pay.set(responseHead);
        pay.set(blob.bytes.subarray(0, Math.max(room, 0)), responseHead.length);
        st.push({ fromClient: false, flags: 0x18, pay, blobLen: 0 });
        left -= Math.max(room, 0);
      } else {
        const seg = Math.min(mss, left);
        if (seg <= 0) break;
        st.push({
          fromClient: false,
          flags: left <= mss ? 0x18 : 0x10,
          pay: null,
          blobLen: seg,
        });
        left -= seg;
      }
      first = false;
      if (++n % 2 === 0) st.push({ fromClient: true, flags: 0x10, pay: null, blobLen: 0 });
    }
    if (rng.chance(0.04)) {
      st.push({ fromClient: true, flags: 0x14, pay: null, blobLen: 0 });
    } else {
      st.push({ fromClient: true, flags: 0x11, pay: null, blobLen: 0 });
      st.push({ fromClient: false, flags: 0x11, pay: null, blobLen: 0 });
      st.push({ fromClient: true, flags: 0x10, pay: null, blobLen: 0 });
    }
  }

  step(e: Emitter, t: number): boolean {
    const s = this.steps[this.i++] as TcpStep;
    const p = e.p.reset();
    const syn = (s.flags & 0x02) !== 0;
    const stack = this.stack;
    if (s.fromClient) {
      p.src = this.c;
      p.dst = this.s;
      p.sport = this.cport;
      p.dport = this.sport;
      p.ttl = this.cttl;
      p.ipId = this.cId++;
      p.seq = this.cSeq;
      p.ack = s.flags === 0x02 ? 0 : this.sSeq;
      p.win = syn ? stack.win : Math.min(65535, stack.win + this.rng.int(0, 3) * 256);
      p.opts = syn ? (typeof this.c === 'number' ? stack.opts : OPTS_V6) : stack.ts ? OPTS_TS : null;
    } else {
      p.src = this.s;
      p.dst = this.c;
      p.sport = this.sport;
      p.dport = this.cport;
      p.ttl = this.sttl;
      p.ipId = this.sId++;
      p.seq = this.sSeq;
      p.ack = this.cSeq;
      p.win = syn ? 65160 : 501;
      p.opts = syn ? OPTS_SYNACK : stack.ts ? OPTS_TS : null;
    }
    p.df = true;
    p.flags = s.flags;
    p.flow = this.cport;
    let len = 0;
    if (s.pay) {
      p.pay = s.pay;
      p.payLen = len = s.pay.length;
    } else if (s.blobLen > 0) {
      p.blob = this.blob;
      p.payLen = len = s.blobLen;
    }
    const adv = len + (syn || (s.flags & 0x01) !== 0 ? 1 : 0);
    if (s.fromClient) this.cSeq = (this.cSeq + adv) >>> 0;
    else this.sSeq = (this.sSeq + adv) >>> 0;
    e.tcp(t);
    return this.i >= this.steps.length;
  }
}

/** A UDP or ICMP request/response pair (DNS, NTP, echo). */
class PairSession implements Session {
  private i = 0;

  constructor(
    private readonly kind: 'udp' | 'icmp',
    private readonly c: Addr,
    private readonly s: Addr,
    private readonly cport: number,
    private readonly sport: number,
    private readonly cttl: number,
    private readonly sttl: number,
    private readonly req: Uint8Array,
    private readonly resp: Uint8Array,
    private readonly id: number,
  ) {}

  step(e: Emitter, t: number): boolean {
    const p = e.p.reset();
    const fromClient = this.i === 0;
    p.src = fromClient ? this.c : this.s;
    p.dst = fromClient ? this.s : this.c;
    p.ttl = fromClient ? this.cttl : this.sttl;
    p.ipId = this.id + this.i;
    p.pay = fromClient ? this.req : this.resp;
    p.payLen = p.pay.length;
    if (this.kind === 'udp') {
      p.sport = fromClient ? this.cport : this.sport;
      p.dport = fromClient ? this.sport : this.cport;
      e.udp(t);
    } else {
      const v6 = typeof this.c !== 'number';
      p.icmpType = fromClient ? (v6 ? 128 : 8) : v6 ? 129 : 0;
      p.icmpRest = ((this.id & 0xffff) << 16) | (this.cport & 0xffff);
      e.icmp(t);
    }
    this.i++;
    return this.i >= 2;
  }
}

export type BenignKind = 'mix' | 'flash';

/**
 * The benign component: `pps` packets per second from a pool of `concurrency` sessions.
 * 'mix' is the everyday mix; 'flash' is HTTP(S) to one server from fresh clients.
 */
export class BenignTraffic implements Component {
  readonly label = 0;
  private readonly arr: Arrivals;
  private readonly pool: Session[] = [];
  private nextClient = 0;

  constructor(
    private readonly rng: Rng,
    private readonly pop: Population,
    pps: number,
    t0: number,
    t1: number,
    private readonly kind: BenignKind = 'mix',
    concurrency = 64,
    rampS = 0,
    private readonly flashTarget: number = host4(10),
  ) {
    this.arr = new Arrivals(rng, pps, t0, t1, rampS);
    for (let i = 0; i < concurrency; i++) this.pool.push(this.newSession());
  }

  get next(): number {
    return this.arr.next;
  }

  emit(e: Emitter): void {
    const slot = Math.floor(this.rng.float() * this.pool.length);
    const s = this.pool[slot] as Session;
    if (s.step(e, this.arr.next)) this.pool[slot] = this.newSession();
    this.arr.advance();
  }

  private clientV4(): { a: number; ttl: number; stack: Stack } {
    const pop = this.pop;
    let i: number;
    if (this.kind === 'flash') {
      // Fresh clients in turn: a crowd is many people, each arriving once or twice.
      i = this.nextClient++ % pop.clients4.length;
    } else i = Math.floor(this.rng.float() * pop.clients4.length);
    const stack = STACKS[i % STACKS.length] as Stack;
    return {
      a: pop.clients4[i] as number,
      ttl: stack.ttl - (pop.hops[i] as number),
      stack,
    };
  }

  private newSession(): Session {
    const r = this.rng;
    const pop = this.pop;
    const blob = r.pick(pop.blobs);
    if (this.kind === 'flash') {
      const { a, ttl, stack } = this.clientV4();
      const https = r.chance(0.7);
      const req = https ? pop.hello(r, 'www.example.com') : pop.get(r, 'www.example.com');
      const body = r.int(300, 6000);
      return new TcpSession(r, a, this.flashTarget, r.int(32768, 60999), https ? 443 : 80, ttl, stack, blob, req, https ? null : httpResponseHead(body), body);
    }
    const x = r.float();
    if (x < 0.4) {
      // HTTPS to a protected server.
      const { a, ttl, stack } = this.clientV4();
      const body = r.chance(0.2) ? r.int(4000, 16000) : r.int(200, 4000);
      return new TcpSession(r, a, r.pick(pop.web4), r.int(32768, 60999), 443, ttl, stack, blob, pop.hello(r, r.pick(SNIS)), null, body);
    }
    if (x < 0.52) {
      const { a, ttl, stack } = this.clientV4();
      const body = r.int(100, 8000);
      return new TcpSession(r, a, r.pick(pop.web4), r.int(1024, 65000), 80, ttl, stack, blob, pop.get(r, r.pick(SNIS)), httpResponseHead(body), body);
    }
    if (x < 0.6) {
      // Protected hosts browsing out (their TTL is seen before any hop).
      const c = r.pick(pop.inside4);
      const stack = r.pick(STACKS);
      const s = pop.outServers[r.int(0, pop.outServers.length - 1)] as number;
      const sess = new TcpSession(r, c, s, r.int(32768, 60999), 443, stack.ttl, stack, blob, pop.hello(r, r.pick(OUT_SNIS)), null, r.int(500, 12000), r.int(44, 58));
      return sess;
    }
    if (x < 0.68) {
      // IPv6 HTTPS.
      const c = r.pick(pop.clients6);
      const stack = r.pick(STACKS);
      return new TcpSession(r, c, pop.web6, r.int(32768, 60999), 443, stack.ttl - r.int(4, 16), stack, blob, pop.hello(r, 'www.example.com'), null, r.int(300, 6000));
    }
    if (x < 0.8) {
      // A protected host resolving a name.
      const c = r.pick(pop.inside4);
      const name = r.pick(LOOKUPS);
      const id = r.int(0, 65535);
      const qt = r.chance(0.7) ? QTYPE.A : QTYPE.AAAA;
      const edns = r.chance(0.5);
      const resp = dnsResponse(r, id, name, qt, r.int(1, 4), qt, qt === QTYPE.A ? 4 : 16, edns);
      return new PairSession('udp', c, r.pick(pop.resolvers), r.int(1024, 65535), 53, 64, r.int(50, 60), dnsQuery(id, name, qt, edns), resp, id);
    }
    if (x < 0.88) {
      // Resolvers asking the protected authoritative server.
      const c = pop.inResolvers[r.int(0, pop.inResolvers.length - 1)] as number;
      const name = `${r.pick(ZONE_HOSTS)}.${ZONE}`;
      const id = r.int(0, 65535);
      const qt = r.pick([QTYPE.A, QTYPE.A, QTYPE.AAAA, QTYPE.MX]);
      const resp = dnsResponse(r, id, name, qt, r.int(1, 2), qt === QTYPE.MX ? QTYPE.A : qt, qt === QTYPE.AAAA ? 16 : 4, true);
      return new PairSession('udp', c, pop.dns4, r.int(1024, 65535), 53, r.int(44, 60), 64, dnsQuery(id, name, qt, true, false), resp, id);
    }
    if (x < 0.93) {
      const c = r.pick(pop.inside4);
      const s = pop.ntpServers[r.int(0, pop.ntpServers.length - 1)] as number;
      return new PairSession('udp', c, s, 123, 123, 64, r.int(50, 58), ntpPacket(r, 3), ntpPacket(r, 4), r.int(0, 65535));
    }
    // Ping from outside to a protected host.
    const { a, ttl } = this.clientV4();
    const pay = new Uint8Array(r.pick([32, 48, 56, 56, 56]));
    for (let i = 0; i < pay.length; i++) pay[i] = (0x10 + i) & 255;
    return new PairSession('icmp', a, r.pick(pop.web4), r.int(1, 65535), 0, ttl, 64, pay, pay, r.int(0, 65535));
  }
}
