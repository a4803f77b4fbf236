/**
 * Where a node keeps the events NATS has not acknowledged yet, so a sensor that loses NATS (or is
 * restarted while it is away) catches up without loss when it returns (issue 19, "Faults").
 *
 * On disk (`Spool`): append-only segment files `seg-<n>.jsonl` in one directory, one JSON line per
 * event `{"s":subject,"i":msgId,"d":data}`, written and fsync'd once per batch (everything appended
 * in one turn of the event loop). Reading is a cursor over the segments, oldest first; `commit()`
 * marks everything read so far as acknowledged, records that position in `cursor.json` (so a
 * restart does not resend what was acknowledged) and deletes a segment only once every record in
 * it was. A restart never appends to an old segment, so the torn tail of a crash stays where it
 * is: a line that does not parse (a truncated or corrupt record) is counted and skipped, never
 * fatal. The store is bounded: an append past `maxBytes` is refused, and the caller counts it.
 *
 * In memory (`MemorySpool`): the same queue in an array, for nodes configured without a spool
 * directory; it bounds memory the same way and is lost with the process.
 *
 * One process per directory: two writers would interleave segments.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/** One event as the bus sends it: `data` is the JSON text of the payload. */
export interface SpoolRecord {
  subject: string;
  msgId: string;
  data: string;
}

/** The queue the bus resends from, oldest first; `read` advances a cursor, `commit` acknowledges up to it, `rewind` returns to the last commit. */
export interface SpoolQueue {
  /** Adds a record at the end; false (and nothing stored) when the bound would be exceeded. */
  append(r: SpoolRecord): boolean;
  /** Writes and fsyncs what was appended (a no-op in memory). */
  sync(): void;
  /** Up to `max` records after the cursor, which moves past them. */
  read(max: number): SpoolRecord[];
  /** Everything read so far is acknowledged: it will not be read again, even after a restart. */
  commit(): void;
  /** Read again from the last commit (the records read since were not all acknowledged). */
  rewind(): void;
  /** Records not yet committed (including those read since the last commit). */
  readonly count: number;
  /** Bytes held (on disk: the size of the segment files plus what awaits its write). */
  readonly bytes: number;
  /** Corrupt or truncated records skipped so far. */
  readonly corrupt: number;
  close(): void;
}

/** Size of a record in the bound: its JSON line. */
function line(r: SpoolRecord): string {
  return `{"s":${JSON.stringify(r.subject)},"i":${JSON.stringify(r.msgId)},"d":${r.data}}\n`;
}

/** A record from its line, or null when the line is not one (truncated, corrupt). */
function parseLine(text: string): SpoolRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = v as { s?: unknown; i?: unknown; d?: unknown };
  if (typeof o.s !== 'string' || typeof o.i !== 'string' || !('d' in o)) return null;
  return { subject: o.s, msgId: o.i, data: JSON.stringify(o.d) ?? 'null' };
}

export class MemorySpool implements SpoolQueue {
  private items: { r: SpoolRecord; size: number }[] = [];
  /** Index of the first record not committed, and of the next one to read. */
  private head = 0;
  private cursor = 0;
  private held = 0;
  readonly corrupt = 0;

  constructor(private readonly maxBytes: number) {}

  append(r: SpoolRecord): boolean {
    const size = Buffer.byteLength(line(r));
    if (this.held + size > this.maxBytes) return false;
    this.items.push({ r, size });
    this.held += size;
    return true;
  }
  sync(): void {}
  read(max: number): SpoolRecord[] {
    const end = Math.min(this.items.length, this.cursor + max);
    const out = this.items.slice(this.cursor, end).map((x) => x.r);
    this.cursor = end;
    return out;
  }
  commit(): void {
    for (let i = this.head; i < this.cursor; i++) this.held -= (this.items[i] as { size: number }).size;
    this.head = this.cursor;
    // Compact once the acknowledged prefix is the bigger part, so the array does not grow for ever.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.cursor -= this.head;
      this.head = 0;
    }
  }
  rewind(): void {
    this.cursor = this.head;
  }
  get count(): number {
    return this.items.length - this.head;
  }
  get bytes(): number {
    return this.held;
  }
  close(): void {}
}

export interface SpoolOptions {
  dir: string;
  /** Bound on the bytes held (default 256 MiB). */
  maxBytes?: number;
  /** A segment is closed and a new one started past this size (default 8 MiB, at most a quarter of maxBytes). */
  segmentBytes?: number;
  /** A batched write that failed (the records stay buffered and are written with the next batch). */
  onError?: (e: Error) => void;
}

interface Position {
  segment: number;
  offset: number;
}

const SEGMENT = /^seg-(\d{12})\.jsonl$/;
const segName = (n: number) => `seg-${String(n).padStart(12, '0')}.jsonl`;
const NL = 0x0a;

