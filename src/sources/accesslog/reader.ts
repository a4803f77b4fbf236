/**
 * readAccessLog: one or more access logs, records in time order, into one callback. Each input
 * has its own format (given, or detected on its first lines); a line that does not parse is
 * counted and its number kept (the first MAX_LINE_NUMBERS of them), never fatal.
 *
 * One input is read chunk by chunk with no await per line; several are merged by the time of
 * their next record (each input parses ahead one record into its own view).
 */
import { type AccessLogFileInfo, LineHandler } from './handler.js';
import { ChunkSplitter, inputChunks, MAX_LINE } from './lines.js';
import { type LineParser, parserFor } from './parsers.js';
import type { TextParseOptions } from './text-parser.js';
import type { HttpLogView } from './view.js';

export type { AccessLogFileInfo } from './handler.js';

/** Lines looked at to choose a format. */
export const DETECT_LINES = 50;

export interface AccessLogOptions extends TextParseOptions {
  /** A built-in name, `nginx:...`/`apache:...` or a format string; detected per input when absent. */
  format?: string | LineParser;
  /** Stop between chunks when aborted; the info then says how far it got. */
  signal?: AbortSignal;
  onProgress?: (done: number, total?: number) => void;
}

export interface AccessLogInfo {
  records: number;
  error: string | null;
  files: AccessLogFileInfo[];
  /** The format of the first input (all of them are in `files`). */
  format: string;
  detected: boolean;
  lines: number;
  malformed: number;
  skipped: number;
  truncatedFields: number;
  /**
   * The parser each input was read with (by file index; null for an input that had no line): a
   * caller reads a kept line again with it, whatever the format was (a built-in, detected, or a
   * format string).
   */
  parsers: Array<LineParser | null>;
}

/**
 * One input's lines, parsed one record ahead. Lines are read in place in the pieces of text the
 * splitter makes (lines.ts ChunkSplitter): the parser gets (text, start, end), not a string per line.
 */
export class LogCursor {
  readonly lines: LineHandler;
  /** Pieces of text read and not yet handled; null stands for a line over MAX_LINE. */
  private texts: Array<string | null> = [];
  /** The piece being handled (index in texts) and the position of its next line. */
  private ti = 0;
  private pos = 0;
  private begun = false;
  private lineNo = 0;
  private done = false;
  private readonly splitter: ChunkSplitter;
  private readonly chunks: AsyncGenerator<Buffer>;

  constructor(
    readonly path: string,
    readonly fileIndex: number,
    parser: LineParser | null,
    private readonly opts: TextParseOptions,
  ) {
    this.lines = new LineHandler(path, parser);
    this.lines.view.fileIndex = fileIndex;
    this.splitter = new ChunkSplitter(
      (t) => this.texts.push(t),
      () => this.texts.push(null),
    );
    this.chunks = inputChunks(path);
  }

  get view(): HttpLogView {
    return this.lines.view;
  }
  get info(): AccessLogFileInfo {
    return this.lines.info;
  }
  get bytes(): number {
    return this.splitter.bytes;
  }

  /** The first n lines queued (overlong ones as ''), for format detection. */
  private firstLines(n: number): string[] {
    const out: string[] = [];
    for (const t of this.texts) {
      if (t === null) {
        out.push('');
      } else {
        for (let p = 0; p < t.length && out.length < n; ) {
          let nl = t.indexOf('\n', p);
          if (nl < 0) nl = t.length;
          const b = nl > p && t.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
          out.push(b - p > MAX_LINE ? '' : t.slice(p, b));
          p = nl + 1;
        }
      }
      if (out.length >= n) break;
    }
    return out;
  }

  /** The next piece of text to handle: the queue's, then the current chunk's (made as asked). */
  private more(): boolean {
    if (this.ti < this.texts.length) return true;
    // Handled pieces are let go (one piece alive at a time).
    this.texts.length = 0;
    this.ti = 0;
    const t = this.splitter.nextPiece();
    if (t === null) return false;
    this.texts.push(t);
    return true;
  }

  /** Read the next chunk (the queue and the last chunk are handled); false at the end of the input. */
  private async fill(): Promise<boolean> {
    this.texts.length = 0;
    this.ti = 0;
    this.pos = 0;
    this.begun = false;
    while (!this.done) {
      const r = await this.chunks.next();
      if (r.done) {
        this.splitter.end();
        this.done = true;
      } else this.splitter.push(r.value);
      if (!this.lines.hasParser) {
        // Detection wants DETECT_LINES lines; keep reading chunks until it has them (or the end).
        // The chunk's pieces go to the queue now (the next chunk may reuse its buffer).
        for (let t = this.splitter.nextPiece(); t !== null; t = this.splitter.nextPiece()) this.texts.push(t);
        const first = this.firstLines(DETECT_LINES);
        if (first.length < DETECT_LINES && !this.done) continue;
        this.lines.detect(first, this.opts);
      }
      if (this.more()) return true;
    }
    return this.more();
  }

