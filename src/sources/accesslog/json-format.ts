/**
 * JSON-lines access logs read through a small declarative table per format: each row says which
 * record field a JSON path fills and how its value converts. Built in: Palisade's own edge log
 * (the HttpRequest record itself), Cloudflare Logpush `http_requests`, Caddy and Traefik.
 *
 * JSON.parse builds the object anyway, so these rows fill the view's string slots directly
 * (no offsets); header order is the order of the keys as logged.
 */
import type { HttpRequest } from '../../model/http.js';
import { splitUri } from './text-parser.js';
import { jsonTimeToMs } from './time.js';
import { type HttpLogView, type LogHeader, Slot, utf8, versionCode } from './view.js';

/** How a JSON value becomes part of the record. */
export type JsonTarget =
  | { to: 'slot'; slot: Slot }
  | { to: 'time' }
  | { to: 'uri' }
  | { to: 'version' }
  | { to: 'status' | 'response_size' | 'body_size' | 'client_port' | 'asn' }
  /** A duration in the unit given, to milliseconds. */
  | { to: 'duration' | 'origin'; unit: 's' | 'ms' | 'us' | 'ns' }
  /** Headers as { name: value } (Cloudflare) or { name: [values] } (Caddy), in logged order. */
  | { to: 'headers' }
  | { to: 'cookies' }
  /** Every top-level key with this prefix is a header (Traefik's `request_User-Agent`). */
  | { to: 'header_prefix' };

export interface JsonFormat {
  readonly name: string;
  /** Keys whose presence in most lines says a log is this format (detection). */
  readonly signature: readonly string[];
  /** Rows: dotted path (or a prefix for header_prefix) and target. The first row that fills a target wins. */
  readonly rows: ReadonlyArray<readonly [path: string, target: JsonTarget]>;
  /** A line is a request only if this path holds something (Caddy mixes runtime logs in). */
  readonly required: string;
}

const slot = (s: Slot): JsonTarget => ({ to: 'slot', slot: s });

export const CLOUDFLARE: JsonFormat = {
  name: 'cloudflare',
  signature: ['ClientIP', 'ClientRequestMethod', 'EdgeResponseStatus', 'ClientRequestURI', 'RayID'],
  required: 'ClientIP',
  rows: [
    ['EdgeStartTimestamp', { to: 'time' }],
    ['ClientIP', slot(Slot.CLIENT)],
    ['ClientSrcPort', { to: 'client_port' }],
    ['ClientRequestMethod', slot(Slot.METHOD)],
    ['ClientRequestHost', slot(Slot.HOST)],
    ['ClientRequestURI', { to: 'uri' }],
    ['ClientRequestPath', slot(Slot.PATH)],
    ['ClientRequestQuery', slot(Slot.QUERY)],
    ['ClientRequestProtocol', { to: 'version' }],
    ['ClientRequestUserAgent', slot(Slot.USER_AGENT)],
    ['ClientRequestReferer', slot(Slot.REFERER)],
    ['ClientRequestBytes', { to: 'body_size' }],
    ['EdgeResponseStatus', { to: 'status' }],
    ['EdgeResponseBytes', { to: 'response_size' }],
    ['EdgeTimeToFirstByteMs', { to: 'duration', unit: 'ms' }],
    ['OriginResponseDurationMs', { to: 'origin', unit: 'ms' }],
    ['ClientASN', { to: 'asn' }],
    ['ClientCountry', slot(Slot.COUNTRY)],
    ['JA3Hash', slot(Slot.JA3)],
    ['JA4', slot(Slot.JA4)],
    ['ClientSSLProtocol', slot(Slot.TLS_PROTOCOL)],
    ['ClientSSLCipher', slot(Slot.TLS_CIPHER)],
    ['RequestHeaders', { to: 'headers' }],
    ['Cookies', { to: 'cookies' }],
  ],
};

