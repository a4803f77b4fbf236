/**
 * Changing access (admin): an account's role changed, its password reset (a new one generated and
 * shown once; its sessions end), the account disabled (its sessions deleted, its tokens refused
 * from the next request: authentication reads the account each time) or enabled again, its tokens
 * listed (never their secrets or hashes), one token revoked. Each change has its audit row; an
 * admin cannot take their own admin role or account away (another admin must).
 */
import type { ApiToken, Role, Store } from '../incidents/store/store.js';
import { generatePassword, hashPassword } from './auth.js';
import { HttpError, type Route } from './http.js';
import { audit, who } from './route-kit.js';

function tokenView(t: ApiToken) {
  return { id: t.id, account: t.account, name: t.name, created_at: t.created_at, last_used_at: t.last_used_at };
}

export function accountRoutes(store: Store): Route[] {
  return [
    {
      method: 'POST',
      path: '/api/accounts/{name}/role',
      summary: "Change an account's role (its sessions and tokens act with the new one from the next request); an admin cannot change their own",
      role: 'admin',
      body: 'AccountRole',
      handler: async (ctx) => {
        const name = ctx.params.name as string;
        const role = (ctx.body as { role: Role }).role;
        if (name === who(ctx).name) throw new HttpError(409, 'you cannot change your own role: ask another admin');
        const before = await store.transaction(async (tx) => {
          const a = await tx.getAccount(name);
          if (a === null || !(await tx.setRole(name, role))) return null;
          if (a.role !== role) await tx.appendAudit(audit(ctx, 'account.role', `account:${name}`, { from: a.role, to: role }));
          return a;
        });
        if (before === null) throw new HttpError(404, `no account ${name}`);
        return { json: { name, role, disabled: before.disabled } };
      },
    },
    {
      method: 'POST',
      path: '/api/accounts/{name}/password',
      summary: "Reset an account's password: a new one is generated and returned once (give it to its owner); the account's sessions end",
      role: 'admin',
      handler: async (ctx) => {
        const name = ctx.params.name as string;
        const password = generatePassword();
        const hash = await hashPassword(password);
        const ended = await store.transaction(async (tx) => {
          if (!(await tx.setPassword(name, hash))) return null;
          const n = await tx.endSessions(name);
          await tx.appendAudit(audit(ctx, 'account.password', `account:${name}`, { sessions_ended: n }));
          return n;
        });
        if (ended === null) throw new HttpError(404, `no account ${name}`);
        return { json: { name, password, sessions_ended: ended } };
      },
    },
    {
      method: 'POST',
      path: '/api/accounts/{name}/disabled',
      summary: 'Disable an account (its sessions end and its tokens stop working at once) or enable it again; an admin cannot disable their own',
      role: 'admin',
      body: 'AccountDisabled',
      handler: async (ctx) => {
        const name = ctx.params.name as string;
        const disabled = (ctx.body as { disabled: boolean }).disabled;
        if (disabled && name === who(ctx).name) throw new HttpError(409, 'you cannot disable your own account: ask another admin');
        const done = await store.transaction(async (tx) => {
          const before = await tx.getAccount(name);
          if (before === null || !(await tx.setAccountDisabled(name, disabled))) return null;
          if (before.disabled !== disabled) await tx.appendAudit(audit(ctx, disabled ? 'account.disable' : 'account.enable', `account:${name}`, { role: before.role }));
          return before;
        });
        if (done === null) throw new HttpError(404, `no account ${name}`);
        return { json: { name, role: done.role, disabled } };
      },
    },
    {
      method: 'GET',
      path: '/api/accounts/{name}/tokens',
      summary: "An account's API tokens: id, name, when made and last used (the secret was shown once and is not kept)",
      role: 'admin',
      handler: async (ctx) => {
        const name = ctx.params.name as string;
        if ((await store.getAccount(name)) === null) throw new HttpError(404, `no account ${name}`);
        return { json: (await store.listTokens(name)).map(tokenView) };
      },
    },
    {
      method: 'POST',
      path: '/api/tokens/{id}/revoke',
      summary: 'Revoke an API token: it stops working at once',
      role: 'admin',
      body: 'Revoke',
      handler: async (ctx) => {
        const id = ctx.params.id as string;
        const reason = (ctx.body as { reason?: string }).reason ?? '';
        const token = await store.transaction(async (tx) => {
          const t = await tx.getToken(id);
          if (t === null || !(await tx.deleteToken(id))) return null;
          await tx.appendAudit(audit(ctx, 'token.revoke', `token:${id}`, { account: t.account, name: t.name, reason }));
          return t;
        });
        if (token === null) throw new HttpError(404, `no token ${id}`);
        return { json: { ...tokenView(token), revoked: true } };
      },
    },
  ];
}
