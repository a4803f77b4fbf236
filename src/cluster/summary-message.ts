/**
 * The per-second summary a node publishes on `palisade.<site>.<node>.summary` (DESIGN.md "Events
 * between nodes"): the monitor's SecondSummary under the store's field names, who sent it, and for
 * a sensor the second's detector window as mergeable bytes (detect/l34/window-rows.ts: per
 * destination class counters and linear-counting bitmaps that OR together), base64 in the JSON.
 * The correlator adds those windows up and decides them with the detector a single sensor uses.
 *
 * Messages come from other processes: `parseSummary` checks every field it relies on and throws
 * an InputError naming the first bad one (the consumer counts and skips such a message).
 */

import type { SecondSummary } from '../analyze/monitor.js';
import { InputError } from '../core/errors.js';
import type { Summary } from '../incidents/store/store.js';
import type { TrafficByVector } from '../model/traffic.js';
import type { NodeRole } from './subjects.js';

/** The store's per-second row (its field names), with who sent it and the detector's window. */
export interface SummaryMessage extends Omit<Summary, 'sensor' | 'traffic_by_vector'> {
  v: 1;
  role: NodeRole;
  site: string;
  node: string;
  /** wall clock when it was sent, ms */
  timeMs: number;
  /** open attacks at the second's end */
  attacks: number;
  traffic_by_vector: TrafficByVector;
  /** the detector's window of that second (window-rows.ts), base64; absent: no packets counted */
  rows?: string;
}

/** Message id of a node's summary: one per node and second, so a resend is dropped by JetStream. */
export function summaryMsgId(node: string, second: number): string {
  return `${node}:summary:${second}`;
}

export function sensorSummary(site: string, node: string, s: SecondSummary, rows: Uint8Array | null, timeMs: number): SummaryMessage {
  const m: SummaryMessage = {
    v: 1,
    role: 'sensor',
    site,
    node,
    second: s.second,
    timeMs,
    packets: s.packets,
    bytes: s.bytes,
    requests: s.requests,
    attacks: s.attacks,
    by_protocol: s.byProtocol,
    by_vector: s.byVector,
    by_victim: s.byVictim,
    traffic_by_vector: s.trafficByVector,
  };
  if (rows !== null && rows.length > 0) m.rows = Buffer.from(rows.buffer, rows.byteOffset, rows.length).toString('base64');
  return m;
}

const ROLES: ReadonlySet<string> = new Set(['sensor', 'edge', 'correlator']);

function num(o: Record<string, unknown>, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InputError(`summary: ${k} must be a non-negative number`);
  return v;
}

function counts(o: Record<string, unknown>, k: string): Record<string, number> {
  const v = o[k] ?? {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new InputError(`summary: ${k} must be an object of counts`);
  for (const [name, n] of Object.entries(v)) if (typeof n !== 'number' || !Number.isFinite(n)) throw new InputError(`summary: ${k}.${name} must be a number`);
  return v as Record<string, number>;
}

/** A summary message from the bus, checked; throws InputError naming the first bad field. */
export function parseSummary(data: unknown): SummaryMessage {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InputError('summary: not an object');
  const o = data as Record<string, unknown>;
  if (o.v !== 1) throw new InputError(`summary: unknown version ${String(o.v)}`);
  if (typeof o.role !== 'string' || !ROLES.has(o.role)) throw new InputError('summary: role must be sensor, edge or correlator');
  if (typeof o.site !== 'string' || typeof o.node !== 'string') throw new InputError('summary: site and node must be strings');
  const second = num(o, 'second');
  if (!Number.isInteger(second)) throw new InputError('summary: second must be an integer');
  if (o.rows !== undefined && typeof o.rows !== 'string') throw new InputError('summary: rows must be base64 text');
  const tbv = o.traffic_by_vector ?? {};
  if (typeof tbv !== 'object' || tbv === null || Array.isArray(tbv)) throw new InputError('summary: traffic_by_vector must be an object');
  return {
    v: 1,
    role: o.role as NodeRole,
    site: o.site,
    node: o.node,
    second,
    timeMs: num(o, 'timeMs'),
    // an edge's summary counts requests, not packets
    packets: o.role === 'sensor' || o.packets !== undefined ? num(o, 'packets') : 0,
    bytes: o.role === 'sensor' || o.bytes !== undefined ? num(o, 'bytes') : 0,
    requests: typeof o.requests === 'number' ? o.requests : 0,
    attacks: typeof o.attacks === 'number' ? o.attacks : 0,
    by_protocol: counts(o, 'by_protocol'),
    by_vector: counts(o, 'by_vector'),
    by_victim: counts(o, 'by_victim'),
    traffic_by_vector: tbv as TrafficByVector,
    ...(typeof o.rows === 'string' && { rows: o.rows }),
  };
}

/** The window bytes of a summary (a copy-free view of the decoded base64). */
export function summaryRows(m: SummaryMessage): Uint8Array | null {
  if (m.rows === undefined || m.rows.length === 0) return null;
  const b = Buffer.from(m.rows, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
