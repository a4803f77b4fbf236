/**
 * Attack traffic for every L3/L4 vector of DESIGN.md. Each vector is a packet recipe with the
 * traits real tools and real reflectors show (MANIFEST.md, "Lessons"): flood tools spoof random
 * sources (or use a few bots) and stamp artefacts — fixed TTL sets, fixed windows, no options,
 * fixed lengths; reflection comes from many real servers (ordinary TTLs and stacks) whose source
 * port is the service and whose payload is the service's reply. Traits are drawn per attack from
 * the rng, so scenarios vary in rate, spoofing, TTL, length and window.
 */
import type { Vector } from '../model/attack.js';
import { formatAddr4, host4, NET4_TEXT, pool4, randomPublic4, randomPublic6 } from './addresses.js';
import { ClientPool, type Population, ZONE } from './benign.js';
import { Arrivals, type Component, type Pulse } from './component.js';
import type { Addr, Emitter } from './emitter.js';
import { gameLen } from './flows.js';
import { PayloadBlob, put16, writeIp4, writeUdp } from './frames.js';
import { chargen, cldapSearchResEntry, dnsQuery, dnsResponse, memcachedValue, ntpMonlistReply, QTYPE, snmpResponse, ssdpResponse } from './payloads.js';
import { ephemeralPort, unclaimedPort } from './ports.js';
import type { Rng } from './prng.js';
import { MAX_HOPS, MIN_HOPS, STACKS, type Stack } from './stacks.js';
import { emitInGre, GRE_SCRATCH, type Outer } from './tunnel.js';

export interface Victim {
  ip?: string;
  prefix?: string;
  port?: number;
  protocol: string;
}

export interface AttackSpec {
  vector: Vector;
  victim: Victim;
  /** Fill and emit one attack packet at time t (ns). */
  fill(e: Emitter, t: number): void;
  /** How the sources look, for the ground truth. */
  sources: 'spoofed' | 'few' | 'reflectors' | 'botnet';
  sourceCount: number;
  /**
   * Packets owed at set times (a bot's SYN retransmissions): the time of the next one, Infinity
   * when none. `fill` called at that time writes it. The arrival process then starts only
   * `arrivalShare` of the packets.
   */
  owed?: () => number;
  arrivalShare?: number;
}

export interface AttackTarget {
  /** IPv4 victim (ignored for carpet bombing) or an IPv6 victim. */
  victim: Addr;
  /** Spread over the protected /24 (carpet bombing). */
  carpet?: boolean;
  /** Force the source model of a flood vector. */
  spoof?: 'spoofed' | 'few';
  /** What a `scanner` sweeps: TCP SYN probes (default) or empty UDP datagrams (nmap -sU). */
  scan?: 'tcp' | 'udp';
  /** The destination port of a TCP or UDP flood (default: drawn from the rng). */
  port?: number;
  /**
   * Variants. 'botnet': a TCP SYN or UDP flood from a few hundred real hosts (real stacks and
   * TTLs, never the benign clients). 'mimic': a spoofed SYN flood whose every header field is
   * drawn from the benign clients' distribution. 'quic-junk': a UDP flood of QUIC v1 long headers
   * with random, undecryptable bytes after them. 'gre-inner': a GRE flood whose inner packets go
   * from random sources to random destinations (only the outer destination is the victim).
   */
  variant?: 'botnet' | 'mimic' | 'quic-junk' | 'gre-inner';
}

/** Vectors the generator can produce: every L3/L4 vector of the model, in the scenarios' order. */
export { L34_VECTORS } from '../model/attack.js';

export class AttackTraffic implements Component {
  private readonly arr: Arrivals;
  private readonly endNs: number;

  constructor(
    rng: Rng,
    readonly label: number,
    readonly spec: AttackSpec,
    pps: number,
    t0: number,
    t1: number,
    rampS = 0,
    pulse?: Pulse,
  ) {
    this.arr = new Arrivals(rng, pps * (spec.arrivalShare ?? 1), t0, t1, rampS, pulse);
    this.endNs = t1 * 1e9;
  }

  /** The next owed packet's time if it comes first and before the attack ends, else -1. */
  private owedNext(): number {
    const owed = this.spec.owed;
    if (!owed) return -1;
    const o = owed();
    return o <= this.arr.next && o < this.endNs ? o : -1;
  }

