/**
 * TCP (RFC 9293; src/decode/tcp.ts): header fields and the options summary the view records
 * (presence bits, MSS value, window-scale shift), including how the option walk stops on EOL, on
 * a bad option length and at the end of the header or of the captured bytes.
 */
import { Status, TcpOpt } from '../../../src/decode/view.js';
import { cut, EtherType, ethernet, IpProto, ipv4, tcpOption as opt, TcpFlag, type TcpHeader, tcp } from '../../helpers/frames.js';
import { type Agreement, decodeCases, EXPERT, LAYERS, SHORT, tsharkHex } from '../../helpers/tshark.js';

const seg = (h: TcpHeader, payload: number[] = []) => ethernet(EtherType.IPV4, ipv4({ src: '192.0.2.1', dst: '198.51.100.2', proto: IpProto.TCP }, tcp(h, payload)));
const SYN = { sport: 40000, dport: 443, flags: TcpFlag.SYN, seq: 0x01020304 };
/** Where the TCP header starts in these frames (Ethernet 14 + IPv4 20). */
const L4 = 34;

/** Option kinds → the view's presence bits (NOP and EOL are not recorded). */
const KIND_BIT: Record<number, number> = { 2: TcpOpt.MSS, 3: TcpOpt.WSCALE, 4: TcpOpt.SACK_PERM, 5: TcpOpt.SACK, 8: TcpOpt.TIMESTAMP, 34: TcpOpt.FAST_OPEN };
const BIT_NAMES: [number, string][] = [
  [TcpOpt.MSS, 'mss'],
  [TcpOpt.WSCALE, 'wscale'],
  [TcpOpt.SACK_PERM, 'sack_perm'],
  [TcpOpt.SACK, 'sack'],
  [TcpOpt.TIMESTAMP, 'ts'],
  [TcpOpt.FAST_OPEN, 'tfo'],
  [TcpOpt.OTHER, 'other'],
];
const optionNames = (bits: number) =>
  BIT_NAMES.filter(([b]) => bits & b)
    .map(([, n]) => n)
    .join(' ');
const kindsToBits = (kinds: string) => (kinds === '' ? 0 : kinds.split(',').reduce((bits, k) => (k === '0' || k === '1' ? bits : bits | (KIND_BIT[Number(k)] ?? TcpOpt.OTHER)), 0));

const AGREE: Agreement = {
  'tcp.srcport': (v) => (v.l4Proto === 6 ? String(v.srcPort) : ''),
  'tcp.hdr_len': (v) => String(v.tcpHdrLen),
  'tcp.flags': (v) => tsharkHex(v.tcpFlags, 4),
  'tcp.window_size_value': (v) => String(v.tcpWindow),
  'tcp.seq_raw': (v) => String(v.tcpSeq),
  'tcp.len': (v) => String(v.payloadLen),
  'tcp.option_kind': { view: (v) => optionNames(v.tcpOpts), tshark: (s) => optionNames(kindsToBits(s)) },
  'tcp.options.mss_val': (v) => (v.tcpOpts & TcpOpt.MSS ? String(v.tcpMss) : ''),
  'tcp.options.wscale.shift': (v) => (v.tcpOpts & TcpOpt.WSCALE ? String(v.tcpWscale) : ''),
};

