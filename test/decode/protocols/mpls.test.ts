/**
 * MPLS label stacks (RFC 3032; src/decode/ethernet.ts, decodeMpls): the view keeps the stack
 * depth and the top label (not TC or TTL, which tshark's line shows for reference), and after the
 * bottom-of-stack entry guesses the payload from its first nibble: IPv4, IPv6, or a pseudowire
 * control word followed by Ethernet (RFC 4385).
 */
import { Status } from '../../../src/decode/view.js';
import { bytes, cut, EtherType, ethernet, IpProto, ipv4, ipv6, type MplsEntry, mplsStack, udp, vlanTag } from '../../helpers/frames.js';
import { type Agreement, decodeCases, EXPERT, LAYERS, SHORT } from '../../helpers/tshark.js';

const datagram = udp({ sport: 40000, dport: 49153 }, [1, 2, 3, 4]);
const v4 = ipv4({ src: '192.0.2.1', dst: '198.51.100.2', proto: IpProto.UDP }, datagram);
const v6 = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: IpProto.UDP }, datagram);
/** RFC 4385 pseudowire control word: first nibble 0, flags/length/sequence all zero here. */
const controlWord = [0, 0, 0, 0];
const labels = (n: number): MplsEntry[] => Array.from({ length: n }, (_, i) => ({ label: 1000 + i }));

/** Top label and depth: all the view keeps of a stack. */
const topAndDepth = (top: number | string, depth: number) => `${top} (${depth} entries)`;

const AGREE: Agreement = {
  'mpls.label': {
    view: (v) => (v.mplsCount === 0 ? topAndDepth('', 0) : topAndDepth(v.mplsLabel, v.mplsCount)),
    tshark: (s) => (s === '' ? topAndDepth('', 0) : topAndDepth(s.split(',')[0] as string, s.split(',').length)),
  },
};

