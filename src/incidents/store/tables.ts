/**
 * The tables as Kysely sees them. Both backends store the same column types: times as ISO-8601
 * text (normalised to `toISOString()`, so text order is time order), JSON as text, booleans as
 * 0/1. PostgreSQL hands BIGINT back as a string: rows.ts turns every count into a number.
 */
import type { Generated } from 'kysely';
import type { ApiToken } from './store.js';

export interface AlertsTable {
  id: string;
  fingerprint: string;
  kind: string;
  vector: string;
  victim: string;
  sensor: string;
  severity: string;
  urgency: string;
  score: number;
  confidence: number;
  first_seen: string;
  last_seen: string;
  attack: string;
  incident_id: number | null;
  state: string;
  acked_by: string | null;
  acked_at: string | null;
  silenced_by: string | null;
  peak: number;
  growing: number;
  mitigated: number;
  revision: number;
  /** JSON array of strings. */
  reasons: string;
  service: string | null;
  customer: string | null;
}

export interface SilencesTable {
  id: string;
  expression: string;
  until: string;
  created_by: string;
  reason: string;
  created_at: string;
}

export interface IncidentsTable {
  number: number;
  title: string;
  customer: string | null;
  status: string;
  severity: string;
  assignee: string | null;
  tags: string;
  created_at: string;
  updated_at: string;
  merged_into: number | null;
}

export interface TimelineTable {
  id: Generated<number>;
  incident: number;
  at: string;
  kind: string;
  actor: string;
  text: string;
  data: string | null;
}

export interface ObservablesTable {
  incident: number;
  kind: string;
  value: string;
  first_seen: string;
}

export interface MitigationsTable {
  incident: number;
  id: string;
  target: string;
  ruleset: string;
  state: string;
  hits: number;
  created_at: string;
  updated_at: string;
}

export interface OutboxTable {
  id: Generated<number>;
  key: string;
  target: string;
  topic: string;
  payload: string;
  created_at: string;
  due: string;
  /** pending | delivered | dead */
  state: string;
  attempts: number;
  last_error: string | null;
  lease_owner: string | null;
  lease_until: string | null;
  delivered_at: string | null;
}

export interface SummariesTable {
  sensor: string;
  second: number;
  packets: number;
  bytes: number;
  requests: number;
  by_protocol: string;
  by_vector: string;
  by_victim: string;
  traffic_by_vector: string;
}

export interface CountersTable {
  name: string;
  value: number;
}

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: string;
}

export interface AccountsTable {
  name: string;
  role: string;
  /** `scrypt$N$r$p$salt$hash` (base64). */
  password_hash: string;
  created_at: string;
  created_by: string;
  disabled: number;
}

/** The row is the Store's ApiToken as it is (no JSON or boolean columns to convert). */
export type ApiTokensTable = ApiToken;

export interface SessionsTable {
  /** SHA-256 of the cookie's value, hex. */
  id_hash: string;
  account: string;
  csrf: string;
  created_at: string;
  expires_at: string;
}

export interface AuditTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  target: string;
  /** JSON. */
  detail: string;
  address: string | null;
}

export interface Tables {
  alerts: AlertsTable;
  silences: SilencesTable;
  incidents: IncidentsTable;
  incident_timeline: TimelineTable;
  incident_observables: ObservablesTable;
  incident_mitigations: MitigationsTable;
  outbox: OutboxTable;
  summaries: SummariesTable;
  counters: CountersTable;
  palisade_migrations: MigrationsTable;
  accounts: AccountsTable;
  api_tokens: ApiTokensTable;
  sessions: SessionsTable;
  audit_log: AuditTable;
}
