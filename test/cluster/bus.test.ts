/**
 * The bus on a real, private nats-server (test/helpers/nats-server.ts; never the machine's 4222):
 * a publish/consume round trip, de-duplication by message id, NATS stopped and restarted in the
 * middle of 200 events (each stored exactly once), a process restart that resends its spool,
 * durable consumers that resume where they stopped, a throwing handler, and the spool's bound.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Bus, type BusMessage, type BusOptions, type BusStats, natsOptions, redact, splitUrls } from '../../src/cluster/bus.js';
import { busMetrics, serveMetrics } from '../../src/cluster/metrics.js';
import { Spool } from '../../src/cluster/spool.js';
import { STREAM, subject } from '../../src/cluster/subjects.js';
import { NatsServer } from '../helpers/nats-server.js';

const quiet = (lines: string[]) => (l: string) => lines.push(l);

/** The msgId of every message in the stream under `filter`, in stream order, read one by one. */
async function storedIds(url: string, filter = 'palisade.>'): Promise<string[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const si = await jsm.streams.info(STREAM);
    const out: string[] = [];
    for (let seq = si.state.first_seq; seq <= si.state.last_seq && si.state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
      if (m === null) continue;
      const s = m.subject;
      const f = filter.replace(/\.>$/, '.');
      if (filter !== 'palisade.>' && !s.startsWith(f) && s !== filter) continue;
      out.push(m.header.get('Nats-Msg-Id'));
    }
    return out;
  } finally {
    await nc.close();
  }
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('bus on a private nats-server', { timeout: 120_000 }, () => {
  let server: NatsServer;
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'palisade-spool-'));
    dirs.push(d);
    return d;
  };
  const opts = (name: string, extra: Partial<BusOptions> = {}): BusOptions => ({ url: server.url, name, log: quiet([]), ...extra });

  before(async () => {
    server = await NatsServer.start();
  });
  after(async () => {
    await server?.dispose();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('round trip: published events reach a durable consumer in order, and a core subscriber', async () => {
    const bus = await Bus.connect(opts('rt'));
    const seen: string[] = [];
    const pushed: string[] = [];
    const unsub = bus.subscribe('palisade.rt.*.decision', (m) => pushed.push(m.msgId));
    await sleep(50);
    const subj = subject('rt', 'n1', 'summary');
    for (let i = 0; i < 10; i++) bus.publish(subj, `rt-${i}`, { role: 'sensor', i });
    bus.publish(subject('rt', 'n1', 'decision'), 'rt-d', { rule: 'x' });
    assert.equal(await bus.flush(5000), true);
    const got: BusMessage[] = [];
    const c = bus.consume('rt_durable', 'palisade.rt.*.summary', (m) => {
      got.push(m);
      seen.push(m.msgId);
    });
    await until('10 messages', () => got.length === 10);
    assert.deepEqual(
      seen,
      Array.from({ length: 10 }, (_, i) => `rt-${i}`),
    );
    const first = got[0] as BusMessage;
    assert.equal(first.site, 'rt');
    assert.equal(first.node, 'n1');
    assert.equal(first.kind, 'summary');
    assert.deepEqual(first.data, { role: 'sensor', i: 0 });
    assert.equal(first.redelivered, false);
    assert.ok(Math.abs(first.timeMs - Date.now()) < 60_000);
    assert.deepEqual(pushed, ['rt-d']);
    await sleep(200);
    const info = await c.info();
    assert.equal(info.pending, 0);
    assert.equal(info.ackPending, 0);
    const st = bus.stats();
    assert.equal(st.connected, true);
    assert.equal(st.published, 11);
    assert.equal(st.acked, 11);
    assert.equal(st.pending, 0);
    assert.equal(st.spooled, 0);
    unsub();
    await c.stop();
    await bus.close();
  });

  it('the same msgId twice is stored once and counted as a duplicate', async () => {
    const bus = await Bus.connect(opts('dup'));
    const subj = subject('dup', 'n1', 'alert');
    bus.publish(subj, 'dup-1', { a: 1 });
    assert.equal(await bus.flush(5000), true);
    bus.publish(subj, 'dup-1', { a: 1 });
    assert.equal(await bus.flush(5000), true);
    assert.deepEqual(await storedIds(server.url, 'palisade.dup.>'), ['dup-1']);
    assert.equal(bus.stats().acked, 1);
    assert.equal(bus.stats().duplicates, 1);
    await bus.close();
  });

  it('an event JetStream could never store is dropped at once, not left to block the spool', async () => {
    const log: string[] = [];
    const bus = await Bus.connect(opts('poison', { log: quiet(log) }));
    const cyclic: { self?: unknown } = {};
    cyclic.self = cyclic;
    bus.publish('elsewhere.x', 'p-1', {});
    bus.publish(subject('poison', 'n1', 'alert'), 'p-2', { big: 'z'.repeat(2 * 1024 * 1024) });
    bus.publish(subject('poison', 'n1', 'alert'), 'p-3', cyclic);
    bus.publish(subject('poison', 'n1', 'alert'), 'p-4', { fine: true });
    assert.equal(await bus.flush(5000), true);
    assert.deepEqual(await storedIds(server.url, 'palisade.poison.>'), ['p-4']);
    assert.equal(bus.stats().dropped, 3);
    assert.equal(bus.stats().published, 1);
    assert.equal(log.length, 3, log.join('\n'));
    await bus.close();
  });

  it('NATS stopped for 6 s while 200 events are published, then restarted: every event stored exactly once', { timeout: 60_000 }, async () => {
    const log: string[] = [];
    const bus = await Bus.connect(opts('fault', { spoolDir: tmp(), log: quiet(log) }));
    const subj = subject('fault', 'n1', 'summary');
    for (let i = 0; i < 200; i++) {
      bus.publish(subj, `fault-${i}`, { i, pad: 'x'.repeat(64) });
      if (i === 60) await server.stop();
      if (i === 140) await server.restart();
      // 80 events over the 6 s outage: longer than the 5 s publish timeout.
      await sleep(i >= 60 && i < 140 ? 75 : 5);
    }
    assert.equal(await bus.flush(30_000), true, JSON.stringify(bus.stats()));
    const ids = await storedIds(server.url, 'palisade.fault.>');
    assert.equal(ids.length, 200, `stored ${ids.length}`);
    assert.equal(new Set(ids).size, 200);
    const st = bus.stats();
    assert.equal(st.published, 200);
    assert.ok(st.spooled > 0, 'events went to the spool while NATS was down');
    assert.ok(st.replayed > 0);
    assert.equal(st.dropped, 0);
    assert.equal(st.pending, 0);
    assert.equal(st.spoolBytes, 0);
    assert.ok(
      log.some((l) => /lost NATS|publishing failed/.test(l)),
      log.join('\n'),
    );
    await bus.close();
  });

  it('a process restart with a non-empty spool resends it first', { timeout: 40_000 }, async () => {
    const dir = tmp();
    await server.stop();
    try {
      const a = await Bus.connect(opts('restart', { spoolDir: dir }));
      assert.equal(a.stats().connected, false);
      for (let i = 0; i < 20; i++) a.publish(subject('restart', 'n1', 'attack'), `restart-${i}`, { i });
      await a.close();
      assert.ok(readdirSync(dir).some((f) => f.endsWith('.jsonl')));
    } finally {
      await server.restart();
    }
    const b = await Bus.connect(opts('restart', { spoolDir: dir }));
    b.publish(subject('restart', 'n1', 'attack'), 'restart-new', { i: 20 });
    assert.equal(await b.flush(15_000), true);
    // The new event queued behind the spooled ones, so it was resent from the spool too.
    assert.equal(b.stats().replayed, 21);
    assert.deepEqual(await storedIds(server.url, 'palisade.restart.>'), [...Array.from({ length: 20 }, (_, i) => `restart-${i}`), 'restart-new']);
    await b.close();
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith('.jsonl')),
      [],
    );
  });

  it('started while NATS is down (with a spool): does not fail, connects when NATS comes up, sends what waited', { timeout: 40_000 }, async () => {
    await server.stop();
    let bus: Bus;
    try {
      bus = await Bus.connect(opts('late', { spoolDir: tmp() }));
      assert.equal(bus.stats().connected, false);
      for (let i = 0; i < 10; i++) bus.publish(subject('late', 'n1', 'summary'), `late-${i}`, { i });
      assert.equal(bus.stats().spooled, 10);
      assert.equal(await bus.flush(300), false);
    } finally {
      await server.restart();
    }
    assert.equal(await bus.flush(15_000), true);
    assert.equal(bus.stats().connected, true);
    assert.deepEqual(
      await storedIds(server.url, 'palisade.late.>'),
      Array.from({ length: 10 }, (_, i) => `late-${i}`),
    );
    await bus.close();
  });

  it('without a spool directory an outage is bridged in memory', { timeout: 40_000 }, async () => {
    const bus = await Bus.connect(opts('mem'));
    bus.publish(subject('mem', 'n1', 'summary'), 'mem-0', { i: 0 });
    assert.equal(await bus.flush(5000), true);
    await server.stop();
    try {
      for (let i = 1; i <= 20; i++) bus.publish(subject('mem', 'n1', 'summary'), `mem-${i}`, { i });
      await sleep(200);
      assert.equal(bus.stats().connected, false);
    } finally {
      await server.restart();
    }
    assert.equal(await bus.flush(15_000), true, JSON.stringify(bus.stats()));
    assert.deepEqual(
      await storedIds(server.url, 'palisade.mem.>'),
      Array.from({ length: 21 }, (_, i) => `mem-${i}`),
    );
    await bus.close();
  });

  it('a durable consumer resumes after the last acked message; unacked ones are redelivered', { timeout: 40_000 }, async () => {
    const bus = await Bus.connect(opts('resume'));
    const subj = subject('resume', 'n1', 'alert');
    for (let i = 0; i < 6; i++) bus.publish(subj, `r-${i}`, { i });
    assert.equal(await bus.flush(5000), true);
    // First run: acks the even ones only (manual acks).
    const first: string[] = [];
    let c = bus.consume(
      'resume_durable',
      'palisade.resume.>',
      (m) => {
        first.push(m.msgId);
        if ((m.data as { i: number }).i % 2 === 0) m.ack();
      },
      { manualAck: true, ackWaitMs: 1000 },
    );
    await until('6 delivered', () => first.length >= 6);
    await c.stop();
    assert.deepEqual(first.slice(0, 6), ['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5']);
    for (let i = 6; i < 9; i++) bus.publish(subj, `r-${i}`, { i });
    assert.equal(await bus.flush(5000), true);
    // Second run (a restart, same durable): the acked ones never again, the unacked ones again, then the new ones.
    const second: BusMessage[] = [];
    c = bus.consume(
      'resume_durable',
      'palisade.resume.>',
      (m) => {
        second.push(m);
      },
      { ackWaitMs: 1000 },
    );
    await until('3 redelivered + 3 new', () => second.length >= 6);
    await sleep(300);
    await c.stop();
    const ids = second.map((m) => m.msgId).sort();
    assert.deepEqual(ids, ['r-1', 'r-3', 'r-5', 'r-6', 'r-7', 'r-8']);
    for (const m of second) assert.equal(m.redelivered, ['r-1', 'r-3', 'r-5'].includes(m.msgId), m.msgId);
    // Third run: everything was acked, nothing comes.
    const third: string[] = [];
    c = bus.consume(
      'resume_durable',
      'palisade.resume.>',
      (m) => {
        third.push(m.msgId);
      },
      { ackWaitMs: 1000 },
    );
    await sleep(1500);
    await c.stop();
    assert.deepEqual(third, []);
    await bus.close();
  });

  it('a handler that throws gets the message again (redelivered)', { timeout: 30_000 }, async () => {
    const bus = await Bus.connect(opts('throw'));
    bus.publish(subject('throw', 'n1', 'attack'), 'th-0', { i: 0 });
    assert.equal(await bus.flush(5000), true);
    const seen: { id: string; redelivered: boolean }[] = [];
    const c = bus.consume('throw_durable', 'palisade.throw.>', (m) => {
      seen.push({ id: m.msgId, redelivered: m.redelivered });
      if (seen.length === 1) throw new Error('database down');
    });
    await until('redelivery', () => seen.length >= 2);
    await c.stop();
    assert.deepEqual(seen.slice(0, 2), [
      { id: 'th-0', redelivered: false },
      { id: 'th-0', redelivered: true },
    ]);
    await bus.close();
  });

  it('consumes several filters, and keeps consuming across a NATS restart', { timeout: 40_000 }, async () => {
    const bus = await Bus.connect(opts('multi'));
    const got: string[] = [];
    const c = bus.consume('multi_durable', ['palisade.multi.*.alert', 'palisade.multi.*.attack'], (m) => {
      got.push(m.msgId);
    });
    bus.publish(subject('multi', 'n1', 'alert'), 'm-1', {});
    bus.publish(subject('multi', 'n1', 'summary'), 'm-2', {});
    bus.publish(subject('multi', 'n2', 'attack'), 'm-3', {});
    await until('2 messages', () => got.length >= 2);
    await server.stop();
    await sleep(1000);
    await server.restart();
    bus.publish(subject('multi', 'n1', 'alert'), 'm-4', {});
    await until('after restart', () => got.includes('m-4'), 20_000);
    await c.stop();
    assert.deepEqual(got, ['m-1', 'm-3', 'm-4']);
    await bus.close();
  });

  it('the stream deleted under a running bus and consumer: both recreate what they need and carry on', { timeout: 40_000 }, async () => {
    const bus = await Bus.connect(opts('gone'));
    const got: string[] = [];
    const c = bus.consume('gone_durable', 'palisade.gone.>', (m) => {
      got.push(m.msgId);
    });
    bus.publish(subject('gone', 'n1', 'alert'), 'g-1', {});
    await until('first', () => got.length === 1);
    const nc = await connect({ servers: server.url });
    await (await jetstreamManager(nc)).streams.delete(STREAM);
    await nc.close();
    // The publish fails (no stream), goes to the spool, and the replay recreates the stream (its
    // checks are 5 s apart) before it resends.
    bus.publish(subject('gone', 'n1', 'alert'), 'g-2', {});
    assert.equal(await bus.flush(15_000), true, JSON.stringify(bus.stats()));
    await until('after the stream came back', () => got.includes('g-2'), 20_000);
    await c.stop();
    assert.deepEqual(got, ['g-1', 'g-2']);
    await bus.close();
  });

  it('the stream’s retention: created with the configured limits, changed when a node is given others, left alone by a node given none', { timeout: 30_000 }, async () => {
    const limits = async () => {
      const nc = await connect({ servers: server.url });
      try {
        const c = (await (await jetstreamManager(nc)).streams.info(STREAM)).config;
        return { maxBytes: c.max_bytes, maxAgeMs: c.max_age / 1e6, discard: c.discard, replicas: c.num_replicas };
      } finally {
        await nc.close();
      }
    };
    const nc = await connect({ servers: server.url });
    await (await jetstreamManager(nc)).streams.delete(STREAM).catch(() => false);
    await nc.close();
    const made: string[] = [];
    const a = await Bus.connect(opts('ret-a', { log: quiet(made), stream: { maxBytes: 3 * 1024 ** 3, maxAgeMs: 36 * 3_600_000, replicas: 1 } }));
    assert.deepEqual(await limits(), { maxBytes: 3 * 1024 ** 3, maxAgeMs: 36 * 3_600_000, discard: 'old', replicas: 1 });
    assert.ok(
      made.some((l) => l.includes('created stream PALISADE (subjects palisade.>, 36 h, 3 GiB)')),
      made.join('\n'),
    );
    await a.close();
    const plain = await Bus.connect(opts('ret-plain'));
    assert.deepEqual(await limits(), { maxBytes: 3 * 1024 ** 3, maxAgeMs: 36 * 3_600_000, discard: 'old', replicas: 1 }, 'a node given no limits leaves them');
    await plain.close();
    const changed: string[] = [];
    const b = await Bus.connect(opts('ret-b', { log: quiet(changed), stream: { maxBytes: 1024 ** 3, maxAgeMs: 7 * 86_400_000, replicas: 1 } }));
    assert.deepEqual(await limits(), { maxBytes: 1024 ** 3, maxAgeMs: 7 * 86_400_000, discard: 'old', replicas: 1 });
    assert.ok(
      changed.some((l) => l.includes('stream PALISADE limits changed from 36 h, 3 GiB to 7 days, 1 GiB')),
      changed.join('\n'),
    );
    // Published events still go in after the change.
    b.publish(subject('ret', 'n1', 'alert'), 'r-1', {});
    assert.equal(await b.flush(5000), true);
    await b.close();
    // Three replicas asked of a lone server (not a NATS cluster): said, not applied; the stream keeps one copy and is in use.
    const refused: string[] = [];
    const r = await Bus.connect(opts('ret-r', { log: quiet(refused), stream: { maxBytes: 1024 ** 3, maxAgeMs: 7 * 86_400_000, replicas: 3 } }));
    assert.ok(
      refused.some((l) => l.includes('cluster.stream.replicas 3 not applied: the NATS server is not part of a cluster')),
      refused.join('\n'),
    );
    assert.ok(!refused.some((l) => l.includes('limits changed')), refused.join('\n'));
    assert.deepEqual(await limits(), { maxBytes: 1024 ** 3, maxAgeMs: 7 * 86_400_000, discard: 'old', replicas: 1 });
    r.publish(subject('ret', 'n1', 'alert'), 'r-2', {});
    assert.equal(await r.flush(5000), true);
    await r.close();
  });

  it('a full spool drops new events and counts them', { timeout: 30_000 }, async () => {
    await server.stop();
    const log: string[] = [];
    try {
      const bus = await Bus.connect(opts('bound', { spoolDir: tmp(), spoolMaxBytes: 2000, log: quiet(log) }));
      for (let i = 0; i < 100; i++) bus.publish(subject('bound', 'n1', 'summary'), `b-${i}`, { i, pad: 'y'.repeat(50) });
      const st = bus.stats();
      assert.ok(st.dropped > 0);
      assert.equal(st.spooled + st.dropped, 100);
      assert.ok(st.spoolBytes <= 2000);
      assert.equal(log.filter((l) => /spool full/.test(l)).length, 1, log.join('\n'));
      await bus.close();
    } finally {
      await server.restart();
    }
  });

  it('a spool with a torn tail (a crash mid-write) resends the whole records and skips the torn one', { timeout: 30_000 }, async () => {
    const dir = tmp();
    const sp = new Spool({ dir });
    sp.append({ subject: subject('torn', 'n1', 'alert'), msgId: 'torn-0', data: '{"i":0}' });
    sp.append({ subject: subject('torn', 'n1', 'alert'), msgId: 'torn-1', data: '{"i":1}' });
    sp.close();
    const seg = readdirSync(dir).find((f) => f.endsWith('.jsonl')) as string;
    appendFileSync(join(dir, seg), '{"s":"palisade.torn.n1.alert","i":"torn-2","d":{"i"');
    const log: string[] = [];
    const bus = await Bus.connect(opts('torn', { spoolDir: dir, log: quiet(log) }));
    assert.equal(await bus.flush(10_000), true);
    assert.deepEqual(await storedIds(server.url, 'palisade.torn.>'), ['torn-0', 'torn-1']);
    assert.ok(
      log.some((l) => /skipped 1 corrupt/.test(l)),
      log.join('\n'),
    );
    await bus.close();
  });

  it('without a spool directory an unreachable NATS is an E_DEPENDENCY error, quickly', async () => {
    const t0 = Date.now();
    await assert.rejects(Bus.connect({ url: 'nats://127.0.0.1:1', name: 'nobody', log: quiet([]) }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'E_DEPENDENCY');
      assert.match(e.message, /NATS at nats:\/\/127\.0\.0\.1:1 is not reachable/);
      return true;
    });
    assert.ok(Date.now() - t0 < 10_000);
  });
});

