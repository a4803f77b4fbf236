/**
 * Frame builders for decoder tests: one function per header, written from the protocol
 * specifications (not from our decoders), so a test reads header by header:
 *
 *   ethernet(EtherType.VLAN, vlanTag({ vid: 10, type: EtherType.IPV4 }, ipv4({ ... }, tcp({ ... }))))
 *
 * Each builder takes its payload and fills in the lengths that depend on it (IPv4 total length
 * and header checksum, IPv6 payload length, UDP length, extension-header lengths), unless the
 * test overrides them to build a lying header. TCP/UDP checksums stay zero: neither our decoder
 * nor tshark (with its default preferences) validates them.
 */
import { decodeFrame } from '../../src/decode/frame.js';
import { Link, PacketView } from '../../src/decode/view.js';

export type Part = number | readonly number[] | Uint8Array;

/** Concatenate bytes, byte arrays and single numbers (each taken as one byte). */
export function bytes(...parts: Part[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p & 0xff);
    else for (const x of p) out.push(x & 0xff);
  }
  return Uint8Array.from(out);
}

export const u16 = (x: number): number[] => [(x >>> 8) & 0xff, x & 0xff];
export const u32 = (x: number): number[] => [(x >>> 24) & 0xff, (x >>> 16) & 0xff, (x >>> 8) & 0xff, x & 0xff];

const EMPTY = new Uint8Array(0);

export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  /** The pre-standard QinQ outer tag some switches still send. */
  QINQ_9100: 0x9100,
  IPV6: 0x86dd,
  MPLS: 0x8847,
  MPLS_MULTICAST: 0x8848,
  PPPOE_SESSION: 0x8864,
  /** GRE protocol type for transparent Ethernet bridging. */
  TEB: 0x6558,
  /** GRE protocol type for PPP (PPTP's enhanced GRE). */
  PPP: 0x880b,
} as const;

export const IpProto = {
  HOP_BY_HOP: 0,
  ICMP: 1,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  GRE: 47,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NO_NEXT: 59,
  DEST_OPTS: 60,
} as const;

// ---- addresses -----------------------------------------------------------------------------

