/**
 * 802.1Q, 802.1ad and QinQ tag stacks (src/decode/ethernet.ts, decodeEtherType): the view keeps
 * the tag count and the outermost three VLAN ids, and ends on the ethertype after the last tag.
 */
import { Status } from '../../../src/decode/view.js';
import { cut, EtherType, ethernet, IpProto, ipv4, ipv6, udp, vlanTag } from '../../helpers/frames.js';
import { type Agreement, decodeCases, EXPERT, LAYERS, SHORT, tsharkHex } from '../../helpers/tshark.js';

const datagram = udp({ sport: 40000, dport: 49153 }, [1, 2, 3, 4]);
const v4 = ipv4({ src: '192.0.2.1', dst: '198.51.100.2', proto: IpProto.UDP }, datagram);
const v6 = ipv6({ src: '2001:db8::1', dst: '2001:db8::2', next: IpProto.UDP }, datagram);
const arp = [0, 1, 8, 0, 6, 4, 0, 1, ...new Array<number>(20).fill(0)];

/** `count` nested 802.1Q tags with ids 1..count, then `inner`. */
function nestedTags(count: number, innerType: number, inner: Uint8Array): Uint8Array {
  let frame = inner;
  for (let i = count; i >= 1; i--) frame = vlanTag({ vid: i, type: i === count ? innerType : EtherType.VLAN }, frame);
  return ethernet(EtherType.VLAN, frame);
}

/** Only the outermost three ids are kept; the count covers them all. */
const firstThree = (ids: string[], count: number) => `${ids.slice(0, 3).join(',')} (${count} tags)`;

const AGREE: Agreement = {
  'vlan.id': {
    view: (v) => firstThree([v.vlan0, v.vlan1, v.vlan2].slice(0, Math.min(v.vlanCount, 3)).map(String), v.vlanCount),
    tshark: (s) => (s === '' ? firstThree([], 0) : firstThree(s.split(','), s.split(',').length)),
  },
  // The ethertype after the innermost tag is where the view ends up.
  'vlan.etype': { view: (v) => tsharkHex(v.etherType, 4), tshark: (s) => s.split(',').at(-1) as string },
};

