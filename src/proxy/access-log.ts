/**
 * The edge's JSON access log: one HttpRequest record (model/http.ts, schema/http-request.schema.json)
 * per line, the record the log readers' built-in `palisade` format reads back whole
 * (sources/accesslog/json-format.ts), so `palisade analyze edge.log` works on it.
 *
 * Header names and values arrive as byte strings (one char per byte); the log is UTF-8 text, so
 * bytes that form UTF-8 are written as the characters they encode. Authorization values are not
 * logged (their names are: header order is a fingerprint).
 *
 * The record has no slot for the edge's own action, rule ids or request id: those reach the
 * phases through `Gate.done` (see the report of issue 16 for the schema change they would need).
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { HttpRequest } from '../model/http.js';

const HIGH = /[\x80-\xff]/;

/** Byte string → text: UTF-8 decoded when it has bytes above 0x7f. */
export function text(s: string): string {
  return HIGH.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}

const SECRET = new Set(['authorization', 'proxy-authorization']);

/** Build the `headers` list and the slots read from headers, from node's flat rawHeaders. */
export function headerRecords(raw: readonly string[]): Pick<HttpRequest, 'headers' | 'user_agent' | 'referer' | 'cookies'> {
  const headers: HttpRequest['headers'] = [];
  const out: Pick<HttpRequest, 'headers' | 'user_agent' | 'referer' | 'cookies'> = { headers };
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.charCodeAt(0) === 58) continue; // HTTP/2 pseudo-header
    const lower = name.toLowerCase();
    if (SECRET.has(lower)) {
      headers.push({ name: text(name) });
      continue;
    }
    const value = text(raw[i + 1] as string);
    headers.push({ name: text(name), value });
    if (lower === 'user-agent') out.user_agent ??= value;
    else if (lower === 'referer') out.referer ??= value;
    else if (lower === 'cookie') {
      const c = out.cookies ?? {};
      for (const part of value.split(';')) {
        const eq = part.indexOf('=');
        const k = (eq < 0 ? part : part.slice(0, eq)).trim();
        if (k !== '' && !(k in c)) c[k] = eq < 0 ? '' : part.slice(eq + 1).trim();
      }
      out.cookies = c;
    }
  }
  return out;
}

/** Lines are buffered by the stream and written in order; `close()` flushes. */
export class AccessLog {
  private readonly out: Writable;
  private readonly owned: boolean;
  private failed = false;
  constructor(
    target: string | Writable,
    private readonly onError: (msg: string) => void,
  ) {
    if (typeof target === 'string') {
      this.out = target === '-' ? process.stdout : createWriteStream(target, { flags: 'a' });
      this.owned = target !== '-';
    } else {
      this.out = target;
      this.owned = false;
    }
    this.out.on('error', (e) => {
      if (!this.failed) this.onError(`access log: ${e.message}; no more lines are written`);
      this.failed = true;
    });
  }

  write(rec: HttpRequest): void {
    if (!this.failed) this.out.write(`${JSON.stringify(rec)}\n`);
  }

  close(): Promise<void> {
    if (!this.owned || this.failed) return Promise.resolve();
    return new Promise((resolve) => this.out.end(resolve));
  }
}
