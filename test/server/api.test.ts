/**
 * `palisade serve`'s API over real HTTP on 127.0.0.1:0, on SQLite and on PostgreSQL: every
 * route's authentication (401 without credentials, 403 for a role below it), CSRF refusal for
 * a cookie-authenticated change, the login rate limit, body validation that names the field,
 * the audit log, tokens stored only as hashes, and the OpenAPI document against the route table.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Role } from '../../src/incidents/store/store.js';
import { hashPassword, sha256 } from '../../src/server/auth.js';
import type { Route } from '../../src/server/http.js';
import { BACKENDS } from '../incidents/store/backends.js';
import { alert } from '../incidents/store/fixtures.js';
import { call, PASSWORD, type ServerFixture, startServer, stopServer } from './server-fixture.js';

interface Fixture extends ServerFixture {
  alertId: string;
  incident: number;
}

/** The shared fixture (server-fixture.ts) with Secure cookies, tight login limits, two more viewers, two alerts and an incident. */
async function setup(backend: (typeof BACKENDS)[number], limits: { perAccount?: number; perAddress?: number } = {}): Promise<Fixture> {
  const f = await startServer(backend, {
    secureCookies: true,
    perAccount: { max: limits.perAccount ?? 3, windowMs: 60_000 },
    perAddress: { max: limits.perAddress ?? 1000, windowMs: 60_000 },
  });
  const hash = await hashPassword(PASSWORD);
  for (const name of ['limited', 'other']) await f.store.createAccount({ name, role: 'viewer', password_hash: hash, created_at: new Date().toISOString(), created_by: 'test' });
  const now = new Date().toISOString();
  const { alert: a } = await f.store.upsertAlert(alert(1, { first_seen: now, last_seen: now }));
  await f.store.upsertAlert(alert(2, { vector: 'udp_flood', fingerprint: 'udp_flood|x|fields', first_seen: now, last_seen: now }));
  const inc = await f.store.createIncident({ title: 'SYN flood on shop', severity: 'high' });
  await f.store.linkAlert(inc.number, a.id);
  return { ...f, alertId: a.id, incident: inc.number };
}

const teardown = stopServer;

/** The route's path with its parameters filled from the fixture. */
function pathOf(f: Fixture, r: Route): string {
  return r.path.replace('{id}', encodeURIComponent(f.alertId)).replace('{n}', String(f.incident)).replace('{name}', 'viewer');
}

/** A body the route's schema accepts. */
const VALID: Record<string, unknown> = {
  Login: { name: 'viewer', password: PASSWORD },
  Ack: {},
  Silence: { duration_s: 3600, reason: 'load test' },
  Note: { text: 'customer called' },
  Status: { status: 'investigating', note: 'looking' },
  Assign: { assignee: 'alice' },
  NewAccount: { name: 'newbie', role: 'viewer' },
  NewToken: { name: 'ci' },
  AccountDisabled: { disabled: false },
  AccountRole: { role: 'viewer' },
  Revoke: { reason: 'left' },
  NewIncident: { title: 'by hand' },
  Merge: { into: 1 },
  RulesetText: { text: 'rules: []\n' },
  RulesetReplace: { text: 'rules: []\n' },
  WhatIf: { text: 'rules: []\n', minutes: 5 },
  RulesetExport: { text: 'rules: []\n' },
  ListText: { text: '192.0.2.1\n' },
  Prune: { incidents_days: 90, dry_run: true },
};

async function login(f: Fixture, name: string, password = PASSWORD): Promise<Response> {
  return call(f, 'POST', '/api/login', { body: { name, password } });
}

