/**
 * pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html).
 *
 * Handles several sections (each with its own byte order and interface table), several
 * interfaces with different link types and timestamp resolutions/offsets, Enhanced, Simple and
 * obsolete Packet Blocks. Every other block type, and every option we do not need, is skipped by
 * its length field. A block whose length fields disagree is damage we cannot step over.
 */
import type { PacketView } from '../../decode/view.js';
import type { Prefilter, RecordParser } from './parser.js';
import { MAX_RECORD, type ParserStats } from './parser.js';

const SHB = 0x0a0d0d0a;
const BOM = 0x1a2b3c4d;
const IDB = 1;
const OPB = 2;
const SPB = 3;
const EPB = 6;
/** Blocks larger than this are treated as corrupt (a packet block holds at most MAX_RECORD). */
const MAX_BLOCK = 16 * 1024 * 1024;

interface Iface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second (10^k or 2^k). */
  unitsPerSec: number;
  /** if_tsoffset: seconds added to every timestamp. */
  offsetSec: number;
  /** Cache for the high 32 bits of the last timestamp, so the 64-bit split needs no BigInt per packet. */
  cachedHigh: number;
  cachedSec: number;
  cachedRem: number;
}

export class PcapngParser implements RecordParser {
  readonly format = 'pcapng' as const;
  readonly linkTypes: number[] = [];
  fatal: string | null = null;
  prefilter: Prefilter | null = null;
  private le = true;
  private inSection = false;
  private ifaces: Iface[] = [];
  sections = 0;

  constructor(
    private readonly view: PacketView,
    private readonly emit: (v: PacketView) => void,
    private readonly stats: ParserStats,
  ) {}

