/**
 * Where the L7 scenarios' clients come from: real networks, each block checked against the
 * offline ASN and country databases Palisade enriches with (src/core/geoip.ts), so a generated
 * request's `enrichment.asn`/`country` are what a reader of the log would find for its address
 * (test/generate/l7.test.ts checks every address of a run). Kinds matter to detection: botnets
 * concentrate in hosting and a few broadband networks, carrier NAT sits in mobile networks.
 */
import type { Rng } from '../prng.js';

export type NetKind = 'broadband' | 'mobile' | 'hosting' | 'crawler';

export interface Network {
  asn: number;
  country: string;
  kind: NetKind;
  /** IPv4 blocks as [first address (uint32), prefix length]. */
  v4: ReadonlyArray<readonly [number, number]>;
  /** IPv6 blocks as [first 64 bits as hex groups "2601:0:0:0", prefix length ≤ 64]. */
  v6: ReadonlyArray<readonly [string, number]>;
}

function a4(s: string): number {
  const p = s.split('.').map(Number);
  return (((p[0] as number) << 24) | ((p[1] as number) << 16) | ((p[2] as number) << 8) | (p[3] as number)) >>> 0;
}

function net(asn: number, country: string, kind: NetKind, v4: string[], v6: string[] = []): Network {
  return {
    asn,
    country,
    kind,
    v4: v4.map((c) => {
      const [ip, len] = c.split('/');
      return [a4(ip as string), Number(len)] as const;
    }),
    v6: v6.map((c) => {
      const [ip, len] = c.split('/');
      return [ip as string, Number(len)] as const;
    }),
  };
}

// Blocks whose every /24 the ASN table maps to the ASN named here and the country table to one
// country (checked when chosen; the tests check every address a run uses).
export const BROADBAND: readonly Network[] = [
  net(7922, 'US', 'broadband', ['73.0.0.0/10', '98.192.0.0/10'], ['2601::/24']),
  net(7018, 'US', 'broadband', ['107.192.0.0/11'], ['2600:1700::/28']),
  net(3320, 'DE', 'broadband', ['79.192.0.0/10']),
  net(2856, 'GB', 'broadband', ['86.128.0.0/10', '31.48.0.0/13']),
  net(3215, 'FR', 'broadband', ['86.192.0.0/11']),
  net(3209, 'DE', 'broadband', ['88.64.0.0/12', '2.200.0.0/13']),
  net(28573, 'BR', 'broadband', ['179.136.0.0/13']),
  net(8151, 'MX', 'broadband', ['189.172.0.0/14']),
];

/** Mobile carriers: their customers leave through carrier-grade NAT egress addresses. */
export const MOBILE: readonly Network[] = [
  net(21928, 'US', 'mobile', ['172.32.0.0/12']),
  net(20057, 'US', 'mobile', ['166.170.0.0/14']),
  net(55836, 'IN', 'mobile', ['157.32.0.0/12'], ['2405:200::/39']),
];

export const HOSTING: readonly Network[] = [
  net(14061, 'US', 'hosting', ['104.131.0.0/16', '45.55.0.0/16', '104.236.0.0/16']),
  net(24940, 'DE', 'hosting', ['78.46.0.0/16', '88.198.0.0/16', '136.243.0.0/16', '5.9.0.0/16'], ['2a01:4f8::/32']),
  net(14618, 'US', 'hosting', ['3.80.0.0/12', '18.204.0.0/14']),
  net(12389, 'RU', 'broadband', ['178.64.0.0/13']),
  net(4837, 'CN', 'broadband', ['27.192.0.0/11', '39.64.0.0/11']),
  net(4134, 'CN', 'broadband', ['115.204.0.0/14']),
];

