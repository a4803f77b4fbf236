/**
 * Sessions: log in (rate-limited per client address and per account), log out, and who a
 * request is — a session cookie, or an API token in `Authorization: Bearer`. The cookie carries a
 * random id of which the store keeps only a SHA-256; a second cookie (readable by the console's
 * script) carries the CSRF token that every cookie-authenticated change must echo in the
 * X-CSRF-Token header.
 */
import type { IncomingMessage } from 'node:http';
import type { Store } from '../incidents/store/store.js';
import { decoyHash, LoginLimiter, parseToken, type RateLimit, sameSecret, secret, sha256, verifyPassword } from './auth.js';
import { type Context, cookies, HttpError, type Principal, type Reply } from './http.js';

export const SESSION_COOKIE = 'palisade_session';
export const CSRF_COOKIE = 'palisade_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export interface LoginOptions {
  /**
   * Mark cookies Secure (sent back over HTTPS only). Relaxed only when the server listens on a
   * loopback address over plain HTTP (http://127.0.0.1 in development), where there is no HTTPS
   * to send them over; anywhere else the server sits behind TLS and cookies stay Secure.
   */
  secureCookies: boolean;
  /** Session lifetime (default 12 h: one shift). */
  sessionMs?: number;
  /** Failed logins allowed per client address (default 20 per 15 min). */
  perAddress?: RateLimit;
  /** Failed logins allowed per account (default 5 per 15 min). */
  perAccount?: RateLimit;
  now?: () => number;
}

const FIFTEEN_MIN = 15 * 60_000;

export class LoginService {
  private readonly byAddress: LoginLimiter;
  private readonly byAccount: LoginLimiter;
  private readonly sessionMs: number;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly opts: LoginOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.sessionMs = opts.sessionMs ?? 12 * 3_600_000;
    this.byAddress = new LoginLimiter(opts.perAddress ?? { max: 20, windowMs: FIFTEEN_MIN }, this.now);
    this.byAccount = new LoginLimiter(opts.perAccount ?? { max: 5, windowMs: FIFTEEN_MIN }, this.now);
  }

  async login(ctx: Context): Promise<Reply> {
    const { name, password } = ctx.body as { name: string; password: string };
    const addrKey = ctx.address;
    const wait = Math.max(this.byAddress.retryAfter(addrKey), this.byAccount.retryAfter(name));
    if (wait > 0)
      throw new HttpError(429, 'too many failed logins: wait before trying again', { retry_after_s: Math.ceil(wait / 1000) }, { 'retry-after': String(Math.ceil(wait / 1000)) });
    const account = await this.store.getAccount(name);
    // The same scrypt work whether or not the account exists: the answer's time says nothing.
    const ok = await verifyPassword(password, account?.password_hash ?? (await decoyHash()));
    if (!ok || account === null || account.disabled) {
      this.byAddress.fail(addrKey);
      this.byAccount.fail(name);
      await this.store.appendAudit({ actor: name, action: 'session.login_failed', target: `account:${name}`, detail: null, address: ctx.address });
      throw new HttpError(401, 'wrong name or password');
    }
    this.byAccount.reset(name);
    const id = secret();
    const csrf = secret();
    const created = new Date(this.now());
    const expires = new Date(this.now() + this.sessionMs);
    await this.store.transaction(async (tx) => {
      await tx.createSession({ id_hash: sha256(id), account: account.name, csrf, created_at: created.toISOString(), expires_at: expires.toISOString() });
      await tx.appendAudit({ actor: account.name, action: 'session.login', target: `account:${account.name}`, detail: null, address: ctx.address });
      // Expired sessions are swept here: logins are rare, and an expired row is refused anyway.
      await tx.deleteExpiredSessions(created.toISOString());
    });
    const maxAge = Math.floor(this.sessionMs / 1000);
    return {
      json: { name: account.name, role: account.role, csrf_token: csrf, expires_at: expires.toISOString() },
      headers: { 'set-cookie': [this.cookie(SESSION_COOKIE, id, maxAge, true), this.cookie(CSRF_COOKIE, csrf, maxAge, false)] },
    };
  }

  async logout(ctx: Context): Promise<Reply> {
    const p = ctx.principal as Principal;
    if (p.session !== undefined) {
      await this.store.transaction(async (tx) => {
        await tx.deleteSession(p.session as string);
        await tx.appendAudit({ actor: p.name, action: 'session.logout', target: `account:${p.name}`, detail: null, address: ctx.address });
      });
    }
    return { json: { ok: true }, headers: { 'set-cookie': [this.cookie(SESSION_COOKIE, '', 0, true), this.cookie(CSRF_COOKIE, '', 0, false)] } };
  }

  /**
   * Who sent the request: a Bearer token, else the session cookie; null when neither is there.
   * A token or cookie that is there but wrong is 401 (not "anonymous"). A cookie-authenticated
   * request that changes something must carry the session's CSRF token (403 without it).
   */
  async authenticate(req: IncomingMessage, changes: boolean): Promise<Principal | null> {
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(auth);
      const parsed = m ? parseToken(m[1] as string) : null;
      const token = parsed ? await this.store.getToken(parsed.id) : null;
      if (parsed === null || token === null || !sameSecret(sha256(parsed.secret), token.secret_hash)) throw new HttpError(401, 'invalid API token');
      const account = await this.store.getAccount(token.account);
      if (account === null || account.disabled) throw new HttpError(401, 'invalid API token');
      await this.store.touchToken(token.id);
      return { name: account.name, role: account.role, via: 'token' };
    }
    const id = cookies(req).get(SESSION_COOKIE);
    if (id === undefined || id === '') return null;
    const session = await this.store.getSession(sha256(id), new Date(this.now()).toISOString());
    if (session === null) throw new HttpError(401, 'session expired or unknown: log in again');
    const account = await this.store.getAccount(session.account);
    if (account === null || account.disabled) throw new HttpError(401, 'session expired or unknown: log in again');
    if (changes) {
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameSecret(sent, session.csrf))
        throw new HttpError(403, `missing or wrong CSRF token: send the ${CSRF_HEADER} header with the value of the ${CSRF_COOKIE} cookie`);
    }
    return { name: account.name, role: account.role, via: 'session', session: session.id_hash };
  }

  private cookie(name: string, value: string, maxAge: number, httpOnly: boolean): string {
    return `${name}=${value}; Path=/; Max-Age=${maxAge}; SameSite=Strict${httpOnly ? '; HttpOnly' : ''}${this.opts.secureCookies ? '; Secure' : ''}`;
  }
}