export const CADDY: JsonFormat = {
  name: 'caddy',
  signature: ['request', 'ts', 'status', 'duration', 'logger'],
  required: 'request.method',
  rows: [
    ['ts', { to: 'time' }],
    // client_ip is the client once trusted proxies are peeled off; remote_ip is the hop.
    ['request.client_ip', slot(Slot.CLIENT)],
    ['request.remote_ip', slot(Slot.CLIENT)],
    ['request.remote_port', { to: 'client_port' }],
    ['request.method', slot(Slot.METHOD)],
    ['request.host', slot(Slot.HOST)],
    ['request.uri', { to: 'uri' }],
    ['request.proto', { to: 'version' }],
    ['request.headers', { to: 'headers' }],
    ['request.tls.server_name', slot(Slot.SNI)],
    ['request.tls.proto', slot(Slot.ALPN)],
    ['bytes_read', { to: 'body_size' }],
    ['status', { to: 'status' }],
    ['size', { to: 'response_size' }],
    ['duration', { to: 'duration', unit: 's' }],
    ['user_id', slot(Slot.USER)],
  ],
};

export const TRAEFIK: JsonFormat = {
  name: 'traefik',
  signature: ['ClientHost', 'RequestMethod', 'DownstreamStatus', 'RequestPath', 'RouterName'],
  required: 'RequestMethod',
  rows: [
    ['StartUTC', { to: 'time' }],
    ['time', { to: 'time' }],
    ['ClientHost', slot(Slot.CLIENT)],
    ['ClientPort', { to: 'client_port' }],
    ['ClientUsername', slot(Slot.USER)],
    ['RequestMethod', slot(Slot.METHOD)],
    ['RequestHost', slot(Slot.HOST)],
    ['RequestPath', { to: 'uri' }],
    ['RequestProtocol', { to: 'version' }],
    ['RequestContentSize', { to: 'body_size' }],
    ['DownstreamStatus', { to: 'status' }],
    ['DownstreamContentSize', { to: 'response_size' }],
    ['Duration', { to: 'duration', unit: 'ns' }],
    ['OriginDuration', { to: 'origin', unit: 'ns' }],
    ['request_User-Agent', slot(Slot.USER_AGENT)],
    ['request_Referer', slot(Slot.REFERER)],
    ['request_Cookie', slot(Slot.COOKIE)],
    ['request_', { to: 'header_prefix' }],
  ],
};

/** The Palisade edge's log: each line is an HttpRequest (model/http.ts) and is taken whole. */
export const PALISADE: JsonFormat = {
  name: 'palisade',
  signature: ['time', 'client', 'method', 'path', 'query', 'version', 'headers', 'body_size'],
  required: 'method',
  rows: [],
};

export const JSON_FORMATS: Readonly<Record<string, JsonFormat>> = { palisade: PALISADE, cloudflare: CLOUDFLARE, caddy: CADDY, traefik: TRAEFIK };

function at(o: Record<string, unknown>, path: string): unknown {
  return path.includes('.') ? atKeys(o, path.split('.')) : o[path];
}

