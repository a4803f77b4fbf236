/**
 * The live stats stream (GET /api/stats/stream) over real HTTP on 127.0.0.1:0, on SQLite and on
 * PostgreSQL: 401 without credentials; the backlog, then each new second as one event (every
 * sensor's row added up) with id = the second; Last-Event-ID resumes after that second; a
 * heartbeat comment; a client that goes leaves no timer behind; and server.close() finishes
 * with a stream open (the stream ends itself).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/incidents/store/open.js';
import type { Store, Summary } from '../../src/incidents/store/store.js';
import type { TrafficByVector } from '../../src/model/traffic.js';
import { newToken } from '../../src/server/auth.js';
import { type ApiServer, createApiServer, listen } from '../../src/server/server.js';
import { BACKENDS, type TestDb } from '../incidents/store/backends.js';

const POLL_MS = 100;
const HEARTBEAT_MS = 300;
const WAIT_MS = 5000;

interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** An SSE connection read message by message, each wait bounded in time. */
class SseReader {
  private buffer = '';
  private readonly queue: SseMessage[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();

  constructor(
    readonly res: Response,
    private readonly abort: AbortController,
  ) {
    this.reader = (res.body as ReadableStream<Uint8Array>).getReader();
  }

  /** The next message that satisfies `want`, skipping others; fails after WAIT_MS. */
  async next(want: (m: SseMessage) => boolean, what: string): Promise<SseMessage> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const at = this.queue.findIndex(want);
      if (at >= 0) return this.queue.splice(0, at + 1).at(-1) as SseMessage;
      this.queue.length = 0;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${WAIT_MS} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_r, rej) => {
        timer = setTimeout(() => rej(new Error(`no ${what} within ${WAIT_MS} ms`)), left);
      });
      try {
        const chunk = await Promise.race([this.reader.read(), timeout]);
        if (chunk.done) throw new Error(`the stream ended before ${what}`);
        this.buffer += this.decoder.decode(chunk.value, { stream: true });
      } finally {
        clearTimeout(timer);
      }
      let end = this.buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const m: SseMessage = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) m.comment = line.slice(1).trim();
          else {
            const colon = line.indexOf(':');
            const field = line.slice(0, colon) as 'id' | 'event' | 'data';
            if (field === 'id' || field === 'event' || field === 'data') m[field] = line.slice(colon + 1).trimStart();
          }
        }
        this.queue.push(m);
        end = this.buffer.indexOf('\n\n');
      }
    }
  }

  /** The next `second` event's data. */
  async second(): Promise<{
    id: string;
    data: { second: number; packets: number; bytes: number; requests: number; by_vector: Record<string, number>; traffic_by_vector: TrafficByVector; sensors: number };
  }> {
    const m = await this.next((x) => x.event === 'second', 'second event');
    return { id: m.id as string, data: JSON.parse(m.data as string) };
  }

  close(): void {
    this.abort.abort();
  }
}

function summary(sensor: string, second: number, packets: number, byVector: Record<string, number> = {}): Summary {
  return { sensor, second, packets, bytes: packets * 100, requests: 0, by_protocol: { tcp: packets }, by_vector: byVector, by_victim: {} };
}

