/**
 * GRE (RFC 2784/2890) and PPTP's enhanced GRE (RFC 2637; src/decode/gre.ts): the optional words
 * are skipped by their flags and the inner packet is decoded through, so the view's ip/l4 fields
 * describe the inner packet and the outer addresses go to outer*. greProto survives only when
 * nothing inner was decoded: descending into an inner IP header resets the L4 fields it shares.
 */
import { Status, Tunnel } from '../../../src/decode/view.js';
import { cut, EtherType, ethernet, gre, IpProto, ipv4, ipv6, ppp, pptpGre, udp, vlanTag } from '../../helpers/frames.js';
import { type Agreement, decodeCases, EXPERT, LAYERS, SHORT, tsharkIpv4 } from '../../helpers/tshark.js';

const OUTER = { src: '203.0.113.1', dst: '203.0.113.2', proto: IpProto.GRE };
const outer4 = (payload: Uint8Array) => ethernet(EtherType.IPV4, ipv4(OUTER, payload));
const datagram = udp({ sport: 40001, dport: 40002 }, [1, 2, 3, 4]);
const inner4 = ipv4({ src: '10.1.0.1', dst: '10.1.0.2', proto: IpProto.UDP }, datagram);
const inner6 = ipv6({ src: 'fd00::1', dst: 'fd00::2', next: IpProto.UDP }, datagram);
/** Where the GRE header starts in IPv4-outer frames (Ethernet 14 + IPv4 20). */
const L4 = 34;

const AGREE: Agreement = {
  // tshark lists every IPv4 source, outer first; the view keeps the outermost and the innermost
  // (an inner source of 0 was not read: the inner header was cut before it).
  'ip.src': {
    view: (v) => [v.outerIpVersion === 4 ? tsharkIpv4(v.outerSrc4) : '', v.ipVersion === 4 && v.src4 !== 0 ? tsharkIpv4(v.src4) : ''].filter((x) => x !== '').join(','),
    tshark: (s) => (s.split(',').length > 2 ? [s.split(',')[0], s.split(',').at(-1)].join(',') : s),
  },
  'udp.dstport': (v) => (v.l4Proto === 17 ? String(v.dstPort) : ''),
};