describe('bus metrics', () => {
  const stats: BusStats = { connected: true, published: 10, acked: 8, duplicates: 1, spooled: 3, spoolBytes: 512, replayed: 2, dropped: 0, failed: 4, pending: 1 };

  it('renders the counters in the Prometheus text format, labelled with the node', () => {
    const text = busMetrics(stats, { role: 'sensor', site: 'eu"1', node: 'n\\1' });
    assert.match(text, /^# HELP palisade_cluster_published_total .+$/m);
    assert.match(text, /^# TYPE palisade_cluster_published_total counter$/m);
    assert.match(text, /^palisade_cluster_published_total\{role="sensor",site="eu\\"1",node="n\\\\1"\} 10$/m);
    assert.match(text, /^palisade_cluster_connected\{.*\} 1$/m);
    assert.match(text, /^# TYPE palisade_cluster_spool_bytes gauge$/m);
    assert.match(text, /^palisade_cluster_publish_failures_total\{.*\} 4$/m);
    // Every sample line has a HELP and TYPE before it, and names are unique.
    const names = text
      .split('\n')
      .filter((l) => l.startsWith('palisade_'))
      .map((l) => l.split('{')[0]);
    assert.equal(new Set(names).size, names.length);
    for (const n of names) assert.match(text, new RegExp(`# TYPE ${n} (counter|gauge)`));
    assert.ok(text.endsWith('\n'));
  });

  it('serves GET /metrics (text/plain; version=0.0.4) and 404 elsewhere', async () => {
    const m = await serveMetrics('127.0.0.1:0', () => busMetrics(stats, { role: 'edge', site: 's', node: 'n' }));
    try {
      const ok = await fetch(`http://127.0.0.1:${m.port}/metrics`);
      assert.equal(ok.status, 200);
      assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.match(await ok.text(), /palisade_cluster_acked_total\{role="edge",site="s",node="n"\} 8/);
      const no = await fetch(`http://127.0.0.1:${m.port}/`);
      assert.equal(no.status, 404);
      await no.text();
    } finally {
      await m.close();
    }
    await assert.rejects(
      serveMetrics('nonsense', () => ''),
      /metrics listener "nonsense"/,
    );
  });
});

describe('NATS connection settings', () => {
  it('takes credentials out of the URL (user:pass@, token@), keeps every server, and knows tls://', () => {
    assert.deepEqual(splitUrls('nats://alice:p%40ss@10.0.0.1:4222, nats://alice:p%40ss@10.0.0.2:4222'), {
      servers: ['10.0.0.1:4222', '10.0.0.2:4222'],
      user: 'alice',
      pass: 'p@ss',
      tls: false,
    });
    assert.deepEqual(splitUrls('tls://s3cr3t@nats.example:4443'), { servers: ['nats.example:4443'], token: 's3cr3t', tls: true });
    assert.deepEqual(splitUrls('127.0.0.1:4222'), { servers: ['127.0.0.1:4222'], tls: false });
    assert.throws(() => splitUrls('http://x:1'), /use nats:\/\/host:port/);
    assert.throws(() => splitUrls(' , '), /no NATS server/);
    const o = natsOptions({ url: 'tls://u:p@h:1', name: 'n1', tls: { ca: '/ca.pem' } });
    assert.deepEqual([o.servers, o.user, o.pass, o.tls], [['h:1'], 'u', 'p', { caFile: '/ca.pem' }]);
    assert.equal(natsOptions({ url: 'nats://u:p@h:1', name: 'n1', user: 'v', pass: 'q' }).user, 'v', 'explicit options win over the URL');
    assert.throws(() => natsOptions({ url: 'nats://h:1', name: 'n1', credsFile: '/nonexistent.creds' }), /creds file \/nonexistent\.creds: ENOENT/);
    assert.equal(redact('nats://alice:pw@h:1,nats://tok@h:2'), 'nats://***@h:1,nats://***@h:2');
  });

  describe('against a server that wants a user and password', { timeout: 30_000 }, () => {
    let secured: NatsServer;
    before(async () => {
      secured = await NatsServer.start(['--user', 'palisade', '--pass', 's3cret']);
    });
    after(async () => {
      await secured?.dispose();
    });

    it('user:pass@ in the URL is honoured; a wrong password is an error even with a spool', async () => {
      const bus = await Bus.connect({ url: `nats://palisade:s3cret@127.0.0.1:${secured.port}`, name: 'auth', log: () => {} });
      bus.publish(subject('auth', 'n1', 'alert'), 'auth-1', {});
      assert.equal(await bus.flush(5000), true);
      await bus.close();
      const dir = mkdtempSync(join(tmpdir(), 'palisade-spool-'));
      try {
        await assert.rejects(
          Bus.connect({ url: `nats://palisade:wrong@127.0.0.1:${secured.port}`, name: 'auth', spoolDir: dir, log: () => {} }),
          (e: Error & { code?: string }) => {
            assert.equal(e.code, 'E_DEPENDENCY');
            assert.match(e.message, /refused our credentials/);
            assert.doesNotMatch(e.message, /wrong/);
            return true;
          },
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
