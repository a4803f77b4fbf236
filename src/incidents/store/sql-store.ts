/**
 * The Store over Kysely, one implementation for SQLite and PostgreSQL. Each public method runs
 * in one transaction (or joins the caller's `transaction`), so "stored" means committed. The few
 * places the dialects differ are marked: SQLite takes its write lock at BEGIN (IMMEDIATE) and has
 * no row locks (the outbox claim relies on that single writer); PostgreSQL locks rows and may
 * report a deadlock, after which the transaction is run again.
 */
import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { PalisadeError } from '../../core/errors.js';
import type { Alert, Severity } from '../../model/alert.js';
import { SEVERITIES } from '../../model/alert.js';
import { CLOSED_STATUSES, type Incident, type Mitigation, type Observable, type TimelineEvent } from '../../model/incident.js';
import { current, type Dialect } from './migrations.js';
import { alertOf, alertRow, incidentHeadOf, iso, mitigationOf, observableOf, outboxOf, silenceOf, summaryOf, summaryRow, timelineOf } from './rows.js';
import type { FileLock } from './sqlite.js';
import type {
  Account,
  AlertFilter,
  ApiToken,
  AuditEntry,
  AuditFilter,
  IncidentChanges,
  IncidentFilter,
  IncidentSummary,
  MitigationChange,
  NewAuditEntry,
  NewIncident,
  NewSilence,
  OutboxEvent,
  OutboxItem,
  PruneOptions,
  PruneResult,
  Role,
  Session,
  Silence,
  Store,
  Summary,
  UpsertResult,
} from './store.js';
import type { AccountsTable, Tables } from './tables.js';

const DEFAULT_LIMIT = 1000;
/** Rows per INSERT when writing summaries: under SQLite's and PostgreSQL's bound-parameter caps. */
const SUMMARY_BATCH = 500;
/** Values per IN list when pruning: under SQLite's and PostgreSQL's bound-parameter caps. */
const PRUNE_BATCH = 500;
/** Outbox rows read per page while looking for an incident's notifications. */
const OUTBOX_PAGE = 1000;
/** PostgreSQL: deadlock_detected, serialization_failure. */
const RETRY_CODES = new Set(['40P01', '40001']);
const RETRIES = 3;

const list = <T>(v: T | readonly T[] | undefined): readonly T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? (v as readonly T[]) : [v as T]);
const rank = (s: Severity): number => SEVERITIES.indexOf(s);

export interface Backend {
  dialect: Dialect;
  db: Kysely<Tables>;
  /** SQLite: the per-file lock that serialises this process's handles; none on PostgreSQL. */
  lock: FileLock | null;
  /** Maps a driver error to a PalisadeError where it means something (a file that is not a database). */
  mapError: (err: unknown) => unknown;
  close: () => Promise<void>;
}

export class SqlStore implements Store {
  readonly backend: Dialect;

