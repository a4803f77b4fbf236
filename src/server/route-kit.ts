/**
 * What the API's route modules share: who is asking, the audit row of a change, and the
 * incident a path names.
 */
import type { NewAuditEntry, Store } from '../incidents/store/store.js';
import type { Incident } from '../model/incident.js';
import { type Context, HttpError, type Principal } from './http.js';

export function who(ctx: Context): Principal {
  return ctx.principal as Principal;
}

export function audit(ctx: Context, action: string, target: string, detail: unknown): NewAuditEntry {
  return { actor: who(ctx).name, action, target, detail, address: ctx.address };
}

/** The `{n}` of the path: 400 naming it when it is not an incident number. */
export function incidentNumber(ctx: Context): number {
  const t = ctx.params.n as string;
  if (!/^\d{1,15}$/.test(t) || Number(t) < 1) throw new HttpError(400, `n: expected an incident number, not "${t}"`, { field: 'n' });
  return Number(t);
}

export async function incidentOr404(store: Store, n: number): Promise<Incident> {
  const inc = await store.getIncident(n);
  if (inc === null) throw new HttpError(404, `no incident #${n}`);
  return inc;
}
