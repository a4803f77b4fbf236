/**
 * FlowCollector: UDP listeners for sFlow, NetFlow and IPFIX feeding one FlowDecoder (sources/flow),
 * the way `palisade collect` runs them. Each datagram is decoded as it arrives (the records go to
 * `onFlow`), optionally kept in a pcap, and counted per listener and per exporter.
 *
 * Loss is reported from both places it can be seen, never one alone: the decoder's sequence gaps
 * (what the exporters numbered and we never decoded) and the kernel's drop counter of each socket
 * (datagrams that found the receive buffer full). A sequence gap cannot see the tail of a burst
 * nor exporters that do not number datagrams; socket drops cannot see loss before the host.
 *
 * One decoder serves every socket: templates are keyed by exporter and domain inside it, and one
 * thread decodes one datagram at a time. Each socket asks for a large receive buffer, since a
 * collector that stalls a few milliseconds (a GC, a slow stdout) must not drop a burst; what the
 * kernel granted is reported, because Linux caps it at net.core.rmem_max without an error.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { InputError } from '../../core/errors.js';
import { FlowDecoder, type FlowDecoderOptions } from '../flow/datagram.js';
import { type CounterView, FlowKind, type FlowView } from '../flow/record-view.js';
import { FlowStats } from '../flow/stats.js';
import { CONVENTIONAL_PORT, formatListen, type ListenAddress, type ListenKind } from './address.js';
import { BatchSocket, loadBatchSocket, Meta, SLOT } from './batch-socket.js';
import { type Exporter, type ExporterSnapshot, ExporterTable, type SequenceLoss, sequenceLoss } from './exporters.js';
import { DatagramPcap, type Endpoint, setEndpoint } from './pcap-udp.js';
import { ownSocketInode, socketRow } from './proc-udp.js';

/** Asked of the kernel for each socket unless told otherwise. */
export const DEFAULT_RECV_BUFFER = 32 << 20;

export interface CollectorOptions {
  listen: ListenAddress[];
  /** Receive buffer to ask for, bytes (default DEFAULT_RECV_BUFFER). */
  recvBufferBytes?: number;
  decoder?: FlowDecoderOptions;
  onFlow?: (v: FlowView) => void;
  onCounters?: (c: CounterView) => void;
  /** Keep every datagram that arrived in this pcap file. */
  pcapPath?: string;
  /** Stop after this many datagrams (all listeners together). */
  maxDatagrams?: number;
  /** Stop after this many milliseconds from start(). */
  maxDurationMs?: number;
  /** Read with node:dgram even when the recvmmsg addon is built (tests of both paths). */
  dgramOnly?: boolean;
  /** The wall clock, ms since the epoch with fractions (injected for tests). */
  now?: () => number;
}

export type StopReason = 'count' | 'duration' | 'signal' | 'closed';

export interface ListenerSnapshot {
  kind: ListenKind;
  /** What was asked for, and the address actually bound. */
  requested: string;
  bound: string;
  /** How the socket is read: `recvmmsg` (batches, the native addon) or `node:dgram`. */
  reader: 'recvmmsg' | 'node:dgram';
  recvBuffer: { requested: number; granted: number };
  datagrams: number;
  bytes: number;
  /** Datagrams of another export protocol than the listener's (still decoded), and non-flow payloads. */
  otherProtocol: number;
  notFlow: number;
  /** The kernel's drop counter for this socket since it opened; null when /proc does not tell. */
  socketDrops: number | null;
  /** Bytes waiting unread in the socket (at stop: left unread), null when unknown. */
  rxQueueBytes: number | null;
}

export interface CollectorSnapshot {
  startedMs: number;
  atMs: number;
  datagrams: number;
  bytes: number;
  /** Flow records plus sFlow flow samples decoded. */
  records: number;
  listeners: ListenerSnapshot[];
  exporters: ExporterSnapshot[];
  /** Exporters beyond the table's bound (their datagrams count in the totals only). */
  untrackedExporters: number;
  loss: {
    sequence: SequenceLoss;
    /** Sum of the listeners' socket drops; null when none could be read. */
    socketDrops: number | null;
    /** What the sFlow agents say they could not sample: loss at the exporter, not on the way. */
    sflowAgentDrops: number;
  };
  /** The decoder's counters (a copy). */
  decoder: FlowStats;
  pcap: { path: string; datagrams: number } | null;
  stopped: StopReason | null;
}

