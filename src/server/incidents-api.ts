/**
 * Tickets opened and merged by hand: POST /api/incidents (for alerts, or empty with a title) and
 * POST /api/incidents/{n}/merge. The changes are the ones `palisade incidents split|merge` make
 * (incidents/actions.ts openIncident, Store.mergeIncidents), each with its audit row.
 */
import { openIncident } from '../incidents/actions.js';
import type { Store } from '../incidents/store/store.js';
import type { Alert, Severity } from '../model/alert.js';
import { HttpError, type Route, recordRef } from './http.js';
import { audit, incidentNumber, incidentOr404, who } from './route-kit.js';

/** The default title of a ticket opened for alerts: the first one's vector and victim. */
function titleFor(a: Alert): string {
  const v = a.victim;
  return `${a.vector} on ${v.host ?? v.ip ?? v.prefix ?? 'unknown victim'}`;
}

export function incidentRoutes(store: Store): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/incidents',
      summary:
        "Open a ticket: for alerts (each leaves the incident it was in, with a timeline event on both; the title defaults to the first one's vector and victim, the severity to the highest) or empty with a title",
      role: 'operator',
      response: recordRef('incident'),
      body: 'NewIncident',
      handler: async (ctx) => {
        const body = ctx.body as { title?: string; alerts?: string[]; severity?: Severity; customer?: string | null };
        const ids = [...new Set(body.alerts ?? [])];
        if (ids.length === 0 && body.title === undefined) throw new HttpError(400, 'title: missing; an incident without alerts needs a title', { field: 'title' });
        const alerts: Alert[] = [];
        for (const id of ids) {
          const a = await store.getAlert(id);
          if (a === null) throw new HttpError(400, `alerts: no alert ${id}`, { field: 'alerts' });
          alerts.push(a);
        }
        const title = body.title?.trim() ?? titleFor(alerts[0] as Alert);
        const inc = await store.transaction(async (tx) => {
          const inc = await openIncident(tx, alerts, who(ctx).name, {
            title,
            customer: body.customer !== undefined ? body.customer : (alerts[0]?.customer ?? null),
            ...(body.severity !== undefined && { severity: body.severity }),
          });
          await tx.appendAudit(
            audit(ctx, 'incident.create', `incident:${inc.number}`, { title, alerts: ids, from: [...new Set(alerts.map((a) => a.incident_id).filter((n) => n !== null))] }),
          );
          return inc;
        });
        return { status: 201, json: inc };
      },
    },
    {
      method: 'POST',
      path: '/api/incidents/{n}/merge',
      summary: 'Merge ticket n into another: its alerts, timeline, observables and mitigations move there; n becomes a resolved pointer to it (timeline events on both)',
      role: 'operator',
      response: recordRef('incident'),
      body: 'Merge',
      handler: async (ctx) => {
        const n = incidentNumber(ctx);
        const into = (ctx.body as { into: number }).into;
        if (into === n) throw new HttpError(400, `into: #${n} cannot be merged into itself`, { field: 'into' });
        const from = await incidentOr404(store, n);
        const target = await incidentOr404(store, into);
        if (from.merged_into != null) throw new HttpError(409, `incident #${n} was already merged into #${from.merged_into}`);
        if (target.merged_into != null) throw new HttpError(409, `incident #${into} was merged into #${target.merged_into}: merge into that one`);
        const merged = await store.transaction(async (tx) => {
          const merged = await tx.mergeIncidents(into, n, who(ctx).name);
          await tx.appendAudit(
            audit(ctx, 'incident.merge', `incident:${n}`, { into, alerts: from.alerts.length, timeline: from.timeline.length, observables: from.observables.length }),
          );
          return merged;
        });
        return { json: merged };
      },
    },
  ];
}
