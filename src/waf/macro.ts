/** Macro text (`%{TX.anomaly_score}`) split once at compile time, and interned names. */
import type { Macro } from './rule.js';

/**
 * The engine's copy of a name: V8 keeps one instance of each string used as a property key, so
 * names from rules become the same objects as those in the code and in each other, and Map
 * look-ups and comparisons between them stop at the pointer instead of comparing characters.
 */
export function intern(s: string): string {
  return Object.keys({ [s]: 0 })[0];
}

export function parseMacro(s: string): Macro {
  const out: Macro = [];
  let p = 0;
  while (p < s.length) {
    const st = s.indexOf('%{', p);
    if (st < 0) {
      out.push(s.slice(p));
      break;
    }
    const en = s.indexOf('}', st);
    if (en < 0) {
      out.push(s.slice(p));
      break;
    }
    if (st > p) out.push(s.slice(p, st));
    const ref = s.slice(st + 2, en);
    const dot = ref.indexOf('.');
    if (dot < 0) out.push({ coll: intern(ref.toUpperCase()), key: null });
    else out.push({ coll: intern(ref.slice(0, dot).toUpperCase()), key: intern(ref.slice(dot + 1).toLowerCase()) });
    p = en + 1;
  }
  return out;
}
