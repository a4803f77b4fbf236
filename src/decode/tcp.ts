/**
 * TCP (RFC 9293): ports, seq/ack, flags, window, and an options summary (MSS, window scale,
 * SACK-permitted, SACK, timestamps, Fast Open). Option walking is bounded by the header and by
 * the captured bytes; a cut-off header keeps what was readable and sets TRUNCATED.
 */
import { decodeApp } from './app.js';
import { type PacketView, Status, TcpOpt } from './view.js';

export function decodeTcp(v: PacketView, off: number, end: number, wireLen: number): void {
  const b = v.buf;
  const avail = end - off;
  if (avail < 20) {
    v.status |= Status.TRUNCATED;
    if (avail >= 4) {
      v.srcPort = ((b[off] as number) << 8) | (b[off + 1] as number);
      v.dstPort = ((b[off + 2] as number) << 8) | (b[off + 3] as number);
    }
    if (avail >= 14) v.tcpFlags = b[off + 13] as number;
    return;
  }
  v.l4Off = off;
  v.srcPort = ((b[off] as number) << 8) | (b[off + 1] as number);
  v.dstPort = ((b[off + 2] as number) << 8) | (b[off + 3] as number);
  v.tcpSeq = (((b[off + 4] as number) << 24) | ((b[off + 5] as number) << 16) | ((b[off + 6] as number) << 8) | (b[off + 7] as number)) >>> 0;
  v.tcpAck = (((b[off + 8] as number) << 24) | ((b[off + 9] as number) << 16) | ((b[off + 10] as number) << 8) | (b[off + 11] as number)) >>> 0;
  const hlen = ((b[off + 12] as number) >> 4) << 2;
  v.tcpHdrLen = hlen;
  v.tcpFlags = b[off + 13] as number;
  v.tcpWindow = ((b[off + 14] as number) << 8) | (b[off + 15] as number);
  if (hlen < 20) {
    v.status |= Status.MALFORMED;
    return;
  }
  const hdrEnd = off + hlen;
  const optEnd = hdrEnd < end ? hdrEnd : end;
  let p = off + 20;
  let opts = 0;
  while (p < optEnd) {
    const kind = b[p] as number;
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= optEnd) break;
    const olen = b[p + 1] as number;
    if (olen < 2 || p + olen > optEnd) break;
    switch (kind) {
      case 2:
        opts |= TcpOpt.MSS;
        if (olen >= 4) v.tcpMss = ((b[p + 2] as number) << 8) | (b[p + 3] as number);
        break;
      case 3:
        opts |= TcpOpt.WSCALE;
        if (olen >= 3) v.tcpWscale = b[p + 2] as number;
        break;
      case 4:
        opts |= TcpOpt.SACK_PERM;
        break;
      case 5:
        opts |= TcpOpt.SACK;
        break;
      case 8:
        opts |= TcpOpt.TIMESTAMP;
        break;
      case 34:
        opts |= TcpOpt.FAST_OPEN;
        break;
      default:
        opts |= TcpOpt.OTHER;
    }
    p += olen;
  }
  v.tcpOpts = opts;
  if (hdrEnd > end) {
    v.status |= Status.TRUNCATED;
    return;
  }
  v.payloadOff = hdrEnd;
  v.payloadLen = end - hdrEnd;
  v.payloadWireLen = wireLen - hlen;
  if (v.payloadLen > 0) decodeApp(v, 6, hdrEnd, end);
}
