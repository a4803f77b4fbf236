/**
 * Packet scheme (spec §10.1): the Network Firewall / Magic Transit fields, read from one decoded
 * PacketView. Int, Bool and Ip fields read the view's numbers directly (IPv4 as uint32, ports and
 * flags as ints); Bytes fields point a Slice into the packet buffer; only `get` allocates.
 *
 * Missing (spec §9): IP fields when the packet has no IP layer, tcp.* unless a TCP header was
 * decoded (non-first fragments have none), udp.* likewise, icmp.* for ICMP and ICMPv6 only,
 * ip.id / ip.flags.* / ip.opt.type for IPv4 only, dns.* unless a DNS question was read on port 53.
 *
 * Tunnels: the decoder goes through GRE, IP-in-IP, VXLAN and Teredo, so ip.* / tcp.* / udp.* /
 * icmp.* describe the INNERMOST packet. outer.ip.* describe the OUTERMOST IP header of the frame,
 * the one a kernel firewall or a router tests: for a frame without a tunnel it is the IP header,
 * so outer.ip.* equals ip.* there (always usable, missing only when the frame has no IP header).
 * `tunnel` says whether the two differ.
 */

import { PROTO_NAMES } from '../core/net/protocols.js';
import { App, type PacketView, Tunnel } from '../decode/view.js';
import { countryCodeBytes, type GeoEntry, geoCache } from './geo-cache.js';
import { type ExportTarget, type Field, type FieldCaps, makeScheme, type Scheme } from './types.js';
import { BOOL, BYTES, INT, IP, IpValue, latin1, Slice, type Value } from './values.js';

/** Name bytes per protocol number, built once so `ip.proto` never allocates (the flow scheme reads it too). */
export const PROTO_BYTES: Uint8Array[] = Array.from({ length: 256 }, (_, i) => latin1(PROTO_NAMES[i] ?? String(i)));

/** Sensor identity for cf.colo.name / cf.colo.region (missing until configured). */
const sensor: { name: Uint8Array | null; region: Uint8Array | null } = { name: null, region: null };
export function configureSensor(name: string | null, region: string | null): void {
  sensor.name = name === null ? null : latin1(name);
  sensor.region = region === null ? null : latin1(region);
}

type F = Field<PacketView>;

/** The IP header was captured whole (a header cut short gives no IP fields, as in tshark). */
const hasIp = (v: PacketView) => v.ipVersion !== 0 && v.ipHdrLen > 0;
const isTcp = (v: PacketView) => v.l4Proto === 6 && v.l4Off >= 0;
const isUdp = (v: PacketView) => v.l4Proto === 17 && v.l4Off >= 0;
const isIcmp = (v: PacketView) => (v.l4Proto === 1 || v.l4Proto === 58) && v.l4Off >= 0;

function intField(name: string, doc: string, int: (v: PacketView) => number, caps?: FieldCaps): F {
  return {
    name,
    type: INT,
    doc,
    ...(caps && { caps }),
    int,
    get: (v) => {
      const x = int(v);
      return Number.isNaN(x) ? undefined : x;
    },
  };
}
function boolField(name: string, doc: string, get: (v: PacketView) => boolean, caps?: FieldCaps): F {
  return { name, type: BOOL, doc, ...(caps && { caps }), get };
}
function bytesField(name: string, doc: string, bytes: (v: PacketView, out: Slice) => boolean, caps?: FieldCaps): F {
  const s = new Slice();
  return {
    name,
    type: BYTES,
    doc,
    ...(caps && { caps }),
    bytes,
    get: (v) => (bytes(v, s) ? s.buf.slice(s.off, s.off + s.len) : undefined),
  };
}
function addrField(name: string, doc: string, dst: boolean, caps?: FieldCaps): F {
  return {
    name,
    type: IP,
    doc,
    ...(caps && { caps }),
    ipFam: (v) => (v.ipHdrLen > 0 ? v.ipVersion : 0),
    ip4: dst ? (v) => v.dst4 >>> 0 : (v) => v.src4 >>> 0,
    ip6: dst ? (v, out) => out.set(v.buf, v.dst6Off, 16) : (v, out) => out.set(v.buf, v.src6Off, 16),
    get(v): Value | undefined {
      if (!hasIp(v)) return undefined;
      if (v.ipVersion === 4) return IpValue.of4(dst ? v.dst4 : v.src4);
      if (v.ipVersion === 6) {
        const o = dst ? v.dst6Off : v.src6Off;
        return IpValue.of6(v.buf.slice(o, o + 16));
      }
      return undefined;
    },
  };
}

