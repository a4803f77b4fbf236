/**
 * The alert and incident store: one interface, served by SQLite (one file, the default) and by
 * PostgreSQL (many machines), opened from one string by open.ts. Every method is one committed
 * transaction: when a promise resolves, the change survives a kill -9. `transaction(fn)` groups
 * several changes (and the outbox rows they produce) into one commit.
 */
import type { Alert, AlertState, Severity } from '../../model/alert.js';
import type { Vector } from '../../model/attack.js';
import type { Incident, IncidentStatus, Mitigation, MitigationState, Observable, TimelineEvent } from '../../model/incident.js';
import type { TrafficByVector } from '../../model/traffic.js';

export interface AlertFilter {
  state?: AlertState | readonly AlertState[];
  severity?: Severity | readonly Severity[];
  vector?: Vector | readonly Vector[];
  /** Alerts whose last_seen is at or after this time (ISO-8601). */
  since?: string;
  incident?: number;
  sensor?: string;
  customer?: string;
  /** At most this many, highest score first (then the most recently seen). Default 1000. */
  limit?: number;
}

export interface UpsertResult {
  alert: Alert;
  /** True when the alert was raised now; false when an open alert with its fingerprint was updated. */
  created: boolean;
}

export interface Silence {
  id: string;
  /** A Rules-language expression over alert fields; the store keeps it as text. */
  expression: string;
  /** ISO-8601 UTC: the silence stops matching then. */
  until: string;
  created_by: string;
  reason: string;
  created_at: string;
}

export type NewSilence = Omit<Silence, 'id' | 'created_at'> & { id?: string; created_at?: string };

export interface IncidentFilter {
  status?: IncidentStatus | readonly IncidentStatus[];
  severity?: Severity | readonly Severity[];
  customer?: string;
  assignee?: string;
  /** Incidents updated at or after this time (ISO-8601). */
  since?: string;
  /** Newest number first. Default 1000. */
  limit?: number;
}

/** What an incident list shows: the ticket without its timeline, observables and mitigations. */
export type IncidentSummary = Omit<Incident, 'timeline' | 'observables' | 'mitigations'>;

export interface NewIncident {
  title: string;
  customer?: string | null;
  status?: IncidentStatus;
  severity: Severity;
  assignee?: string | null;
  tags?: string[];
  /** ISO-8601 UTC; now when absent. */
  at?: string;
}

export interface IncidentChanges {
  title?: string;
  customer?: string | null;
  status?: IncidentStatus;
  severity?: Severity;
  assignee?: string | null;
  tags?: string[];
}

export interface MitigationChange {
  /** Unique within the incident; the target when absent. */
  id?: string;
  target: string;
  ruleset?: unknown;
  state: MitigationState;
  hits?: number;
}

/** One notification to send: `key` makes enqueueing idempotent and is sent to the receiver. */
export interface OutboxEvent {
  /** Idempotency key, unique per target (e.g. `alert:<id>:<revision>`). */
  key: string;
  /** Where to deliver (a configured notification target's name). */
  target: string;
  /** What it is about, e.g. alert.start, incident.status. */
  topic: string;
  payload: unknown;
  /** Not before this time (ISO-8601); now when absent. */
  due?: string;
}

export interface OutboxItem extends Required<Omit<OutboxEvent, 'due'>> {
  id: number;
  /** How many deliveries were tried before this claim. */
  attempts: number;
  last_error: string | null;
  created_at: string;
  /** The claim's lease ends then: after it, another claimer may take the item. */
  lease_until: string;
}

export interface Summary {
  sensor: string;
  /** Unix time, whole seconds (UTC). */
  second: number;
  packets: number;
  bytes: number;
  requests: number;
  by_protocol: Record<string, number>;
  by_vector: Record<string, number>;
  by_victim: Record<string, number>;
  /** The attacks' traffic in the second, by vector (absent, read as empty, in rows written before it existed). */
  traffic_by_vector?: TrafficByVector;
}

/** Retention: what `prune` deletes. */
export interface PruneOptions {
  /**
   * ISO-8601: closed incidents (resolved, false_positive) whose last change was before this time
   * go, with their alerts, timeline, observables, mitigations and the notifications queued about
   * them. An open incident is never deleted, nor a closed one with an alert seen since.
   */
  incidentsBefore: string;
  /** Per-second summaries of seconds before this (Unix seconds) go. */
  summariesBefore: number;
  /** Count what would go, delete nothing. */
  dryRun?: boolean;
}