decodeCases(
  'decode: MPLS',
  [
    {
      name: 'one label (100, TTL 64) carrying IPv4',
      frame: { data: ethernet(EtherType.MPLS, mplsStack([{ label: 100, ttl: 64 }], v4)) },
      view: { status: Status.OK, etherType: 0x8847, mplsCount: 1, mplsLabel: 100, ipVersion: 4, l4Proto: 17, dstPort: 49153 },
      tshark: { [LAYERS]: 'eth:ethertype:mpls:ip:udp:data', 'mpls.label': '100', 'mpls.bottom': '1', 'mpls.ttl': '64' },
    },
    {
      name: 'two labels (16000 TC 5 TTL 255, then 200) carrying IPv6: the top label is kept',
      frame: {
        data: ethernet(
          EtherType.MPLS,
          mplsStack(
            [
              { label: 16000, tc: 5, ttl: 255 },
              { label: 200, ttl: 1 },
            ],
            v6,
          ),
        ),
      },
      view: { status: Status.OK, etherType: 0x8847, mplsCount: 2, mplsLabel: 16000, ipVersion: 6, l4Proto: 17 },
      tshark: { [LAYERS]: 'eth:ethertype:mpls:ipv6:udp:data', 'mpls.label': '16000,200', 'mpls.exp': '5,0', 'mpls.bottom': '0,1', 'mpls.ttl': '255,1' },
    },
    {
      name: 'IPv4 explicit null (label 0) and the largest label (1048575)',
      frame: { data: ethernet(EtherType.MPLS, mplsStack([{ label: 1048575 }, { label: 0 }], v4)) },
      view: { status: Status.OK, mplsCount: 2, mplsLabel: 1048575, ipVersion: 4 },
      tshark: { [LAYERS]: 'eth:ethertype:mpls:ip:udp:data', 'mpls.label': '1048575,0' },
    },
    {
      name: 'multicast ethertype 0x8848',
      frame: { data: ethernet(EtherType.MPLS_MULTICAST, mplsStack([{ label: 5000 }], v4)) },
      view: { status: Status.OK, etherType: 0x8848, mplsCount: 1, mplsLabel: 5000, ipVersion: 4 },
      tshark: { [LAYERS]: 'eth:ethertype:mpls:ip:udp:data', 'mpls.label': '5000' },
    },
    {
      name: 'MPLS inside an 802.1Q tag',
      frame: { data: ethernet(EtherType.VLAN, vlanTag({ vid: 42, type: EtherType.MPLS }, mplsStack([{ label: 300 }], v4))) },
      view: { status: Status.OK, vlanCount: 1, vlan0: 42, etherType: 0x8847, mplsCount: 1, mplsLabel: 300, ipVersion: 4 },
      tshark: { [LAYERS]: 'eth:ethertype:vlan:ethertype:mpls:ip:udp:data', 'vlan.id': '42', 'mpls.label': '300' },
    },
    {
      name: 'pseudowire: control word then an Ethernet frame carrying IPv4',
      frame: { data: ethernet(EtherType.MPLS, mplsStack([{ label: 2000 }], bytes(controlWord, ethernet(EtherType.IPV4, v4)))) },
      view: { status: Status.OK, etherType: 0x0800, mplsCount: 1, mplsLabel: 2000, ipVersion: 4, l4Proto: 17 },
      tshark: { [LAYERS]: 'eth:ethertype:mpls:eth:ethertype:ip:udp:data', 'mpls.label': '2000', 'eth.type': '0x8847,0x0800' },
    },
    {
      name: 'bottom of stack followed by neither IP nor a control word: not IP, not an error',
      frame: { data: ethernet(EtherType.MPLS, mplsStack([{ label: 700 }], [0x50, 1, 2, 3, 4, 5, 6, 7])) },
      view: { status: Status.OK, etherType: 0x8847, mplsCount: 1, mplsLabel: 700, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:mpls:data', 'mpls.label': '700' },
    },
    // ---- bad input ----
    {
      name: 'bad: frame cut inside the first label entry is TRUNCATED, no entry counted',
      frame: cut(ethernet(EtherType.MPLS, mplsStack([{ label: 100 }], v4)), 14 + 2),
      view: { status: Status.TRUNCATED, etherType: 0x8847, mplsCount: 0, mplsLabel: 0, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:mpls', 'mpls.label': '', [SHORT]: '[Packet size limited during capture: MPLS truncated]' },
    },
    {
      name: 'bad: bottom-of-stack entry with nothing after it is TRUNCATED',
      frame: cut(ethernet(EtherType.MPLS, mplsStack([{ label: 100 }, { label: 101 }], v4)), 14 + 8),
      view: { status: Status.TRUNCATED, mplsCount: 2, mplsLabel: 100, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:mpls', 'mpls.label': '100,101', [SHORT]: '[Packet size limited during capture: MPLS truncated]' },
    },
    {
      name: 'bad: stack without a bottom-of-stack bit that runs to the end of the frame is TRUNCATED',
      frame: { data: ethernet(EtherType.MPLS, mplsStack(labels(3), [], 'none')) },
      view: { status: Status.TRUNCATED, mplsCount: 3, mplsLabel: 1000, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:mpls', 'mpls.label': '1000,1001,1002', [EXPERT]: 'Malformed Packet (Exception occurred)' },
    },
    {
      name: 'bad: a 17-entry stack exceeds the cap of 16: MALFORMED, IP not reached',
      frame: { data: ethernet(EtherType.MPLS, mplsStack(labels(17), v4)) },
      view: { status: Status.MALFORMED, mplsCount: 16, mplsLabel: 1000, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:mpls:ip:udp:data', 'mpls.label': '1000,1001,1002,1003,1004,1005,1006,1007,1008,1009,1010,1011,1012,1013,1014,1015,1016' },
      differs: { 'mpls.label': 'the view stops counting at the cap (16); tshark lists all 17 entries' },
    },
    {
      name: 'bad: pseudowire control word cut short is TRUNCATED',
      frame: cut(ethernet(EtherType.MPLS, mplsStack([{ label: 2000 }], bytes(controlWord, ethernet(EtherType.IPV4, v4)))), 14 + 4 + 2),
      view: { status: Status.TRUNCATED, mplsCount: 1, mplsLabel: 2000, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:mpls', 'mpls.label': '2000', [SHORT]: '[Packet size limited during capture: Ethernet PW (with CW) truncated]' },
    },
    {
      name: 'bad: pseudowire Ethernet header cut short is TRUNCATED',
      frame: cut(ethernet(EtherType.MPLS, mplsStack([{ label: 2000 }], bytes(controlWord, ethernet(EtherType.IPV4, v4)))), 14 + 4 + 4 + 10),
      view: { status: Status.TRUNCATED, mplsCount: 1, mplsLabel: 2000, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:mpls:eth', 'mpls.label': '2000', [SHORT]: '[Packet size limited during capture: Ethernet truncated]' },
    },
  ],
  AGREE,
  // tshark guesses whether a pseudowire has a control word; these frames have one (label 2000).
  { tsharkArgs: ['-d', 'mpls.label==2000,pwethcw'] },
);
