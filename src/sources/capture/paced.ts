/**
 * A capture file played at its own pace (`palisade monitor --replay FILE --speed X`): the file's
 * bytes come out as a stream, each record when the wall clock reaches its timestamp (scaled by
 * the speed), so the reader downstream is the very one that reads `tcpdump -w -` live — a drill
 * exercises the live path, not a shortcut around it.
 *
 * Records are found by their framing only (pcap record headers; pcapng block lengths, with the
 * interface's timestamp resolution and offset for Enhanced Packet Blocks); everything else
 * passes through untouched, in order. Gzip is read through. Due records go out in batches at
 * most every `tickMs`, so a fast replay is not a syscall per packet.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../../core/errors.js';

export interface PaceOptions {
  /** 1: real time; 10: ten times faster (default 1) */
  speed?: number;
  /** wall clock, ms (default Date.now) */
  now?: () => number;
  /** longest a batch waits for company (default 10 ms) */
  tickMs?: number;
}

/** Where the replay is: the capture time now corresponds to (for a consumer's clock). */
export interface PaceClock {
  /** Capture time (ms) that corresponds to wall time `now` (NaN before the first record). */
  captureMs(now: number): number;
}

/** A record found in the stream: its bytes end at `end`; `tsMs` its time (NaN: not a packet). */
interface Framing {
  /** the next complete unit in buf[at..len): its length and time, or null when more bytes are needed */
  next(buf: Buffer, at: number, len: number): { size: number; tsMs: number } | null;
}

class PcapFraming implements Framing {
  private header = true;
  private le = true;
  private nano = false;
  next(buf: Buffer, at: number, len: number): { size: number; tsMs: number } | null {
    if (this.header) {
      if (len - at < 24) return null;
      const m = buf.readUInt32LE(at);
      this.le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
      const magic = this.le ? m : buf.readUInt32BE(at);
      this.nano = magic === 0xa1b23c4d;
      this.header = false;
      return { size: 24, tsMs: Number.NaN };
    }
    if (len - at < 16) return null;
    const sec = this.le ? buf.readUInt32LE(at) : buf.readUInt32BE(at);
    const frac = this.le ? buf.readUInt32LE(at + 4) : buf.readUInt32BE(at + 4);
    const incl = this.le ? buf.readUInt32LE(at + 8) : buf.readUInt32BE(at + 8);
    if (incl > 256 * 1024 * 1024) throw new InputError(`record of ${incl} bytes: not a capture this replay can pace`, 'E_FORMAT');
    if (len - at < 16 + incl) return null;
    return { size: 16 + incl, tsMs: sec * 1000 + (this.nano ? frac / 1e6 : frac / 1e3) };
  }
}

class PcapngFraming implements Framing {
  private le = true;
  /** per interface of the current section: ticks per second and offset (s) */
  private ifaces: { perSec: number; offset: number }[] = [];
  next(buf: Buffer, at: number, len: number): { size: number; tsMs: number } | null {
    if (len - at < 12) return null;
    const type = buf.readUInt32LE(at);
    if (type === 0x0a0d0d0a) {
      this.le = buf.readUInt32LE(at + 8) === 0x1a2b3c4d;
      this.ifaces = [];
    }
    const size = this.le ? buf.readUInt32LE(at + 4) : buf.readUInt32BE(at + 4);
    if (size < 12 || size % 4 !== 0 || size > 256 * 1024 * 1024) throw new InputError(`pcapng block of ${size} bytes at a record boundary: damaged capture`, 'E_FORMAT');
    if (len - at < size) return null;
    const u32 = (o: number): number => (this.le ? buf.readUInt32LE(at + o) : buf.readUInt32BE(at + o));
    const t = u32(0);
    if (t === 1) this.ifaces.push(this.interfaceOf(buf, at, size));
    if (t === 6 && size >= 28) {
      const iface = this.ifaces[u32(8)] ?? { perSec: 1e6, offset: 0 };
      const ticks = u32(12) * 2 ** 32 + u32(16);
      return { size, tsMs: (ticks / iface.perSec + iface.offset) * 1000 };
    }
    return { size, tsMs: Number.NaN };
  }

