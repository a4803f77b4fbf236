/**
 * The clock is injected (DESIGN.md): live code reads the wall clock, a replay or a file reads the
 * records' own timestamps, and the same detector, ruleset or report runs on either.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
}

/** The wall clock, for live sources. */
export const systemClock: Clock = { nowMs: () => Date.now() };

/** A clock that follows the records read: each record moves it to its own timestamp (never back). */
export class RecordClock implements Clock {
  private ms = 0;
  nowMs(): number {
    return this.ms;
  }
  /** Called by the source for each record, with the record's time in seconds and nanoseconds. */
  advance(sec: number, nsec = 0): void {
    const ms = sec * 1000 + Math.floor(nsec / 1e6);
    if (ms > this.ms) this.ms = ms;
  }
}
