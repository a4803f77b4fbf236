/**
 * UDP (RFC 768; src/decode/udp.ts): ports, the length field and where the payload ends, VXLAN
 * decoded through, and the status a lying or cut header gets.
 */
import { type PacketView, Status, Tunnel } from '../../../src/decode/view.js';
import { bytes, cut, EtherType, ethernet, IpProto, ipv4, ipv6, udp } from '../../helpers/frames.js';
import { type Agreement, decodeCases, EXPERT, LAYERS, SHORT } from '../../helpers/tshark.js';

const v4 = (payload: Uint8Array) => ethernet(EtherType.IPV4, ipv4({ src: '192.0.2.1', dst: '198.51.100.2', proto: IpProto.UDP }, payload));
/** Where the UDP header starts in these frames (Ethernet 14 + IPv4 20). */
const L4 = 34;
/** VXLAN header (RFC 7348): I flag, VNI. */
const vxlan = (vni: number) => [0x08, 0, 0, 0, (vni >> 16) & 0xff, (vni >> 8) & 0xff, vni & 0xff, 0];

/** Were the ports read? (A header cut before them leaves both at 0 and no transport offset.) */
const portsRead = (v: PacketView) => v.l4Proto === 17 && (v.l4Off >= 0 || v.srcPort !== 0 || v.dstPort !== 0);

const AGREE: Agreement = {
  // Repeated for tunnels: the view keeps the innermost header.
  'udp.srcport': { view: (v) => (portsRead(v) ? String(v.srcPort) : ''), tshark: (s) => s.split(',').at(-1) as string },
  'udp.dstport': { view: (v) => (portsRead(v) ? String(v.dstPort) : ''), tshark: (s) => s.split(',').at(-1) as string },
  'udp.length': { view: (v) => (v.l4Off >= 0 ? String(v.udpLen) : ''), tshark: (s) => s.split(',').at(-1) as string },
};

decodeCases(
  'decode: UDP',
  [
    {
      name: 'ports, length 12, 4 payload bytes',
      frame: { data: v4(udp({ sport: 40000, dport: 49153 }, [1, 2, 3, 4])) },
      view: { status: Status.OK, l4Proto: 17, l4Off: L4, srcPort: 40000, dstPort: 49153, udpLen: 12, payloadOff: L4 + 8, payloadLen: 4, payloadWireLen: 4 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp:data', 'udp.srcport': '40000', 'udp.dstport': '49153', 'udp.length': '12' },
    },
    {
      name: 'empty datagram (length 8)',
      frame: { data: v4(udp({ sport: 40000, dport: 49153 })) },
      view: { status: Status.OK, udpLen: 8, payloadOff: L4 + 8, payloadLen: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp', 'udp.length': '8' },
    },
    {
      name: 'UDP length shorter than the IP payload: the payload ends at the UDP length',
      frame: { data: v4(udp({ sport: 40000, dport: 49153, length: 10 }, [1, 2, 3, 4])) },
      view: { status: Status.OK, udpLen: 10, payloadLen: 2, payloadWireLen: 2 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp:data', 'udp.length': '10', [EXPERT]: '' },
    },
    {
      name: 'UDP over IPv6',
      frame: { data: ethernet(EtherType.IPV6, ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: IpProto.UDP }, udp({ sport: 5353, dport: 49153 }, [9, 9]))) },
      view: { status: Status.OK, ipVersion: 6, l4Proto: 17, l4Off: 54, srcPort: 5353, udpLen: 10, payloadLen: 2 },
      tshark: { [LAYERS]: 'eth:ethertype:ipv6:udp:mdns', 'udp.srcport': '5353', 'udp.length': '10' },
    },
    {
      name: 'VXLAN (port 4789) decoded through to the inner Ethernet/IPv4/UDP',
      frame: {
        data: v4(
          udp(
            { sport: 50000, dport: 4789 },
            bytes(vxlan(5001), ethernet(EtherType.IPV4, ipv4({ src: '10.1.0.1', dst: '10.1.0.2', proto: IpProto.UDP }, udp({ sport: 40001, dport: 40002 }, [1, 2])))),
          ),
        ),
      },
      view: { status: Status.OK, tunnel: Tunnel.VXLAN, tunnelDepth: 1, outerSrc4: 0xc0000201, src4: 0x0a010001, l4Proto: 17, srcPort: 40001, dstPort: 40002, udpLen: 10 },
      tshark: {
        [LAYERS]: 'eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:udp:data',
        'vxlan.vni': '5001',
        'udp.srcport': '50000,40001',
        'udp.dstport': '4789,40002',
        'udp.length': '60,10',
      },
    },
    // ---- bad input ----
    {
      name: 'bad: length 5 (< 8) is MALFORMED; the captured bytes stay the payload',
      frame: { data: v4(udp({ sport: 40000, dport: 49153, length: 5 }, [1, 2, 3, 4])) },
      view: { status: Status.MALFORMED, l4Off: L4, udpLen: 5, payloadOff: L4 + 8, payloadLen: 4, payloadWireLen: 4 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp', 'udp.length': '5', [EXPERT]: 'Bad length value 5 < 8' },
    },
    {
      name: 'bad: length 100 on a complete 12-byte datagram: decoded from what is there, no status',
      frame: { data: v4(udp({ sport: 40000, dport: 49153, length: 100 }, [1, 2, 3, 4])) },
      view: { status: Status.OK, udpLen: 100, payloadLen: 4, payloadWireLen: 92 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp:data', 'udp.length': '100', [EXPERT]: 'Bad length value 100 > IP payload length' },
    },
    {
      name: 'bad: cut after the ports is TRUNCATED; ports kept, no payload',
      frame: cut(v4(udp({ sport: 40000, dport: 49153 }, [1, 2, 3, 4])), L4 + 5),
      view: { status: Status.TRUNCATED, l4Proto: 17, l4Off: -1, srcPort: 40000, dstPort: 49153, udpLen: 0, payloadOff: -1 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp', 'udp.srcport': '40000', [SHORT]: '[Packet size limited during capture: UDP truncated]' },
    },
    {
      name: 'bad: cut inside the source port is TRUNCATED; nothing read',
      frame: cut(v4(udp({ sport: 40000, dport: 49153 }, [1, 2, 3, 4])), L4 + 2),
      view: { status: Status.TRUNCATED, l4Proto: 17, l4Off: -1, srcPort: 0, dstPort: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:udp', 'udp.srcport': '', [SHORT]: '[Packet size limited during capture: UDP truncated]' },
    },
  ],
  AGREE,
);