const KIND_MATCH: Record<ListenKind, (k: FlowKind) => boolean> = {
  netflow: (k) => k === FlowKind.NETFLOW5 || k === FlowKind.NETFLOW9,
  ipfix: (k) => k === FlowKind.IPFIX,
  sflow: (k) => k === FlowKind.SFLOW5,
};

class Listener {
  socket: Socket | null = null;
  batch: BatchSocket | null = null;
  reader: ListenerSnapshot['reader'] = 'node:dgram';
  bound = '';
  granted = 0;
  inode: number | null = null;
  family: 4 | 6 = 4;
  /** Our end, for the pcap's destination. */
  readonly local: Endpoint = { version: 4, v4: 0, v6: new Uint8Array(16), port: 0 };
  /** A mirror of `local` in the other family (a dual-stack socket receives both). */
  readonly local4: Endpoint = { version: 4, v4: 0, v6: new Uint8Array(16), port: 0 };
  datagrams = 0;
  bytes = 0;
  otherProtocol = 0;
  notFlow = 0;
  dropsAtOpen = 0;
  lastRow: { drops: number; rxQueue: number } | null = null;

  constructor(
    readonly address: ListenAddress,
    readonly requestedBuffer: number,
  ) {}

  close(): void {
    this.socket?.close();
    this.socket = null;
    this.batch?.close();
    this.batch = null;
  }

  readRow(): void {
    if (this.inode === null) return;
    const r = socketRow(this.family, this.inode);
    if (r !== null) this.lastRow = { drops: r.drops, rxQueue: r.rxQueue };
  }

  snapshot(): ListenerSnapshot {
    const a = this.address;
    return {
      kind: a.kind,
      requested: a.text,
      bound: this.bound,
      reader: this.reader,
      recvBuffer: { requested: this.requestedBuffer, granted: this.granted },
      datagrams: this.datagrams,
      bytes: this.bytes,
      otherProtocol: this.otherProtocol,
      notFlow: this.notFlow,
      socketDrops: this.lastRow === null ? null : this.lastRow.drops - this.dropsAtOpen,
      rxQueueBytes: this.lastRow === null ? null : this.lastRow.rxQueue,
    };
  }
}

export class FlowCollector {
  readonly decoder: FlowDecoder;
  private readonly listeners: Listener[];
  private readonly exporters = new ExporterTable();
  private readonly now: () => number;
  private pcap: DatagramPcap | null = null;
  private pcapTimer: NodeJS.Timeout | null = null;
  private durationTimer: NodeJS.Timeout | null = null;
  private startedMs = 0;
  private datagrams = 0;
  private bytes = 0;
  private stopReason: StopReason | null = null;
  private final: CollectorSnapshot | null = null;
  private resolveDone: (s: CollectorSnapshot) => void = () => {};
  /** Resolves with the final snapshot once the collector has stopped (count, duration, stop()). */
  readonly done: Promise<CollectorSnapshot>;

