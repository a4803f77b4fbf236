/** Stable exit codes and error classes shared by the CLI and the library. */
export const ExitCode = {
  OK: 0,
  /** A check found something: failed tests, a filter with --fail-on, etc. */
  FOUND: 1,
  USAGE: 2,
  /** The input cannot be read at all (missing file, not a capture format). */
  INPUT: 3,
  INTERNAL: 70,
} as const;

/** Wrong flags or arguments: printed as one line, exit 2. */
export class UsageError extends Error {
  readonly code = 'E_USAGE';
}

/** Input that cannot be read at all: printed as one line, exit 3. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly code: string = 'E_INPUT',
  ) {
    super(message);
  }
}
