/**
 * `collect -w FILE.pcap`: every datagram that arrived, kept as a real capture that `palisade
 * analyze`, tshark and tcpdump read back. A socket hands over the payload only, so the IP and UDP
 * headers are rebuilt here, with true lengths and checksums (tshark's checksum validation passes),
 * under LINKTYPE_RAW (101): IPv4 and IPv6 datagrams in one file, no invented MAC addresses.
 *
 * What a rebuilt header cannot know is left plain: TTL 64, no IP options, DF set, IPv4 ids counting
 * up; and, when the listener is bound to every address, the destination is the wildcard address
 * (node:dgram does not tell which local address a datagram was sent to).
 */
import { parseAddr } from '../../core/net/prefix.js';
import { Link } from '../../decode/view.js';
import { PcapWriter } from '../capture/pcap-writer.js';

/** An endpoint of a rebuilt datagram: IPv4 as a uint32, IPv6 as 16 bytes. */
export interface Endpoint {
  version: 4 | 6;
  v4: number;
  v6: Uint8Array;
  port: number;
}

/**
 * Fill `e` from a numeric address as node:dgram prints it. An IPv4-mapped IPv6 address (what a
 * dual-stack socket reports for IPv4) becomes the IPv4 address; a zone (%eth0) is dropped.
 */
export function setEndpoint(e: Endpoint, address: string, port: number): void {
  e.port = port;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const p = parseAddr(mapped ? (mapped[1] as string) : address.replace(/%.*$/, ''));
  if (p !== null && p.family === 4) {
    const a = p.addr;
    e.version = 4;
    e.v4 = (((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0;
    return;
  }
  e.version = 6;
  e.v4 = 0;
  e.v6.fill(0);
  if (p !== null) e.v6.set(p.addr);
}

export function newEndpoint(address: string, port = 0): Endpoint {
  const e: Endpoint = { version: 4, v4: 0, v6: new Uint8Array(16), port };
  setEndpoint(e, address, port);
  return e;
}

const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const UDP_HEADER = 8;

/** One's-complement sum of b[off, end) as big-endian 16-bit words, added to `sum` (not folded). */
function sum16(b: Uint8Array, off: number, end: number, sum: number): number {
  let i = off;
  for (; i + 1 < end; i += 2) sum += ((b[i] as number) << 8) | (b[i + 1] as number);
  if (i < end) sum += (b[i] as number) << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

export class DatagramPcap {
  private readonly out: PcapWriter;
  private ipId = 0;

  constructor(readonly path: string) {
    this.out = new PcapWriter(path, { linkType: Link.RAW, nano: true });
  }

  get packets(): number {
    return this.out.packets;
  }

  /**
   * Append one datagram `payload` from `src` to `dst`, received at `timeMs` (ms since the epoch,
   * fractions kept to the nanosecond field). Source and destination must be of one IP version.
   */
  write(src: Endpoint, dst: Endpoint, payload: Uint8Array, timeMs: number): void {
    const v6 = src.version === 6;
    const ipLen = v6 ? IPV6_HEADER : IPV4_HEADER;
    const udpLen = UDP_HEADER + payload.length;
    const total = ipLen + udpLen;
    const b = this.out.buf;
    const at = this.out.reserve(total);
    const u = at + ipLen;
    if (v6) {
      b[at] = 0x60;
      b.fill(0, at + 1, at + 4);
      b[at + 4] = udpLen >>> 8;
      b[at + 5] = udpLen & 0xff;
      b[at + 6] = 17;
      b[at + 7] = 64;
      b.set(src.v6, at + 8);
      b.set(dst.v6, at + 24);
    } else {
      b[at] = 0x45;
      b[at + 1] = 0;
      b[at + 2] = total >>> 8;
      b[at + 3] = total & 0xff;
      const id = this.ipId;
      this.ipId = (id + 1) & 0xffff;
      b[at + 4] = id >>> 8;
      b[at + 5] = id & 0xff;
      b[at + 6] = 0x40; // DF: a rebuilt datagram was never fragmented as far as we know
      b[at + 7] = 0;
      b[at + 8] = 64;
      b[at + 9] = 17;
      b[at + 10] = 0;
      b[at + 11] = 0;
      putU32(b, at + 12, src.v4);
      putU32(b, at + 16, dst.v4);
      const ck = ~fold(sum16(b, at, at + IPV4_HEADER, 0)) & 0xffff;
      b[at + 10] = ck >>> 8;
      b[at + 11] = ck & 0xff;
    }
    b[u] = src.port >>> 8;
    b[u + 1] = src.port & 0xff;
    b[u + 2] = dst.port >>> 8;
    b[u + 3] = dst.port & 0xff;
    b[u + 4] = udpLen >>> 8;
    b[u + 5] = udpLen & 0xff;
    b[u + 6] = 0;
    b[u + 7] = 0;
    b.set(payload, u + UDP_HEADER);
    // Pseudo-header (RFC 768 / RFC 8200 §8.1): the addresses, the protocol and the UDP length.
    let sum = v6 ? sum16(b, at + 8, at + 40, 0) : sum16(b, at + 12, at + 20, 0);
    sum += 17 + udpLen;
    sum = sum16(b, u, u + udpLen, sum);
    let ck = ~fold(sum) & 0xffff;
    if (ck === 0) ck = 0xffff; // zero means "no checksum" in IPv4 and is forbidden in IPv6
    b[u + 6] = ck >>> 8;
    b[u + 7] = ck & 0xff;
    const sec = Math.floor(timeMs / 1000);
    // A double of epoch milliseconds holds about a quarter of a microsecond: keep whole microseconds.
    const nsec = Math.min(999_999, Math.round((timeMs - sec * 1000) * 1000)) * 1000;
    this.out.commit(total, total, sec, nsec);
  }

  /** Write what is buffered (the file is complete up to here). */
  flush(): void {
    this.out.flush();
  }

  close(): void {
    this.out.close();
  }
}

function putU32(b: Uint8Array, off: number, x: number): void {
  b[off] = x >>> 24;
  b[off + 1] = (x >>> 16) & 0xff;
  b[off + 2] = (x >>> 8) & 0xff;
  b[off + 3] = x & 0xff;
}
