/**
 * readCapture: the one entry point for packet files and streams.
 *
 * Trusts the magic number, not the file name (several real ".pcapng" files are classic pcap).
 * Plain files are read with readSync into one reusable buffer (the fast path: no stream
 * machinery, no per-chunk allocation); gzip files and stdin go through streams, copied into the
 * same kind of buffer. Memory stays constant: one buffer, grown only for a record that does not
 * fit (bounded by MAX_RECORD / the pcapng block limit).
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../../core/errors.js';
import { decodeFrame } from '../../decode/frame.js';
import { PacketView, Status } from '../../decode/view.js';
import { ParserStats, type Prefilter, type RecordParser } from './parser.js';
import { PCAP_MAGIC_NS, PCAP_MAGIC_US, PcapParser } from './pcap.js';
import { PcapngParser } from './pcapng.js';

export interface CaptureInfo {
  file: string;
  format: 'pcap' | 'pcapng';
  compressed: boolean;
  linkTypes: number[];
  /** Frames read (every record, whether or not it decoded fully). */
  packets: number;
  /** Sum of original (wire) lengths. */
  bytes: number;
  skipped: { truncated: number; malformed: number; unsupported: number };
  /** Tolerated oddities, counted so nothing is silent. */
  anomalies: { caplen_over_snaplen: number; skipped_blocks: number };
  /** Set when reading stopped early because the file is damaged. */
  error: string | null;
}

export interface ReadOptions {
  /** Run the decoders (default true). False gives frame fields only. */
  decode?: boolean;
  /** Called after each chunk: bytes consumed so far and the total when known. */
  onProgress?: (done: number, total?: number) => void;
  /**
   * A cheap look at a record's frame bytes before anything else is done with it; records it
   * refuses are neither decoded, nor passed on, nor counted. For passes that want a few records
   * of a large file (detection's catch-up measurement).
   */
  prefilter?: Prefilter;
  /** Decode TCP application data and QUIC (default true; see PacketView.streamApps). */
  streamApps?: boolean;
  /** The view to fill (a source keeps one so its clock can read the latest record's time); a new one by default. */
  view?: PacketView;
  /** Read these bytes instead of the file (a paced replay, a capture process's output); the
   * path only names them in messages. */
  stream?: Readable;
}

const CHUNK = 4 * 1024 * 1024;

