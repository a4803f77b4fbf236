/**
 * The TX collection after the request-independent phase-1 rules (worked out once by the plan),
 * lent to one transaction at a time to use in place: the transaction notes each variable before
 * changing it, and `restore` puts them back, so a request does not copy the collection.
 */
import type { Entry } from './collections.js';

export class InitialTx {
  /** the collection lent out */
  readonly map: Map<string, Entry>;
  busy = false;
  /** TX variables changed by the transaction using `map`, and their previous entries */
  private readonly changedKeys: string[] = [];
  private readonly previous: (Entry | undefined)[] = [];
  /** a variable of `init` was deleted, so putting it back would change the order */
  private reordered = false;

  constructor(readonly init: ReadonlyMap<string, Entry>) {
    this.map = new Map(init);
  }

  /** Before TX variable `key` changes: remember what to put back. */
  remember(key: string): void {
    // repeats are harmless: `restore` puts entries back newest first, so the oldest wins
    this.changedKeys.push(key);
    this.previous.push(this.map.get(key));
  }

  /** Before TX variable `key` is deleted (after `remember`). */
  deleting(key: string): void {
    if (this.init.has(key)) this.reordered = true;
  }

  /** Puts the collection back as it was and makes it available again. */
  restore(): void {
    const m = this.map;
    if (this.reordered) {
      // a variable of the initial TX was deleted: rebuild (iteration order matters)
      m.clear();
      for (const [k, e] of this.init) m.set(k, e);
      this.reordered = false;
    } else {
      for (let i = this.changedKeys.length - 1; i >= 0; i--) {
        const prev = this.previous[i];
        if (prev === undefined) m.delete(this.changedKeys[i]);
        else m.set(this.changedKeys[i], prev);
      }
    }
    this.changedKeys.length = 0;
    this.previous.length = 0;
    this.busy = false;
  }
}
