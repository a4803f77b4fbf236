/**
 * The API of `palisade serve` as one table of routes: each names its method, path, the least
 * role that may call it and the schema of its body, so the server enforces them in one place
 * and the OpenAPI description is written from the same table. Handlers go through the Store and
 * the shared actions of src/incidents, as the CLI does; every change writes its audit row in the
 * same transaction as the change.
 */
import { PalisadeError } from '../core/errors.js';
import { addNote, assignIncident, setIncidentStatus, silenceAlert } from '../incidents/actions.js';
import { incidentReportInput } from '../incidents/report-input.js';
import type { AlertFilter, IncidentFilter, Role, Store } from '../incidents/store/store.js';
import { ALERT_STATES, type Alert, SEVERITIES } from '../model/alert.js';
import { INCIDENT_STATUSES, type IncidentStatus } from '../model/incident.js';
import { makeIncidentReport } from '../report/index.js';
import { compile } from '../rules/compile.js';
import { alertScheme } from '../scheme/alert.js';
import { accountRoutes } from './accounts-api.js';
import { generatePassword, hashPassword, newToken } from './auth.js';
import { type Context, HttpError, type QueryParam, REPORT_CSP, type Route, recordRef } from './http.js';
import { incidentRoutes } from './incidents-api.js';
import type { LoginService } from './login.js';
import { audit, incidentNumber, incidentOr404, who } from './route-kit.js';
import { rulesRoutes } from './rules-api.js';
import { sensorRoutes } from './sensors-api.js';
import { Slots } from './slots.js';
import { storageRoutes } from './storage-api.js';
import type { Workspace } from './workspace.js';

export interface ApiDeps {
  store: Store;
  login: LoginService;
  /** The OpenAPI document (built from the routes, so handed in after). */
  openapi: () => unknown;
  /** The ruleset file and recorded traffic of the rules API; null: none (those routes answer 503). */
  workspace: Workspace | null;
}

/** Report PDFs printed at once (each a headless Chromium for a second or two). */
const PDF_AT_ONCE = 2;
const CONTENT_TYPES = { html: 'text/html; charset=utf-8', md: 'text/markdown; charset=utf-8', pdf: 'application/pdf' } as const;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
/** Alerts read before a `q` filter, so the filter sees more than one page. */
const Q_SCAN = 100_000;

const q = (name: string, description: string, schema: Record<string, unknown>): QueryParam => ({ name, description, schema });
const LIMIT = q('limit', `at most this many (1-${MAX_LIMIT}, default ${DEFAULT_LIMIT})`, { type: 'integer', minimum: 1, maximum: MAX_LIMIT });
const SINCE = q('since', 'at or after this time: ISO-8601, or an age such as 30m, 2h, 1d', { type: 'string' });

/** Comma-separated values of a closed set, or 400 naming the parameter. */
function choices<T extends string>(ctx: Context, name: string, allowed: readonly T[]): T[] | undefined {
  const text = ctx.url.searchParams.get(name);
  if (text === null) return undefined;
  const out = text.split(',').map((s) => s.trim());
  const bad = out.find((v) => !(allowed as readonly string[]).includes(v));
  if (bad !== undefined) throw new HttpError(400, `${name}: expected ${allowed.join(', ')} (comma-separated), not "${bad}"`, { field: name });
  return out as T[];
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

function since(ctx: Context): string | undefined {
  const text = ctx.url.searchParams.get('since');
  if (text === null) return undefined;
  const age = /^(\d+)([smhdw])$/.exec(text);
  if (age) return new Date(Date.now() - Number(age[1]) * (UNIT_MS[age[2] as string] as number)).toISOString();
  const t = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(t)) throw new HttpError(400, `since: expected an ISO-8601 time or an age such as 30m, 2h, 1d, not "${text}"`, { field: 'since' });
  return new Date(t).toISOString();
}

function limit(ctx: Context): number {
  const text = ctx.url.searchParams.get('limit');
  if (text === null) return DEFAULT_LIMIT;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_LIMIT) throw new HttpError(400, `limit: expected an integer from 1 to ${MAX_LIMIT}, not "${text}"`, { field: 'limit' });
  return n;
}

function text(ctx: Context, name: string): string | undefined {
  return ctx.url.searchParams.get(name) ?? undefined;
}

async function alertOr404(store: Store, id: string): Promise<Alert> {
  const a = await store.getAlert(id);
  if (a === null) throw new HttpError(404, `no alert ${id}`);
  return a;
}

/** The account as the API shows it: never its hash. */
function accountView(a: { name: string; role: Role; created_at: string; created_by: string; disabled: boolean }) {
  return { name: a.name, role: a.role, created_at: a.created_at, created_by: a.created_by, disabled: a.disabled };
}

