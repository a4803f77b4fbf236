/**
 * Flows as weighted packets: the PacketSource that lets L3/L4 detection, its signature measurement
 * and the traffic summary run on flow export unchanged (issue 14). Each record becomes one or more
 * PacketViews that carry `weight`, the packets on the wire they stand for:
 *
 * - an sFlow sample with a sampled header is that packet, decoded, weighted by the sampling rate;
 * - a NetFlow/IPFIX record (no headers) is spread over the seconds it spans, in proportion to the
 *   time it spent in each, one view per second with that share of its packets times its sampling
 *   rate; the view has the record's addresses, ports, protocol, the OR of its TCP flags, its mean
 *   packet size as ip.len, and `flowPackets` set so detection knows it saw no payload.
 *
 * Records arrive when their flows end (or time out), long after they started, so a file's records
 * are read whole, spread, and replayed in time order; the second read (the signature measurement's
 * catch-up) replays the same views from memory. The views are handed out decoded: `decoded` tells
 * readers not to decode them again.
 */
import type { Clock } from '../core/clock.js';
import { InputError, UsageError } from '../core/errors.js';
import { decodeFrame } from '../decode/frame.js';
import { PacketView } from '../decode/view.js';
import type { CaptureInfo } from './capture/capture.js';
import type { PacketInfo, PacketSource } from './capture/source.js';
import { type FlowDecoderOptions, FlowKind, type FlowStats, type FlowView, readFlowCapture } from './flow/index.js';

/** Seconds a record is spread over at most (a longer flow is spread in as many equal parts). */
const MAX_SPREAD = 300;
/** Views held at most (about 70 bytes each): a file needing more is refused with a clear error, not read half. */
const MAX_VIEWS = 5_000_000;

/** What a pass over flow export read, beside the packets its records stand for. */
export interface FlowPacketsInfo extends PacketInfo {
  /** The capture of exported datagrams itself. */
  datagrams: CaptureInfo;
  /** The flow decoder's counters (records, samples, templates, loss, malformed). */
  flows: FlowStats;
  /** Views made (records spread over seconds; samples). */
  views: number;
  /** Records by export protocol. */
  kinds: { netflow5: number; netflow9: number; ipfix: number; sflow5: number };
}

/** Growable struct-of-arrays store of the views to replay (no object per view). */
export class ViewStore {
  n = 0;
  private cap = 0;
  sec = new Float64Array(0);
  nsec = new Int32Array(0);
  weight = new Float64Array(0);
  samples = new Float64Array(0);
  flowPackets = new Float64Array(0);
  fam = new Uint8Array(0);
  src4 = new Int32Array(0);
  dst4 = new Int32Array(0);
  /** Offset of 32 address bytes (source, destination) in addr, -1 for IPv4. */
  addrOff = new Int32Array(0);
  proto = new Uint8Array(0);
  sport = new Uint16Array(0);
  dport = new Uint16Array(0);
  flags = new Uint8Array(0);
  ipLen = new Uint16Array(0);
  icmp = new Int32Array(0);
  /** Sampled header: offset in hdr (-1: none), length, link type, frame length on the wire. */
  hdrOff = new Int32Array(0);
  hdrLen = new Int32Array(0);
  hdrLink = new Uint16Array(0);
  wirelen = new Int32Array(0);
  addr: Uint8Array = new Uint8Array(1 << 12);
  addrUsed = 0;
  hdr: Uint8Array = new Uint8Array(1 << 16);
  hdrUsed = 0;

  /** Empty it, keeping its arrays (a live bucket used again). */
  clear(): void {
    this.n = 0;
    this.addrUsed = 0;
    this.hdrUsed = 0;
  }

  push(): number {
    if (this.n === this.cap) this.grow();
    return this.n++;
  }

