/**
 * One generated request, filled in place by whichever actor is due (one reused object), and its
 * two renderings: an nginx access-log line in NGINX_FORMAT and a JSON line in exactly the
 * HttpRequest shape (src/model/http.ts). Both are built as one string each, with the per-second
 * parts of the timestamps cached, so a line costs its output strings and little else.
 *
 * Every string field is plain ASCII without quotes or backslashes (the generator only uses such
 * values), so neither format needs escaping here; the tests parse every line of both.
 */
import { EPOCH_SEC } from '../emitter.js';
import type { Client } from './agents.js';
import type { Addr } from './networks.js';

/** The log_format a real site would declare for this log (combined plus request time and host). */
export const NGINX_FORMAT = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time host=$host';

/** Where log time 0 falls: the packet scenarios' epoch, so both kinds of file share a clock. */
export const L7_EPOCH_SEC = EPOCH_SEC;

/** A client address and its JSON fragments, built once per address. */
export interface Endpoint {
  addr: Addr;
  /** `"enrichment":{…}` */
  enrichJson: string;
}

export function endpoint(addr: Addr): Endpoint {
  return { addr, enrichJson: `"enrichment":{"asn":${addr.asn},"country":"${addr.country}","prefix":"${addr.prefix}"}` };
}

export class Line {
  /** Log time (when the response completed), seconds from the scenario start. */
  t = 0;
  from: Endpoint = endpoint({ ip: '0.0.0.0', asn: 0, country: 'ZZ', prefix: '0.0.0.0/24', v6: false });
  port = 0;
  client: Client | null = null;
  /** Index into client.headerJson for this request. */
  headerSlot = 0;
  method = 'GET';
  host = '';
  path = '/';
  query = '';
  referer = '';
  /** `"cookies":{…}` or '' when the request carried none. */
  cookiesJson = '';
  bodySize = 0;
  status = 200;
  responseSize = 0;
  /** Whole request, milliseconds (nginx $request_time). */
  ms = 1;
  /** Plain HTTP (no TLS): slowloris and some tools speak to port 80. */
  plain = false;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const PAD3: string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const PAD2: string[] = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/** Renders lines; keeps the last second's formatted times. */
export class LineFormat {
  private localSec = Number.NaN;
  private localText = '';
  private isoSec = Number.NaN;
  private isoText = '';

  private timeLocal(sec: number): string {
    if (sec !== this.localSec) {
      const d = new Date((L7_EPOCH_SEC + sec) * 1000);
      this.localSec = sec;
      this.localText = `${PAD2[d.getUTCDate()]}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${PAD2[d.getUTCHours()]}:${PAD2[d.getUTCMinutes()]}:${PAD2[d.getUTCSeconds()]} +0000`;
    }
    return this.localText;
  }

  /** ISO-8601 UTC with milliseconds of a time in ms from the scenario start. */
  private iso(msAbs: number): string {
    const sec = Math.floor(msAbs / 1000);
    if (sec !== this.isoSec) {
      this.isoSec = sec;
      this.isoText = new Date((L7_EPOCH_SEC + sec) * 1000).toISOString().slice(0, 20);
    }
    return `${this.isoText}${PAD3[msAbs - sec * 1000]}Z`;
  }

  nginx(l: Line): string {
    const sec = Math.floor(l.t);
    const c = l.client as Client;
    const q = l.query === '' ? ' ' : `?${l.query} `;
    return `${l.from.addr.ip} - - [${this.timeLocal(sec)}] "${l.method} ${l.path}${q}${c.nginxVersion}${l.status} ${l.responseSize} "${l.referer === '' ? '-' : l.referer}${c.nginxUa}${Math.floor(l.ms / 1000)}.${PAD3[l.ms % 1000]} host=${l.host}\n`;
  }

  /** The same request as an HttpRequest; `time` is when it was received (log time − duration). */
  json(l: Line): string {
    const c = l.client as Client;
    // A long request (a 504, a slowloris 408) may have begun before the log's first line.
    const recv = Math.round(l.t * 1000) - l.ms;
    const ref = l.referer === '' ? '' : `"referer":"${l.referer}",`;
    const cookies = l.cookiesJson === '' ? '' : `${l.cookiesJson},`;
    const tls = l.plain ? '' : c.tlsJson(l.host);
    return `{"time":"${this.iso(recv)}","client":{"ip":"${l.from.addr.ip}","port":${l.port}},"method":"${l.method}","host":"${l.host}","path":"${l.path}","query":"${l.query}",${c.headerJson[l.headerSlot]},${cookies}${ref}"body_size":${l.bodySize},"status":${l.status},"response_size":${l.responseSize},"duration_ms":${l.ms},${tls}${l.from.enrichJson}}\n`;
  }
}
