/**
 * The most frequent values of a text field (client addresses, hosts, paths a rule hit) in bounded
 * memory: Misra–Gries over a Map. When the table is full every count drops by the smallest and
 * the zeros go, so a flood of a million addresses keeps at most `capacity` of them; a value seen
 * more than `decremented` times is always kept, its count at most that much too low.
 */
/**
 * A string of its own, not a slice of the text it came from. The log readers cut lines out of
 * 64 KiB chunk strings and fields out of lines; V8 keeps a slice's parent alive, so one client
 * address kept in a long-lived table would keep its whole chunk: copy what outlives the record.
 */
export function ownCopy(s: string): string {
  return s.length === 0 ? '' : Buffer.from(s, 'latin1').toString('latin1');
}

export class TopValues {
  private readonly counts = new Map<string, number>();
  /** Total subtracted from every surviving count (the error bound; 0 while exact). */
  decremented = 0;

  constructor(private readonly capacity = 4096) {}

  add(value: string): void {
    const c = this.counts.get(value);
    if (c !== undefined) {
      this.counts.set(value, c + 1);
      return;
    }
    if (this.counts.size >= this.capacity) this.shrink();
    this.counts.set(ownCopy(value), 1);
  }

  private shrink(): void {
    let min = Number.POSITIVE_INFINITY;
    for (const c of this.counts.values()) if (c < min) min = c;
    for (const [k, c] of this.counts) {
      if (c <= min) this.counts.delete(k);
      else this.counts.set(k, c - min);
    }
    this.decremented += min;
  }

  /** The `n` largest, most first (ties by value, so reports are stable); counts are lower bounds unless `decremented` is 0. */
  top(n: number): Array<{ value: string; requests: number }> {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, n)
      .map(([value, c]) => ({ value, requests: c }));
  }
}
