/**
 * What happens to one line once it is cut: skipped (blank, `#`), parsed into the view, or counted
 * as malformed with its number kept. Shared by the file reader and the follower.
 */
import { detectFormat, isSkippable, type LineParser } from './parsers.js';
import type { TextParseOptions } from './text-parser.js';
import { HttpLogView } from './view.js';

/** Malformed line numbers kept per input (all are counted). */
export const MAX_LINE_NUMBERS = 100;

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

/** The counters and the parser of one input. */
export class LineHandler {
  readonly view = new HttpLogView();
  readonly info: AccessLogFileInfo;

  constructor(
    file: string,
    private parser: LineParser | null,
  ) {
    this.info = {
      file,
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
  }

  get hasParser(): boolean {
    return this.parser !== null;
  }

  /** The parser in use (given, or chosen by detect()), null before one is chosen. */
  get lineParser(): LineParser | null {
    return this.parser;
  }

  /** Choose the format from these first lines (parsers.ts detectFormat) and say so in the info. */
  detect(sample: readonly string[], opts?: TextParseOptions): void {
    const d = detectFormat(sample, opts);
    this.parser = d.parser;
    this.info.format = d.parser.name;
    this.info.detection = d.scores;
  }

  /** The lines handleRange is given next are in `text` (parsers that read lines in place are told). */
  beginText(text: string): void {
    (this.parser as LineParser).beginText?.(text);
  }

  /**
   * Parse the line text[a, b) (text given to beginText first); true when it made a record (in
   * this.view). A parser that reads only whole lines is given the line cut out.
   */
  handleRange(text: string, a: number, b: number, no: number): boolean {
    const info = this.info;
    info.lines++;
    const c = a < b ? text.charCodeAt(a) : 0;
    // isSkippable without cutting the line: blank, `#`, or only white space.
    if (a === b || c === 0x23 || ((c === 0x20 || c === 0x09 || c === 0x0d) && text.slice(a, b).trim() === '')) {
      info.skipped++;
      return false;
    }
    const v = this.view;
    const p = this.parser as LineParser;
    if (p.parseRange !== undefined ? p.parseRange(text, a, b, v) : p.parse(a === 0 && b === text.length ? text : text.slice(a, b), v)) {
      v.lineNo = no;
      info.records++;
      info.truncatedFields += v.truncated;
      return true;
    }
    this.bad(no);
    return false;
  }

  /** A line over MAX_LINE (lines.ts): counted as malformed. */
  overlong(no: number): void {
    this.info.lines++;
    this.info.overlongLines++;
    this.bad(no);
  }

  /** Parse one line; true when it made a record (in this.view). */
  handle(line: string, no: number, overlong: boolean): boolean {
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
}
