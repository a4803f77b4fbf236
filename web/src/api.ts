/**
 * The console's one way to the API: same-origin fetch with the session cookie, the CSRF token
 * (the readable palisade_csrf cookie the server set at login) echoed on every change, JSON in and
 * out, and a typed error carrying the status so a page can tell "log in again" (401) from "not
 * allowed" (403) from anything else.
 */
import type { Role } from '../../src/incidents/store/store.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The error body's other fields (a 400's problems, a 412's current etag). */
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface Me {
  name: string;
  role: Role;
}

const CSRF_COOKIE = 'palisade_csrf';
const CSRF_HEADER = 'x-csrf-token';

function csrfToken(): string {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === CSRF_COOKIE) return v.join('=');
  }
  return '';
}

/**
 * Whether a session may exist: the CSRF cookie comes and goes with the session cookie (which
 * script cannot read). Without it the console shows the login page at once instead of asking
 * the API and getting a 401.
 */
export function maybeLoggedIn(): boolean {
  return csrfToken() !== '';
}

/** Called on any 401, so the shell can show the login page (a session expired mid-shift). */
let unauthorized: () => void = () => {};
export function onUnauthorized(fn: () => void): void {
  unauthorized = fn;
}

export type Method = 'GET' | 'POST' | 'PUT';

/** `extra`: headers a call adds (If-Match on a replacement). */
export async function api<T>(method: Method, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...extra };
  if (method !== 'GET') headers[CSRF_HEADER] = csrfToken();
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined && { body: JSON.stringify(body) }) });
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text === '' ? null : JSON.parse(text);
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/login') unauthorized();
    const message = (data as { error?: string } | null)?.error ?? `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, message, data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : {});
  }
  return data as T;
}

/** Operators and admins triage; a viewer reads. */
export function canTriage(me: Me): boolean {
  return me.role === 'operator' || me.role === 'admin';
}
