/**
 * The clock is injected (DESIGN.md): a file or a replay tells time by its records' own timestamps
 * (sources/capture/source.ts), a live source by the wall clock, and the same detector, ruleset or
 * report runs on either.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}
