/**
 * Is an input an access log rather than a capture? Captures start with a magic number (pcap in
 * either byte order and precision, pcapng's section header); a log is text. Gzip is looked
 * through. stdin (`-`) is not sniffed here (it can be read once): it is a capture unless
 * --format or --as log says otherwise.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { detectFormat } from '../sources/accesslog/parsers.js';

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
    // Enough to hold whole lines past a hostile one (a 200 KB line first must not hide the rest).
    b = await head(path, 256 * 1024);
  } catch {
    return false; // the capture reader says why the file cannot be read
  }
  if (b.length < 4) return false;
  const m = b.readUInt32BE(0);
  if (MAGICS.includes(m)) return false;
  // Mostly text: printable bytes, tabs and newlines (UTF-8 above 0x7f allowed). A log may hold a
  // binary line or two (counted as malformed later); a capture without its magic is not text.
  let text = 0;
  const n = Math.min(b.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = b[i] as number;
    if (c >= 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) text++;
  }
  if (text < 0.9 * n || !b.includes(0x0a)) return false;
  // Text that no built-in format reads (a README) is neither: the capture reader says so.
  const lines = b.toString('latin1').split('\n').slice(0, -1).slice(0, 200);
  const d = detectFormat(lines);
  return d.parsed > 0 && d.parsed >= 0.5 * d.tried;
}