  get next(): number {
    const o = this.owedNext();
    return o >= 0 ? o : this.arr.next;
  }

  emit(e: Emitter): void {
    const o = this.owedNext();
    if (o >= 0) {
      this.spec.fill(e, o);
      return;
    }
    this.spec.fill(e, this.arr.next);
    this.arr.advance();
  }
}

function ipText(a: Addr): string {
  if (typeof a === 'number') return formatAddr4(a);
  const w: string[] = [];
  for (let i = 0; i < 16; i += 2) w.push((((a[i] as number) << 8) | (a[i + 1] as number)).toString(16));
  // Compress the longest zero run (RFC 5952) so the text matches what tools print.
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === '0') j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return w.join(':');
  return `${w.slice(0, best).join(':')}::${w.slice(best + bestLen).join(':')}`;
}

/** TTL models of flood tools. */
type TtlModel = (r: Rng) => number;
function ttlModel(r: Rng): TtlModel {
  switch (r.int(0, 3)) {
    case 0: {
      const a = r.pick([242, 244, 250, 255]);
      return (x) => (x.chance(0.5) ? a : a - 2);
    }
    case 1:
      return (x) => x.int(30, 255);
    case 2: {
      const base = r.pick([64, 128]) - r.int(6, 14);
      return (x) => base - x.int(0, 3);
    }
    default: {
      const t = r.int(40, 250);
      return () => t;
    }
  }
}

function randomBlob(r: Rng, n: number): PayloadBlob {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = r.int(0, 255);
  return new PayloadBlob(b);
}

/** A source picker: random spoofed addresses, or a handful of bots. */
interface SourcePicker {
  pick: (x: Rng) => Addr;
  count: number;
}

function sourcePicker(r: Rng, mode: 'spoofed' | 'few', v6: boolean): SourcePicker {
  if (v6) {
    if (mode === 'few') {
      const bots: Uint8Array[] = [];
      for (let i = 0; i < r.int(1, 6); i++) bots.push(randomPublic6(r));
      return { pick: (x) => x.pick(bots), count: bots.length };
    }
    // Spoofed IPv6: a preallocated ring of random addresses, so a packet does not allocate.
    const ring: Uint8Array[] = [];
    for (let i = 0; i < 4096; i++) ring.push(randomPublic6(r));
    return {
      pick: (x) => ring[x.int(0, ring.length - 1)] as Uint8Array,
      count: ring.length,
    };
  }
  if (mode === 'few') {
    const bots = pool4(r, r.int(1, 6));
    return {
      pick: (x) => bots[x.int(0, bots.length - 1)] as number,
      count: bots.length,
    };
  }
  return { pick: (x) => randomPublic4(x), count: -1 };
}

interface Reflector {
  addr: Uint32Array;
  ttl: Uint8Array;
  win: Uint16Array;
}

/** Real servers: TTL = 64/128/255 minus their distance; windows from real stacks. */
function reflectors(r: Rng, n: number): Reflector {
  const addr = pool4(r, n);
  const ttl = new Uint8Array(n);
  const win = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    ttl[i] = r.pick([64, 64, 128, 255]) - r.int(5, 20);
    win[i] = r.pick([29200, 8192, 14600, 64240, 65535]);
  }
  return { addr, ttl, win };
}

