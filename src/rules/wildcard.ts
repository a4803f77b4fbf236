/**
 * Wildcard patterns (spec §5.2): `*` matches any byte sequence (including `/`), `\*` and `\\`
 * are a literal star and backslash; other backslash sequences and `**` are pattern errors. The
 * whole value must match; `wildcard` folds ASCII case, `strict wildcard` does not.
 *
 * Matching is the two-pointer algorithm with one backtrack point (the last star): O(n·m) worst
 * case, no recursion. The same walk with lazy stars gives `wildcard_replace` its captures.
 */

export class WildcardError extends Error {}

/** Parsed pattern: literal segments between stars (segments.length = stars + 1). */
export class Wildcard {
  readonly segs: Uint8Array[];
  /** Pattern as (byte | -1 for a star), after escapes. */
  private readonly pat: Int16Array;
  constructor(
    src: Uint8Array,
    readonly fold: boolean,
  ) {
    const out: number[] = [];
    let prevStar = false;
    for (let i = 0; i < src.length; i++) {
      const c = src[i] as number;
      if (c === 92) {
        const n = src[i + 1];
        if (n !== 42 && n !== 92)
          throw new WildcardError(n === undefined ? 'a pattern cannot end with "\\"' : `bad escape "\\${String.fromCharCode(n)}" in wildcard: only \\* and \\\\`);
        out.push(n);
        i++;
        prevStar = false;
      } else if (c === 42) {
        if (prevStar) throw new WildcardError('"**" is not allowed in a wildcard');
        out.push(-1);
        prevStar = true;
      } else {
        out.push(fold ? lowerByte(c) : c);
        prevStar = false;
      }
    }
    this.pat = Int16Array.from(out);
    this.segs = [];
    let cur: number[] = [];
    for (const x of out) {
      if (x === -1) {
        this.segs.push(Uint8Array.from(cur));
        cur = [];
      } else cur.push(x);
    }
    this.segs.push(Uint8Array.from(cur));
  }

  get stars(): number {
    return this.segs.length - 1;
  }

  /** Whole-value match of buf[off, off+len). `starts`, when given, receives each star's [start, end) (lazy). */
  match(buf: Uint8Array, off: number, len: number, starts?: Int32Array): boolean {
    const p = this.pat;
    const m = p.length;
    const fold = this.fold;
    let i = 0;
    let j = 0;
    let starJ = -1;
    let starI = 0;
    let starK = -1;
    let k = -1;
    while (i < len) {
      if (j < m && p[j] === -1) {
        k++;
        if (starts) starts[2 * k] = i;
        starJ = j++;
        starI = i;
        starK = k;
        continue;
      }
      const c = fold ? lowerByte(buf[off + i] as number) : (buf[off + i] as number);
      if (j < m && p[j] === c) {
        i++;
        j++;
        continue;
      }
      if (starJ < 0) return false;
      // Extend the last star by one byte and retry after it.
      j = starJ + 1;
      i = ++starI;
      k = starK;
      if (starts) starts[2 * k + 1] = i;
    }
    while (j < m && p[j] === -1) {
      k++;
      if (starts) starts[2 * k] = i;
      j++;
    }
    if (j !== m) return false;
    if (starts) fillEnds(p, starts, len);
    return true;
  }
}

/** After a match, each star ends where the next literal segment starts: recompute ends from starts. */
function fillEnds(p: Int16Array, starts: Int32Array, len: number): void {
  // Star k ends at the start of star k+1 minus the literal run between them; the last ends at
  // len minus the trailing literal run.
  let k = -1;
  let run = 0;
  const runs: number[] = [];
  for (let j = 0; j < p.length; j++) {
    if (p[j] === -1) {
      if (k >= 0) runs.push(run);
      k++;
      run = 0;
    } else run++;
  }
  if (k >= 0) runs.push(run);
  for (let s = 0; s <= k; s++) {
    const nextStart = s < k ? (starts[2 * (s + 1)] as number) : len;
    starts[2 * s + 1] = nextStart - (runs[s] as number);
  }
}

export function lowerByte(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}
