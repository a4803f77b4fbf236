/**
 * The generator's seeded PRNG (sfc32): same seed, same sequence, on every platform, so a
 * scenario written twice with one seed is byte-identical.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9 ^ seed;
    this.b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b);
    this.c = 0xb7e15162;
    this.d = 1;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.float() * a.length)] as T;
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Exponential gap with the given mean (a Poisson process's inter-arrival time). */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** A derived generator, so adding draws in one component does not shift the others. */
  fork(salt: number): Rng {
    return new Rng((this.u32() ^ Math.imul(salt + 1, 0x9e3779b1)) | 0);
  }
}
