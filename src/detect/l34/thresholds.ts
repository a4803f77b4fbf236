/**
 * When an L3/L4 class fires for a victim in one window, and when an open attack holds.
 *
 * Thresholds need no configuration (a user reading a stranger's capture has none): a class fires
 * for a key when its rate clears an absolute floor, it dominates the key's traffic, and — once the
 * key's baseline has warmed up — it is well above that baseline. Reflection classes instead need
 * many distinct reflectors and large replies, because amplification is often low in packets but
 * high in bytes. Optional static per-prefix thresholds (palisade.yaml `detection.thresholds`)
 * override the floors, as FastNetMon's hostgroups do.
 */
import type { Prefix } from '../../core/net/prefix.js';
import type { Vector } from '../../model/attack.js';
import type { Baselines } from '../core/baseline.js';
import type { VictimKey } from '../core/lifecycle.js';
import type { KeyTable } from '../core/table.js';
import { CLS_VECTOR, Cls, NCLS } from './classify.js';

/** A static threshold for the destinations of one prefix (palisade.yaml `detection.thresholds`). */
export interface StaticThreshold {
  /** The prefix it applies to (IPv4 or IPv6; host bits zero). */
  prefix: Prefix;
  pps?: number;
  bps?: number;
  /** Per-vector overrides. */
  vectors?: Partial<Record<Vector, { pps?: number; bps?: number }>>;
}

/** Absolute floors in packets per second, per class (0: the class never fires on its own). */
const FLOOR_PPS = new Float64Array(NCLS);
FLOOR_PPS[Cls.TCP_SYN] = 300;
FLOOR_PPS[Cls.TCP_SYNACK] = 300;
FLOOR_PPS[Cls.TCP_ACK] = 500;
FLOOR_PPS[Cls.TCP_RST] = 300;
FLOOR_PPS[Cls.TCP_ANOMALY] = 100;
FLOOR_PPS[Cls.UDP] = 500;
FLOOR_PPS[Cls.ICMP] = 300;
FLOOR_PPS[Cls.FRAG] = 200;
FLOOR_PPS[Cls.GRE] = 200;
FLOOR_PPS[Cls.IPPROTO] = 200;
FLOOR_PPS[Cls.DNS_QUERY] = 300;
for (let c = Cls.DNS_RESP; c <= Cls.UDP_REFL; c++) FLOOR_PPS[c] = 15;

/**
 * Sampled packets a class needs in one window before its estimated rate can fire: at 1:1000 one
 * sample stands for 1,000 packets, and a handful says little (±1/sqrt(n)). A capture and unsampled
 * flows are exact and need none.
 */
const MIN_SAMPLES = 10;

/** Share of the key's packets the class must have. */
const DOMINANCE = new Float64Array(NCLS).fill(0.5);
DOMINANCE[Cls.TCP_ACK] = 0.85;
DOMINANCE[Cls.DNS_QUERY] = 0.3;
for (let c = Cls.DNS_RESP; c <= Cls.UDP_REFL; c++) DOMINANCE[c] = 0.15;

/** Class count from which a window that did not fire may still be an attack's first (partial) second. */
const ONSET = new Float64Array(NCLS);
for (let c = 1; c < NCLS; c++) ONSET[c] = Math.max(2, 0.1 * (FLOOR_PPS[c] as number));
for (let c = Cls.DNS_RESP; c <= Cls.UDP_REFL; c++) ONSET[c] = 5;

/** Distinct destination ports (and packets) in one window from which few sources are a port scan. */
const SCAN_PORTS = 64;
/** Addresses of a prefix hit in one window from which its class traffic may be carpet bombing. */
export const MIN_HITS_CARPET = 16;

/** Packets of class c in one window from which it may be an attack's onset. */
export function onsetPackets(c: number): number {
  return ONSET[c] as number;
}

/** The absolute floor of class c (packets per window). */
export function floorPackets(c: number): number {
  return FLOOR_PPS[c] as number;
}

function isReflectionClass(c: number): boolean {
  return c >= Cls.DNS_RESP && c <= Cls.UDP_REFL;
}

/**
 * A port scan of one destination in this window (TCP SYN, or UDP probes as nmap -sU sends):
 * many distinct ports, most probes to a port of their own, and few sources next to the ports
 * (the victim's ordinary clients may be there too; a spoofed random-port flood has about as
 * many sources as ports).
 */
export function isScan(t: KeyTable, i: number, c: number, n: number): boolean {
  if ((c !== Cls.TCP_SYN && c !== Cls.UDP) || n < SCAN_PORTS) return false;
  const ports = t.distinct(t.portBits, i);
  if (ports < SCAN_PORTS || ports < 0.5 * n) return false;
  const sources = t.distinct(t.srcBits, i);
  // A random-port UDP flood from a few bots passes the ratio test; a UDP scan is one to three
  // hosts, as nmap -sU or masscan run it, whose probes are mostly empty (a flood's carry junk).
  return c === Cls.TCP_SYN ? sources * 8 <= ports : sources < 4 && (t.aux[i] as number) >= 0.5 * n;
}

