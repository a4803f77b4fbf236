/**
 * Minimal classic-pcap writer for the what-if outputs (--dropped / --passed): nanosecond
 * timestamps, the capture's link type, frames copied as captured. Opened lazily on the first
 * packet so the link type comes from the input.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const BUF = 1 << 20;

export class PcapOut {
  private fd = -1;
  private readonly buf = new Uint8Array(BUF);
  private readonly dv = new DataView(this.buf.buffer);
  private len = 0;
  private linkType = -1;
  packets = 0;
  /** Frames not written because their link type differs from the file's. */
  skipped = 0;

  constructor(readonly path: string) {}

  write(linkType: number, frame: Uint8Array, off: number, caplen: number, wirelen: number, tsSec: number, tsNsec: number): void {
    if (this.fd < 0) {
      this.fd = openSync(this.path, 'w');
      this.linkType = linkType;
      const h = new DataView(new ArrayBuffer(24));
      h.setUint32(0, 0xa1b23c4d, true);
      h.setUint16(4, 2, true);
      h.setUint16(6, 4, true);
      h.setUint32(16, 262144, true);
      h.setUint32(20, linkType, true);
      writeSync(this.fd, new Uint8Array(h.buffer));
    }
    if (linkType !== this.linkType) {
      this.skipped++;
      return;
    }
    if (this.len + 16 + caplen > BUF) this.flush();
    if (16 + caplen > BUF) {
      const rec = new Uint8Array(16 + caplen);
      const d = new DataView(rec.buffer);
      d.setUint32(0, tsSec, true);
      d.setUint32(4, tsNsec, true);
      d.setUint32(8, caplen, true);
      d.setUint32(12, wirelen, true);
      rec.set(frame.subarray(off, off + caplen), 16);
      writeSync(this.fd, rec);
    } else {
      this.dv.setUint32(this.len, tsSec, true);
      this.dv.setUint32(this.len + 4, tsNsec, true);
      this.dv.setUint32(this.len + 8, caplen, true);
      this.dv.setUint32(this.len + 12, wirelen, true);
      this.buf.set(frame.subarray(off, off + caplen), this.len + 16);
      this.len += 16 + caplen;
    }
    this.packets++;
  }

  private flush(): void {
    if (this.len > 0 && this.fd >= 0) writeSync(this.fd, this.buf.subarray(0, this.len));
    this.len = 0;
  }

  close(): void {
    if (this.fd < 0) {
      // No packet: still leave a valid, empty capture (Ethernet).
      this.write(1, new Uint8Array(0), 0, 0, 0, 0, 0);
      this.packets = 0;
      this.len = 0;
    }
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
