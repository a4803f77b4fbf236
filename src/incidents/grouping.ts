/**
 * Which incident an alert belongs to: alerts for the same victim or the same network (/24 for
 * IPv4, /64 for IPv6; a prefix victim covers its addresses), or from the same sources, within
 * a window of the incident's last activity join one incident — a multi-vector attack on one
 * customer is one ticket, not five. Spoofed floods share no sources by chance (their top
 * sources are random), so the source rule needs several of the same addresses.
 */
import { type Prefix, parsePrefixes } from '../core/net/prefix.js';

export interface IncidentShape {
  number: number;
  /** victims of its alerts (addresses or prefixes) */
  victims: readonly string[];
  /** top sources of its alerts */
  sources: ReadonlySet<string>;
  /** ms since the epoch of its last alert event */
  lastActivity: number;
}

export interface AlertShape {
  victim: string;
  /** top source addresses of the attack */
  sources: readonly string[];
}

/** Join when the incident saw activity within this (default 30 minutes). */
export const GROUP_WINDOW_MS = 30 * 60_000;
/** Source rule: this many of the alert's top sources already seen in the incident. */
const SHARED_SOURCES = 2;

function net(p: Prefix): { family: 4 | 6; bytes: Uint8Array; len: number } {
  return { family: p.family, bytes: p.addr, len: p.len };
}

/** Same /24 (IPv4) or /64 (IPv6), or one prefix covers the other's network. */
export function sameNetwork(a: string, b: string): boolean {
  const pa = parsePrefixes(a);
  const pb = parsePrefixes(b);
  if (typeof pa === 'string' || typeof pb === 'string' || pa.length === 0 || pb.length === 0) return a === b;
  const x = net(pa[0] as Prefix);
  const y = net(pb[0] as Prefix);
  if (x.family !== y.family) return false;
  const bits = Math.min(x.family === 4 ? 24 : 64, x.len, y.len);
  for (let i = 0; i < bits; i++) {
    const byte = i >>> 3;
    const mask = 0x80 >>> (i & 7);
    if (((x.bytes[byte] as number) & mask) !== ((y.bytes[byte] as number) & mask)) return false;
  }
  return true;
}

/**
 * The open incident `alert` joins (the most recently active of those it matches), or null for
 * a new one. `now`: ms since the epoch.
 */
export function incidentFor(alert: AlertShape, open: readonly IncidentShape[], now: number, windowMs = GROUP_WINDOW_MS): number | null {
  let best: IncidentShape | null = null;
  for (const inc of open) {
    if (now - inc.lastActivity > windowMs) continue;
    let match = inc.victims.some((v) => sameNetwork(v, alert.victim));
    if (!match) {
      let shared = 0;
      for (const s of alert.sources) if (inc.sources.has(s)) shared++;
      match = shared >= SHARED_SOURCES;
    }
    if (match && (best === null || inc.lastActivity > best.lastActivity)) best = inc;
  }
  return best === null ? null : best.number;
}
