/**
 * The event bus between nodes (issue 19): publish to, consume from and watch the JetStream stream
 * `PALISADE` (subjects.ts), with the delivery guarantees the multi-node mode promises and no
 * protocol of our own. Every event carries an id (`Nats-Msg-Id`), so JetStream stores a resent
 * event once within its duplicate window; that lets the bus resend whenever it is unsure.
 *
 * Publishing never throws and never blocks the caller. While JetStream answers, events go out
 * pipelined (up to MAX_IN_FLIGHT awaiting their PubAck), in order. The first failure (a lost
 * connection, a timeout, no responders) stops sending; once what was in flight has settled, the
 * failed events and everything published since go to the spool (spool.ts: on disk when a spool
 * directory is given, else a bounded memory queue), oldest first, and new events follow them
 * there. A single replay loop resends the spool in batches as soon as JetStream answers again,
 * commits each batch once every event of it is acknowledged, and goes back to direct sending
 * when the spool is empty. A process that starts with a non-empty spool resends it first.
 *
 * Consuming is a durable pull consumer per caller, fetched in batches and handed over one message
 * at a time in stream order; it survives NATS restarts (the loop fetches again after any error)
 * and a restart of our process resumes after the last acknowledged message. Delivery to a
 * handler is at least once (a crash before the ack, or an ack lost with the connection, hands the
 * message over again, marked redelivered): handlers that store make msgId their key. `subscribe`
 * is a plain core-NATS subscription for what must arrive fast and may be missed (decisions).
 *
 * The first connection is ours to retry (so close() can stop it); after it, the client reconnects
 * by itself for ever.
 */
import { subscribe as dcSubscribe, unsubscribe as dcUnsubscribe } from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  type PubAck,
  StorageType,
} from '@nats-io/jetstream';
import { connect, credsAuthenticator, type NatsConnection, type NodeConnectionOptions, nanos, type Subscription } from '@nats-io/transport-node';
import { PalisadeError } from '../core/errors.js';
import { MemorySpool, Spool, type SpoolQueue, type SpoolRecord } from './spool.js';
import { ALL_SUBJECTS, checkToken, type EventKind, filterMatches, parseSubject, STREAM } from './subjects.js';

export interface BusOptions {
  /** nats://host:port or tls://…, comma-separated list allowed; user:pass@ (or token@) in the URL honoured. */
  url: string;
  /** Connection name (the node's name). */
  name: string;
  token?: string;
  user?: string;
  pass?: string;
  /** A NATS creds file (JWT and NKey seed), read with the client's credsAuthenticator. */
  credsFile?: string;
  /** PEM files: the CA to trust, and the client's certificate and key for mutual TLS. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** Where unsent events go while NATS is unreachable (default: none, a bounded memory queue only). */
  spoolDir?: string;
  /**
   * The stream's retention (config `cluster.stream`). Given: the stream is created with it, and an
   * existing stream whose limits differ is updated to it. Absent: a missing stream is created with
   * STREAM_DEFAULTS and an existing one is left as it is.
   */
  stream?: StreamLimits;
  /** Bound on the spool (default 256 MiB); past it new events are dropped, counted and logged once a minute. */
  spoolMaxBytes?: number;
  /** Where the bus reports state changes (default: stderr). */
  log?: (line: string) => void;
}

export interface BusMessage {
  subject: string;
  site: string;
  node: string;
  kind: EventKind;
  msgId: string;
  /** The stream sequence. */
  seq: number;
  /** When JetStream stored it (ms since the epoch). */
  timeMs: number;
  data: unknown;
  redelivered: boolean;
  ack(): void;
  nak(delayMs?: number): void;
  working(): void;
}

export type BusEvent = Omit<BusMessage, 'ack' | 'nak' | 'working' | 'seq' | 'redelivered'>;

export interface BusStats {
  connected: boolean;
  /** Events accepted by publish(). */
  published: number;
  /** PubAcks that stored an event. */
  acked: number;
  /** PubAcks for an event JetStream already had (a resend): not a loss. */
  duplicates: number;
  /** Events written to the spool. */
  spooled: number;
  /** Bytes the spool holds now. */
  spoolBytes: number;
  /** Events resent from the spool and acknowledged. */
  replayed: number;
  /** Events refused: the spool was full, or JetStream could never store them (not an event subject, too big, data not JSON), or the bus was closed. */
  dropped: number;
  /** Publish attempts that failed (each is retried from the spool). */
  failed: number;
  /** Events not yet acknowledged. */
  pending: number;
}