export function makeAttack(vector: Vector, r: Rng, target: AttackTarget, pop?: Population): AttackSpec {
  const carpet = target.carpet === true;
  const v6 = typeof target.victim !== 'number';
  const fixedVictim = target.victim;
  const dst = carpet ? (x: Rng): Addr => host4(x.int(1, 254)) : (): Addr => fixedVictim;
  const victimBase = (protocol: string, port?: number): Victim => {
    const v: Victim = carpet ? { prefix: NET4_TEXT, protocol } : { ip: ipText(target.victim), protocol };
    if (port !== undefined) v.port = port;
    return v;
  };
  const mode = target.spoof ?? (r.chance(0.75) ? 'spoofed' : 'few');
  const ttl = ttlModel(r);
  if (target.variant === 'botnet') return botnet(vector, r, target, victimBase, pop);
  if (target.variant === 'mimic') return mimic(vector, r, target, victimBase);
  /**
   * A flood from spoofed or few sources: every such vector starts its packets the same way
   * (source, destination, TTL, IP id, in that rng order), then sets its own fields.
   */
  const flood = (victim: Victim, src: SourcePicker, rest: (p: Emitter['p'], e: Emitter, t: number) => void): AttackSpec => ({
    vector,
    victim,
    sources: mode,
    sourceCount: src.count,
    fill(e, t) {
      const p = e.p.reset();
      p.src = src.pick(r);
      p.dst = dst(r);
      p.ttl = ttl(r);
      p.ipId = r.int(0, 65535);
      rest(p, e, t);
    },
  });

  switch (vector) {
    case 'tcp_syn_flood':
    case 'tcp_ack_flood':
    case 'tcp_rst_flood':
    case 'tcp_flag_anomaly': {
      const src = sourcePicker(r, mode, v6);
      const port = target.port ?? r.pick([80, 443, 443, 25565, 22, 8080]);
      // Tool-stamped windows; ACK/RST floods avoid 65535 because that is also an ordinary stack's.
      const win = vector === 'tcp_syn_flood' ? r.pick([0, 512, 1024, 5840, 16384, 65535]) : r.pick([0, 512, 1024, 5840, 16384]);
      let flagSet: number[];
      if (vector === 'tcp_syn_flood') flagSet = r.chance(0.2) ? [0xc2] : [0x02];
      else if (vector === 'tcp_ack_flood') flagSet = r.chance(0.3) ? [0x18] : [0x10];
      else if (vector === 'tcp_rst_flood') flagSet = r.chance(0.5) ? [0x04] : [0x14];
      else flagSet = r.pick([[0x29], [0x00], [0x03], [0x3f], [0x29, 0x00, 0x03]]);
      const randomPort = vector === 'tcp_rst_flood' && r.chance(0.5);
      const withOpts = vector === 'tcp_syn_flood' && r.chance(0.3) ? Uint8Array.from([2, 4, 0x05, 0xb4]) : null;
      const payLen = vector === 'tcp_syn_flood' && r.chance(0.2) ? r.pick([100, 120, 512]) : vector === 'tcp_ack_flood' ? r.pick([0, 0, 20, 512, 1024]) : 0;
      const blob = payLen > 0 ? randomBlob(r, payLen) : null;
      return flood(victimBase('tcp', randomPort ? undefined : port), src, (p, e, t) => {
        p.sport = r.int(1024, 65535);
        p.dport = randomPort ? r.int(1, 65535) : port;
        p.seq = vector === 'tcp_syn_flood' ? r.u32() & 0xffff0000 : r.u32();
        p.ack = (flagSet[0] as number) & 0x10 ? r.u32() : 0;
        p.flags = flagSet.length === 1 ? (flagSet[0] as number) : r.pick(flagSet);
        p.win = win;
        p.opts = withOpts;
        if (blob) {
          p.blob = blob;
          p.payLen = payLen;
        }
        e.tcp(t);
      });
    }
    case 'tcp_synack_flood': {
      const refl = reflectors(r, r.int(2000, 6000));
      const mss = Uint8Array.from([2, 4, 0x05, 0xb4]);
      return {
        vector,
        victim: victimBase('tcp'),
        sources: 'reflectors',
        sourceCount: refl.addr.length,
        fill(e, t) {
          const p = e.p.reset();
          const i = r.int(0, refl.addr.length - 1);
          p.src = refl.addr[i] as number;
          p.dst = dst(r);
          p.ttl = refl.ttl[i] as number;
          p.ipId = 0;
          p.df = true;
          p.sport = r.chance(0.88) ? 80 : 443;
          p.dport = r.int(1024, 65535);
          p.seq = r.u32();
          p.ack = r.u32();
          p.flags = 0x12;
          p.win = refl.win[i] as number;
          p.opts = mss;
          e.tcp(t);
        },
      };
    }
    case 'udp_flood': {
      const src = sourcePicker(r, mode, v6);
      if (target.variant === 'quic-junk') return quicJunk(vector, r, target, victimBase, src, ttl, dst, mode);
      const fixedPort = target.port ?? (r.chance(0.5) ? r.pick([53, 80, 443, 27015, 30120, 9987]) : -1);
      const lenModel = r.int(0, 2);
      const size = r.pick([0, 1, 32, 512, 1024, 1400]);
      const blob = randomBlob(r, 1472);
      return flood(victimBase('udp', fixedPort >= 0 ? fixedPort : undefined), src, (p, e, t) => {
        p.sport = r.int(1024, 65535);
        p.dport = fixedPort >= 0 ? fixedPort : r.int(1, 65535);
        p.blob = blob;
        p.payLen = lenModel === 0 ? size : lenModel === 1 ? r.int(64, 1400) : size + r.int(0, 8);
        e.udp(t);
      });
    }
    case 'icmp_flood': {
      const src = sourcePicker(r, mode, v6);
      const size = r.pick([56, 64, 512, 1024, 1472]);
      const blob = randomBlob(r, 1472);
      const echo = r.chance(0.8);
      return flood(victimBase(v6 ? 'icmpv6' : 'icmp'), src, (p, e, t) => {
        p.icmpType = v6 ? (echo ? 128 : 129) : echo ? 8 : 0;
        p.icmpCode = 0;
        p.icmpRest = r.u32();
        p.blob = blob;
        p.payLen = v6 ? Math.min(size, 1452) : size;
        e.icmp(t);
      });
    }
    case 'ip_fragment_flood': {
      const src = sourcePicker(r, mode, false);
      const blob = randomBlob(r, 1480);
      const size = r.pick([1480, 1000, 504, 0]);
      return flood(victimBase('udp'), src, (p, e, t) => {
        p.proto = 17;
        // Non-first fragments (offset > 0): no transport header, so no ports to filter on.
        p.fragField = (r.chance(0.7) ? 0x2000 : 0) | r.int(1, 7000);
        p.blob = blob;
        p.payLen = size > 0 ? size : r.int(1, 185) * 8;
        e.raw(t);
      });
    }
    case 'gre_flood': {
      const src = sourcePicker(r, mode, false);
      if (target.variant === 'gre-inner') return greInner(vector, r, victimBase, src, ttl, dst, mode);
      const innerLen = r.pick([512, 64, 1024]);
      const scratch = new Uint8Array(4 + 20 + 8 + 1400);
      const innerPay = randomBlob(r, 1400);
      const innerPort = r.int(1, 65535);
      return flood(victimBase('gre'), src, (p, e, t) => {
        p.proto = 47;
        // GRE (RFC 2784) carrying IPv4/UDP to the same victim, as Mirai's greip does.
        const b = scratch;
        b[0] = 0;
        b[1] = 0;
        put16(b, 2, 0x0800);
        const ulen = 8 + innerLen;
        writeIp4(b, 4, 20 + ulen, r.int(0, 65535), 0, 64, 17, randomPublic4(r), p.dst as number);
        writeUdp(b, 24, r.int(1024, 65535), innerPort, ulen);
        b.set(innerPay.bytes.subarray(0, innerLen), 32);
        p.pay = b;
        p.payLen = 4 + 20 + ulen;
        e.raw(t);
      });
    }
    case 'ip_protocol_flood': {
      const src = sourcePicker(r, mode, false);
      const protos = r.chance(0.5) ? [r.int(143, 252)] : [255, r.int(143, 252), r.int(143, 252)];
      const blob = randomBlob(r, 1480);
      const size = r.pick([20, 64, 512, 1024]);
      return flood(victimBase(protos.length === 1 ? `ip-${protos[0]}` : 'ip'), src, (p, e, t) => {
        p.proto = protos.length === 1 ? (protos[0] as number) : r.pick(protos);
        p.blob = blob;
        p.payLen = size;
        e.raw(t);
      });
    }
    case 'dns_random_subdomain': {
      const resolvers = pool4(r, r.int(200, 2000));
      const victim = target.victim;
      const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
      return {
        vector,
        victim: victimBase('udp', 53),
        sources: 'reflectors',
        sourceCount: resolvers.length,
        fill(e, t) {
          const p = e.p.reset();
          p.src = resolvers[r.int(0, resolvers.length - 1)] as number;
          p.dst = victim;
          p.ttl = r.pick([64, 128]) - r.int(6, 18);
          p.ipId = r.int(0, 65535);
          p.sport = r.int(1024, 65535);
          p.dport = 53;
          let label = '';
          const n = r.int(10, 20);
          for (let i = 0; i < n; i++) label += alphabet[r.int(0, alphabet.length - 1)];
          const q = dnsQuery(r.int(0, 65535), `${label}.${ZONE}`, r.chance(0.7) ? QTYPE.A : QTYPE.AAAA, true, false);
          p.pay = q;
          p.payLen = q.length;
          e.udp(t);
        },
      };
    }
    case 'scanner': {
      // A TCP SYN port scan (nmap -sS style): one or two real hosts (their own addresses, an
      // ordinary TTL), one source port per scanner, window 1024 with only an MSS option, and
      // destination ports swept in a shuffled order over the whole port range.
      // A UDP scan (nmap -sU) sends empty datagrams the same way.
      const scanners = Array.from({ length: r.int(1, 2) }, () => ({ addr: randomPublic4(r), sport: r.int(32768, 65535), ttl: r.pick([64, 128]) - r.int(5, 20) }));
      const mss = Uint8Array.from([2, 4, 0x05, 0xb4]);
      const stride = 40503; // odd, so i * stride mod 65535 visits every port once
      const first = r.int(0, 65534);
      const udp = target.scan === 'udp';
      let i = 0;
      return {
        vector,
        victim: victimBase(udp ? 'udp' : 'tcp'),
        sources: 'few',
        sourceCount: scanners.length,
        fill(e, t) {
          const p = e.p.reset();
          const sc = scanners[i % scanners.length] as (typeof scanners)[number];
          p.src = sc.addr;
          p.dst = dst(r);
          p.ttl = sc.ttl;
          p.ipId = r.int(0, 65535);
          p.sport = sc.sport;
          p.dport = 1 + ((first + i * stride) % 65535);
          i++;
          if (udp) {
            e.udp(t);
            return;
          }
          p.seq = r.u32();
          p.flags = 0x02;
          p.win = 1024;
          p.opts = mss;
          e.tcp(t);
        },
      };
    }
    default:
      return reflection(vector, r, dst, victimBase);
  }
}

