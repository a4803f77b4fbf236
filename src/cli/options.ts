/**
 * Numeric option values, parsed in one place: a value that is not a number of the expected kind,
 * or is out of range, is a UsageError naming the flag and what it accepts (exit 2), never a
 * silent default. `intOption` / `numberOption` plug into commander as an option's argParser:
 *
 *   .option('--top <n>', 'entries per top list', intOption('--top', { min: 1 }), 10)
 */
import { UsageError } from '../core/errors.js';
import { loginMatcher } from '../core/http-paths.js';

export interface Range {
  /** Smallest accepted value (inclusive). */
  min?: number;
  /** Largest accepted value (inclusive). */
  max?: number;
  /** Accepted values are strictly greater than this (a duration of 0 s is not a duration). */
  above?: number;
}

const INT = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** What a flag accepts, as the error message says it: "a whole number from 1 to 4". */
export function describeRange(kind: 'int' | 'number', r: Range): string {
  const what = kind === 'int' ? 'a whole number' : 'a number';
  const { min, max, above } = r;
  if (above !== undefined) return max !== undefined ? `${what} greater than ${above} and at most ${max}` : `${what} greater than ${above}`;
  if (min !== undefined) return max !== undefined ? `${what} from ${min} to ${max}` : `${what} of ${min} or more`;
  return max !== undefined ? `${what} of ${max} or less` : what;
}

function check(flag: string, text: string, kind: 'int' | 'number', r: Range): number {
  const n = Number(text);
  const ok =
    (kind === 'int' ? INT.test(text) && Number.isSafeInteger(n) : DECIMAL.test(text) && Number.isFinite(n)) &&
    (r.min === undefined || n >= r.min) &&
    (r.max === undefined || n <= r.max) &&
    (r.above === undefined || n > r.above);
  if (!ok) throw new UsageError(`${flag} must be ${describeRange(kind, r)}, not "${text}"`);
  // -0 is 0.
  return n + 0;
}

/** A whole number in range, written in decimal digits (no 1e3, 0x10, 1.0 or spaces). */
export function parseIntArg(flag: string, text: string, range: Range = {}): number {
  return check(flag, text, 'int', range);
}

/** A finite decimal number in range (0.5, .5, 2, 1e-3). */
export function parseNumberArg(flag: string, text: string, range: Range = {}): number {
  return check(flag, text, 'number', range);
}

/** A commander argParser for a whole-number option. */
export function intOption(flag: string, range: Range = {}): (text: string) => number {
  return (text) => parseIntArg(flag, text, range);
}

/** A commander argParser for a decimal-number option. */
export function numberOption(flag: string, range: Range = {}): (text: string) => number {
  return (text) => parseNumberArg(flag, text, range);
}

/** A repeatable option's values, in order. */
export function collect(v: string, acc: string[] = []): string[] {
  return [...acc, v];
}

/** `--login-path` values as a login test (core/http-paths.ts), null for the defaults; a bad path is a usage error. */
export function loginOption(paths: readonly string[] | undefined): ((path: string) => boolean) | null {
  try {
    return loginMatcher(paths);
  } catch (e) {
    throw new UsageError(`--login-path: ${(e as Error).message}`);
  }
}