  private grow(): void {
    const cap = Math.max(1024, this.cap * 2);
    if (this.cap >= MAX_VIEWS)
      throw new InputError(
        `flow export spreads into more than ${MAX_VIEWS.toLocaleString('en-US')} packet views (about ${Math.round((MAX_VIEWS * 70) / 1e6)} MB); split the capture (editcap -c)`,
      );
    const g = <T extends Float64Array | Int32Array | Uint8Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.sec = g(this.sec, (k) => new Float64Array(k));
    this.nsec = g(this.nsec, (k) => new Int32Array(k));
    this.weight = g(this.weight, (k) => new Float64Array(k));
    this.samples = g(this.samples, (k) => new Float64Array(k));
    this.flowPackets = g(this.flowPackets, (k) => new Float64Array(k));
    this.fam = g(this.fam, (k) => new Uint8Array(k));
    this.src4 = g(this.src4, (k) => new Int32Array(k));
    this.dst4 = g(this.dst4, (k) => new Int32Array(k));
    this.addrOff = g(this.addrOff, (k) => new Int32Array(k));
    this.proto = g(this.proto, (k) => new Uint8Array(k));
    this.sport = g(this.sport, (k) => new Uint16Array(k));
    this.dport = g(this.dport, (k) => new Uint16Array(k));
    this.flags = g(this.flags, (k) => new Uint8Array(k));
    this.ipLen = g(this.ipLen, (k) => new Uint16Array(k));
    this.icmp = g(this.icmp, (k) => new Int32Array(k));
    this.hdrOff = g(this.hdrOff, (k) => new Int32Array(k));
    this.hdrLen = g(this.hdrLen, (k) => new Int32Array(k));
    this.hdrLink = g(this.hdrLink, (k) => new Uint16Array(k));
    this.wirelen = g(this.wirelen, (k) => new Int32Array(k));
    this.cap = cap;
  }

  /** Copy len bytes into an arena, growing it; returns their offset. */
  static append(arena: Uint8Array, used: number, src: Uint8Array, off: number, len: number): Uint8Array {
    if (used + len <= arena.length) {
      arena.set(src.subarray(off, off + len), used);
      return arena;
    }
    const bigger = new Uint8Array(Math.max(arena.length * 2, used + len));
    bigger.set(arena.subarray(0, used));
    bigger.set(src.subarray(off, off + len), used);
    return bigger;
  }

  addAddrs(b: Uint8Array, srcOff: number, dstOff: number): number {
    const at = this.addrUsed;
    this.addr = ViewStore.append(this.addr, at, b, srcOff, 16);
    this.addr = ViewStore.append(this.addr, at + 16, b, dstOff, 16);
    this.addrUsed = at + 32;
    return at;
  }

  addHeader(b: Uint8Array, off: number, len: number): number {
    const at = this.hdrUsed;
    this.hdr = ViewStore.append(this.hdr, at, b, off, len);
    this.hdrUsed = at + len;
    return at;
  }
}

/** The records of a flow capture, spread into views and put in time order (read once per source). */
interface Loaded {
  store: ViewStore;
  order: Uint32Array;
  info: FlowPacketsInfo;
}

async function load(path: string, opts: FlowDecoderOptions, onProgress?: (done: number, total?: number) => void): Promise<Loaded> {
  const st = new ViewStore();
  const kinds = { netflow5: 0, netflow9: 0, ipfix: 0, sflow5: 0 };
  let weightTotal = 0;
  let bytesTotal = 0;
  const onFlow = (f: FlowView): void => {
    if (f.kind === FlowKind.NETFLOW5) kinds.netflow5++;
    else if (f.kind === FlowKind.NETFLOW9) kinds.netflow9++;
    else if (f.kind === FlowKind.IPFIX) kinds.ipfix++;
    else if (f.kind === FlowKind.SFLOW5) kinds.sflow5++;
    // no object per record: the packets come back, the bytes only for what was stored
    const packets = addFlow(st, f);
    if (packets > 0) {
      weightTotal += packets;
      bytesTotal += flowBytes(f);
    }
  };
  const r = await readFlowCapture(path, onFlow, { ...opts, onProgress });
  // Time order; a stable sort keeps a second's views in arrival order.
  const order = new Uint32Array(st.n);
  for (let i = 0; i < st.n; i++) order[i] = i;
  const sec = st.sec;
  const nsec = st.nsec;
  order.sort((a, b) => (sec[a] as number) - (sec[b] as number) || (nsec[a] as number) - (nsec[b] as number) || a - b);
  const info: FlowPacketsInfo = {
    ...r.capture,
    packets: weightTotal,
    bytes: bytesTotal,
    records: st.n,
    error: r.capture.error,
    datagrams: r.capture,
    flows: r.flows,
    views: st.n,
    kinds,
  };
  return { store: st, order, info };
}

