/**
 * The edge proxy as an enforcement point for L7 attacks: the monitor pushes an attack's rule to a
 * running `palisade edge` through its admin API (`POST /api/rules`, proxy/admin/server.ts) as a
 * runtime entry — a custom rule blocking the signature's requests (a source-list signature's
 * addresses inline, so the rule stays on the attacked host) — and takes it away with
 * `DELETE /api/rules/{id}`. Hits are the edge's own count of requests the entry matched
 * (`palisade_edge_rule_matches_total` in /metrics).
 *
 * Every entry carries an expiry (`ttl_s`, default a day) as a backstop: should the monitor die
 * before the attack ends, the edge still removes the rule. Each call is bounded in time.
 */
import type { Enforcer, EnforcerOutcome } from './enforcer.js';

export interface EdgePlace {
  /** The edge's admin URL, e.g. http://127.0.0.1:9901 */
  url: string;
  /** Its bearer token (--admin-token), when it has one. */
  token?: string | null;
  /** Backstop expiry of pushed entries, seconds (default 86400). */
  ttlS?: number;
  /** Per call, ms (default 5000). */
  timeoutMs?: number;
}

/** Addresses a pushed rule carries inline at most. */
const MAX_INLINE = 10_000;

interface RulesetData {
  rules?: Array<{ expression?: unknown; description?: unknown }>;
  lists?: Record<string, { entries?: unknown }>;
}

export class EdgeEnforcer implements Enforcer {
  readonly target = 'edge';
  readonly layer = 'l7' as const;
  private readonly url: string;
  private readonly ttlS: number;
  private readonly timeoutMs: number;

  constructor(private readonly place: EdgePlace) {
    this.url = place.url.replace(/\/+$/, '');
    this.ttlS = place.ttlS ?? 86_400;
    this.timeoutMs = place.timeoutMs ?? 5000;
  }

  /** The runtime entry (JSON) for the one-rule ruleset, or why the edge cannot take it. */
  script(id: string, ruleset: object): { text: string; problems: string[] } {
    const rs = ruleset as RulesetData;
    const rule = rs.rules?.[0];
    const expression = typeof rule?.expression === 'string' ? rule.expression.trim() : '';
    if (expression === '') return { text: '', problems: ['no rule expression'] };
    const description = typeof rule?.description === 'string' ? `palisade monitor: ${rule.description}` : 'palisade monitor';
    // A source-list signature (`http.host eq "…" and ip.src in $list`) keeps its host: the list goes
    // inline as a set (`ip.src in {a b …}`); a runtime list entry would block those sources on every host.
    let text = expression;
    for (const [name, list] of Object.entries(rs.lists ?? {})) {
      const entries = list.entries;
      if (!Array.isArray(entries) || entries.length === 0) return { text: '', problems: [`list $${name} has no entries`] };
      if (entries.length > MAX_INLINE) return { text: '', problems: [`list $${name} has ${entries.length} entries, more than the ${MAX_INLINE} a pushed rule carries`] };
      text = text.split(`$${name}`).join(`{${entries.join(' ')}}`);
    }
    if (/\$[A-Za-z0-9_]/.test(text)) return { text: '', problems: ['the expression names a list the ruleset does not hold'] };
    return { text: JSON.stringify({ type: 'custom_rule', id, description, expression: text, action: 'block', ttl_s: this.ttlS }), problems: [] };
  }

  async apply(id: string, script: string): Promise<EnforcerOutcome> {
    const command = `POST ${this.url}/api/rules (${id})`;
    // a same-id entry from an earlier run of this mitigation goes first (apply replaces)
    await this.call('DELETE', `/api/rules/${encodeURIComponent(id)}`).catch(() => null);
    try {
      const r = await this.call('POST', '/api/rules', script);
      if (r.status === 201) return { ok: true, command };
      return { ok: false, command, error: `the edge answered ${r.status}: ${errorOf(r.body)}` };
    } catch (e) {
      return { ok: false, command, error: `the edge's admin API did not answer: ${(e as Error).message}` };
    }
  }

  async remove(id: string): Promise<EnforcerOutcome> {
    const command = `DELETE ${this.url}/api/rules/${id}`;
    try {
      const r = await this.call('DELETE', `/api/rules/${encodeURIComponent(id)}`);
      // gone already (expired, removed by a person) is what was wanted
      if (r.status === 200 || r.status === 404) return { ok: true, command };
      return { ok: false, command, error: `the edge answered ${r.status}: ${errorOf(r.body)}` };
    } catch (e) {
      return { ok: false, command, error: `the edge's admin API did not answer: ${(e as Error).message}` };
    }
  }

  /** Requests the entry matched (the edge's counter); bytes are not counted per rule (0). */
  async hits(id: string): Promise<{ packets: number; bytes: number } | null> {
    try {
      const r = await this.call('GET', '/metrics');
      if (r.status !== 200) return null;
      let n: number | null = null;
      const line = `palisade_edge_rule_matches_total{rule="${id}"} `;
      for (const l of r.body.split('\n')) if (l.startsWith(line)) n = Number(l.slice(line.length));
      return { packets: n ?? 0, bytes: 0 };
    } catch {
      return null;
    }
  }

  private async call(method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.place.token) headers.authorization = `Bearer ${this.place.token}`;
    const res = await fetch(`${this.url}${path}`, { method, headers, ...(body !== undefined && { body }), signal: AbortSignal.timeout(this.timeoutMs) });
    return { status: res.status, body: await res.text() };
  }
}

function errorOf(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown };
    if (typeof j.error === 'string') return j.error;
  } catch {
    // not JSON: the text itself
  }
  return body.slice(0, 200);
}
