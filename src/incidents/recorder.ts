/**
 * The monitor's alert events made durable: each event is one store transaction that upserts the
 * alert (one per fingerprint while it lasts), puts it on its incident (the one it already has,
 * an open one it groups with, or a new ticket), writes the timeline event, the observables
 * (victim, top sources, signature), raises the incident's severity when the alert's is higher,
 * moves its status along (`mitigating` while a mitigation holds, `monitoring` once every attack
 * of it has ended) and queues the notifications its routes ask for, in the same commit — so
 * when `record` resolves, all of it survives a kill -9, and a notification is never queued for
 * an event that was not stored (nor the other way round). An alert a silence in force matches
 * (a Rules-language expression over alert fields: scheme/alert.ts) is stored silenced and
 * notifies no one until the silence ends.
 *
 * A restarted monitor resumes: open incidents come back from the store for grouping, and an
 * attack still open carries on in its stored alert (the store keeps the id of the open alert
 * with the fingerprint).
 */
import { buildMitigation } from '../export/mitigation.js';
import type { Alert } from '../model/alert.js';
import type { Attack } from '../model/attack.js';
import type { Incident, IncidentStatus, Observable } from '../model/incident.js';
import { compile, type Predicate } from '../rules/compile.js';
import { alertScheme } from '../scheme/alert.js';
import type { AlertEvent, AlertState } from './alerts.js';
import { type TimelineEntry, timelineEntryOf } from './desk.js';
import { GROUP_WINDOW_MS, type IncidentShape, incidentFor } from './grouping.js';
import { alertEventKey, type NotifyEvent } from './notify/event.js';
import type { NotifyRoute } from './notify/routes.js';
import { routeMatches } from './notify/routes.js';
import type { OutboxEvent, Store } from './store/store.js';
import { SEVERITY_RANK } from './triage.js';

export interface RecorderOptions {
  sensor: string;
  now: () => number;
  windowMs?: number;
  /** notification routes: which targets get which events */
  routes?: readonly NotifyRoute[];
  log?: (line: string) => void;
}

/** How often the silences in force are read again from the store. */
const SILENCE_REFRESH_MS = 5000;

export interface Recorded {
  incident: number;
  created: boolean;
  alert: Alert;
}

const CLOSED: ReadonlySet<IncidentStatus> = new Set(['resolved', 'false_positive']);

export class IncidentRecorder {
  private readonly shapes = new Map<number, IncidentShape & { victims: string[]; sources: Set<string>; openAlerts: Set<string> }>();
  /** the alert book's ids → the stored alert's (they differ for an attack that outlived a restart) */
  private readonly ids = new Map<string, string>();
  private readonly windowMs: number;
  /** silences in force, compiled; read again from the store every SILENCE_REFRESH_MS */
  private silences: { id: string; reason: string; test: Predicate<Alert> }[] = [];
  private silencesAt = Number.NEGATIVE_INFINITY;
  private readonly compiled = new Map<string, Predicate<Alert> | null>();

  constructor(
    private readonly store: Store,
    private readonly o: RecorderOptions,
  ) {
    this.windowMs = o.windowMs ?? GROUP_WINDOW_MS;
  }

  /** Loads the open incidents active within the window (after a restart). */
  async resume(): Promise<number> {
    const since = new Date(this.o.now() - this.windowMs).toISOString();
    const open = await this.store.listIncidents({ status: ['new', 'investigating', 'mitigating', 'monitoring'], since });
    for (const s of open) {
      const alerts = await this.store.listAlerts({ incident: s.number });
      const inc = await this.store.getIncident(s.number);
      this.shapes.set(s.number, {
        number: s.number,
        victims: alerts.map((a) => victimOf(a.attack)),
        sources: new Set((inc?.observables ?? []).filter((x) => x.kind === 'ip').map((x) => x.value)),
        openAlerts: new Set(alerts.filter((a) => a.state !== 'ended').map((a) => a.id)),
        lastActivity: Date.parse(s.updated_at),
      });
    }
    return open.length;
  }

  /** The silences in force now (the store's, expired ones lifted), compiled once per expression. */
  private async activeSilences(now: number): Promise<IncidentRecorder['silences']> {
    if (now - this.silencesAt < SILENCE_REFRESH_MS) return this.silences;
    this.silencesAt = now;
    const iso = new Date(now).toISOString();
    await this.store.expireSilences(iso);
    const out: IncidentRecorder['silences'] = [];
    for (const s of await this.store.listSilences(iso)) {
      let test = this.compiled.get(s.expression);
      if (test === undefined) {
        try {
          test = compile(s.expression, alertScheme);
        } catch (err) {
          this.o.log?.(`silence ${s.id}: ${(err as Error).message}; ignored`);
          test = null;
        }
        this.compiled.set(s.expression, test);
      }
      if (test !== null) out.push({ id: s.id, reason: s.reason, test });
    }
    this.silences = out;
    return out;
  }

