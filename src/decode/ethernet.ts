/**
 * Ethernet II and IEEE 802.3 (+ LLC/SNAP), then the L2 shims that sit between it and IP:
 * 802.1Q / 802.1ad / QinQ (any depth, VID 0 priority tags included), MPLS label stacks and
 * PPPoE sessions. Hands off to IP by ethertype.
 */
import { decodeIpByVersion, decodeIpv4, decodeIpv6 } from './ip.js';
import { type PacketView, Status } from './view.js';

const MAX_TAGS = 8;
const MAX_LABELS = 16;

export function decodeEthernet(v: PacketView, off: number, end: number): void {
  if (end - off < 14) {
    v.status |= Status.TRUNCATED;
    return;
  }
  const b = v.buf;
  const type = ((b[off + 12] as number) << 8) | (b[off + 13] as number);
  if (type < 0x0600) {
    // 802.3 length field: LLC follows. Only SNAP (AA AA 03) carries an ethertype.
    const llc = off + 14;
    if (end - llc < 3) {
      v.status |= Status.TRUNCATED;
      return;
    }
    if (b[llc] === 0xaa && b[llc + 1] === 0xaa && b[llc + 2] === 0x03) {
      if (end - llc < 8) {
        v.status |= Status.TRUNCATED;
        return;
      }
      const et = ((b[llc + 6] as number) << 8) | (b[llc + 7] as number);
      decodeEtherType(v, et, llc + 8, end);
      return;
    }
    // Other LLC (STP, NetBIOS, ...): a valid frame that is not IP.
    v.etherType = 0;
    return;
  }
  decodeEtherType(v, type, off + 14, end);
}

/** Continue decoding at `off` given an ethertype. Shared by Ethernet, SLL, SLL2, SNAP, GRE. */
export function decodeEtherType(v: PacketView, type: number, off: number, end: number): void {
  const b = v.buf;
  let tags = 0;
  while (type === 0x8100 || type === 0x88a8 || type === 0x9100 || type === 0x9200) {
    if (end - off < 4) {
      v.etherType = type;
      v.status |= Status.TRUNCATED;
      return;
    }
    const vid = (((b[off] as number) & 0x0f) << 8) | (b[off + 1] as number);
    if (v.vlanCount === 0) v.vlan0 = vid;
    else if (v.vlanCount === 1) v.vlan1 = vid;
    else if (v.vlanCount === 2) v.vlan2 = vid;
    v.vlanCount++;
    type = ((b[off + 2] as number) << 8) | (b[off + 3] as number);
    off += 4;
    if (++tags > MAX_TAGS) {
      v.status |= Status.MALFORMED;
      return;
    }
  }
  v.etherType = type;
  switch (type) {
    case 0x0800:
      decodeIpv4(v, off, end);
      return;
    case 0x86dd:
      decodeIpv6(v, off, end);
      return;
    case 0x8847:
    case 0x8848:
      decodeMpls(v, off, end);
      return;
    case 0x8864:
      decodePppoeSession(v, off, end);
      return;
    default:
      // ARP, LLDP, ... : valid non-IP frames, counted as "other" by the analyser.
      return;
  }
}

function decodeMpls(v: PacketView, off: number, end: number): void {
  const b = v.buf;
  for (let i = 0; i < MAX_LABELS; i++) {
    if (end - off < 4) {
      v.status |= Status.TRUNCATED;
      return;
    }
    const w = ((b[off] as number) << 24) | ((b[off + 1] as number) << 16) | ((b[off + 2] as number) << 8) | (b[off + 3] as number);
    if (v.mplsCount === 0) v.mplsLabel = w >>> 12;
    v.mplsCount++;
    off += 4;
    if (w & 0x100) {
      // Bottom of stack: MPLS has no next-protocol field; the first nibble tells IPv4 from IPv6.
      if (end - off < 1) {
        v.status |= Status.TRUNCATED;
        return;
      }
      const nib = (b[off] as number) >> 4;
      if (nib === 4 || nib === 6) decodeIpByVersion(v, off, end);
      else if (nib === 0) {
        // Pseudowire control word then an Ethernet frame (RFC 4385). A frame cut inside either is
        // TRUNCATED like any other cut header (decodeEthernet reports a short Ethernet header).
        if (end - off < 4) v.status |= Status.TRUNCATED;
        else decodeEthernet(v, off + 4, end);
      }
      return;
    }
  }
  v.status |= Status.MALFORMED;
}

function decodePppoeSession(v: PacketView, off: number, end: number): void {
  // PPPoE header 6 bytes, then the PPP protocol (2 bytes).
  if (end - off < 8) {
    v.status |= Status.TRUNCATED;
    return;
  }
  const b = v.buf;
  const proto = ((b[off + 6] as number) << 8) | (b[off + 7] as number);
  if (proto === 0x0021) decodeIpv4(v, off + 8, end);
  else if (proto === 0x0057) decodeIpv6(v, off + 8, end);
}
