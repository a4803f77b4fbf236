/**
 * Is an input an access log rather than a capture? Captures start with a magic number (pcap in
 * either byte order and precision, pcapng's section header); a log is text. Gzip is looked
 * through. stdin (`-`) is not sniffed here (it can be read once): it is a capture unless
 * --format or --as log says otherwise.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';

const MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a];

async function head(path: string, n: number): Promise<Buffer> {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(n);
  let got = 0;
  try {
    got = readSync(fd, buf, 0, n, 0);
  } finally {
    closeSync(fd);
  }
  const b = buf.subarray(0, got);
  if (got < 2 || b[0] !== 0x1f || b[1] !== 0x8b) return b;
  // Gzip: the first bytes of what it holds.
  return await new Promise<Buffer>((resolve) => {
    const z = createGunzip();
    const s = createReadStream(path);
    let done = false;
    const finish = (x: Buffer): void => {
      if (done) return;
      done = true;
      s.destroy();
      z.destroy();
      resolve(x);
    };
    z.once('data', (c: Buffer) => finish(c.subarray(0, n)));
    z.once('error', () => finish(Buffer.alloc(0)));
    z.once('end', () => finish(Buffer.alloc(0)));
    s.once('error', () => finish(Buffer.alloc(0)));
    s.pipe(z);
  });
}

export async function looksLikeAccessLog(path: string): Promise<boolean> {
  if (path === '-') return false;
  let b: Buffer;
  try {
    b = await head(path, 4096);
  } catch {
    return false; // the capture reader says why the file cannot be read
  }
  if (b.length < 4) return false;
  const m = b.readUInt32BE(0);
  if (MAGICS.includes(m)) return false;
  // Mostly text: printable bytes, tabs and newlines (UTF-8 above 0x7f allowed). A log may hold a
  // binary line or two (counted as malformed later); a capture without its magic is not text.
  let text = 0;
  for (const c of b) if (c >= 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) text++;
  return text >= 0.9 * b.length && b.includes(0x0a);
}