  /** Stores one alert event (see the module comment); resolves once committed. */
  async record(e: AlertEvent): Promise<Recorded> {
    const now = this.o.now();
    const at = new Date(now).toISOString();
    const a = e.alert;
    const silences = await this.activeSilences(now);
    return this.store.transaction(async (tx) => {
      const known = this.ids.get(a.id);
      const stored = known === undefined ? null : await tx.getAlert(known);
      const { alert } = await tx.upsertAlert(alertRecord(a, e.kind, stored?.incident_id ?? null));
      this.ids.set(a.id, alert.id);
      let n = alert.incident_id;
      let created = false;
      let inc: Incident | null = n === null ? null : await tx.getIncident(n);
      if (inc !== null && CLOSED.has(inc.status) && e.kind === 'start') inc = null;
      if (inc === null) {
        const open = [...this.shapes.values()].filter((s) => now - s.lastActivity <= this.windowMs);
        const pick = incidentFor({ victim: a.victim, sources: a.attack.sources.top.map((s) => s.ip) }, open, now, this.windowMs);
        inc = pick === null ? null : await tx.getIncident(pick);
        if (inc !== null && CLOSED.has(inc.status)) inc = null;
        if (inc === null) {
          inc = await tx.createIncident({ title: `${a.vector.replace(/_/g, ' ')} on ${a.victim}`, customer: a.customer, severity: a.severity, at });
          created = true;
        } else if (!inc.alerts.includes(alert.id)) {
          await tx.updateIncident(inc.number, { title: titleOf(inc, a) }, at);
        }
        n = inc.number;
        await tx.linkAlert(n, alert.id);
      }
      const num = n as number;
      let shape = this.shapes.get(num);
      if (shape === undefined) {
        shape = { number: num, victims: [], sources: new Set(), openAlerts: new Set(), lastActivity: now };
        this.shapes.set(num, shape);
      }
      if (!shape.victims.includes(a.victim)) shape.victims.push(a.victim);
      for (const s of a.attack.sources.top) if (shape.sources.size < 1000) shape.sources.add(s.ip);
      shape.lastActivity = now;
      if (e.kind === 'end') shape.openAlerts.delete(alert.id);
      else shape.openAlerts.add(alert.id);

      const entry = timelineEntryOf(e, at);
      if (entry !== null) await tx.appendTimeline(num, { ...entry, data: { ...(entry.data ?? {}), alert: alert.id } });
      // a silence in force: the alert is kept, triaged and on its incident, but tells no one
      let silenced = alert.state === 'silenced';
      if (!silenced && e.kind !== 'end') {
        const hit = silences.find((s) => s.test(alert));
        if (hit !== undefined) {
          silenced = await tx.silenceAlert(alert.id, hit.id);
          if (silenced)
            await tx.appendTimeline(num, {
              at,
              kind: 'silenced',
              actor: this.o.sensor,
              text: `${a.vector} on ${a.victim} silenced by ${hit.id}${hit.reason ? ` (${hit.reason})` : ''}`,
              data: { alert: alert.id, silence: hit.id },
            });
        }
      }
      await tx.addObservables(num, observablesOf(a, at));
      const changes: { severity?: AlertState['severity']; status?: IncidentStatus } = {};
      if (SEVERITY_RANK[a.severity] > SEVERITY_RANK[inc.severity]) changes.severity = a.severity;
      // every attack of the incident over: someone should watch that it stays so, then resolve it
      if (e.kind === 'end' && shape.openAlerts.size === 0 && (inc.status === 'new' || inc.status === 'mitigating')) changes.status = 'monitoring';
      if (changes.severity !== undefined || changes.status !== undefined) {
        await tx.updateIncident(num, changes, at);
        if (changes.status !== undefined)
          await tx.appendTimeline(num, { at, kind: 'status', actor: this.o.sensor, text: `${inc.status} → ${changes.status}: every attack of the incident has ended`, data: null });
      }
      if (e.significant && !silenced) {
        const notify: NotifyEvent = {
          key: alertEventKey(alert.id, e.kind, at),
          type: `alert.${e.kind}`,
          at,
          incident: { number: num, title: inc.title, status: changes.status ?? inc.status, severity: changes.severity ?? inc.severity, customer: inc.customer },
          alert: a,
          text: entry?.text ?? e.change,
        };
        await tx.enqueue(this.outboxOf(notify));
      }
      return { incident: num, created, alert };
    });
  }

