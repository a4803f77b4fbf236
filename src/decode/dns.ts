/**
 * DNS (RFC 1035) over UDP (53, mDNS 5353, LLMNR 5355) and TCP (two-byte length prefix): the
 * header, the four section counts and the first question. The question name is rewritten into
 * the view's `dnsName` scratch as dotted text, because the wire form (length-prefixed labels,
 * possibly compressed) cannot be pointed at.
 *
 * Hostile packets put compression pointers in questions, point them at themselves or at each
 * other, and claim names longer than the packet: the walk follows at most MAX_POINTERS
 * pointers, only ever backwards, and gives up (dnsNameLen = -1) rather than loop or overrun.
 */
import { App, type PacketView } from './view.js';

const MAX_POINTERS = 8;
/** RFC 1035 caps a name at 255 wire octets, so its dotted text is at most 253 characters. */
const MAX_NAME = 253;

/**
 * Decode a DNS message at [off, end). Returns false (and leaves the view untouched) when the
 * bytes cannot be a DNS header, so the caller can try another decoder.
 */
export function decodeDns(v: PacketView, off: number, end: number): boolean {
  v.appDirty = true; // its fields are written below: the next reset clears them
  if (end - off < 12) return false;
  const b = v.buf;
  const flags = ((b[off + 2] as number) << 8) | (b[off + 3] as number);
  // Opcodes 0-6 are assigned; Z (0x0040) must be zero. Garbage on port 53 rarely passes both.
  if (((flags >> 11) & 15) > 6 || (flags & 0x0040) !== 0) return false;
  v.app = App.DNS;
  v.dnsId = ((b[off] as number) << 8) | (b[off + 1] as number);
  v.dnsFlags = flags;
  const qd = ((b[off + 4] as number) << 8) | (b[off + 5] as number);
  v.dnsQdCount = qd;
  v.dnsAnCount = ((b[off + 6] as number) << 8) | (b[off + 7] as number);
  v.dnsNsCount = ((b[off + 8] as number) << 8) | (b[off + 9] as number);
  v.dnsArCount = ((b[off + 10] as number) << 8) | (b[off + 11] as number);
  if (qd === 0) return true;
  const after = readName(v, off, off + 12, end);
  if (after < 0) return true;
  if (after + 4 <= end) {
    v.dnsQtype = ((b[after] as number) << 8) | (b[after + 1] as number);
    v.dnsQclass = ((b[after + 2] as number) << 8) | (b[after + 3] as number);
  }
  return true;
}

/** DNS over TCP (RFC 7766): a two-byte message length, then the message. */
export function decodeDnsTcp(v: PacketView, off: number, end: number): boolean {
  v.appDirty = true; // its fields are written below: the next reset clears them
  if (end - off < 14) return false;
  const b = v.buf;
  const len = ((b[off] as number) << 8) | (b[off + 1] as number);
  if (len < 12) return false;
  const stop = Math.min(off + 2 + len, end);
  return decodeDns(v, off + 2, stop);
}

/**
 * Walk the name at `p` (message starts at `msg`) into v.dnsName. Returns the offset just after
 * the name in the question (after the first pointer, if any), or -1 if the name is unreadable.
 */
function readName(v: PacketView, msg: number, p: number, end: number): number {
  const b = v.buf;
  const out = v.dnsName;
  let n = 0;
  let after = -1;
  let jumps = 0;
  // Pointers must go strictly backwards from the lowest position seen so far: that alone
  // rules out loops; the jump cap bounds the work on long backward chains.
  let floor = p;
  for (;;) {
    if (p >= end) return -1;
    const len = b[p] as number;
    if (len === 0) {
      if (after < 0) after = p + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (p + 1 >= end || ++jumps > MAX_POINTERS) return -1;
      const target = msg + (((len & 0x3f) << 8) | (b[p + 1] as number));
      if (after < 0) after = p + 2;
      if (target >= floor) return -1;
      floor = target;
      p = target;
      continue;
    }
    if (kind !== 0) return -1; // 0x40 / 0x80: extended and obsolete label types
    if (p + 1 + len > end) return -1;
    if (n + (n > 0 ? 1 : 0) + len > MAX_NAME) return -1;
    if (n > 0) out[n++] = 0x2e;
    for (let i = 1; i <= len; i++) out[n++] = b[p + i] as number;
    p += 1 + len;
  }
  v.dnsNameLen = n;
  return after;
}

/** The first question name as text ('' for the root name and when there is no question). */
export function dnsQname(v: PacketView): string {
  if (v.dnsNameLen <= 0) return '';
  return Buffer.from(v.dnsName.buffer, v.dnsName.byteOffset, v.dnsNameLen).toString('latin1');
}
