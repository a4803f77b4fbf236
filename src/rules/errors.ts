/**
 * Rules-language errors (spec §11): one error per failed compile, with a class from a closed set,
 * the span it concerns (0-based code-point offsets into the original expression) and a message
 * that names what was expected and what was found. Line/caret rendering happens only when shown.
 */
import { caret } from '../core/caret.js';
import { PalisadeError } from '../core/errors.js';

export type ErrorClass = 'parse' | 'unknown_field' | 'unknown_function' | 'type' | 'argument' | 'pattern' | 'unknown_list';

export const ERROR_CLASSES: readonly ErrorClass[] = ['parse', 'unknown_field', 'unknown_function', 'type', 'argument', 'pattern', 'unknown_list'];

/** A failed compile: code E_RULE, the spec's class in `cls`, the span in `start`/`end` (and `span`). */
export class RulesError extends PalisadeError {
  constructor(
    readonly cls: ErrorClass,
    /** Code-point offset of the offending token. */
    readonly start: number,
    /** Code-point offset just past it (>= start). */
    readonly end: number,
    message: string,
  ) {
    super('E_RULE', message, { start, end });
    this.name = 'RulesError';
  }

  /** The expression the span refers to (set by compile(), which knows the whole text). */
  get expression(): string | undefined {
    return this.source;
  }
  set expression(text: string | undefined) {
    this.source = text;
  }
}

/** The head line the CLI prints for a Rules error: "error[class] at offset: message". */
export function rulesErrorLine(e: RulesError): string {
  return `error[${e.cls}] at ${e.start}: ${e.message}`;
}

/** One-block rendering used by the CLI: "error[class] at offset: message" then the caret lines. */
export function formatRulesError(expr: string, e: RulesError): string {
  return `${rulesErrorLine(e)}\n${caret(expr, e.start, e.end)}`;
}
