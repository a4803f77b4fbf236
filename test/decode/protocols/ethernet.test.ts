/**
 * Ethernet II, IEEE 802.3 with LLC and LLC/SNAP, and PPPoE sessions (src/decode/ethernet.ts):
 * which ethertype the view ends on and whether IP was reached, checked against tshark.
 */
import { Status } from '../../../src/decode/view.js';
import { cut, EtherType, ethernet, IpProto, ieee8023, ipv4, ipv6, llc, pppoeSession, snap, udp } from '../../helpers/frames.js';
import { type Agreement, decodeCases, EXPERT, LAYERS, SHORT, tsharkHex, tsharkIpv4, tsharkIpv6 } from '../../helpers/tshark.js';

const v4 = (payload: Uint8Array) => ipv4({ src: '192.0.2.1', dst: '198.51.100.2', proto: IpProto.UDP }, payload);
const datagram = udp({ sport: 40000, dport: 49153 }, [0xde, 0xad]);

const AGREE: Agreement = {
  // The view's ethertype is 0 when the frame ended before one could be read.
  'eth.type': (v) => (v.etherType === 0 ? '' : tsharkHex(v.etherType, 4)),
  'llc.type': (v) => (v.etherType === 0 ? '' : tsharkHex(v.etherType, 4)),
  'ip.src': (v) => (v.ipVersion === 4 ? tsharkIpv4(v.src4) : ''),
  'ipv6.src': (v) => tsharkIpv6(v.buf, v.src6Off),
};

decodeCases(
  'decode: Ethernet, 802.3 LLC/SNAP, PPPoE',
  [
    {
      name: 'Ethernet II carrying IPv4/UDP',
      frame: { data: ethernet(EtherType.IPV4, v4(datagram)) },
      view: { status: Status.OK, etherType: 0x0800, ipVersion: 4, l4Proto: 17, dstPort: 49153 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp:data', 'eth.type': '0x0800', 'ip.src': '192.0.2.1', 'udp.dstport': '49153', [EXPERT]: '' },
    },
    {
      name: 'Ethernet II carrying IPv6/UDP',
      frame: { data: ethernet(EtherType.IPV6, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: IpProto.UDP }, datagram)) },
      view: { status: Status.OK, etherType: 0x86dd, ipVersion: 6, l4Proto: 17, dstPort: 49153 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:udp:data', 'eth.type': '0x86dd', 'ipv6.src': '2001:db8::1', 'udp.dstport': '49153' },
    },
    {
      name: 'Ethernet II ARP: a valid frame that is not IP',
      frame: { data: ethernet(EtherType.ARP, [0, 1, 8, 0, 6, 4, 0, 1, ...new Array<number>(20).fill(0)]) },
      view: { status: Status.OK, etherType: 0x0806, ipVersion: 0, l4Proto: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:arp', 'eth.type': '0x0806', 'arp.opcode': '1' },
    },
    {
      name: '802.3 + LLC/SNAP carrying IPv4: the SNAP ethertype is followed',
      frame: { data: ieee8023(snap(EtherType.IPV4, v4(datagram))) },
      view: { status: Status.OK, etherType: 0x0800, ipVersion: 4, l4Proto: 17, dstPort: 49153 },
      tshark: { [LAYERS]: 'eth:llc:ip:udp:data', 'eth.len': '38', 'llc.dsap': '0xaa', 'llc.type': '0x0800', 'ip.src': '192.0.2.1' },
    },
    {
      name: '802.3 + LLC (spanning tree): counted as a non-IP frame, not an error',
      frame: { data: ieee8023(llc(0x42, 0x42, 0x03, [0, 0, 0, 0, ...new Array<number>(31).fill(0)])) },
      view: { status: Status.OK, etherType: 0, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth:llc:stp', 'eth.len': '38', 'llc.dsap': '0x42', 'stp.protocol': '0x0000' },
    },
    {
      name: 'PPPoE session carrying IPv4',
      frame: { data: ethernet(EtherType.PPPOE_SESSION, pppoeSession(0x0021, v4(datagram))) },
      view: { status: Status.OK, etherType: 0x8864, ipVersion: 4, l4Proto: 17, src4: 0xc0000201 },
      tshark: { [LAYERS]: 'eth:ethertype:pppoes:ppp:ip:udp:data', 'eth.type': '0x8864', 'ppp.protocol': '0x0021', 'ip.src': '192.0.2.1' },
    },
    {
      name: 'PPPoE session carrying IPv6',
      frame: { data: ethernet(EtherType.PPPOE_SESSION, pppoeSession(0x0057, ipv6({ src: '2001:db8::a', dst: '2001:db8::b', next: IpProto.NO_NEXT }))) },
      view: { status: Status.OK, etherType: 0x8864, ipVersion: 6, ipProto: 59 },
      tshark: { [LAYERS]: 'eth:ethertype:pppoes:ppp:ipv6', 'ppp.protocol': '0x0057', 'ipv6.src': '2001:db8::a' },
    },
    // ---- bad input ----
    {
      name: 'bad: frame shorter than the Ethernet header is TRUNCATED',
      frame: cut(ethernet(EtherType.IPV4, v4(datagram)), 10),
      view: { status: Status.TRUNCATED, etherType: 0, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth', 'eth.type': '', [SHORT]: '[Packet size limited during capture: Ethernet truncated]' },
    },
    {
      name: 'bad: 802.3 frame cut inside the SNAP header is TRUNCATED',
      frame: cut(ieee8023(snap(EtherType.IPV4, v4(datagram))), 14 + 5),
      view: { status: Status.TRUNCATED, etherType: 0, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth:llc', 'llc.dsap': '0xaa', 'llc.type': '', [SHORT]: '[Packet size limited during capture: LLC truncated]' },
    },
    {
      name: 'bad: PPPoE header cut short is TRUNCATED',
      frame: cut(ethernet(EtherType.PPPOE_SESSION, pppoeSession(0x0021, v4(datagram))), 14 + 4),
      view: { status: Status.TRUNCATED, etherType: 0x8864, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:pppoes', 'eth.type': '0x8864', 'ppp.protocol': '', [SHORT]: '[Packet size limited during capture: PPPoES truncated]' },
    },
  ],
  AGREE,
);
