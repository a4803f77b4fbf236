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

/** A benign exchange (TCP connection, UDP flow, request/response pair) written a packet at a time. */
export interface Session {
  /** Write the next packet at time t (ns); true when the session has ended. */
  step(e: Emitter, t: number): boolean;
}

/** A pulse wave: `on` seconds of traffic, then `off` seconds of none, repeated from t0. */
export interface Pulse {
  on: number;
  off: number;
}

/**
 * A Poisson arrival process with a piecewise rate: `pps` between t0 and t1 (seconds), optionally
 * only during the on-phases of a pulse wave.
 */
export class Arrivals {
  next: number;
  private readonly meanGapNs: number;
  private readonly endNs: number;
  private readonly startNs: number;
  private readonly onNs: number;
  private readonly periodNs: number;

  constructor(
    private readonly rng: Rng,
    pps: number,
    t0: number,
    t1: number,
    /** Seconds over which the rate ramps linearly from 10% to full (0: a step). */
    private readonly rampS = 0,
    pulse?: Pulse,
  ) {
    this.meanGapNs = 1e9 / Math.max(pps, 1e-9);
    this.endNs = t1 * 1e9;
    this.startNs = t0 * 1e9;
    this.onNs = pulse ? pulse.on * 1e9 : 0;
    this.periodNs = pulse ? (pulse.on + pulse.off) * 1e9 : 0;
    this.next = this.startNs;
    this.advance();
  }

  advance(): void {
    let gap = this.rng.exp(this.meanGapNs);
    if (this.rampS > 0) {
      const f = (this.next - this.startNs) / (this.rampS * 1e9);
      if (f < 1) gap /= 0.1 + 0.9 * Math.max(f, 0);
    }
    let n = this.next + gap;
    if (this.periodNs > 0) {
      // In an off-phase: the process resumes at the next on-phase (it is memoryless).
      for (;;) {
        const k = Math.floor((n - this.startNs) / this.periodNs);
        if (n - this.startNs - k * this.periodNs < this.onNs || n >= this.endNs) break;
        n = this.startNs + (k + 1) * this.periodNs + this.rng.exp(this.meanGapNs);
      }
    }
    this.next = n >= this.endNs ? Number.POSITIVE_INFINITY : Math.round(n);
  }
}
