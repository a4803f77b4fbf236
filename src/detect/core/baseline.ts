/**
 * Learnt baselines: per victim, an EWMA of each class's packets per window, learnt from the windows
 * in which the class had no open attack. Bounded: at most `maxKeys` victims, and a victim gets a
 * baseline only once a window brings it `minPackets` packets.
 */
import type { VictimKey } from './lifecycle.js';
import type { KeyTable } from './table.js';

/** EWMA weight of the newest window, and its complement (the decay of the older ones). */
const ALPHA = 0.1;
const DECAY = 0.9;
/** Windows after which a baseline is trusted. */
const WARM_WINDOWS = 10;
/** Packets per window from which a victim's baseline is learnt. */
export const LEARN_MIN = 20;
const MAX_KEYS = 16384;

export class Baselines {
  /** Victim key → [windows learnt, then the EWMA of classes 1..classes-1 at index class + 1]. */
  private readonly byKey = new Map<VictimKey, Float64Array>();

  /** Class 0 is the ordinary class: never learnt. */
  constructor(private readonly classes: number) {}

  /** The learnt rate of a class for a victim, bias-corrected for the first windows (the EWMA starts at 0); 0 when none. */
  rate(key: VictimKey, c: number): number {
    const b = this.byKey.get(key);
    if (!b || (b[0] as number) === 0) return 0;
    return (b[c + 1] as number) / (1 - DECAY ** (b[0] as number));
  }

  /** Has the victim's baseline seen enough windows to be trusted? */
  isWarm(key: VictimKey): boolean {
    const b = this.byKey.get(key);
    return b !== undefined && (b[0] as number) >= WARM_WINDOWS;
  }

  /** Learn one window of slot i of `t` for a victim; `openClasses` (bit c: class c has an open attack) are left out. */
  learn(key: VictimKey, t: KeyTable, i: number, openClasses: number): void {
    let b = this.byKey.get(key);
    if (!b) {
      if (this.byKey.size >= MAX_KEYS || (t.total[i] as number) < LEARN_MIN) return;
      b = new Float64Array(this.classes + 1);
      this.byKey.set(key, b);
    }
    for (let c = 1; c < this.classes; c++) {
      if (openClasses & (1 << c)) continue;
      const n = t.packets(i, c);
      b[c + 1] = (b[c + 1] as number) + ALPHA * (n - (b[c + 1] as number));
    }
    b[0] = (b[0] as number) + 1;
  }
}
