/**
 * Lines as they come (a followed file, a stream): a splitter whose lines go to the line handler,
 * held back until the format is detected from the first of them when none was given.
 */
import { LineHandler } from './handler.js';
import { LineSplitter } from './lines.js';
import { type LineParser, parserFor } from './parsers.js';
import type { TextParseOptions } from './text-parser.js';
import type { HttpLogView } from './view.js';

export class LineFeed {
  readonly handler: LineHandler;
  readonly splitter: LineSplitter;
  private readonly pending: Array<[string, number, boolean]> = [];

  constructor(
    name: string,
    format: string | LineParser | undefined,
    private readonly onRecord: (v: HttpLogView) => void,
    private readonly opts: TextParseOptions = {},
  ) {
    const h = new LineHandler(name, format === undefined ? null : typeof format === 'string' ? parserFor(format, opts) : format);
    this.handler = h;
    this.splitter = new LineSplitter((l, n, o) => {
      if (!h.hasParser) {
        this.pending.push([l, n, o]);
        return;
      }
      if (h.handle(l, n, o)) onRecord(h.view);
    });
  }

  /** Once lines are in and no format was given: choose it from them and hand them over. */
  settle(): void {
    const h = this.handler;
    if (h.hasParser || this.pending.length === 0) return;
    h.detect(
      this.pending.map((p) => p[0]),
      this.opts,
    );
    for (const [l, n, o] of this.pending.splice(0)) if (h.handle(l, n, o)) this.onRecord(h.view);
  }

  /** Lines held for detection (none once the format is known). */
  get held(): number {
    return this.pending.length;
  }
}