  constructor(private readonly opts: CollectorOptions) {
    this.decoder = new FlowDecoder(opts.decoder);
    if (opts.onFlow) this.decoder.onFlow = opts.onFlow;
    this.decoder.onCounters = opts.onCounters ?? null;
    this.now = opts.now ?? (() => performance.timeOrigin + performance.now());
    const buf = opts.recvBufferBytes ?? DEFAULT_RECV_BUFFER;
    this.listeners = opts.listen.map((a) => new Listener(a, buf));
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /** Bind every listener (all or none: a failure closes those already bound and throws an InputError). */
  async start(): Promise<void> {
    try {
      for (const l of this.listeners) await this.bind(l);
    } catch (err) {
      for (const l of this.listeners) l.close();
      throw err;
    }
    // Stopped while binding (a signal during start-up): nothing to run.
    if (this.final !== null) {
      for (const l of this.listeners) l.close();
      return;
    }
    if (this.opts.pcapPath !== undefined) {
      try {
        this.pcap = new DatagramPcap(this.opts.pcapPath);
      } catch (err) {
        for (const l of this.listeners) l.close();
        throw new InputError(`-w ${this.opts.pcapPath}: cannot write: ${(err as Error).message}`);
      }
      // Flushed every second, so the file is readable (up to the last second) while we run.
      this.pcapTimer = setInterval(() => this.pcap?.flush(), 1000);
      this.pcapTimer.unref();
    }
    this.startedMs = this.now();
    if (this.opts.maxDurationMs !== undefined) {
      this.durationTimer = setTimeout(() => this.stop('duration'), this.opts.maxDurationMs);
    }
  }

  private async bind(l: Listener): Promise<void> {
    const a = l.address;
    const anyAddress = a.host === '::' && a.text.startsWith(':');
    try {
      await this.open(l, a.host, a.family);
    } catch (err) {
      // `:PORT` on a host without IPv6: every IPv4 address is what was meant.
      if (anyAddress && (err as NodeJS.ErrnoException).code === 'EAFNOSUPPORT') await this.open(l, '0.0.0.0', 4);
      else throw bindError(a, err as NodeJS.ErrnoException);
    }
  }

  private open(l: Listener, host: string, family: 4 | 6): Promise<void> {
    const lib = this.opts.dgramOnly ? null : loadBatchSocket();
    if (lib !== null) {
      // Throws as node:dgram would (err.code EADDRINUSE ...), so bind() words it the same.
      const b = new BatchSocket(lib, family, host, l.address.port, l.requestedBuffer);
      l.batch = b;
      l.reader = 'recvmmsg';
      this.ready(l, family, b.recvBufferSize(), b.address());
      b.start((n) => this.onBatch(l, n));
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: false });
      const fail = (err: Error) => {
        try {
          socket.close();
        } catch {
          // already closed by the failed bind
        }
        reject(err);
      };
      socket.once('error', fail);
      socket.bind({ address: host, port: l.address.port, exclusive: true }, () => {
        socket.off('error', fail);
        // After start-up a socket error (rare on UDP: ICMP errors do not reach unconnected sockets) is counted, not fatal.
        socket.on('error', () => {});
        try {
          socket.setRecvBufferSize(l.requestedBuffer);
        } catch {
          // Refused outright: keep the default buffer; `granted` says what it is.
        }
        l.socket = socket;
        this.ready(l, family, socket.getRecvBufferSize(), socket.address());
        socket.on('message', (msg, rinfo) => this.onMessage(l, msg, rinfo));
        resolve();
      });
    });
  }

  /** A socket is bound: what it got, where it is, and its kernel row for drop counts. */
  private ready(l: Listener, family: 4 | 6, granted: number, addr: { address: string; port: number }): void {
    l.granted = granted;
    l.family = family;
    l.bound = formatListen(addr.address, addr.port);
    setEndpoint(l.local, addr.address, addr.port);
    setEndpoint(l.local4, l.local.version === 6 && isAnyV6(l.local.v6) ? '0.0.0.0' : addr.address, addr.port);
    l.inode = ownSocketInode(family, addr.port);
    l.readRow();
    l.dropsAtOpen = l.lastRow?.drops ?? 0;
  }

  private onMessage(l: Listener, msg: Buffer, rinfo: RemoteInfo): void {
    if (this.stopReason !== null) return;
    this.onDatagram(l, this.exporters.get(rinfo.address), rinfo.port, msg, 0, msg.length);
  }

  /** A batch from recvmmsg: the datagrams are in the socket's reused buffer, their sources in meta. */
  private onBatch(l: Listener, n: number): void {
    const b = l.batch;
    if (b === null) return;
    const meta = b.meta;
    const stride = b.metaStride;
    for (let i = 0; i < n && this.stopReason === null; i++) {
      const m = i * stride;
      const ex =
        meta[m + Meta.FAMILY] === 4
          ? this.exporters.getV4(meta[m + Meta.ADDR] >>> 0)
          : this.exporters.getV6(meta[m + Meta.ADDR], meta[m + Meta.ADDR + 1], meta[m + Meta.ADDR + 2], meta[m + Meta.ADDR + 3]);
      const len = meta[m + Meta.LEN];
      this.onDatagram(l, ex, meta[m + Meta.PORT], b.data, i * SLOT, len);
    }
  }

  private onDatagram(l: Listener, ex: Exporter, port: number, buf: Uint8Array, off: number, len: number): void {
    const t = this.now();
    const dec = this.decoder;
    const st = dec.stats;
    const from = ex.endpoint;
    from.port = port;
    if (from.version === 4) dec.exporter.set4(from.v4);
    else dec.exporter.set6(from.v6, 0);
    dec.exporter.port = port;
    const recordsBefore = st.flowRecords + st.flowSamples;
    const lostRecords = st.lostNetflow5Flows + st.lostIpfixRecords;
    const lostDatagrams = st.lostNetflow9Datagrams + st.lostSflowDatagrams;
    const lostSamples = st.lostSflowSamples;
    // The listener's conventional port, not its real one: a broken datagram on `--ipfix :9000` is
    // a malformed IPFIX message, where on an unknown port the decoder would call it "not flow".
    const kind = dec.decode(buf, off, off + len, CONVENTIONAL_PORT[l.address.kind], t);
    const records = st.flowRecords + st.flowSamples - recordsBefore;
    ex.records += records;
    ex.lost.records += st.lostNetflow5Flows + st.lostIpfixRecords - lostRecords;
    ex.lost.datagrams += st.lostNetflow9Datagrams + st.lostSflowDatagrams - lostDatagrams;
    ex.lost.samples += st.lostSflowSamples - lostSamples;
    ex.datagrams++;
    ex.bytes += len;
    ex.saw(kind);
    l.datagrams++;
    l.bytes += len;
    if (kind === FlowKind.NONE) l.notFlow++;
    else if (!KIND_MATCH[l.address.kind](kind)) l.otherProtocol++;
    this.datagrams++;
    this.bytes += len;
    if (this.pcap !== null) this.pcap.write(from, from.version === 6 ? l.local : l.local4, buf.subarray(off, off + len), t);
    if (this.opts.maxDatagrams !== undefined && this.datagrams >= this.opts.maxDatagrams) this.stop('count');
  }

  /** Counters now; reads each socket's kernel row (a few /proc reads: call it once a second, not per datagram). */
  snapshot(): CollectorSnapshot {
    if (this.final !== null) return this.final;
    for (const l of this.listeners) l.readRow();
    return this.build();
  }

  private build(): CollectorSnapshot {
    const listeners = this.listeners.map((l) => l.snapshot());
    const drops = listeners.map((l) => l.socketDrops).filter((d): d is number => d !== null);
    const st = this.decoder.stats;
    return {
      startedMs: this.startedMs,
      atMs: this.now(),
      datagrams: this.datagrams,
      bytes: this.bytes,
      records: st.flowRecords + st.flowSamples,
      listeners,
      exporters: this.exporters.list().map((e) => e.snapshot()),
      untrackedExporters: this.exporters.overflow.datagrams > 0 ? 1 : 0,
      loss: {
        sequence: sequenceLoss(st),
        socketDrops: drops.length === 0 ? null : drops.reduce((a, b) => a + b, 0),
        sflowAgentDrops: st.sflowDrops,
      },
      decoder: Object.assign(new FlowStats(), st),
      pcap: this.pcap === null ? null : { path: this.pcap.path, datagrams: this.pcap.packets },
      stopped: this.stopReason,
    };
  }

  /**
   * Stop: read the sockets' drop counters one last time (they go with the sockets), close the
   * sockets and the pcap, and resolve `done` with the final snapshot. Idempotent.
   */
  stop(reason: StopReason = 'closed'): CollectorSnapshot {
    if (this.final !== null) return this.final;
    this.stopReason = reason;
    for (const l of this.listeners) l.readRow();
    if (this.durationTimer !== null) clearTimeout(this.durationTimer);
    if (this.pcapTimer !== null) clearInterval(this.pcapTimer);
    for (const l of this.listeners) l.close();
    this.pcap?.close();
    this.final = this.build();
    this.resolveDone(this.final);
    return this.final;
  }

  /** The exporters seen so far (live objects; for the summary). */
  exporterList(): Exporter[] {
    return this.exporters.list();
  }
}

function isAnyV6(b: Uint8Array): boolean {
  return b.every((x) => x === 0);
}

/** A bind failure as the user can act on it. */
function bindError(a: ListenAddress, err: NodeJS.ErrnoException): InputError {
  const where = `--${a.kind} ${a.text}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new InputError(`${where}: port ${a.port} is already in use (another collector running? "ss -ulpn sport = :${a.port}" shows which)`);
    case 'EADDRNOTAVAIL':
      return new InputError(`${where}: ${a.host} is not an address of this machine`);
    case 'EACCES':
      return new InputError(`${where}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)`);
    case 'EAFNOSUPPORT':
      return new InputError(`${where}: IPv${a.family} is not available on this host`);
    default:
      return new InputError(`${where}: cannot listen: ${err.message}`);
  }
}

/** net.core.rmem_max, the cap on what setRecvBufferSize can get (Linux), or null. */
export function recvBufferMax(): number | null {
  try {
    return Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
  } catch {
    return null;
  }
}