  constructor(
    private readonly b: Backend,
    /** The transaction's connection, or the pool outside one. */
    private readonly db: Kysely<Tables> = b.db,
    private readonly inTx = false,
  ) {
    this.backend = b.dialect;
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.inTx) return fn(this);
    const release = this.b.lock ? await this.b.lock.acquire() : null;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.b.db.connection().execute(async (conn) => {
            await sql.raw(this.backend === 'sqlite' ? 'BEGIN IMMEDIATE' : 'BEGIN').execute(conn);
            try {
              const out = await fn(new SqlStore(this.b, conn, true));
              await sql.raw('COMMIT').execute(conn);
              return out;
            } catch (err) {
              await sql
                .raw('ROLLBACK')
                .execute(conn)
                .catch(() => {});
              throw err;
            }
          });
        } catch (err) {
          if (attempt < RETRIES && RETRY_CODES.has((err as { code?: string })?.code ?? '')) continue;
          throw this.b.mapError(err);
        }
      }
    } finally {
      release?.();
    }
  }

  /** A read outside any transaction, with driver errors mapped. */
  private async read<T>(fn: (db: Kysely<Tables>) => Promise<T>): Promise<T> {
    try {
      return await fn(this.db);
    } catch (err) {
      throw this.b.mapError(err);
    }
  }

  // ---- alerts

  upsertAlert(alert: Alert): Promise<UpsertResult> {
    const row = alertRow(alert);
    if (row.state === 'ended') row.state = 'open';
    return this.transaction(async (tx) => {
      const db = (tx as SqlStore).db;
      const stored = await db
        .insertInto('alerts')
        .values(row)
        .onConflict((oc) =>
          oc
            .column('fingerprint')
            // The partial index's own predicate, as a literal: SQLite matches the conflict target
            // to the index by its text, and a bound parameter would not match.
            .where(sql<boolean>`state <> 'ended'`)
            .doUpdateSet({
              kind: (eb) => eb.ref('excluded.kind'),
              vector: (eb) => eb.ref('excluded.vector'),
              victim: (eb) => eb.ref('excluded.victim'),
              sensor: (eb) => eb.ref('excluded.sensor'),
              severity: (eb) => eb.ref('excluded.severity'),
              urgency: (eb) => eb.ref('excluded.urgency'),
              score: (eb) => eb.ref('excluded.score'),
              confidence: (eb) => eb.ref('excluded.confidence'),
              last_seen: (eb) => eb.ref('excluded.last_seen'),
              attack: (eb) => eb.ref('excluded.attack'),
              growing: (eb) => eb.ref('excluded.growing'),
              mitigated: (eb) => eb.ref('excluded.mitigated'),
              reasons: (eb) => eb.ref('excluded.reasons'),
              service: (eb) => eb.ref('excluded.service'),
              customer: (eb) => eb.ref('excluded.customer'),
              // The triage state stays what people made it; only an end event changes it.
              state: sql<string>`CASE WHEN excluded.kind = 'end' THEN 'ended' ELSE alerts.state END`,
              peak: sql<number>`CASE WHEN excluded.peak > alerts.peak THEN excluded.peak ELSE alerts.peak END`,
              incident_id: sql<number | null>`COALESCE(excluded.incident_id, alerts.incident_id)`,
              revision: sql<number>`alerts.revision + 1`,
            }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      const out = alertOf(stored);
      // An end event for an attack with no open alert is stored ended (it entered as open so
      // that an open alert, when there is one, is the conflict and is ended in place).
      if (out.revision === 0 && alert.kind === 'end') {
        await db.updateTable('alerts').set({ state: 'ended' }).where('id', '=', out.id).execute();
        out.state = 'ended';
      }
      return { alert: out, created: out.revision === 0 };
    });
  }

  async getAlert(id: string): Promise<Alert | null> {
    const r = await this.read((db) => db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst());
    return r ? alertOf(r) : null;
  }

  async findOpenAlert(fingerprint: string): Promise<Alert | null> {
    const r = await this.read((db) => db.selectFrom('alerts').selectAll().where('fingerprint', '=', fingerprint).where('state', '<>', 'ended').executeTakeFirst());
    return r ? alertOf(r) : null;
  }

  async listAlerts(filter: AlertFilter = {}): Promise<Alert[]> {
    let q = this.db.selectFrom('alerts').selectAll();
    const states = list(filter.state);
    const severities = list(filter.severity);
    const vectors = list(filter.vector);
    if (states) q = q.where('state', 'in', states.length ? states : ['']);
    if (severities) q = q.where('severity', 'in', severities.length ? severities : ['']);
    if (vectors) q = q.where('vector', 'in', vectors.length ? vectors : ['']);
    if (filter.since !== undefined) q = q.where('last_seen', '>=', iso(filter.since));
    if (filter.incident !== undefined) q = q.where('incident_id', '=', filter.incident);
    if (filter.sensor !== undefined) q = q.where('sensor', '=', filter.sensor);
    if (filter.customer !== undefined) q = q.where('customer', '=', filter.customer);
    const rows = await this.read(() =>
      q
        .orderBy('score', 'desc')
        .orderBy('last_seen', 'desc')
        .orderBy('id')
        .limit(filter.limit ?? DEFAULT_LIMIT)
        .execute(),
    );
    return rows.map(alertOf);
  }

  ackAlert(id: string, by: string, at?: string): Promise<boolean> {
    return this.change((db) =>
      db
        .updateTable('alerts')
        .set({ acked_by: by, acked_at: iso(at), state: sql<string>`CASE WHEN state = 'open' THEN 'acknowledged' ELSE state END` })
        .where('id', '=', id)
        .where('state', '<>', 'ended')
        .executeTakeFirst(),
    );
  }

  silenceAlert(id: string, by: string): Promise<boolean> {
    return this.change((db) => db.updateTable('alerts').set({ state: 'silenced', silenced_by: by }).where('id', '=', id).where('state', '<>', 'ended').executeTakeFirst());
  }

  unsilenceAlert(id: string): Promise<boolean> {
    return this.change((db) => db.updateTable('alerts').set(UNSILENCED).where('id', '=', id).where('state', '=', 'silenced').executeTakeFirst());
  }

  /** One UPDATE or DELETE in a transaction; true when it touched a row. */
  private change(fn: (db: Kysely<Tables>) => Promise<{ numUpdatedRows?: bigint; numDeletedRows?: bigint } | undefined>): Promise<boolean> {
    return this.transaction(async (tx) => {
      const r = await fn((tx as SqlStore).db);
      return Number(r?.numUpdatedRows ?? r?.numDeletedRows ?? 0) > 0;
    });
  }

  // ---- silences

  addSilence(s: NewSilence): Promise<Silence> {
    const row = { id: s.id ?? randomUUID(), expression: s.expression, until: iso(s.until), created_by: s.created_by, reason: s.reason, created_at: iso(s.created_at) };
    return this.transaction(async (tx) => {
      await (tx as SqlStore).db.insertInto('silences').values(row).execute();
      return silenceOf(row);
    });
  }

  async listSilences(activeAt?: string): Promise<Silence[]> {
    let q = this.db.selectFrom('silences').selectAll();
    if (activeAt !== undefined) q = q.where('until', '>', iso(activeAt));
    return (await this.read(() => q.orderBy('created_at').orderBy('id').execute())).map(silenceOf);
  }

  removeSilence(id: string): Promise<boolean> {
    return this.change((db) => db.deleteFrom('silences').where('id', '=', id).executeTakeFirst());
  }

  expireSilences(now?: string): Promise<Silence[]> {
    const at = iso(now);
    return this.transaction(async (tx) => {
      const db = (tx as SqlStore).db;
      const gone = (await db.deleteFrom('silences').where('until', '<=', at).returningAll().execute()).map(silenceOf);
      if (gone.length > 0) {
        await db
          .updateTable('alerts')
          .set(UNSILENCED)
          .where('state', '=', 'silenced')
          .where(
            'silenced_by',
            'in',
            gone.map((s) => s.id),
          )
          .execute();
      }
      return gone;
    });
  }

  // ---- incidents

  createIncident(n: NewIncident): Promise<Incident> {
    const at = iso(n.at);
    return this.transaction(async (tx) => {
      const db = (tx as SqlStore).db;
      // The counter row is the one place numbers come from: its update is serialised by SQLite's
      // write lock and by PostgreSQL's row lock, so two writers never get the same number.
      const counter = await db
        .updateTable('counters')
        .set((eb) => ({ value: eb('value', '+', 1) }))
        .where('name', '=', 'incident')
        .returning('value')
        .executeTakeFirstOrThrow();
      const number = Number(counter.value);
      const row = {
        number,
        title: n.title,
        customer: n.customer ?? null,
        status: n.status ?? 'new',
        severity: n.severity,
        assignee: n.assignee ?? null,
        tags: JSON.stringify(n.tags ?? []),
        created_at: at,
        updated_at: at,
        merged_into: null,
      };
      await db.insertInto('incidents').values(row).execute();
      return { ...incidentHeadOf(row), alerts: [], timeline: [], observables: [], mitigations: [] };
    });
  }

  async getIncident(number: number): Promise<Incident | null> {
    return this.read(async (db) => {
      const [head, alerts, timeline, observables, mitigations] = await Promise.all([
        db.selectFrom('incidents').selectAll().where('number', '=', number).executeTakeFirst(),
        db.selectFrom('alerts').select('id').where('incident_id', '=', number).orderBy('first_seen').orderBy('id').execute(),
        db.selectFrom('incident_timeline').selectAll().where('incident', '=', number).orderBy('at').orderBy('id').execute(),
        db.selectFrom('incident_observables').selectAll().where('incident', '=', number).orderBy('first_seen').orderBy('kind').orderBy('value').execute(),
        db.selectFrom('incident_mitigations').selectAll().where('incident', '=', number).orderBy('created_at').orderBy('id').execute(),
      ]);
      if (head === undefined) return null;
      return {
        ...incidentHeadOf(head),
        alerts: alerts.map((a) => a.id),
        timeline: timeline.map(timelineOf),
        observables: observables.map(observableOf),
        mitigations: mitigations.map(mitigationOf),
      };
    });
  }

  async listIncidents(filter: IncidentFilter = {}): Promise<IncidentSummary[]> {
    let q = this.db.selectFrom('incidents').selectAll();
    const statuses = list(filter.status);
    const severities = list(filter.severity);
    if (statuses) q = q.where('status', 'in', statuses.length ? statuses : ['']);
    if (severities) q = q.where('severity', 'in', severities.length ? severities : ['']);
    if (filter.customer !== undefined) q = q.where('customer', '=', filter.customer);
    if (filter.assignee !== undefined) q = q.where('assignee', '=', filter.assignee);
    if (filter.since !== undefined) q = q.where('updated_at', '>=', iso(filter.since));
    return this.read(async (db) => {
      const heads = (
        await q
          .orderBy('number', 'desc')
          .limit(filter.limit ?? DEFAULT_LIMIT)
          .execute()
      ).map(incidentHeadOf);
      if (heads.length === 0) return [];
      const ids = new Map<number, string[]>(heads.map((h) => [h.number, []]));
      const links = await db
        .selectFrom('alerts')
        .select(['id', 'incident_id'])
        .where(
          'incident_id',
          'in',
          heads.map((h) => h.number),
        )
        .orderBy('first_seen')
        .orderBy('id')
        .execute();
      for (const l of links) ids.get(Number(l.incident_id))?.push(l.id);
      return heads.map((h) => ({ ...h, alerts: ids.get(h.number) ?? [] }));
    });
  }

  updateIncident(number: number, changes: IncidentChanges, at?: string): Promise<boolean> {
    const set: Record<string, unknown> = { updated_at: iso(at) };
    for (const k of ['title', 'customer', 'status', 'severity', 'assignee'] as const) if (changes[k] !== undefined) set[k] = changes[k];
    if (changes.tags !== undefined) set.tags = JSON.stringify(changes.tags);
    return this.change((db) => db.updateTable('incidents').set(set).where('number', '=', number).executeTakeFirst());
  }

  /** Marks the incident changed; E_INPUT when there is none (every child write checks through here). */
  private async touch(db: Kysely<Tables>, number: number, at: string): Promise<void> {
    const r = await db.updateTable('incidents').set({ updated_at: at }).where('number', '=', number).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) throw new PalisadeError('E_INPUT', `no incident #${number}`);
  }

  appendTimeline(number: number, event: TimelineEvent): Promise<TimelineEvent> {
    return this.transaction((tx) => (tx as SqlStore).insertTimeline(number, event, true));
  }

  private async insertTimeline(number: number, event: TimelineEvent, touch: boolean): Promise<TimelineEvent> {
    const at = iso(event.at);
    if (touch) await this.touch(this.db, number, at);
    const row = { incident: number, at, kind: event.kind, actor: event.actor, text: event.text, data: event.data == null ? null : JSON.stringify(event.data) };
    const r = await this.db.insertInto('incident_timeline').values(row).returning('id').executeTakeFirstOrThrow();
    return { id: Number(r.id), at, kind: event.kind, actor: event.actor, text: event.text, data: event.data ?? null };
  }

  addObservables(number: number, observables: readonly Observable[]): Promise<number> {
    return this.transaction(async (tx) => {
      const db = (tx as SqlStore).db;
      const now = iso(undefined);
      await this.touch(db, number, now);
      if (observables.length === 0) return 0;
      const r = await db
        .insertInto('incident_observables')
        .values(observables.map((o) => ({ incident: number, kind: o.kind, value: o.value, first_seen: o.first_seen ? iso(o.first_seen) : now })))
        .onConflict((oc) => oc.columns(['incident', 'kind', 'value']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0);
    });
  }

  upsertMitigation(number: number, m: MitigationChange, at?: string): Promise<Mitigation> {
    const now = iso(at);
    const row = {
      incident: number,
      id: m.id ?? m.target,
      target: m.target,
      ruleset: JSON.stringify(m.ruleset ?? null),
      state: m.state,
      hits: m.hits ?? 0,
      created_at: now,
      updated_at: now,
    };
    return this.transaction(async (tx) => {
      const db = (tx as SqlStore).db;
      await this.touch(db, number, now);
      const stored = await db
        .insertInto('incident_mitigations')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['incident', 'id']).doUpdateSet({
            target: (eb) => eb.ref('excluded.target'),
            state: (eb) => eb.ref('excluded.state'),
            updated_at: (eb) => eb.ref('excluded.updated_at'),
            // A change that does not carry the ruleset or the hits keeps the stored ones.
            ...(m.ruleset !== undefined ? { ruleset: (eb) => eb.ref('excluded.ruleset') } : {}),
            ...(m.hits !== undefined ? { hits: (eb) => eb.ref('excluded.hits') } : {}),
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return mitigationOf(stored);
    });
  }

  linkAlert(number: number, alertId: string): Promise<boolean> {
    return this.transaction(async (tx) => {
      const db = (tx as SqlStore).db;
      await this.touch(db, number, iso(undefined));
      const r = await db.updateTable('alerts').set({ incident_id: number }).where('id', '=', alertId).executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    });
  }

  moveAlert(alertId: string, to: number, actor: string, at?: string): Promise<boolean> {
    const when = iso(at);
    return this.transaction(async (tx) => {
      const t = tx as SqlStore;
      const alert = await t.db.selectFrom('alerts').select(['id', 'incident_id']).where('id', '=', alertId).executeTakeFirst();
      if (alert === undefined) return false;
      const from = alert.incident_id === null ? null : Number(alert.incident_id);
      if (from === to) return true;
      await t.touch(t.db, to, when);
      await t.db.updateTable('alerts').set({ incident_id: to }).where('id', '=', alertId).execute();
      if (from !== null) {
        await t.touch(t.db, from, when);
        await t.insertTimeline(from, { at: when, kind: 'alert_moved', actor, text: `alert ${alertId} moved to #${to}`, data: { alert: alertId, to } }, false);
      }
      await t.insertTimeline(
        to,
        { at: when, kind: 'alert_moved', actor, text: `alert ${alertId} moved here${from === null ? '' : ` from #${from}`}`, data: { alert: alertId, from } },
        false,
      );
      return true;
    });
  }

  mergeIncidents(into: number, from: number, actor: string, at?: string): Promise<Incident> {
    if (into === from) return Promise.reject(new PalisadeError('E_INPUT', `cannot merge incident #${into} into itself`));
    const when = iso(at);
    return this.transaction(async (tx) => {
      const t = tx as SqlStore;
      const db = t.db;
      const heads = await db.selectFrom('incidents').selectAll().where('number', 'in', [into, from]).execute();
      const a = heads.find((h) => Number(h.number) === into);
      const b = heads.find((h) => Number(h.number) === from);
      if (a === undefined || b === undefined) throw new PalisadeError('E_INPUT', `no incident #${a === undefined ? into : from}`);
      if (b.merged_into !== null) throw new PalisadeError('E_INPUT', `incident #${from} was already merged into #${b.merged_into}`);
      if (a.merged_into !== null) throw new PalisadeError('E_INPUT', `incident #${into} was merged into #${a.merged_into}; merge into that one`);
      await db.updateTable('alerts').set({ incident_id: into }).where('incident_id', '=', from).execute();
      await db.updateTable('incident_timeline').set({ incident: into }).where('incident', '=', from).execute();
      // Observables: the union, keeping the earlier first_seen of a duplicate.
      const obs = await db.selectFrom('incident_observables').selectAll().where('incident', '=', from).execute();
      if (obs.length > 0) {
        await db
          .insertInto('incident_observables')
          .values(obs.map((o) => ({ ...o, incident: into })))
          .onConflict((oc) =>
            oc.columns(['incident', 'kind', 'value']).doUpdateSet({
              first_seen: sql<string>`CASE WHEN excluded.first_seen < incident_observables.first_seen THEN excluded.first_seen ELSE incident_observables.first_seen END`,
            }),
          )
          .execute();
        await db.deleteFrom('incident_observables').where('incident', '=', from).execute();
      }
      // Mitigations keep their ids; one that clashes with the target incident's is renamed id@from.
      const mits = await db.selectFrom('incident_mitigations').selectAll().where('incident', '=', from).execute();
      if (mits.length > 0) {
        const taken = new Set((await db.selectFrom('incident_mitigations').select('id').where('incident', '=', into).execute()).map((m) => m.id));
        await db.deleteFrom('incident_mitigations').where('incident', '=', from).execute();
        await db
          .insertInto('incident_mitigations')
          .values(mits.map((m) => ({ ...m, hits: Number(m.hits), incident: into, id: taken.has(m.id) ? `${m.id}@${from}` : m.id })))
          .execute();
      }
      const severity = rank(b.severity as Severity) < rank(a.severity as Severity) ? b.severity : a.severity;
      await db.updateTable('incidents').set({ severity, updated_at: when }).where('number', '=', into).execute();
      await db.updateTable('incidents').set({ status: 'resolved', merged_into: into, updated_at: when }).where('number', '=', from).execute();
      await t.insertTimeline(into, { at: when, kind: 'merged', actor, text: `#${from} merged into this incident`, data: { from } }, false);
      await t.insertTimeline(from, { at: when, kind: 'merged', actor, text: `merged into #${into}`, data: { into } }, false);
      return (await t.getIncident(into)) as Incident;
    });
  }

  // ---- outbox

  enqueue(events: readonly OutboxEvent[]): Promise<number> {
    if (events.length === 0) return Promise.resolve(0);
    const now = iso(undefined);
    const rows = events.map((e) => ({
      key: e.key,
      target: e.target,
      topic: e.topic,
      payload: JSON.stringify(e.payload ?? null),
      created_at: now,
      due: e.due ? iso(e.due) : now,
      state: 'pending',
      attempts: 0,
      last_error: null,
      lease_owner: null,
      lease_until: null,
      delivered_at: null,
    }));
    return this.transaction(async (tx) => {
      const r = await (tx as SqlStore).db
        .insertInto('outbox')
        .values(rows)
        .onConflict((oc) => oc.columns(['key', 'target']).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0);
    });
  }

  claimOutbox(owner: string, limit: number, leaseMs: number, now?: string): Promise<OutboxItem[]> {
    const at = iso(now);
    const until = iso(Date.parse(at) + leaseMs);
    return this.transaction(async (tx) => {
      const db = (tx as SqlStore).db;
      let due = db
        .selectFrom('outbox')
        .select('id')
        .where('state', '=', 'pending')
        .where('due', '<=', at)
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', at)]))
        .orderBy('id')
        .limit(limit);
      // PostgreSQL: a concurrent claimer skips the rows this one is taking instead of waiting and
      // then taking them too. SQLite has one writer at a time, so the plain select is final.
      if (this.backend === 'postgres') due = due.forUpdate().skipLocked();
      const rows = await db
        .updateTable('outbox')
        .set({ lease_owner: owner, lease_until: until })
        .where('id', 'in', due)
        .where('state', '=', 'pending')
        .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', at)]))
        .returningAll()
        .execute();
      return rows.map(outboxOf).sort((x, y) => x.id - y.id);
    });
  }

  markDelivered(id: number, owner: string, at?: string): Promise<boolean> {
    return this.change((db) =>
      db
        .updateTable('outbox')
        .set({ state: 'delivered', delivered_at: iso(at), lease_owner: null, lease_until: null })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .where('state', '=', 'pending')
        .executeTakeFirst(),
    );
  }

  markFailed(id: number, owner: string, error: string, retryAt: string | null): Promise<boolean> {
    return this.change((db) =>
      db
        .updateTable('outbox')
        .set((eb) => ({
          state: retryAt === null ? 'dead' : 'pending',
          attempts: eb('attempts', '+', 1),
          last_error: error,
          lease_owner: null,
          lease_until: null,
          ...(retryAt === null ? {} : { due: iso(retryAt) }),
        }))
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .where('state', '=', 'pending')
        .executeTakeFirst(),
    );
  }

  async outboxBacklog(): Promise<{ pending: number; dead: number }> {
    const rows = await this.read((db) =>
      db
        .selectFrom('outbox')
        .select((eb) => ['state', eb.fn.countAll().as('n')])
        .where('state', 'in', ['pending', 'dead'])
        .groupBy('state')
        .execute(),
    );
    // count() is a number on SQLite and a string on PostgreSQL.
    const n = (s: string) => Number(rows.find((r) => r.state === s)?.n ?? 0);
    return { pending: n('pending'), dead: n('dead') };
  }

  pruneOutbox(before: string): Promise<number> {
    const at = iso(before);
    return this.transaction(async (tx) => {
      const r = await (tx as SqlStore).db.deleteFrom('outbox').where('state', '=', 'delivered').where('delivered_at', '<', at).executeTakeFirst();
      return Number(r.numDeletedRows);
    });
  }

  // ---- summaries

  writeSummaries(rows: readonly Summary[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.transaction(async (tx) => {
      const db = (tx as SqlStore).db;
      for (let i = 0; i < rows.length; i += SUMMARY_BATCH) {
        await db
          .insertInto('summaries')
          .values(rows.slice(i, i + SUMMARY_BATCH).map(summaryRow))
          .onConflict((oc) =>
            oc.columns(['second', 'sensor']).doUpdateSet({
              packets: (eb) => eb.ref('excluded.packets'),
              bytes: (eb) => eb.ref('excluded.bytes'),
              requests: (eb) => eb.ref('excluded.requests'),
              by_protocol: (eb) => eb.ref('excluded.by_protocol'),
              by_vector: (eb) => eb.ref('excluded.by_vector'),
              by_victim: (eb) => eb.ref('excluded.by_victim'),
              traffic_by_vector: (eb) => eb.ref('excluded.traffic_by_vector'),
            }),
          )
          .execute();
      }
    });
  }

  async readSummaries(from: number, to: number, sensor?: string): Promise<Summary[]> {
    let q = this.db.selectFrom('summaries').selectAll().where('second', '>=', from).where('second', '<', to);
    if (sensor !== undefined) q = q.where('sensor', '=', sensor);
    return (await this.read(() => q.orderBy('second').orderBy('sensor').execute())).map(summaryOf);
  }

  async summarySensors(): Promise<{ sensor: string; first: number; last: number }[]> {
    const rows = await this.read((db) =>
      db
        .selectFrom('summaries')
        .select((eb) => ['sensor', eb.fn.min('second').as('first'), eb.fn.max('second').as('last')])
        .groupBy('sensor')
        .orderBy('sensor')
        .execute(),
    );
    // BIGINT aggregates come back as strings from PostgreSQL
    return rows.map((r) => ({ sensor: r.sensor, first: Number(r.first), last: Number(r.last) }));
  }

  deleteSummariesBefore(before: number): Promise<number> {
    return this.transaction(async (tx) => {
      const r = await (tx as SqlStore).db.deleteFrom('summaries').where('second', '<', before).executeTakeFirst();
      return Number(r.numDeletedRows);
    });
  }

  // ---- retention

  prune(p: PruneOptions): Promise<PruneResult> {
    const before = iso(p.incidentsBefore);
    const dry = p.dryRun === true;
    return this.transaction(async (tx) => {
      const t = tx as SqlStore;
      const db = t.db;
      const closed = (
        await db
          .selectFrom('incidents')
          .select('number')
          .where('status', 'in', [...CLOSED_STATUSES])
          .where('updated_at', '<', before)
          .orderBy('number')
          .execute()
      ).map((r) => Number(r.number));
      // A closed ticket whose alert was seen since the cutoff is not old (someone closed it while the attack went on).
      const seen = new Set<number>();
      for (const chunk of batches(closed))
        for (const r of await db.selectFrom('alerts').select('incident_id').where('incident_id', 'in', chunk).where('last_seen', '>=', before).execute())
          seen.add(Number(r.incident_id));
      const numbers = closed.filter((n) => !seen.has(n));
      const outbox = await t.outboxAbout(new Set(numbers));
      const result: PruneResult = {
        incidents: numbers,
        alerts: await t.dropWhereIn('alerts', 'incident_id', numbers, dry),
        timeline: await t.dropWhereIn('incident_timeline', 'incident', numbers, dry),
        observables: await t.dropWhereIn('incident_observables', 'incident', numbers, dry),
        mitigations: await t.dropWhereIn('incident_mitigations', 'incident', numbers, dry),
        outbox: await t.dropWhereIn('outbox', 'id', outbox, dry),
        summaries: 0,
      };
      await t.dropWhereIn('incidents', 'number', numbers, dry);
      if (dry) {
        const r = await db
          .selectFrom('summaries')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('second', '<', p.summariesBefore)
          .executeTakeFirst();
        result.summaries = Number(r?.n ?? 0);
      } else result.summaries = Number((await db.deleteFrom('summaries').where('second', '<', p.summariesBefore).executeTakeFirst()).numDeletedRows);
      return result;
    });
  }

  /** Ids of the outbox rows about one of `numbers` (the payload's incident.number), read a page at a time. */
  private async outboxAbout(numbers: ReadonlySet<number>): Promise<number[]> {
    const out: number[] = [];
    if (numbers.size === 0) return out;
    for (let after = 0; ; ) {
      const page = await this.db.selectFrom('outbox').select(['id', 'payload']).where('id', '>', after).orderBy('id').limit(OUTBOX_PAGE).execute();
      if (page.length === 0) return out;
      for (const r of page) {
        after = Number(r.id);
        const n = incidentOfPayload(r.payload);
        if (n !== null && numbers.has(n)) out.push(after);
      }
    }
  }

  /** Deletes (or, dry, counts) the rows of `table` whose `column` is one of `values`. */
  private async dropWhereIn(
    table: 'alerts' | 'incident_timeline' | 'incident_observables' | 'incident_mitigations' | 'outbox' | 'incidents',
    column: string,
    values: readonly (number | string)[],
    dry: boolean,
  ): Promise<number> {
    let n = 0;
    const col = this.db.dynamic.ref<string>(column);
    for (const chunk of batches(values)) {
      if (dry) {
        const r = await this.db
          .selectFrom(table as 'alerts')
          .select((eb) => eb.fn.countAll().as('n'))
          .where(col, 'in', chunk as never)
          .executeTakeFirst();
        n += Number(r?.n ?? 0);
      } else
        n += Number(
          (
            await this.db
              .deleteFrom(table as 'alerts')
              .where(col, 'in', chunk as never)
              .executeTakeFirst()
          ).numDeletedRows,
        );
    }
    return n;
  }

  // ---- accounts, tokens, sessions, audit log

  createAccount(a: Omit<Account, 'disabled'>): Promise<boolean> {
    const row = { name: a.name, role: a.role, password_hash: a.password_hash, created_at: iso(a.created_at), created_by: a.created_by, disabled: 0 };
    return this.transaction(async (tx) => {
      const r = await (tx as SqlStore).db
        .insertInto('accounts')
        .values(row)
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    });
  }

  async getAccount(name: string): Promise<Account | null> {
    const r = await this.read((db) => db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst());
    return r ? accountOf(r) : null;
  }

  setPassword(name: string, passwordHash: string): Promise<boolean> {
    return this.change((db) => db.updateTable('accounts').set({ password_hash: passwordHash }).where('name', '=', name).executeTakeFirst());
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.read((db) => db.selectFrom('accounts').selectAll().orderBy('name').execute())).map(accountOf);
  }

  setRole(name: string, role: Role): Promise<boolean> {
    return this.change((db) => db.updateTable('accounts').set({ role }).where('name', '=', name).executeTakeFirst());
  }

  endSessions(name: string): Promise<number> {
    return this.transaction(async (tx) => Number((await (tx as SqlStore).db.deleteFrom('sessions').where('account', '=', name).executeTakeFirst()).numDeletedRows));
  }

  setAccountDisabled(name: string, disabled: boolean): Promise<boolean> {
    return this.transaction(async (tx) => {
      const db = (tx as SqlStore).db;
      const r = await db
        .updateTable('accounts')
        .set({ disabled: disabled ? 1 : 0 })
        .where('name', '=', name)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      // a disabled account's sessions go with it (its requests are refused anyway: this keeps none to revive)
      if (disabled) await db.deleteFrom('sessions').where('account', '=', name).execute();
      return true;
    });
  }

  async listTokens(account?: string): Promise<ApiToken[]> {
    return this.read((db) => {
      let q = db.selectFrom('api_tokens').selectAll();
      if (account !== undefined) q = q.where('account', '=', account);
      return q.orderBy('created_at').orderBy('id').execute();
    });
  }

  deleteToken(id: string): Promise<boolean> {
    return this.change((db) => db.deleteFrom('api_tokens').where('id', '=', id).executeTakeFirst());
  }

  addToken(t: Omit<ApiToken, 'last_used_at'>): Promise<void> {
    return this.transaction(async (tx) => {
      await (tx as SqlStore).db
        .insertInto('api_tokens')
        .values({ ...t, created_at: iso(t.created_at), last_used_at: null })
        .execute();
    });
  }

  async getToken(id: string): Promise<ApiToken | null> {
    const r = await this.read((db) => db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst());
    return r ?? null;
  }

  async touchToken(id: string, at?: string): Promise<void> {
    await this.change((db) =>
      db
        .updateTable('api_tokens')
        .set({ last_used_at: iso(at) })
        .where('id', '=', id)
        .executeTakeFirst(),
    );
  }

  createSession(s: Session): Promise<void> {
    return this.transaction(async (tx) => {
      await (tx as SqlStore).db
        .insertInto('sessions')
        .values({ ...s, created_at: iso(s.created_at), expires_at: iso(s.expires_at) })
        .execute();
    });
  }

  async getSession(idHash: string, now?: string): Promise<Session | null> {
    const r = await this.read((db) => db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).where('expires_at', '>', iso(now)).executeTakeFirst());
    return r ?? null;
  }

  deleteSession(idHash: string): Promise<boolean> {
    return this.change((db) => db.deleteFrom('sessions').where('id_hash', '=', idHash).executeTakeFirst());
  }

  deleteExpiredSessions(now?: string): Promise<number> {
    return this.transaction(async (tx) => Number((await (tx as SqlStore).db.deleteFrom('sessions').where('expires_at', '<=', iso(now)).executeTakeFirst()).numDeletedRows));
  }

  appendAudit(e: NewAuditEntry): Promise<AuditEntry> {
    const row = { at: iso(e.at), actor: e.actor, action: e.action, target: e.target, detail: JSON.stringify(e.detail ?? null), address: e.address ?? null };
    return this.transaction(async (tx) => {
      const r = await (tx as SqlStore).db.insertInto('audit_log').values(row).returning('id').executeTakeFirstOrThrow();
      return { ...row, id: Number(r.id), detail: e.detail ?? null };
    });
  }

  async listAudit(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit_log').selectAll();
    if (filter.actor !== undefined) q = q.where('actor', '=', filter.actor);
    if (filter.since !== undefined) q = q.where('at', '>=', iso(filter.since));
    const rows = await this.read(() =>
      q
        .orderBy('id', 'desc')
        .limit(filter.limit ?? DEFAULT_LIMIT)
        .execute(),
    );
    return rows.map((r) => ({ ...r, id: Number(r.id), detail: JSON.parse(r.detail) as unknown }));
  }

  schemaVersion(): Promise<number> {
    return this.read((db) => current(db));
  }

  close(): Promise<void> {
    return this.b.close();
  }
}

function accountOf(r: AccountsTable): Account {
  return { name: r.name, role: r.role as Role, password_hash: r.password_hash, created_at: r.created_at, created_by: r.created_by, disabled: Number(r.disabled) !== 0 };
}

/** What unsilencing sets: back to acknowledged when someone had acknowledged it. */
const UNSILENCED = { state: sql<string>`CASE WHEN acked_at IS NOT NULL THEN 'acknowledged' ELSE 'open' END`, silenced_by: null };

/** The values in IN-list sized slices. */
function* batches<T>(values: readonly T[]): Generator<T[]> {
  for (let i = 0; i < values.length; i += PRUNE_BATCH) yield values.slice(i, i + PRUNE_BATCH);
}

/** The incident a queued notification is about (recorder.ts puts `incident.number` in every payload), or null. */
function incidentOfPayload(text: string): number | null {
  if (!text.includes('"incident"')) return null;
  try {
    const n = (JSON.parse(text) as { incident?: { number?: unknown } } | null)?.incident?.number;
    return typeof n === 'number' ? n : null;
  } catch {
    return null;
  }
}
