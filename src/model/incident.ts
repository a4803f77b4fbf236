/**
 * The Incident record (DESIGN.md, "Incident"): the tracking ticket that alerts join. Its timeline
 * holds the automatic events (alert raised, peak, mitigation applied, attack ended) and people's notes.
 */
import type { Severity } from './alert.js';

/** new → investigating → mitigating → monitoring → resolved, or false_positive. */
export const INCIDENT_STATUSES = ['new', 'investigating', 'mitigating', 'monitoring', 'resolved', 'false_positive'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** Statuses that close a ticket: grouping never adds alerts to a closed one. */
export const CLOSED_STATUSES: readonly IncidentStatus[] = ['resolved', 'false_positive'];

export interface TimelineEvent {
  /** Set by the store (increasing within a database); absent on input. */
  id?: number;
  /** ISO-8601 UTC. */
  at: string;
  /** What happened, e.g. alert_raised, peak, mitigation_applied, attack_ended, note, status, merged. */
  kind: string;
  /** Who: a person's name, or `palisade` (or a sensor) for automatic events. */
  actor: string;
  text: string;
  /** Machine-readable details (alert id, figures); null when none. */
  data: Record<string, unknown> | null;
}

/** What can be searched for elsewhere: an address, a prefix, an ASN, a TLS fingerprint, a signature, a site. */
export const OBSERVABLE_KINDS = ['ip', 'prefix', 'asn', 'ja3', 'ja4', 'signature', 'host', 'other'] as const;
export type ObservableKind = (typeof OBSERVABLE_KINDS)[number];

export interface Observable {
  kind: ObservableKind;
  value: string;
  /** When it was first added to the incident (ISO-8601 UTC); set by the store when absent. */
  first_seen?: string;
}

/** suggested: proposed only; applied: in force; removed: taken away after the attack; failed: the action failed. */
export const MITIGATION_STATES = ['suggested', 'applying', 'applied', 'removing', 'removed', 'failed'] as const;
export type MitigationState = (typeof MITIGATION_STATES)[number];

export interface Mitigation {
  /** Unique within the incident; the target when absent on input. */
  id?: string;
  /** Where it is enforced: nftables (host or namespace), flowspec (a peer), edge, cloudflare. */
  target: string;
  /** The ruleset (DESIGN.md "Ruleset") or the exported text it applied. */
  ruleset: unknown;
  state: MitigationState;
  /** Packets or requests it matched, as last read from the enforcement point. */
  hits: number;
  /** ISO-8601 UTC; set by the store. */
  updated_at?: string;
}

export interface Incident {
  number: number;
  title: string;
  customer: string | null;
  status: IncidentStatus;
  severity: Severity;
  assignee: string | null;
  tags: string[];
  /** The ids of the alerts that joined it. */
  alerts: string[];
  timeline: TimelineEvent[];
  observables: Observable[];
  mitigations: Mitigation[];
  /** ISO-8601 UTC. */
  created_at: string;
  updated_at: string;
  /** Set when the incident was merged into another: this one is then a closed pointer to it. */
  merged_into?: number | null;
}
