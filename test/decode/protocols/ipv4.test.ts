/**
 * IPv4 (RFC 791; src/decode/ipv4.ts): header fields, options (the view keeps the header length and
 * the first option's type), fragments (non-first fragments have no transport header), Ethernet
 * padding, and the status a lying or cut header gets.
 */
import { Status } from '../../../src/decode/view.js';
import { bytes, cut, EtherType, ethernet, IpProto, ipv4, ipv4Option, udp } from '../../helpers/frames.js';
import { type Agreement, decodeCases, EXPERT, LAYERS, SHORT, tsharkHex, tsharkIpv4 } from '../../helpers/tshark.js';

const SRC = '192.0.2.1';
const DST = '198.51.100.2';
const datagram = udp({ sport: 40000, dport: 49153 }, [1, 2, 3, 4]);
const eth = (ip: Uint8Array) => ethernet(EtherType.IPV4, ip);
/** 28 bytes of payload standing for the middle of a fragmented datagram. */
const middle = new Array<number>(28).fill(0x5a);

/** The view leaves a field at its reset value when the header was not read that far. */
const orEmpty = (ok: boolean, s: string) => (ok ? s : '');

const AGREE: Agreement = {
  'ip.src': (v) => orEmpty(v.ipVersion === 4, tsharkIpv4(v.src4)),
  'ip.hdr_len': (v) => orEmpty(v.ipVersion === 4, String(v.ipHdrLen)),
  'ip.len': (v) => orEmpty(v.ipVersion === 4, String(v.ipLen)),
  'ip.ttl': (v) => orEmpty(v.ipVersion === 4, String(v.ttl)),
  'ip.id': (v) => orEmpty(v.ipVersion === 4, tsharkHex(v.ipId, 4)),
  'ip.flags': (v) => orEmpty(v.ipVersion === 4, tsharkHex(v.ipFlags, 2)),
  'ip.frag_offset': (v) => orEmpty(v.ipVersion === 4, String(v.fragOffset)),
  'ip.dsfield.dscp': (v) => orEmpty(v.ipVersion === 4, String(v.ipDscp)),
  'ip.dsfield.ecn': (v) => orEmpty(v.ipVersion === 4, String(v.ipEcn)),
  // The view keeps the first option's type only.
  'ip.opt.type': { view: (v) => (v.ipOptType < 0 ? '' : String(v.ipOptType)), tshark: (s) => s.split(',')[0] as string },
};