  /** A mitigation decision or outcome on the incident of `alertId` (the mitigator's entries). */
  async action(
    bookAlertId: string,
    entry: TimelineEntry,
    failed: boolean,
    mitigation: { id: string; state: 'suggested' | 'applied' | 'failed' | 'removed'; hits: number; ruleset?: unknown } | null,
  ): Promise<number | null> {
    const id = this.ids.get(bookAlertId);
    if (id === undefined) return null;
    return this.store.transaction(async (tx) => {
      const alert = await tx.getAlert(id);
      const num = alert?.incident_id ?? null;
      if (num === null) return null;
      await tx.appendTimeline(num, { at: entry.at, kind: failed ? 'mitigation_failed' : 'mitigation', actor: entry.actor, text: entry.text, data: entry.data ?? null });
      const inc = await tx.getIncident(num);
      if (mitigation !== null) {
        await tx.upsertMitigation(
          num,
          { id: mitigation.id, target: 'nftables', state: mitigation.state, hits: mitigation.hits, ...(mitigation.ruleset !== undefined && { ruleset: mitigation.ruleset }) },
          entry.at,
        );
        if (mitigation.state === 'applied' && inc !== null && (inc.status === 'new' || inc.status === 'investigating')) {
          await tx.updateIncident(num, { status: 'mitigating' }, entry.at);
          await tx.appendTimeline(num, { at: entry.at, kind: 'status', actor: entry.actor, text: `${inc.status} → mitigating: a mitigation is in place`, data: null });
        }
      }
      if (failed && inc !== null) {
        const notify: NotifyEvent = {
          key: `${mitigation?.id ?? 'mitigation'}:failed:${entry.at}`,
          type: 'mitigation.failed',
          at: entry.at,
          incident: { number: num, title: inc.title, status: inc.status, severity: inc.severity, customer: inc.customer },
          text: entry.text,
        };
        await tx.enqueue(this.outboxOf(notify));
      }
      return num;
    });
  }

  private outboxOf(e: NotifyEvent): OutboxEvent[] {
    const out: OutboxEvent[] = [];
    for (const r of this.o.routes ?? []) {
      if (!routeMatches(r, e)) continue;
      for (const target of r.targets) out.push({ key: e.key, target, topic: e.type, payload: e });
    }
    return out;
  }
}

function victimOf(a: Attack): string {
  return a.victim.ip ?? a.victim.prefix ?? a.victim.host ?? '';
}

function titleOf(inc: Incident, a: AlertState): string {
  const n = inc.alerts.length + 1;
  return /^\d+ attacks on /.test(inc.title) || n > 1 ? `${n} attacks on ${a.customer ?? a.victim}` : inc.title;
}

/** The store's Alert record of the book's alert state. */
/** The book's view of a stored alert (alertRecord's inverse), for AlertBook.resume after a restart. */
export function bookState(a: Alert): AlertState {
  const { mitigation: _m, ...attack } = a.attack;
  return {
    id: a.id,
    fingerprint: a.fingerprint,
    vector: a.vector,
    victim: attack.victim.ip ?? attack.victim.prefix ?? attack.victim.host ?? '',
    sensor: a.sensor,
    severity: a.severity,
    urgency: a.urgency,
    score: a.score,
    confidence: a.confidence,
    first_seen: a.first_seen,
    last_seen: a.last_seen,
    attack,
    reasons: a.reasons ?? [],
    service: a.service ?? null,
    customer: a.customer ?? null,
    growing: a.growing ?? false,
    mitigated: a.mitigated ?? false,
    peak: a.peak ?? a.attack.peak_pps,
  };
}

export function alertRecord(a: AlertState, kind: AlertEvent['kind'], incident: number | null): Alert {
  const sig = a.attack.signature;
  let mitigation: Attack['mitigation'] = { ruleset: null, nftables: '', iptables: '' };
  if (sig !== null) {
    const m = buildMitigation({ expression: sig.expression, id: a.id, ...(sig.list && { lists: { [sig.list.name]: sig.list.addresses } }) });
    mitigation = { ruleset: m.ruleset, nftables: m.nftables, iptables: m.iptables };
  }
  return {
    id: a.id,
    fingerprint: a.fingerprint,
    kind,
    vector: a.attack.vector,
    victim: a.attack.victim,
    sensor: a.sensor,
    severity: a.severity,
    urgency: a.urgency,
    score: a.score,
    confidence: a.confidence,
    first_seen: a.first_seen,
    last_seen: a.last_seen,
    attack: { ...a.attack, mitigation },
    incident_id: incident,
    peak: a.peak,
    growing: a.growing,
    mitigated: a.mitigated,
    reasons: a.reasons,
    service: a.service,
    customer: a.customer,
  };
}

function observablesOf(a: AlertState, at: string): Observable[] {
  const out: Observable[] = [];
  const v = a.attack.victim;
  if (v.ip) out.push({ kind: 'ip', value: v.ip, first_seen: at });
  if (v.prefix) out.push({ kind: 'prefix', value: v.prefix, first_seen: at });
  for (const s of a.attack.sources.top.slice(0, 20)) out.push({ kind: 'ip', value: s.ip, first_seen: at });
  if (a.attack.signature) out.push({ kind: 'signature', value: a.attack.signature.expression, first_seen: at });
  return out;
}
