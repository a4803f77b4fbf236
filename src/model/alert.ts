/**
 * The Alert record (DESIGN.md, "Alert"): one per attack, found again by its fingerprint and
 * updated in place while it is not ended. The optional fields after `incident_id` are triage's:
 * what a person did with the alert and the facts the score was made from.
 */
import type { Attack, Vector } from './attack.js';

/** One closed set for alerts and incidents, most severe first (the order ranks and sorts). */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** How soon a person should look (PagerDuty's high/low, with a middle step for the queue). */
export const URGENCIES = ['high', 'medium', 'low'] as const;
export type Urgency = (typeof URGENCIES)[number];

/** start: the attack began; update: a significant change (peak doubled, new victim); end: it stopped. */
export const ALERT_KINDS = ['start', 'update', 'end'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

/**
 * Where the alert is in triage. `ended` is set by an `end` event and is final: the next event with
 * the same fingerprint opens a new alert. Acknowledged and silenced alerts keep being updated.
 */
export const ALERT_STATES = ['open', 'acknowledged', 'silenced', 'ended'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export interface Alert {
  id: string;
  /** vector + victim + signature family: the same attack gives the same fingerprint each second. */
  fingerprint: string;
  /** The last event folded into this alert. */
  kind: AlertKind;
  vector: Vector;
  victim: Attack['victim'];
  /** The sensor (monitor, edge, collector) that saw it. */
  sensor: string;
  severity: Severity;
  urgency: Urgency;
  /** Triage's score: the alert queue is ordered by it, highest first. */
  score: number;
  /** How sure detection is, in [0, 1]. */
  confidence: number;
  /** ISO-8601 UTC. */
  first_seen: string;
  last_seen: string;
  /** The attack as detection last reported it. */
  attack: Attack;
  /** The incident (ticket) number the alert belongs to, null until grouped. */
  incident_id: number | null;
  /** Triage state; `open` when absent on input. */
  state?: AlertState;
  /** Who acknowledged it and when (ISO-8601 UTC). */
  acked_by?: string | null;
  acked_at?: string | null;
  /** The silence (its id) or the person that silenced it. */
  silenced_by?: string | null;
  /** The highest rate seen so far (packets or requests per second): "peak doubled" compares against it. */
  peak?: number;
  /** The rate was still rising at the last update. */
  growing?: boolean;
  /** A mitigation already holds the attack (it lowers urgency). */
  mitigated?: boolean;
  /** Why the score is what it is, in words (triage). */
  reasons?: string[];
  /** The protected service (config: a named prefix) and its customer, when the victim is in one. */
  service?: string | null;
  customer?: string | null;
  /** How many times the alert was updated in place since it was raised (0: just raised); set by the store. */
  revision?: number;
}
