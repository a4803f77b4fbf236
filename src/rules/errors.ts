/**
 * Rules-language errors (spec §11): one error per failed compile, with a class from a closed set,
 * the span it concerns (0-based code-point offsets into the original expression) and a message
 * that names what was expected and what was found. Line/caret rendering happens only when shown.
 */

export type ErrorClass = 'parse' | 'unknown_field' | 'unknown_function' | 'type' | 'argument' | 'pattern' | 'unknown_list';

export const ERROR_CLASSES: readonly ErrorClass[] = ['parse', 'unknown_field', 'unknown_function', 'type', 'argument', 'pattern', 'unknown_list'];

export class RulesError extends Error {
  /** The expression the span refers to (set by compile()). */
  expression?: string;
  constructor(
    readonly cls: ErrorClass,
    /** Code-point offset of the offending token. */
    readonly start: number,
    /** Code-point offset just past it (>= start). */
    readonly end: number,
    message: string,
  ) {
    super(message);
    this.name = 'RulesError';
  }
}

/**
 * The expression with a caret line under [start, end), as wirefilter prints parse errors. Long
 * expressions are shown on one line anyway; newlines inside are shown as spaces so the caret lines up.
 */
export function caretLines(expr: string, start: number, end: number): string {
  const cps = Array.from(expr.replace(/[\r\n\t]/g, ' '));
  const width = Math.max(1, Math.min(end, cps.length + 1) - start);
  return `${cps.join('')}\n${' '.repeat(start)}${'^'.repeat(width)}`;
}

/** One-block rendering used by the CLI: "error[class]: message" then the caret lines. */
export function formatRulesError(expr: string, e: RulesError): string {
  return `error[${e.cls}] at ${e.start}: ${e.message}\n${caretLines(expr, e.start, e.end)}`;
}
