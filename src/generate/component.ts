/**
 * A traffic component of a scenario: something that emits packets at its own times. The
 * generator merges components by their next packet time. `label` is 0 for benign traffic and the
 * 1-based attack number for attack traffic (the per-packet ground truth).
 */
import type { Emitter } from './emitter.js';
import type { Rng } from './prng.js';

export interface Component {
  /** Traffic time of the next packet, in nanoseconds from the scenario start; Infinity when done. */
  next: number;
  readonly label: number;
  /** Write the packet due at `next`, then advance `next`. */
  emit(e: Emitter): void;
}

/** A Poisson arrival process with a piecewise rate: `pps` between t0 and t1 (seconds). */
export class Arrivals {
  next: number;
  private readonly meanGapNs: number;
  private readonly endNs: number;

  constructor(
    private readonly rng: Rng,
    pps: number,
    t0: number,
    t1: number,
    /** Seconds over which the rate ramps linearly from 10% to full (0: a step). */
    private readonly rampS = 0,
  ) {
    this.meanGapNs = 1e9 / Math.max(pps, 1e-9);
    this.endNs = t1 * 1e9;
    this.startNs = t0 * 1e9;
    this.next = this.startNs;
    this.advance();
  }

  private readonly startNs: number;

  advance(): void {
    let gap = this.rng.exp(this.meanGapNs);
    if (this.rampS > 0) {
      const f = (this.next - this.startNs) / (this.rampS * 1e9);
      if (f < 1) gap /= 0.1 + 0.9 * Math.max(f, 0);
    }
    const n = this.next + gap;
    this.next = n >= this.endNs ? Number.POSITIVE_INFINITY : Math.round(n);
  }
}
