/**
 * The answers the edge gives itself (DESIGN.md "Edge responses"): 403 for lists, custom rules and
 * the WAF, 429 with `Retry-After` for rate limits, 403 with a page for challenges, 503 when the
 * counters cannot decide and the store fails closed. Small bodies, HTML for browsers and JSON for
 * API clients (by `Accept`), never cached. The transport adds `palisade-mitigated` (the verdict's
 * `mitigated`) and the request id header; the bodies name the request id too, for support.
 *
 * Each answer is a function of its own, so the challenge placeholder can be swapped for the
 * JavaScript challenge without touching the phases.
 */
import type { EdgeRequest, Mitigated, Respond } from '../gate.js';
import { headerOf } from './headers.js';

/** Does the client prefer JSON (an API client) over a page? */
export function wantsJson(req: EdgeRequest): boolean {
  const a = headerOf(req.view, 'accept');
  return a?.includes('json') === true && !a.includes('text/html');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function answer(
  req: EdgeRequest,
  mitigated: Mitigated,
  status: number,
  title: string,
  text: string,
  extra: ReadonlyArray<readonly [string, string]> = [],
  json: Record<string, unknown> = {},
): Respond {
  const asJson = wantsJson(req);
  const body = asJson
    ? `${JSON.stringify({ error: title, status, mitigated, request_id: req.id, ...json })}\n`
    : `<!doctype html><html><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${status} ${escapeHtml(title)}</title></head>` +
      `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p><p><small>Request id: ${escapeHtml(req.id)}</small></p></body></html>\n`;
  return {
    kind: 'respond',
    mitigated,
    status,
    headers: [['content-type', asJson ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8'], ['cache-control', 'no-store'], ...extra],
    body,
  };
}

/** An IP list or a custom rule blocked the request. */
export function blockResponse(req: EdgeRequest): Respond {
  return answer(req, 'block', 403, 'Access denied', 'This request was blocked by the site’s security rules.');
}

/** The WAF blocked the request. */
export function wafResponse(req: EdgeRequest): Respond {
  return answer(req, 'waf', 403, 'Request blocked', 'This request looked like an attack on the site and was blocked.');
}

/** A rate limit holds the client: `retryAfterS` whole seconds (at least 1). */
export function rateLimitResponse(req: EdgeRequest, retryAfterS: number): Respond {
  const s = Math.max(1, Math.ceil(retryAfterS));
  return answer(req, 'rate_limit', 429, 'Too many requests', `Too many requests from this client. Try again in ${s} seconds.`, [['retry-after', String(s)]], {
    retry_after: s,
  });
}

/** The rate-limit counters could not answer and the store fails closed. */
export function countersUnavailableResponse(req: EdgeRequest): Respond {
  return answer(req, 'rate_limit', 503, 'Service busy', 'The site cannot take this request right now. Try again shortly.', [['retry-after', '1']], { retry_after: 1 });
}

/**
 * A challenge is required (custom rule `challenge`/`js_challenge`, a rate limit whose action is
 * a challenge). The gate's default is the JavaScript challenge's page (proxy/challenge/,
 * `JsChallenge.respond`); this placeholder, a page that only says so, stays for gates given it.
 */
export type ChallengeResponder = (req: EdgeRequest) => Respond;

export const placeholderChallenge: ChallengeResponder = (req) =>
  answer(req, 'challenge', 403, 'Checking your browser', 'This site needs to verify that you are a person before it lets this request through. A challenge is required.', [], {
    challenge: 'required',
  });