/** The amplification family: many reflectors answering spoofed requests from a service port. */
function reflection(vector: Vector, r: Rng, dst: (x: Rng) => Addr, victimBase: (p: string, port?: number) => Victim): AttackSpec {
  const refl = reflectors(r, r.int(300, 4000));
  const variants: Uint8Array[] = [];
  let sport = 0;
  switch (vector) {
    case 'dns_amplification': {
      sport = 53;
      const name = r.pick(['pizzaseo.com', 'anonsc.com', 'isc.org', 'cpsc.gov']);
      for (let i = 0; i < 8; i++) {
        const qt = r.pick([QTYPE.ANY, QTYPE.TXT, QTYPE.RRSIG]);
        const answers = r.int(5, 12);
        const rdlen = Math.floor(r.int(1100, 1380) / answers) - 12;
        variants.push(dnsResponse(r, r.int(0, 65535), name, qt, answers, qt === QTYPE.TXT ? QTYPE.TXT : QTYPE.RRSIG, rdlen, true));
      }
      break;
    }
    case 'ntp_amplification':
      sport = 123;
      for (let i = 0; i < 8; i++) variants.push(ntpMonlistReply(r, i < 6 ? 6 : r.int(1, 5), i < 6, i));
      break;
    case 'ssdp_amplification':
      sport = 1900;
      for (let i = 0; i < 8; i++) variants.push(ssdpResponse(r));
      break;
    case 'memcached_amplification':
      sport = 11211;
      for (let i = 0; i < 4; i++) variants.push(memcachedValue(r, r.pick([1400, 1400, 1200, 900])));
      break;
    case 'cldap_amplification':
      sport = 389;
      for (let i = 0; i < 6; i++) variants.push(cldapSearchResEntry(r, r.int(900, 1400)));
      break;
    case 'chargen_amplification':
      sport = 19;
      for (let i = 0; i < 8; i++) variants.push(chargen(r.pick([74, 148, 1022, 1460, 370]), r.int(0, 94)));
      break;
    case 'snmp_amplification':
      sport = 161;
      for (let i = 0; i < 8; i++) variants.push(snmpResponse(r, 'public', r.int(1, 20), r.int(4, 60)));
      break;
    case 'udp_reflection': {
      // Other reflected services: NAT-T/IKE, Dahua DHIP, BACnet, WS-Discovery, Ubiquiti.
      const svc = r.pick([
        { port: 4500, len: 204 },
        { port: 37810, len: 760 },
        { port: 47808, len: 96 },
        { port: 3702, len: 640 },
        { port: 10001, len: 168 },
      ]);
      sport = svc.port;
      const b = new Uint8Array(svc.len);
      for (let i = 0; i < b.length; i++) b[i] = r.int(0, 255);
      variants.push(b);
      break;
    }
    default:
      throw new Error(`no generator for vector ${vector}`);
  }
  // Ephemeral ports above every service port, as the spoofed requests' source ports usually are.
  const fixedPort = r.chance(0.4) ? r.int(32768, 65535) : -1;
  return {
    vector,
    victim: victimBase('udp', fixedPort >= 0 ? fixedPort : undefined),
    sources: 'reflectors',
    sourceCount: refl.addr.length,
    fill(e, t) {
      const p = e.p.reset();
      const i = r.int(0, refl.addr.length - 1);
      p.src = refl.addr[i] as number;
      p.dst = dst(r);
      p.ttl = refl.ttl[i] as number;
      p.ipId = r.int(0, 65535);
      p.sport = sport;
      p.dport = fixedPort >= 0 ? fixedPort : r.int(32768, 65535);
      const v = variants[r.int(0, variants.length - 1)] as Uint8Array;
      p.pay = v;
      p.payLen = v.length;
      e.udp(t);
    },
  };
}

