/**
 * The names events travel under between nodes (DESIGN.md "Events between nodes"): one stream,
 * `PALISADE`, holding every subject `palisade.<site>.<node>.<kind>`. Site and node are single
 * subject tokens, so a consumer can filter by site (`palisade.eu-west.>`), by node or by kind
 * (`palisade.*.*.alert`) with NATS wildcards alone; a token with a dot, a space or a wildcard in
 * it would silently change what a filter matches, so it is refused here, by name.
 */
import { PalisadeError } from '../core/errors.js';

export type EventKind = 'summary' | 'attack' | 'alert' | 'decision';
export type NodeRole = 'sensor' | 'edge' | 'correlator';

export const EVENT_KINDS: readonly EventKind[] = ['summary', 'attack', 'alert', 'decision'];
export const NODE_ROLES: readonly NodeRole[] = ['sensor', 'edge', 'correlator'];

/** The one JetStream stream every event is stored in. */
export const STREAM = 'PALISADE';
/** Every subject of the stream. */
export const ALL_SUBJECTS = 'palisade.>';

const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** `v` when it is a valid site, node (or durable) token; otherwise a usage error naming `what` and the value. */
export function checkToken(what: string, v: string): string {
  if (!TOKEN.test(v)) throw new PalisadeError('E_USAGE', `${what} "${v}" is not a valid name: use 1 to 64 letters, digits, "_" or "-"`);
  return v;
}

/** `palisade.<site>.<node>.<kind>`, its tokens checked. */
export function subject(site: string, node: string, kind: EventKind): string {
  checkToken('site', site);
  checkToken('node', node);
  if (!EVENT_KINDS.includes(kind)) throw new PalisadeError('E_USAGE', `event kind "${kind}" is not one of ${EVENT_KINDS.join(', ')}`);
  return `palisade.${site}.${node}.${kind}`;
}

/** The parts of an event subject, or null for anything else (another prefix, a bad token, an unknown kind). */
export function parseSubject(s: string): { site: string; node: string; kind: EventKind } | null {
  const parts = s.split('.');
  if (parts.length !== 4 || parts[0] !== 'palisade') return null;
  const [, site, node, kind] = parts as [string, string, string, string];
  if (!TOKEN.test(site) || !TOKEN.test(node) || !EVENT_KINDS.includes(kind as EventKind)) return null;
  return { site, node, kind: kind as EventKind };
}

/** Whether a NATS subject filter (`*` one token, `>` the rest) matches a subject. */
export function filterMatches(filter: string, s: string): boolean {
  const f = filter.split('.');
  const t = s.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return t.length > i;
    if (i >= t.length) return false;
    if (f[i] !== '*' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
