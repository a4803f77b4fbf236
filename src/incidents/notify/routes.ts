/**
 * Notification routing: which targets hear of which events — by the incident's severity (at
 * least), its customer, and the alert's vector — as an on-call rota would have it (critical
 * attacks on tier-1 customers page someone; everything else goes to the team's channel).
 */
import type { NotifyRoute } from '../../config/notifications.js';
import { SEVERITY_RANK } from '../triage.js';
import type { NotifyEvent } from './event.js';

export type { NotifyRoute };

export function routeMatches(r: NotifyRoute, e: NotifyEvent): boolean {
  if (r.minSeverity !== undefined && SEVERITY_RANK[e.incident.severity] < SEVERITY_RANK[r.minSeverity]) return false;
  if (r.customers !== undefined && !r.customers.includes(e.incident.customer ?? '')) return false;
  if (r.vectors !== undefined && (e.alert === undefined || !r.vectors.includes(e.alert.vector))) return false;
  if (r.types !== undefined && !r.types.includes(e.type)) return false;
  return true;
}