/** One of the bots' preallocated retransmission queues: SYNs due again at `due` (FIFO). */
class SynQueue {
  private bot = new Uint16Array(1024);
  private sport = new Uint16Array(1024);
  private seq = new Uint32Array(1024);
  private due = new Float64Array(1024);
  private head = 0;
  private n = 0;

  get size(): number {
    return this.n;
  }

  /** Due time of the oldest entry (Infinity when empty). */
  firstDue(): number {
    return this.n === 0 ? Number.POSITIVE_INFINITY : (this.due[this.head] as number);
  }

  push(bot: number, sport: number, seq: number, due: number): void {
    if (this.n === this.due.length) this.grow();
    const i = (this.head + this.n) % this.due.length;
    this.bot[i] = bot;
    this.sport[i] = sport;
    this.seq[i] = seq;
    this.due[i] = due;
    this.n++;
  }

  /** Remove the oldest entry into `out` (bot, sport, seq). */
  shift(out: Uint32Array): void {
    const i = this.head;
    out[0] = this.bot[i] as number;
    out[1] = this.sport[i] as number;
    out[2] = this.seq[i] as number;
    this.head = (i + 1) % this.due.length;
    this.n--;
  }

  /** Doubling keeps pushes amortised O(1); it happens a few times per attack, not per packet. */
  private grow(): void {
    const cap = this.due.length;
    const order = (a: Uint16Array | Uint32Array | Float64Array, b: Uint16Array | Uint32Array | Float64Array): void => {
      for (let k = 0; k < this.n; k++) b[k] = a[(this.head + k) % cap] as number;
    };
    const bot = new Uint16Array(cap * 2);
    const sport = new Uint16Array(cap * 2);
    const seq = new Uint32Array(cap * 2);
    const due = new Float64Array(cap * 2);
    order(this.bot, bot);
    order(this.sport, sport);
    order(this.seq, seq);
    order(this.due, due);
    this.bot = bot;
    this.sport = sport;
    this.seq = seq;
    this.due = due;
    this.head = 0;
  }
}

