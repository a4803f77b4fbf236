/**
 * Shared by the edge's transport tests: a real node:http origin on 127.0.0.1 that says what it
 * received, raw socket exchanges with time bounds, and a started edge in front of the origin.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import type { Gate } from '../../src/proxy/gate.js';
import type { EdgeOptions } from '../../src/proxy/options.js';
import { type Edge, startEdge } from '../../src/proxy/server.js';

export interface Echo {
  method: string;
  url: string;
  httpVersion: string;
  rawHeaders: string[];
  bodyBytes: number;
  body: string;
}

export interface Origin {
  server: Server;
  url: string;
  port: number;
  /** Requests seen (each as echoed). */
  seen: Echo[];
  close(): Promise<void>;
}

/**
 * The origin. Paths: `/stream` answers in 5 chunks without a length; `/slow` waits 3 s before its
 * head; `/big?n=BYTES` answers n bytes; `/status/NNN` answers that status; anything else echoes
 * what came as JSON. WebSocket handshakes are accepted and frames echoed raw.
 */
export async function startOrigin(): Promise<Origin> {
  const seen: Echo[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      // The edge cut the request short (a broken or too large client body): nothing to answer.
      return;
    }
    const body = Buffer.concat(chunks);
    const e: Echo = {
      method: req.method ?? '',
      url: req.url ?? '',
      httpVersion: req.httpVersion,
      rawHeaders: req.rawHeaders,
      bodyBytes: body.length,
      body: body.toString('latin1').slice(0, 2000),
    };
    seen.push(e);
    const url = req.url ?? '/';
    if (url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-origin': 'yes', connection: 'x-hop', 'x-hop': 'secret' });
      for (let i = 0; i < 5; i++) {
        res.write(`part ${i}\n`);
        await new Promise((r) => setTimeout(r, 20));
      }
      res.end();
      return;
    }
    if (url === '/slow') {
      await new Promise((r) => setTimeout(r, 3000));
      if (!res.destroyed) res.end('late');
      return;
    }
    if (url.startsWith('/big')) {
      const n = Number(new URL(url, 'http://x').searchParams.get('n') ?? 1_000_000);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
      res.end(Buffer.alloc(n, 97));
      return;
    }
    const st = /^\/status\/(\d{3})/.exec(url);
    res.writeHead(st ? Number(st[1]) : 200, { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
    res.end(JSON.stringify(e));
  });
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (req.url === '/ws-refuse') {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n\r\nno');
      return;
    }
    seen.push({ method: req.method ?? '', url: req.url ?? '', httpVersion: req.httpVersion, rawHeaders: req.rawHeaders, bodyBytes: 0, body: '' });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: dummy\r\n\r\n');
    if (head.length > 0) socket.write(head);
    socket.on('data', (d) => socket.write(d));
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function edgeFor(origin: Origin | string[], more: Partial<EdgeOptions> & { gate?: Gate } = {}): Promise<Edge> {
  return startEdge({ host: '127.0.0.1', port: 0, origins: Array.isArray(origin) ? origin : [origin.url], log: () => {}, ...more });
}

export interface RawResult {
  text: string;
  /** The connection was closed by the server (not by our time limit). */
  closed: boolean;
}

/**
 * Write `data` (pieces written with `gapMs` between them) on a new connection and collect what
 * comes back until the server closes or `waitMs` passes.
 */
export function raw(port: number, data: string | Buffer | Array<string | Buffer>, opts: { waitMs?: number; gapMs?: number; localAddress?: string } = {}): Promise<RawResult> {
  const pieces = Array.isArray(data) ? data : [data];
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: opts.localAddress });
    const got: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve({ text: Buffer.concat(got).toString('latin1'), closed });
    };
    const t = setTimeout(() => finish(false), opts.waitMs ?? 3000);
    s.on('data', (d) => got.push(d));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    s.on('connect', async () => {
      for (const p of pieces) {
        if (done || s.destroyed) return;
        s.write(p);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
    });
  });
}

/** Status codes of every response in a raw reply, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]));
}

/** A response header's value (first one) from a raw reply. */
export function headerOf(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}: ?(.*)$`, 'im').exec(text.split('\r\n\r\n')[0] ?? '');
  return m?.[1]?.trim();
}

/** The JSON body the echo origin returned in a raw reply. */
export function echoOf(text: string): Echo {
  const i = text.indexOf('\r\n\r\n');
  let body = text.slice(i + 4);
  if (/transfer-encoding: chunked/i.test(text.slice(0, i))) body = body.replace(/^[0-9a-f]+\r\n/i, '').replace(/\r\n0\r\n\r\n$/, '');
  return JSON.parse(body) as Echo;
}

/** Header lines of an echo as [lowercased name, value] pairs. */
export function pairs(e: Echo): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < e.rawHeaders.length; i += 2) out.push([(e.rawHeaders[i] as string).toLowerCase(), e.rawHeaders[i + 1] as string]);
  return out;
}

export function get(e: Echo, name: string): string[] {
  return pairs(e)
    .filter(([k]) => k === name)
    .map(([, v]) => v);
}