/** Class-specific shape tests that tell an attack from a legitimate burst of the same class. */
function shapeOk(t: KeyTable, i: number, c: number, n: number, bytes: number): boolean {
  if (isReflectionClass(c)) {
    const uniq = t.distinct(t.srcBits, i);
    // Many reflectors, and either large replies or a high rate: a client's own lookups come from
    // a few resolvers with small answers.
    return uniq >= 8 && (bytes / n >= 400 || n >= 200);
  }
  if (c === Cls.TCP_SYN || c === Cls.UDP) {
    // One or two sources sweeping many ports with empty probes is a scan, not a flood.
    const uniq = t.distinct(t.srcBits, i);
    if (uniq < 4 && t.distinct(t.portBits, i) >= 64 && (c === Cls.TCP_SYN || (t.aux[i] as number) >= 0.5 * n)) return false;
  }
  if (c === Cls.DNS_QUERY) {
    // Random subdomains: most names are new (a legitimate surge repeats popular names).
    return t.distinct(t.nameBits, i) >= 0.5 * Math.min(n, 5000);
  }
  return true;
}

/**
 * The key's packets a class must dominate: everything but the other flood classes that clear
 * their own floors and that this class is a sizeable fraction of. Two vectors on one victim (a
 * SYN flood and a UDP flood) each dominate the victim's ordinary traffic; neither has to dominate
 * the other. A class far smaller than another flood (below CONCURRENT of it) still has to
 * dominate it: a reflection's backscatter (resets from the same reflectors) is that attack's
 * noise, not a second vector.
 */
const CONCURRENT = 0.25;
function ordinaryTotal(t: KeyTable, i: number, c: number): number {
  const own = t.packets(i, c);
  let total = t.total[i] as number;
  let mask = (t.clsMask[i] as number) & ~1 & ~(1 << c);
  while (mask !== 0) {
    const o = 31 - Math.clz32(mask);
    mask &= ~(1 << o);
    const fo = FLOOR_PPS[o] as number;
    const n = t.packets(i, o);
    if (fo > 0 && n >= fo && own >= CONCURRENT * n) total -= n;
  }
  return Math.max(total, 1);
}

/** Does the prefix (network bytes, length) contain the 16-byte address at addr[o..]? */
function prefixContains(net: Uint8Array, len: number, addr: Uint8Array, o: number): boolean {
  let bits = len;
  for (let k = 0; bits > 0; k++, bits -= 8) {
    const m = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((addr[o + k] as number) & m) !== ((net[k] as number) & m)) return false;
  }
  return true;
}

export class Thresholds {
  constructor(
    private readonly statics: readonly StaticThreshold[],
    private readonly baselines: Baselines,
  ) {}

  /** Are there static thresholds at all? */
  get hasStatics(): boolean {
    return this.statics.length > 0;
  }

  /** The first static threshold whose prefix holds slot i's key. */
  staticFor(t: KeyTable, i: number): StaticThreshold | null {
    if (this.statics.length === 0) return null;
    const fam = t.fam[i];
    const o = i * 16;
    for (const s of this.statics) {
      if (s.prefix.family !== fam) continue;
      if (prefixContains(s.prefix.addr, s.prefix.len, t.addr, o)) return s;
    }
    return null;
  }

  /** Does class c of slot i (victim `key`) fire for the window that just ended? */
  fires(t: KeyTable, i: number, c: number, key: VictimKey, isPrefix: boolean): boolean {
    const n = t.packets(i, c);
    const bytes = t.bytes(i, c);
    const seen = t.samples(i, c);
    if (seen < n && seen < MIN_SAMPLES) return false;
    // A port scan fires on its shape, whatever its rate (scanners are slow next to floods); it is
    // an address's, never a prefix's (a prefix sums many hosts' ordinary ports).
    if (isScan(t, i, c, n)) return !isPrefix;
    const st = this.staticFor(t, i);
    if (st) {
      const vt = st.vectors?.[CLS_VECTOR[c] as Vector];
      const pps = vt?.pps ?? st.pps;
      const bps = vt?.bps ?? st.bps;
      if ((pps !== undefined && n >= pps) || (bps !== undefined && bytes * 8 >= bps)) return shapeOk(t, i, c, n, bytes);
      if (pps !== undefined || bps !== undefined) return false;
    }
    const floor = FLOOR_PPS[c] as number;
    if (floor === 0 || n < floor) return false;
    if (n / ordinaryTotal(t, i, c) < (DOMINANCE[c] as number)) return false;
    if (!isPrefix && this.baselines.isWarm(key) && n < 3 * this.baselines.rate(key, c) + floor / 2) return false;
    return shapeOk(t, i, c, n, bytes);
  }

  /** Hysteresis: an open attack continues while its class stays clearly above the victim's normal rate. */
  holds(peakPps: number, baseRate: number, t: KeyTable, i: number, c: number): boolean {
    const n = t.packets(i, c);
    if (isReflectionClass(c)) return n >= Math.max(2, 0.01 * peakPps, 2 * baseRate + 5) && t.distinct(t.srcBits, i) >= 2;
    // A flood's tail (a trickle after the burst) is still the flood; the victim's ordinary rate
    // of the class is not.
    // A random-subdomain attack holds while the names stay random: the server's ordinary queries
    // after it repeat names (and may well be above twice a quiet baseline).
    if (c === Cls.DNS_QUERY && t.distinct(t.nameBits, i) < 0.5 * Math.min(n, 5000)) return false;
    return n >= Math.max(5, 0.002 * peakPps, 2 * baseRate + 5) && n >= 0.3 * ordinaryTotal(t, i, c);
  }
}