/**
 * A flood from a botnet of 300-600 real hosts: ordinary stacks (stacks.ts: TTL = 64 or 128 less
 * 3-18 hops per bot, the stack's SYN window and option layout byte for byte, DF), addresses never
 * among the benign clients. TCP: each bot opens connections it never completes: a SYN from a new
 * source port, retransmitted 1 s and then 2 s later (same port, same sequence number) as a kernel
 * does when no SYN-ACK comes back. UDP: datagrams from a few ports per bot whose lengths follow
 * the game clients' distribution (flows.ts gameLen).
 */
function botnet(vector: Vector, r: Rng, target: AttackTarget, victimBase: (p: string, port?: number) => Victim, pop?: Population): AttackSpec {
  const n = r.int(300, 600);
  const bots = new ClientPool(r, n, pop?.clients.set());
  const ipId = new Uint16Array(n);
  for (let i = 0; i < n; i++) ipId[i] = r.int(0, 65535);
  const victim = target.victim;
  if (vector === 'udp_flood') {
    const port = target.port ?? 27015;
    const sports = new Uint16Array(n * 2);
    for (let i = 0; i < sports.length; i++) sports[i] = ephemeralPort(r);
    const blob = randomBlob(r, 2048);
    const head = new Uint8Array(1);
    return {
      vector,
      victim: victimBase('udp', port),
      sources: 'botnet',
      sourceCount: n,
      fill(e, t) {
        const p = e.p.reset();
        const b = r.int(0, n - 1);
        const stack = bots.stack(b);
        p.src = bots.addr[b] as number;
        p.dst = victim;
        p.ttl = bots.ttl(b);
        p.ipId = ipId[b] = ((ipId[b] as number) + 1) & 0xffff;
        p.df = stack.ttl === 64;
        p.sport = sports[2 * b + (r.u32() & 1)] as number;
        p.dport = port;
        // Random bytes, the first kept out of 0x80-0xbf (RTP/RTCP version 2) so no dissector
        // takes the datagram for RTCP.
        let x = r.u32() & 255;
        if ((x & 0xc0) === 0x80) x ^= 0x40;
        head[0] = x;
        p.head = head;
        p.headLen = 1;
        const len = gameLen(r, true) - 1;
        p.blob = blob;
        p.payLen = len;
        p.blobOff = 2 * r.int(0, (blob.bytes.length - len) >> 1);
        e.udp(t);
      },
    };
  }
  if (vector !== 'tcp_syn_flood') throw new RangeError(`no botnet variant of ${vector}`);
  const port = target.port ?? 443;
  // Each bot's next ephemeral port: connections take them in turn, as a stack allocates them.
  const nextPort = new Uint16Array(n);
  for (let i = 0; i < n; i++) nextPort[i] = r.int(32768, 60999);
  const first = new SynQueue();
  const second = new SynQueue();
  const got = new Uint32Array(3);
  return {
    vector,
    victim: victimBase('tcp', port),
    sources: 'botnet',
    sourceCount: n,
    // A SYN and its two retransmissions: the arrivals start a third of the packets.
    arrivalShare: 1 / 3,
    owed: () => Math.min(first.firstDue(), second.firstDue()),
    fill(e, t) {
      const p = e.p.reset();
      let b: number;
      let sport: number;
      let seq: number;
      if (first.firstDue() <= t || second.firstDue() <= t) {
        // A retransmission: the first one 1 s after the SYN, the second 2 s after that.
        const again = first.firstDue() <= second.firstDue();
        (again ? first : second).shift(got);
        b = got[0] as number;
        sport = got[1] as number;
        seq = got[2] as number;
        if (again) second.push(b, sport, seq, t + 2e9);
      } else {
        b = r.int(0, n - 1);
        sport = nextPort[b] as number;
        nextPort[b] = sport >= 60990 ? 32768 : sport + r.int(1, 3);
        seq = r.u32();
        first.push(b, sport, seq, t + 1e9);
      }
      const stack = bots.stack(b);
      p.src = bots.addr[b] as number;
      p.dst = victim;
      p.ttl = bots.ttl(b);
      p.ipId = ipId[b] = ((ipId[b] as number) + 1) & 0xffff;
      p.df = true;
      p.sport = sport;
      p.dport = port;
      p.seq = seq;
      p.flags = 0x02;
      p.win = stack.win;
      p.opts = stack.opts;
      e.tcp(t);
    },
  };
}