for (const backend of BACKENDS) {
  describe(`live stats stream (${backend.name})`, () => {
    let db: TestDb;
    let store: Store;
    let api: ApiServer;
    let base: string;
    let token: string;
    const open: SseReader[] = [];
    // seconds well clear of the clock's own second, so nothing is both "backlog" and "new"
    const t0 = Math.floor(Date.now() / 1000) - 30;

    async function connect(headers: Record<string, string> = {}, query = ''): Promise<SseReader> {
      const abort = new AbortController();
      const res = await fetch(`${base}/api/stats/stream${query}`, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: abort.signal });
      const r = new SseReader(res, abort);
      open.push(r);
      return r;
    }

    before(async () => {
      db = await backend.create();
      store = await openStore(db.spec);
      await store.createAccount({ name: 'v', role: 'viewer', password_hash: 'x', created_at: new Date().toISOString(), created_by: 'test' });
      const t = newToken();
      await store.addToken({ id: t.id, account: 'v', name: 'test', secret_hash: t.secretHash, created_at: new Date().toISOString() });
      token = t.token;
      await store.writeSummaries([summary('a', t0, 10), summary('a', t0 + 1, 11), summary('a', t0 + 2, 12)]);
      api = createApiServer({ store, secureCookies: true, log: () => {}, stream: { pollMs: POLL_MS, heartbeatMs: HEARTBEAT_MS } });
      base = `http://127.0.0.1:${(await listen(api.server, '127.0.0.1', 0)).port}`;
    });
    after(async () => {
      for (const r of open) r.close();
      api.server.closeAllConnections();
      await new Promise<void>((r) => api.server.close(() => r()));
      await store.close();
      await db.drop();
    });

    it('answers 401 without credentials, 400 for a bad backlog, and is in the OpenAPI document as text/event-stream', async () => {
      const r = await fetch(`${base}/api/stats/stream`);
      assert.equal(r.status, 401);
      assert.equal(((await r.json()) as { error: string }).error.includes('authentication required'), true);
      const bad = await fetch(`${base}/api/stats/stream?backlog=9999`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { field: string }).field, 'backlog');
      const doc = api.openapi as { paths: Record<string, { get: { responses: { '200': { content: Record<string, unknown> } } } }> };
      assert.deepEqual(Object.keys(doc.paths['/api/stats/stream']?.get.responses['200'].content ?? {}), ['text/event-stream']);
    });

    it('sends the backlog, then each new second once with every sensor added up, and heartbeats', async () => {
      const s = await connect({}, '?backlog=60');
      assert.equal(s.res.status, 200);
      assert.match(s.res.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal(s.res.headers.get('cache-control'), 'no-store');
      for (const [i, packets] of [10, 11, 12].entries()) {
        const e = await s.second();
        assert.equal(e.id, String(t0 + i));
        assert.deepEqual([e.data.second, e.data.packets, e.data.bytes, e.data.sensors], [t0 + i, packets, packets * 100, 1]);
      }
      const syn = (packets: number) => ({ packets, bytes: packets * 60, requests: 0 });
      await store.writeSummaries([
        { ...summary('a', t0 + 3, 5, { tcp_syn_flood: 1 }), traffic_by_vector: { tcp_syn_flood: syn(4) } },
        { ...summary('b', t0 + 3, 7, { tcp_syn_flood: 1, udp_flood: 2 }), traffic_by_vector: { tcp_syn_flood: syn(3), http_flood: { packets: 0, bytes: 0, requests: 9 } } },
      ]);
      const e = await s.second();
      assert.equal(e.id, String(t0 + 3));
      assert.equal(e.data.packets, 12);
      assert.equal(e.data.sensors, 2);
      assert.deepEqual(e.data.by_vector, { tcp_syn_flood: 2, udp_flood: 2 });
      assert.deepEqual(e.data.traffic_by_vector, { tcp_syn_flood: syn(7), http_flood: { packets: 0, bytes: 0, requests: 9 } }, "the sensors' attack traffic added up by vector");
      await s.next((m) => m.comment === 'heartbeat', 'heartbeat');
      await store.writeSummaries([summary('a', t0 + 4, 1)]);
      assert.equal((await s.second()).id, String(t0 + 4), 'no second sent twice, the next one follows');
      s.close();
    });

    it('resumes after Last-Event-ID', async () => {
      const s = await connect({ 'last-event-id': String(t0 + 1) }, '?backlog=60');
      assert.deepEqual([(await s.second()).id, (await s.second()).id], [String(t0 + 2), String(t0 + 3)]);
      s.close();
      const bad = await fetch(`${base}/api/stats/stream`, { headers: { authorization: `Bearer ${token}`, 'last-event-id': 'yesterday' } });
      assert.equal(bad.status, 400);
    });

    it('a client that goes leaves no timer behind', async () => {
      const timers = () => process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
      // Other timers come and go beside the stream's (the database pool's, an earlier test's):
      // the count is compared, not matched, and sampled until it shows, each wait bounded.
      const before = timers();
      const s = await connect({}, '?backlog=0');
      await s.next((m) => m.comment === 'heartbeat', 'heartbeat');
      const opened = Date.now() + WAIT_MS;
      while (timers() <= before && Date.now() < opened) await new Promise((r) => setTimeout(r, 20));
      assert.ok(timers() > before, 'the open stream polls');
      s.close();
      const deadline = Date.now() + WAIT_MS;
      while (timers() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(timers() <= before, `${timers()} timers after the client went, ${before} before it came`);
    });
  });
}

describe('live stats stream and server.close()', () => {
  it('server.close() finishes with a stream open: the stream ends itself', async () => {
    const backend = BACKENDS[0] as (typeof BACKENDS)[number];
    const db = await backend.create();
    const store = await openStore(db.spec);
    try {
      await store.createAccount({ name: 'v', role: 'viewer', password_hash: 'x', created_at: new Date().toISOString(), created_by: 'test' });
      const t = newToken();
      await store.addToken({ id: t.id, account: 'v', name: 'test', secret_hash: t.secretHash, created_at: new Date().toISOString() });
      const api = createApiServer({ store, secureCookies: true, log: () => {}, stream: { pollMs: POLL_MS, heartbeatMs: 60_000 } });
      const port = (await listen(api.server, '127.0.0.1', 0)).port;
      const res = await fetch(`http://127.0.0.1:${port}/api/stats/stream`, { headers: { authorization: `Bearer ${t.token}` } });
      assert.equal(res.status, 200);
      const body = res.text();
      const started = Date.now();
      const closed = new Promise<void>((resolve, reject) => api.server.close((err) => (err ? reject(err) : resolve())));
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        closed,
        new Promise((_r, rej) => {
          timer = setTimeout(() => rej(new Error('server.close() did not finish within 3 s with a stream open')), 3000);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.ok(Date.now() - started < 3000);
      assert.match(await body, /^retry: \d+/, 'the stream ended (its body completed)');
    } finally {
      await store.close();
      await db.drop();
    }
  });
});