  /**
   * Handle queued lines until one makes a record (true, the record in this.view) or the queue is
   * empty (false); with onRecord, every record goes there and the whole queue is handled.
   */
  private run(onRecord: ((v: HttpLogView) => void) | null): boolean {
    const h = this.lines;
    const texts = this.texts;
    // One record at a time (merging inputs): a parser given as an object may be every input's,
    // and another input's lines went through it meanwhile.
    if (onRecord === null) this.begun = false;
    while (this.more()) {
      const t = texts[this.ti];
      if (t === null || t === undefined) {
        this.ti++;
        h.overlong(++this.lineNo);
        continue;
      }
      if (!this.begun) {
        h.beginText(t);
        this.begun = true;
      }
      const n = t.length;
      let p = this.pos;
      while (p < n) {
        let nl = t.indexOf('\n', p);
        if (nl < 0) nl = n;
        const b = nl > p && t.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl;
        const no = ++this.lineNo;
        const a = p;
        p = nl + 1;
        if (b - a > MAX_LINE) h.overlong(no);
        else if (h.handleRange(t, a, b, no)) {
          if (onRecord === null) {
            this.pos = p;
            return true;
          }
          onRecord(h.view);
        }
      }
      this.ti++;
      this.pos = 0;
      this.begun = false;
    }
    return false;
  }

  /** Advance to the next record (in this.view); false at the end. */
  async next(): Promise<boolean> {
    for (;;) {
      if (this.run(null)) return true;
      if (!(await this.fill())) return false;
    }
  }

  /** Every remaining record to onRecord, synchronously within each chunk. */
  async drain(onRecord: (v: HttpLogView) => void, signal?: AbortSignal, progress?: () => void): Promise<void> {
    for (;;) {
      this.run(onRecord);
      if (progress) progress();
      if (signal?.aborted) return;
      if (!(await this.fill())) return;
    }
  }

  /** Stop reading (closes the file when the input ended early). */
  async close(): Promise<void> {
    await this.chunks.return(undefined);
  }
}

function parserOf(f: AccessLogOptions['format'], opts: TextParseOptions): LineParser | null {
  if (f === undefined) return null;
  return typeof f === 'string' ? parserFor(f, opts) : f;
}

/** Read `inputs` (paths, `-` for stdin) in time order into onRecord. */
export async function readAccessLog(inputs: string | readonly string[], onRecord: (v: HttpLogView) => void, opts: AccessLogOptions = {}): Promise<AccessLogInfo> {
  const paths = typeof inputs === 'string' ? [inputs] : inputs;
  const cursors = paths.map((p, i) => new LogCursor(p, i, parserOf(opts.format, opts), opts));
  let error: string | null = null;
  try {
    if (cursors.length === 1) {
      const c = cursors[0];
      await c.drain(onRecord, opts.signal, opts.onProgress ? () => opts.onProgress?.(c.bytes) : undefined);
    } else await merge(cursors, onRecord, opts.signal);
  } catch (e) {
    // A damaged gzip stream ends the read where it broke: what came before is kept and said.
    if (e instanceof Error && (e as NodeJS.ErrnoException).code?.startsWith('Z_')) error = e.message;
    else throw e;
  } finally {
    for (const c of cursors) await c.close();
  }
  const files = cursors.map((c) => c.info);
  const sum = (k: 'records' | 'lines' | 'malformed' | 'skipped' | 'truncatedFields'): number => files.reduce((n, f) => n + f[k], 0);
  return {
    records: sum('records'),
    error,
    files,
    format: files[0]?.format ?? '',
    detected: files[0]?.detected ?? false,
    lines: sum('lines'),
    malformed: sum('malformed'),
    skipped: sum('skipped'),
    truncatedFields: sum('truncatedFields'),
    parsers: cursors.map((c) => c.lines.lineParser),
  };
}

/** The time a record sorts by: records without a time go out as soon as they are met. */
function key(v: HttpLogView): number {
  return Number.isNaN(v.timeMs) ? Number.NEGATIVE_INFINITY : v.timeMs;
}

/** k-way merge by record time; equal times keep input order (a stable merge). */
async function merge(cursors: LogCursor[], onRecord: (v: HttpLogView) => void, signal?: AbortSignal): Promise<void> {
  const live: LogCursor[] = [];
  for (const c of cursors) if (await c.next()) live.push(c);
  while (live.length > 0) {
    if (signal?.aborted) return;
    let best = 0;
    for (let i = 1; i < live.length; i++) if (key(live[i].view) < key(live[best].view)) best = i;
    const c = live[best];
    onRecord(c.view);
    if (!(await c.next())) live.splice(best, 1);
  }
}
