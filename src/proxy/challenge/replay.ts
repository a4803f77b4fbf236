/**
 * Seeds already spent: a seed buys one clearance, so a solved seed posted again within its
 * lifetime is refused. Bounded, because anyone can post solutions: every seed expires after the
 * same lifetime, so insertion order is expiry order and a Map (which keeps insertion order) is a
 * queue whose expired head is dropped as new entries come. When the bound is reached with nothing
 * expired, the oldest entry goes: its seed could then be spent a second time, which only buys a
 * second clearance for the same address prefix and browser — what the first one already gives.
 */
export class ReplayCache {
  private readonly spent = new Map<string, number>();

  constructor(readonly max: number) {
    if (!(max >= 1)) throw new RangeError('the replay cache needs room for at least one seed');
  }

  get size(): number {
    return this.spent.size;
  }

  /**
   * Spend `id` (valid until `expMs`) at `nowMs`: true when it was free and is now taken, false
   * when it was spent already.
   */
  spend(id: string, expMs: number, nowMs: number): boolean {
    this.prune(nowMs);
    const until = this.spent.get(id);
    if (until !== undefined && until > nowMs) return false;
    if (until !== undefined) this.spent.delete(id);
    while (this.spent.size >= this.max) {
      const oldest = this.spent.keys().next().value as string;
      this.spent.delete(oldest);
    }
    this.spent.set(id, expMs);
    return true;
  }

  /** Drop expired entries from the head (a few per call: the work is spread over calls). */
  private prune(nowMs: number): void {
    let n = 0;
    for (const [id, until] of this.spent) {
      if (until > nowMs || n++ >= 64) break;
      this.spent.delete(id);
    }
  }
}