/** A dotted path already split (the mapper splits each row's path once). */
function atKeys(o: Record<string, unknown>, keys: readonly string[]): unknown {
  let cur: unknown = o;
  for (const k of keys) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function text(x: unknown): string | undefined {
  if (typeof x === 'string') return x === '' ? undefined : x;
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  return undefined;
}

function int(x: unknown): number {
  const n = typeof x === 'number' ? x : typeof x === 'string' && x !== '' ? Number(x) : Number.NaN;
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : -1;
}

const UNIT_MS = { s: 1000, ms: 1, us: 0.001, ns: 1e-6 } as const;

/** Fills the view from one parsed JSON line; false when the object is not a request of this format. */
export class JsonLineMapper {
  private readonly rows: ReadonlyArray<readonly [string, JsonTarget]>;
  /** Each row's path split at dots, or null for a top-level key. */
  private readonly keys: ReadonlyArray<readonly string[] | null>;
  constructor(readonly format: JsonFormat) {
    this.rows = format.rows;
    this.keys = format.rows.map(([path]) => (path.includes('.') ? path.split('.') : null));
  }

  map(o: Record<string, unknown>, v: HttpLogView): boolean {
    if (at(o, this.format.required) === undefined) return false;
    if (this.format === PALISADE) return mapPalisade(o, v);
    let uriSet = false;
    const rows = this.rows;
    for (let r = 0; r < rows.length; r++) {
      const path = rows[r][0];
      const t = rows[r][1];
      if (t.to === 'header_prefix') {
        const hs: LogHeader[] = v.orderedHeaders ?? [];
        for (const k in o) if (k.startsWith(path) && k.length > path.length) hs.push({ name: k.slice(path.length), value: text(o[k]) ?? '' });
        if (hs.length > 0) v.orderedHeaders = hs;
        continue;
      }
      const keys = this.keys[r];
      const x = keys === null ? o[path] : atKeys(o, keys);
      if (x === undefined || x === null) continue;
      switch (t.to) {
        case 'slot':
          if (!v.has(t.slot)) v.setStr(t.slot, text(x));
          break;
        case 'time':
          if (Number.isNaN(v.timeMs)) v.timeMs = jsonTimeToMs(x);
          break;
        case 'uri':
          if (!uriSet && typeof x === 'string') {
            splitUri(x, 0, x.length, v);
            // splitUri leaves offsets into its argument: make them strings of their own.
            const p = x.slice(v.start[Slot.PATH], v.end[Slot.PATH]);
            const q = v.has(Slot.QUERY) ? x.slice(v.start[Slot.QUERY], v.end[Slot.QUERY]) : undefined;
            v.clear(Slot.QUERY);
            v.setStr(Slot.PATH, p);
            v.setStr(Slot.QUERY, q);
            uriSet = true;
          }
          break;
        case 'version':
          if (typeof x === 'string') v.version = versionCode(x, 0, x.length);
          break;
        case 'status':
          if (v.status < 0) v.status = int(x);
          break;
        case 'response_size':
          if (v.responseSize < 0) v.responseSize = int(x);
          break;
        case 'body_size':
          if (v.bodySize < 0) v.bodySize = int(x);
          break;
        case 'client_port':
          if (v.clientPort < 0) v.clientPort = int(x);
          break;
        case 'asn':
          if (v.asn < 0) v.asn = int(x);
          break;
        case 'duration':
        case 'origin': {
          const n = typeof x === 'number' ? x : Number(x);
          if (!Number.isFinite(n) || n < 0) break;
          if (t.to === 'duration' && v.durationMs < 0) v.durationMs = n * UNIT_MS[t.unit];
          if (t.to === 'origin' && v.originMs < 0) v.originMs = n * UNIT_MS[t.unit];
          break;
        }
        case 'headers':
          if (typeof x === 'object' && !Array.isArray(x)) v.orderedHeaders = headersOf(x as Record<string, unknown>, v.orderedHeaders);
          break;
        case 'cookies':
          if (typeof x === 'object' && !Array.isArray(x)) {
            const c: Record<string, string> = {};
            for (const [k, val] of Object.entries(x as Record<string, unknown>)) if (k !== '') c[k] = text(val) ?? '';
            v.cookies = c;
          }
          break;
      }
    }
    const method = v.get(Slot.METHOD);
    v.requestOk = method !== undefined;
    // Caddy: the hop when it differs from the client.
    if (this.format === CADDY) {
      const remote = text(at(o, 'request.remote_ip'));
      if (remote !== undefined && remote !== v.get(Slot.CLIENT)) v.setStr(Slot.VIA, remote);
    }
    // Headers a log names but the slots also hold (UA, Referer, Cookie) stay in the ordered list
    // where they were; fill the slots from it when the format had no column for them.
    if (v.orderedHeaders !== null) {
      for (const h of v.orderedHeaders) {
        const l = h.name.toLowerCase();
        if (l === 'user-agent' && !v.has(Slot.USER_AGENT)) v.setStr(Slot.USER_AGENT, h.value);
        else if (l === 'referer' && !v.has(Slot.REFERER)) v.setStr(Slot.REFERER, h.value);
        else if (l === 'cookie' && !v.has(Slot.COOKIE)) v.setStr(Slot.COOKIE, h.value);
        else if (l === 'host' && !v.has(Slot.HOST)) v.setStr(Slot.HOST, h.value);
      }
    }
    return true;
  }
}

function headersOf(x: Record<string, unknown>, into: LogHeader[] | null): LogHeader[] {
  const hs = into ?? [];
  for (const [name, val] of Object.entries(x)) {
    if (name === '') continue;
    if (Array.isArray(val)) {
      if (val.length === 0) hs.push({ name });
      for (const one of val) hs.push({ name, value: text(one) ?? '' });
    } else hs.push({ name, value: text(val) ?? '' });
  }
  return hs;
}

const EDGE_ACTIONS: ReadonlySet<string> = new Set(['pass', 'block', 'challenge', 'rate_limit', 'waf', 'error']);

/** The edge's `edge` block, checked field by field; null when absent or not one. */
function edgeBlock(x: unknown): HttpRequest['edge'] | null {
  if (x === null || typeof x !== 'object') return null;
  const e = x as Record<string, unknown>;
  if (typeof e.request_id !== 'string' || typeof e.action !== 'string' || !EDGE_ACTIONS.has(e.action) || !Array.isArray(e.rule_ids)) return null;
  const out: NonNullable<HttpRequest['edge']> = {
    request_id: e.request_id.slice(0, 128),
    action: e.action as NonNullable<HttpRequest['edge']>['action'],
    rule_ids: e.rule_ids.filter((id): id is string => typeof id === 'string').slice(0, 64),
  };
  if (Array.isArray(e.waf_matches)) out.waf_matches = e.waf_matches.filter((n): n is number => Number.isInteger(n)).slice(0, 64);
  if (typeof e.error === 'string') out.error = e.error.slice(0, 64);
  return out;
}

/**
 * The edge's record, field by field into the slots: a log is input like any other, so what
 * comes out is rebuilt from checked values rather than passed through.
 */
function mapPalisade(o: Record<string, unknown>, v: HttpLogView): boolean {
  const r = o as unknown as HttpRequest;
  if (typeof r.method !== 'string' || r.method === '' || typeof r.client !== 'object' || r.client === null || typeof r.client.ip !== 'string') return false;
  if (r.challenge === 'none' || r.challenge === 'issued' || r.challenge === 'passed' || r.challenge === 'failed') v.challenge = r.challenge;
  v.edge = edgeBlock(r.edge);
  v.timeMs = jsonTimeToMs(r.time);
  v.setStr(Slot.CLIENT, r.client.ip);
  v.setStr(Slot.VIA, str(r.client.via));
  v.clientPort = int(r.client.port);
  v.setStr(Slot.METHOD, r.method);
  v.setStr(Slot.HOST, str(r.host));
  v.setStr(Slot.PATH, str(r.path));
  v.setStr(Slot.QUERY, str(r.query));
  v.version = typeof r.version === 'string' ? versionCode(r.version, 0, r.version.length) : -1;
  v.setStr(Slot.USER_AGENT, str(r.user_agent));
  v.setStr(Slot.REFERER, str(r.referer));
  v.status = int(r.status);
  v.responseSize = int(r.response_size);
  v.bodySize = int(r.body_size);
  v.durationMs = num(r.duration_ms);
  v.originMs = num(r.origin_ms);
  const tls = typeof r.tls === 'object' && r.tls !== null ? r.tls : {};
  v.setStr(Slot.JA3, str(tls.ja3));
  v.setStr(Slot.JA4, str(tls.ja4));
  v.setStr(Slot.SNI, str(tls.sni));
  v.setStr(Slot.ALPN, str(tls.alpn));
  const enr = typeof r.enrichment === 'object' && r.enrichment !== null ? r.enrichment : {};
  v.asn = int(enr.asn);
  v.setStr(Slot.COUNTRY, str(enr.country));
  if (Array.isArray(r.headers)) {
    const hs: LogHeader[] = [];
    for (const h of r.headers as unknown[]) {
      if (h === null || typeof h !== 'object') continue;
      const { name, value } = h as { name?: unknown; value?: unknown };
      if (typeof name !== 'string' || name === '') continue;
      hs.push(typeof value === 'string' ? { name, value } : { name });
    }
    v.orderedHeaders = hs;
  }
  if (typeof r.cookies === 'object' && r.cookies !== null && !Array.isArray(r.cookies)) {
    const c: Record<string, string> = {};
    for (const [k, val] of Object.entries(r.cookies as Record<string, unknown>)) if (typeof val === 'string') c[k] = val;
    v.cookies = c;
  }
  v.requestOk = true;
  return true;
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' && x !== '' ? x : undefined;
}
function num(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : -1;
}

/** Parse one JSON line into the view; false when not an object or not a request of the format. */
export function parseJsonLine(m: JsonLineMapper, line: string, v: HttpLogView): boolean {
  v.reset(line);
  v.latin1 = false;
  let o: unknown;
  try {
    o = JSON.parse(utf8(line));
  } catch {
    return false;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return false;
  return m.map(o as Record<string, unknown>, v);
}
