/**
 * Live per-second traffic for the console: `GET /api/stats/stream`, Server-Sent Events over the
 * store's per-second summaries. The monitor writes summaries in batches (every few seconds), so
 * the stream polls the store once a second for seconds after the last one it sent and sends each
 * as one event whose id is the second: a browser's EventSource reconnects by itself and sends
 * that id back in Last-Event-ID, and the stream resumes after it. A comment line every 15 s keeps
 * proxies from closing a quiet stream.
 *
 * A second written after the stream has passed it (a late sensor's row for a second another
 * sensor already filled) is not sent again: the stream is for watching, the store is the record.
 */
import type { ServerResponse } from 'node:http';
import type { Store, Summary } from '../incidents/store/store.js';
import { mergeVectorTraffic, type TrafficByVector } from '../model/traffic.js';
import { type Context, HttpError, type Route } from './http.js';

/** One second of traffic, every sensor's summary of it added up. */
export interface SecondEvent {
  second: number;
  packets: number;
  bytes: number;
  requests: number;
  by_protocol: Record<string, number>;
  /** open attacks by vector */
  by_vector: Record<string, number>;
  /** the attacks' traffic by vector: packets and bytes (L3/4), requests (L7) */
  traffic_by_vector: TrafficByVector;
  /** How many sensors' summaries it adds up. */
  sensors: number;
}

export interface StreamDeps {
  store: Store;
  /** False once the server is closing: an open stream then ends, so `server.close()` can finish. */
  serving: () => boolean;
  /** How often the store is read (default 1000 ms). */
  pollMs?: number;
  /** How often a comment is sent on a quiet stream (default 15 s). */
  heartbeatMs?: number;
  /** Wall clock, ms (default Date.now). */
  now?: () => number;
}

/** Seconds of history sent on a fresh connection, by default: the console's five-minute window. */
export const DEFAULT_BACKLOG_S = 300;
/** The most history a connection may ask for, or resume across (Last-Event-ID older than this starts here). */
export const MAX_BACKLOG_S = 3600;
/** Seconds ahead of the server's clock still read (a sensor whose clock runs a little fast). */
const AHEAD_S = 3600;
/** The browser waits this long before reconnecting a dropped stream. */
const RETRY_MS = 2000;
/** Bytes waiting for a client that does not read: past this the stream ends rather than buffer for ever. */
const MAX_UNSENT = 1 << 20;

function addInto(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Rows of any sensors, added up per second, in order of second. */
export function mergeSeconds(rows: readonly Summary[]): SecondEvent[] {
  const bySecond = new Map<number, SecondEvent>();
  for (const r of rows) {
    let e = bySecond.get(r.second);
    if (e === undefined) {
      e = { second: r.second, packets: 0, bytes: 0, requests: 0, by_protocol: {}, by_vector: {}, traffic_by_vector: {}, sensors: 0 };
      bySecond.set(r.second, e);
    }
    e.packets += r.packets;
    e.bytes += r.bytes;
    e.requests += r.requests;
    addInto(e.by_protocol, r.by_protocol);
    addInto(e.by_vector, r.by_vector);
    mergeVectorTraffic(e.traffic_by_vector, r.traffic_by_vector);
    e.sensors++;
  }
  return [...bySecond.values()].sort((a, b) => a.second - b.second);
}

function secondsParam(text: string | null, name: string, fallback: number): number {
  if (text === null) return fallback;
  if (!/^\d{1,10}$/.test(text)) throw new HttpError(400, `${name}: expected whole seconds, not "${text}"`, { field: name });
  return Number(text);
}

/** The last second the client has: Last-Event-ID (an EventSource reconnecting), else null. */
function lastEventId(ctx: Context): number | null {
  const h = ctx.req.headers['last-event-id'];
  if (typeof h !== 'string' || h.trim() === '') return null;
  return secondsParam(h.trim(), 'Last-Event-ID', 0);
}

function sseEvent(e: SecondEvent): string {
  return `id: ${e.second}\nevent: second\ndata: ${JSON.stringify(e)}\n\n`;
}

/** Runs one connection's stream until the client goes, the server closes or the store fails. */
function pump(res: ServerResponse, deps: StreamDeps, after: number): void {
  const pollMs = deps.pollMs ?? 1000;
  const now = deps.now ?? Date.now;
  let cursor = after;
  let ended = false;
  let poll: ReturnType<typeof setTimeout> | undefined;
  const stop = (): void => {
    ended = true;
    clearTimeout(poll);
    clearInterval(heartbeat);
  };
  const end = (closing: boolean): void => {
    if (ended) return;
    stop();
    // A server that is closing waits for every connection: drop this one once its last chunk is
    // out (the socket, taken now: the response lets go of it when it finishes).
    const socket = res.socket;
    if (closing) res.once('finish', () => socket?.destroy());
    res.end();
  };
  const heartbeat = setInterval(() => {
    if (!deps.serving()) end(true);
    else res.write(': heartbeat\n\n');
  }, deps.heartbeatMs ?? 15_000);
  res.once('close', stop);

  const tick = async (): Promise<void> => {
    if (ended) return;
    if (!deps.serving()) return end(true);
    try {
      const rows = await deps.store.readSummaries(cursor + 1, Math.floor(now() / 1000) + AHEAD_S);
      if (ended) return;
      let out = '';
      for (const e of mergeSeconds(rows)) {
        out += sseEvent(e);
        cursor = e.second;
      }
      if (out !== '') res.write(out);
      if (res.writableLength > MAX_UNSENT) return end(false);
    } catch {
      // The store failed (or closed under a stopping server): end; the browser reconnects and resumes.
      return end(!deps.serving());
    }
    poll = setTimeout(() => void tick(), pollMs);
  };
  res.write(`retry: ${RETRY_MS}\n\n`);
  void tick();
}

export function streamRoutes(deps: StreamDeps): Route[] {
  const now = deps.now ?? Date.now;
  return [
    {
      method: 'GET',
      path: '/api/stats/stream',
      summary:
        'Live per-second traffic as Server-Sent Events: one `second` event per second (id = the second, Unix time; data = packets, bytes, requests, by_protocol, by_vector (open attacks), traffic_by_vector (packets, bytes and requests of the attacks) of every sensor added up), a comment every 15 s; reconnecting with Last-Event-ID resumes after that second',
      role: 'viewer',
      query: [
        {
          name: 'backlog',
          description: `seconds of history sent first on a new connection (0-${MAX_BACKLOG_S}, default ${DEFAULT_BACKLOG_S}); ignored when Last-Event-ID is sent`,
          schema: { type: 'integer', minimum: 0, maximum: MAX_BACKLOG_S },
        },
      ],
      produces: ['text/event-stream'],
      handler: async (ctx) => {
        const backlog = secondsParam(ctx.url.searchParams.get('backlog'), 'backlog', DEFAULT_BACKLOG_S);
        if (backlog > MAX_BACKLOG_S) throw new HttpError(400, `backlog: at most ${MAX_BACKLOG_S} seconds, not ${backlog}`, { field: 'backlog' });
        const nowS = Math.floor(now() / 1000);
        const resume = lastEventId(ctx);
        // the last second the client has: what it says, but never further back than MAX_BACKLOG_S
        const after = resume !== null ? Math.max(resume, nowS - MAX_BACKLOG_S - 1) : nowS - backlog - 1;
        return {
          headers: { 'content-type': 'text/event-stream; charset=utf-8', 'x-accel-buffering': 'no' },
          stream: (res) => pump(res, deps, after),
        };
      },
    },
  ];
}