export function ipv4Addr(dotted: string): number[] {
  const parts = dotted.split('.').map(Number);
  if (parts.length !== 4 || parts.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 address ${dotted}`);
  return parts;
}

/** '2001:db8::1' → 16 bytes (one '::' allowed, no embedded IPv4). */
export function ipv6Addr(text: string): number[] {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const all = [...h, ...new Array<number>(fill).fill(0), ...t];
  if (all.length !== 8 || all.some((g) => !(g >= 0 && g <= 0xffff))) throw new Error(`bad IPv6 address ${text}`);
  return all.flatMap(u16);
}

// ---- layer 2 -------------------------------------------------------------------------------

export const MAC_A = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
export const MAC_B = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];

/** Ethernet II: destination, source, ethertype. */
export function ethernet(type: number, payload: Part = EMPTY, mac: { dst?: number[]; src?: number[] } = {}): Uint8Array {
  return bytes(mac.dst ?? MAC_B, mac.src ?? MAC_A, u16(type), payload);
}

/** IEEE 802.3: the type field is the length of what follows (the LLC PDU). */
export function ieee8023(payload: Part, mac: { dst?: number[]; src?: number[]; length?: number } = {}): Uint8Array {
  const body = bytes(payload);
  return bytes(mac.dst ?? MAC_B, mac.src ?? MAC_A, u16(mac.length ?? body.length), body);
}

/** 802.2 LLC header with a one-byte (unnumbered) control field. */
export function llc(dsap: number, ssap: number, control: number, payload: Part = EMPTY): Uint8Array {
  return bytes(dsap, ssap, control, payload);
}

/** LLC + SNAP (AA AA 03, OUI, ethertype): how 802.3 frames carry IP. */
export function snap(etherType: number, payload: Part = EMPTY, oui: number[] = [0, 0, 0]): Uint8Array {
  return llc(0xaa, 0xaa, 0x03, bytes(oui, u16(etherType), payload));
}

/** One 802.1Q / 802.1ad tag (TCI, then the ethertype of what follows). */
export function vlanTag(tag: { vid: number; type: number; pcp?: number; dei?: boolean }, payload: Part = EMPTY): Uint8Array {
  const tci = ((tag.pcp ?? 0) << 13) | (tag.dei ? 0x1000 : 0) | (tag.vid & 0x0fff);
  return bytes(u16(tci), u16(tag.type), payload);
}

export interface MplsEntry {
  label: number;
  tc?: number;
  ttl?: number;
}

/** An MPLS label stack (RFC 3032): the S bit is set on the last entry only, unless `bottom` says otherwise. */
export function mplsStack(entries: MplsEntry[], payload: Part = EMPTY, bottom: 'last' | 'none' = 'last'): Uint8Array {
  const words = entries.map((e, i) => {
    const s = bottom === 'last' && i === entries.length - 1 ? 1 : 0;
    return u32(((e.label & 0xfffff) << 12) | ((e.tc ?? 0) << 9) | (s << 8) | (e.ttl ?? 64));
  });
  return bytes(...words, payload);
}

/** PPPoE session stage header (RFC 2516) and the PPP protocol number. */
export function pppoeSession(pppProto: number, payload: Part, sessionId = 0x0001): Uint8Array {
  const body = bytes(u16(pppProto), payload);
  return bytes(0x11, 0x00, u16(sessionId), u16(body.length), body);
}

/** PPP in HDLC-like framing (address FF, control 03) with a two-byte protocol. */
export function ppp(proto: number, payload: Part, addressControl = true): Uint8Array {
  return bytes(addressControl ? [0xff, 0x03] : [], u16(proto), payload);
}

// ---- IPv4 ----------------------------------------------------------------------------------

export interface Ipv4Header {
  src: string;
  dst: string;
  proto: number;
  ttl?: number;
  id?: number;
  tos?: number;
  /** 3 bits: 4 = reserved, 2 = DF, 1 = MF. */
  flags?: number;
  /** In 8-byte units. */
  fragOffset?: number;
  /** Raw option bytes; must be a multiple of 4 unless `ihl` overrides. */
  options?: readonly number[];
  /** Overrides for lying headers. */
  ihl?: number;
  totalLength?: number;
  version?: number;
}

export function ipv4(h: Ipv4Header, payload: Part = EMPTY): Uint8Array {
  const options = h.options ?? [];
  const hlen = 20 + options.length;
  const body = bytes(payload);
  const header = bytes(
    ((h.version ?? 4) << 4) | (h.ihl ?? hlen >> 2),
    h.tos ?? 0,
    u16(h.totalLength ?? hlen + body.length),
    u16(h.id ?? 0x1234),
    u16(((h.flags ?? 0) << 13) | (h.fragOffset ?? 0)),
    h.ttl ?? 64,
    h.proto,
    [0, 0], // checksum, filled below
    ipv4Addr(h.src),
    ipv4Addr(h.dst),
    options,
  );
  const sum = internetChecksum(header);
  header[10] = sum >> 8;
  header[11] = sum & 0xff;
  return bytes(header, body);
}

/** RFC 1071 one's-complement sum (only for the IPv4 header, so tshark sees a valid one). */
function internetChecksum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += ((b[i] as number) << 8) | (b[i + 1] as number);
  if (b.length & 1) s += (b[b.length - 1] as number) << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** IPv4 options (RFC 791 and the IANA registry). */
export const ipv4Option = {
  eol: (): number[] => [0],
  nop: (): number[] => [1],
  /** Router Alert (RFC 2113), value 0: "examine this packet". */
  routerAlert: (): number[] => [0x94, 4, 0, 0],
  /** Record Route with `slots` empty address slots; the pointer names the first. */
  recordRoute: (slots: number): number[] => [7, 3 + 4 * slots, 4, ...new Array<number>(4 * slots).fill(0)],
  /** Timestamp, flag 0 (timestamps only), with `slots` empty 4-byte slots. */
  timestamp: (slots: number): number[] => [0x44, 4 + 4 * slots, 5, 0, ...new Array<number>(4 * slots).fill(0)],
};

// ---- IPv6 ----------------------------------------------------------------------------------

export interface Ipv6Header {
  src: string;
  dst: string;
  next: number;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** Override for lying headers. */
  payloadLength?: number;
}

export function ipv6(h: Ipv6Header, payload: Part = EMPTY): Uint8Array {
  const body = bytes(payload);
  const w0 = (6 << 28) | ((h.trafficClass ?? 0) << 20) | (h.flowLabel ?? 0);
  return bytes(u32(w0), u16(h.payloadLength ?? body.length), h.next, h.hopLimit ?? 64, ipv6Addr(h.src), ipv6Addr(h.dst), body);
}

/** Pad option TLVs to a multiple of 8 bytes (with the 2 header bytes) using Pad1/PadN. */
function padOptions(options: readonly number[]): number[] {
  const gap = (8 - ((2 + options.length) % 8)) % 8;
  if (gap === 0) return [...options];
  if (gap === 1) return [...options, 0];
  return [...options, 1, gap - 2, ...new Array<number>(gap - 2).fill(0)];
}

/** Hop-by-Hop / Destination Options body: next header, length in 8-byte units minus one, TLVs. */
function optionsHeader(next: number, options: readonly number[], payload: Part, len?: number): Uint8Array {
  const tlvs = padOptions(options);
  return bytes(next, len ?? (2 + tlvs.length) / 8 - 1, tlvs, payload);
}

export function hopByHop(next: number, options: readonly number[], payload: Part = EMPTY, over: { len?: number } = {}): Uint8Array {
  return optionsHeader(next, options, payload, over.len);
}

export function destOptions(next: number, options: readonly number[], payload: Part = EMPTY, over: { len?: number } = {}): Uint8Array {
  return optionsHeader(next, options, payload, over.len);
}

/** IPv6 option TLVs. */
export const ipv6Option = {
  /** Router Alert (RFC 2711), value 0 = MLD. */
  routerAlert: (value = 0): number[] => [0x05, 2, ...u16(value)],
  /** Any TLV; `len` may lie about the data that follows. */
  raw: (type: number, len: number, data: readonly number[] = []): number[] => [type, len, ...data],
};

/** Routing header with the layout of types 0 and 2: 4 reserved bytes, then the addresses. */
export function routing(next: number, r: { type: number; segmentsLeft: number; addresses: string[]; len?: number }, payload: Part = EMPTY): Uint8Array {
  const body = [r.type, r.segmentsLeft, 0, 0, 0, 0, ...r.addresses.flatMap(ipv6Addr)];
  return bytes(next, r.len ?? (2 + body.length) / 8 - 1, body, payload);
}

export function fragment6(next: number, f: { offset: number; more: boolean; id: number }, payload: Part = EMPTY): Uint8Array {
  return bytes(next, 0, u16((f.offset << 3) | (f.more ? 1 : 0)), u32(f.id), payload);
}

/** Authentication Header (RFC 4302): its length is in 4-byte units minus two. */
export function authHeader(next: number, a: { spi: number; seq: number; icv: readonly number[] }, payload: Part = EMPTY): Uint8Array {
  const len = (12 + a.icv.length) / 4 - 2;
  return bytes(next, len, 0, 0, u32(a.spi), u32(a.seq), a.icv, payload);
}

// ---- transport -----------------------------------------------------------------------------

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export interface TcpHeader {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  /** Raw option bytes (see tcpOption); padded with EOL to a multiple of 4 unless `dataOffset` is given. */
  options?: readonly number[];
  /** Data offset in 4-byte words; override for lying headers. */
  dataOffset?: number;
}

export function tcp(h: TcpHeader, payload: Part = EMPTY): Uint8Array {
  const opts = [...(h.options ?? [])];
  if (h.dataOffset === undefined) while (opts.length % 4 !== 0) opts.push(0);
  const off = h.dataOffset ?? (20 + opts.length) >> 2;
  return bytes(u16(h.sport), u16(h.dport), u32(h.seq ?? 1000), u32(h.ack ?? 0), off << 4, h.flags ?? TcpFlag.SYN, u16(h.window ?? 65535), [0, 0, 0, 0], opts, payload);
}

/** TCP options (RFC 9293, 7323, 2018, 7413). */
export const tcpOption = {
  eol: (): number[] => [0],
  nop: (): number[] => [1],
  mss: (mss: number): number[] => [2, 4, ...u16(mss)],
  wscale: (shift: number): number[] => [3, 3, shift],
  sackPermitted: (): number[] => [4, 2],
  sack: (blocks: [number, number][]): number[] => [5, 2 + 8 * blocks.length, ...blocks.flatMap(([l, r]) => [...u32(l), ...u32(r)])],
  timestamps: (tsval: number, tsecr: number): number[] => [8, 10, ...u32(tsval), ...u32(tsecr)],
  fastOpen: (cookie: readonly number[]): number[] => [34, 2 + cookie.length, ...cookie],
  /** Any option; `len` may lie about the data that follows. */
  raw: (kind: number, len: number, data: readonly number[] = []): number[] => [kind, len, ...data],
};

export function udp(h: { sport: number; dport: number; length?: number }, payload: Part = EMPTY): Uint8Array {
  const body = bytes(payload);
  return bytes(u16(h.sport), u16(h.dport), u16(h.length ?? 8 + body.length), [0, 0], body);
}

export interface GreHeader {
  proto: number;
  /** Present flags: C (checksum + reserved), K (key), S (sequence). */
  checksum?: number;
  key?: number;
  seq?: number;
  version?: number;
}

/** GRE (RFC 2784 + RFC 2890 key and sequence). */
export function gre(h: GreHeader, payload: Part = EMPTY): Uint8Array {
  const f0 = (h.checksum !== undefined ? 0x80 : 0) | (h.key !== undefined ? 0x20 : 0) | (h.seq !== undefined ? 0x10 : 0);
  return bytes(
    f0,
    h.version ?? 0,
    u16(h.proto),
    h.checksum !== undefined ? [...u16(h.checksum), 0, 0] : [],
    h.key !== undefined ? u32(h.key) : [],
    h.seq !== undefined ? u32(h.seq) : [],
    payload,
  );
}

/** PPTP enhanced GRE (RFC 2637): version 1, protocol PPP, key = payload length + call id. */
export function pptpGre(h: { callId: number; seq?: number; ack?: number }, payload: Part = EMPTY): Uint8Array {
  const body = bytes(payload);
  const f0 = 0x20 | (h.seq !== undefined ? 0x10 : 0);
  const f1 = (h.ack !== undefined ? 0x80 : 0) | 1;
  return bytes(f0, f1, u16(EtherType.PPP), u16(body.length), u16(h.callId), h.seq !== undefined ? u32(h.seq) : [], h.ack !== undefined ? u32(h.ack) : [], body);
}

// ---- decoding ------------------------------------------------------------------------------

export interface TestFrame {
  data: Uint8Array;
  /** Length on the wire when the capture cut the frame short (pcap orig_len). */
  wirelen?: number;
}

/** Decode one frame the way the capture reader does (reset, then decodeFrame) into a fresh view. */
export function decodeBytes(f: TestFrame, linkType: number = Link.ETHERNET): PacketView {
  const v = new PacketView();
  v.buf = f.data;
  v.frameOff = 0;
  v.frameEnd = f.data.length;
  v.caplen = f.data.length;
  v.wirelen = f.wirelen ?? f.data.length;
  v.linkType = linkType;
  v.reset();
  decodeFrame(v);
  return v;
}

/** The first `n` bytes of a frame, as a capture with that snaplen would store it. */
export function cut(data: Uint8Array, n: number): TestFrame {
  return { data: data.slice(0, n), wirelen: data.length };
}
