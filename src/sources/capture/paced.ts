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
  /** play the capture this many times, each round's times after the last's (classic pcap; default 1) */
  loops?: number;
}

/** Where the replay is: the capture time now corresponds to (for a consumer's clock). */
export interface PaceClock {
  /**
   * Capture time (ms) the replay has delivered up to at wall time `now` (NaN before the first
   * record): the time `now` stands for, but never past a record that was due and is still held
   * (a replay running behind, its reader slow or the machine busy). A consumer that closes
   * seconds by this clock never closes one whose packets are yet to come.
   */
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
  /** Adds `sec` to the time of the record at `at`. */
  shift(buf: Buffer, at: number, sec: number): void {
    if (this.le) buf.writeUInt32LE((buf.readUInt32LE(at) + sec) >>> 0, at);
    else buf.writeUInt32BE((buf.readUInt32BE(at) + sec) >>> 0, at);
  }
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
  const loops = Math.max(1, Math.floor(opts.loops ?? 1));
  const state: PaceState = { ts0: Number.NaN, wall0: Number.NaN, lastTs: Number.NaN, heldTs: Number.NaN, handedTs: Number.NaN, speed, now, tickMs, path };

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
    const gz = head[0] === 0x1f && head[1] === 0x8b;
    let offsetSec = 0;
    for (let loop = 0; loop < loops; loop++) {
      const raw = createReadStream(path);
      const src: AsyncIterable<Buffer> = gz ? raw.pipe(createGunzip()) : raw;
      yield* pacedStream(src, state, loop, offsetSec);
      // the next round plays the same records a whole second after this one's last
      offsetSec = Math.ceil((state.lastTs - state.ts0) / 1000) + 1 + offsetSec;
    }
    // All handed on: from here the wall clock alone says where the replay stands.
    state.handedTs = Number.NaN;
  }
  if (clock)
    clock.current = {
      captureMs: (w) => {
        if (Number.isNaN(state.ts0)) return Number.NaN;
        const t = state.ts0 + (w - state.wall0) * speed;
        const bound = Number.isNaN(state.heldTs) ? state.handedTs : state.heldTs;
        return Number.isNaN(bound) ? t : Math.min(t, bound);
      },
    };

  return Readable.from(paced(), { objectMode: false });
}

interface PaceState {
  ts0: number;
  wall0: number;
  /** the latest record time played (ms, before any loop offset) */
  lastTs: number;
  /**
   * What the clock may not pass (ms, loop offset included): the first record read and not yet
   * handed on (NaN when none is held); else the last one handed on, since the next one, not read
   * yet, may come right after it (NaN once the capture has all been handed on).
   */
  heldTs: number;
  handedTs: number;
  speed: number;
  now: () => number;
  tickMs: number;
  path: string;
}

/**
 * One pass over the capture's bytes: records go out when due, in batches that are slices of the
 * chunk read (no copy per record). Rounds after the first (`loop` > 0, pcap only) leave out the
 * file header and shift every record's time by `offsetSec`, so a short capture stands for a
 * long run without time going backwards.
 */
async function* pacedStream(src: AsyncIterable<Buffer>, st: PaceState, loop: number, offsetSec: number): AsyncGenerator<Buffer> {
  let framing: Framing | null = null;
  let buf: Buffer = Buffer.alloc(0);
  /** the time of the last record read (ms, loop offset included) */
  let lastTs = Number.NaN;
  for await (const chunk of src) {
    // a later round rewrites record times: on a copy, so the read buffers stay as read
    buf = buf.length === 0 ? (loop > 0 ? Buffer.from(chunk) : chunk) : Buffer.concat([buf, chunk]);
    let at = 0;
    let from = 0;
    let since = st.now();
    for (;;) {
      if (framing === null) {
        if (buf.length - at < 4) break;
        const m = buf.readUInt32LE(at);
        const be = buf.readUInt32BE(at);
        if (m === 0x0a0d0d0a) framing = new PcapngFraming();
        else if (m === 0xa1b2c3d4 || m === 0xa1b23c4d || be === 0xa1b2c3d4 || be === 0xa1b23c4d) framing = new PcapFraming();
        else throw new InputError(`${st.path}: not a pcap or pcapng capture (magic 0x${be.toString(16).padStart(8, '0')})`, 'E_FORMAT');
        if (loop > 0 && !(framing instanceof PcapFraming)) throw new InputError(`${st.path}: only classic pcap can be looped`, 'E_USAGE');
      }
      const start = at;
      const r = framing.next(buf, at, buf.length);
      if (r === null) break;
      at += r.size;
      if (Number.isNaN(r.tsMs)) {
        // the file header: sent once, in the first round
        if (loop > 0) {
          if (start > from) yield buf.subarray(from, start);
          from = at;
        }
        continue;
      }
      if (offsetSec > 0) (framing as PcapFraming).shift(buf, start, offsetSec);
      const ts = r.tsMs + offsetSec * 1000;
      st.lastTs = r.tsMs;
      lastTs = ts;
      if (Number.isNaN(st.ts0)) {
        st.ts0 = ts;
        st.wall0 = st.now();
      }
      // Held (not handed on) until a yield includes it; the first such record is the clock's bound.
      if (Number.isNaN(st.heldTs)) st.heldTs = ts;
      const wait = st.wall0 + (ts - st.ts0) / st.speed - st.now();
      if (wait > 0) {
        st.heldTs = ts;
        if (start > from) yield buf.subarray(from, start);
        from = start;
        await sleep(Math.max(1, wait));
        since = st.now();
      } else if (start > from && st.now() - since >= st.tickMs) {
        st.heldTs = ts;
        yield buf.subarray(from, start);
        from = start;
        since = st.now();
      }
    }
    if (!Number.isNaN(st.heldTs)) st.handedTs = lastTs;
    st.heldTs = Number.NaN;
    if (at > from) yield buf.subarray(from, at);
    buf = buf.subarray(at);
  }
  st.heldTs = Number.NaN;
  if (buf.length > 0) yield Buffer.from(buf);
}
