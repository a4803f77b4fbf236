/**
 * Phase 4, the WAF: the CRS engine (waf/engine.ts) at a chosen paranoia, blocking or detecting,
 * with exclusions per path. A request with a body is evaluated once the body (up to the limit)
 * is read; one without, at once. Matched CRS rule ids go to the log as `waf:<id>`.
 *
 * Exclusions: `{ path_prefix, ids, tags }`. Without a path they are the engine's WafExclusions
 * (the rules removed at load); with one, a phase-1 rule loaded after the CRS that removes them
 * for that path (`ctl:ruleRemoveById` / `ctl:ruleRemoveByTag`). The engine loads extra SecLang
 * only after the CRS, so a path exclusion reaches the CRS rules of phase 2 onwards (where every
 * rule inspecting arguments and bodies runs), not the CRS's own phase-1 rules.
 */
import type { EdgeWafOptions } from '../../config/edge.js';
import { CollectionsUnavailable, createWaf, type Waf, type WafExclusion, type WafOptions, type WafRequest, type WafVerdict } from '../../waf/engine.js';
import { RedisCounterStore } from '../counters/redis.js';
import type { CounterStore } from '../counters/store.js';
import { RedisCollectionStore } from '../counters/waf-records.js';
import type { EdgeRequest } from '../gate.js';
import { headerOf } from './headers.js';

/** First id of the rules path exclusions become (outside the CRS's 900000-999999 and local 1-99999 habits). */
const EXCLUSION_ID_BASE = 4_200_000;

/** The engine options an edge WAF section means. */
export function wafOptionsOf(o: EdgeWafOptions): WafOptions {
  const exclusions: WafExclusion[] = [];
  const lines: string[] = [];
  let next = EXCLUSION_ID_BASE;
  for (const x of o.exclusions) {
    if (x.pathPrefix === null) {
      for (const id of x.ids) exclusions.push({ id });
      for (const tag of x.tags) exclusions.push({ tag });
      continue;
    }
    const ctls = [
      ...x.ids.map((id) => `ctl:ruleRemoveById=${Array.isArray(id) ? `${id[0]}-${id[1]}` : id}`),
      ...x.tags.map((t) => `ctl:ruleRemoveByTag=${t.replace(/[",\\]/g, '')}`),
    ];
    if (ctls.length === 0) continue;
    const prefix = x.pathPrefix.replace(/["\\]/g, '');
    lines.push(`SecRule REQUEST_FILENAME "@beginsWith ${prefix}" "id:${next++},phase:1,pass,nolog,t:none,${ctls.join(',')}"`);
  }
  const opts: WafOptions = { paranoia: o.paranoia, mode: o.mode };
  if (Object.keys(o.crsSetup).length > 0) opts.setup = { ...o.crsSetup };
  if (exclusions.length > 0) opts.exclusions = exclusions;
  if (lines.length > 0) opts.extraConfig = `${lines.join('\n')}\n`;
  if (o.crsPath !== undefined) opts.crsPath = o.crsPath;
  return opts;
}

/** The edge's WAF; its persistent collections (IP, GLOBAL, ...) live beside the rate-limit
 * counters: in Redis when the counters are (shared by the proxies), else in this process. */
export function createEdgeWaf(o: EdgeWafOptions, counters?: CounterStore, now?: () => number): Waf {
  const opts = wafOptionsOf(o);
  if (counters instanceof RedisCounterStore) opts.collections = new RedisCollectionStore(counters);
  if (now !== undefined) opts.now = now;
  return createWaf(opts);
}

/** Does the request carry a body (a Content-Length above 0, or chunked)? */
export function hasBody(req: EdgeRequest): boolean {
  const v = req.view;
  if (headerOf(v, 'transfer-encoding') !== undefined) return true;
  const n = headerOf(v, 'content-length');
  return n !== undefined && Number(n) > 0;
}

export class WafPhase {
  readonly bodyLimit: number;

  constructor(
    readonly waf: Waf,
    readonly mode: 'block' | 'detect',
    bodyLimit: number,
    /** when the store of the WAF's collections cannot answer: evaluate with new records
     * (`open`) or refuse the request (`closed`), as the rate-limit counters do */
    readonly failMode: 'open' | 'closed' = 'open',
  ) {
    this.bodyLimit = bodyLimit;
  }

  /**
   * Evaluate the request (with its body, when read); matched rule ids go to `req.ruleIds`. At
   * once, or after the look-ups the engine asks for first (`@rbl` answers, bounded by their
   * timeout; the request's persistent records from Redis). `unavailable`: those records could
   * not be read and the fail mode is closed.
   */
  evaluate(req: EdgeRequest, body: Uint8Array | null): WafVerdict | 'unavailable' | Promise<WafVerdict | 'unavailable'> {
    const v = req.view;
    const wr: WafRequest = {
      method: v.method,
      uri: v.target,
      protocol: v.version,
      // The engine reads header pairs and never changes them.
      headers: v.headers as [string, string][],
      remoteAddr: req.clientIp,
    };
    if (body !== null) wr.body = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (v.serverPort !== undefined) wr.serverPort = v.serverPort;
    const ahead = this.waf.prepare(wr);
    if (ahead !== null) {
      return ahead.then(
        () => this.run(req, wr),
        (e: Error) => {
          if (!(e instanceof CollectionsUnavailable)) throw e;
          // the counter store logged it; fail open evaluates with every record new
          return this.failMode === 'closed' ? 'unavailable' : this.run(req, wr);
        },
      );
    }
    return this.run(req, wr);
  }

  private run(req: EdgeRequest, wr: WafRequest): WafVerdict {
    const verdict = this.waf.evaluate(wr);
    for (const m of verdict.matched) req.ruleIds.push(`waf:${m.id}`);
    return verdict;
  }
}
