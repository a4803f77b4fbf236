/**
 * IPv6 and its extension-header chain (RFC 8200, RFC 4302; src/decode/ipv6.ts): the view keeps
 * one bit per extension header seen, the final protocol, the header length including the chain,
 * and the fragment header's fields; bad chains end in TRUNCATED or MALFORMED.
 */
import { Ip6Ext, Status } from '../../../src/decode/view.js';
import {
  authHeader,
  cut,
  destOptions,
  EtherType,
  ethernet,
  fragment6,
  hopByHop,
  IpProto,
  type Ipv6Header,
  ipv6,
  ipv6Option,
  type Part,
  routing,
  TcpFlag,
  tcp,
  udp,
} from '../../helpers/frames.js';
import { type Agreement, decodeCases, EXPERT, LAYERS, SHORT, tsharkHex, tsharkIpv6 } from '../../helpers/tshark.js';

const SRC = '2001:db8::1';
const DST = '2001:db8:0:1::2';
const datagram = udp({ sport: 40000, dport: 49153 }, [1, 2, 3, 4]);
const eth = (ip: Uint8Array) => ethernet(EtherType.IPV6, ip);
const v6 = (next: number, payload: Part, h: Partial<Ipv6Header> = {}) => eth(ipv6({ src: SRC, dst: DST, next, ...h }, payload));
/** 24 bytes standing for the middle of a fragmented datagram. */
const middle = new Array<number>(24).fill(0x5a);

/** Is an extension header present? tshark: its field is there; the view: its bit is set. */
const present = (bit: number) => ({ view: (v: { ip6Ext: number }) => ((v.ip6Ext & bit) !== 0 ? 'yes' : 'no'), tshark: (s: string) => (s === '' ? 'no' : 'yes') });

const AGREE: Agreement = {
  'ipv6.src': (v) => tsharkIpv6(v.buf, v.src6Off),
  'ipv6.hlim': (v) => String(v.ttl),
  'ipv6.flow': (v) => tsharkHex(v.ip6FlowLabel, 6),
  'ipv6.tclass.dscp': (v) => String(v.ipDscp),
  'ipv6.plen': (v) => String(v.ipLen - 40),
  'ipv6.hopopts.nxt': present(Ip6Ext.HOP_BY_HOP),
  'ipv6.routing.type': present(Ip6Ext.ROUTING),
  'ipv6.dstopts.nxt': present(Ip6Ext.DEST_OPTS),
  'ah.spi': present(Ip6Ext.AH),
  'ipv6.fraghdr.ident': { view: (v) => ((v.ip6Ext & Ip6Ext.FRAGMENT) !== 0 ? tsharkHex(v.ipId, 8) : ''), tshark: (s) => s },
  'ipv6.fraghdr.offset': { view: (v) => ((v.ip6Ext & Ip6Ext.FRAGMENT) !== 0 ? String(v.fragOffset) : ''), tshark: (s) => s },
  'ipv6.fraghdr.more': { view: (v) => ((v.ip6Ext & Ip6Ext.FRAGMENT) !== 0 ? String(v.ipFlags) : ''), tshark: (s) => s },
};

