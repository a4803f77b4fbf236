/**
 * Lines out to stdout as the bytes they were read as. The readers hand lines over as latin1
 * strings (one char per byte), so writing them back as latin1 gives the input's bytes, bad UTF-8
 * and all: `palisade filter` on a log prints a valid log of the same format.
 *
 * Lines are gathered into one buffer and written a megabyte at a time; a write per line would
 * cost more than the filter itself.
 */
const SIZE = 1 << 20;

export class LineOut {
  private buf = Buffer.allocUnsafe(SIZE);
  private n = 0;

  constructor(private readonly write: (b: Buffer) => void = (b) => void process.stdout.write(b)) {}

  line(text: string): void {
    const need = text.length + 1;
    if (this.n + need > this.buf.length) {
      this.flush();
      if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
    }
    this.n += this.buf.write(text, this.n, 'latin1');
    this.buf[this.n++] = 0x0a;
  }

  /** Write what is gathered; the buffer handed out is not reused (stdout may still hold it). */
  flush(): void {
    if (this.n === 0) return;
    const full = this.buf.subarray(0, this.n);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.n = 0;
    this.write(full);
  }
}
