/**
 * What `palisade serve` hands its API beyond the store: the ruleset file the rule editor reads
 * and replaces, and the recorded traffic what-if runs over.
 *
 * createApiServer (server.ts) passes the routes the store alone, so until it takes a workspace
 * option the serve command attaches the workspace to the store handle it opened, and the API
 * looks it up there. Keyed by the handle (a WeakMap): two servers in one process (the tests) each
 * see their own.
 */
import type { Store } from '../incidents/store/store.js';
import type { Recording } from './recording.js';

export interface Workspace {
  /** The ruleset file (`palisade mitigate -r` format); list files it names are beside it. */
  rulesFile: string;
  /** The traffic what-if reads; null: none (what-if answers 409). */
  recording: Recording | null;
}

const byStore = new WeakMap<Store, Workspace>();

export function attachWorkspace(store: Store, workspace: Workspace): void {
  byStore.set(store, workspace);
}

export function workspaceOf(store: Store): Workspace | null {
  return byStore.get(store) ?? null;
}