for (const backend of BACKENDS) {
  describe(`palisade serve API (${backend.name})`, () => {
    let f: Fixture;
    before(async () => {
      f = await setup(backend);
    });
    after(() => teardown(f));

    it('health is open and every response carries the strict CSP and the other security headers', async () => {
      const r = await call(f, 'GET', '/api/health');
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { status: 'ok' });
      for (const res of [r, await call(f, 'GET', '/api/alerts'), await call(f, 'GET', '/nowhere')]) {
        assert.match(res.headers.get('content-security-policy') ?? '', /^default-src 'none'; frame-ancestors 'none'/);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(res.headers.get('x-frame-options'), 'DENY');
      }
    });

    it('every route but health and login answers 401 without credentials (a path not served too)', async () => {
      const open = f.api.routes.filter((r) => r.role === null).map((r) => `${r.method} ${r.path}`);
      assert.deepEqual(open.sort(), ['GET /api/health', 'POST /api/login']);
      for (const r of f.api.routes.filter((r) => r.role !== null)) {
        const res = await call(f, r.method, pathOf(f, r), r.body ? { body: VALID[r.body] } : {});
        assert.equal(res.status, 401, `${r.method} ${r.path}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      }
      // outside /api is the console's shell (static.test.ts), open as the login page is; /api stays closed
      assert.equal((await call(f, 'GET', '/api')).status, 401);
      assert.equal((await call(f, 'GET', '/api/alerts', { token: 'pal_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).status, 401);
      assert.equal((await call(f, 'GET', '/api/alerts', { headers: { cookie: 'palisade_session=forged' } })).status, 401);
      assert.equal((await call(f, 'GET', '/nowhere', { token: f.tokens.viewer })).status, 404);
    });

    it('every route answers 403 to the role below the one it needs', async () => {
      const below: Record<Role, Role | null> = { viewer: null, operator: 'viewer', admin: 'operator' };
      let checked = 0;
      for (const r of f.api.routes) {
        const weaker = r.role === null ? null : below[r.role];
        if (weaker === null) continue;
        const res = await call(f, r.method, pathOf(f, r), { token: f.tokens[weaker], ...(r.body && { body: VALID[r.body] }) });
        assert.equal(res.status, 403, `${r.method} ${r.path} as ${weaker}`);
        checked++;
      }
      assert.ok(checked >= 9, `${checked} routes checked`);
      assert.equal((await call(f, 'GET', '/api/audit', { token: f.tokens.viewer })).status, 403);
    });

    it('a viewer reads alerts (filters, a Rules-language q), incidents and the report', async () => {
      const t = f.tokens.viewer;
      const all = (await (await call(f, 'GET', '/api/alerts', { token: t })).json()) as { id: string; vector: string }[];
      assert.equal(all.length, 2);
      const q = encodeURIComponent('alert.vector == "udp_flood"');
      const udp = (await (await call(f, 'GET', `/api/alerts?q=${q}`, { token: t })).json()) as { vector: string }[];
      assert.deepEqual(
        udp.map((a) => a.vector),
        ['udp_flood'],
      );
      const bad = await call(f, 'GET', `/api/alerts?q=${encodeURIComponent('alert.nope == 1')}`, { token: t });
      assert.equal(bad.status, 400);
      const badBody = (await bad.json()) as { field: string; error: string };
      assert.equal(badBody.field, 'q');
      assert.equal((await call(f, 'GET', '/api/alerts?state=bogus', { token: t })).status, 400);
      assert.equal((await call(f, 'GET', '/api/alerts?severity=high&since=1h', { token: t })).status, 200);
      const one = await call(f, 'GET', `/api/alerts/${encodeURIComponent(f.alertId)}`, { token: t });
      assert.equal(((await one.json()) as { id: string }).id, f.alertId);
      assert.equal((await call(f, 'GET', '/api/alerts/nope', { token: t })).status, 404);
      const incs = (await (await call(f, 'GET', '/api/incidents', { token: t })).json()) as { number: number }[];
      assert.deepEqual(
        incs.map((i) => i.number),
        [f.incident],
      );
      const inc = (await (await call(f, 'GET', `/api/incidents/${f.incident}`, { token: t })).json()) as { alerts: string[] };
      assert.deepEqual(inc.alerts, [f.alertId]);
      const html = await call(f, 'GET', `/api/incidents/${f.incident}/report`, { token: t });
      assert.equal(html.status, 200);
      assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(html.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      // the PDF, printed by Debian's Chromium: a real PDF document
      const pdf = await call(f, 'GET', `/api/incidents/${f.incident}/report?format=pdf`, { token: t });
      assert.equal(pdf.status, 200);
      assert.equal(pdf.headers.get('content-type'), 'application/pdf');
      const bytes = Buffer.from(await pdf.arrayBuffer());
      assert.equal(bytes.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.ok(bytes.length > 5000, `${bytes.length} bytes`);
      assert.equal((await call(f, 'GET', `/api/incidents/${f.incident}/report?format=docx`, { token: t })).status, 400);
      assert.match(await html.text(), /SYN flood on shop/);
      const md = await call(f, 'GET', `/api/incidents/${f.incident}/report?format=md`, { token: t });
      assert.match(md.headers.get('content-type') ?? '', /^text\/markdown/);
      assert.match(await md.text(), /SYN flood on shop/);
    });

    it('request bodies are checked against their schema and the error names the field', async () => {
      const t = f.tokens.admin;
      const cases: [string, string, unknown, string, RegExp][] = [
        ['POST', `/api/incidents/${f.incident}/status`, { status: 'bogus' }, 'status', /^status: expected one of "new"/],
        ['POST', `/api/alerts/${encodeURIComponent(f.alertId)}/silence`, {}, 'duration_s', /^duration_s: missing; expected seconds/],
        ['POST', `/api/alerts/${encodeURIComponent(f.alertId)}/silence`, { duration_s: 5 }, 'duration_s', /^duration_s: expected seconds, 60 to/],
        ['POST', `/api/incidents/${f.incident}/notes`, { text: 'x', colour: 'red' }, 'colour', /^colour: unexpected field/],
        ['POST', `/api/incidents/${f.incident}/assign`, { assignee: 7 }, 'assignee', /^assignee: expected a name, or null/],
        ['POST', '/api/accounts', { name: 'Bad Name', role: 'viewer' }, 'name', /^name: expected a name of 1 to 64/],
        ['POST', '/api/login', { name: 'viewer' }, 'password', /^password: missing/],
      ];
      for (const [method, path, body, field, message] of cases) {
        const r = await call(f, method, path, { token: t, body });
        assert.equal(r.status, 400, path);
        const got = (await r.json()) as { error: string; field: string };
        assert.equal(got.field, field, path);
        assert.match(got.error, message);
      }
      const notJson = await fetch(`${f.base}/api/incidents/${f.incident}/notes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        body: '{',
      });
      assert.equal(notJson.status, 400);
      const form = await fetch(`${f.base}/api/incidents/${f.incident}/notes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t}`, 'content-type': 'text/plain' },
        body: 'text=x',
      });
      assert.equal(form.status, 415);
    });

    it('an operator triages, and each change is in the audit log with who, when, what and the target', async () => {
      const t = f.tokens.operator;
      const id = encodeURIComponent(f.alertId);
      const ack = await call(f, 'POST', `/api/alerts/${id}/ack`, { token: t });
      assert.equal(ack.status, 200);
      assert.equal(((await ack.json()) as { state: string; acked_by: string }).acked_by, 'operator');
      const sil = await call(f, 'POST', `/api/alerts/${id}/silence`, { token: t, body: { duration_s: 600, reason: 'load test' } });
      assert.equal(sil.status, 200);
      assert.equal(((await sil.json()) as { alert: { state: string } }).alert.state, 'silenced');
      assert.equal((await call(f, 'POST', `/api/incidents/${f.incident}/notes`, { token: t, body: { text: 'customer called' } })).status, 201);
      assert.equal((await call(f, 'POST', `/api/incidents/${f.incident}/status`, { token: t, body: { status: 'mitigating', note: 'rule loaded' } })).status, 200);
      const assigned = await call(f, 'POST', `/api/incidents/${f.incident}/assign`, { token: t, body: { assignee: 'alice' } });
      assert.equal(((await assigned.json()) as { assignee: string }).assignee, 'alice');
      // assigning the alert gives its ticket to someone
      const viaAlert = await call(f, 'POST', `/api/alerts/${id}/assign`, { token: t, body: { assignee: 'bob' } });
      assert.equal(viaAlert.status, 200);
      assert.equal(((await viaAlert.json()) as { incident: { assignee: string } }).incident.assignee, 'bob');
      assert.equal((await call(f, 'POST', '/api/alerts/nope/assign', { token: t, body: { assignee: 'bob' } })).status, 404);
      const inc = (await (await call(f, 'GET', `/api/incidents/${f.incident}`, { token: t })).json()) as { status: string; timeline: { kind: string; actor: string }[] };
      assert.equal(inc.status, 'mitigating');
      assert.deepEqual(
        inc.timeline.filter((e) => e.actor === 'operator').map((e) => e.kind),
        ['note', 'status', 'assigned', 'assigned'],
      );
      const audit = (await (await call(f, 'GET', '/api/audit?actor=operator', { token: f.tokens.admin })).json()) as {
        action: string;
        target: string;
        at: string;
        actor: string;
        address: string;
      }[];
      assert.deepEqual(audit.map((e) => [e.action, e.target]).reverse(), [
        ['alert.ack', `alert:${f.alertId}`],
        ['alert.silence', `alert:${f.alertId}`],
        ['incident.note', `incident:${f.incident}`],
        ['incident.status', `incident:${f.incident}`],
        ['incident.assign', `incident:${f.incident}`],
        ['alert.assign', `alert:${f.alertId}`],
      ]);
      for (const e of audit) {
        assert.ok(!Number.isNaN(Date.parse(e.at)));
        assert.match(e.address, /127\.0\.0\.1/);
      }
    });

    it('a session cookie: HttpOnly, Secure, SameSite=Strict; a change without the CSRF token is refused, with it accepted; logout ends it', async () => {
      const r = await login(f, 'operator');
      assert.equal(r.status, 200);
      const { csrf_token } = (await r.json()) as { csrf_token: string };
      const set = r.headers.getSetCookie();
      const session = set.find((c) => c.startsWith('palisade_session=')) as string;
      assert.match(session, /; HttpOnly/);
      assert.match(session, /; Secure/);
      assert.match(session, /; SameSite=Strict/);
      assert.match(set.find((c) => c.startsWith('palisade_csrf=')) as string, /; Secure/);
      const cookie = set.map((c) => c.split(';')[0]).join('; ');
      assert.equal((await call(f, 'GET', '/api/me', { headers: { cookie } })).status, 200, 'a read needs no CSRF token');
      const note = { text: 'from the console' };
      const refused = await call(f, 'POST', `/api/incidents/${f.incident}/notes`, { headers: { cookie }, body: note });
      assert.equal(refused.status, 403);
      assert.match(((await refused.json()) as { error: string }).error, /CSRF/);
      assert.equal((await call(f, 'POST', `/api/incidents/${f.incident}/notes`, { headers: { cookie, 'x-csrf-token': 'wrong' }, body: note })).status, 403);
      assert.equal((await call(f, 'POST', `/api/incidents/${f.incident}/notes`, { headers: { cookie, 'x-csrf-token': csrf_token }, body: note })).status, 201);
      // A token needs no CSRF token: no browser sends it by itself.
      assert.equal((await call(f, 'POST', `/api/incidents/${f.incident}/notes`, { token: f.tokens.operator, body: note })).status, 201);
      assert.equal((await call(f, 'POST', '/api/logout', { headers: { cookie } })).status, 403, 'logout is a change too');
      assert.equal((await call(f, 'POST', '/api/logout', { headers: { cookie, 'x-csrf-token': csrf_token } })).status, 200);
      assert.equal((await call(f, 'GET', '/api/me', { headers: { cookie } })).status, 401);
      const actions = ((await (await call(f, 'GET', '/api/audit?actor=operator', { token: f.tokens.admin })).json()) as { action: string }[]).map((e) => e.action);
      assert.ok(actions.includes('session.login') && actions.includes('session.logout'));
    });

    it('logins are rate-limited per account: after 3 failures even the right password waits (429, Retry-After)', async () => {
      assert.equal((await login(f, 'limited', 'wrong')).status, 401);
      assert.equal((await login(f, 'limited', 'wrong')).status, 401);
      assert.equal((await login(f, 'limited', 'wrong')).status, 401);
      const r = await login(f, 'limited');
      assert.equal(r.status, 429);
      assert.ok(Number(r.headers.get('retry-after')) > 0);
      assert.equal((await login(f, 'other')).status, 200, 'another account from the same address is not held');
      assert.equal((await login(f, 'nobody', 'x')).status, 401, 'an unknown account is the same 401 as a wrong password');
    });

    it('an admin creates an account (password shown once) and a token; the token works and only its hash is stored', async () => {
      const made = await call(f, 'POST', '/api/accounts', { token: f.tokens.admin, body: { name: 'newbie', role: 'operator' } });
      assert.equal(made.status, 201);
      const { password } = (await made.json()) as { password: string };
      assert.ok(password.length >= 20);
      assert.equal((await call(f, 'POST', '/api/accounts', { token: f.tokens.admin, body: { name: 'newbie', role: 'viewer' } })).status, 409);
      assert.equal((await login(f, 'newbie', password)).status, 200);
      const stored = await f.store.getAccount('newbie');
      assert.ok(stored?.password_hash.startsWith('scrypt$') && !stored.password_hash.includes(password));
      const listed = (await (await call(f, 'GET', '/api/accounts', { token: f.tokens.admin })).json()) as Record<string, unknown>[];
      assert.ok(listed.every((a) => !('password_hash' in a)));

      const tr = await call(f, 'POST', '/api/accounts/newbie/tokens', { token: f.tokens.admin, body: { name: 'ci' } });
      assert.equal(tr.status, 201);
      const { token, id } = (await tr.json()) as { token: string; id: string };
      const me = (await (await call(f, 'GET', '/api/me', { token })).json()) as { name: string; role: string; via: string };
      assert.deepEqual(me, { name: 'newbie', role: 'operator', via: 'token' });
      const row = await f.store.getToken(id);
      const secretPart = token.slice(`pal_${id}_`.length);
      assert.equal(row?.secret_hash, sha256(secretPart));
      assert.ok(!JSON.stringify(row).includes(secretPart), 'the secret is not stored');
      assert.equal((await call(f, 'GET', '/api/me', { token: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` })).status, 401);
      const audit = (await (await call(f, 'GET', '/api/audit?actor=admin', { token: f.tokens.admin })).json()) as { action: string; target: string }[];
      assert.ok(audit.some((e) => e.action === 'account.create' && e.target === 'account:newbie'));
      assert.ok(audit.some((e) => e.action === 'token.create' && e.target === 'account:newbie'));
    });

    it('the OpenAPI document is OpenAPI 3.1 JSON listing exactly the routes served, with every $ref resolving', async () => {
      const r = await call(f, 'GET', '/api/openapi.json', { token: f.tokens.viewer });
      assert.equal(r.status, 200);
      const doc = JSON.parse(await r.text()) as {
        openapi: string;
        info: { title: string };
        paths: Record<string, Record<string, unknown>>;
        components: Record<string, Record<string, unknown>>;
      };
      assert.equal(doc.openapi, '3.1.0');
      assert.ok(doc.info.title);
      const documented = Object.entries(doc.paths)
        .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
        .sort();
      const served = f.api.routes.map((x) => `${x.method} ${x.path}`).sort();
      assert.deepEqual(documented, served);
      const refs: string[] = [];
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) k === '$ref' && typeof x === 'string' ? refs.push(x) : walk(x);
      };
      walk(doc);
      for (const ref of refs.filter((x) => x.startsWith('#/'))) {
        const target = ref
          .slice(2)
          .split('/')
          .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], doc);
        assert.ok(target !== undefined, `${ref} resolves`);
      }
      // The component schemas are JSON Schema 2020-12, as OpenAPI 3.1 says: each compiles.
      const ajv = new Ajv2020({ strict: true, strictTypes: false });
      for (const [name, schema] of Object.entries(doc.components.schemas as Record<string, object>)) assert.doesNotThrow(() => ajv.compile(schema), name);
      for (const [p, ops] of Object.entries(doc.paths))
        for (const op of Object.values(ops) as { responses: Record<string, unknown>; parameters: { name: string; in: string }[] }[]) {
          assert.ok(op.responses['200'], p);
          for (const name of p.match(/\{([a-z_]+)\}/g) ?? [])
            assert.ok(
              op.parameters.some((x) => x.in === 'path' && `{${x.name}}` === name),
              `${p} declares ${name}`,
            );
        }
    });
  });
}

describe('palisade serve login limit per address', () => {
  let f: Fixture;
  before(async () => {
    f = await setup(BACKENDS[0] as (typeof BACKENDS)[number], { perAddress: 2, perAccount: 100 });
  });
  after(() => teardown(f));

  it('after 2 failures from one address, a login for any account from it waits', async () => {
    assert.equal((await login(f, 'viewer', 'wrong')).status, 401);
    assert.equal((await login(f, 'operator', 'wrong')).status, 401);
    assert.equal((await login(f, 'admin')).status, 429);
  });
});
