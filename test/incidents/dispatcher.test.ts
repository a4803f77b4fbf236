/**
 * Notifications delivered from the outbox, on both backends: a local HTTP receiver that is down
 * (503, then a refused connection) gets every event once it is back, each exactly once; a
 * dispatcher that dies holding its lease (a monitor restart) leaves its items to the next one,
 * which sends them with the same idempotency keys; a 404 is given up (kept as dead); and e-mail
 * reaches a real SMTP server on loopback (Python's smtpd).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Dispatcher, type Target } from '../../src/incidents/notify/dispatcher.js';
import type { NotifyEvent } from '../../src/incidents/notify/event.js';
import { openStore } from '../../src/incidents/store/open.js';
import { BACKENDS } from './store/backends.js';

const event = (k: number): NotifyEvent => ({
  key: `alert-${k}:start`,
  type: 'alert.start',
  at: '2026-12-06T10:00:00.000Z',
  incident: { number: k, title: `udp flood on 203.0.113.${k}`, status: 'new', severity: 'high', customer: null },
  text: `high udp_flood on 203.0.113.${k}`,
});

interface Receiver {
  url: string;
  keys: string[];
  /** status to answer; 0: close the connection without answering */
  answer: number;
  close(): Promise<void>;
}

async function receiver(): Promise<Receiver> {
  const r: Receiver = { url: '', keys: [], answer: 200, close: async () => {} };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url !== '/hook') {
        res.statusCode = 404;
        res.end();
        return;
      }
      if (r.answer === 0) {
        req.socket.destroy();
        return;
      }
      if (r.answer === 200) r.keys.push(String(req.headers['idempotency-key']));
      res.statusCode = r.answer;
      res.end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  r.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  r.close = () => new Promise<void>((ok) => server.close(() => ok()));
  return r;
}

const until = async (f: () => Promise<boolean>, ms: number, what: string): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await f())) {
    assert.ok(Date.now() < end, what);
    await new Promise((r) => setTimeout(r, 50));
  }
};

for (const backend of BACKENDS) {
  describe(`dispatcher on ${backend.name}`, () => {
    it('a receiver down delays, never loses: each event arrives exactly once; a dead dispatcher’s lease passes on; a 404 is given up', async () => {
      const db = await backend.create();
      const store = await openStore(db.spec);
      const rx = await receiver();
      try {
        const targets = new Map<string, Target>([
          ['hook', { name: 'hook', kind: 'webhook', url: rx.url, secret: 'k', timeoutMs: 2000 }],
          ['gone', { name: 'gone', kind: 'webhook', url: `${rx.url.replace('/hook', '')}/nowhere`, timeoutMs: 2000 }],
        ]);
        await store.enqueue(Array.from({ length: 6 }, (_, k) => ({ key: event(k).key, target: 'hook', topic: 'alert.start', payload: event(k) })));
        // the receiver is down: 503, then the connection refused-like close
        rx.answer = 503;
        const a = new Dispatcher(store, targets, { owner: 'a', baseBackoffMs: 100, maxBackoffMs: 400 });
        assert.equal(await a.runOnce(), 6);
        assert.equal(a.stats.retried, 6);
        rx.answer = 0;
        await new Promise((r) => setTimeout(r, 150));
        await a.runOnce();
        assert.deepEqual(rx.keys, []);
        // a second dispatcher claims the due items and dies holding them (its process killed)
        const dead = await store.claimOutbox('crashed', 10, 300, new Date().toISOString());
        // (items still in backoff are not due yet: it may hold fewer than six)
        assert.ok(dead.length <= 6);
        rx.answer = 200;
        const b = new Dispatcher(store, targets, { owner: 'b', baseBackoffMs: 100, maxBackoffMs: 400 });
        await until(
          async () => {
            await b.runOnce();
            return (await store.outboxBacklog()).pending === 0;
          },
          10_000,
          'every event delivered once the receiver is back',
        );
        assert.deepEqual([...rx.keys].sort(), Array.from({ length: 6 }, (_, k) => event(k).key).sort(), 'each event exactly once');
        // a wrong URL: given up, kept as dead
        await store.enqueue([{ key: 'x:1', target: 'gone', topic: 'alert.start', payload: event(9) }]);
        await b.runOnce();
        assert.equal(b.stats.dead, 1);
        assert.deepEqual(await store.outboxBacklog(), { pending: 0, dead: 1 });
      } finally {
        await rx.close();
        await store.close();
        await db.drop();
      }
    });
  });
}

describe('e-mail', () => {
  let smtp: ChildProcess;
  let port = 0;
  const got: { to: string[]; data: string }[] = [];
  before(async () => {
    // Python's smtpd (Debian 12's python3): a real SMTP server on loopback, one JSON line per message
    const py = [
      'import smtpd, asyncore, json, sys',
      'class S(smtpd.SMTPServer):',
      '    def process_message(self, peer, mailfrom, rcpttos, data, **kw):',
      '        print(json.dumps({"to": rcpttos, "data": data.decode("utf8", "replace") if isinstance(data, bytes) else data}), flush=True)',
      's = S(("127.0.0.1", 0), None, decode_data=False)',
      'print(json.dumps({"port": s.socket.getsockname()[1]}), flush=True)',
      'asyncore.loop()',
    ].join('\n');
    smtp = spawn('python3', ['-W', 'ignore', '-c', py], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    await new Promise<void>((ok) => {
      smtp.stdout?.on('data', (d: Buffer) => {
        buf += d.toString('utf8');
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) {
          const j = JSON.parse(l) as { port?: number; to?: string[]; data?: string };
          if (j.port !== undefined) {
            port = j.port;
            ok();
          } else got.push({ to: j.to ?? [], data: j.data ?? '' });
        }
      });
    });
  });
  after(() => {
    smtp.kill('SIGKILL');
  });

  it('reaches an SMTP server: subject, body and the event key header', async () => {
    const dir = await BACKENDS[0]?.create();
    assert.ok(dir);
    const store = await openStore(dir.spec);
    try {
      const targets = new Map<string, Target>([
        ['mail', { name: 'mail', kind: 'email', host: '127.0.0.1', port, from: 'palisade@example.net', to: ['noc@example.net'], timeoutMs: 5000 }],
      ]);
      await store.enqueue([{ key: event(1).key, target: 'mail', topic: 'alert.start', payload: event(1) }]);
      const d = new Dispatcher(store, targets, { owner: 'm' });
      await d.runOnce();
      assert.equal(d.stats.delivered, 1, 'delivered');
      await until(async () => got.length > 0, 5000, 'the server received it');
      assert.deepEqual(got[0]?.to, ['noc@example.net']);
      assert.match(got[0]?.data ?? '', /Subject: \[palisade\] \[high\] Incident #1: udp flood on 203\.0\.113\.1/);
      assert.match(got[0]?.data ?? '', /X-Palisade-Event: alert-1:start/);
      assert.match(got[0]?.data ?? '', /high udp_flood on 203\.0\.113\.1/);
    } finally {
      await store.close();
      await dir.drop();
    }
  });
});
