/**
 * Taking access away through the API (src/server/accounts-api.ts) on SQLite and PostgreSQL: the
 * refusals (401, 403 for an operator, CSRF, the field of a bad body), a disabled account's
 * session and token refused on their very next request, enabling it again (the token works, the
 * session stays gone), a revoked token refused at once while the account's others still work,
 * and the audit rows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword, newToken } from '../../src/server/auth.js';
import { BACKENDS } from '../incidents/store/backends.js';
import { call, PASSWORD, refusals, type ServerFixture, session, startServer, stopServer } from './server-fixture.js';

async function json<T>(r: Response | Promise<Response>): Promise<T> {
  return (await (await r).json()) as T;
}

for (const backend of BACKENDS) {
  describe(`accounts API: disable, tokens, revoke (${backend.name})`, () => {
    let f: ServerFixture;
    const tokens: Record<string, { id: string; token: string }> = {};
    before(async () => {
      f = await startServer(backend);
      await f.store.createAccount({ name: 'alice', role: 'operator', password_hash: await hashPassword(PASSWORD), created_at: new Date().toISOString(), created_by: 'test' });
      for (const name of ['laptop', 'ci']) {
        const t = newToken();
        await f.store.addToken({ id: t.id, account: 'alice', name, secret_hash: t.secretHash, created_at: new Date().toISOString() });
        tokens[name] = { id: t.id, token: t.token };
      }
    });
    after(() => stopServer(f));

    it('refuses without credentials (401), an operator (403), a cookie change without CSRF (403), and names the field of a bad body', async () => {
      const cases: [string, string, unknown][] = [
        ['POST', '/api/accounts/alice/disabled', { disabled: true }],
        ['GET', '/api/accounts/alice/tokens', undefined],
        ['POST', `/api/tokens/${tokens.ci?.id}/revoke`, { reason: 'x' }],
        ['POST', '/api/accounts/alice/role', { role: 'viewer' }],
        ['POST', '/api/accounts/alice/password', {}],
      ];
      for (const [method, path, body] of cases) {
        const r = await refusals(f, method, path, body, 'operator');
        assert.equal(r.anonymous, 401, path);
        assert.equal(r.weaker, 403, path);
        if (method === 'POST') assert.equal(r.noCsrf, 403, path);
      }
      const bad: [string, unknown, string, RegExp][] = [
        ['/api/accounts/alice/disabled', {}, 'disabled', /^disabled: missing; expected true to disable/],
        ['/api/accounts/alice/disabled', { disabled: 'yes' }, 'disabled', /^disabled: expected true to disable/],
        [`/api/tokens/${tokens.ci?.id}/revoke`, { reason: 5 }, 'reason', /^reason: expected why/],
        ['/api/accounts/alice/role', { role: 'root' }, 'role', /^role: expected viewer, operator or admin/],
      ];
      for (const [path, body, field, message] of bad) {
        const r = await call(f, 'POST', path, { token: f.tokens.admin, body });
        assert.equal(r.status, 400, path);
        const got = await json<{ field: string; error: string }>(r);
        assert.equal(got.field, field);
        assert.match(got.error, message);
      }
      assert.equal((await call(f, 'GET', '/api/me', { token: tokens.ci?.token })).status, 200, 'nothing was changed by the refused calls');
    });

    it("a disabled account's session and tokens stop at once; enabled again, the token works and the session stays gone", async () => {
      const s = await session(f, 'alice');
      assert.equal((await call(f, 'GET', '/api/me', { headers: { cookie: s.cookie } })).status, 200);
      assert.equal((await call(f, 'GET', '/api/me', { token: tokens.laptop?.token })).status, 200);
      const off = await call(f, 'POST', '/api/accounts/alice/disabled', { token: f.tokens.admin, body: { disabled: true } });
      assert.equal(off.status, 200);
      assert.deepEqual(await json(off), { name: 'alice', role: 'operator', disabled: true });
      assert.equal((await call(f, 'GET', '/api/me', { headers: { cookie: s.cookie } })).status, 401);
      assert.equal((await call(f, 'GET', '/api/me', { token: tokens.laptop?.token })).status, 401);
      assert.equal((await call(f, 'POST', '/api/login', { body: { name: 'alice', password: PASSWORD } })).status, 401, 'no new session either');
      assert.equal((await call(f, 'POST', '/api/accounts/admin/disabled', { token: f.tokens.admin, body: { disabled: true } })).status, 409, 'not oneself');
      assert.equal((await call(f, 'POST', '/api/accounts/nobody/disabled', { token: f.tokens.admin, body: { disabled: true } })).status, 404);

      assert.equal((await call(f, 'POST', '/api/accounts/alice/disabled', { token: f.tokens.admin, body: { disabled: false } })).status, 200);
      assert.equal((await call(f, 'GET', '/api/me', { token: tokens.laptop?.token })).status, 200);
      assert.equal((await call(f, 'GET', '/api/me', { headers: { cookie: s.cookie } })).status, 401, 'the session was deleted, not suspended');
      const listed = (await json<{ name: string; disabled: boolean }[]>(call(f, 'GET', '/api/accounts', { token: f.tokens.admin }))).find((a) => a.name === 'alice');
      assert.equal(listed?.disabled, false);
    });

    it('tokens are listed without their secrets; a revoked one stops at once, the others keep working', async () => {
      const list = await json<Record<string, unknown>[]>(call(f, 'GET', '/api/accounts/alice/tokens', { token: f.tokens.admin }));
      assert.deepEqual(list.map((t) => t.name).sort(), ['ci', 'laptop']);
      assert.ok(list.every((t) => !('secret_hash' in t) && !JSON.stringify(t).includes(tokens.ci?.token.slice(-43) as string)));
      assert.equal((await call(f, 'GET', '/api/accounts/nobody/tokens', { token: f.tokens.admin })).status, 404);
      const r = await call(f, 'POST', `/api/tokens/${tokens.ci?.id}/revoke`, { token: f.tokens.admin, body: { reason: 'CI moved' } });
      assert.equal(r.status, 200);
      assert.equal((await json<{ revoked: boolean }>(r)).revoked, true);
      assert.equal((await call(f, 'GET', '/api/me', { token: tokens.ci?.token })).status, 401);
      assert.equal((await call(f, 'GET', '/api/me', { token: tokens.laptop?.token })).status, 200);
      assert.equal((await call(f, 'POST', `/api/tokens/${tokens.ci?.id}/revoke`, { token: f.tokens.admin, body: {} })).status, 404, 'gone');
      const s = await session(f, 'admin');
      assert.equal(
        (await call(f, 'POST', `/api/tokens/${tokens.laptop?.id}/revoke`, { headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } })).status,
        200,
        'with a session and its CSRF token',
      );

      const audit = await json<{ action: string; target: string; detail: Record<string, unknown> }[]>(call(f, 'GET', '/api/audit?actor=admin', { token: f.tokens.admin }));
      const ours = audit.filter((a) => ['account.disable', 'account.enable', 'token.revoke'].includes(a.action)).reverse();
      assert.deepEqual(
        ours.map((a) => [a.action, a.target]),
        [
          ['account.disable', 'account:alice'],
          ['account.enable', 'account:alice'],
          ['token.revoke', `token:${tokens.ci?.id}`],
          ['token.revoke', `token:${tokens.laptop?.id}`],
        ],
      );
      assert.deepEqual(ours[2]?.detail, { account: 'alice', name: 'ci', reason: 'CI moved' });
    });

    it("a role change acts from the next request; a password reset gives a new password once and ends the account's sessions", async () => {
      const s = await session(f, 'alice');
      const t = newToken();
      await f.store.addToken({ id: t.id, account: 'alice', name: 'role-test', secret_hash: t.secretHash, created_at: new Date().toISOString() });
      assert.equal((await call(f, 'POST', '/api/incidents', { token: t.token, body: { title: 'by an operator' } })).status, 201);
      const down = await call(f, 'POST', '/api/accounts/alice/role', { token: f.tokens.admin, body: { role: 'viewer' } });
      assert.deepEqual(await json(down), { name: 'alice', role: 'viewer', disabled: false });
      assert.equal((await call(f, 'POST', '/api/incidents', { token: t.token, body: { title: 'now a viewer' } })).status, 403, 'the token acts as a viewer at once');
      assert.equal((await json<{ role: string }>(call(f, 'GET', '/api/me', { headers: { cookie: s.cookie } }))).role, 'viewer', 'so does the session');
      assert.equal((await call(f, 'POST', '/api/accounts/admin/role', { token: f.tokens.admin, body: { role: 'viewer' } })).status, 409, 'not oneself');
      assert.equal((await call(f, 'POST', '/api/accounts/nobody/role', { token: f.tokens.admin, body: { role: 'viewer' } })).status, 404);
      await call(f, 'POST', '/api/accounts/alice/role', { token: f.tokens.admin, body: { role: 'operator' } });

      const reset = await json<{ name: string; password: string; sessions_ended: number }>(call(f, 'POST', '/api/accounts/alice/password', { token: f.tokens.admin }));
      assert.equal(reset.name, 'alice');
      assert.ok(reset.password.length >= 20 && reset.password !== PASSWORD);
      assert.ok(reset.sessions_ended >= 1);
      assert.equal((await call(f, 'GET', '/api/me', { headers: { cookie: s.cookie } })).status, 401, 'its session ended');
      assert.equal((await call(f, 'POST', '/api/login', { body: { name: 'alice', password: PASSWORD } })).status, 401, 'the old password is refused');
      assert.equal((await call(f, 'POST', '/api/login', { body: { name: 'alice', password: reset.password } })).status, 200, 'the new one works');
      assert.equal((await call(f, 'POST', '/api/accounts/nobody/password', { token: f.tokens.admin })).status, 404);
      const audit = await json<{ action: string; target: string; detail: Record<string, unknown> }[]>(call(f, 'GET', '/api/audit?actor=admin', { token: f.tokens.admin }));
      const ours = audit.filter((a) => a.action === 'account.role' || a.action === 'account.password').reverse();
      assert.deepEqual(
        ours.map((a) => [a.action, a.detail.to ?? null]),
        [
          ['account.role', 'viewer'],
          ['account.role', 'operator'],
          ['account.password', null],
        ],
      );
      assert.ok(!JSON.stringify(audit).includes(reset.password), 'the password is nowhere in the audit log');
    });
  });
}
