/**
 * The HttpRequest (DESIGN.md "HttpRequest"): one request, parsed from an access log, decoded from
 * a capture or seen by the edge proxy; the edge's JSON access log writes exactly this record and
 * the log readers read it back. Its fields are the Rules language's HTTP scheme.
 * Schema: schema/http-request.schema.json.
 */
export interface HttpRequest {
  /** When the request was received, ISO-8601 UTC. */
  time: string;
  /** The client, and the hop it came through when a proxy forwarded it. */
  client: { ip: string; port?: number; via?: string };
  method: string;
  host: string;
  path: string;
  /** Without `?`; empty when none. */
  query: string;
  version: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2' | 'HTTP/3';
  /** Header names in the order received (original case), values where known. */
  headers: Array<{ name: string; value?: string }>;
  cookies?: Record<string, string>;
  user_agent?: string;
  referer?: string;
  body_size: number;
  /** Filled once the response is known (logs, the edge). */
  status?: number;
  response_size?: number;
  /** Milliseconds: whole request, and waiting for the origin. */
  duration_ms?: number;
  origin_ms?: number;
  tls?: { ja3?: string; ja4?: string; sni?: string; alpn?: string };
  challenge?: 'none' | 'issued' | 'passed' | 'failed';
  /** What the edge proxy did with the request (its access log only). */
  edge?: {
    /** The id sent to the origin and on the edge's own answers (palisade-request-id). */
    request_id: string;
    /** pass (to the origin), or the kind of answer the edge gave itself (palisade-mitigated), or error (a transport failure). */
    action: 'pass' | 'block' | 'challenge' | 'rate_limit' | 'waf' | 'error';
    /** What matched, in phase order: `list:<name>`, rule ids, `waf:<CRS id>`. */
    rule_ids: string[];
    /** The CRS rules that matched (also among rule_ids). */
    waf_matches?: number[];
    /** A transport error's short name (origin_timeout, client_aborted ...). */
    error?: string;
  };
  enrichment?: {
    asn?: number;
    country?: string;
    prefix?: string;
    /** A static asset (by extension) rather than a page. */
    static?: boolean;
    /** A login endpoint's path (the defaults, or the site's own: --login-path). */
    login?: boolean;
    /** The names of the request's cookies, sorted. */
    cookie_names?: string[];
    /** Header names, lowercased, in the client's order, comma-joined: only where the log keeps the order. */
    header_order?: string;
  };
}