/** What prune deleted (or, dry, would delete). */
export interface PruneResult {
  /** The numbers of the incidents. */
  incidents: number[];
  alerts: number;
  timeline: number;
  observables: number;
  mitigations: number;
  outbox: number;
  summaries: number;
}

/** Who may do what in `palisade serve`: viewer reads, operator triages, admin manages accounts. */
export type Role = 'viewer' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

export interface Account {
  name: string;
  role: Role;
  /** The scrypt hash (never the password); the server's auth module makes and checks it. */
  password_hash: string;
  created_at: string;
  created_by: string;
  disabled: boolean;
}

export interface ApiToken {
  id: string;
  account: string;
  name: string;
  /** SHA-256 of the secret, hex: the secret itself is shown once and never stored. */
  secret_hash: string;
  created_at: string;
  last_used_at: string | null;
}

export interface Session {
  /** SHA-256 of the cookie value, hex. */
  id_hash: string;
  account: string;
  /** The CSRF token a cookie-authenticated change must echo. */
  csrf: string;
  created_at: string;
  expires_at: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  /** The account (or `cli:<login>` for a change made on the command line). */
  actor: string;
  /** What, e.g. alert.ack, incident.status, account.create. */
  action: string;
  /** What it was done to, e.g. `alert:<id>`, `incident:12`, `account:alice`. */
  target: string;
  detail: unknown;
  address: string | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at' | 'address'> & { at?: string; address?: string | null };

export interface AuditFilter {
  actor?: string;
  /** At or after this time (ISO-8601). */
  since?: string;
  /** Newest first. Default 1000. */
  limit?: number;
}

export interface Store {
  /** `sqlite` or `postgres`. */
  readonly backend: 'sqlite' | 'postgres';
  /**
   * Runs fn with a store whose changes commit together, or not at all; calls on `tx` inside join
   * it. Use only `tx` inside fn: the outer store would wait for this transaction to end. On
   * PostgreSQL a deadlock runs fn again, so fn must only read and write through `tx`.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;

  // Alerts
  /** Inserts the alert, or updates the open one with its fingerprint (keeping its id, first_seen, triage state and incident). An `end` ends it. */
  upsertAlert(alert: Alert): Promise<UpsertResult>;
  getAlert(id: string): Promise<Alert | null>;
  /** The open (not ended) alert with this fingerprint. */
  findOpenAlert(fingerprint: string): Promise<Alert | null>;
  listAlerts(filter?: AlertFilter): Promise<Alert[]>;
  /** Acknowledged; false when there is no such alert or it has ended. */
  ackAlert(id: string, by: string, at?: string): Promise<boolean>;
  /** Silenced by `by` (a silence id or a person); false when there is no such alert or it has ended. */
  silenceAlert(id: string, by: string): Promise<boolean>;
  /** Back to acknowledged (when it was) or open. */
  unsilenceAlert(id: string): Promise<boolean>;

  // Silences
  addSilence(silence: NewSilence): Promise<Silence>;
  /** Every silence, or those still in force at `activeAt`. */
  listSilences(activeAt?: string): Promise<Silence[]>;
  removeSilence(id: string): Promise<boolean>;
  /** Removes the silences whose `until` is before `now`; returns them, and the alerts they silenced are unsilenced. */
  expireSilences(now?: string): Promise<Silence[]>;

  // Incidents
  /** Creates the ticket with the next number (never reused, never shared between two store handles). */
  createIncident(incident: NewIncident): Promise<Incident>;
  getIncident(number: number): Promise<Incident | null>;
  listIncidents(filter?: IncidentFilter): Promise<IncidentSummary[]>;
  /** Changes the given fields; false when there is no such incident. Timeline events are the caller's (appendTimeline). */
  updateIncident(number: number, changes: IncidentChanges, at?: string): Promise<boolean>;
  /** Returns the stored event with its id. */
  appendTimeline(number: number, event: TimelineEvent): Promise<TimelineEvent>;
  /** Adds the observables not already there; returns how many were new. */
  addObservables(number: number, observables: readonly Observable[]): Promise<number>;
  /** Inserts or changes the mitigation with this id (default: the target). */
  upsertMitigation(number: number, mitigation: MitigationChange, at?: string): Promise<Mitigation>;
  /** Puts the alert into the incident (the alert's incident_id). */
  linkAlert(number: number, alertId: string): Promise<boolean>;
  /** Moves alert from its incident to `to`, with a timeline event on both. */
  moveAlert(alertId: string, to: number, actor: string, at?: string): Promise<boolean>;
  /**
   * Merges `from` into `into`: alerts, timeline, observables and mitigations move; `from` becomes
   * a resolved pointer (merged_into) with one timeline event, and `into` gets one too.
   */
  mergeIncidents(into: number, from: number, actor: string, at?: string): Promise<Incident>;

