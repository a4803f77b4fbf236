/**
 * What `filter` and `mitigate` share about access-log inputs: deciding that the inputs are logs
 * (by content, or --as http / --format), checking the format string before any reading, and
 * saying on stderr which format each file was read with and which lines did not parse.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { InputError, UsageError } from '../core/errors.js';
import { type LineParser, parserFor } from '../sources/accesslog/parsers.js';
import type { AccessLogFileInfo } from '../sources/accesslog/reader.js';
import { looksLikeAccessLog } from './sniff-log.js';

/** `--as` values that mean HTTP requests from access logs (`log` is analyze's spelling). */
export function isHttpKind(as: string | undefined): boolean {
  return as === 'http' || as === 'log';
}

/**
 * Are the inputs access logs? Yes with --as http/log or --format; with several inputs (captures
 * are read one at a time); or when the first input's content is text lines, not a capture's magic.
 * stdin cannot be sniffed (it is read once): it is a capture unless --as or --format says so.
 */
export async function inputsAreLogs(inputs: readonly string[], as: string | undefined, format: string | undefined): Promise<boolean> {
  if (isHttpKind(as)) return true;
  if (as !== undefined) return false;
  if (format !== undefined || inputs.length > 1) return true;
  const first = inputs[0] as string;
  if (first === '-' || !existsSync(first)) return false;
  return (await looksLikeAccessLog(first)) || notCaptureNorGzip(first);
}

/** pcap (either byte order, µs or ns), pcapng, and gzip: the magics that say "not a log". */
const BINARY_MAGICS = [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a];

/**
 * A log with binary junk in its first lines (NULs, a damaged block) is still a log: any plain file
 * that does not start with a capture's magic is read as one, and its bad lines are counted.
 */
function notCaptureNorGzip(path: string): boolean {
  const b = Buffer.alloc(4);
  let got = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      got = readSync(fd, b, 0, 4, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  if (got < 4 || (b[0] === 0x1f && b[1] === 0x8b)) return false;
  return !BINARY_MAGICS.includes(b.readUInt32BE(0));
}

/** The parser for --format, built now so a bad format string is a usage error before reading. */
export function formatParser(format: string | undefined): LineParser | undefined {
  if (format === undefined) return undefined;
  try {
    return parserFor(format);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`--format: ${e.message}`);
    throw e;
  }
}

/**
 * A log none of whose lines parsed was read in the wrong format (or is no log): an error (exit 3),
 * said after the per-file lines so the format tried and the first bad lines are on screen.
 */
export function checkSomeParsed(files: readonly AccessLogFileInfo[]): void {
  const empty = files.find((f) => f.records === 0 && f.malformed > 0);
  if (empty !== undefined)
    throw new InputError(`${empty.file}: no line is a request in format ${empty.format}${empty.detected ? ' (the best of the built-ins; give --format)' : ''}`, 'E_FORMAT');
}

/** One stderr line per input: its format (and whether detected), and its malformed lines by number. */
export function sayFormats(files: readonly AccessLogFileInfo[], out: (s: string) => void = (s) => process.stderr.write(s)): void {
  for (const f of files) {
    const bad = f.malformed > 0 ? `; ${f.malformed} malformed line(s): ${f.malformedLines.slice(0, 10).join(', ')}${f.malformed > 10 ? ', …' : ''}` : '';
    out(`palisade: ${f.file}: format ${f.format || '(none: no line read)'}${f.detected ? ' (detected)' : ''}, ${f.records} request(s)${bad}\n`);
  }
}
