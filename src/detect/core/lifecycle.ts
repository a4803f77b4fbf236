/**
 * Attack lifecycles, whatever the records: per (victim, class), a window whose class traffic was
 * large but did not fire is an onset (the attack's possible first, partial second); a window that
 * fires opens an attack (starting at the onset, if the previous window had one) or continues the
 * open one; an open attack ends once it has been quiet for the quiet period. The detector decides
 * which windows fire; this module keeps the states and their figures.
 *
 *   idle ──(onset window)──► onset ──(next window fires)──► open ──(quiet > quietNs)──► ended
 *     └──────────────────────(window fires)──────────────────┘  ▲   │
 *                                                                └───┘ (window fires or holds)
 */

/**
 * A victim as the detector's maps know it: a number where it can (an IPv4 address, or a prefix
 * offset into a range of its own), otherwise a string. No string is built per key and window.
 */
export type VictimKey = string | number;

/** The key of one class of one victim: victim * 32 + class for numbers (exact below 2^53), `${victim}|${class}` for strings. */
export function classKey(victim: VictimKey, cls: number): VictimKey {
  return typeof victim === 'number' ? victim * 32 + cls : `${victim}|${cls}`;
}

/** What the lifecycle keeps of one attack (a detector's track adds its own fields). */
export interface AttackState {
  /** 1, 2, ... in the order attacks open. */
  id: number;
  victimKey: VictimKey;
  cls: number;
  /** Relative nanoseconds (from the detector's base second). */
  start: number;
  detected: number;
  end: number;
  /** End of the last window in which the attack was active. */
  lastActive: number;
  peakPps: number;
  peakBps: number;
  /** The attack's class packets and bytes in its active windows. */
  windowPackets: number;
  windowBytes: number;
  /** Windows in which the attack was active, and which (seconds from the base second). */
  windows: number;
  activeWins: Set<number>;
}

export class Lifecycles<T extends AttackState> {
  /** Open attacks by class key. */
  private readonly open = new Map<VictimKey, T>();
  /** Victim key → bit mask of the classes with an open attack. */
  private readonly openClasses = new Map<VictimKey, number>();
  /** Class key → relative time of the first class packet of an onset window (this window's and the previous one's). */
  private onsetPrev = new Map<VictimKey, number>();
  private onsetCur = new Map<VictimKey, number>();
  /** Every attack ever opened. */
  readonly all: T[] = [];
  private readonly ended: T[] = [];
  private nextId = 1;

  constructor(private readonly quietNs: number) {}

  /** The classes of a victim with an open attack (bit c: class c). */
  openClassMask(victim: VictimKey): number {
    return this.openClasses.size === 0 ? 0 : (this.openClasses.get(victim) ?? 0);
  }

  /** The open attack of a class key, if any. */
  openAttack(key: VictimKey): T | undefined {
    return this.open.get(key);
  }

  /** Every open attack, in the order they opened. */
  openAttacks(): IterableIterator<T> {
    return this.open.values();
  }

  /** Attacks ended so far, in the order they ended. */
  get endedSoFar(): readonly T[] {
    return this.ended;
  }

  /** The id the next attack gets. */
  takeId(): number {
    return this.nextId++;
  }

  /** Where an attack opening now on this class key starts: the previous window's onset, if it had one. */
  onsetBefore(key: VictimKey): number | undefined {
    return this.onsetPrev.get(key);
  }

  /** This window's class traffic was large without firing: the next window may open an attack from here. */
  noteOnset(key: VictimKey, firstTime: number): void {
    this.onsetCur.set(key, firstTime);
  }

  /** A new attack opens (its fields set by the caller). */
  begin(key: VictimKey, tr: T): void {
    this.open.set(key, tr);
    this.all.push(tr);
    this.openClasses.set(tr.victimKey, (this.openClasses.get(tr.victimKey) ?? 0) | (1 << tr.cls));
  }

  /** The attack was active in the window `window` that ended at endT, with these class figures. */
  activeWindow(tr: T, packets: number, bytes: number, lastTime: number, endT: number, window: number): void {
    tr.end = lastTime;
    tr.lastActive = endT;
    tr.windowPackets += packets;
    tr.windowBytes += bytes;
    tr.windows++;
    tr.activeWins.add(window);
    if (packets > tr.peakPps) tr.peakPps = packets;
    if (bytes * 8 > tr.peakBps) tr.peakBps = bytes * 8;
  }

  /** End the attacks quiet for longer than the quiet period at endT. */
  endQuiet(endT: number): void {
    for (const [k, tr] of this.open) {
      if (endT - tr.lastActive > this.quietNs) {
        this.open.delete(k);
        this.openClasses.set(tr.victimKey, (this.openClasses.get(tr.victimKey) ?? 0) & ~(1 << tr.cls));
        this.ended.push(tr);
      }
    }
  }

  /** The window is over: its onsets become the previous window's. */
  nextWindow(): void {
    const swap = this.onsetPrev;
    this.onsetPrev = this.onsetCur;
    this.onsetCur = swap;
    this.onsetCur.clear();
  }

  /** End of input: every open attack ends. Returns the ended attacks, in the order they ended. */
  finish(): T[] {
    for (const tr of this.open.values()) this.ended.push(tr);
    this.open.clear();
    return this.ended;
  }
}
