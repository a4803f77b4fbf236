/**
 * The admin's side of the store (issue 18: admin manages accounts, storage, notifications): what
 * the store is and holds, retention run by hand (the same prune as `palisade incidents prune`, in
 * one transaction, audited; a dry run counts), and whether notifications are getting out (the
 * outbox's undelivered items).
 */
import type { Store } from '../incidents/store/store.js';
import type { Route } from './http.js';
import { audit } from './route-kit.js';

const DAY_MS = 86_400_000;

export function storageRoutes(store: Store, now: () => number = Date.now): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/storage',
      summary: 'The store: its backend, schema version, the sensors with summaries and their oldest second, notifications not yet delivered',
      role: 'admin',
      handler: async () => {
        const sensors = await store.summarySensors();
        const oldest = sensors.length === 0 ? null : Math.min(...sensors.map((s) => s.first));
        return {
          json: {
            backend: store.backend,
            schema_version: await store.schemaVersion(),
            summaries: { sensors: sensors.length, oldest: oldest === null ? null : new Date(oldest * 1000).toISOString() },
            outbox: await store.outboxBacklog(),
          },
        };
      },
    },
    {
      method: 'POST',
      path: '/api/storage/prune',
      summary:
        'Retention by hand: closed incidents (with their alerts, timeline, observables, mitigations and notifications) whose last change is older than incidents_days, and per-second summaries older than summaries_days, deleted in one transaction (an open incident is never deleted); dry_run counts only; audited',
      role: 'admin',
      body: 'Prune',
      handler: async (ctx) => {
        const b = ctx.body as { incidents_days: number; summaries_days?: number; dry_run?: boolean };
        const t = now();
        const summariesDays = b.summaries_days ?? b.incidents_days;
        const r = await store.prune({
          incidentsBefore: new Date(t - b.incidents_days * DAY_MS).toISOString(),
          summariesBefore: Math.floor((t - summariesDays * DAY_MS) / 1000),
          dryRun: b.dry_run === true,
        });
        if (b.dry_run !== true)
          await store.appendAudit(
            audit(ctx, 'storage.prune', 'store', { incidents_days: b.incidents_days, summaries_days: summariesDays, incidents: r.incidents, summaries: r.summaries }),
          );
        return { json: { dry_run: b.dry_run === true, ...r } };
      },
    },
    {
      method: 'GET',
      path: '/api/notifications',
      summary: 'Notifications not yet delivered: pending (queued or being retried) and dead (given up on after their retries); a growing dead count means a target is failing',
      role: 'admin',
      handler: async () => ({ json: await store.outboxBacklog() }),
    },
  ];
}