decodeCases(
  'decode: IPv6 and extension headers',
  [
    {
      name: 'plain header: traffic class EF, flow label 0x12345, hop limit 33, carrying UDP',
      frame: { data: v6(IpProto.UDP, datagram, { trafficClass: 0xb8, flowLabel: 0x12345, hopLimit: 33 }) },
      view: {
        status: Status.OK,
        ipVersion: 6,
        ipHdrLen: 40,
        ipLen: 52,
        ttl: 33,
        ipDscp: 46,
        ipEcn: 0,
        ip6FlowLabel: 0x12345,
        ip6Ext: 0,
        ipProto: 17,
        l4Proto: 17,
        l4Off: 54,
        dstPort: 49153,
      },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:udp:data', 'ipv6.src': '2001:db8::1', 'ipv6.plen': '12', 'ipv6.hlim': '33', 'ipv6.flow': '0x012345', 'ipv6.tclass.dscp': '46' },
    },
    {
      name: 'Hop-by-Hop (Router Alert) then ICMPv6',
      frame: { data: v6(IpProto.HOP_BY_HOP, hopByHop(IpProto.ICMPV6, ipv6Option.routerAlert(0), [143, 0, 0, 0, 0, 0, 0, 0])) },
      view: { status: Status.OK, ip6Ext: Ip6Ext.HOP_BY_HOP, ipHdrLen: 48, ipProto: 58, l4Proto: 58, icmpType: 143 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:ipv6.hopopts:icmpv6', 'ipv6.hopopts.nxt': '58', 'ipv6.opt.type': '0x05,0x01', 'icmpv6.type': '143' },
    },
    {
      name: 'Routing header type 2 (one address) then UDP',
      frame: { data: v6(IpProto.ROUTING, routing(IpProto.UDP, { type: 2, segmentsLeft: 1, addresses: ['2001:db8::99'] }, datagram)) },
      view: { status: Status.OK, ip6Ext: Ip6Ext.ROUTING, ipHdrLen: 64, ipProto: 17, l4Proto: 17, dstPort: 49153 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:ipv6.routing:udp:data', 'ipv6.routing.type': '2', 'ipv6.routing.segleft': '1', 'udp.dstport': '49153' },
    },
    {
      name: 'Destination Options (PadN only) then UDP',
      frame: { data: v6(IpProto.DEST_OPTS, destOptions(IpProto.UDP, [], datagram)) },
      view: { status: Status.OK, ip6Ext: Ip6Ext.DEST_OPTS, ipHdrLen: 48, ipProto: 17, l4Proto: 17 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:ipv6.dstopts:udp:data', 'ipv6.dstopts.nxt': '17', 'udp.dstport': '49153' },
    },
    {
      name: 'first fragment (offset 0, M set): a fragment that still has its UDP header',
      frame: { data: v6(IpProto.FRAGMENT, fragment6(IpProto.UDP, { offset: 0, more: true, id: 0xabcdef01 }, udp({ sport: 40000, dport: 49153, length: 1000 }, middle))) },
      view: {
        status: Status.OK,
        ip6Ext: Ip6Ext.FRAGMENT,
        ipHdrLen: 48,
        isFragment: true,
        fragOffset: 0,
        ipFlags: 1,
        ipId: 0xabcdef01,
        ipProto: 17,
        l4Proto: 17,
        srcPort: 40000,
        udpLen: 1000,
      },
      tshark: {
        [LAYERS]: 'eth:ethertype:ipv6:ipv6.fraghdr:udp:data',
        'ipv6.fraghdr.offset': '0',
        'ipv6.fraghdr.more': '1',
        'ipv6.fraghdr.ident': '0xabcdef01',
        'udp.srcport': '40000',
      },
    },
    {
      name: 'last fragment (offset 125 = 1000 bytes, M clear): no transport header',
      frame: { data: v6(IpProto.FRAGMENT, fragment6(IpProto.UDP, { offset: 125, more: false, id: 0xabcdef01 }, middle)) },
      view: {
        status: Status.OK,
        ip6Ext: Ip6Ext.FRAGMENT,
        ipHdrLen: 48,
        isFragment: true,
        fragOffset: 125,
        ipFlags: 0,
        ipProto: 17,
        l4Proto: 0,
        l4Off: -1,
        payloadOff: 62,
        payloadLen: 24,
      },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:ipv6.fraghdr:data', 'ipv6.fraghdr.offset': '125', 'ipv6.fraghdr.more': '0', 'udp.srcport': '' },
    },
    {
      name: 'atomic fragment (offset 0, M clear; RFC 6946): a whole datagram, not a fragment',
      frame: { data: v6(IpProto.FRAGMENT, fragment6(IpProto.UDP, { offset: 0, more: false, id: 7 }, datagram)) },
      view: { status: Status.OK, ip6Ext: Ip6Ext.FRAGMENT, isFragment: false, fragOffset: 0, ipId: 7, l4Proto: 17, dstPort: 49153 },
      tshark: {
        [LAYERS]: 'eth:ethertype:ipv6:ipv6.fraghdr:udp:data',
        'ipv6.fraghdr.offset': '0',
        'ipv6.fraghdr.more': '0',
        'ipv6.fraghdr.ident': '0x00000007',
        'udp.dstport': '49153',
      },
    },
    {
      name: 'Authentication Header (12-byte ICV) then TCP: AH length counts 4-byte words',
      frame: {
        data: v6(IpProto.AH, authHeader(IpProto.TCP, { spi: 0x1000, seq: 1, icv: new Array<number>(12).fill(0xcc) }, tcp({ sport: 40000, dport: 443, flags: TcpFlag.SYN }))),
      },
      view: { status: Status.OK, ip6Ext: Ip6Ext.AH, ipHdrLen: 64, ipProto: 6, l4Proto: 6, dstPort: 443, tcpFlags: TcpFlag.SYN },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:ah:tcp', 'ah.spi': '0x00001000', 'ah.length': '4', 'tcp.dstport': '443' },
    },
    {
      name: 'full chain: Hop-by-Hop, Destination Options, Routing, Fragment, Destination Options, UDP',
      frame: {
        data: v6(
          IpProto.HOP_BY_HOP,
          hopByHop(
            IpProto.DEST_OPTS,
            [],
            destOptions(
              IpProto.ROUTING,
              [],
              routing(
                IpProto.FRAGMENT,
                { type: 2, segmentsLeft: 1, addresses: ['2001:db8::99'] },
                fragment6(IpProto.DEST_OPTS, { offset: 0, more: false, id: 9 }, destOptions(IpProto.UDP, [], datagram)),
              ),
            ),
          ),
        ),
      },
      view: {
        status: Status.OK,
        ip6Ext: Ip6Ext.HOP_BY_HOP | Ip6Ext.DEST_OPTS | Ip6Ext.ROUTING | Ip6Ext.FRAGMENT,
        ipHdrLen: 40 + 8 + 8 + 24 + 8 + 8,
        ipProto: 17,
        l4Proto: 17,
        dstPort: 49153,
      },
      tshark: {
        [LAYERS]: 'eth:ethertype:ipv6:ipv6.hopopts:ipv6.dstopts:ipv6.routing:ipv6.fraghdr:ipv6.dstopts:udp:data',
        'ipv6.hopopts.nxt': '60',
        'ipv6.dstopts.nxt': '43,17',
        'ipv6.routing.type': '2',
        'ipv6.fraghdr.ident': '0x00000009',
        'udp.dstport': '49153',
      },
    },
    {
      name: 'Destination Options then No Next Header (59): nothing after',
      frame: { data: v6(IpProto.DEST_OPTS, destOptions(IpProto.NO_NEXT, [])) },
      view: { status: Status.OK, ip6Ext: Ip6Ext.DEST_OPTS, ipHdrLen: 48, ipProto: 59, l4Proto: 0, payloadOff: -1 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:ipv6.dstopts', 'ipv6.dstopts.nxt': '59' },
    },
    {
      name: 'ESP ends the readable chain: its bytes are the payload',
      frame: { data: v6(IpProto.ESP, [0, 0, 0x10, 0, 0, 0, 0, 1, ...middle]) },
      view: { status: Status.OK, ip6Ext: Ip6Ext.ESP, ipHdrLen: 40, ipProto: 50, l4Proto: 50, payloadOff: 54, payloadLen: 32 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:esp', 'esp.spi': '0x00001000' },
    },
    {
      name: 'payload length 0 (jumbogram or TSO): the captured bytes are trusted',
      frame: { data: v6(IpProto.UDP, datagram, { payloadLength: 0 }) },
      view: { status: Status.OK, ipLen: 52, l4Proto: 17, dstPort: 49153, payloadLen: 4 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:udp', 'ipv6.plen': '0', 'udp.dstport': '' },
      differs: { 'ipv6.plen': 'tshark prints the 0 on the wire; the view substitutes the captured length' },
    },
    // ---- bad input ----
    {
      name: 'bad: cut inside the fixed header is TRUNCATED; next header and hop limit still read',
      frame: cut(v6(IpProto.UDP, datagram, { hopLimit: 7 }), 14 + 20),
      view: { status: Status.TRUNCATED, ipVersion: 6, ipHdrLen: 0, ipProto: 17, ttl: 7, src6Off: -1, l4Proto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6', 'ipv6.hlim': '7', [SHORT]: '[Packet size limited during capture: IPv6 truncated]' },
    },
    {
      name: 'bad: chain cut inside the Routing header is TRUNCATED at that header',
      frame: cut(
        v6(IpProto.HOP_BY_HOP, hopByHop(IpProto.ROUTING, [], routing(IpProto.UDP, { type: 2, segmentsLeft: 1, addresses: ['2001:db8::99'] }, datagram))),
        14 + 40 + 8 + 12,
      ),
      // Like IPv4 options, the header length is what the header claims; the next header was readable.
      view: { status: Status.TRUNCATED, ip6Ext: Ip6Ext.HOP_BY_HOP | Ip6Ext.ROUTING, ipHdrLen: 72, ipProto: 17, l4Proto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:ipv6.hopopts:ipv6.routing', 'ipv6.hopopts.nxt': '43', [SHORT]: '[Packet size limited during capture: IPv6 Routing truncated]' },
    },
    {
      name: 'bad: chain cut before an extension header could be read (< 8 bytes) is TRUNCATED',
      frame: cut(v6(IpProto.DEST_OPTS, destOptions(IpProto.UDP, [], datagram)), 14 + 40 + 4),
      view: { status: Status.TRUNCATED, ip6Ext: Ip6Ext.DEST_OPTS, ipHdrLen: 40, ipProto: 60, l4Proto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:ipv6.dstopts', [SHORT]: '[Packet size limited during capture: IPv6 Destination truncated]' },
    },
    {
      name: 'bad: Hop-by-Hop option TLV longer than its header is MALFORMED',
      frame: { data: v6(IpProto.HOP_BY_HOP, hopByHop(IpProto.UDP, ipv6Option.raw(0x1e, 20, [0, 0, 0, 0]), datagram)) },
      view: { status: Status.MALFORMED, ip6Ext: Ip6Ext.HOP_BY_HOP, ipHdrLen: 40, ipProto: 0, l4Proto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:ipv6.hopopts', 'ipv6.opt.length': '20', [EXPERT]: 'Malformed Packet (Exception occurred)' },
    },
    {
      name: 'bad: Destination Options length past the payload: its TLV walk leaves the header, MALFORMED there',
      frame: { data: v6(IpProto.DEST_OPTS, destOptions(IpProto.UDP, [], datagram, { len: 6 })) },
      view: { status: Status.MALFORMED, ip6Ext: Ip6Ext.DEST_OPTS, ipHdrLen: 40, ipProto: 60, l4Proto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:ipv6.dstopts', 'ipv6.dstopts.len': '6', [EXPERT]: 'Malformed Packet (Exception occurred)' },
    },
    {
      name: 'bad: Routing header length past the payload length (frame complete) is MALFORMED',
      frame: { data: v6(IpProto.ROUTING, routing(IpProto.UDP, { type: 2, segmentsLeft: 1, addresses: ['2001:db8::99'], len: 8 }, datagram)) },
      view: { status: Status.MALFORMED, ip6Ext: Ip6Ext.ROUTING, ipHdrLen: 112, ipProto: 17, l4Proto: 0 },
      tshark: {
        [LAYERS]: 'eth:ethertype:ipv6:ipv6.routing',
        'ipv6.routing.len': '8',
        [EXPERT]: 'IPv6 Type 2 Routing Header extension header length must equal 2,Malformed Packet (Exception occurred)',
      },
    },
    {
      name: 'bad: 17 chained Destination Options headers exceed the cap of 16: MALFORMED (tshark has no such cap)',
      frame: {
        data: v6(
          IpProto.DEST_OPTS,
          Array.from({ length: 17 }).reduce<Uint8Array>((inner, _, i) => destOptions(i === 0 ? IpProto.UDP : IpProto.DEST_OPTS, [], inner), datagram),
        ),
      },
      view: { status: Status.MALFORMED, ip6Ext: Ip6Ext.DEST_OPTS, l4Proto: 0 },
      tshark: {
        [LAYERS]:
          'eth:ethertype:ipv6:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:ipv6.dstopts:udp:data',
      },
    },
  ],
  AGREE,
);
