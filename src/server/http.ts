/**
 * The HTTP plumbing of `palisade serve`: the route type the API is a table of, the headers every
 * response carries (a strict Content-Security-Policy among them), cookies, JSON bodies read with
 * a size cap, and the error a handler throws to answer with a status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Role } from '../incidents/store/store.js';

/**
 * A request body larger than this is refused (413). Most bodies are a few hundred bytes; a
 * ruleset or a list is up to 60,000 characters (its schema's cap), which is up to 4 bytes each
 * in UTF-8.
 */
export const MAX_BODY = 256 * 1024;

/**
 * Every response: nothing may load from anywhere (the API serves data, not pages), no framing,
 * no sniffing, no referrer, no caching of what an account may see. The report download widens
 * only `style-src` and `img-src` (its HTML is self-contained, with inline styles and SVG/data
 * images) and still runs no script.
 */
export const CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface Principal {
  name: string;
  role: Role;
  via: 'session' | 'token';
  /** The session's id hash (for logout), when via is session. */
  session?: string;
}

export interface Reply {
  status?: number;
  json?: unknown;
  /** A body that is not JSON (the report), with its type. */
  text?: string | Uint8Array;
  contentType?: string;
  headers?: Record<string, string | string[]>;
  /**
   * A body written over time (Server-Sent Events): called once the status and headers are set,
   * it owns the response from then on and must end it (or see it closed by the client).
   */
  stream?: (res: ServerResponse) => void;
}

export interface Context {
  url: URL;
  params: Readonly<Record<string, string>>;
  principal: Principal | null;
  body: unknown;
  /** The client's address (the socket's: a proxy in front is not trusted to name it). */
  address: string;
  req: IncomingMessage;
}

export interface QueryParam {
  name: string;
  description: string;
  schema: Record<string, unknown>;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  /** OpenAPI path template: `/api/alerts/{id}`. */
  path: string;
  summary: string;
  /** The least role that may call it; null: open (health, login). */
  role: Role | null;
  /** Definition in schema/api.schema.json the JSON body must satisfy. */
  body?: string;
  query?: readonly QueryParam[];
  /** Response media type, when not application/json. */
  produces?: readonly string[];
  /** JSON Schema of the 200/201 JSON body (records by $ref to schema/*.schema.json: recordRef); absent: any object. */
  response?: Record<string, unknown>;
  handler: (ctx: Context) => Promise<Reply>;
}

const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Where the record schemas (schema/*.schema.json) say they live: their $id. */
export const RECORD_SCHEMAS = 'https://palisade.dev/schema';

/** A $ref to a record schema: recordRef('alert') is schema/alert.schema.json. */
export function recordRef(name: 'alert' | 'incident' | 'attack'): Record<string, unknown> {
  return { $ref: `${RECORD_SCHEMAS}/${name}.schema.json` };
}

export function allows(have: Role, need: Role): boolean {
  return ROLE_RANK[have] >= ROLE_RANK[need];
}

/** A compiled path template: its regex and parameter names. */
export function pathMatcher(template: string): { re: RegExp; names: string[] } {
  const names: string[] = [];
  const re = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([a-z_]+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { re: new RegExp(`^${re}$`), names };
}

export function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    if (!out.has(k)) out.set(k, part.slice(eq + 1).trim());
  }
  return out;
}

/** The raw body, at most MAX_BODY bytes (413 beyond). */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function send(res: ServerResponse, reply: Reply): void {
  const status = reply.status ?? 200;
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  if (reply.stream !== undefined) {
    res.writeHead(status);
    reply.stream(res);
    return;
  }
  if (reply.text !== undefined) {
    res.setHeader('content-type', reply.contentType ?? 'text/plain; charset=utf-8');
    res.writeHead(status).end(reply.text);
    return;
  }
  if (reply.json === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.writeHead(status).end(JSON.stringify(reply.json));
}
