/**
 * IPv6 (RFC 8200) and its extension-header chain: Hop-by-Hop, Routing, Fragment, Destination
 * Options, Mobility, AH (ESP ends the readable chain). A chain cut off by the capture stops
 * cleanly with TRUNCATED; a fragment with offset > 0 has no transport header.
 */
import { decodeTransport, enterTunnel } from './transport.js';
import { Ip6Ext, type PacketView, Status } from './view.js';

const MAX_EXT = 16;

export function decodeIpv6(v: PacketView, off: number, end: number): void {
  const b = v.buf;
  const avail = end - off;
  if (avail < 1) {
    v.status |= Status.TRUNCATED;
    return;
  }
  if ((b[off] as number) >> 4 !== 6) {
    v.status |= Status.MALFORMED;
    return;
  }
  if (!enterTunnel(v, off)) return;
  v.ipVersion = 6;
  v.ipOff = off;
  if (avail < 40) {
    v.status |= Status.TRUNCATED;
    if (avail >= 8) {
      v.ipProto = b[off + 6] as number;
      v.ttl = b[off + 7] as number;
    }
    return;
  }
  const w0 = ((b[off] as number) << 24) | ((b[off + 1] as number) << 16) | ((b[off + 2] as number) << 8) | (b[off + 3] as number);
  const tc = (w0 >>> 20) & 0xff;
  v.ipDscp = tc >> 2;
  v.ipEcn = tc & 3;
  v.ip6FlowLabel = w0 & 0xfffff;
  let plen = ((b[off + 4] as number) << 8) | (b[off + 5] as number);
  // Payload length 0 means a jumbogram (or TSO): trust the captured bytes.
  if (plen === 0) plen = Math.max(avail, v.wirelen - (off - v.frameOff)) - 40;
  v.ipLen = plen + 40;
  v.ttl = b[off + 7] as number;
  v.src6Off = off + 8;
  v.dst6Off = off + 24;
  const dgramEnd = off + 40 + plen < end ? off + 40 + plen : end;
  let next = b[off + 6] as number;
  let p = off + 40;
  for (let i = 0; i < MAX_EXT; i++) {
    let hl: number;
    switch (next) {
      case 0:
        v.ip6Ext |= Ip6Ext.HOP_BY_HOP;
        break;
      case 43:
        v.ip6Ext |= Ip6Ext.ROUTING;
        break;
      case 60:
        v.ip6Ext |= Ip6Ext.DEST_OPTS;
        break;
      case 135:
        v.ip6Ext |= Ip6Ext.MOBILITY;
        break;
      case 51:
        v.ip6Ext |= Ip6Ext.AH;
        break;
      case 44:
        v.ip6Ext |= Ip6Ext.FRAGMENT;
        break;
      default:
        // ESP ends the readable chain; it is still an extension header the packet carried.
        if (next === 50) v.ip6Ext |= Ip6Ext.ESP;
        finish(v, next, p, dgramEnd, off + 40 + plen - p);
        return;
    }
    if (dgramEnd - p < 8) {
      v.ipProto = next;
      v.ipHdrLen = p - off;
      v.status |= Status.TRUNCATED;
      return;
    }
    if (next === 44) {
      const fo = ((b[p + 2] as number) << 8) | (b[p + 3] as number);
      v.fragOffset = fo >> 3;
      v.ipFlags = fo & 1;
      v.ipId = readU32(b, p + 4);
      // An atomic fragment (offset 0, M clear; RFC 6946) is a whole datagram.
      v.isFragment = v.fragOffset !== 0 || (fo & 1) !== 0;
      hl = 8;
    } else if (next === 51) {
      hl = ((b[p + 1] as number) + 2) << 2;
    } else {
      hl = ((b[p + 1] as number) + 1) << 3;
    }
    const nh = b[p] as number;
    if ((next === 0 || next === 60) && !optionsFit(b, p + 2, p + hl < dgramEnd ? p + hl : dgramEnd, p + hl)) {
      // An option TLV that runs past its own header: the chain cannot be trusted beyond it.
      v.ipProto = next;
      v.ipHdrLen = p - off;
      v.status |= Status.MALFORMED;
      return;
    }
    p += hl;
    next = nh;
    if (v.fragOffset !== 0) {
      // Non-first fragment: what follows is the middle of the original payload.
      v.ipProto = next;
      v.ipHdrLen = p - off;
      v.payloadOff = p <= dgramEnd ? p : -1;
      v.payloadLen = p <= dgramEnd ? dgramEnd - p : 0;
      return;
    }
    if (p > dgramEnd) {
      v.ipProto = next;
      v.ipHdrLen = p - off;
      // Past the captured bytes is truncation; past the payload length the header lies.
      v.status |= p > off + 40 + plen ? Status.MALFORMED : Status.TRUNCATED;
      return;
    }
  }
  v.status |= Status.MALFORMED;
}

/** Hop-by-Hop / Destination Options TLVs must end exactly within their header (RFC 8200 §4.2). */
function optionsFit(b: Uint8Array, p: number, end: number, hdrEnd: number): boolean {
  while (p < end) {
    const t = b[p] as number;
    if (t === 0) {
      p++;
      continue;
    }
    if (p + 1 >= end) return true; // a lone trailing type byte: tolerated, as Wireshark does
    p += 2 + (b[p + 1] as number);
  }
  return p <= hdrEnd;
}

function finish(v: PacketView, proto: number, p: number, end: number, wireLen: number): void {
  v.ipProto = proto;
  v.ipHdrLen = p - v.ipOff;
  if (proto === 59) return; // no next header
  decodeTransport(v, proto, p, end, wireLen);
}

function readU32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}
