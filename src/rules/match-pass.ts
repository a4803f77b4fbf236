/**
 * One pass of several compiled rules over records: the per-record step of `palisade filter` for
 * packets and for flows. One rule (the common case) gets a step without the loop.
 */
export type Predicate<V> = (v: V) => boolean;

/** A record step that calls `onHit(i, v)` for each rule i the record matches, in order. */
export function matchStep<V>(preds: readonly Predicate<V>[], onHit: (i: number, v: V) => void): (v: V) => void {
  if (preds.length === 1) {
    const p = preds[0] as Predicate<V>;
    return (v) => {
      if (p(v)) onHit(0, v);
    };
  }
  return (v) => {
    for (let i = 0; i < preds.length; i++) if ((preds[i] as Predicate<V>)(v)) onHit(i, v);
  };
}
