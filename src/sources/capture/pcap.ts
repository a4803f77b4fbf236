/**
 * Classic libpcap file format (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-03.html).
 *
 * A push parser over a byte window: the driver (capture.ts) hands it [start, end) of its buffer,
 * it emits every complete record and returns where the first incomplete one begins. It never
 * copies packet bytes: the view points into the driver's buffer.
 */
import type { PacketView } from '../../decode/view.js';
import type { ParserStats, Prefilter, RecordParser } from './parser.js';
import { MAX_RECORD } from './parser.js';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;

export class PcapParser implements RecordParser {
  readonly format = 'pcap' as const;
  private headerDone = false;
  private le = true;
  private nano = false;
  snaplen = 0;
  linkType = 0;
  readonly linkTypes: number[] = [];
  /** Set when the stream cannot be parsed further (bogus record header). */
  fatal: string | null = null;
  prefilter: Prefilter | null = null;

  constructor(
    private readonly view: PacketView,
    private readonly emit: (v: PacketView) => void,
    private readonly stats: ParserStats,
  ) {}

  parse(buf: Uint8Array, start: number, end: number): number {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let p = start;
    if (!this.headerDone) {
      if (end - p < 24) return p;
      const magicLE = dv.getUint32(p, true);
      if (magicLE === PCAP_MAGIC_US || magicLE === PCAP_MAGIC_NS) this.le = true;
      else {
        const magicBE = dv.getUint32(p, false);
        if (magicBE !== PCAP_MAGIC_US && magicBE !== PCAP_MAGIC_NS) {
          this.fatal = 'not a pcap file (bad magic)';
          return end;
        }
        this.le = false;
      }
      const magic = dv.getUint32(p, this.le);
      this.nano = magic === PCAP_MAGIC_NS;
      this.snaplen = dv.getUint32(p + 16, this.le);
      // The top bits of the link-type word can carry an FCS length (pcap spec §4.1): mask them.
      this.linkType = dv.getUint32(p + 20, this.le) & 0x0fffffff;
      this.linkTypes.push(this.linkType);
      this.headerDone = true;
      p += 24;
    }
    const v = this.view;
    const le = this.le;
    const snap = this.snaplen === 0 ? MAX_RECORD : this.snaplen;
    while (end - p >= 16) {
      const sec = dv.getUint32(p, le);
      const frac = dv.getUint32(p + 4, le);
      const caplen = dv.getUint32(p + 8, le);
      const wirelen = dv.getUint32(p + 12, le);
      if (caplen > MAX_RECORD || (!this.nano && frac >= 1_000_000) || (this.nano && frac >= 1_000_000_000)) {
        // A record header that lies about its length leaves no way to find the next record.
        this.fatal = `corrupt record header at byte ${this.stats.consumed + (p - start)} (caplen ${caplen})`;
        this.stats.malformed++;
        return end;
      }
      if (end - p - 16 < caplen) break; // incomplete: wait for more bytes
      if (this.prefilter !== null && !this.prefilter(buf, p + 16, caplen, this.linkType, sec)) {
        p += 16 + caplen;
        continue;
      }
      if (caplen > snap) this.stats.caplenOverSnaplen++;
      v.buf = buf;
      v.frameOff = p + 16;
      v.caplen = caplen;
      v.frameEnd = p + 16 + caplen;
      v.wirelen = wirelen < caplen ? caplen : wirelen;
      v.tsSec = sec;
      v.tsNsec = this.nano ? frac : frac * 1000;
      v.linkType = this.linkType;
      v.ifIndex = 0;
      this.emit(v);
      p += 16 + caplen;
    }
    return p;
  }
}