/**
 * A spoofed SYN flood no header field separates from the benign clients' SYNs: stack, TTL
 * (initial less 3-18 hops), window, options byte for byte, DF, no payload, an ephemeral port,
 * a full random sequence number.
 */
function mimic(vector: Vector, r: Rng, target: AttackTarget, victimBase: (p: string, port?: number) => Victim): AttackSpec {
  if (vector !== 'tcp_syn_flood') throw new RangeError(`no mimic variant of ${vector}`);
  const port = target.port ?? 443;
  const victim = target.victim;
  return {
    vector,
    victim: victimBase('tcp', port),
    sources: 'spoofed',
    sourceCount: -1,
    fill(e, t) {
      const p = e.p.reset();
      const stack = STACKS[r.int(0, STACKS.length - 1)] as Stack;
      p.src = randomPublic4(r);
      p.dst = victim;
      p.ttl = stack.ttl - r.int(MIN_HOPS, MAX_HOPS);
      p.ipId = r.int(0, 65535);
      p.df = true;
      p.sport = r.int(32768, 60999);
      p.dport = port;
      p.seq = r.u32();
      p.flags = 0x02;
      p.win = stack.win;
      p.opts = stack.opts;
      e.tcp(t);
    },
  };
}

/**
 * UDP/443 junk shaped like QUIC v1 client Initials: a long header (first byte 0xc0-0xcf, version
 * 1, a random 8-20-byte DCID, an SCID, no token, a Length that matches), then random bytes no
 * key opens; 1200 bytes or more, as a client's first datagram must be.
 */
