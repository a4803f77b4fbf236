/**
 * What notifications carry: one event of an incident (an alert raised, updated or ended; a status
 * change; a mitigation applied or failed), with the key that makes it idempotent — a receiver
 * that sees the same key twice (a retry, a restart between sending and recording the delivery)
 * knows it is the same event.
 */
import type { AlertState } from '../alerts.js';
import type { Severity } from '../triage.js';

export type NotifyType = 'alert.start' | 'alert.update' | 'alert.end' | 'incident.status' | 'mitigation.applied' | 'mitigation.failed';

export interface NotifyEvent {
  /** idempotency key: the same event always has the same key */
  key: string;
  type: NotifyType;
  /** ISO-8601 UTC */
  at: string;
  incident: { number: number; title: string; status: string; severity: Severity; customer: string | null };
  alert?: AlertState;
  /** what happened, in words (one line) */
  text: string;
}

/** The key of an alert event: its alert, kind and time (an alert has one start and one end). */
export function alertEventKey(alertId: string, kind: string, at: string): string {
  return kind === 'update' ? `${alertId}:update:${at}` : `${alertId}:${kind}`;
}
