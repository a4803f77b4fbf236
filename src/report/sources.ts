/**
 * Country and AS of the addresses a report lists, from the offline databases in src/core/geoip.ts.
 * A field is present only when a database answered for that address; nothing is guessed.
 */
import { geoDb } from '../core/geoip.js';

export interface GeoRow {
  ip: string;
  packets: number;
  bytes?: number;
  country?: string;
  asn?: number;
  as_org?: string;
}

/** Whether any lookup database is installed (decides whether reports show the columns). */
export function geoAvailable(): boolean {
  return geoDb().available;
}

export function withGeo(rows: ReadonlyArray<{ ip: string; packets: number; bytes?: number }>): GeoRow[] {
  const db = geoDb();
  const on = db.available;
  return rows.map((r) => {
    const out: GeoRow = { ip: r.ip, packets: r.packets };
    if (r.bytes !== undefined) out.bytes = r.bytes;
    if (on) Object.assign(out, db.lookup(r.ip));
    return out;
  });
}

/** `AS15169 Google LLC`, or '' when unknown. */
export function asText(r: GeoRow): string {
  if (r.asn === undefined) return '';
  return r.as_org ? `AS${r.asn} ${r.as_org}` : `AS${r.asn}`;
}