  /** An Interface Description Block's timestamp resolution (if_tsresol) and offset (if_tsoffset). */
  private interfaceOf(buf: Buffer, at: number, size: number): { perSec: number; offset: number } {
    let perSec = 1e6;
    let offset = 0;
    let o = at + 16;
    const end = at + size - 4;
    while (o + 4 <= end) {
      const code = this.le ? buf.readUInt16LE(o) : buf.readUInt16BE(o);
      const n = this.le ? buf.readUInt16LE(o + 2) : buf.readUInt16BE(o + 2);
      if (code === 0) break;
      if (code === 9 && n >= 1) {
        const r = buf[o + 4] as number;
        perSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** (r & 0x7f);
      } else if (code === 14 && n >= 8) {
        offset = this.le ? Number(buf.readBigInt64LE(o + 4)) : Number(buf.readBigInt64BE(o + 4));
      }
      o += 4 + ((n + 3) & ~3);
    }
    return { perSec, offset };
  }
}

/**
 * The capture at `path` as a stream paced by its timestamps. `clock` (filled) tells which
 * capture time the wall clock stands for, for consumers that must advance time without packets.
 */
export function pacedCapture(path: string, opts: PaceOptions = {}, clock?: { current: PaceClock | null }): Readable {
  const speed = opts.speed ?? 1;
  if (!(speed > 0)) throw new InputError(`--speed must be above 0, got ${speed}`, 'E_USAGE');
  const now = opts.now ?? Date.now;
  const tickMs = opts.tickMs ?? 10;
  let wall0 = Number.NaN;
  let ts0 = Number.NaN;
  if (clock) clock.current = { captureMs: (w) => (Number.isNaN(ts0) ? Number.NaN : ts0 + (w - wall0) * speed) };

  async function* paced(): AsyncGenerator<Buffer> {
    let head: Buffer;
    try {
      const fd = openSync(path, 'r');
      head = Buffer.alloc(2);
      readSync(fd, head, 0, 2, 0);
      closeSync(fd);
    } catch (e) {
      throw new InputError(`${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 'E_INPUT');
    }
    const raw = createReadStream(path);
    const src: AsyncIterable<Buffer> = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
    yield* pacedStream(src, speed, now, tickMs, path, (t, w) => {
      ts0 = t;
      wall0 = w;
    });
  }

  return Readable.from(paced(), { objectMode: false });
}

/** The walk of `pacedCapture` over an arbitrary byte source (gzip's output). */
async function* pacedStream(
  src: AsyncIterable<Buffer>,
  speed: number,
  now: () => number,
  tickMs: number,
  path: string,
  started: (ts0: number, wall0: number) => void,
): AsyncGenerator<Buffer> {
  let framing: Framing | null = null;
  let buf: Buffer = Buffer.alloc(0);
  let out: Buffer[] = [];
  let outSince = Number.NaN;
  let ts0 = Number.NaN;
  let wall0 = Number.NaN;
  for await (const chunk of src) {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let at = 0;
    for (;;) {
      if (framing === null) {
        if (buf.length - at < 4) break;
        const m = buf.readUInt32LE(at);
        const be = buf.readUInt32BE(at);
        if (m === 0x0a0d0d0a) framing = new PcapngFraming();
        else if (m === 0xa1b2c3d4 || m === 0xa1b23c4d || be === 0xa1b2c3d4 || be === 0xa1b23c4d) framing = new PcapFraming();
        else throw new InputError(`${path}: not a pcap or pcapng capture (magic 0x${be.toString(16).padStart(8, '0')})`, 'E_FORMAT');
      }
      const r = framing.next(buf, at, buf.length);
      if (r === null) break;
      const piece = buf.subarray(at, at + r.size);
      at += r.size;
      if (!Number.isNaN(r.tsMs)) {
        if (Number.isNaN(ts0)) {
          ts0 = r.tsMs;
          wall0 = now();
          started(ts0, wall0);
        }
        const wait = wall0 + (r.tsMs - ts0) / speed - now();
        if (wait > 0) {
          if (out.length > 0) {
            yield Buffer.concat(out);
            out = [];
          }
          await sleep(Math.max(1, wait));
        } else if (out.length > 0 && now() - outSince >= tickMs) {
          yield Buffer.concat(out);
          out = [];
        }
      }
      if (out.length === 0) outSince = now();
      out.push(Buffer.from(piece));
    }
    buf = buf.subarray(at);
  }
  if (out.length > 0) yield Buffer.concat(out);
  if (buf.length > 0) yield Buffer.from(buf);
}