/**
 * One record or sample as stored views: an sFlow sample's header (at `atMs` when given, else its
 * own time), or a header-less record spread over [start, end) — its own times, or those given (the
 * live monitor spreads a record over the seconds after it arrived). Returns the packets on the
 * wire it stands for (0 for what carries no IP, which is not stored); flowBytes gives its bytes.
 */
export function addFlow(st: ViewStore, f: FlowView, atMs?: number, spanMs?: number): number {
  const rate = f.samplingRate > 0 ? f.samplingRate : 1;
  if (f.hasPacket) {
    const pv = f.packet;
    if (pv.ipVersion === 0) return 0;
    const i = st.push();
    if (atMs === undefined) {
      st.sec[i] = pv.tsSec;
      st.nsec[i] = pv.tsNsec;
    } else {
      st.sec[i] = Math.floor(atMs / 1000);
      st.nsec[i] = (atMs % 1000) * 1e6;
    }
    st.weight[i] = rate;
    st.samples[i] = 1;
    st.flowPackets[i] = 0;
    st.hdrOff[i] = st.addHeader(pv.buf, pv.frameOff, pv.frameEnd - pv.frameOff);
    st.hdrLen[i] = pv.frameEnd - pv.frameOff;
    st.hdrLink[i] = pv.linkType;
    st.wirelen[i] = pv.wirelen;
    return rate;
  }
  if (f.ipVersion === 0 || f.packets <= 0) return 0;
  const start = atMs ?? f.startMs;
  const end = atMs !== undefined ? atMs + Math.max(0, spanMs ?? 0) : f.endMs > start ? f.endMs : start;
  spread(st, f, rate, start, end);
  return f.packets * rate;
}

/** Bytes on the wire a record or sample that addFlow stored stands for. */
function flowBytes(f: FlowView): number {
  const rate = f.samplingRate > 0 ? f.samplingRate : 1;
  return (f.hasPacket ? f.packet.wirelen : f.bytes) * rate;
}

/** A header-less record spread over the seconds of [start, end] (see the module comment). */
function spread(st: ViewStore, f: FlowView, rate: number, start: number, end: number): void {
  const packets = f.packets;
  const meanLen = Math.max(20, Math.min(65535, Math.round(f.bytes / packets)));
  let addrOff = -1;
  if (f.ipVersion === 6) {
    if (f.src6Off < 0 || f.dst6Off < 0) return;
    addrOff = st.addAddrs(f.buf, f.src6Off, f.dst6Off);
  }
  const s0 = Math.floor(start / 1000);
  const s1 = Math.floor(end / 1000);
  const secs = s1 - s0 + 1;
  // Parts: one per second spanned, fewer when the flow has fewer packets or lasts very long.
  const parts = Math.max(1, Math.min(secs, MAX_SPREAD, packets));
  const span = end - start;
  let given = 0;
  for (let k = 0; k < parts; k++) {
    // Part k covers [a, b) of the flow's time; with one part per second, exactly its overlap with that second.
    const a = parts === secs ? Math.max(start, (s0 + k) * 1000) : start + (span * k) / parts;
    const b = parts === secs ? Math.min(end, (s0 + k + 1) * 1000) : start + (span * (k + 1)) / parts;
    // Packets in proportion to time, rounded so that the parts add up to the record's count.
    const upto = k === parts - 1 ? packets : span > 0 ? Math.round((packets * (b - start)) / span) : packets;
    const n = upto - given;
    if (n <= 0) continue;
    given = upto;
    const mid = span > 0 ? (a + b) / 2 : start;
    const i = st.push();
    const sec = Math.floor(mid / 1000);
    st.sec[i] = sec;
    st.nsec[i] = Math.floor((mid - sec * 1000) * 1e6);
    st.weight[i] = n * rate;
    st.samples[i] = n;
    st.flowPackets[i] = packets;
    st.fam[i] = f.ipVersion;
    st.src4[i] = f.src4 | 0;
    st.dst4[i] = f.dst4 | 0;
    st.addrOff[i] = addrOff;
    st.proto[i] = f.proto;
    st.sport[i] = f.srcPort;
    st.dport[i] = f.dstPort;
    st.flags[i] = f.tcpFlags;
    st.ipLen[i] = meanLen;
    st.icmp[i] = f.icmpTypeCode >= 0 ? f.icmpTypeCode : f.proto === 1 || f.proto === 58 ? f.dstPort : -1;
    st.hdrOff[i] = -1;
  }
}

