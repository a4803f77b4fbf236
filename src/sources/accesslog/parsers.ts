/**
 * One interface over the text and JSON line parsers, the built-ins by name, and format detection:
 * every built-in is tried on the first lines and the one that parses most wins (ties go to the
 * format that fills more fields: `main` over `combined` over `common` when all parse).
 */
import { UsageError } from '../../core/errors.js';
import { AWS_FORMATS } from './aws.js';
import { compileApache, compileNginx, TEXT_FORMATS, type TextFormat } from './format.js';
import { JSON_FORMATS, type JsonFormat, JsonLineMapper, parseJsonLine } from './json-format.js';
import { TextLineParser, type TextParseOptions } from './text-parser.js';
import { HttpLogView } from './view.js';

export interface LineParser {
  /** The format's name (`combined`, `cloudflare`, `custom` ...). */
  readonly name: string;
  readonly kind: 'text' | 'json';
  /** How many fields it fills: the tie-break of detection. */
  readonly weight: number;
  /** Parse one line (without its newline) into the view; false when the line does not fit. */
  parse(line: string, v: HttpLogView): boolean;
  /**
   * Parsers that read a line in place (the text formats): beginText(text) says that the lines
   * parseRange is given next are in `text` (the reader's piece of the log), parseRange(text, a,
   * b, v) parses text[a, b) as parse(text.slice(a, b), v) would, offsets into text. Others are
   * given the line cut out.
   */
  beginText?(text: string): void;
  parseRange?(text: string, a: number, b: number, v: HttpLogView): boolean;
}

export function textParser(f: TextFormat, opts?: TextParseOptions): LineParser {
  const p = new TextLineParser(f, opts);
  return {
    name: f.name,
    kind: 'text',
    weight: f.kinds.length,
    parse: (line, v) => p.parse(line, v),
    beginText: (text) => p.beginText(text),
    parseRange: (text, a, b, v) => p.parseRange(text, a, b, v),
  };
}

export function jsonParser(f: JsonFormat): LineParser {
  const m = new JsonLineMapper(f);
  return { name: f.name, kind: 'json', weight: f.signature.length, parse: (line, v) => parseJsonLine(m, line, v) };
}

/** Names accepted by `format`: built-ins, or `nginx:<log_format>` / `apache:<LogFormat>`. */
export const BUILTIN_FORMATS: readonly string[] = [...Object.keys(TEXT_FORMATS), ...Object.keys(JSON_FORMATS), ...Object.keys(AWS_FORMATS)];

/**
 * A parser from a format spec: a built-in name, `nginx:$remote_addr ...`, `apache:%h %l ...`,
 * or a bare format string (nginx when it has `$`, Apache when it has `%`).
 */
export function parserFor(spec: string, opts?: TextParseOptions): LineParser {
  const text = TEXT_FORMATS[spec];
  if (text !== undefined) return textParser(text(), opts);
  const json = JSON_FORMATS[spec];
  if (json !== undefined) return jsonParser(json);
  const aws = AWS_FORMATS[spec];
  if (aws !== undefined) return aws();
  if (spec.startsWith('nginx:')) return textParser(compileNginx(spec.slice(6)), opts);
  if (spec.startsWith('apache:')) return textParser(compileApache(spec.slice(7)), opts);
  if (spec.includes('$')) return textParser(compileNginx(spec), opts);
  if (spec.includes('%')) return textParser(compileApache(spec), opts);
  throw new UsageError(`unknown log format ${JSON.stringify(spec)}: give one of ${BUILTIN_FORMATS.join(', ')}, or an nginx/Apache format string`);
}

export interface Detection {
  parser: LineParser;
  /** Lines tried, and how many of them the chosen format parsed. */
  tried: number;
  parsed: number;
  /** Every candidate's score, best first (for `say which was chosen`). */
  scores: Array<{ name: string; parsed: number }>;
}

/** Lines worth looking at: not blank, not a `#` comment. */
export function isSkippable(line: string): boolean {
  if (line.length === 0) return true;
  const c = line.charCodeAt(0);
  if (c === 0x23) return true;
  if (c === 0x20 || c === 0x09 || c === 0x0d) return line.trim() === '';
  return false;
}

/** Choose a built-in by parsing `lines` (the first lines of a log) with each. */
export function detectFormat(lines: readonly string[], opts?: TextParseOptions): Detection {
  const v = new HttpLogView();
  const sample = lines.filter((l) => !isSkippable(l));
  const scores: Array<{ name: string; parsed: number; parser: LineParser }> = [];
  for (const name of BUILTIN_FORMATS) {
    const p = parserFor(name, opts);
    let parsed = 0;
    for (const l of sample) if (p.parse(l, v)) parsed++;
    scores.push({ name, parsed, parser: p });
  }
  scores.sort((a, b) => b.parsed - a.parsed || b.parser.weight - a.parser.weight);
  const best = scores[0];
  return { parser: best.parser, tried: sample.length, parsed: best.parsed, scores: scores.map(({ name, parsed }) => ({ name, parsed })) };
}