// ---- the outermost IP header ---------------------------------------------------------------
// A tunnelled frame (tunnelDepth > 0) keeps the outermost version and addresses in the view's
// outer* fields; its TTL, length and protocol are read from the header at outerIpOff only when a
// rule asks, so decoding does no extra work. The decoder descended, so that header (and its IPv6
// extension headers) was captured whole. Without a tunnel the IP header is the outermost one.

const hasOuterIp = (v: PacketView) => v.tunnelDepth > 0 || hasIp(v);
const outerVersion = (v: PacketView) => (v.tunnelDepth > 0 ? v.outerIpVersion : v.ipHdrLen > 0 ? v.ipVersion : 0);

function outerTtl(v: PacketView): number {
  if (v.tunnelDepth === 0) return hasIp(v) ? v.ttl : Number.NaN;
  return v.buf[v.outerIpOff + (v.outerIpVersion === 4 ? 8 : 7)] as number;
}

/** As the IPv4/IPv6 decoders compute ip.len (a length of 0 — TSO, jumbogram — trusts the capture). */
function outerLen(v: PacketView): number {
  if (v.tunnelDepth === 0) return hasIp(v) ? v.ipLen : Number.NaN;
  const b = v.buf;
  const o = v.outerIpOff;
  const n = v.outerIpVersion === 4 ? 2 : 4;
  const len = ((b[o + n] as number) << 8) | (b[o + n + 1] as number);
  if (len !== 0) return v.outerIpVersion === 4 ? len : len + 40;
  return Math.max(v.frameEnd - o, v.wirelen - (o - v.frameOff));
}

/** Protocol number of the outermost header: IPv4's protocol, IPv6's final next header (as ip.proto.num). */
function outerProto(v: PacketView): number {
  if (v.tunnelDepth === 0) return hasIp(v) ? v.ipProto : Number.NaN;
  const b = v.buf;
  const o = v.outerIpOff;
  if (v.outerIpVersion === 4) return b[o + 9] as number;
  // The extension-header chain the IPv6 decoder walked before it reached the tunnel.
  let next = b[o + 6] as number;
  let p = o + 40;
  for (let i = 0; i < 16 && p + 8 <= v.frameEnd; i++) {
    if (next !== 0 && next !== 43 && next !== 60 && next !== 135 && next !== 51 && next !== 44) break;
    const hl = next === 44 ? 8 : next === 51 ? ((b[p + 1] as number) + 2) << 2 : ((b[p + 1] as number) + 1) << 3;
    next = b[p] as number;
    p += hl;
  }
  return next;
}

function outerAddrField(name: string, doc: string, dst: boolean, caps: FieldCaps): F {
  return {
    name,
    type: IP,
    doc,
    caps,
    ipFam: outerVersion,
    ip4: dst ? (v) => (v.tunnelDepth > 0 ? v.outerDst4 : v.dst4) >>> 0 : (v) => (v.tunnelDepth > 0 ? v.outerSrc4 : v.src4) >>> 0,
    ip6: dst ? (v, out) => out.set(v.buf, v.tunnelDepth > 0 ? v.outerDst6Off : v.dst6Off, 16) : (v, out) => out.set(v.buf, v.tunnelDepth > 0 ? v.outerSrc6Off : v.src6Off, 16),
    get(v): Value | undefined {
      const fam = outerVersion(v);
      const t = v.tunnelDepth > 0;
      if (fam === 4) return IpValue.of4(dst ? (t ? v.outerDst4 : v.dst4) : t ? v.outerSrc4 : v.src4);
      if (fam === 6) {
        const o = dst ? (t ? v.outerDst6Off : v.dst6Off) : t ? v.outerSrc6Off : v.src6Off;
        return IpValue.of6(v.buf.slice(o, o + 16));
      }
      return undefined;
    },
  };
}