decodeCases(
  'decode: TCP header and options',
  [
    {
      name: 'Linux SYN: MSS 1460, SACK permitted, timestamps, NOP, window scale 7',
      frame: { data: seg({ ...SYN, window: 64240, options: [...opt.mss(1460), ...opt.sackPermitted(), ...opt.timestamps(12345, 0), ...opt.nop(), ...opt.wscale(7)] }) },
      view: {
        status: Status.OK,
        l4Proto: 6,
        l4Off: L4,
        srcPort: 40000,
        dstPort: 443,
        tcpSeq: 0x01020304,
        tcpAck: 0,
        tcpFlags: TcpFlag.SYN,
        tcpWindow: 64240,
        tcpHdrLen: 40,
        tcpOpts: TcpOpt.MSS | TcpOpt.SACK_PERM | TcpOpt.TIMESTAMP | TcpOpt.WSCALE,
        tcpMss: 1460,
        tcpWscale: 7,
        payloadOff: L4 + 40,
        payloadLen: 0,
      },
      tshark: {
        [LAYERS]: 'eth:ethertype:ip:tcp',
        'tcp.srcport': '40000',
        'tcp.hdr_len': '40',
        'tcp.flags': '0x0002',
        'tcp.window_size_value': '64240',
        'tcp.seq_raw': '16909060',
        'tcp.option_kind': '2,4,8,1,3',
        'tcp.options.mss_val': '1460',
        'tcp.options.wscale.shift': '7',
        'tcp.options.timestamp.tsval': '12345',
      },
    },
    {
      name: 'Windows SYN: MSS 1440, NOP, window scale 8, NOP, NOP, SACK permitted',
      frame: { data: seg({ ...SYN, options: [...opt.mss(1440), ...opt.nop(), ...opt.wscale(8), ...opt.nop(), ...opt.nop(), ...opt.sackPermitted()] }) },
      view: { status: Status.OK, tcpHdrLen: 32, tcpOpts: TcpOpt.MSS | TcpOpt.WSCALE | TcpOpt.SACK_PERM, tcpMss: 1440, tcpWscale: 8 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:tcp', 'tcp.hdr_len': '32', 'tcp.option_kind': '2,1,3,1,1,4', 'tcp.options.mss_val': '1440', 'tcp.options.wscale.shift': '8' },
    },
    {
      name: 'ACK with two SACK blocks and timestamps (NOP-aligned), carrying 5 payload bytes',
      frame: {
        data: seg(
          {
            sport: 40000,
            dport: 443,
            flags: TcpFlag.ACK | TcpFlag.PSH,
            ack: 5000,
            options: [
              ...opt.nop(),
              ...opt.nop(),
              ...opt.timestamps(1, 2),
              ...opt.nop(),
              ...opt.nop(),
              ...opt.sack([
                [6000, 7000],
                [8000, 9000],
              ]),
            ],
          },
          [1, 2, 3, 4, 5],
        ),
      },
      view: { status: Status.OK, tcpHdrLen: 52, tcpFlags: 0x18, tcpAck: 5000, tcpOpts: TcpOpt.TIMESTAMP | TcpOpt.SACK, tcpMss: 0, payloadOff: L4 + 52, payloadLen: 5 },
      tshark: {
        [LAYERS]: 'eth:ethertype:ip:tcp:tls',
        'tcp.hdr_len': '52',
        'tcp.option_kind': '1,1,8,1,1,5',
        'tcp.options.sack_le': '6000,8000',
        'tcp.options.sack_re': '7000,9000',
        'tcp.len': '5',
      },
    },
    {
      name: 'SYN with a Fast Open cookie (8 bytes) and MSS',
      frame: { data: seg({ ...SYN, options: [...opt.mss(1400), ...opt.fastOpen([1, 2, 3, 4, 5, 6, 7, 8]), ...opt.nop(), ...opt.nop()] }) },
      view: { status: Status.OK, tcpHdrLen: 36, tcpOpts: TcpOpt.MSS | TcpOpt.FAST_OPEN, tcpMss: 1400 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:tcp', 'tcp.option_kind': '2,34,1,1', 'tcp.options.tfo.cookie': '0102030405060708' },
    },
    {
      name: 'an option the view does not name (experimental kind 253) is OTHER',
      frame: { data: seg({ ...SYN, options: [...opt.raw(253, 4, [0x12, 0x34]), ...opt.mss(1460)] }) },
      view: { status: Status.OK, tcpOpts: TcpOpt.OTHER | TcpOpt.MSS, tcpMss: 1460 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:tcp', 'tcp.option_kind': '253,2' },
    },
    {
      name: 'EOL ends the option list: what follows it is not read',
      frame: { data: seg({ ...SYN, options: [...opt.mss(1460), ...opt.eol(), ...opt.wscale(7)], dataOffset: 7 }) },
      view: { status: Status.OK, tcpHdrLen: 28, tcpOpts: TcpOpt.MSS, tcpWscale: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:tcp', 'tcp.option_kind': '2,0', 'tcp.options.wscale.shift': '' },
    },
    {
      name: 'NOPs only: no option recorded',
      frame: { data: seg({ ...SYN, options: [1, 1, 1, 1] }) },
      view: { status: Status.OK, tcpHdrLen: 24, tcpOpts: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:tcp', 'tcp.option_kind': '1,1,1,1' },
    },
    {
      name: 'no options, ACK with payload',
      frame: { data: seg({ sport: 40000, dport: 80, flags: TcpFlag.ACK, window: 501 }, [0x47, 0x45, 0x54]) },
      view: { status: Status.OK, tcpHdrLen: 20, tcpOpts: 0, tcpWindow: 501, payloadOff: L4 + 20, payloadLen: 3, payloadWireLen: 3 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:tcp:http', 'tcp.hdr_len': '20', 'tcp.option_kind': '', 'tcp.len': '3' },
    },
    // ---- bad input ----
    {
      name: 'bad: option length 0 stops the walk; the segment is still decoded (no status)',
      frame: { data: seg({ ...SYN, options: [...opt.wscale(7), ...opt.raw(2, 0, [5, 0xb4]), 1, 1, 1] }) },
      view: { status: Status.OK, tcpHdrLen: 32, tcpOpts: TcpOpt.WSCALE, tcpWscale: 7, tcpMss: 0, payloadLen: 0 },
      tshark: {
        [LAYERS]: 'eth:ethertype:ip:tcp',
        'tcp.option_kind': '3',
        'tcp.options.mss_val': '',
        [EXPERT]: 'Connection establish request (SYN): server port 443,Maximum segment size (with too-short option length = 0 bytes)',
      },
    },
    {
      name: 'bad: option length 1 (shorter than its own kind and length bytes) stops the walk',
      frame: { data: seg({ ...SYN, options: [...opt.raw(8, 1), 0, 0, ...opt.mss(1460)] }) },
      view: { status: Status.OK, tcpHdrLen: 28, tcpOpts: 0, tcpMss: 0 },
      tshark: {
        [LAYERS]: 'eth:ethertype:ip:tcp',
        'tcp.option_kind': '',
        [EXPERT]: 'Connection establish request (SYN): server port 443,Timestamps (with too-short option length = 1 byte)',
      },
    },
    {
      name: 'bad: option running past the end of the header stops the walk',
      frame: { data: seg({ ...SYN, options: [...opt.mss(1460), ...opt.raw(3, 10, [7, 0])] }) },
      view: { status: Status.OK, tcpHdrLen: 28, tcpOpts: TcpOpt.MSS, tcpMss: 1460, tcpWscale: 0 },
      tshark: {
        [LAYERS]: 'eth:ethertype:ip:tcp',
        'tcp.option_kind': '2',
        'tcp.options.mss_val': '1460',
        [EXPERT]: 'Connection establish request (SYN): server port 443,Window scale (option length = 10 bytes says option goes past end of options)',
      },
    },
    {
      name: 'bad: MSS option with length 3: recorded as present, value not read',
      frame: { data: seg({ ...SYN, options: [...opt.raw(2, 3, [5]), 1] }) },
      view: { status: Status.OK, tcpHdrLen: 24, tcpOpts: TcpOpt.MSS, tcpMss: 0 },
      tshark: {
        [LAYERS]: 'eth:ethertype:ip:tcp',
        'tcp.option_kind': '2,1',
        'tcp.options.mss_val': '',
        [EXPERT]: 'Connection establish request (SYN): server port 443,option length should be 4',
      },
      differs: { 'tcp.options.mss_val': 'the view keeps the MSS bit with value 0; tshark shows no value for the short option' },
    },
    {
      name: 'bad: data offset 4 (16 bytes) is MALFORMED; ports and flags kept, no payload',
      frame: { data: seg({ ...SYN, dataOffset: 4 }) },
      view: { status: Status.MALFORMED, l4Proto: 6, l4Off: L4, srcPort: 40000, tcpHdrLen: 16, tcpFlags: TcpFlag.SYN, tcpOpts: 0, payloadOff: -1 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:tcp', 'tcp.hdr_len': '16', [EXPERT]: 'Bogus TCP header length (16, must be at least 20)' },
    },
    {
      name: 'bad: data offset 15 (60 bytes) on a complete 24-byte segment: options walked to the end, TRUNCATED',
      frame: { data: seg({ ...SYN, options: opt.mss(1460), dataOffset: 15 }) },
      view: { status: Status.TRUNCATED, tcpHdrLen: 60, tcpOpts: TcpOpt.MSS, tcpMss: 1460, payloadOff: -1 },
      tshark: {
        [LAYERS]: 'eth:ethertype:ip:tcp',
        'tcp.hdr_len': '60',
        [EXPERT]:
          'Short segment. Segment/fragment does not contain a full TCP header (might be NMAP or someone else deliberately sending unusual packets),Connection establish request (SYN): server port 443,Malformed Packet (Exception occurred)',
      },
    },
    {
      name: 'bad: cut inside the fixed header is TRUNCATED; ports and flags still read',
      frame: cut(seg({ ...SYN, options: opt.mss(1460) }), L4 + 14),
      view: { status: Status.TRUNCATED, l4Proto: 6, l4Off: -1, srcPort: 40000, dstPort: 443, tcpFlags: TcpFlag.SYN, tcpHdrLen: 0, tcpOpts: 0 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:tcp', 'tcp.srcport': '40000', [SHORT]: '[Packet size limited during capture: TCP truncated]' },
    },
    {
      name: 'bad: cut inside the options is TRUNCATED; the options captured whole are kept',
      frame: cut(seg({ ...SYN, options: [...opt.mss(1460), ...opt.sackPermitted(), ...opt.timestamps(12345, 0), ...opt.nop(), ...opt.wscale(7)] }), L4 + 20 + 10),
      view: { status: Status.TRUNCATED, tcpHdrLen: 40, tcpOpts: TcpOpt.MSS | TcpOpt.SACK_PERM, tcpMss: 1460, payloadOff: -1 },
      tshark: { [LAYERS]: 'eth:ethertype:ip:tcp', 'tcp.option_kind': '2,4,8', 'tcp.options.mss_val': '1460', [SHORT]: '[Packet size limited during capture: TCP truncated]' },
      differs: { 'tcp.option_kind': 'tshark names the timestamps option whose body was cut; the view records only options captured whole' },
    },
  ],
  AGREE,
);
