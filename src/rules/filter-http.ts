/**
 * Run HTTP-scheme rules over access logs in one pass: per expression, the requests that match.
 * The records are the reader's reused HttpLogView seen through one HttpLogRequest, so a rule
 * costs its own comparisons and nothing per record that it does not read.
 *
 * `filterHttp` reads files (several merged in time order, gzip, stdin); `followHttp` tails a
 * file as `tail -F` does and counts until stopped.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { httpScheme } from '../scheme/http.js';
import { HttpLogRequest } from '../scheme/http-log.js';
import { type FollowInfo, type FollowOptions, followAccessLog } from '../sources/accesslog/follow.js';
import { type Detection, detectFormat } from '../sources/accesslog/parsers.js';
import { type AccessLogInfo, type AccessLogOptions, DETECT_LINES } from '../sources/accesslog/reader.js';
import { type AccessLogSource, accessLogSource } from '../sources/accesslog/source.js';
import type { HttpLogView } from '../sources/accesslog/view.js';
import { type CompileOptions, compile, type Predicate } from './compile.js';
import { matchStep } from './match-pass.js';

export interface HttpFilterResult {
  /** Requests each expression matched, in the order given. */
  counts: number[];
  /** Requests read (lines that parsed). */
  total: number;
  info: AccessLogInfo;
}

export type HttpFilterOptions = CompileOptions &
  AccessLogOptions & {
    /** Called with each request the first expression matches (read the view before returning). */
    onMatch?: (v: HttpLogView) => void;
  };

/** Compile every expression against the HTTP scheme first: a RulesError stops before reading. */
function compileAll(exprs: readonly string[], opts: CompileOptions): Predicate<HttpLogRequest>[] {
  return exprs.map((e) => compile(e, httpScheme, opts) as Predicate<HttpLogRequest>);
}

/** The per-record step: point the adapter, evaluate the rules, count. */
function stepper(preds: Predicate<HttpLogRequest>[], counts: number[], onMatch: ((v: HttpLogView) => void) | undefined): (v: HttpLogView) => void {
  const req = new HttpLogRequest();
  const step = matchStep(preds, (i, r) => {
    counts[i]++;
    if (i === 0 && onMatch) onMatch(r.log);
  });
  return (v) => step(req.point(v));
}

/** Paths become a source of their requests; a source is used as it is. */
export function asHttpSource(input: string | readonly string[] | AccessLogSource, opts: AccessLogOptions = {}): AccessLogSource {
  return typeof input === 'string' || Array.isArray(input) ? accessLogSource(input as string | readonly string[], opts) : (input as AccessLogSource);
}

export async function filterHttp(input: string | readonly string[] | AccessLogSource, exprs: readonly string[], opts: HttpFilterOptions = {}): Promise<HttpFilterResult> {
  const preds = compileAll(exprs, opts);
  const counts = preds.map(() => 0);
  let total = 0;
  const step = stepper(preds, counts, opts.onMatch);
  const info = await asHttpSource(input, opts).read(
    (v) => {
      total++;
      step(v);
    },
    { onProgress: opts.onProgress, signal: opts.signal },
  );
  return { counts, total, info };
}

export interface HttpFollowResult {
  counts: number[];
  total: number;
  files: FollowInfo[];
}

export type HttpFollowOptions = CompileOptions &
  FollowOptions & {
    onMatch?: (v: HttpLogView) => void;
  };

/**
 * Follow files (tail -F each, rotation-safe) until `opts.signal` aborts; resolves with the counts.
 * Several files are followed side by side, each in its own order (no merge: time moves on live).
 */
export async function followHttp(paths: readonly string[], exprs: readonly string[], opts: HttpFollowOptions): Promise<HttpFollowResult> {
  const preds = compileAll(exprs, opts);
  const counts = preds.map(() => 0);
  let total = 0;
  const step = stepper(preds, counts, opts.onMatch);
  const onRecord = (v: HttpLogView): void => {
    total++;
    step(v);
  };
  const files = await Promise.all(paths.map((p) => followAccessLog(p, onRecord, opts).done));
  return { counts, total, files };
}

/**
 * The format of a file from its first lines (what the readers would detect), or null when it has
 * no line yet: a follower then detects on the first lines that arrive.
 */
export function detectFileFormat(path: string, opts: AccessLogOptions = {}): Detection | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  const buf = Buffer.alloc(256 * 1024);
  let got = 0;
  try {
    got = readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  const text = buf.toString('latin1', 0, got);
  const end = text.lastIndexOf('\n');
  if (end < 0) return null;
  const lines = text
    .slice(0, end)
    .split('\n', DETECT_LINES)
    .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  return detectFormat(lines, opts);
}