  // Outbox (notifications)
  /** Queues the events; an event whose key and target are already queued is skipped. Returns how many were new. */
  enqueue(events: readonly OutboxEvent[]): Promise<number>;
  /** Hands up to `limit` due items to `owner` for `leaseMs`; an item is held by one claimer at a time. */
  claimOutbox(owner: string, limit: number, leaseMs: number, now?: string): Promise<OutboxItem[]>;
  /** Delivered: never handed out again. False when `owner` no longer holds the lease. */
  markDelivered(id: number, owner: string, at?: string): Promise<boolean>;
  /** Not delivered: handed out again at `retryAt` (or never, when null: dead). */
  markFailed(id: number, owner: string, error: string, retryAt: string | null): Promise<boolean>;
  /** Items not yet delivered (pending or dead), for status and tests. */
  outboxBacklog(): Promise<{ pending: number; dead: number }>;
  /** Deletes items delivered before `before` (a re-enqueue of their key is then new again); returns how many. */
  pruneOutbox(before: string): Promise<number>;

  // Per-second summaries
  /** Writes (or replaces) the summaries in one transaction. */
  writeSummaries(rows: readonly Summary[]): Promise<void>;
  /** Summaries with from <= second < to, by second, optionally of one sensor. */
  readSummaries(from: number, to: number, sensor?: string): Promise<Summary[]>;
  /** Deletes summaries older than `before` (Unix seconds); returns how many. */
  deleteSummariesBefore(before: number): Promise<number>;
  /** Each sensor that wrote summaries: its first and last second (a scan of the table: retention keeps it bounded). */
  summarySensors(): Promise<{ sensor: string; first: number; last: number }[]>;

  // Retention
  /** Deletes old closed incidents with everything of theirs, and old summaries, in one transaction (see PruneOptions). */
  prune(options: PruneOptions): Promise<PruneResult>;

  // Accounts, tokens, sessions and the audit log (palisade serve)
  /** False when an account of that name exists. */
  createAccount(account: Omit<Account, 'disabled'>): Promise<boolean>;
  getAccount(name: string): Promise<Account | null>;
  /** Replaces the password hash; false when there is no such account. */
  setPassword(name: string, passwordHash: string): Promise<boolean>;
  listAccounts(): Promise<Account[]>;
  /** Changes the account's role (read again on each request: its sessions and tokens act with the new one at once). False when there is no such account. */
  setRole(name: string, role: Role): Promise<boolean>;
  /** Deletes the account's sessions (a password reset: it must log in again); returns how many. */
  endSessions(name: string): Promise<number>;
  /** Disables (or enables again) the account; disabling also deletes its sessions. False when there is no such account. */
  setAccountDisabled(name: string, disabled: boolean): Promise<boolean>;
  addToken(token: Omit<ApiToken, 'last_used_at'>): Promise<void>;
  getToken(id: string): Promise<ApiToken | null>;
  touchToken(id: string, at?: string): Promise<void>;
  /** The tokens of an account (or every account's), oldest first. */
  listTokens(account?: string): Promise<ApiToken[]>;
  /** Deletes the token: it stops working at once. False when there is no such token. */
  deleteToken(id: string): Promise<boolean>;
  createSession(session: Session): Promise<void>;
  /** The session, when it exists and has not expired at `now`. */
  getSession(idHash: string, now?: string): Promise<Session | null>;
  deleteSession(idHash: string): Promise<boolean>;
  /** Deletes sessions expired before `now`; returns how many. */
  deleteExpiredSessions(now?: string): Promise<number>;
  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  listAudit(filter?: AuditFilter): Promise<AuditEntry[]>;

  /** The migration version of the database. */
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
