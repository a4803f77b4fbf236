/** The admin API's answers as the console reads them (src/server/api.ts, accounts-api.ts, storage-api.ts). */
import type { Role } from '../../../../src/incidents/store/store.js';

export interface AccountView {
  name: string;
  role: Role;
  created_at: string;
  created_by: string;
  disabled: boolean;
}

export interface TokenView {
  id: string;
  account: string;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

export interface StorageView {
  backend: string;
  schema_version: number;
  summaries: { sensors: number; oldest: string | null };
  outbox: { pending: number; dead: number };
}

export interface PruneAnswer {
  dry_run: boolean;
  incidents: number[];
  alerts: number;
  timeline: number;
  observables: number;
  mitigations: number;
  outbox: number;
  summaries: number;
}

export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  detail: unknown;
  address: string | null;
}
