/**
 * An access log as a byte stream that keeps coming: stdin (`tail -F x | palisade monitor
 * --http-log -`), or the edge's request stream (its admin API's NDJSON). Lines are parsed as
 * they arrive — no look-ahead, so a record is handed over as soon as its newline is in; the
 * format is detected on the first chunk's lines when not given, as `follow` does.
 */
import type { Readable } from 'node:stream';
import type { AccessLogFileInfo } from './handler.js';
import { LineFeed } from './line-feed.js';
import type { LineParser } from './parsers.js';
import type { TextParseOptions } from './text-parser.js';
import type { HttpLogView } from './view.js';

export interface LogStreamOptions extends TextParseOptions {
  /** Format; detected on the first lines when absent. */
  format?: string | LineParser;
}

/** Reads `stream` to its end (or until it is destroyed); resolves with the counts (lines, records, malformed). */
export async function readLogStream(stream: Readable, name: string, onRecord: (v: HttpLogView) => void, opts: LogStreamOptions = {}): Promise<AccessLogFileInfo> {
  const feed = new LineFeed(name, opts.format, onRecord, opts);
  try {
    for await (const chunk of stream) {
      feed.splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Buffer));
      feed.settle();
    }
  } catch (e) {
    // A stream cut by its peer (the edge restarting) ends the read; what came is kept.
    if ((e as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE' && (e as NodeJS.ErrnoException).code !== 'ECONNRESET') throw e;
  }
  feed.splitter.end();
  feed.settle();
  const info = feed.handler.info;
  return { ...info, malformedLines: [...info.malformedLines] };
}
