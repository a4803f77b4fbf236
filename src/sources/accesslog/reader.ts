/**
 * readAccessLog: one or more access logs, records in time order, into one callback. Each input
 * has its own format (given, or detected on its first lines); a line that does not parse is
 * counted and its number kept (the first MAX_LINE_NUMBERS of them), never fatal.
 *
 * One input is read chunk by chunk with no await per line; several are merged by the time of
 * their next record (each input parses ahead one record into its own view).
 */

import { inputChunks, LineSplitter } from './lines.js';
import { detectFormat, isSkippable, type LineParser, parserFor } from './parsers.js';
import type { TextParseOptions } from './text-parser.js';
import { HttpLogView } from './view.js';

/** Malformed line numbers kept per input (all are counted). */
export const MAX_LINE_NUMBERS = 100;
/** Lines looked at to choose a format. */
export const DETECT_LINES = 50;

export interface AccessLogOptions extends TextParseOptions {
  /** A built-in name, `nginx:...`/`apache:...` or a format string; detected per input when absent. */
  format?: string | LineParser;
  /** Stop between chunks when aborted; the info then says how far it got. */
  signal?: AbortSignal;
  onProgress?: (done: number, total?: number) => void;
}

export interface AccessLogFileInfo {
  file: string;
  /** The format used, and whether it was detected (with every candidate's score on the sample). */
  format: string;
  detected: boolean;
  detection?: Array<{ name: string; parsed: number }>;
  /** Lines seen, records made, lines that did not parse, blank and `#` lines skipped. */
  lines: number;
  records: number;
  malformed: number;
  skipped: number;
  /** 1-based numbers of the first malformed lines. */
  malformedLines: number[];
  /** Lines over MAX_LINE (counted as malformed too) and fields cut at MAX_FIELD. */
  overlongLines: number;
  truncatedFields: number;
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
}

/** One input's lines, parsed one record ahead. */
export class LogCursor {
  readonly view = new HttpLogView();
  readonly info: AccessLogFileInfo;
  private lines: string[] = [];
  private nos: number[] = [];
  private over: boolean[] = [];
  private i = 0;
  private done = false;
  private readonly splitter: LineSplitter;
  private readonly chunks: AsyncGenerator<Buffer>;

  constructor(
    readonly path: string,
    readonly fileIndex: number,
    private parser: LineParser | null,
    private readonly opts: TextParseOptions,
  ) {
    this.info = {
      file: path,
      format: parser?.name ?? '',
      detected: parser === null,
      lines: 0,
      records: 0,
      malformed: 0,
      skipped: 0,
      malformedLines: [],
      overlongLines: 0,
      truncatedFields: 0,
    };
    this.view.fileIndex = fileIndex;
    this.splitter = new LineSplitter((l, n, o) => {
      this.lines.push(l);
      this.nos.push(n);
      this.over.push(o);
    });
    this.chunks = inputChunks(path);
  }

  get bytes(): number {
    return this.splitter.bytes;
  }

  /** Parse one line; true when it made a record (in this.view). */
  private handle(line: string, no: number, overlong: boolean): boolean {
    const info = this.info;
    info.lines++;
    if (overlong) {
      info.overlongLines++;
      this.bad(no);
      return false;
    }
    if (isSkippable(line)) {
      info.skipped++;
      return false;
    }
    const v = this.view;
    if ((this.parser as LineParser).parse(line, v)) {
      v.lineNo = no;
      info.records++;
      info.truncatedFields += v.truncated;
      return true;
    }
    this.bad(no);
    return false;
  }

  private bad(no: number): void {
    const info = this.info;
    info.malformed++;
    if (info.malformedLines.length < MAX_LINE_NUMBERS) info.malformedLines.push(no);
  }

  /** Read the next chunk into the line queue; false at the end of the input. */
  private async fill(): Promise<boolean> {
    this.lines.length = 0;
    this.nos.length = 0;
    this.over.length = 0;
    this.i = 0;
    while (!this.done) {
      const r = await this.chunks.next();
      if (r.done) {
        this.splitter.end();
        this.done = true;
      } else this.splitter.push(r.value);
      if (this.parser === null) {
        // Detection wants DETECT_LINES lines; keep reading chunks until it has them (or the end).
        if (this.lines.length < DETECT_LINES && !this.done) continue;
        const d = detectFormat(this.lines.slice(0, DETECT_LINES), this.opts);
        this.parser = d.parser;
        this.info.format = d.parser.name;
        this.info.detection = d.scores;
      }
      if (this.lines.length > 0) return true;
    }
    return this.lines.length > 0;
  }

  /** Advance to the next record (in this.view); false at the end. */
  async next(): Promise<boolean> {
    for (;;) {
      while (this.i < this.lines.length) {
        const k = this.i++;
        if (this.handle(this.lines[k], this.nos[k], this.over[k])) return true;
      }
      if (!(await this.fill())) return false;
    }
  }

  /** Every remaining record to onRecord, synchronously within each chunk. */
  async drain(onRecord: (v: HttpLogView) => void, signal?: AbortSignal, progress?: () => void): Promise<void> {
    for (;;) {
      const lines = this.lines;
      const nos = this.nos;
      const over = this.over;
      for (let k = this.i; k < lines.length; k++) if (this.handle(lines[k], nos[k], over[k])) onRecord(this.view);
      this.i = lines.length;
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
