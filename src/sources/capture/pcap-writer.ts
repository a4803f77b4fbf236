/**
 * Classic pcap writer (libpcap format, little-endian) with a large reusable output buffer.
 *
 * Frames are built in place: `reserve(max)` hands out the buffer and the offset where the next
 * frame's bytes go (after the 16-byte record header), the caller writes the frame there and calls
 * `commit(caplen, wirelen, sec, frac)`. Nothing is allocated per packet, which is what lets the
 * scenario generator write millions of frames a second. `frac` is nanoseconds or microseconds
 * according to `nano`.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const DEFAULT_BUF = 8 << 20;

export interface PcapWriterOptions {
  linkType?: number;
  /** Nanosecond timestamps (magic a1b23c4d); microseconds otherwise. Default true. */
  nano?: boolean;
  snaplen?: number;
  bufferBytes?: number;
}

export class PcapWriter {
  readonly buf: Uint8Array;
  private readonly dv: DataView;
  private fd: number;
  private len = 0;
  packets = 0;
  bytes = 0;
  readonly nano: boolean;

  constructor(
    readonly path: string,
    opts: PcapWriterOptions = {},
  ) {
    this.nano = opts.nano ?? true;
    this.buf = new Uint8Array(opts.bufferBytes ?? DEFAULT_BUF);
    this.dv = new DataView(this.buf.buffer);
    this.fd = openSync(path, 'w');
    const dv = this.dv;
    dv.setUint32(0, this.nano ? 0xa1b23c4d : 0xa1b2c3d4, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    dv.setUint32(8, 0, true);
    dv.setUint32(12, 0, true);
    dv.setUint32(16, opts.snaplen ?? 262144, true);
    dv.setUint32(20, opts.linkType ?? 1, true);
    this.len = 24;
  }

  /** Make room for a frame of at most `max` bytes; returns the offset in `buf` where it starts. */
  reserve(max: number): number {
    if (this.len + 16 + max > this.buf.length) {
      this.flush();
      if (16 + max > this.buf.length) throw new RangeError(`frame of ${max} bytes exceeds the writer's buffer`);
    }
    return this.len + 16;
  }

  /** Finish the frame written at the offset `reserve` returned. */
  commit(caplen: number, wirelen: number, sec: number, frac: number): void {
    const o = this.len;
    const dv = this.dv;
    dv.setUint32(o, sec, true);
    dv.setUint32(o + 4, frac, true);
    dv.setUint32(o + 8, caplen, true);
    dv.setUint32(o + 12, wirelen, true);
    this.len = o + 16 + caplen;
    this.packets++;
    this.bytes += wirelen;
  }

  /** Copy a whole frame (for callers that already hold one). */
  write(frame: Uint8Array, off: number, caplen: number, wirelen: number, sec: number, frac: number): void {
    const at = this.reserve(caplen);
    this.buf.set(frame.subarray(off, off + caplen), at);
    this.commit(caplen, wirelen, sec, frac);
  }

  flush(): void {
    if (this.len > 0 && this.fd >= 0) {
      let done = 0;
      while (done < this.len) done += writeSync(this.fd, this.buf, done, this.len - done);
    }
    this.len = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