decodeCases(
  'decode: IPv4',
  [
    {
      name: 'plain header: DSCP EF, DF, TTL 57, id 0xbeef, carrying UDP',
      frame: { data: eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, tos: 0xb8 | 1, flags: 2, ttl: 57, id: 0xbeef }, datagram)) },
      view: {
        status: Status.OK,
        ipVersion: 4,
        ipHdrLen: 20,
        ipLen: 32,
        ttl: 57,
        ipId: 0xbeef,
        ipDscp: 46,
        ipEcn: 1,
        ipFlags: 2,
        fragOffset: 0,
        isFragment: false,
        ipOptType: -1,
        src4: 0xc0000201,
        dst4: 0xc6336402,
        ipProto: 17,
        l4Proto: 17,
        dstPort: 49153,
      },
      tshark: {
        [LAYERS]: 'eth:ethertype:ip:udp:data',
        'ip.src': '192.0.2.1',
        'ip.hdr_len': '20',
        'ip.len': '32',
        'ip.ttl': '57',
        'ip.id': '0xbeef',
        'ip.flags': '0x02',
        'ip.dsfield.dscp': '46',
        'ip.dsfield.ecn': '1',
        'ip.opt.type': '',
      },
    },
    {
      name: 'Router Alert option: 24-byte header, transport still reached',
      frame: { data: eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, options: ipv4Option.routerAlert() }, datagram)) },
      view: { status: Status.OK, ipHdrLen: 24, ipLen: 36, ipOptType: 0x94, l4Proto: 17, dstPort: 49153, payloadLen: 4 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp:data', 'ip.hdr_len': '24', 'ip.len': '36', 'ip.opt.type': '148', 'udp.dstport': '49153' },
    },
    {
      name: 'NOP, Record Route (3 slots), EOL: the first option type is the NOP',
      frame: {
        data: eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, options: [...ipv4Option.nop(), ...ipv4Option.recordRoute(3), ...ipv4Option.eol(), 0, 0, 0] }, datagram)),
      },
      view: { status: Status.OK, ipHdrLen: 40, ipOptType: 1, l4Proto: 17, dstPort: 49153 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp:data', 'ip.hdr_len': '40', 'ip.opt.type': '1,7,0', 'ip.opt.len': '15' },
    },
    {
      name: 'Timestamp option (2 slots)',
      frame: { data: eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, options: ipv4Option.timestamp(2) }, datagram)) },
      view: { status: Status.OK, ipHdrLen: 32, ipOptType: 0x44, l4Proto: 17 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp:data', 'ip.hdr_len': '32', 'ip.opt.type': '68' },
    },
    {
      name: 'first fragment (MF, offset 0): a fragment that still has its UDP header',
      frame: { data: eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, flags: 1, id: 0x0101 }, udp({ sport: 40000, dport: 49153, length: 1480 }, middle))) },
      view: { status: Status.OK, ipFlags: 1, fragOffset: 0, isFragment: true, l4Proto: 17, l4Off: 34, srcPort: 40000, udpLen: 1480, payloadLen: 28 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp:data', 'ip.flags': '0x01', 'ip.frag_offset': '0', 'udp.srcport': '40000' },
    },
    {
      name: 'last fragment (offset 185 = 1480 bytes): no transport header, the payload is raw',
      frame: { data: eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, fragOffset: 185, id: 0x0101 }, middle)) },
      view: {
        status: Status.OK,
        ipFlags: 0,
        fragOffset: 185,
        isFragment: true,
        ipProto: 17,
        l4Proto: 0,
        l4Off: -1,
        srcPort: 0,
        payloadOff: 34,
        payloadLen: 28,
        payloadWireLen: 28,
      },
      tshark: { [LAYERS]: 'eth:ethertype:ip:data', 'ip.flags': '0x00', 'ip.frag_offset': '185', 'udp.srcport': '' },
    },
    {
      name: 'Ethernet padding after a short datagram is not payload',
      frame: { data: bytes(eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP }, udp({ sport: 40000, dport: 49153 }))), new Array<number>(18).fill(0)) },
      view: { status: Status.OK, ipLen: 28, l4Proto: 17, payloadLen: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp', 'ip.len': '28', 'eth.padding': '000000000000000000000000000000000000' },
    },
    {
      name: 'total length 0 (a TSO capture on the sender): the captured length is used, as tshark does',
      frame: { data: eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, totalLength: 0 }, datagram)) },
      view: { status: Status.OK, ipLen: 32, l4Proto: 17, dstPort: 49153, payloadLen: 4 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp:data', 'ip.len': '32', 'udp.dstport': '49153' },
    },
    // ---- bad input ----
    {
      name: 'bad: IHL 4 (16 bytes) is MALFORMED, addresses kept, no transport',
      frame: { data: eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, ihl: 4 }, datagram)) },
      view: { status: Status.MALFORMED, ipVersion: 4, ipHdrLen: 16, src4: 0xc0000201, l4Proto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip', 'ip.hdr_len': '16', [EXPERT]: 'Bogus IP header length (16, must be at least 20)' },
    },
    {
      name: 'bad: version 5 behind ethertype IPv4 is MALFORMED, nothing read',
      frame: { data: eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, version: 5 }, datagram)) },
      view: { status: Status.MALFORMED, ipVersion: 0, src4: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip', 'ip.version': '5', [EXPERT]: 'Bogus IPv4 version' },
    },
    {
      name: 'bad: total length 12, shorter than the header: MALFORMED',
      frame: { data: eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, totalLength: 12 }, datagram)) },
      view: { status: Status.MALFORMED, ipVersion: 4, ipLen: 12, l4Proto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip', 'ip.len': '12', [EXPERT]: 'Bogus IP length' },
    },
    {
      name: 'bad: IHL 15 (60 bytes) on a complete 32-byte datagram: the header lies, MALFORMED',
      frame: { data: eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, ihl: 15, totalLength: 60 }, datagram)) },
      view: { status: Status.MALFORMED, ipVersion: 4, ipHdrLen: 60, ipOptType: -1, l4Proto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip', 'ip.hdr_len': '60', [EXPERT]: 'IPv4 total length exceeds packet length (32 bytes),Malformed Packet (Exception occurred)' },
    },
    {
      // Not flagged today (tshark warns): the decoder reads what was captured and keeps the claimed length.
      name: 'bad: total length 200 on a complete 32-byte datagram: decoded from what is there, no status',
      frame: { data: eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, totalLength: 200 }, datagram)) },
      view: { status: Status.OK, ipLen: 200, l4Proto: 17, dstPort: 49153, payloadLen: 4 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp:data', 'ip.len': '200', [EXPERT]: 'IPv4 total length exceeds packet length (32 bytes)' },
    },
    {
      name: 'bad: cut after 12 header bytes is TRUNCATED; length, TTL and protocol still read',
      frame: cut(eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, ttl: 9 }, datagram)), 14 + 12),
      view: { status: Status.TRUNCATED, ipVersion: 4, ipHdrLen: 0, ipLen: 32, ttl: 9, ipProto: 17, src4: 0, l4Proto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip', 'ip.ttl': '9', [SHORT]: '[Packet size limited during capture: IPv4 truncated]' },
    },
    {
      name: 'bad: cut inside the options is TRUNCATED, options not read',
      frame: cut(eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP, options: ipv4Option.timestamp(2) }, datagram)), 14 + 24),
      view: { status: Status.TRUNCATED, ipVersion: 4, ipHdrLen: 32, ipOptType: -1, l4Proto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip', 'ip.hdr_len': '32', 'ip.opt.type': '', [SHORT]: '[Packet size limited during capture: IPv4 truncated]' },
    },
    {
      name: 'bad: cut inside the UDP header is TRUNCATED at the transport layer',
      frame: cut(eth(ipv4({ src: SRC, dst: DST, proto: IpProto.UDP }, datagram)), 14 + 20 + 5),
      view: { status: Status.TRUNCATED, ipVersion: 4, ipHdrLen: 20, l4Proto: 17, l4Off: -1, srcPort: 40000, dstPort: 49153 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp', 'udp.srcport': '40000', [SHORT]: '[Packet size limited during capture: UDP truncated]' },
    },
  ],
  AGREE,
);