export async function readCapture(path: string, onPacket: (v: PacketView) => void, opts: ReadOptions = {}): Promise<CaptureInfo> {
  const decode = opts.decode !== false;
  const view = opts.view ?? new PacketView();
  view.streamApps = opts.streamApps !== false;
  const stats = new ParserStats();
  let packets = 0;
  let bytes = 0;
  let truncated = 0;
  let malformed = 0;
  let unsupported = 0;

  const emit = (v: PacketView): void => {
    packets++;
    bytes += v.wirelen;
    if (decode) {
      v.reset();
      decodeFrame(v);
      const s = v.status;
      if (s !== 0) {
        if (s & Status.UNSUPPORTED) unsupported++;
        else if (s & Status.MALFORMED) malformed++;
        else if (s & Status.TRUNCATED) truncated++;
      }
    }
    onPacket(v);
  };

  let parser: RecordParser | null = null;
  let compressed = false;
  let buf: Uint8Array = new Uint8Array(CHUNK);
  let len = 0;

  const chooseParser = (): boolean => {
    if (len < 4) return false;
    const dv = new DataView(buf.buffer, buf.byteOffset, 4);
    const le = dv.getUint32(0, true);
    const be = dv.getUint32(0, false);
    let p: RecordParser;
    if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS) p = new PcapParser(view, emit, stats);
    else if (le === 0x0a0d0d0a) p = new PcapngParser(view, emit, stats);
    else throw new InputError(`${path}: not a pcap or pcapng capture (magic 0x${be.toString(16).padStart(8, '0')})`, 'E_FORMAT');
    p.prefilter = opts.prefilter ?? null;
    parser = p;
    return true;
  };

  /** Parse what is buffered; keep the incomplete tail at the front. Returns false on fatal damage. */
  const drain = (): boolean => {
    if (parser === null && !chooseParser()) return true;
    const p = parser as RecordParser;
    const used = p.parse(buf, 0, len);
    stats.consumed += used;
    if (used > 0) {
      buf.copyWithin(0, used, len);
      len -= used;
    }
    if (p.fatal !== null) return false;
    if (len === buf.length) {
      // One record is larger than the buffer: grow (bounded by the parsers' own limits).
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    return true;
  };

  const finish = (total?: number): CaptureInfo => {
    const p = parser as RecordParser | null;
    if (p === null) {
      if (len === 0) throw new InputError(`${path}: empty input (not a capture)`, 'E_FORMAT');
      throw new InputError(`${path}: too short to be a capture (${len} bytes)`, 'E_FORMAT');
    }
    let error = p.fatal;
    if (error !== null && stats.consumed === 0 && packets === 0 && p.linkTypes.length === 0) {
      throw new InputError(`${path}: ${error}`, 'E_FORMAT');
    }
    if (error === null && len > 0) {
      // Bytes left that do not make a whole record: the file was cut off.
      stats.truncatedRecords++;
      error = `file ends in the middle of a record (${len} bytes left over)`;
    }
    if (opts.onProgress) opts.onProgress(stats.consumed + len, total);
    return {
      file: path,
      format: p.format,
      compressed,
      linkTypes: [...p.linkTypes],
      packets,
      bytes,
      skipped: {
        truncated: truncated + stats.truncatedRecords,
        malformed: malformed + stats.malformed,
        unsupported,
      },
      anomalies: { caplen_over_snaplen: stats.caplenOverSnaplen, skipped_blocks: stats.skippedBlocks },
      error,
    };
  };

  if (opts.stream !== undefined) return readStream(opts.stream, undefined);
  if (path === '-') {
    return readStream(process.stdin, undefined);
  }

  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new InputError(`${path}: ${why}`, 'E_INPUT');
  }
  const total = fstatSync(fd).size;
  const head = new Uint8Array(2);
  const n = readSync(fd, head, 0, 2, 0);
  if (n === 2 && head[0] === 0x1f && head[1] === 0x8b) {
    closeSync(fd);
    compressed = true;
    return readStream(createReadStream(path).pipe(createGunzip()), total);
  }
  try {
    let pos = 0;
    for (;;) {
      const got = readSync(fd, buf, len, buf.length - len, pos);
      if (got === 0) break;
      pos += got;
      len += got;
      if (!drain()) {
        len = 0;
        break;
      }
      if (opts.onProgress) opts.onProgress(pos, total);
    }
  } finally {
    closeSync(fd);
  }
  return finish(total);

  async function readStream(stream: Readable, total: number | undefined): Promise<CaptureInfo> {
    let raw = 0;
    try {
      if (path === '-') {
        // gzip on stdin: look at the first chunk, put it back, and read through a gunzip stage.
        // (Leaving a for-await loop to switch streams destroys stdin on Node 22+ before the pipe
        // has carried the rest, so the stream is never iterated before the choice is made.)
        const head = await firstChunk(stream);
        if (head !== null) stream.unshift(head);
        if (head !== null && head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
          compressed = true;
          const gunzip = createGunzip();
          stream.on('error', (e) => gunzip.destroy(e));
          return await readRest(stream.pipe(gunzip), total);
        }
      }
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        raw += chunk.length;
        if (!feed(chunk)) break;
        if (opts.onProgress) opts.onProgress(raw, total);
      }
    } catch (e) {
      return readFailed(e, total);
    }
    return finish(total);
  }

  /** A read error before anything parsed means the input is unreadable; after, keep what was read. */
  function readFailed(e: unknown, total: number | undefined): CaptureInfo {
    if (e instanceof InputError) throw e;
    if (packets === 0 && parser === null) throw new InputError(`${path}: ${(e as Error).message}`, 'E_INPUT');
    const info = finish(total);
    info.error = `read error: ${(e as Error).message}`;
    return info;
  }

  async function readRest(stream: Readable, total: number | undefined): Promise<CaptureInfo> {
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (!feed(chunk)) break;
      }
    } catch (e) {
      return readFailed(e, total);
    }
    return finish(total);
  }

  /** Copy a stream chunk into the work buffer, parsing as it fills. */
  function feed(chunk: Buffer): boolean {
    let c = 0;
    while (c < chunk.length) {
      const room = buf.length - len;
      const take = Math.min(room, chunk.length - c);
      buf.set(chunk.subarray(c, c + take), len);
      len += take;
      c += take;
      if (len === buf.length || c === chunk.length) {
        if (!drain()) {
          len = 0;
          return false;
        }
      }
    }
    return true;
  }
}

/** The first chunk a stream delivers, or null when it ends empty; nothing is lost (the caller unshifts it). */
async function firstChunk(stream: Readable): Promise<Buffer | null> {
  for (;;) {
    const chunk = stream.read() as Buffer | null;
    if (chunk !== null) return chunk;
    if (stream.readableEnded || stream.destroyed) return null;
    await new Promise<void>((resolve, reject) => {
      const settle = () => {
        stream.off('readable', settle);
        stream.off('end', settle);
        stream.off('error', fail);
        resolve();
      };
      const fail = (e: Error) => {
        stream.off('readable', settle);
        stream.off('end', settle);
        stream.off('error', fail);
        reject(e);
      };
      stream.on('readable', settle);
      stream.on('end', settle);
      stream.on('error', fail);
    });
  }
}