export class Spool implements SpoolQueue {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly segmentBytes: number;
  /** Size of each segment file present, oldest first (Map keeps insertion order, segments are added in order). */
  private readonly sizes = new Map<number, number>();
  /** The segment appended to (null: none yet in this process), its descriptor. */
  private active: number | null = null;
  private fd: number | null = null;
  private nextSegment: number;
  private buffer: string[] = [];
  private bufferBytes = 0;
  private committed: Position;
  private cursor: Position;
  /** Lines (records and corrupt ones) passed by the cursor since the last commit. */
  private readLines = 0;
  /** Lines not yet committed. */
  private lines = 0;
  private skipped = 0;
  /** Furthest position whose corrupt lines were counted already (a rewind reads them again). */
  private countedTo: Position = { segment: -1, offset: 0 };
  private syncScheduled = false;
  private readonly onError: (e: Error) => void;

  constructor(o: SpoolOptions) {
    this.dir = o.dir;
    this.onError = o.onError ?? (() => {});
    this.maxBytes = o.maxBytes ?? 256 * 1024 * 1024;
    this.segmentBytes = o.segmentBytes ?? Math.max(64 * 1024, Math.min(8 * 1024 * 1024, Math.floor(this.maxBytes / 4)));
    mkdirSync(this.dir, { recursive: true });
    const found = readdirSync(this.dir)
      .map((f) => SEGMENT.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const saved = this.readCursor();
    for (const n of found) {
      if (saved !== null && n < saved.segment) this.unlink(n);
      else this.sizes.set(n, statSync(this.path(n)).size);
    }
    // Numbers only grow, past the saved cursor too: a segment numbered below it would be taken
    // for an acknowledged one and deleted at the next start.
    const floor = saved?.segment ?? 0;
    this.committed =
      saved !== null && this.sizes.has(saved.segment)
        ? { segment: saved.segment, offset: Math.min(saved.offset, this.sizes.get(saved.segment) as number) }
        : { segment: floor, offset: 0 };
    this.cursor = { ...this.committed };
    this.nextSegment = Math.max(floor, ...this.sizes.keys()) + 1;
    for (const [n, size] of this.sizes) this.lines += this.countLines(n, n === this.committed.segment ? this.committed.offset : 0, size);
  }

  append(r: SpoolRecord): boolean {
    const text = line(r);
    const size = Buffer.byteLength(text);
    if (this.bytes + size > this.maxBytes) return false;
    this.buffer.push(text);
    this.bufferBytes += size;
    this.lines++;
    // One write and one fsync for everything appended in this turn of the event loop.
    if (!this.syncScheduled) {
      this.syncScheduled = true;
      setImmediate(() => {
        try {
          this.sync();
        } catch (e) {
          this.onError(e as Error);
        }
      });
    }
    return true;
  }

  /** Throws what the file system throws (full disk); the records then stay buffered for the next attempt. */
  sync(): void {
    this.syncScheduled = false;
    if (this.buffer.length === 0) return;
    if (this.active === null || this.fd === null) this.openSegment();
    const n = this.active as number;
    const data = Buffer.from(this.buffer.join(''));
    try {
      let done = 0;
      while (done < data.length) done += writeSync(this.fd as number, data, done, data.length - done);
      fsyncSync(this.fd as number);
    } catch (e) {
      // Part of the batch may be in the file: that segment is closed as it is (a resent record is
      // de-duplicated by its id), and the next attempt writes the whole batch to a new one.
      this.closeSegment();
      this.sizes.set(n, statSync(this.path(n)).size);
      throw e;
    }
    this.buffer = [];
    this.bufferBytes = 0;
    const size = (this.sizes.get(n) ?? 0) + data.length;
    this.sizes.set(n, size);
    if (size >= this.segmentBytes) this.closeSegment();
  }

  read(max: number): SpoolRecord[] {
    this.sync();
    const out: SpoolRecord[] = [];
    while (out.length < max) {
      const size = this.sizes.get(this.cursor.segment);
      if (size === undefined || this.cursor.offset >= size) {
        // At the end of a closed segment: on to the next one; at the end of the active one (or of all): done.
        if (this.cursor.segment === this.active || !this.advanceSegment()) break;
        continue;
      }
      const chunk = this.readChunk(this.cursor.segment, this.cursor.offset, size);
      let at = 0;
      while (out.length < max) {
        const nl = chunk.indexOf(NL, at);
        if (nl < 0) break;
        const r = parseLine(chunk.toString('utf8', at, nl));
        const pos = { segment: this.cursor.segment, offset: this.cursor.offset + at };
        if (r !== null) out.push(r);
        else if (after(pos, this.countedTo)) {
          this.skipped++;
          this.countedTo = pos;
        }
        this.readLines++;
        at = nl + 1;
      }
      if (at === 0 && chunk.indexOf(NL) < 0) {
        // No complete line left: the torn tail of a segment written before a crash (ours never are).
        const pos = { ...this.cursor };
        if (after(pos, this.countedTo)) {
          this.skipped++;
          this.countedTo = pos;
        }
        this.cursor.offset = size;
        continue;
      }
      this.cursor.offset += at;
    }
    return out;
  }

  commit(): void {
    this.committed = { ...this.cursor };
    // (A batch written twice after a failed write may hold more lines than were appended.)
    this.lines = Math.max(0, this.lines - this.readLines);
    this.readLines = 0;
    // Segments wholly acknowledged go; so does the active one when everything in it is.
    for (const n of [...this.sizes.keys()]) {
      if (n < this.committed.segment) this.unlink(n);
    }
    const size = this.sizes.get(this.committed.segment);
    if (size !== undefined && this.committed.offset >= size && this.bufferBytes === 0) {
      if (this.committed.segment === this.active) this.closeSegment();
      this.unlink(this.committed.segment);
      const next = this.sizes.keys().next();
      this.committed = { segment: next.done ? this.nextSegment : next.value, offset: 0 };
      this.cursor = { ...this.committed };
    }
    this.writeCursor();
  }

  rewind(): void {
    this.cursor = { ...this.committed };
    this.readLines = 0;
  }

  get count(): number {
    return this.lines;
  }
  get bytes(): number {
    let n = this.bufferBytes;
    for (const s of this.sizes.values()) n += s;
    return n;
  }
  get corrupt(): number {
    return this.skipped;
  }

  close(): void {
    this.sync();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.active = null;
  }

  private path(n: number): string {
    return join(this.dir, segName(n));
  }

  private openSegment(): void {
    const n = this.nextSegment++;
    this.fd = openSync(this.path(n), 'a');
    this.active = n;
    this.sizes.set(n, fstatSync(this.fd).size);
    // The new name must survive a crash too: fsync the directory (where the platform allows it).
    try {
      const d = openSync(this.dir, 'r');
      try {
        fsyncSync(d);
      } finally {
        closeSync(d);
      }
    } catch {}
  }

  private closeSegment(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.active = null;
  }

  private unlink(n: number): void {
    try {
      unlinkSync(this.path(n));
    } catch {}
    this.sizes.delete(n);
  }

  /** Moves the cursor to the start of the next segment present; false when there is none. */
  private advanceSegment(): boolean {
    for (const n of this.sizes.keys()) {
      if (n > this.cursor.segment) {
        this.cursor = { segment: n, offset: 0 };
        return true;
      }
    }
    return false;
  }

  /** Bytes of a segment from `offset`: at least one whole line when there is one, 256 KiB or so otherwise. */
  private readChunk(n: number, offset: number, size: number): Buffer {
    const fd = openSync(this.path(n), 'r');
    try {
      let len = Math.min(size - offset, 256 * 1024);
      for (;;) {
        const buf = Buffer.allocUnsafe(len);
        const got = readSync(fd, buf, 0, len, offset);
        const chunk = buf.subarray(0, got);
        if (chunk.indexOf(NL) >= 0 || offset + got >= size || got < len) return chunk;
        len = Math.min(size - offset, len * 2);
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Newlines from `from` to `size`, read in 1 MiB chunks (a full spool is 256 MiB). */
  private countLines(n: number, from: number, size: number): number {
    if (from >= size) return 0;
    const fd = openSync(this.path(n), 'r');
    const buf = Buffer.allocUnsafe(1 << 20);
    let lines = 0;
    try {
      for (let at = from; at < size; ) {
        const got = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
        if (got === 0) break;
        const view = buf.subarray(0, got);
        for (let i = view.indexOf(NL); i >= 0; i = view.indexOf(NL, i + 1)) lines++;
        at += got;
      }
    } finally {
      closeSync(fd);
    }
    return lines;
  }

  private readCursor(): Position | null {
    const p = join(this.dir, 'cursor.json');
    if (!existsSync(p)) return null;
    try {
      const v = JSON.parse(readFileSync(p, 'utf8')) as Partial<Position>;
      return typeof v.segment === 'number' && typeof v.offset === 'number' ? { segment: v.segment, offset: v.offset } : null;
    } catch {
      return null;
    }
  }

  private writeCursor(): void {
    const p = join(this.dir, 'cursor.json');
    writeFileSync(`${p}.tmp`, JSON.stringify(this.committed));
    renameSync(`${p}.tmp`, p);
  }
}

function after(a: Position, b: Position): boolean {
  return a.segment > b.segment || (a.segment === b.segment && a.offset > b.offset);
}
