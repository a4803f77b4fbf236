/**
 * The seam between the edge's transport (server.ts: sockets, HTTP/1.1 and HTTP/2, forwarding to
 * the origin) and its decisions (the phases: IP lists → custom rules → rate limits → WAF, and
 * later challenges and live L7 protection). The transport knows nothing of rules; the phases know
 * nothing of sockets. Both sides are tested apart: the transport with a gate that passes all or
 * blocks on a header, the phases with hand-made requests.
 *
 * Order of calls for one request (the transport guarantees it):
 *   1. `head(req)` once the request head is parsed and checked (framing, sizes). It may answer
 *      at once (`respond`), let the request through (`pass`), or ask for the body (`body`).
 *   2. With `body`: the transport reads the body up to `bodyLimit` bytes (the rest is streamed on
 *      to the origin only if the verdict passes), then calls `body(req, bytes, truncated)`.
 *   3. `response(req, status)` when the origin's response head arrives (counting expressions of
 *      rate limits read the status), and `done(req, outcome)` when the exchange ends, whatever
 *      way (for the access log and metrics).
 * A gate that throws, or whose promise rejects, answers 500 for that request and is logged; it
 * never takes the process down.
 */
import type { HttpRequest } from '../model/http.js';
import type { HttpRequestView } from '../scheme/http.js';

/** One request as the phases see it. `view` is the Rules language's HTTP scheme input. */
export interface EdgeRequest {
  /** Request id, also sent to the origin (`palisade-request-id`) and on answers of our own. */
  readonly id: string;
  readonly view: HttpRequestView;
  /** Client address after trusted-proxy and PROXY-protocol handling (what `view.clientIp` holds). */
  readonly clientIp: string;
  /** The peer socket's own address (a trusted proxy, a load balancer, or the client). */
  readonly peerIp: string;
  /** Header names in the order received (lowercase), the request's header-order fingerprint input. */
  readonly headerOrder: readonly string[];
  /** Set by the phases for the log: rule ids that matched, in phase order. */
  readonly ruleIds: string[];
  /**
   * Set by the phases (proxy/challenge/) in `head`, for the access log's `challenge`: the request
   * carried a valid clearance cookie (or, posted to the challenge's own path, a correct solution)
   * `passed`, an invalid, expired or foreign one `failed`, or none `none`.
   */
  challenge?: 'passed' | 'failed' | 'none';
  /** The access log's record of the finished exchange (what the admin API's request stream sends). */
  record?(out: Outcome): HttpRequest;
  /**
   * Set by the edge stack (stack.ts): the gate that saw this request's head, which keeps it to
   * its end through a reload. A field rather than a WeakMap entry: no identity hash and no
   * ephemeron per request.
   */
  owner?: object;
}

/** What kind of answer the edge gave itself: the `palisade-mitigated` header's value. */
export type Mitigated = 'block' | 'challenge' | 'rate_limit' | 'waf';

export interface Respond {
  kind: 'respond';
  mitigated: Mitigated;
  status: number;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: string | Uint8Array;
}

export interface Pass {
  kind: 'pass';
  /** Extra headers for the origin (e.g. a challenge-state header). */
  headers?: ReadonlyArray<readonly [string, string]>;
}

export interface NeedBody {
  kind: 'body';
  /** Bytes to read before `body()` is called (the WAF's request body limit). */
  bodyLimit: number;
}

export type HeadVerdict = Respond | Pass | NeedBody;
export type BodyVerdict = Respond | Pass;

/** How an exchange ended, for the log and metrics. */
export interface Outcome {
  status: number;
  /** Who answered: the origin, the edge itself (a phase), or the transport (4xx framing, 502, 504). */
  by: 'origin' | 'phase' | 'transport';
  mitigated?: Mitigated;
  bytesIn: number;
  bytesOut: number;
  /** Milliseconds: request start to response end, and to the origin's response head. */
  durationMs: number;
  originMs?: number;
  /** A transport error's short name (e.g. `origin_timeout`, `client_aborted`). */
  error?: string;
}

export interface Gate {
  head(req: EdgeRequest): HeadVerdict | Promise<HeadVerdict>;
  body?(req: EdgeRequest, body: Uint8Array, truncated: boolean): BodyVerdict | Promise<BodyVerdict>;
  response?(req: EdgeRequest, status: number): void;
  done?(req: EdgeRequest, outcome: Outcome): void;
}

/** The gate of a proxy with no phases: everything passes. */
export const PASS_ALL: Gate = { head: () => ({ kind: 'pass' }) };