/** The packet's source or destination address in the shared GeoIP cache (geo-cache.ts). */
function geoOf(v: PacketView, dst: boolean): GeoEntry | null {
  if (!hasIp(v)) return null;
  if (v.ipVersion === 4) return geoCache.lookup4(dst ? v.dst4 : v.src4);
  return geoCache.lookup6(v.buf, dst ? v.dst6Off : v.src6Off);
}
function countryField(name: string, dst: boolean): F {
  return bytesField(name, `ISO 3166-1 alpha-2 country of the ${dst ? 'destination' : 'source'} address (offline GeoIP)`, (v, out) => {
    const c = geoOf(v, dst)?.country;
    if (c === undefined) return false;
    const b = countryCodeBytes(c);
    return out.set(b, 0, b.length);
  });
}
function asnField(name: string, dst: boolean): F {
  return intField(name, `AS number of the ${dst ? 'destination' : 'source'} address (offline ASN table)`, (v) => geoOf(v, dst)?.asn ?? Number.NaN);
}

const SIP_START = /^(INVITE|REGISTER|ACK|BYE|CANCEL|OPTIONS|PRACK|SUBSCRIBE|NOTIFY|PUBLISH|INFO|REFER|MESSAGE|UPDATE) [^ \r\n]+ SIP\/2\.0\r?\n|^SIP\/2\.0 [1-6]\d\d /;
/** A SIP message starts with a request line or a status line (RFC 3261 §7.1/§7.2). */
function isSip(v: PacketView): boolean {
  if (!isUdp(v) || v.payloadLen < 12) return false;
  const n = Math.min(v.payloadLen, 256);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(v.buf[v.payloadOff + i] as number);
  return SIP_START.test(s);
}

function rawFrom(off: (v: PacketView) => number, ok: (v: PacketView) => boolean) {
  return (v: PacketView, out: Slice): boolean => {
    if (!ok(v)) return false;
    const o = off(v);
    return o >= 0 && o <= v.frameEnd ? out.set(v.buf, o, v.frameEnd - o) : false;
  };
}

function isDns53(v: PacketView): boolean {
  return v.app === App.DNS && v.dnsNameLen >= 0 && (v.srcPort === 53 || v.dstPort === 53);
}

// Capabilities (scheme/types.ts FieldCaps): which exporters express a field is measured by
// test/scheme/capabilities.test.ts, so these lists cannot drift from what the exporters do.
const EVERY_TARGET: ExportTarget[] = ['nftables', 'iptables', 'flowspec', 'cloudflare'];
const NFT_IPT_FS: ExportTarget[] = ['nftables', 'iptables', 'flowspec'];
const NFT_ONLY: ExportTarget[] = ['nftables'];
const port = (rank: number, targets = EVERY_TARGET): FieldCaps => ({ ir: 'int', max: 65535, targets, signature: { rank, min: 0, max: 65535 } });
const flagCaps: FieldCaps = { ir: 'bool', targets: EVERY_TARGET };
const v4FlagCaps: FieldCaps = { ir: 'bool', targets: NFT_ONLY };
/** Usable by the mitigation engine; no firewall decodes tunnels, so no exporter can express them. */
const tunnelCaps: FieldCaps = { ir: 'bool', targets: [] };

const FLAG = (bit: number) => (v: PacketView) => isTcp(v) && (v.tcpFlags & bit) !== 0;

