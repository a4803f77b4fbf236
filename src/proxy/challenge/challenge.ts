/**
 * The JavaScript challenge as the phases use it (phases/pipeline.ts):
 *
 *   - `state(req)`: what the request carries, before any phase runs. `passed`: a clearance cookie
 *     that is valid for this client (signature, expiry, address prefix and User-Agent); `failed`:
 *     a clearance cookie that is not; `none`: no clearance cookie. A passed challenge is honoured
 *     for the clearance's lifetime (Cloudflare's semantics): the challenge actions of custom rules
 *     and rate limits let the request go on; blocks, lists and the WAF still apply.
 *   - `respond(req)`: the answer to a challenge action, the interstitial page (page.ts) with a
 *     fresh seed bound to the client; JSON clients (by Accept) get a short JSON answer instead,
 *     since they cannot run the page.
 *   - `isVerifyRequest(req)`, `head(req)`, `verify(req, body)`: the form the page posts to
 *     VERIFY_PATH. Answered here, before any phase, and never forwarded: the seed's signature,
 *     expiry and binding, the proof of work, the return path (no open redirect), the seed not spent
 *     before; then 303 to the return path with the clearance cookie, or the page again (403, a new
 *     seed) when something is wrong, so a browser whose address moved simply solves again.
 */
import { randomBytes } from 'node:crypto';
import type { EdgeChallengeOptions } from '../../config/edge.js';
import type { EdgeRequest, HeadVerdict, NeedBody, Respond } from '../gate.js';
import { headerOf } from '../phases/headers.js';
import { wantsJson } from '../phases/responses.js';
import { challengePage, pagePolicy, VERIFY_PATH } from './page.js';
import { ReplayCache } from './replay.js';
import { safeReturnPath } from './return-path.js';
import { challengeSecret } from './secret.js';
import { type Binding, bindingOf, issueClearance, issueSeed, readClearance, readSeed, Signer, solves } from './tokens.js';

/** What a request carries: the access log's `challenge` and the rules' js_detection field. */
export type ChallengeState = 'passed' | 'failed' | 'none';

export interface JsChallengeDeps {
  /** Clock, ms since the epoch (default Date.now). */
  now?: () => number;
  /** How long a page's seed may be solved and posted (default 5 minutes). */
  seedTtlMs?: number;
  /** Spent seeds remembered at most (default 100,000: a few MB). */
  replayMax?: number;
}

export interface JsChallengeStats {
  /** Challenge pages served (answers to challenge actions, and failed verifications). */
  pages: number;
  /** Solutions accepted (a clearance cookie set). */
  solved: number;
  /** Verification posts refused: bad or expired seed, wrong proof of work, a spent seed, a bad form. */
  refused: number;
  /** Of those, seeds posted a second time. */
  replayed: number;
}

/** The form the page posts is small: a seed, a nonce and a path of at most 4 KB. */
const VERIFY_BODY_LIMIT = 8 * 1024;

export class JsChallenge {
  readonly stats: JsChallengeStats = { pages: 0, solved: 0, refused: 0, replayed: 0 };
  readonly bits: number;
  private readonly signer: Signer;
  private readonly replay: ReplayCache;
  private readonly now: () => number;
  private readonly seedTtlMs: number;
  private readonly clearanceTtlMs: number;
  private readonly cookieName: string;
  /** `name=` as it starts a cookie pair. */
  private readonly cookiePrefix: string;

  constructor(opts: EdgeChallengeOptions, deps: JsChallengeDeps = {}) {
    this.signer = new Signer(challengeSecret(opts.secret));
    this.bits = opts.difficultyBits;
    this.clearanceTtlMs = opts.clearanceTtlS * 1000;
    this.cookieName = opts.cookieName;
    this.cookiePrefix = `${opts.cookieName}=`;
    this.now = deps.now ?? Date.now;
    this.seedTtlMs = deps.seedTtlMs ?? 5 * 60_000;
    this.replay = new ReplayCache(deps.replayMax ?? 100_000);
  }

  /**
   * The request's clearance: passed, failed (present but not valid here and now) or none.
   * Nothing is allocated for a request without this cookie (most requests, every phase runs after).
   */
  state(req: EdgeRequest): ChallengeState {
    const v = req.view;
    const first = headerOf(v, 'cookie');
    if (first === undefined) return 'none';
    if (v.version !== 'HTTP/2') return this.stateOf(req, first, 'none');
    // HTTP/2 clients may split the cookies over several header fields (RFC 9113 §8.2.3);
    // HTTP/1.x clients send one Cookie header (RFC 6265 §5.4).
    let state: ChallengeState = 'none';
    for (const [k, line] of v.headers) {
      if (k.length === 6 && k.toLowerCase() === 'cookie') state = this.stateOf(req, line, state);
      if (state === 'passed') break;
    }
    return state;
  }

  /** `soFar` updated by one Cookie line: any valid copy of the cookie passes, an invalid one fails. */
  private stateOf(req: EdgeRequest, line: string, soFar: ChallengeState): ChallengeState {
    if (!line.includes(this.cookiePrefix)) return soFar;
    let state = soFar;
    for (const value of cookieValues(line, this.cookiePrefix)) {
      if (readClearance(this.signer, value, this.binding(req), this.now()).ok) return 'passed';
      state = 'failed';
    }
    return state;
  }

