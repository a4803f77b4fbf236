/**
 * An access log as a byte stream that keeps coming: stdin (`tail -F x | palisade monitor
 * --http-log -`), or the edge's request stream (its admin API's NDJSON). Lines are parsed as
 * they arrive — no look-ahead, so a record is handed over as soon as its newline is in; the
 * format is detected on the first chunk's lines when not given, as `follow` does.
 */
import type { Readable } from 'node:stream';
import { type AccessLogFileInfo, LineHandler } from './handler.js';
import { LineSplitter } from './lines.js';
import { type LineParser, parserFor } from './parsers.js';
import type { TextParseOptions } from './text-parser.js';
import type { HttpLogView } from './view.js';

export interface LogStreamOptions extends TextParseOptions {
  /** Format; detected on the first lines when absent. */
  format?: string | LineParser;
}

/** Reads `stream` to its end (or until it is destroyed); resolves with the counts (lines, records, malformed). */
export async function readLogStream(stream: Readable, name: string, onRecord: (v: HttpLogView) => void, opts: LogStreamOptions = {}): Promise<AccessLogFileInfo> {
  const parser = opts.format === undefined ? null : typeof opts.format === 'string' ? parserFor(opts.format, opts) : opts.format;
  const h = new LineHandler(name, parser);
  const pending: Array<[string, number, boolean]> = [];
  const splitter = new LineSplitter((l, n, o) => {
    if (!h.hasParser) {
      pending.push([l, n, o]);
      return;
    }
    if (h.handle(l, n, o)) onRecord(h.view);
  });
  const flushPending = (): void => {
    if (h.hasParser || pending.length === 0) return;
    h.detect(
      pending.map((p) => p[0]),
      opts,
    );
    for (const [l, n, o] of pending.splice(0)) if (h.handle(l, n, o)) onRecord(h.view);
  };
  try {
    for await (const chunk of stream) {
      splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Buffer));
      flushPending();
    }
  } catch (e) {
    // A stream cut by its peer (the edge restarting) ends the read; what came is kept.
    if ((e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE' && (e as NodeJS.ErrnoException).code !== 'ECONNRESET') throw e;
  }
  splitter.end();
  flushPending();
  return { ...h.info, malformedLines: [...h.info.malformedLines] };
}