decodeCases(
  'decode: GRE and PPTP enhanced GRE',
  [
    {
      name: 'plain GRE carrying IPv4/UDP: decoded through, outer addresses kept',
      frame: { data: outer4(gre({ proto: EtherType.IPV4 }, inner4)) },
      view: {
        status: Status.OK,
        tunnel: Tunnel.GRE,
        tunnelDepth: 1,
        outerIpVersion: 4,
        outerSrc4: 0xcb007101,
        outerDst4: 0xcb007102,
        ipVersion: 4,
        src4: 0x0a010001,
        ipProto: 17,
        l4Proto: 17,
        dstPort: 40002,
        greProto: 0,
      },
      tshark: { [LAYERS]: 'eth:ethertype:ip:gre:ip:udp:data', 'gre.proto': '0x0800', 'ip.src': '203.0.113.1,10.1.0.1', 'udp.dstport': '40002' },
    },
    {
      name: 'GRE with key and sequence number carrying IPv6/UDP',
      frame: { data: outer4(gre({ proto: EtherType.IPV6, key: 0xdeadbeef, seq: 7 }, inner6)) },
      view: { status: Status.OK, tunnel: Tunnel.GRE, outerSrc4: 0xcb007101, ipVersion: 6, l4Proto: 17, dstPort: 40002, ipOff: L4 + 12 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:gre:ipv6:udp:data', 'gre.key': '0xdeadbeef', 'gre.sequence_number': '7', 'ipv6.src': 'fd00::1', 'udp.dstport': '40002' },
    },
    {
      name: 'GRE with checksum and key carrying IPv4',
      frame: { data: outer4(gre({ proto: EtherType.IPV4, checksum: 0, key: 42 }, inner4)) },
      view: { status: Status.OK, tunnel: Tunnel.GRE, ipVersion: 4, src4: 0x0a010001, ipOff: L4 + 12, l4Proto: 17 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:gre:ip:udp:data', 'gre.flags.checksum': '1', 'gre.key': '0x0000002a', 'ip.src': '203.0.113.1,10.1.0.1' },
    },
    {
      name: 'transparent Ethernet bridging (0x6558): inner Ethernet with an 802.1Q tag',
      frame: { data: outer4(gre({ proto: EtherType.TEB }, ethernet(EtherType.VLAN, vlanTag({ vid: 33, type: EtherType.IPV4 }, inner4)))) },
      view: { status: Status.OK, tunnel: Tunnel.GRE, vlanCount: 1, vlan0: 33, etherType: 0x0800, ipVersion: 4, src4: 0x0a010001, l4Proto: 17 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:gre:eth:ethertype:vlan:ethertype:ip:udp:data', 'vlan.id': '33', 'ip.src': '203.0.113.1,10.1.0.1' },
    },
    {
      name: 'GRE over an IPv6 outer header carrying IPv4',
      frame: { data: ethernet(EtherType.IPV6, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: IpProto.GRE }, gre({ proto: EtherType.IPV4 }, inner4))) },
      view: { status: Status.OK, tunnel: Tunnel.GRE, outerIpVersion: 6, outerSrc6Off: 22, ipVersion: 4, src4: 0x0a010001, l4Proto: 17 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:gre:ip:udp:data', 'ipv6.src': '2001:db8::1', 'ip.src': '10.1.0.1' },
    },
    {
      name: 'PPTP enhanced GRE (sequence and acknowledgement) carrying PPP/IPv4',
      frame: { data: outer4(pptpGre({ callId: 0x4000, seq: 1, ack: 0 }, ppp(0x0021, inner4))) },
      view: { status: Status.OK, tunnel: Tunnel.GRE, ipVersion: 4, ipOff: L4 + 16 + 4, src4: 0x0a010001, l4Proto: 17, dstPort: 40002 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:gre:ppp:ip:udp:data', 'gre.key.call_id': '16384', 'gre.ack_number': '0', 'ppp.protocol': '0x0021', 'ip.src': '203.0.113.1,10.1.0.1' },
    },
    {
      name: 'PPTP with address/control and protocol compressed (one-byte 0x21) carrying IPv4',
      frame: { data: outer4(pptpGre({ callId: 0x4000, seq: 2 }, [0x21, ...inner4])) },
      view: { status: Status.OK, tunnel: Tunnel.GRE, ipVersion: 4, ipOff: L4 + 12 + 1, src4: 0x0a010001, l4Proto: 17 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:gre:ppp:ip:udp:data', 'ppp.protocol': '0x0021', 'ip.src': '203.0.113.1,10.1.0.1' },
    },
    {
      name: 'PPTP acknowledgement-only packet: no payload, nothing inner',
      frame: { data: outer4(pptpGre({ callId: 0x4000, ack: 5 })) },
      view: { status: Status.OK, tunnel: Tunnel.GRE, greProto: 0x880b, l4Proto: 47, l4Off: L4, payloadOff: L4 + 12, payloadLen: 0, src4: 0xcb007101 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:gre', 'gre.proto': '0x880b', 'gre.ack_number': '5' },
    },
    {
      name: 'a protocol type not decoded through (ERSPAN 0x88be): greProto kept, payload raw',
      frame: { data: outer4(gre({ proto: 0x88be, seq: 1 }, [0x10, 0, 0, 1, 0, 0, 0, 0])) },
      view: { status: Status.OK, tunnel: Tunnel.GRE, greProto: 0x88be, l4Proto: 47, payloadOff: L4 + 8, payloadLen: 8, ipVersion: 4, src4: 0xcb007101 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:gre:erspan:eth', 'gre.proto': '0x88be' },
    },
    // ---- bad input ----
    {
      name: 'bad: cut inside the GRE base header is TRUNCATED',
      frame: cut(outer4(gre({ proto: EtherType.IPV4 }, inner4)), L4 + 3),
      view: { status: Status.TRUNCATED, tunnel: 0, l4Proto: 47, l4Off: -1, greProto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:gre', 'gre.proto': '', [SHORT]: '[Packet size limited during capture: GRE truncated]' },
    },
    {
      name: 'bad: key flag set but the frame ends inside the key: TRUNCATED, protocol kept',
      frame: cut(outer4(gre({ proto: EtherType.IPV4, key: 1 }, inner4)), L4 + 6),
      view: { status: Status.TRUNCATED, tunnel: 0, l4Proto: 47, l4Off: L4, greProto: 0x0800, payloadOff: -1 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:gre', 'gre.proto': '0x0800', [SHORT]: '[Packet size limited during capture: GRE truncated]' },
    },
    {
      name: 'bad: GRE version 2 (undefined): not decoded through, no status',
      frame: { data: outer4(gre({ proto: EtherType.IPV4, version: 2 }, inner4)) },
      view: { status: Status.OK, tunnel: 0, greProto: 0x0800, l4Proto: 47, payloadOff: L4 + 4, src4: 0xcb007101 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:gre:ip:udp:data', 'gre.flags.version': '2', [EXPERT]: '' },
    },
    {
      name: 'bad: inner IPv4 header cut short is TRUNCATED inside the tunnel',
      frame: cut(outer4(gre({ proto: EtherType.IPV4 }, inner4)), L4 + 4 + 10),
      view: { status: Status.TRUNCATED, tunnel: Tunnel.GRE, tunnelDepth: 1, outerSrc4: 0xcb007101, ipVersion: 4, src4: 0, l4Proto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:gre:ip', 'ip.src': '203.0.113.1', [SHORT]: '[Packet size limited during capture: IPv4 truncated]' },
    },
  ],
  AGREE,
);