export function apiRoutes(deps: ApiDeps): Route[] {
  const { store } = deps;
  const pdfSlots = new Slots(PDF_AT_ONCE, 'report PDFs');
  return [
    {
      method: 'GET',
      path: '/api/health',
      summary: 'Liveness: the server answers and its store is reachable (no authentication)',
      role: null,
      handler: async () => {
        await store.schemaVersion();
        return { json: { status: 'ok' } };
      },
    },
    {
      method: 'GET',
      path: '/api/openapi.json',
      summary: 'This API, as an OpenAPI 3.1 description',
      role: 'viewer',
      handler: async () => ({ json: deps.openapi() }),
    },
    {
      method: 'POST',
      path: '/api/login',
      summary: 'Log in with a name and password: sets the session cookie and returns the CSRF token (rate-limited per address and per account)',
      role: null,
      body: 'Login',
      handler: (ctx) => deps.login.login(ctx),
    },
    {
      method: 'POST',
      path: '/api/logout',
      summary: 'End the session (a token-authenticated call has none to end)',
      role: 'viewer',
      handler: (ctx) => deps.login.logout(ctx),
    },
    {
      method: 'GET',
      path: '/api/me',
      summary: 'The account making the request and its role',
      role: 'viewer',
      handler: async (ctx) => ({ json: { name: who(ctx).name, role: who(ctx).role, via: who(ctx).via } }),
    },
    {
      method: 'GET',
      path: '/api/alerts',
      summary: 'The alert queue, highest score first (default: alerts not ended)',
      role: 'viewer',
      response: { type: 'array', items: recordRef('alert') },
      query: [
        q('state', `${ALERT_STATES.join(', ')} (comma-separated; default all but ended)`, { type: 'string' }),
        q('severity', `${SEVERITIES.join(', ')} (comma-separated)`, { type: 'string' }),
        SINCE,
        q('q', 'a Rules-language expression over alert fields (alert.vector, alert.victim.ip, alert.customer, alert.score, …)', { type: 'string' }),
        LIMIT,
      ],
      handler: async (ctx) => {
        const expression = text(ctx, 'q')?.trim();
        let match: ((a: Alert) => boolean) | null = null;
        if (expression !== undefined && expression !== '') {
          try {
            match = compile(expression, alertScheme);
          } catch (err) {
            if (err instanceof PalisadeError) throw new HttpError(400, `q: ${err.message}`, { field: 'q', span: err.span ?? null });
            throw err;
          }
        }
        const n = limit(ctx);
        const filter: AlertFilter = { state: choices(ctx, 'state', ALERT_STATES) ?? ['open', 'acknowledged', 'silenced'], limit: match ? Q_SCAN : n };
        const sev = choices(ctx, 'severity', SEVERITIES);
        if (sev) filter.severity = sev;
        const from = since(ctx);
        if (from) filter.since = from;
        let list = await store.listAlerts(filter);
        if (match) list = list.filter(match).slice(0, n);
        return { json: list };
      },
    },
    {
      method: 'GET',
      path: '/api/alerts/{id}',
      summary: 'One alert in full',
      role: 'viewer',
      response: recordRef('alert'),
      handler: async (ctx) => ({ json: await alertOr404(store, ctx.params.id as string) }),
    },
    {
      method: 'POST',
      path: '/api/alerts/{id}/ack',
      summary: 'Acknowledge an alert (someone is on it)',
      role: 'operator',
      response: recordRef('alert'),
      body: 'Ack',
      handler: async (ctx) => {
        const a = await alertOr404(store, ctx.params.id as string);
        const done = await store.transaction(async (tx) => {
          if (!(await tx.ackAlert(a.id, who(ctx).name))) return false;
          await tx.appendAudit(audit(ctx, 'alert.ack', `alert:${a.id}`, { from: a.state ?? 'open' }));
          return true;
        });
        if (!done) throw new HttpError(409, `alert ${a.id} has ended: there is nothing to acknowledge`);
        return { json: await store.getAlert(a.id) };
      },
    },
    {
      method: 'POST',
      path: '/api/alerts/{id}/silence',
      summary: 'Silence an alert for a time (a silence naming its fingerprint)',
      role: 'operator',
      response: { type: 'object', required: ['alert', 'silence'], properties: { alert: recordRef('alert'), silence: { type: 'object' } } },
      body: 'Silence',
      handler: async (ctx) => {
        const body = ctx.body as { duration_s: number; reason?: string };
        const a = await alertOr404(store, ctx.params.id as string);
        const until = new Date(Date.now() + body.duration_s * 1000).toISOString();
        const s = await store.transaction(async (tx) => {
          const s = await silenceAlert(tx, a, until, who(ctx).name, body.reason ?? '');
          if (s) await tx.appendAudit(audit(ctx, 'alert.silence', `alert:${a.id}`, { silence: s.id, until, reason: s.reason }));
          return s;
        });
        if (s === null) throw new HttpError(409, `alert ${a.id} has ended: there is nothing to silence`);
        return { json: { alert: await store.getAlert(a.id), silence: s } };
      },
    },
    {
      method: 'POST',
      path: '/api/alerts/{id}/assign',
      summary:
        'Give the alert to someone: its ticket is assigned (an alert is worked through its incident; null unassigns); 409 when the alert has no ticket yet (POST /api/incidents opens one)',
      role: 'operator',
      response: { type: 'object', required: ['alert', 'incident'], properties: { alert: recordRef('alert'), incident: recordRef('incident') } },
      body: 'Assign',
      handler: async (ctx) => {
        const a = await alertOr404(store, ctx.params.id as string);
        if (a.incident_id === null) throw new HttpError(409, `alert ${a.id} has no incident yet: open one for it (POST /api/incidents with its id), then assign`);
        const inc = await incidentOr404(store, a.incident_id);
        const to = (ctx.body as { assignee: string | null }).assignee?.trim() ?? null;
        await store.transaction(async (tx) => {
          await assignIncident(tx, inc, to, who(ctx).name);
          await tx.appendAudit(audit(ctx, 'alert.assign', `alert:${a.id}`, { incident: inc.number, from: inc.assignee, to }));
        });
        return { json: { alert: await store.getAlert(a.id), incident: await store.getIncident(inc.number) } };
      },
    },
    {
      method: 'GET',
      path: '/api/incidents',
      summary: 'The incident tickets, newest first (default: the open ones)',
      role: 'viewer',
      query: [
        q('status', `${INCIDENT_STATUSES.join(', ')} (comma-separated; default all but resolved and false_positive)`, { type: 'string' }),
        q('severity', `${SEVERITIES.join(', ')} (comma-separated)`, { type: 'string' }),
        q('assignee', 'only the tickets assigned to this name', { type: 'string' }),
        q('customer', "only this customer's tickets", { type: 'string' }),
        SINCE,
        LIMIT,
      ],
      handler: async (ctx) => {
        const filter: IncidentFilter = {
          status: choices(ctx, 'status', INCIDENT_STATUSES) ?? INCIDENT_STATUSES.filter((s) => s !== 'resolved' && s !== 'false_positive'),
          limit: limit(ctx),
        };
        const sev = choices(ctx, 'severity', SEVERITIES);
        if (sev) filter.severity = sev;
        const from = since(ctx);
        if (from) filter.since = from;
        const assignee = text(ctx, 'assignee');
        if (assignee !== undefined) filter.assignee = assignee;
        const customer = text(ctx, 'customer');
        if (customer !== undefined) filter.customer = customer;
        return { json: await store.listIncidents(filter) };
      },
    },
    {
      method: 'GET',
      path: '/api/incidents/{n}',
      summary: 'One ticket: alerts, timeline, observables, mitigations',
      role: 'viewer',
      response: recordRef('incident'),
      handler: async (ctx) => ({ json: await incidentOr404(store, incidentNumber(ctx)) }),
    },
    {
      method: 'POST',
      path: '/api/incidents/{n}/notes',
      summary: "Add a note to the ticket's timeline",
      role: 'operator',
      body: 'Note',
      handler: async (ctx) => {
        const inc = await incidentOr404(store, incidentNumber(ctx));
        const note = (ctx.body as { text: string }).text.trim();
        const ev = await store.transaction(async (tx) => {
          const ev = await addNote(tx, inc.number, note, who(ctx).name);
          await tx.appendAudit(audit(ctx, 'incident.note', `incident:${inc.number}`, { timeline: ev.id ?? null }));
          return ev;
        });
        return { status: 201, json: ev };
      },
    },
    {
      method: 'POST',
      path: '/api/incidents/{n}/status',
      summary: 'Move the ticket along: new, investigating, mitigating, monitoring, resolved, false_positive',
      role: 'operator',
      response: recordRef('incident'),
      body: 'Status',
      handler: async (ctx) => {
        const inc = await incidentOr404(store, incidentNumber(ctx));
        const body = ctx.body as { status: IncidentStatus; note?: string };
        if (inc.merged_into != null) throw new HttpError(409, `incident #${inc.number} was merged into #${inc.merged_into}: change that one`);
        if (inc.status !== body.status) {
          await store.transaction(async (tx) => {
            const text = await setIncidentStatus(tx, inc, body.status, who(ctx).name, body.note);
            await tx.appendAudit(audit(ctx, 'incident.status', `incident:${inc.number}`, { from: inc.status, to: body.status, text }));
          });
        }
        return { json: await store.getIncident(inc.number) };
      },
    },
    {
      method: 'POST',
      path: '/api/incidents/{n}/assign',
      summary: 'Give the ticket to someone (null: unassign)',
      role: 'operator',
      response: recordRef('incident'),
      body: 'Assign',
      handler: async (ctx) => {
        const inc = await incidentOr404(store, incidentNumber(ctx));
        const to = (ctx.body as { assignee: string | null }).assignee?.trim() ?? null;
        await store.transaction(async (tx) => {
          await assignIncident(tx, inc, to, who(ctx).name);
          await tx.appendAudit(audit(ctx, 'incident.assign', `incident:${inc.number}`, { from: inc.assignee, to }));
        });
        return { json: await store.getIncident(inc.number) };
      },
    },
    {
      method: 'GET',
      path: '/api/incidents/{n}/report',
      summary: `The ticket's attack report (as palisade incidents report writes it); a PDF is printed by headless Chromium, at most ${PDF_AT_ONCE} at once (429 beyond)`,
      role: 'viewer',
      query: [q('format', 'html (default), md or pdf', { type: 'string', enum: ['html', 'md', 'pdf'] })],
      produces: ['text/html', 'text/markdown', 'application/pdf'],
      handler: async (ctx) => {
        const format = text(ctx, 'format') ?? 'html';
        if (format !== 'html' && format !== 'md' && format !== 'pdf') throw new HttpError(400, `format: expected html, md or pdf, not "${format}"`, { field: 'format' });
        const n = incidentNumber(ctx);
        const input = await incidentReportInput(store, n);
        if (input === null) throw new HttpError(404, `no incident #${n}`);
        const parts: Buffer[] = [];
        const render = () => makeIncidentReport(input, '-', { format, sink: (c) => parts.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c)) });
        if (format === 'pdf') await pdfSlots.run(render);
        else await render();
        const body = Buffer.concat(parts);
        return {
          text: format === 'pdf' ? body : body.toString('utf8'),
          contentType: CONTENT_TYPES[format],
          headers: { 'content-disposition': `attachment; filename="incident-${n}.${format}"`, 'content-security-policy': REPORT_CSP },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/audit',
      summary: 'The audit log, newest first: who changed what, when, from where',
      role: 'admin',
      query: [q('actor', 'only the changes of this account', { type: 'string' }), SINCE, LIMIT],
      handler: async (ctx) => {
        const actor = text(ctx, 'actor');
        const from = since(ctx);
        return { json: await store.listAudit({ limit: limit(ctx), ...(actor !== undefined && { actor }), ...(from !== undefined && { since: from }) }) };
      },
    },
    {
      method: 'GET',
      path: '/api/accounts',
      summary: 'The accounts and their roles',
      role: 'admin',
      handler: async () => ({ json: (await store.listAccounts()).map(accountView) }),
    },
    {
      method: 'POST',
      path: '/api/accounts',
      summary: 'Create an account; without a password one is generated and returned, once',
      role: 'admin',
      body: 'NewAccount',
      handler: async (ctx) => {
        const body = ctx.body as { name: string; role: Role; password?: string };
        const password = body.password ?? generatePassword();
        const hash = await hashPassword(password);
        const created_at = new Date().toISOString();
        const made = await store.transaction(async (tx) => {
          if (!(await tx.createAccount({ name: body.name, role: body.role, password_hash: hash, created_at, created_by: who(ctx).name }))) return false;
          await tx.appendAudit(audit(ctx, 'account.create', `account:${body.name}`, { role: body.role }));
          return true;
        });
        if (!made) throw new HttpError(409, `an account named ${body.name} exists`, { field: 'name' });
        return {
          status: 201,
          json: { ...accountView({ name: body.name, role: body.role, created_at, created_by: who(ctx).name, disabled: false }), ...(body.password === undefined && { password }) },
        };
      },
    },
    {
      method: 'POST',
      path: '/api/accounts/{name}/tokens',
      summary: 'Create an API token for an account: returned once, stored only as a hash',
      role: 'admin',
      body: 'NewToken',
      handler: async (ctx) => {
        const account = await store.getAccount(ctx.params.name as string);
        if (account === null) throw new HttpError(404, `no account ${ctx.params.name}`);
        const { id, token, secretHash } = newToken();
        const name = (ctx.body as { name: string }).name;
        const created_at = new Date().toISOString();
        await store.transaction(async (tx) => {
          await tx.addToken({ id, account: account.name, name, secret_hash: secretHash, created_at });
          await tx.appendAudit(audit(ctx, 'token.create', `account:${account.name}`, { token: id, name }));
        });
        return { status: 201, json: { id, account: account.name, name, created_at, token } };
      },
    },
    ...accountRoutes(store),
    ...incidentRoutes(store),
    ...rulesRoutes(store, deps.workspace),
    ...sensorRoutes(store),
    ...storageRoutes(store),
  ];
}
