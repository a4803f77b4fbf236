/**
 * Access-log records read through the HTTP scheme (scheme/http.ts), so rules, filters, what-if
 * and the L7 detector compile their expressions once against `httpScheme` and run them on logs.
 *
 * - `HttpLogRequest`: one reused HttpRequestView over the readers' reused HttpLogView. `point(view)`
 *   costs nothing; each getter reads the current line when a field asks, and the values that cost
 *   a string or an object (path, target, host, client, headers, geo) are made once per record.
 * - `httpRequestView(record)`: the same view over an HttpRequest record (the JSONL model, the
 *   edge's log), for code that holds records rather than a reader's view.
 *
 * The scheme's text is byte strings (one char per byte). A text log is read as latin1 already;
 * a JSON log's strings are Unicode and become their UTF-8 bytes here.
 */
import type { HttpRequest } from '../model/http.js';
import { type HttpLogView, Slot } from '../sources/accesslog/view.js';
import type { HttpRequestView } from './http.js';

const NON_ASCII = /[^\x00-\x7f]/;

/** A Unicode string as the byte string of its UTF-8 encoding. */
export function utf8Bytes(s: string): string {
  return NON_ASCII.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

type Geo = NonNullable<HttpRequestView['geo']>;

/**
 * The HTTP scheme's view of the current record of an access-log reader. Point it at the view
 * in the record callback and evaluate; it must not be kept past the callback (the reader
 * reuses its view for the next line), as the HttpLogView itself must not.
 */
export class HttpLogRequest implements HttpRequestView {
  private v: HttpLogView | null = null;
  /** Record generation: a cache entry is valid when its stamp equals it. */
  private gen = 0;
  private pathAt = 0;
  private pathVal = '';
  private queryAt = 0;
  private queryVal: string | undefined = undefined;
  private hostAt = 0;
  private hostVal = '';
  private clientAt = 0;
  private clientVal = '';
  private targetAt = 0;
  private targetVal = '';
  private headersAt = 0;
  private headersVal: Array<readonly [string, string]> = [];
  private geoAt = 0;
  private geoVal: Geo | undefined = undefined;

  /** Read `view`'s current record from now on. */
  point(view: HttpLogView): this {
    this.v = view;
    this.gen = (this.gen + 1) | 0;
    if (this.gen === 0) {
      // Wrapped after 2^32 records: stamps from the previous lap could match again.
      this.pathAt = this.queryAt = this.hostAt = this.clientAt = this.targetAt = this.headersAt = this.geoAt = -1;
      this.gen = 1;
    }
    return this;
  }

  /** The HttpLogView pointed at (for fields the scheme does not have: line, lineNo, sizes, durations). */
  get log(): HttpLogView {
    if (this.v === null) throw new Error('HttpLogRequest read before point()');
    return this.v;
  }

  /** A slot's text as scheme bytes, undefined when not logged. */
  private text(slot: Slot): string | undefined {
    const v = this.log;
    const s = v.get(slot);
    return s === undefined || v.latin1 ? s : utf8Bytes(s);
  }

  get method(): string {
    // A request line that was not METHOD URI VERSION kept itself in the path: no method known.
    return this.log.requestOk ? (this.text(Slot.METHOD) ?? '') : '';
  }

  get path(): string {
    if (this.pathAt !== this.gen) {
      this.pathVal = this.text(Slot.PATH) ?? '';
      this.pathAt = this.gen;
    }
    return this.pathVal;
  }

  get query(): string | undefined {
    if (this.queryAt !== this.gen) {
      this.queryVal = this.text(Slot.QUERY);
      this.queryAt = this.gen;
    }
    return this.queryVal;
  }

  get target(): string {
    if (this.targetAt !== this.gen) {
      const q = this.query;
      this.targetVal = q === undefined ? this.path : `${this.path}?${q}`;
      this.targetAt = this.gen;
    }
    return this.targetVal;
  }

  get host(): string {
    if (this.hostAt !== this.gen) {
      this.hostVal = this.text(Slot.HOST) ?? '';
      this.hostAt = this.gen;
    }
    return this.hostVal;
  }

  get version(): string {
    const x = this.log.version;
    return x === 10 ? 'HTTP/1.0' : x === 11 ? 'HTTP/1.1' : x === 20 ? 'HTTP/2' : x === 30 ? 'HTTP/3' : '';
  }

  /** A text log (or a JSON log without a header list) names only the headers its format logs. */
  get headersPartial(): boolean {
    return this.log.orderedHeaders === null;
  }

  get headers(): ReadonlyArray<readonly [string, string]> {
    if (this.headersAt !== this.gen) {
      this.headersVal = this.buildHeaders();
      this.headersAt = this.gen;
    }
    return this.headersVal;
  }

  private buildHeaders(): Array<readonly [string, string]> {
    const v = this.log;
    const out: Array<readonly [string, string]> = [];
    if (v.orderedHeaders !== null) {
      for (const h of v.orderedHeaders) out.push([this.bytesOf(h.name), h.value === undefined ? (this.slotHeader(h.name.toLowerCase()) ?? '') : this.bytesOf(h.value)]);
      return out;
    }
    // The format's headers, in the order toHttpRequest() lists them.
    const host = this.host;
    if (host !== '') out.push(['Host', host]);
    const ua = this.text(Slot.USER_AGENT);
    if (ua !== undefined) out.push(['User-Agent', ua]);
    const ref = this.text(Slot.REFERER);
    if (ref !== undefined) out.push(['Referer', ref]);
    const ck = this.cookieHeader();
    if (ck !== undefined) out.push(['Cookie', ck]);
    for (let i = 0; i < v.headerCount; i++) out.push([this.bytesOf(v.headerNames[i] as string), this.bytesOf(v.headerValue(i) ?? '')]);
    return out;
  }

  private bytesOf(s: string): string {
    return this.log.latin1 ? s : utf8Bytes(s);
  }

  /** Headers the view keeps in slots (or as parsed cookies). */
  private slotHeader(lower: string): string | undefined {
    switch (lower) {
      case 'user-agent':
        return this.text(Slot.USER_AGENT);
      case 'referer':
        return this.text(Slot.REFERER);
      case 'cookie':
        return this.cookieHeader();
      case 'host': {
        const h = this.host;
        return h === '' ? undefined : h;
      }
      default:
        return undefined;
    }
  }

  /** The Cookie header as logged, or rebuilt from cookies logged one by one ($cookie_NAME, Cloudflare's Cookies). */
  private cookieHeader(): string | undefined {
    const v = this.log;
    const c = this.text(Slot.COOKIE);
    if (c !== undefined || v.cookies === null) return c;
    let s = '';
    for (const k in v.cookies) s += `${s === '' ? '' : '; '}${k}=${v.cookies[k]}`;
    return this.bytesOf(s);
  }

  /** The scheme's header lookup without building the header list for the slot headers. */
  header(lower: string): string | undefined {
    const v = this.log;
    if (v.orderedHeaders !== null) {
      let joined: string | undefined;
      for (const h of v.orderedHeaders) {
        if (h.name.toLowerCase() !== lower) continue;
        const x = h.value === undefined ? (this.slotHeader(lower) ?? '') : this.bytesOf(h.value);
        // HTTP/2 clients may split Cookie over several lines; the header() contract is one value.
        if (lower !== 'cookie') return x;
        joined = joined === undefined ? x : `${joined}; ${x}`;
      }
      return joined ?? this.slotHeader(lower);
    }
    const s = this.slotHeader(lower);
    if (s !== undefined) return s;
    for (let i = 0; i < v.headerCount; i++) if ((v.headerNames[i] as string).toLowerCase() === lower) return this.bytesOf(v.headerValue(i) ?? '');
    return undefined;
  }

  get clientIp(): string {
    if (this.clientAt !== this.gen) {
      this.clientVal = this.text(Slot.CLIENT) ?? '';
      this.clientAt = this.gen;
    }
    return this.clientVal;
  }

  /** TLS is known only from TLS fields in the log; a log without any reads as plain HTTP. */
  get ssl(): boolean {
    const v = this.log;
    if (v.has(Slot.JA3) || v.has(Slot.JA4) || v.has(Slot.SNI)) return true;
    const p = v.get(Slot.TLS_PROTOCOL);
    return p !== undefined && p !== 'none' && p !== 'NONE';
  }

  get timestampMs(): number {
    return this.log.timeMs;
  }

  get status(): number | undefined {
    const s = this.log.status;
    return s >= 100 && s <= 999 ? s : undefined;
  }

  get bodySize(): number {
    const n = this.log.bodySize;
    return n >= 0 ? n : Number.NaN;
  }

  get ja3(): string | undefined {
    return this.text(Slot.JA3);
  }
  get ja4(): string | undefined {
    return this.text(Slot.JA4);
  }
  get tlsVersion(): string | undefined {
    return this.text(Slot.TLS_PROTOCOL);
  }
  get tlsCipher(): string | undefined {
    return this.text(Slot.TLS_CIPHER);
  }

  /** Country and ASN where the log has them (Cloudflare's ClientCountry/ClientASN, the edge's enrichment). */
  get geo(): Geo | undefined {
    if (this.geoAt !== this.gen) {
      const v = this.log;
      const cc = v.get(Slot.COUNTRY);
      const country = cc === undefined || cc === '' ? undefined : cc.toUpperCase();
      this.geoVal = country === undefined && v.asn < 0 ? undefined : { country, asn: v.asn >= 0 ? v.asn : undefined };
      this.geoAt = this.gen;
    }
    return this.geoVal;
  }
}

export interface RecordViewOptions {
  /**
   * The record's header list is only what its log named (a record made from a text log):
   * the fields listing header names, values and order are then missing.
   */
  headersPartial?: boolean;
}

/** The HTTP scheme's view of an HttpRequest record. Allocates per record: use HttpLogRequest on a reader's hot path. */
export function httpRequestView(rec: HttpRequest, opts: RecordViewOptions = {}): HttpRequestView {
  const cookie =
    rec.cookies === undefined
      ? undefined
      : Object.entries(rec.cookies)
          .map(([k, val]) => `${k}=${val}`)
          .join('; ');
  // The record keeps some header values apart from the list (user_agent, referer, cookies, host).
  const known = (lower: string): string | undefined =>
    lower === 'user-agent' ? rec.user_agent : lower === 'referer' ? rec.referer : lower === 'cookie' ? cookie : lower === 'host' && rec.host !== '' ? rec.host : undefined;
  const headers: Array<readonly [string, string]> = rec.headers.map((h) => [utf8Bytes(h.name), utf8Bytes(h.value ?? known(h.name.toLowerCase()) ?? '')]);
  const header = (lower: string): string | undefined => {
    for (const [k, val] of headers) if (k.toLowerCase() === lower) return val;
    const k = known(lower);
    return k === undefined ? undefined : utf8Bytes(k);
  };
  const ms = Date.parse(rec.time);
  const tls = rec.tls;
  const enr = rec.enrichment;
  const view: HttpRequestView = {
    method: utf8Bytes(rec.method === '-' ? '' : rec.method),
    path: utf8Bytes(rec.path),
    query: rec.query === '' ? undefined : utf8Bytes(rec.query),
    target: utf8Bytes(rec.query === '' ? rec.path : `${rec.path}?${rec.query}`),
    host: utf8Bytes(rec.host),
    version: rec.version,
    headers,
    headersPartial: opts.headersPartial === true,
    header,
    bodySize: rec.body_size,
    clientIp: rec.client.ip,
    ssl: tls !== undefined && Object.keys(tls).length > 0,
    timestampMs: Number.isNaN(ms) ? Number.NaN : ms,
    status: rec.status,
    ja3: tls?.ja3,
    ja4: tls?.ja4,
  };
  if (enr !== undefined && (enr.country !== undefined || enr.asn !== undefined)) view.geo = { country: enr.country, asn: enr.asn };
  return view;
}
