/**
 * A sampled packet inside a flow record — sFlow's raw packet header, IPFIX's dataLinkFrameSection
 * (IE 315) or ipHeaderPacketSection (IE 313) — decoded through decode/ into the view's PacketView,
 * so every packet field and vector works on it, and its addresses, ports and flags copied into the
 * FlowView's own fields.
 */
import { decodeFrame } from '../../decode/frame.js';
import { FlowFlag, type FlowView } from './record-view.js';

/** Decode b[off, end) captured with link type `link` (decode/view.ts Link) from a frame of `wirelen` bytes. */
export function decodeSampledHeader(v: FlowView, b: Uint8Array, off: number, end: number, link: number, wirelen: number, nowMs: number): void {
  const pv = v.packet;
  pv.buf = b;
  pv.frameOff = off;
  pv.frameEnd = end;
  pv.caplen = end - off;
  pv.wirelen = wirelen > 0 ? wirelen : end - off;
  pv.linkType = link;
  pv.tsSec = Math.floor(nowMs / 1000);
  pv.tsNsec = (nowMs - pv.tsSec * 1000) * 1e6;
  pv.reset();
  decodeFrame(pv);
  v.hasPacket = true;
  // A header cut at the sampler's snap length is the normal case (TRUNCATED), not damage.
  if (pv.status & ~1) v.flags |= FlowFlag.HEADER_DAMAGED;
  if (pv.ipVersion === 0) return;
  v.ipVersion = pv.ipVersion;
  v.src4 = pv.src4;
  v.dst4 = pv.dst4;
  v.src6Off = pv.src6Off;
  v.dst6Off = pv.dst6Off;
  v.proto = pv.ipProto;
  v.srcPort = pv.srcPort;
  v.dstPort = pv.dstPort;
  v.tcpFlags = pv.tcpFlags;
  v.tos = (pv.ipDscp << 2) | pv.ipEcn;
  if (pv.l4Proto === 1 || pv.l4Proto === 58) v.icmpTypeCode = (pv.icmpType << 8) | pv.icmpCode;
}
