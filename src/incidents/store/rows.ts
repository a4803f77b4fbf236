/**
 * Records ↔ rows. Times are normalised to `toISOString()` on the way in (text order is then time
 * order on both backends); counts come back as numbers whichever backend (PostgreSQL's BIGINT
 * arrives as a string).
 */
import type { Selectable } from 'kysely';
import { PalisadeError } from '../../core/errors.js';
import type { Alert, AlertKind, AlertState, Severity, Urgency } from '../../model/alert.js';
import type { Attack, Vector } from '../../model/attack.js';
import type { IncidentStatus, Mitigation, MitigationState, Observable, ObservableKind, TimelineEvent } from '../../model/incident.js';
import type { OutboxItem, Silence, Summary } from './store.js';
import type { AlertsTable, IncidentsTable, MitigationsTable, ObservablesTable, OutboxTable, SilencesTable, SummariesTable, TimelineTable } from './tables.js';

/** An ISO-8601 time in one canonical form; a time that does not parse is E_INPUT. */
export function iso(t: string | number | undefined): string {
  if (t === undefined) return new Date().toISOString();
  const ms = typeof t === 'number' ? t : Date.parse(t);
  if (!Number.isFinite(ms)) throw new PalisadeError('E_INPUT', `not a time: ${String(t)}`);
  return new Date(ms).toISOString();
}

/** Rows as drivers return them: any column may be a bigint string on PostgreSQL. */
type Loose<T> = { [K in keyof Selectable<T>]: Selectable<T>[K] | string | bigint };
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const json = <T>(v: string | null): T => (v === null ? (null as T) : (JSON.parse(v) as T));

export function alertRow(a: Alert): AlertsTable {
  return {
    id: a.id,
    fingerprint: a.fingerprint,
    kind: a.kind,
    vector: a.vector,
    victim: JSON.stringify(a.victim),
    sensor: a.sensor,
    severity: a.severity,
    urgency: a.urgency,
    score: a.score,
    confidence: a.confidence,
    first_seen: iso(a.first_seen),
    last_seen: iso(a.last_seen),
    attack: JSON.stringify(a.attack),
    incident_id: a.incident_id ?? null,
    state: a.kind === 'end' ? 'ended' : (a.state ?? 'open'),
    acked_by: a.acked_by ?? null,
    acked_at: a.acked_at ? iso(a.acked_at) : null,
    silenced_by: a.silenced_by ?? null,
    peak: a.peak ?? 0,
    growing: a.growing ? 1 : 0,
    mitigated: a.mitigated ? 1 : 0,
    revision: 0,
    reasons: JSON.stringify(a.reasons ?? []),
    service: a.service ?? null,
    customer: a.customer ?? null,
  };
}

export function alertOf(r: Loose<AlertsTable>): Alert {
  return {
    id: r.id as string,
    fingerprint: r.fingerprint as string,
    kind: r.kind as AlertKind,
    vector: r.vector as Vector,
    victim: json<Attack['victim']>(r.victim as string),
    sensor: r.sensor as string,
    severity: r.severity as Severity,
    urgency: r.urgency as Urgency,
    score: num(r.score),
    confidence: num(r.confidence),
    first_seen: r.first_seen as string,
    last_seen: r.last_seen as string,
    attack: json<Attack>(r.attack as string),
    incident_id: r.incident_id === null ? null : num(r.incident_id),
    state: r.state as AlertState,
    acked_by: r.acked_by as string | null,
    acked_at: r.acked_at as string | null,
    silenced_by: r.silenced_by as string | null,
    peak: num(r.peak),
    growing: num(r.growing) === 1,
    mitigated: num(r.mitigated) === 1,
    reasons: json<string[]>(r.reasons as string),
    service: r.service as string | null,
    customer: r.customer as string | null,
    revision: num(r.revision),
  };
}

export function silenceOf(r: SilencesTable): Silence {
  return { id: r.id, expression: r.expression, until: r.until, created_by: r.created_by, reason: r.reason, created_at: r.created_at };
}

export interface IncidentHead {
  number: number;
  title: string;
  customer: string | null;
  status: IncidentStatus;
  severity: Severity;
  assignee: string | null;
  tags: string[];
  created_at: string;
  updated_at: string;
  merged_into: number | null;
}

export function incidentHeadOf(r: Loose<IncidentsTable>): IncidentHead {
  return {
    number: num(r.number),
    title: r.title as string,
    customer: r.customer as string | null,
    status: r.status as IncidentStatus,
    severity: r.severity as Severity,
    assignee: r.assignee as string | null,
    tags: json<string[]>(r.tags as string),
    created_at: r.created_at as string,
    updated_at: r.updated_at as string,
    merged_into: r.merged_into === null ? null : num(r.merged_into),
  };
}

export function timelineOf(r: Loose<TimelineTable>): TimelineEvent {
  return { id: num(r.id), at: r.at as string, kind: r.kind as string, actor: r.actor as string, text: r.text as string, data: json(r.data as string | null) };
}

export function observableOf(r: ObservablesTable): Observable {
  return { kind: r.kind as ObservableKind, value: r.value, first_seen: r.first_seen };
}

export function mitigationOf(r: Loose<MitigationsTable>): Mitigation {
  return {
    id: r.id as string,
    target: r.target as string,
    ruleset: json(r.ruleset as string),
    state: r.state as MitigationState,
    hits: num(r.hits),
    updated_at: r.updated_at as string,
  };
}

export function outboxOf(r: Loose<OutboxTable>): OutboxItem {
  return {
    id: num(r.id),
    key: r.key as string,
    target: r.target as string,
    topic: r.topic as string,
    payload: json(r.payload as string),
    attempts: num(r.attempts),
    last_error: r.last_error as string | null,
    created_at: r.created_at as string,
    lease_until: r.lease_until as string,
  };
}

export function summaryRow(s: Summary): SummariesTable {
  return {
    sensor: s.sensor,
    second: Math.floor(s.second),
    packets: s.packets,
    bytes: s.bytes,
    requests: s.requests,
    by_protocol: JSON.stringify(s.by_protocol),
    by_vector: JSON.stringify(s.by_vector),
    by_victim: JSON.stringify(s.by_victim),
    traffic_by_vector: JSON.stringify(s.traffic_by_vector ?? {}),
  };
}

export function summaryOf(r: Loose<SummariesTable>): Summary {
  return {
    sensor: r.sensor as string,
    second: num(r.second),
    packets: num(r.packets),
    bytes: num(r.bytes),
    requests: num(r.requests),
    by_protocol: json(r.by_protocol as string),
    by_vector: json(r.by_vector as string),
    by_victim: json(r.by_victim as string),
    traffic_by_vector: json((r.traffic_by_vector as string | undefined) ?? '{}'),
  };
}