  /** A post (or anything else) to the verification path: the gate answers it itself. */
  isVerifyRequest(req: EdgeRequest): boolean {
    const t = req.view.target;
    // The path alone or with a query (63 is `?`); /.well-known/palisade/challenges is the origin's.
    return t.startsWith(VERIFY_PATH) && (t.length === VERIFY_PATH.length || t.charCodeAt(VERIFY_PATH.length) === 63);
  }

  /** The verification request's head: read its form, or refuse a method other than POST. */
  head(req: EdgeRequest): HeadVerdict {
    if (req.view.method === 'POST') return { kind: 'body', bodyLimit: VERIFY_BODY_LIMIT } satisfies NeedBody;
    return plain(405, 'Only the challenge page posts here.', [['allow', 'POST']]);
  }

  /** Check a posted solution; `state` is what the request is logged with. */
  verify(req: EdgeRequest, body: Uint8Array, truncated: boolean): { answer: Respond; state: ChallengeState } {
    if (truncated) {
      this.stats.refused++;
      return { answer: plain(413, 'The challenge form is larger than any the challenge page sends.'), state: 'failed' };
    }
    const form = new URLSearchParams(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1'));
    const token = form.get('token') ?? '';
    const nonce = form.get('nonce') ?? '';
    const url = form.get('url') ?? '/';
    const back = safeReturnPath(url);
    if (back === null) {
      // Only a hand-made form gets here (the page sends a checked path): no redirect anywhere.
      this.stats.refused++;
      return { answer: plain(400, 'The challenge form names a page that is not on this site.'), state: 'failed' };
    }
    const b = this.binding(req);
    const now = this.now();
    const seed = readSeed(this.signer, token, b, now);
    if (!seed.ok || !solves(token, nonce, seed.bits)) {
      this.stats.refused++;
      return { answer: this.page(req, back), state: 'failed' };
    }
    if (!this.replay.spend(seed.id, seed.expMs, now)) {
      this.stats.refused++;
      this.stats.replayed++;
      return { answer: this.page(req, back), state: 'failed' };
    }
    this.stats.solved++;
    const cookie = issueClearance(this.signer, b, now, this.clearanceTtlMs);
    const attrs = `; Max-Age=${Math.floor(this.clearanceTtlMs / 1000)}; Path=/; HttpOnly; SameSite=Lax${req.view.ssl ? '; Secure' : ''}`;
    return {
      answer: {
        kind: 'respond',
        mitigated: 'challenge',
        status: 303,
        headers: [
          ['location', back],
          ['set-cookie', `${this.cookieName}=${cookie}${attrs}`],
          ['content-type', 'text/plain; charset=utf-8'],
          ['cache-control', 'no-store'],
        ],
        body: `Verified. Continue to ${back}\n`,
      },
      state: 'passed',
    };
  }

  /** The answer to a challenge action (phases/responses.ts ChallengeResponder). */
  readonly respond = (req: EdgeRequest): Respond => {
    if (wantsJson(req)) {
      this.stats.pages++;
      return {
        kind: 'respond',
        mitigated: 'challenge',
        status: 403,
        headers: [
          ['content-type', 'application/json; charset=utf-8'],
          ['cache-control', 'no-store'],
        ],
        body: `${JSON.stringify({ error: 'Checking your browser', status: 403, mitigated: 'challenge', request_id: req.id, challenge: 'required', message: 'A challenge is required: open this page in a browser with JavaScript.' })}\n`,
      };
    }
    return this.page(req, safeReturnPath(req.view.target) ?? '/');
  };

  private page(req: EdgeRequest, back: string): Respond {
    this.stats.pages++;
    const seed = issueSeed(this.signer, this.binding(req), this.now(), this.seedTtlMs, this.bits);
    const cspNonce = randomBytes(12).toString('base64');
    return {
      kind: 'respond',
      mitigated: 'challenge',
      status: 403,
      headers: [
        ['content-type', 'text/html; charset=utf-8'],
        ['cache-control', 'no-store'],
        ['content-security-policy', pagePolicy(cspNonce)],
      ],
      body: challengePage({ seed, bits: this.bits, returnPath: back, requestId: req.id, cspNonce }),
    };
  }

  private binding(req: EdgeRequest): Binding {
    return bindingOf(req.clientIp, headerOf(req.view, 'user-agent'));
  }
}

/** The values of cookie `prefix` (`name=`) in one Cookie header line. */
function cookieValues(line: string, prefix: string): string[] {
  const out: string[] = [];
  for (const part of line.split(';')) {
    const p = part.trim();
    if (p.startsWith(prefix)) out.push(p.slice(prefix.length));
  }
  return out;
}

/** A short answer of the verification endpoint itself (not a challenge page). */
function plain(status: number, text: string, extra: ReadonlyArray<readonly [string, string]> = []): Respond {
  return {
    kind: 'respond',
    mitigated: 'challenge',
    status,
    headers: [['content-type', 'text/plain; charset=utf-8'], ['cache-control', 'no-store'], ...extra],
    body: `${text}\n`,
  };
}