decodeCases(
  'decode: 802.1Q / 802.1ad / QinQ',
  [
    {
      name: '802.1Q tag (VID 10, PCP 5) carrying IPv4',
      frame: { data: ethernet(EtherType.VLAN, vlanTag({ vid: 10, pcp: 5, type: EtherType.IPV4 }, v4)) },
      view: { status: Status.OK, vlanCount: 1, vlan0: 10, vlan1: 0, etherType: 0x0800, ipVersion: 4, l4Proto: 17 },
      tshark: { [LAYERS]: 'eth:ethertype:vlan:ethertype:ip:udp:data', 'vlan.id': '10', 'vlan.priority': '5', 'vlan.etype': '0x0800' },
    },
    {
      name: '802.1ad outer tag (S-VLAN 100) + 802.1Q inner tag (C-VLAN 200) carrying IPv4',
      frame: { data: ethernet(EtherType.QINQ, vlanTag({ vid: 100, type: EtherType.VLAN }, vlanTag({ vid: 200, type: EtherType.IPV4 }, v4))) },
      view: { status: Status.OK, vlanCount: 2, vlan0: 100, vlan1: 200, vlan2: 0, etherType: 0x0800, ipVersion: 4, l4Proto: 17 },
      tshark: { [LAYERS]: 'eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:ip:udp:data', 'eth.type': '0x88a8', 'ieee8021ad.id': '100', 'vlan.id': '200', 'vlan.etype': '0x0800' },
      differs: { 'vlan.id': 'tshark files the 802.1ad S-tag under ieee8021ad.id; the view counts both tags' },
    },
    {
      name: 'three tags (0x9100 outer, then 0x8100 twice) carrying IPv6',
      frame: {
        data: ethernet(
          EtherType.QINQ_9100,
          vlanTag({ vid: 300, type: EtherType.VLAN }, vlanTag({ vid: 400, type: EtherType.VLAN }, vlanTag({ vid: 500, type: EtherType.IPV6 }, v6))),
        ),
      },
      view: { status: Status.OK, vlanCount: 3, vlan0: 300, vlan1: 400, vlan2: 500, etherType: 0x86dd, ipVersion: 6, l4Proto: 17 },
      tshark: { [LAYERS]: 'eth:ethertype:vlan:ethertype:vlan:ethertype:vlan:ethertype:ipv6:udp:data', 'vlan.id': '300,400,500', 'vlan.etype': '0x8100,0x8100,0x86dd' },
    },
    {
      name: 'four tags: all counted, the outermost three kept',
      frame: { data: nestedTags(4, EtherType.IPV4, v4) },
      view: { status: Status.OK, vlanCount: 4, vlan0: 1, vlan1: 2, vlan2: 3, etherType: 0x0800, ipVersion: 4 },
      tshark: {
        [LAYERS]: 'eth:ethertype:vlan:ethertype:vlan:ethertype:vlan:ethertype:vlan:ethertype:ip:udp:data',
        'vlan.id': '1,2,3,4',
        'vlan.etype': '0x8100,0x8100,0x8100,0x0800',
      },
    },
    {
      name: 'priority tag (VID 0, PCP 6) carrying IPv4',
      frame: { data: ethernet(EtherType.VLAN, vlanTag({ vid: 0, pcp: 6, type: EtherType.IPV4 }, v4)) },
      view: { status: Status.OK, vlanCount: 1, vlan0: 0, etherType: 0x0800, ipVersion: 4 },
      tshark: { [LAYERS]: 'eth:ethertype:vlan:ethertype:ip:udp:data', 'vlan.id': '0', 'vlan.priority': '6' },
    },
    {
      name: 'VID 4095 with DEI set: the id is the low 12 bits of the TCI',
      frame: { data: ethernet(EtherType.VLAN, vlanTag({ vid: 4095, pcp: 7, dei: true, type: EtherType.IPV4 }, v4)) },
      view: { status: Status.OK, vlanCount: 1, vlan0: 4095, etherType: 0x0800, ipVersion: 4 },
      tshark: { [LAYERS]: 'eth:ethertype:vlan:ethertype:ip:udp:data', 'vlan.id': '4095', 'vlan.dei': '1', 'vlan.priority': '7' },
    },
    {
      name: '802.1Q carrying ARP: tagged, not IP',
      frame: { data: ethernet(EtherType.VLAN, vlanTag({ vid: 7, type: EtherType.ARP }, arp)) },
      view: { status: Status.OK, vlanCount: 1, vlan0: 7, etherType: 0x0806, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:vlan:ethertype:arp', 'vlan.id': '7', 'vlan.etype': '0x0806' },
    },
    // ---- bad input ----
    {
      name: 'bad: frame cut inside the tag is TRUNCATED, ethertype left on the tag type',
      frame: cut(ethernet(EtherType.VLAN, vlanTag({ vid: 10, type: EtherType.IPV4 }, v4)), 14 + 2),
      view: { status: Status.TRUNCATED, vlanCount: 0, vlan0: 0, etherType: 0x8100, ipVersion: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:vlan', 'vlan.id': '10', [SHORT]: '[Packet size limited during capture: VLAN truncated]' },
      differs: { 'vlan.id': 'tshark reads the TCI from the 2 captured bytes; the view counts a tag only when all 4 are there' },
    },
    {
      name: 'bad: frame cut inside the IPv4 header after a tag keeps the tag, TRUNCATED',
      frame: cut(ethernet(EtherType.VLAN, vlanTag({ vid: 10, type: EtherType.IPV4 }, v4)), 14 + 4 + 12),
      view: { status: Status.TRUNCATED, vlanCount: 1, vlan0: 10, etherType: 0x0800, ipVersion: 4, ipHdrLen: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:vlan:ethertype:ip', 'vlan.id': '10', 'vlan.etype': '0x0800', [SHORT]: '[Packet size limited during capture: IPv4 truncated]' },
    },
    {
      name: 'bad: nine nested tags exceed the cap of eight: MALFORMED, IP not reached',
      frame: { data: nestedTags(9, EtherType.IPV4, v4) },
      view: { status: Status.MALFORMED, vlanCount: 9, vlan0: 1, vlan1: 2, vlan2: 3, ipVersion: 0 },
      tshark: {
        [LAYERS]:
          'eth:ethertype:vlan:ethertype:vlan:ethertype:vlan:ethertype:vlan:ethertype:vlan:ethertype:vlan:ethertype:vlan:ethertype:vlan:ethertype:vlan:ethertype:ip:udp:data',
        'vlan.id': '1,2,3,4,5,6,7,8,9',
        [EXPERT]: '',
      },
    },
  ],
  AGREE,
);