export const GOOGLEBOT = net(15169, 'US', 'crawler', ['66.249.64.0/23', '66.249.66.0/24', '66.249.68.0/23', '66.249.72.0/22'], ['2001:4860:4801::/48']);
export const BINGBOT = net(8075, 'US', 'crawler', ['157.55.39.0/24', '207.46.13.0/24', '40.77.167.0/24']);
export const APPLEBOT = net(714, 'US', 'crawler', ['17.241.0.0/16']);
export const YANDEXBOT = net(13238, 'RU', 'crawler', ['95.108.192.0/18']);
/** Uptime monitors run from hosting and their own small ranges. */
export const MONITOR_NETS: readonly Network[] = [net(46475, 'US', 'hosting', ['69.162.124.0/24']), net(14061, 'US', 'hosting', ['104.131.0.0/16'])];

/** One client address with the enrichment a reader would attach. */
export interface Addr {
  ip: string;
  asn: number;
  country: string;
  /** The /24 (IPv4) or /48 (IPv6) the address sits in. */
  prefix: string;
  v6: boolean;
}

function fmt4(u: number): string {
  return `${u >>> 24}.${(u >>> 16) & 255}.${(u >>> 8) & 255}.${u & 255}`;
}

/** RFC 5952 text of eight 16-bit groups: lower case, the longest run of ≥ 2 zero groups as `::`. */
export function fmt6(g: readonly number[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: readonly number[]) => a.map((x) => (x & 0xffff).toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/**
 * Hands out distinct addresses: no address is drawn twice in one scenario, so an IP belongs to
 * exactly one population and the ground truth's attacker sets are exact.
 */
export class AddressBook {
  private readonly used = new Set<string>();

  constructor(private readonly rng: Rng) {}

  /** An address in `n`; IPv6 with probability `p6` when the network has IPv6 blocks. */
  draw(n: Network, p6 = 0): Addr {
    for (;;) {
      const a = n.v6.length > 0 && (n.v4.length === 0 || this.rng.chance(p6)) ? this.six(n) : this.four(n);
      if (this.used.has(a.ip)) continue;
      this.used.add(a.ip);
      return a;
    }
  }

  /** An address in a given /24 (bots packed in a few prefixes of one network). */
  drawIn24(n: Network, base24: number): Addr {
    for (;;) {
      const u = (base24 | this.rng.int(1, 254)) >>> 0;
      const ip = fmt4(u);
      if (this.used.has(ip)) continue;
      this.used.add(ip);
      return { ip, asn: n.asn, country: n.country, prefix: `${fmt4(base24)}/24`, v6: false };
    }
  }

  /** A random /24 inside one of the network's IPv4 blocks. */
  random24(n: Network): number {
    const [base, len] = this.rng.pick(n.v4);
    const span = 2 ** (32 - len);
    return ((base + Math.floor(this.rng.float() * span)) & 0xffffff00) >>> 0;
  }

  private four(n: Network): Addr {
    const b = this.random24(n);
    const u = (b | this.rng.int(1, 254)) >>> 0;
    return { ip: fmt4(u), asn: n.asn, country: n.country, prefix: `${fmt4(b)}/24`, v6: false };
  }

  private six(n: Network): Addr {
    const [text, len] = this.rng.pick(n.v6);
    const g = text
      .split(':')
      .filter((x) => x !== '')
      .map((x) => Number.parseInt(x, 16));
    while (g.length < 4) g.push(0);
    // Randomise the bits of the first 64 below the block's length, then an interface id.
    for (let bit = len; bit < 64; bit++) {
      if (this.rng.chance(0.5)) {
        const gi = bit >> 4;
        g[gi] = ((g[gi] as number) | (0x8000 >>> (bit & 15))) & 0xffff;
      }
    }
    const all = [...g, this.rng.u32() >>> 16, this.rng.u32() >>> 16, this.rng.u32() >>> 16, this.rng.int(1, 0xffff)];
    return { ip: fmt6(all), asn: n.asn, country: n.country, prefix: `${fmt6([g[0] as number, g[1] as number, g[2] as number, 0, 0, 0, 0, 0])}/48`, v6: true };
  }
}
