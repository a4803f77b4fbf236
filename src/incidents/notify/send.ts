/**
 * Delivering one event to one target over HTTP (generic webhook, Slack-compatible incoming
 * webhook, PagerDuty Events API v2), with a bounded wait, and telling a failure worth retrying
 * (the receiver is down, overloaded, or asks to slow down: network errors, 408, 425, 429, 5xx)
 * from one that never will succeed (another 4xx: a wrong URL or key) — the dispatcher retries
 * the first kind with backoff until it succeeds, and records the second as failed.
 *
 * A generic webhook is signed: `palisade-signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>">`, so a receiver can check it came from us and is not a replay of an old one,
 * and carries the event's idempotency key in `idempotency-key` and `palisade-event-id`.
 */
import { createHmac } from 'node:crypto';
import { request } from 'undici';
import type { HttpTarget } from '../../config/notifications.js';
import type { NotifyEvent } from './event.js';
import { pagerDutyBody, slackBody, webhookBody } from './payloads.js';

export type { HttpTarget };

export type SendOutcome = { ok: true; status: number } | { ok: false; retry: boolean; status: number; error: string };

export function signature(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

/** Status codes a later attempt may get past. */
export function retryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

export async function sendHttp(t: HttpTarget, e: NotifyEvent, source: string, now = Date.now): Promise<SendOutcome | null> {
  let payload: unknown;
  if (t.kind === 'webhook') payload = webhookBody(e);
  else if (t.kind === 'slack') payload = slackBody(e);
  else {
    payload = pagerDutyBody(e, t.routingKey ?? '', source);
    if (payload === null) return null;
  }
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'palisade-notify/1' };
  if (t.kind === 'webhook') {
    headers['idempotency-key'] = e.key;
    headers['palisade-event-id'] = e.key;
    if (t.secret) headers['palisade-signature'] = signature(t.secret, body, Math.floor(now() / 1000));
  }
  const timeout = t.timeoutMs ?? 10_000;
  try {
    const r = await request(t.url, { method: 'POST', headers, body, headersTimeout: timeout, bodyTimeout: timeout });
    const text = (await r.body.text()).slice(0, 300);
    if (r.statusCode >= 200 && r.statusCode < 300) return { ok: true, status: r.statusCode };
    return { ok: false, retry: retryable(r.statusCode), status: r.statusCode, error: `${t.name}: HTTP ${r.statusCode}${text ? `: ${text}` : ''}` };
  } catch (err) {
    return { ok: false, retry: true, status: 0, error: `${t.name}: ${(err as Error).message}` };
  }
}
