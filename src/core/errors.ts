/**
 * One error model for the library and the CLI. Every error Palisade raises on purpose is a
 * `PalisadeError` with a `code` from the closed set below (and a span where it concerns a piece
 * of text: an expression, a config file); the CLI maps codes to exit codes in one table
 * (`exitCodeOf`), so a new error kind is one line here, not a new branch in every command.
 */

/** Stable exit codes (README "Exit codes"). */
export const ExitCode = {
  OK: 0,
  /** A check found something: failed tests, a filter with --fail-on, etc. */
  FOUND: 1,
  USAGE: 2,
  /** The input cannot be read at all (missing file, not a capture format). */
  INPUT: 3,
  INTERNAL: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The closed set of error codes, each with the exit code the CLI uses for it.
 * - E_USAGE: wrong flags or arguments, a bad option value.
 * - E_CONFIG: palisade.yaml (or --config FILE) is invalid; carries file, line and column.
 * - E_RULE: a Rules-language expression does not compile; carries the span and the spec's class.
 * - E_UNSUPPORTED: a rule cannot be expressed by a target (nftables, iptables, Flowspec, ...).
 * - E_INPUT: an input cannot be read at all (missing file, not a capture, bad JSON).
 * - E_FORMAT: an input is readable but its content is invalid (a list entry, a record).
 * - E_DEPENDENCY: a tool or file the command needs is not installed (chromium for PDF, ...).
 */
export const ERROR_EXIT: Readonly<Record<ErrorCode, ExitCode>> = {
  E_USAGE: ExitCode.USAGE,
  E_CONFIG: ExitCode.USAGE,
  E_RULE: ExitCode.USAGE,
  E_UNSUPPORTED: ExitCode.USAGE,
  E_INPUT: ExitCode.INPUT,
  E_FORMAT: ExitCode.INPUT,
  E_DEPENDENCY: ExitCode.INPUT,
};
export type ErrorCode = 'E_USAGE' | 'E_CONFIG' | 'E_RULE' | 'E_UNSUPPORTED' | 'E_INPUT' | 'E_FORMAT' | 'E_DEPENDENCY';
export const ERROR_CODES = Object.keys(ERROR_EXIT) as ErrorCode[];

/** Where in a text an error is: code-point offsets, and line/column (1-based) when the text has lines. */
export interface Span {
  start: number;
  end: number;
  line?: number;
  column?: number;
}

/** The one base error. `code` decides the exit code; `span` points into `source` when set. */
export class PalisadeError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly span?: Span,
    /**
     * What the span refers to: a file name, or the expression itself. Not readonly: the code that
     * raises an error deep in a parser may not hold the whole text, and the caller that does fills
     * it in (compile() for Rules errors).
     */
    public source?: string,
  ) {
    super(message);
    this.name = 'PalisadeError';
  }
}

/** Wrong flags or arguments: printed as one line, exit 2. */
export class UsageError extends PalisadeError {
  constructor(message: string) {
    super('E_USAGE', message);
  }
}

/** Input that cannot be read at all: printed as one line, exit 3. */
export class InputError extends PalisadeError {
  constructor(message: string, code: ErrorCode = 'E_INPUT') {
    super(code, message);
  }
}

/** An invalid configuration file: names the file, the line and the column of the offending value. */
export class ConfigError extends PalisadeError {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
    readonly column: number,
  ) {
    super('E_CONFIG', `${file}:${line}:${column}: ${message}`, { start: 0, end: 0, line, column }, file);
    this.name = 'ConfigError';
  }
}

/** The exit code for any thrown value: a PalisadeError's code decides; anything else is internal. */
export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof PalisadeError ? ERROR_EXIT[err.code] : ExitCode.INTERNAL;
}