function quicJunk(
  vector: Vector,
  r: Rng,
  target: AttackTarget,
  victimBase: (p: string, port?: number) => Victim,
  src: SourcePicker,
  ttl: TtlModel,
  dst: (x: Rng) => Addr,
  mode: 'spoofed' | 'few',
): AttackSpec {
  const port = target.port ?? 443;
  const fixed = r.chance(0.6) ? r.pick([1200, 1250, 1252, 1350]) : -1;
  const blob = randomBlob(r, 4096);
  const head = new Uint8Array(64);
  return {
    vector,
    victim: victimBase('udp', port),
    sources: mode,
    sourceCount: src.count,
    fill(e, t) {
      const p = e.p.reset();
      p.src = src.pick(r);
      p.dst = dst(r);
      p.ttl = ttl(r);
      p.ipId = r.int(0, 65535);
      p.sport = unclaimedPort(r, 1024, 65535);
      p.dport = port;
      const size = fixed > 0 ? fixed : r.int(1200, 1400);
      const h = head;
      h[0] = 0xc0 | (r.u32() & 15);
      h[1] = 0;
      h[2] = 0;
      h[3] = 0;
      h[4] = 1;
      const dl = r.int(8, 20);
      h[5] = dl;
      let o = 6;
      for (let i = 0; i < dl; i++) h[o++] = r.u32() & 255;
      const sl = r.pick(SCID_LENS);
      h[o++] = sl;
      for (let i = 0; i < sl; i++) h[o++] = r.u32() & 255;
      h[o++] = 0;
      const rest = size - o - 2;
      h[o++] = 0x40 | (rest >>> 8);
      h[o++] = rest & 255;
      p.head = h;
      p.headLen = o;
      p.blob = blob;
      p.payLen = size - o;
      p.blobOff = 2 * r.int(0, (blob.bytes.length - p.payLen) >> 1);
      e.udp(t);
    },
  };
}

const SCID_LENS = [0, 8, 8, 20];

/**
 * A GRE flood (RFC 2784, IPv4 in GRE) on the victim as outer destination, whose inner packets
 * are UDP datagrams and TCP SYNs from random sources to random public destinations, so nothing
 * inside names the victim. Outer sources as the flood's source model says.
 */
function greInner(
  vector: Vector,
  r: Rng,
  victimBase: (p: string, port?: number) => Victim,
  src: SourcePicker,
  ttl: TtlModel,
  dst: (x: Rng) => Addr,
  mode: 'spoofed' | 'few',
): AttackSpec {
  const scratch = new Uint8Array(GRE_SCRATCH);
  const blob = randomBlob(r, 2048);
  const udpShare = r.pick([1, 0.7, 0.5]);
  const lenModel = r.int(0, 1);
  const size = r.pick([64, 512, 1024, 1400]);
  const outer: Outer = { src: 0, dst: 0, ttl: 0, ipId: 0 };
  return {
    vector,
    victim: victimBase('gre'),
    sources: mode,
    sourceCount: src.count,
    fill(e, t) {
      outer.src = src.pick(r) as number;
      outer.dst = dst(r) as number;
      outer.ttl = ttl(r);
      outer.ipId = r.int(0, 65535);
      const p = e.p.reset();
      p.src = randomPublic4(r);
      p.dst = randomPublic4(r);
      p.ttl = r.int(30, 128);
      p.ipId = r.int(0, 65535);
      p.sport = r.int(1024, 65535);
      p.dport = r.int(1, 65535);
      if (r.chance(udpShare)) {
        p.blob = blob;
        p.payLen = lenModel === 0 ? size : r.int(0, 1400);
        emitInGre(e, t, 17, outer, scratch);
      } else {
        p.seq = r.u32();
        p.flags = 0x02;
        p.win = r.pick([1024, 5840, 64240, 65535]);
        emitInGre(e, t, 6, outer, scratch);
      }
    },
  };
}