  parse(buf: Uint8Array, start: number, end: number): number {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let p = start;
    while (end - p >= 12) {
      const typeLE = dv.getUint32(p, true);
      if (typeLE === SHB) {
        // Byte order is decided by the byte-order magic, which follows the length.
        const bomLE = dv.getUint32(p + 8, true);
        if (bomLE === BOM) this.le = true;
        else if (dv.getUint32(p + 8, false) === BOM) this.le = false;
        else {
          this.fatal = `bad pcapng byte-order magic at byte ${this.stats.consumed + (p - start)}`;
          this.stats.malformed++;
          return end;
        }
      } else if (!this.inSection) {
        this.fatal = 'not a pcapng file (no section header block)';
        return end;
      }
      const le = this.le;
      const type = dv.getUint32(p, le);
      const len = dv.getUint32(p + 4, le);
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
        this.fatal = `corrupt pcapng block (type ${type}, length ${len}) at byte ${this.stats.consumed + (p - start)}`;
        this.stats.malformed++;
        return end;
      }
      if (end - p < len) break; // incomplete block
      if (dv.getUint32(p + len - 4, le) !== len) {
        this.fatal = `corrupt pcapng block (trailing length mismatch) at byte ${this.stats.consumed + (p - start)}`;
        this.stats.malformed++;
        return end;
      }
      switch (type) {
        case SHB:
          this.inSection = true;
          this.sections++;
          this.ifaces = [];
          break;
        case IDB:
          this.readIdb(buf, dv, p, len);
          break;
        case EPB:
        case OPB:
          this.readPacketBlock(buf, dv, p, len, type);
          break;
        case SPB:
          this.readSimple(buf, dv, p, len);
          break;
        default:
          this.stats.skippedBlocks++;
      }
      p += len;
    }
    return p;
  }

  private readIdb(buf: Uint8Array, dv: DataView, p: number, len: number): void {
    const le = this.le;
    if (len < 20) {
      this.stats.malformed++;
      return;
    }
    const linkType = dv.getUint16(p + 8, le);
    const snaplen = dv.getUint32(p + 12, le);
    const iface: Iface = {
      linkType,
      snaplen,
      unitsPerSec: 1e6,
      offsetSec: 0,
      cachedHigh: -1,
      cachedSec: 0,
      cachedRem: 0,
    };
    // Options: code(2) length(2) value padded to 4; opt_endofopt = 0.
    let o = p + 16;
    const stop = p + len - 4;
    while (o + 4 <= stop) {
      const code = dv.getUint16(o, le);
      const olen = dv.getUint16(o + 2, le);
      if (code === 0) break;
      if (o + 4 + olen > stop) break;
      if (code === 9 && olen >= 1) {
        const r = buf[o + 4] as number;
        // MSB clear: negative power of 10; set: negative power of 2.
        iface.unitsPerSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** (r & 0x7f);
      } else if (code === 14 && olen >= 8) {
        const lo = dv.getUint32(o + 4, le);
        const hi = dv.getInt32(o + 8, le);
        iface.offsetSec = hi * 4294967296 + lo;
      }
      o += 4 + ((olen + 3) & ~3);
    }
    this.ifaces.push(iface);
    if (!this.linkTypes.includes(linkType)) this.linkTypes.push(linkType);
  }

  private readPacketBlock(buf: Uint8Array, dv: DataView, p: number, len: number, type: number): void {
    const le = this.le;
    if (len < 32) {
      this.stats.malformed++;
      return;
    }
    const ifId = type === EPB ? dv.getUint32(p + 8, le) : dv.getUint16(p + 8, le);
    const iface = this.ifaces[ifId];
    const high = dv.getUint32(p + 12, le);
    const low = dv.getUint32(p + 16, le);
    const caplen = dv.getUint32(p + 20, le);
    const wirelen = dv.getUint32(p + 24, le);
    const dataOff = p + 28;
    if (iface === undefined || caplen > MAX_RECORD || dataOff + caplen > p + len - 4) {
      this.stats.malformed++;
      return;
    }
    if (iface.snaplen !== 0 && caplen > iface.snaplen) this.stats.caplenOverSnaplen++;
    this.setTime(iface, high, low);
    this.emitFrame(buf, dataOff, caplen, wirelen, iface, ifId);
  }

  private readSimple(buf: Uint8Array, dv: DataView, p: number, len: number): void {
    const iface = this.ifaces[0];
    if (iface === undefined || len < 16) {
      this.stats.malformed++;
      return;
    }
    const wirelen = dv.getUint32(p + 8, this.le);
    let caplen = len - 16;
    if (wirelen < caplen) caplen = wirelen;
    if (iface.snaplen !== 0 && caplen > iface.snaplen) caplen = iface.snaplen;
    // Simple Packet Blocks carry no timestamp.
    this.view.tsSec = 0;
    this.view.tsNsec = 0;
    this.emitFrame(buf, p + 12, caplen, wirelen, iface, 0);
  }

  /** Split a 64-bit count of `unitsPerSec` ticks into seconds + nanoseconds without BigInt per packet. */
  private setTime(iface: Iface, high: number, low: number): void {
    const u = iface.unitsPerSec;
    if (iface.cachedHigh !== high) {
      const ticks = BigInt(high) << 32n;
      const ub = BigInt(u);
      iface.cachedSec = Number(ticks / ub);
      iface.cachedRem = Number(ticks % ub);
      iface.cachedHigh = high;
    }
    const rem = iface.cachedRem + low; // < u + 2^32: exact in a double
    const extra = Math.floor(rem / u);
    const frac = rem - extra * u;
    this.view.tsSec = iface.cachedSec + extra + iface.offsetSec;
    this.view.tsNsec = u === 1e9 ? frac : Math.floor((frac * 1e9) / u);
  }

  private emitFrame(buf: Uint8Array, off: number, caplen: number, wirelen: number, iface: Iface, ifId: number): void {
    const v = this.view;
    if (this.prefilter !== null && !this.prefilter(buf, off, caplen, iface.linkType, v.tsSec)) return;
    v.buf = buf;
    v.frameOff = off;
    v.caplen = caplen;
    v.frameEnd = off + caplen;
    v.wirelen = wirelen < caplen ? caplen : wirelen;
    v.linkType = iface.linkType;
    v.ifIndex = ifId;
    this.emit(v);
  }
}
