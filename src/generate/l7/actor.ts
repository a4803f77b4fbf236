/**
 * An actor is one client (or one arrival process of clients) of an L7 scenario: it knows the log
 * time of its next request and fills the shared Line when that request is due. The generator
 * merges actors by time. `label` is 0 for legitimate traffic and the 1-based attack number
 * otherwise (the per-line ground truth); `tag` marks lines of a legitimate event (a flash crowd).
 */
import type { Rng } from '../prng.js';
import type { Line } from './line.js';
import type { AddressBook } from './networks.js';

export interface Ctx {
  book: AddressBook;
  /** Start an actor; it joins the merge once the current step is done. */
  spawn(a: Actor): void;
}

export interface Actor {
  /** Log time of the next line, seconds; Infinity when done. */
  next: number;
  readonly label: number;
  readonly tag: number;
  /** Fill `l` with the request due at `next` (true), or act without a line (false); then advance `next`. */
  step(l: Line, ctx: Ctx): boolean;
}

/** A rate over time: `peak` between t0 and t1, ramping up over `up` seconds and down over `down`. */
export interface Profile {
  t0: number;
  t1: number;
  peak: number;
  up: number;
  down: number;
}

export function rateAt(p: Profile, t: number): number {
  if (t < p.t0 || t >= p.t1) return 0;
  if (p.up > 0 && t < p.t0 + p.up) return p.peak * (0.05 + (0.95 * (t - p.t0)) / p.up);
  if (p.down > 0 && t > p.t1 - p.down) return p.peak * (0.05 + (0.95 * (p.t1 - t)) / p.down);
  return p.peak;
}

/** Mean rate of a profile over its interval (for planning how long a scenario must run). */
export function meanRate(p: Profile): number {
  const span = p.t1 - p.t0;
  if (span <= 0) return 0;
  const ramps = Math.min(p.up + p.down, span);
  return (p.peak * (span - ramps) + p.peak * 0.525 * ramps) / span;
}

/**
 * Arrivals of new clients (a Poisson process thinned to the profile): each arrival spawns the
 * actor `make` returns and writes no line of its own.
 */
export class Arrivals implements Actor {
  next: number;
  readonly label = 0;
  readonly tag = 0;

  constructor(
    private readonly rng: Rng,
    private readonly profile: Profile,
    private readonly make: (t: number) => Actor,
  ) {
    this.next = profile.t0;
    this.advance();
  }

  private advance(): void {
    const p = this.profile;
    let t = this.next;
    for (;;) {
      t += this.rng.exp(1 / Math.max(p.peak, 1e-9));
      if (t >= p.t1) {
        this.next = Number.POSITIVE_INFINITY;
        return;
      }
      if (this.rng.float() * p.peak < rateAt(p, t)) break;
    }
    this.next = t;
  }

  step(_l: Line, ctx: Ctx): boolean {
    ctx.spawn(this.make(this.next));
    this.advance();
    return false;
  }
}