export interface ConsumeOptions {
  /** How long JetStream waits for an ack before redelivering (default 30000). */
  ackWaitMs?: number;
  /** Messages delivered and not yet acknowledged, at most (default 10000). */
  maxAckPending?: number;
  /** The handler acks itself (default false: ack when it resolves, nak(1000) when it throws). */
  manualAck?: boolean;
  /** A new durable starts at the next message instead of the first one kept. */
  deliverNew?: boolean;
}

export interface ConsumerHandle {
  stop(): Promise<void>;
  info(): Promise<{ pending: number; ackPending: number; redelivered: number }>;
}

/** PubAcks awaited at once while sending directly, and events per replay batch. */
const MAX_IN_FLIGHT = 256;
const PUBLISH_TIMEOUT_MS = 5000;
/** How long one connection attempt may take. */
const CONNECT_TIMEOUT_MS = 5000;
const RETRY_MS = 1000;
const FETCH_BATCH = 64;
const FETCH_EXPIRES_MS = 2000;
const DAY_MS = 86_400_000;
const GIB = 1024 * 1024 * 1024;

/** How much of the event history the stream keeps: the oldest events go first past either bound. */
export interface StreamLimits {
  maxBytes: number;
  maxAgeMs: number;
  /** Copies of the stream kept by a NATS cluster's servers (1 on a single server). */
  replicas: number;
}

/**
 * 7 days or 1 GiB. A summary is 1–50 KiB (its detector window: 25 KiB for a busy sensor in the
 * cluster bench), so 1 GiB holds about 7 minutes of 100 busy sensors: a cluster of hundreds sets
 * `cluster.stream.max_gib` to cover the longest correlator outage it must ride out (README).
 */
export const STREAM_DEFAULTS: StreamLimits = { maxBytes: GIB, maxAgeMs: 7 * DAY_MS, replicas: 1 };

interface Numbered {
  n: number;
  r: SpoolRecord;
}

type Mode = 'live' | 'draining' | 'spooling';

export class Bus {
  private readonly o: BusOptions;
  private readonly log: (line: string) => void;
  private readonly spool: SpoolQueue;
  private readonly maxBytes: number;
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private jsm: JetStreamManager | null = null;
  private connected = false;
  private closed = false;
  /**
   * live: sending directly; draining: a send failed, waiting for the others in flight to settle
   * before everything unsent moves to the spool; spooling: new events go to the spool, the replay
   * loop resends it.
   */
  private mode: Mode = 'live';
  private seq = 0;
  private readonly waiting: Numbered[] = [];
  private waitingHead = 0;
  private waitingBytes = 0;
  private readonly inFlight = new Map<number, SpoolRecord>();
  private failedLive: Numbered[] = [];
  private replaying = false;
  private readonly wakers = new Set<() => void>();
  private readonly subs = new Set<{ filter: string; handler: (m: BusEvent) => void; sub: Subscription | null }>();
  private readonly consumers = new Set<ConsumerHandle>();
  private readonly counts = { published: 0, acked: 0, duplicates: 0, spooled: 0, replayed: 0, dropped: 0, failed: 0 };
  private droppedSinceLog = 0;
  private lastDropLog = 0;
  private lastStreamCheck = 0;
  private saidReplicas = false;
  private corruptSeen = 0;
  private connecting: Promise<void> | null = null;