/** Fill the view with stored view i. */
export function fill(v: PacketView, st: ViewStore, i: number): void {
  v.tsSec = st.sec[i] as number;
  v.tsNsec = st.nsec[i] as number;
  v.weight = st.weight[i] as number;
  v.samples = st.samples[i] as number;
  const h = st.hdrOff[i] as number;
  if (h >= 0) {
    const len = st.hdrLen[i] as number;
    v.buf = st.hdr;
    v.frameOff = h;
    v.frameEnd = h + len;
    v.caplen = len;
    v.wirelen = st.wirelen[i] as number;
    v.linkType = st.hdrLink[i] as number;
    v.flowPackets = 0;
    v.reset();
    decodeFrame(v);
    return;
  }
  v.reset();
  v.flowPackets = st.flowPackets[i] as number;
  const fam = st.fam[i] as number;
  const proto = st.proto[i] as number;
  const len = st.ipLen[i] as number;
  v.caplen = 0;
  v.frameOff = 0;
  v.frameEnd = 0;
  v.ipVersion = fam;
  // No header was seen; a nominal length tells readers an IP header is there (addresses are).
  v.ipHdrLen = fam === 4 ? 20 : 40;
  if (fam === 4) {
    v.src4 = (st.src4[i] as number) >>> 0;
    v.dst4 = (st.dst4[i] as number) >>> 0;
  } else {
    v.buf = st.addr;
    v.src6Off = st.addrOff[i] as number;
    v.dst6Off = (st.addrOff[i] as number) + 16;
  }
  v.ipProto = proto;
  v.ipLen = len;
  v.wirelen = len + 14;
  const sp = st.sport[i] as number;
  const dp = st.dport[i] as number;
  if (proto === 6 || proto === 17 || proto === 132) {
    if (proto === 17 && sp === 0 && dp === 0) {
      // Non-first fragments: an exporter puts them in a record of their own, without ports.
      v.isFragment = true;
      v.fragOffset = 1;
      return;
    }
    v.l4Proto = proto;
    v.l4Off = 0;
    v.srcPort = sp;
    v.dstPort = dp;
    if (proto === 6) v.tcpFlags = st.flags[i] as number;
    else if (proto === 17) v.udpLen = Math.max(8, len - (fam === 6 ? 40 : 20));
  } else if (proto === 1 || proto === 58) {
    const ic = st.icmp[i] as number;
    v.l4Proto = proto;
    v.l4Off = 0;
    if (ic >= 0) {
      v.icmpType = (ic >>> 8) & 0xff;
      v.icmpCode = ic & 0xff;
    }
  } else v.l4Proto = proto;
}

class ViewClock implements Clock {
  constructor(private readonly view: PacketView) {}
  nowMs(): number {
    return this.view.tsSec * 1000 + Math.floor(this.view.tsNsec / 1e6);
  }
}

export interface FlowPacketSource extends PacketSource {
  /** The views come decoded: readers must not decode them again (ReadOptions.decode is ignored). */
  readonly decoded: true;
  /** What the first pass read of the flow export (null before any read). */
  readonly flowInfo: FlowPacketsInfo | null;
}

/**
 * A capture of flow export (NetFlow v5/v9, IPFIX, sFlow v5 datagrams) as weighted packets. Files
 * only: the records are read whole before the first view is handed out (see the module comment).
 */
export function flowPacketSource(path: string, opts: FlowDecoderOptions = {}): FlowPacketSource {
  if (path === '-') throw new UsageError('flow analysis reads a file (its records are put in time order first); save stdin to a file');
  const view = new PacketView();
  let loaded: Promise<Loaded> | null = null;
  const source: { -readonly [K in keyof FlowPacketSource]: FlowPacketSource[K] } = {
    kind: 'packet',
    name: path,
    weight: 1,
    clock: new ViewClock(view),
    replayable: true,
    // Not re-openable by another thread as a capture of packets: detection runs on this one.
    location: null,
    decoded: true,
    flowInfo: null,
    async read(onRecord, ropts) {
      loaded ??= load(path, opts, ropts?.onProgress);
      const { store, order, info } = await loaded;
      source.flowInfo = info;
      for (let k = 0; k < order.length; k++) {
        fill(view, store, order[k] as number);
        if (view.ipVersion !== 0) onRecord(view);
      }
      return { ...info };
    },
  };
  return source;
}