export const PACKET_FIELDS: F[] = [
  addrField('ip.src', 'source address (of the innermost packet when tunnelled; see outer.ip.src)', false, { ir: 'ip', targets: EVERY_TARGET }),
  addrField('ip.dst', 'destination address (of the innermost packet when tunnelled; see outer.ip.dst)', true, { ir: 'ip', targets: EVERY_TARGET }),
  bytesField(
    'ip.proto',
    'transport protocol name, lowercase: tcp, udp, icmp, icmpv6, gre, esp, ...',
    (v, out) => {
      if (!hasIp(v)) return false;
      const b = PROTO_BYTES[v.ipProto & 255] as Uint8Array;
      return out.set(b, 0, b.length);
    },
    { ir: 'bytes', targets: EVERY_TARGET },
  ),
  intField('ip.len', 'total packet length including the IP header (IPv6: payload length + 40)', (v) => (hasIp(v) ? v.ipLen : Number.NaN), {
    ir: 'int',
    max: 65535,
    targets: EVERY_TARGET,
    signature: { rank: 9, min: 20, max: 65535 },
  }),
  intField('ip.hdr_len', 'IP header length in bytes (20 without options; IPv6: 40 + extension headers)', (v) => (hasIp(v) ? v.ipHdrLen : Number.NaN), {
    ir: 'int',
    max: 65535,
    targets: ['nftables', 'cloudflare'],
  }),
  intField('ip.ttl', 'TTL / IPv6 hop limit', (v) => (hasIp(v) ? v.ttl : Number.NaN), {
    ir: 'int',
    max: 255,
    targets: ['nftables', 'iptables', 'cloudflare'],
    signature: { rank: 8, min: 0, max: 255 },
  }),
  intField('ip.opt.type', 'first byte of IPv4 options; missing when none', (v) => (v.ipVersion === 4 && v.ipHdrLen > 0 && v.ipOptType >= 0 ? v.ipOptType : Number.NaN), {
    ir: 'int',
    max: 255,
    targets: ['cloudflare'],
  }),
  countryField('ip.src.country', false),
  countryField('ip.dst.country', true),
  asnField('ip.src.asnum', false),
  asnField('ip.dst.asnum', true),
  bytesField('cf.colo.name', 'name of the sensor that saw the packet (configureSensor)', (_v, out) => sensor.name !== null && out.set(sensor.name, 0, sensor.name.length)),
  bytesField(
    'cf.colo.region',
    'region of the sensor that saw the packet (configureSensor)',
    (_v, out) => sensor.region !== null && out.set(sensor.region, 0, sensor.region.length),
  ),
  intField('tcp.srcport', 'TCP source port', (v) => (isTcp(v) ? v.srcPort : Number.NaN), port(3)),
  intField('tcp.dstport', 'TCP destination port', (v) => (isTcp(v) ? v.dstPort : Number.NaN), port(0)),
  intField('tcp.flags', 'TCP flags byte (FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80)', (v) => (isTcp(v) ? v.tcpFlags : Number.NaN), {
    ir: 'int',
    max: 255,
    targets: ['nftables', 'iptables', 'cloudflare'],
    signature: { rank: 6, min: 0, max: 255, hex: true, setOnly: true },
  }),
  boolField('tcp.flags.fin', 'TCP FIN', FLAG(0x01), flagCaps),
  boolField('tcp.flags.syn', 'TCP SYN', FLAG(0x02), flagCaps),
  boolField('tcp.flags.reset', 'TCP RST', FLAG(0x04), flagCaps),
  boolField('tcp.flags.push', 'TCP PSH', FLAG(0x08), flagCaps),
  boolField('tcp.flags.ack', 'TCP ACK', FLAG(0x10), flagCaps),
  boolField('tcp.flags.urg', 'TCP URG', FLAG(0x20), flagCaps),
  boolField('tcp.flags.ecn', 'TCP ECE', FLAG(0x40), flagCaps),
  boolField('tcp.flags.cwr', 'TCP CWR', FLAG(0x80), flagCaps),
  intField('udp.srcport', 'UDP source port', (v) => (isUdp(v) ? v.srcPort : Number.NaN), port(2)),
  intField('udp.dstport', 'UDP destination port', (v) => (isUdp(v) ? v.dstPort : Number.NaN), port(1)),
  intField('icmp.type', 'ICMP / ICMPv6 type', (v) => (isIcmp(v) ? v.icmpType : Number.NaN), {
    ir: 'int',
    max: 255,
    targets: EVERY_TARGET,
    signature: { rank: 11, min: 0, max: 255, setOnly: true },
  }),
  intField('icmp.code', 'ICMP / ICMPv6 code', (v) => (isIcmp(v) ? v.icmpCode : Number.NaN), { ir: 'int', max: 255, targets: EVERY_TARGET }),
  boolField('sip', 'the UDP payload is a SIP request or status line', isSip),
  bytesField(
    'ip',
    'raw bytes from the IP header to the end of the captured frame',
    rawFrom((v) => v.ipOff, hasIp),
  ),
  bytesField(
    'tcp',
    'raw bytes from the TCP header to the end of the captured frame',
    rawFrom((v) => v.l4Off, isTcp),
  ),
  bytesField(
    'udp',
    'raw bytes from the UDP header to the end of the captured frame',
    rawFrom((v) => v.l4Off, isUdp),
  ),
  bytesField(
    'icmp',
    'raw bytes from the ICMP header to the end of the captured frame',
    rawFrom((v) => v.l4Off, isIcmp),
  ),
  intField('ip.version', 'IP version, 4 or 6 [PX]', (v) => (hasIp(v) ? v.ipVersion : Number.NaN), { ir: 'int', max: 15, targets: NFT_IPT_FS }),
  intField('ip.proto.num', 'IP protocol number / final IPv6 next header [PX]', (v) => (hasIp(v) ? v.ipProto : Number.NaN), {
    ir: 'int',
    max: 255,
    targets: NFT_IPT_FS,
    signature: { rank: 10, min: 0, max: 255, setOnly: true },
  }),
  intField('ip.id', 'IPv4 identification [PX]', (v) => (v.ipVersion === 4 && v.ipHdrLen > 0 ? v.ipId : Number.NaN), { ir: 'int', max: 65535, targets: NFT_ONLY }),
  intField('ip.dscp', 'DSCP (6 bits) [PX]', (v) => (hasIp(v) ? v.ipDscp : Number.NaN), { ir: 'int', max: 63, targets: NFT_IPT_FS }),
  intField('ip.frag_offset', 'fragment offset in 8-byte units [PX]', (v) => (hasIp(v) ? v.fragOffset : Number.NaN), { ir: 'int', max: 8191, targets: [] }),
  boolField('ip.flags.df', "IPv4 don't-fragment flag [PX]", (v) => v.ipVersion === 4 && v.ipHdrLen > 0 && (v.ipFlags & 2) !== 0, v4FlagCaps),
  boolField('ip.flags.mf', 'IPv4 more-fragments flag [PX]', (v) => v.ipVersion === 4 && v.ipHdrLen > 0 && (v.ipFlags & 1) !== 0, v4FlagCaps),
  boolField('ip.flags.rb', 'IPv4 reserved flag [PX]', (v) => v.ipVersion === 4 && v.ipHdrLen > 0 && (v.ipFlags & 4) !== 0, v4FlagCaps),
  intField('tcp.window', 'TCP window (unscaled) [PX]', (v) => (isTcp(v) ? v.tcpWindow : Number.NaN), {
    ir: 'int',
    max: 65535,
    targets: NFT_ONLY,
    signature: { rank: 4, min: 0, max: 65535 },
  }),
  intField('tcp.seq', 'TCP sequence number (absolute) [PX]', (v) => (isTcp(v) ? v.tcpSeq >>> 0 : Number.NaN)),
  intField('tcp.ack', 'TCP acknowledgement number (absolute) [PX]', (v) => (isTcp(v) ? v.tcpAck >>> 0 : Number.NaN)),
  intField('tcp.hdr_len', 'TCP header length in bytes [PX]', (v) => (isTcp(v) ? v.tcpHdrLen : Number.NaN), {
    ir: 'int',
    max: 60,
    targets: NFT_ONLY,
    signature: { rank: 5, min: 20, max: 60 },
  }),
  intField('udp.len', 'UDP length field [PX]', (v) => (isUdp(v) ? v.udpLen : Number.NaN), { ir: 'int', max: 65535, targets: NFT_ONLY, signature: { rank: 7, min: 8, max: 65535 } }),
  bytesField('payload', 'transport payload (captured bytes) [PX]', (v, out) => (v.payloadOff >= 0 ? out.set(v.buf, v.payloadOff, v.payloadLen) : false)),
  intField('payload.len', 'transport payload length according to the headers [PX]', (v) => (v.payloadOff >= 0 ? v.payloadWireLen : Number.NaN), {
    ir: 'int',
    max: 65535,
    targets: [],
  }),
  bytesField('dns.qname', 'first DNS question name on port 53, without trailing dot, as received [PX]', (v, out) => (isDns53(v) ? out.set(v.dnsName, 0, v.dnsNameLen) : false)),
  intField('dns.qtype', 'first DNS question type on port 53 [PX]', (v) => (isDns53(v) ? v.dnsQtype : Number.NaN)),
  // The outermost IP header (see the top of this file): what firewalls and routers test. A rule on
  // these fields is exported exactly; exporters refuse a rule mixing them with inner fields.
  outerAddrField('outer.ip.src', 'source address of the outermost IP header (equals ip.src without a tunnel) [PX]', false, { ir: 'ip', targets: NFT_IPT_FS }),
  outerAddrField('outer.ip.dst', 'destination address of the outermost IP header (equals ip.dst without a tunnel) [PX]', true, { ir: 'ip', targets: NFT_IPT_FS }),
  bytesField(
    'outer.ip.proto',
    'protocol name of the outermost IP header, as ip.proto: gre, ipip, ipv6 (6in4), udp (VXLAN, Teredo), ... [PX]',
    (v, out) => {
      if (!hasOuterIp(v)) return false;
      const b = PROTO_BYTES[outerProto(v) & 255] as Uint8Array;
      return out.set(b, 0, b.length);
    },
    { ir: 'bytes', targets: NFT_IPT_FS },
  ),
  intField('outer.ip.proto.num', 'protocol number / final IPv6 next header of the outermost IP header [PX]', outerProto, { ir: 'int', max: 255, targets: NFT_IPT_FS }),
  intField('outer.ip.version', 'IP version of the outermost IP header, 4 or 6 [PX]', (v) => outerVersion(v) || Number.NaN, { ir: 'int', max: 15, targets: NFT_IPT_FS }),
  intField('outer.ip.ttl', 'TTL / IPv6 hop limit of the outermost IP header [PX]', outerTtl, { ir: 'int', max: 255, targets: ['nftables', 'iptables'] }),
  intField('outer.ip.len', 'total length of the outermost IP header and what it carries (IPv6: payload length + 40) [PX]', outerLen, {
    ir: 'int',
    max: 65535,
    targets: NFT_IPT_FS,
  }),
  boolField('tunnel', 'the frame was decoded through a tunnel, so ip.* (inner) and outer.ip.* (outermost) are different headers [PX]', (v) => v.tunnelDepth > 0, tunnelCaps),
  boolField('tunnel.gre', 'the frame carries a GRE header (version 0 or PPTP), whatever GRE carries [PX]', (v) => (v.tunnel & Tunnel.GRE) !== 0, tunnelCaps),
  boolField('tunnel.ipip', 'the frame carries IP directly in IP (4in4, 6in4, 4in6, 6in6) [PX]', (v) => (v.tunnel & Tunnel.IPIP) !== 0, tunnelCaps),
  boolField('tunnel.vxlan', 'the frame carries VXLAN (UDP 4789) [PX]', (v) => (v.tunnel & Tunnel.VXLAN) !== 0, tunnelCaps),
  boolField('tunnel.teredo', 'the frame carries Teredo (IPv6 in UDP 3544) [PX]', (v) => (v.tunnel & Tunnel.TEREDO) !== 0, tunnelCaps),
];

export const packetScheme: Scheme<PacketView> = makeScheme('packet', PACKET_FIELDS);