  private constructor(o: BusOptions) {
    this.o = o;
    this.log = o.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.maxBytes = o.spoolMaxBytes ?? 256 * 1024 * 1024;
    checkToken('node name', o.name);
    if (o.spoolDir !== undefined) {
      try {
        this.spool = new Spool({ dir: o.spoolDir, maxBytes: this.maxBytes, onError: (e) => this.log(`cluster: spool write failed (${e.message}): retrying with the next batch`) });
      } catch (e) {
        throw new PalisadeError('E_INPUT', `spool directory ${o.spoolDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      if (this.spool.count > 0) {
        this.mode = 'spooling';
        this.log(`cluster: ${this.spool.count} events left in the spool ${o.spoolDir}: resending them first`);
      }
    } else this.spool = new MemorySpool(this.maxBytes);
  }

  /**
   * A bus on the cluster. With a spool directory it never fails for an unreachable NATS: it starts
   * disconnected, spools, and keeps connecting. Without one, an unreachable NATS is an
   * E_DEPENDENCY error. Bad credentials are an error either way.
   */
  static async connect(o: BusOptions): Promise<Bus> {
    const bus = new Bus(o);
    const opts = natsOptions(o);
    try {
      await bus.dial(opts);
    } catch (e) {
      if (o.spoolDir === undefined || (e as Error).name === 'AuthorizationError') {
        bus.closed = true;
        bus.spool.close();
        throw connectError(o.url, e);
      }
      bus.log(`cluster: ${connectError(o.url, e).message}; spooling to ${o.spoolDir} and retrying`);
      bus.connecting = bus.dialForever(opts);
    }
    if (bus.mode === 'spooling') void bus.replay();
    return bus;
  }

  publish(subject: string, msgId: string, data: unknown): void {
    let text: string | undefined;
    try {
      text = JSON.stringify(data);
    } catch (e) {
      text = undefined;
      this.log(`cluster: event ${msgId} on ${subject} dropped: its data cannot be encoded (${(e as Error).message})`);
    }
    // What JetStream could never store would block the spool behind it for ever: refused here.
    const maxPayload = this.nc?.info?.max_payload ?? 1024 * 1024;
    if (text !== undefined && parseSubject(subject) === null) {
      this.log(`cluster: event ${msgId} dropped: "${subject}" is not an event subject (palisade.<site>.<node>.<kind>)`);
      text = undefined;
    } else if (text !== undefined && Buffer.byteLength(text) > maxPayload) {
      this.log(`cluster: event ${msgId} on ${subject} dropped: ${Buffer.byteLength(text)} bytes, more than the ${maxPayload} NATS accepts`);
      text = undefined;
    }
    if (text === undefined || this.closed) {
      this.counts.dropped++;
      return;
    }
    this.counts.published++;
    const item = { n: ++this.seq, r: { subject, msgId, data: text } };
    if (this.mode === 'spooling') {
      this.toSpool(item.r);
      return;
    }
    if (this.waitingBytes + this.spool.bytes + text.length > this.maxBytes) {
      this.drop();
      return;
    }
    this.waiting.push(item);
    this.waitingBytes += text.length;
    if (this.mode === 'live') {
      if (this.connected) this.pump();
      else this.spill();
    }
  }

  /**
   * Resolves once the server has taken every subscription made so far (one round trip): a message
   * published after it, from any connection, reaches them. False when not connected or on timeout.
   */
  async synced(timeoutMs = 2000): Promise<boolean> {
    const nc = this.nc;
    if (nc === null || !this.connected) return false;
    return race(nc.flush(), timeoutMs);
  }

  /** True once everything published so far is acknowledged (nothing waiting, in flight or spooled); false after `timeoutMs`. */
  async flush(timeoutMs = 10_000): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (this.pendingCount() > 0) {
      if (Date.now() >= end) return false;
      await sleep(Math.min(20, end - Date.now()));
    }
    return true;
  }

  consume(durable: string, filter: string | string[], handler: (m: BusMessage) => void | Promise<void>, o: ConsumeOptions = {}): ConsumerHandle {
    checkToken('durable', durable);
    const filters = typeof filter === 'string' ? [filter] : [...filter];
    if (filters.length === 0) throw new PalisadeError('E_USAGE', `consumer ${durable}: give at least one subject filter`);
    let stopped = false;
    let current: { close(): Promise<unknown> } | null = null;
    let wake: (() => void) | null = null;
    const loop = async () => {
      let lastError = '';
      while (!stopped && !this.closed) {
        try {
          if (!this.connected || this.js === null) {
            await this.nap(RETRY_MS, (w) => {
              wake = w;
            });
            continue;
          }
          const clientFilter = await this.ensureConsumer(durable, filters, o);
          const consumer = await this.js.consumers.get(STREAM, durable);
          while (!stopped && !this.closed) {
            const batch = await consumer.fetch({ max_messages: FETCH_BATCH, expires: FETCH_EXPIRES_MS });
            current = batch;
            for await (const m of batch) {
              if (stopped || this.closed) {
                m.nak();
                continue;
              }
              await this.hand(m, handler, o.manualAck === true, clientFilter ? filters : null);
            }
            current = null;
            lastError = '';
          }
        } catch (e) {
          current = null;
          const msg = (e as Error).message;
          if (msg !== lastError && !this.closed && !stopped) this.log(`cluster: consumer ${durable}: ${msg}; fetching again`);
          lastError = msg;
          if (!stopped && !this.closed) await sleep(RETRY_MS / 2);
        }
      }
    };
    const done = loop();
    const handle: ConsumerHandle = {
      stop: async () => {
        stopped = true;
        (wake as (() => void) | null)?.();
        await (current as { close(): Promise<unknown> } | null)?.close().catch(() => {});
        await done;
        this.consumers.delete(handle);
      },
      info: async () => {
        const jsm = await this.manager();
        const ci = await jsm.consumers.info(STREAM, durable);
        return { pending: ci.num_pending, ackPending: ci.num_ack_pending, redelivered: ci.num_redelivered };
      },
    };
    this.consumers.add(handle);
    return handle;
  }

  subscribe(filter: string, handler: (m: BusEvent) => void): () => void {
    const entry = { filter, handler, sub: null as Subscription | null };
    this.subs.add(entry);
    if (this.nc !== null) this.attach(this.nc, entry);
    return () => {
      this.subs.delete(entry);
      entry.sub?.unsubscribe();
      entry.sub = null;
    };
  }

  stats(): BusStats {
    return { connected: this.connected, ...this.counts, spoolBytes: this.spool.bytes, pending: this.pendingCount() };
  }

  /** The JetStream manager of the current connection (status reads the stream through it); rejects while disconnected. */
  async manager(): Promise<JetStreamManager> {
    if (this.jsm === null || this.nc === null) throw new PalisadeError('E_DEPENDENCY', `NATS at ${redact(this.o.url)} is not connected`);
    return this.jsm;
  }

  /** Flushes what can be flushed within 2 s, keeps the rest in the spool, stops the consumers and drains the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.connected) await this.flush(2000);
    await Promise.all([...this.consumers].map((c) => c.stop()));
    this.closed = true;
    // What was not acknowledged goes to the spool in publish order (on disk, it is resent at the next start).
    const rest: Numbered[] = [...this.failedLive, ...[...this.inFlight].map(([n, r]) => ({ n, r })), ...this.waiting.slice(this.waitingHead)].sort((a, b) => a.n - b.n);
    this.failedLive = [];
    this.inFlight.clear();
    this.waiting.length = 0;
    this.waitingHead = 0;
    this.waitingBytes = 0;
    for (const x of rest) this.toSpool(x.r);
    try {
      this.spool.close();
    } catch (e) {
      this.log(`cluster: spool write failed at close (${(e as Error).message})`);
    }
    this.wakeAll();
    for (const s of this.subs) s.sub?.unsubscribe();
    this.subs.clear();
    const nc = this.nc;
    this.nc = null;
    this.js = null;
    this.jsm = null;
    this.connected = false;
    if (nc !== null && !nc.isClosed()) {
      const drained = nc.drain().catch(() => {});
      if (!(await race(drained, 2000))) await nc.close().catch(() => {});
    }
    await this.connecting?.catch(() => {});
  }

  // ---- connection ----

  private async dial(opts: NodeConnectionOptions): Promise<void> {
    const nc = await dialNats({ ...opts, reconnect: true, maxReconnectAttempts: -1, waitOnFirstConnect: false, timeout: CONNECT_TIMEOUT_MS, reconnectTimeWait: RETRY_MS });
    if (this.closed) {
      await nc.close().catch(() => {});
      return;
    }
    this.nc = nc;
    this.js = jetstream(nc, { timeout: PUBLISH_TIMEOUT_MS });
    this.jsm = await jetstreamManager(nc, { timeout: PUBLISH_TIMEOUT_MS, checkAPI: false });
    for (const s of this.subs) this.attach(nc, s);
    void this.watch(nc);
    await this.ensureStream().catch((e) => this.log(`cluster: stream ${STREAM} not checked yet (${(e as Error).message})`));
    this.onConnected();
  }

  /** Retries the first connection until it works or the bus closes. */
  private async dialForever(opts: NodeConnectionOptions): Promise<void> {
    while (!this.closed) {
      await this.nap(RETRY_MS);
      if (this.closed) return;
      try {
        await this.dial(opts);
        this.log(`cluster: connected to NATS at ${redact(this.o.url)}`);
        return;
      } catch {}
    }
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        if (this.connected) this.log(`cluster: lost NATS at ${s.server}: spooling until it is back`);
        this.connected = false;
        if (this.mode === 'live') this.spill();
      } else if (s.type === 'reconnect') {
        this.log(`cluster: NATS back at ${s.server}${this.spool.count > 0 ? `: resending ${this.spool.count} spooled events` : ''}`);
        this.onConnected();
      }
    }
    // The status stream ends when the connection is closed for good; a bus not closed by its owner connects anew.
    if (!this.closed && this.nc === nc) {
      this.connected = false;
      this.nc = null;
      this.js = null;
      this.jsm = null;
      if (this.mode === 'live') this.spill();
      this.connecting = this.dialForever(natsOptions(this.o));
    }
  }

  private onConnected(): void {
    this.connected = true;
    this.wakeAll();
    if (this.mode === 'live') this.pump();
    else if (this.mode === 'spooling') void this.replay();
  }

  /** Creates the stream if it is missing; an existing one keeps its limits unless this node was given some (BusOptions.stream). */
  private async ensureStream(): Promise<void> {
    this.lastStreamCheck = Date.now();
    const jsm = this.jsm;
    if (jsm === null) return;
    let want = this.o.stream;
    // Replicas need a NATS cluster: a lone server (2.9) takes the update and the stream then waits
    // for peers that never come, publishing included. Said once, and the stream keeps one copy.
    if (want !== undefined && want.replicas > 1 && (this.nc?.info?.cluster ?? '') === '') {
      if (!this.saidReplicas) this.log(`cluster: cluster.stream.replicas ${want.replicas} not applied: the NATS server is not part of a cluster (one copy kept)`);
      this.saidReplicas = true;
      want = { ...want, replicas: 1 };
    }
    const limits = want ?? STREAM_DEFAULTS;
    let info: Awaited<ReturnType<JetStreamManager['streams']['info']>>;
    try {
      info = await jsm.streams.info(STREAM);
    } catch (e) {
      if ((e as { code?: number }).code !== 10059 && (e as Error).name !== 'StreamNotFoundError') throw e;
      await jsm.streams.add({
        name: STREAM,
        subjects: [ALL_SUBJECTS],
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        duplicate_window: nanos(5 * 60_000),
        max_age: nanos(limits.maxAgeMs),
        max_bytes: limits.maxBytes,
        num_replicas: limits.replicas,
      });
      this.log(`cluster: created stream ${STREAM} (subjects ${ALL_SUBJECTS}, ${limitsText(limits)})`);
      return;
    }
    if (want === undefined) return;
    const had = { maxBytes: info.config.max_bytes, maxAgeMs: Math.round(info.config.max_age / 1e6), replicas: info.config.num_replicas };
    if (had.maxBytes === want.maxBytes && had.maxAgeMs === want.maxAgeMs && had.replicas === want.replicas) return;
    await jsm.streams.update(STREAM, { max_bytes: want.maxBytes, max_age: nanos(want.maxAgeMs), num_replicas: want.replicas });
    this.log(`cluster: stream ${STREAM} limits changed from ${limitsText(had)} to ${limitsText(want)}`);
  }

  // ---- publishing ----

  private pump(): void {
    const js = this.js;
    while (this.mode === 'live' && this.connected && js !== null && this.inFlight.size < MAX_IN_FLIGHT && this.waitingHead < this.waiting.length) {
      const item = this.waiting[this.waitingHead] as Numbered;
      this.waiting[this.waitingHead++] = undefined as unknown as Numbered;
      this.waitingBytes -= item.r.data.length;
      this.inFlight.set(item.n, item.r);
      js.publish(item.r.subject, item.r.data, { msgID: item.r.msgId, timeout: PUBLISH_TIMEOUT_MS }).then(
        (ack) => {
          if (!this.inFlight.delete(item.n)) return;
          this.count(ack);
          this.settled();
        },
        (e: Error) => {
          if (!this.inFlight.delete(item.n)) return;
          this.counts.failed++;
          this.failedLive.push(item);
          if (this.mode === 'live') {
            this.log(`cluster: publishing failed (${e.message}): spooling until JetStream answers`);
            this.mode = 'draining';
          }
          this.settled();
        },
      );
    }
    if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
      this.waiting.splice(0, this.waitingHead);
      this.waitingHead = 0;
    }
  }

  private settled(): void {
    if (this.mode === 'live') this.pump();
    else if (this.mode === 'draining' && this.inFlight.size === 0) this.spill();
  }

  /** Moves everything unsent (failed, then waiting, in publish order) to the spool and starts the replay. */
  private spill(): void {
    if (this.inFlight.size > 0) {
      this.mode = 'draining';
      return;
    }
    const rest = [...this.failedLive, ...this.waiting.slice(this.waitingHead)].sort((a, b) => a.n - b.n);
    this.failedLive = [];
    this.waiting.length = 0;
    this.waitingHead = 0;
    this.waitingBytes = 0;
    this.mode = 'spooling';
    for (const x of rest) this.toSpool(x.r);
    void this.replay();
  }

  private toSpool(r: SpoolRecord): void {
    if (this.spool.append(r)) this.counts.spooled++;
    else this.drop();
  }

  private drop(): void {
    this.counts.dropped++;
    this.droppedSinceLog++;
    const now = Date.now();
    if (now - this.lastDropLog >= 60_000) {
      this.log(`cluster: spool full (${this.maxBytes} bytes): dropped ${this.droppedSinceLog} event(s)`);
      this.lastDropLog = now;
      this.droppedSinceLog = 0;
    }
  }

  /** Resends the spool, oldest first, a batch at a time, until it is empty (then back to direct sending). */
  private async replay(): Promise<void> {
    if (this.replaying) return;
    this.replaying = true;
    try {
      while (!this.closed && this.mode === 'spooling') {
        const js = this.js;
        if (!this.connected || js === null) {
          await this.nap(RETRY_MS);
          continue;
        }
        let batch: SpoolRecord[];
        try {
          batch = this.spool.read(MAX_IN_FLIGHT);
        } catch (e) {
          this.log(`cluster: spool read failed (${(e as Error).message})`);
          await this.nap(RETRY_MS);
          continue;
        }
        if (this.spool.corrupt > this.corruptSeen) {
          this.log(`cluster: skipped ${this.spool.corrupt - this.corruptSeen} corrupt or truncated record(s) in the spool`);
          this.corruptSeen = this.spool.corrupt;
        }
        if (batch.length === 0) {
          this.commitSpool();
          this.mode = 'live';
          this.pump();
          break;
        }
        const results = await Promise.all(batch.map((r) => js.publish(r.subject, r.data, { msgID: r.msgId, timeout: PUBLISH_TIMEOUT_MS }).catch((e: Error) => e)));
        const errors = results.filter((x): x is Error => x instanceof Error);
        if (errors.length === 0) {
          for (const ack of results as PubAck[]) this.count(ack);
          this.counts.replayed += batch.length;
          this.commitSpool();
          continue;
        }
        if (this.closed) {
          this.spool.rewind();
          break;
        }
        this.counts.failed += errors.length;
        this.spool.rewind();
        const first = errors[0] as Error;
        if (/no responders|stream not found/i.test(`${first.message} ${String((first as { cause?: Error }).cause?.message ?? '')}`) && Date.now() - this.lastStreamCheck > 5000)
          await this.ensureStream().catch(() => {});
        await this.nap(RETRY_MS);
      }
    } finally {
      this.replaying = false;
    }
  }

  /** Acknowledges what was read; a cursor that cannot be saved only means a resend after a restart (de-duplicated). */
  private commitSpool(): void {
    try {
      this.spool.commit();
    } catch (e) {
      this.log(`cluster: spool cursor not saved (${(e as Error).message})`);
    }
  }

  private count(ack: PubAck): void {
    if (ack.duplicate) this.counts.duplicates++;
    else this.counts.acked++;
  }

  private pendingCount(): number {
    return this.waiting.length - this.waitingHead + this.inFlight.size + this.failedLive.length + this.spool.count;
  }

  /** Sleeps up to `ms`, waking early on a (re)connection or close (or when the waker handed to `onWaker` is called). */
  private nap(ms: number, onWaker?: (wake: () => void) => void): Promise<void> {
    return new Promise((res) => {
      const wake = () => {
        clearTimeout(t);
        this.wakers.delete(wake);
        res();
      };
      const t = setTimeout(wake, ms);
      this.wakers.add(wake);
      onWaker?.(wake);
    });
  }

  private wakeAll(): void {
    for (const w of [...this.wakers]) w();
  }

  // ---- consuming ----

  /** Creates or updates the durable; true when the server cannot filter by several subjects and we filter here. */
  private async ensureConsumer(durable: string, filters: string[], o: ConsumeOptions): Promise<boolean> {
    const jsm = await this.manager();
    const multi = filters.length > 1;
    // Several filters on one consumer came with nats-server 2.10; before it, one filter over everything and ours here.
    const serverMulti = multi && (this.nc?.info?.version ?? '0').localeCompare('2.10.0', undefined, { numeric: true }) >= 0;
    const clientFilter = multi && !serverMulti;
    const cfg: Partial<ConsumerConfig> = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(o.ackWaitMs ?? 30_000),
      max_ack_pending: o.maxAckPending ?? 10_000,
      deliver_policy: o.deliverNew === true ? DeliverPolicy.New : DeliverPolicy.All,
    };
    if (serverMulti) cfg.filter_subjects = filters;
    else cfg.filter_subject = clientFilter ? ALL_SUBJECTS : (filters[0] as string);
    let existing = null;
    try {
      existing = await jsm.consumers.info(STREAM, durable);
    } catch (e) {
      if ((e as { code?: number }).code === 10059 || (e as Error).name === 'StreamNotFoundError') await this.ensureStream();
    }
    if (existing === null) {
      await jsm.consumers.add(STREAM, cfg);
      return clientFilter;
    }
    const c = existing.config;
    const same =
      c.ack_wait === cfg.ack_wait &&
      c.max_ack_pending === cfg.max_ack_pending &&
      (c.filter_subject ?? '') === (cfg.filter_subject ?? '') &&
      JSON.stringify(c.filter_subjects ?? []) === JSON.stringify(cfg.filter_subjects ?? []);
    if (!same) {
      const { durable_name: _d, deliver_policy: _p, ack_policy: _a, ...update } = cfg;
      await jsm.consumers.update(STREAM, durable, update).catch((e: Error) => this.log(`cluster: consumer ${durable} kept as it is (${e.message})`));
    }
    return clientFilter;
  }

  /** One message to the handler; acked or naked as the options say. */
  private async hand(m: JsMsg, handler: (m: BusMessage) => void | Promise<void>, manualAck: boolean, filters: string[] | null): Promise<void> {
    const parts = parseSubject(m.subject);
    if (parts === null || (filters !== null && !filters.some((f) => filterMatches(f, m.subject)))) {
      m.ack();
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(m.string());
    } catch {
      this.log(`cluster: message ${m.seq} on ${m.subject} is not JSON: skipped`);
      m.term('not JSON');
      return;
    }
    const msg: BusMessage = {
      subject: m.subject,
      ...parts,
      msgId: m.headers?.get('Nats-Msg-Id') ?? '',
      seq: m.seq,
      timeMs: m.time.getTime(),
      data,
      redelivered: m.redelivered,
      ack: () => m.ack(),
      nak: (delayMs?: number) => m.nak(delayMs),
      working: () => m.working(),
    };
    try {
      await handler(msg);
      if (!manualAck) m.ack();
    } catch (e) {
      if (!manualAck) m.nak(1000);
      this.log(`cluster: handler failed on ${m.subject} #${m.seq} (${(e as Error).message}): redelivered in 1 s`);
    }
  }

  private attach(nc: NatsConnection, entry: { filter: string; handler: (m: BusEvent) => void; sub: Subscription | null }): void {
    entry.sub = nc.subscribe(entry.filter, {
      callback: (err, m) => {
        if (err !== null) return;
        const parts = parseSubject(m.subject);
        if (parts === null) return;
        let data: unknown;
        try {
          data = m.json();
        } catch {
          return;
        }
        try {
          entry.handler({ subject: m.subject, ...parts, msgId: m.headers?.get('Nats-Msg-Id') ?? '', timeMs: Date.now(), data });
        } catch (e) {
          this.log(`cluster: subscriber of ${entry.filter} failed (${(e as Error).message})`);
        }
      },
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

/** Whether `p` settles within `ms`. */
async function race(p: Promise<unknown>, ms: number): Promise<boolean> {
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<boolean>((res) => {
    t = setTimeout(() => res(false), ms);
  });
  const r = await Promise.race([p.then(() => true), timer]);
  clearTimeout(t);
  return r;
}

/**
 * The client's connect, minus what it leaves behind on failure: an attempt that times out keeps
 * its socket open (nats.js 3.4 does not destroy it), so a server that accepts and never answers
 * would keep a CLI from exiting and leak a socket per retry in a long-running node. The sockets
 * opened during a failed attempt to one of our servers that never received a byte are destroyed.
 */
export async function dialNats(opts: NodeConnectionOptions): Promise<NatsConnection> {
  const created: Socket[] = [];
  const onSocket = (m: unknown) => {
    const sock = (m as { socket?: unknown }).socket;
    if (sock instanceof Socket) created.push(sock);
  };
  dcSubscribe('net.client.socket', onSocket);
  try {
    return await connect(opts);
  } catch (e) {
    const servers = typeof opts.servers === 'string' ? [opts.servers] : (opts.servers ?? []);
    const ports = new Set(servers.map((h) => Number(/:(\d+)$/.exec(h)?.[1] ?? 4222)));
    for (const sock of created) if (!sock.destroyed && sock.bytesRead === 0 && ports.has(sock.remotePort ?? -1)) sock.destroy();
    throw e;
  } finally {
    dcUnsubscribe('net.client.socket', onSocket);
  }
}

// ---- connection settings ----
// The NATS client does not read credentials written into a URL (`nats://user:pass@host`,
// `nats://token@host`), which is how people pass them in one flag: they are taken out here.

export type NatsSettings = Pick<BusOptions, 'url' | 'name' | 'token' | 'user' | 'pass' | 'credsFile' | 'tls'>;

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** The servers with credentials taken out, and what was taken (the first URL carrying some wins). */
export function splitUrls(url: string): { servers: string[]; user?: string; pass?: string; token?: string; tls: boolean } {
  const out: { servers: string[]; user?: string; pass?: string; token?: string; tls: boolean } = { servers: [], tls: false };
  for (const raw of url.split(',')) {
    const u = raw.trim();
    if (u === '') continue;
    const scheme = SCHEME.exec(u)?.[1]?.toLowerCase();
    if (scheme !== undefined && scheme !== 'nats' && scheme !== 'tls') throw new PalisadeError('E_USAGE', `NATS URL "${redact(u)}": use nats://host:port or tls://host:port`);
    if (scheme === 'tls') out.tls = true;
    const rest = scheme === undefined ? u : u.slice(scheme.length + 3);
    const at = rest.lastIndexOf('@');
    if (at >= 0) {
      const info = rest.slice(0, at);
      const colon = info.indexOf(':');
      if (out.user === undefined && out.token === undefined) {
        if (colon >= 0) {
          out.user = decodeURIComponent(info.slice(0, colon));
          out.pass = decodeURIComponent(info.slice(colon + 1));
        } else out.token = decodeURIComponent(info);
      }
    }
    const hostPort = at >= 0 ? rest.slice(at + 1) : rest;
    if (hostPort === '' || hostPort.startsWith(':')) throw new PalisadeError('E_USAGE', `NATS URL "${redact(u)}" names no host`);
    out.servers.push(hostPort.replace(/\/+$/, ''));
  }
  if (out.servers.length === 0) throw new PalisadeError('E_USAGE', 'no NATS server given: use nats://host:port');
  return out;
}

/** A URL list for messages: credentials replaced by `***`. */
export function redact(url: string): string {
  return url.replace(/(^|,|\/\/)([^@,/]*)@/g, '$1***@');
}

/** The client's options; reconnection is the caller's choice. Throws a PalisadeError for a creds file that cannot be read. */
export function natsOptions(s: NatsSettings): NodeConnectionOptions {
  const u = splitUrls(s.url);
  const o: NodeConnectionOptions = { servers: u.servers, name: s.name };
  const token = s.token ?? u.token;
  const user = s.user ?? u.user;
  const pass = s.pass ?? u.pass;
  if (token !== undefined) o.token = token;
  if (user !== undefined) {
    o.user = user;
    if (pass !== undefined) o.pass = pass;
  }
  if (s.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(s.credsFile);
    } catch (e) {
      throw new PalisadeError('E_INPUT', `NATS creds file ${s.credsFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    o.authenticator = credsAuthenticator(creds);
  }
  if (u.tls || s.tls !== undefined) {
    o.tls = {};
    if (s.tls?.ca !== undefined) o.tls.caFile = s.tls.ca;
    if (s.tls?.cert !== undefined) o.tls.certFile = s.tls.cert;
    if (s.tls?.key !== undefined) o.tls.keyFile = s.tls.key;
  }
  return o;
}

/** A one-line reason a connection failed, for people. */
export function connectError(url: string, e: unknown): PalisadeError {
  const err = e as Error & { code?: string; cause?: unknown };
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  const what = err.name === 'AuthorizationError' ? 'refused our credentials' : `is not reachable (${err.message}${cause})`;
  return new PalisadeError('E_DEPENDENCY', `NATS at ${redact(url)} ${what}: start it or fix the cluster URL and credentials`);
}

/** "7 days, 1 GiB": a stream's limits for people. */
export function limitsText(l: StreamLimits): string {
  const age =
    l.maxAgeMs <= 0 ? 'no age limit' : l.maxAgeMs % DAY_MS === 0 ? `${l.maxAgeMs / DAY_MS} day${l.maxAgeMs === DAY_MS ? '' : 's'}` : `${+(l.maxAgeMs / 3_600_000).toFixed(2)} h`;
  const size = l.maxBytes <= 0 ? 'no size limit' : `${+(l.maxBytes / GIB).toFixed(3)} GiB`;
  return `${age}, ${size}${l.replicas > 1 ? `, ${l.replicas} replicas` : ''}`;
}
