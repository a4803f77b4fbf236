/**
 * `palisade waf serve`: a small HTTP/1.x origin that evaluates every request with the WAF and
 * answers it itself (no upstream). It parses requests leniently from the raw bytes, so odd
 * request lines and headers still reach the rules (as they do behind Apache), reports the
 * matched rule ids in `x-waf-matched-rules`, keeps connections alive, and bounds header and
 * body sizes so hostile input cannot exhaust memory.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Waf, WafVerdict } from './engine.js';
import type { WafRequest, WafResponse } from './transaction.js';

export interface ServeOptions {
  maxHeaderBytes?: number;
  maxBodyBytes?: number;
  /** called for every evaluated request (e.g. to write a log line) */
  onVerdict?: (req: WafRequest, v: WafVerdict) => void;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
};

const OK_BODY = Buffer.from('ok\n');

/** what the origin answers, as the WAF sees it (the same for every request) */
const ORIGIN_RESPONSE: WafResponse = {
  status: 200,
  protocol: 'HTTP/1.1',
  headers: [
    ['Content-Type', 'text/plain'],
    ['Content-Length', String(OK_BODY.length)],
  ],
  body: OK_BODY,
};

/** the common answer, a 200 with no matched rules on a kept-alive connection, built once */
const OK_KEEPALIVE = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${OK_BODY.length}\r\n\r\nok\n`, 'latin1');

function respond(sock: Socket, status: number, rules: string, keepAlive: boolean, head: boolean): void {
  if (status === 200 && rules === '' && keepAlive && !head) {
    sock.write(OK_KEEPALIVE);
    return;
  }
  const reason = REASONS[status] ?? 'Error';
  const body = status === 200 ? 'ok\n' : `${status} ${reason}\n`;
  const hdr =
    `HTTP/1.1 ${status} ${reason}\r\n` +
    'Content-Type: text/plain\r\n' +
    `Content-Length: ${body.length}\r\n` +
    (rules ? `x-waf-matched-rules: ${rules}\r\n` : '') +
    (keepAlive ? '' : 'Connection: close\r\n') +
    '\r\n';
  sock.write(head ? hdr : hdr + body, 'latin1');
}

interface Parsed {
  req: WafRequest;
  consumed: number;
  keepAlive: boolean;
  /** status the origin answers when the WAF lets the request through */
  status: number;
}

/** `need`: more bytes are needed; `until` is the total length that completes the request when
 * known, `chunked` says the request ends with a blank line (so parsing can wait for one). */
type ParseResult = Parsed | { need: true; until?: number; chunked?: boolean } | { error: number } | { simple: true; consumed: number };

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function endsWithBlankLine(b: Buffer): boolean {
  const n = b.length;
  return n >= 2 && b[n - 1] === 10 && (b[n - 2] === 10 || (n >= 4 && b[n - 2] === 13 && b[n - 3] === 10));
}

function findHeadEnd(buf: Buffer, from: number): number {
  // end of headers: CRLFCRLF or LFLF (line feeds found natively)
  for (let i = buf.indexOf(10, from); i >= 0 && i < buf.length - 1; i = buf.indexOf(10, i + 1)) {
    if (buf[i + 1] === 10) return i + 2;
    if (buf[i + 1] === 13 && buf[i + 2] === 10) return i + 3;
  }
  return -1;
}

function parseChunked(buf: Buffer, start: number, max: number): { body: Buffer; end: number } | 'need' | 'error' {
  const parts: Buffer[] = [];
  let p = start;
  let total = 0;
  for (;;) {
    const nl = buf.indexOf(10, p);
    if (nl < 0) return 'need';
    const line = buf.toString('latin1', p, nl).replace(/\r$/, '');
    const size = Number.parseInt(line.split(';')[0].trim(), 16);
    if (!Number.isFinite(size) || size < 0 || !/^[0-9a-fA-F]+/.test(line.trim())) return 'error';
    p = nl + 1;
    if (size === 0) {
      // trailers until an empty line
      for (;;) {
        const e = buf.indexOf(10, p);
        if (e < 0) return 'need';
        const l = buf.toString('latin1', p, e).replace(/\r$/, '');
        p = e + 1;
        if (l === '') return { body: Buffer.concat(parts), end: p };
      }
    }
    total += size;
    if (total > max) return 'error';
    if (buf.length < p + size + 1) return 'need';
    parts.push(buf.subarray(p, p + size));
    p += size;
    if (buf[p] === 13) p++;
    if (buf[p] !== 10) return buf.length <= p ? 'need' : 'error';
    p++;
  }
}

export function parseRequest(buf: Buffer, maxHeader: number, maxBody: number): ParseResult {
  // tolerate empty lines before the request line
  let start = 0;
  while (start < buf.length && (buf[start] === 13 || buf[start] === 10)) start++;
  const headEnd = findHeadEnd(buf, start);
  if (headEnd < 0) {
    if (buf.length - start > maxHeader) return { error: 431 };
    // HTTP/0.9-style "GET /" line with no headers
    return { need: true };
  }
  if (headEnd - start > maxHeader) return { error: 431 };
  const head = buf.toString('latin1', start, headEnd);
  const lines = head.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
  }
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  const requestLine = lines[0] ?? '';
  // Request line: strict like Apache (the WAF never sees what the server itself refuses).
  if (requestLine[0] === ' ' || requestLine[0] === '\t') return { error: 400 };
  const parts = requestLine.replace(/[ \t]+$/, '').split(' ');
  if (parts.length === 2 && TOKEN.test(parts[0])) return { simple: true, consumed: buf.length };
  if (parts.length !== 3) return { error: 400 };
  const [method, uri, protocol] = parts;
  if (!TOKEN.test(method) || !/^HTTP\/[1-9]\.\d$/.test(protocol)) return { error: 400 };
  if (uri.includes('#')) return { error: 400 };
  // we are an origin, not a proxy: CONNECT gets 405 (after the WAF has seen it)
  let status = 200;
  if (method === 'CONNECT') {
    if (!/^[^/:]+:\d+$/.test(uri)) return { error: 400 };
    status = 405;
  } else if (!(uri[0] === '/' || uri[0] === '?' || /^https?:\/\//i.test(uri) || (uri === '*' && method === 'OPTIONS'))) {
    return { error: 400 };
  }
  const headers: [string, string][] = [];
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i];
    if ((l[0] === ' ' || l[0] === '\t') && headers.length) {
      headers[headers.length - 1][1] += ` ${l.trim()}`;
      continue;
    }
    const c = l.indexOf(':');
    if (c <= 0 || l.includes('\r') || !TOKEN.test(l.slice(0, c))) return { error: 400 };
    headers.push([l.slice(0, c).trim(), l.slice(c + 1).trim()]);
    if (headers.length > 1000) return { error: 431 };
  }
  let cl: string | null = null;
  let te: string | null = null;
  let conn = '';
  for (const [k, v] of headers) {
    const lk = k.toLowerCase();
    if (lk === 'content-length') cl = v;
    else if (lk === 'transfer-encoding') te = v.toLowerCase();
    else if (lk === 'connection') conn = v.toLowerCase();
  }
  let body: Buffer = Buffer.alloc(0);
  let end = headEnd;
  if (te?.includes('chunked')) {
    // Transfer-Encoding wins over Content-Length, which is dropped (RFC 9112 6.3, as Apache does)
    for (let i = headers.length - 1; i >= 0; i--) if (headers[i][0].toLowerCase() === 'content-length') headers.splice(i, 1);
    const r = parseChunked(buf, headEnd, maxBody);
    if (r === 'need') return { need: true, chunked: true };
    if (r === 'error') return { error: 400 };
    body = r.body;
    end = r.end;
  } else if (cl !== null) {
    if (!/^\d+$/.test(cl)) return { error: 400 };
    const n = Number(cl);
    if (n > maxBody) return { error: 413 };
    if (buf.length < headEnd + n) return { need: true, until: headEnd + n };
    body = buf.subarray(headEnd, headEnd + n);
    end = headEnd + n;
  }
  const keepAlive = protocol === 'HTTP/1.1' ? conn !== 'close' : conn === 'keep-alive';
  return {
    req: { method, uri, protocol, headers, body, requestLine },
    consumed: end,
    keepAlive,
    status,
  };
}

export function startServer(waf: Waf, host: string, port: number, opts: ServeOptions = {}): Promise<Server> {
  const maxHeader = opts.maxHeaderBytes ?? 65536;
  const maxBody = opts.maxBodyBytes ?? 13107200;
  const server = createServer((sock) => {
    // Chunks are kept apart and joined only when a request can be complete, so a large body
    // arriving in many pieces costs linear, not quadratic, copying.
    let chunks: Buffer[] = [];
    let total = 0;
    let until = 0;
    let waitBlankLine = false;
    sock.setNoDelay(true);
    const remoteAddr = sock.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
    const remotePort = sock.remotePort ?? 0;
    const timer = setTimeout(() => sock.destroy(), 30000);
    sock.on('data', (chunk: Buffer) => {
      timer.refresh();
      chunks.push(chunk);
      total += chunk.length;
      if (total > maxHeader + maxBody + 65536) {
        respond(sock, 413, '', false, false);
        sock.end();
        chunks = [];
        total = 0;
        return;
      }
      if (total < until) return;
      if (waitBlankLine && chunk.length >= 4 && !endsWithBlankLine(chunk)) return;
      let buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
      for (;;) {
        chunks = buf.length ? [buf] : [];
        total = buf.length;
        until = 0;
        waitBlankLine = false;
        if (buf.length === 0) return;
        const r = parseRequest(buf, maxHeader, maxBody);
        if ('need' in r) {
          until = r.until ?? 0;
          waitBlankLine = r.chunked === true;
          return;
        }
        if ('simple' in r) {
          // HTTP/0.9 simple request: the answer is the bare body, no status line
          sock.end(OK_BODY);
          chunks = [];
          return;
        }
        if ('error' in r) {
          respond(sock, r.error, '', false, false);
          sock.end();
          chunks = [];
          return;
        }
        buf = buf.subarray(r.consumed);
        const req = r.req;
        req.remoteAddr = remoteAddr;
        req.remotePort = remotePort;
        req.serverPort = port;
        let status = r.status;
        let rules = '';
        let isMarker = false;
        for (const [k] of req.headers) if (k.length === 10 && k.toLowerCase() === 'x-crs-test') isMarker = true;
        if (!isMarker) {
          try {
            const v = waf.evaluate(req, ORIGIN_RESPONSE);
            if (v.action === 'block') status = v.status;
            for (const m of v.matched) rules += rules ? ` ${m.id}` : String(m.id);
            opts.onVerdict?.(req, v);
          } catch (e) {
            status = 500;
            process.stderr.write(`waf: internal error: ${(e as Error).stack}\n`);
          }
        }
        const keep = r.keepAlive && status < 500;
        respond(sock, status, rules, keep, req.method === 'HEAD');
        if (!keep) {
          sock.end();
          return;
        }
      }
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => clearTimeout(timer));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
