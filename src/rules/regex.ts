/**
 * Regular expressions for `matches` and `regex_replace` (spec §5.1): the syntax of Rust's
 * `regex` crate in byte mode with Unicode off, run by a Pike VM (Thompson NFA simulation).
 *
 * Why our own engine: V8's backtracking engine takes exponential time on patterns like
 * `(a+)+$` (STACK.md measured 23 s on 28 characters), and user rules must not be able to stall
 * the engine. A Pike VM keeps at most one thread per program instruction per input byte, so a
 * search costs O(input length × program size) whatever the pattern; program size is capped at
 * compile time. Look-around, back-references and possessive quantifiers have no linear-time
 * implementation and are rejected, as the reference engine rejects them.
 */

export class RegexError extends Error {}

/** Compiled program size cap (instructions): bounds the per-byte work of a search. */
export const MAX_PROGRAM = 20_000;
/** Largest counted repetition bound, as regex-syntax's default nest/size limits keep things small. */
const MAX_REPEAT = 1000;

const enum Op {
  CLASS = 0,
  SPLIT = 1,
  JMP = 2,
  SAVE = 3,
  ASSERT = 4,
  MATCH = 5,
}
const enum As {
  START_TEXT = 0,
  END_TEXT = 1,
  START_LINE = 2,
  END_LINE = 3,
  WORD = 4,
  NOT_WORD = 5,
}

type Node =
  | { t: 'empty' }
  | { t: 'set'; set: Uint8Array }
  | { t: 'cat'; xs: Node[] }
  | { t: 'alt'; xs: Node[] }
  | { t: 'rep'; x: Node; min: number; max: number; greedy: boolean }
  | { t: 'group'; x: Node; cap: number }
  | { t: 'assert'; k: As };

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  U: boolean;
  x: boolean;
}

function isWordByte(b: number): boolean {
  return (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 95;
}

function rangeSet(ranges: Array<[number, number]>): Uint8Array {
  const s = new Uint8Array(256);
  for (const [a, b] of ranges) for (let c = a; c <= b; c++) s[c] = 1;
  return s;
}
const DIGIT = rangeSet([[48, 57]]);
const WORD = rangeSet([
  [48, 57],
  [65, 90],
  [97, 122],
  [95, 95],
]);
const SPACE = rangeSet([
  [9, 13],
  [32, 32],
]);
const POSIX: Record<string, Array<[number, number]>> = {
  alnum: [
    [48, 57],
    [65, 90],
    [97, 122],
  ],
  alpha: [
    [65, 90],
    [97, 122],
  ],
  ascii: [[0, 127]],
  blank: [
    [9, 9],
    [32, 32],
  ],
  cntrl: [
    [0, 31],
    [127, 127],
  ],
  digit: [[48, 57]],
  graph: [[33, 126]],
  lower: [[97, 122]],
  print: [[32, 126]],
  punct: [
    [33, 47],
    [58, 64],
    [91, 96],
    [123, 126],
  ],
  space: [
    [9, 13],
    [32, 32],
  ],
  upper: [[65, 90]],
  word: [
    [48, 57],
    [65, 90],
    [97, 122],
    [95, 95],
  ],
  xdigit: [
    [48, 57],
    [65, 70],
    [97, 102],
  ],
};

function negate(s: Uint8Array): Uint8Array {
  const o = new Uint8Array(256);
  for (let i = 0; i < 256; i++) o[i] = s[i] ? 0 : 1;
  return o;
}
function foldCase(s: Uint8Array): Uint8Array {
  const o = s.slice();
  for (let c = 65; c <= 90; c++) {
    if (s[c] || s[c + 32]) {
      o[c] = 1;
      o[c + 32] = 1;
    }
  }
  return o;
}

/** Parser for the pattern bytes (the pattern is a byte string: non-ASCII text arrives as UTF-8). */
class Parser {
  private i = 0;
  caps = 1;
  constructor(private readonly p: Uint8Array) {}

  private peek(k = 0): number {
    return this.i + k < this.p.length ? (this.p[this.i + k] as number) : -1;
  }
  private err(msg: string): never {
    throw new RegexError(`${msg} (at pattern byte ${this.i})`);
  }

  parse(): Node {
    const f: Flags = { i: false, m: false, s: false, U: false, x: false };
    const n = this.alt(f, 0);
    if (this.i < this.p.length) this.err('unopened group: unexpected ")"');
    return n;
  }

  private skipX(f: Flags): void {
    if (!f.x) return;
    for (;;) {
      const c = this.peek();
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12) this.i++;
      else if (c === 35) {
        while (this.i < this.p.length && this.peek() !== 10) this.i++;
      } else return;
    }
  }

  private alt(f: Flags, depth: number): Node {
    if (depth > 250) this.err('nesting too deep');
    const xs: Node[] = [this.concat(f, depth)];
    while (this.peek() === 124) {
      this.i++;
      xs.push(this.concat(f, depth));
    }
    return xs.length === 1 ? (xs[0] as Node) : { t: 'alt', xs };
  }

  private concat(f: Flags, depth: number): Node {
    const xs: Node[] = [];
    for (;;) {
      this.skipX(f);
      const c = this.peek();
      if (c === -1 || c === 124 || c === 41) break;
      if (c === 42 || c === 43 || c === 63 || (c === 123 && this.isCounted())) {
        const last = xs.pop();
        if (last === undefined || last.t === 'empty') this.err('repetition operator missing expression');
        if (last.t === 'rep') this.err('nested repetition operator (a repetition of a repetition) is not supported');
        xs.push(this.repeat(last, f));
        continue;
      }
      const atom = this.atom(f, depth);
      if (atom !== null) xs.push(atom);
    }
    if (xs.length === 0) return { t: 'empty' };
    return xs.length === 1 ? (xs[0] as Node) : { t: 'cat', xs };
  }

  private isCounted(): boolean {
    let j = this.i + 1;
    const d0 = j;
    while (j < this.p.length && (this.p[j] as number) >= 48 && (this.p[j] as number) <= 57) j++;
    if (j === d0) return false;
    if (this.p[j] === 125) return true;
    if (this.p[j] !== 44) return false;
    j++;
    while (j < this.p.length && (this.p[j] as number) >= 48 && (this.p[j] as number) <= 57) j++;
    return this.p[j] === 125;
  }

  private num(): number {
    let v = 0;
    let any = false;
    while (this.peek() >= 48 && this.peek() <= 57) {
      v = v * 10 + (this.peek() - 48);
      if (v > 1e6) v = 1e6;
      this.i++;
      any = true;
    }
    return any ? v : -1;
  }

  private repeat(x: Node, f: Flags): Node {
    const c = this.peek();
    this.i++;
    let min: number;
    let max: number;
    if (c === 42) [min, max] = [0, -1];
    else if (c === 43) [min, max] = [1, -1];
    else if (c === 63) [min, max] = [0, 1];
    else {
      min = this.num();
      max = min;
      if (this.peek() === 44) {
        this.i++;
        max = this.num();
      }
      this.i++; // '}'
      if (max !== -1 && max < min) this.err('invalid repetition range: max below min');
      if (min > MAX_REPEAT || max > MAX_REPEAT) this.err(`repetition count above ${MAX_REPEAT}`);
    }
    let greedy = true;
    if (this.peek() === 63) {
      this.i++;
      greedy = false;
    } else if (this.peek() === 43) this.err('possessive quantifiers are not supported');
    if (f.U) greedy = !greedy;
    return { t: 'rep', x, min, max, greedy };
  }

  private lit(b: number, f: Flags): Node {
    const s = new Uint8Array(256);
    s[b] = 1;
    return { t: 'set', set: f.i ? foldCase(s) : s };
  }

  private atom(f: Flags, depth: number): Node | null {
    const c = this.peek();
    this.i++;
    switch (c) {
      case 40:
        return this.group(f, depth);
      case 91:
        return { t: 'set', set: this.klass(f) };
      case 46: {
        const s = new Uint8Array(256).fill(1);
        if (!f.s) s[10] = 0;
        return { t: 'set', set: s };
      }
      case 94:
        return { t: 'assert', k: f.m ? As.START_LINE : As.START_TEXT };
      case 36:
        return { t: 'assert', k: f.m ? As.END_LINE : As.END_TEXT };
      case 92:
        return this.escape(f, false) as Node;
      case 41:
        this.err('unopened group');
        break;
      case 123:
        // As in regex-syntax: a '{' that does not open a valid counted repetition is an error.
        this.err('"{" does not start a valid repetition {n}, {n,} or {n,m}; write \\{ for a brace');
        break;
      case 125:
      case 93:
        return this.lit(c, f);
    }
    return this.lit(c, f);
  }

  private group(f: Flags, depth: number): Node | null {
    if (this.peek() !== 63) {
      const cap = this.caps++;
      const x = this.alt({ ...f }, depth + 1);
      if (this.peek() !== 41) this.err('unclosed group');
      this.i++;
      return { t: 'group', x, cap };
    }
    this.i++; // '?'
    const c = this.peek();
    if (c === 61 || c === 33) this.err('look-around is not supported');
    if (c === 60 && (this.peek(1) === 61 || this.peek(1) === 33)) this.err('look-behind is not supported');
    if (c === 80 || c === 60) {
      // (?P<name>…) or (?<name>…)
      if (c === 80) {
        this.i++;
        if (this.peek() !== 60) this.err('invalid named group');
      }
      this.i++;
      const start = this.i;
      while (this.i < this.p.length && this.peek() !== 62) {
        const b = this.peek();
        if (!(isWordByte(b) || b === 46 || b === 91 || b === 93)) this.err('invalid capture group name');
        this.i++;
      }
      if (this.peek() !== 62 || this.i === start) this.err('invalid capture group name');
      this.i++;
      const cap = this.caps++;
      const x = this.alt({ ...f }, depth + 1);
      if (this.peek() !== 41) this.err('unclosed group');
      this.i++;
      return { t: 'group', x, cap };
    }
    // Flags: (?flags) or (?flags:…)
    const nf = { ...f };
    let neg = false;
    let any = false;
    for (;;) {
      const b = this.peek();
      if (b === -1) this.err('unclosed flag group');
      this.i++;
      if (b === 41) {
        if (!any && !neg) this.err('empty flag group');
        Object.assign(f, nf);
        return null;
      }
      if (b === 58) {
        const x = this.alt(nf, depth + 1);
        if (this.peek() !== 41) this.err('unclosed group');
        this.i++;
        return { t: 'group', x, cap: -1 };
      }
      if (b === 45) {
        if (neg) this.err('repeated negation in flags');
        neg = true;
        continue;
      }
      const k = String.fromCharCode(b);
      if (k === 'i' || k === 'm' || k === 's' || k === 'U' || k === 'x') nf[k] = !neg;
      else if (k === 'u' || k === 'R') {
        // (?u): Unicode classes; bytes stay ASCII-only here. (?R): CRLF mode, same line anchors.
      } else this.err(`unknown flag "${k}"`);
      any = true;
    }
  }

  /** Escape after '\\'. In a class, returns a set; outside, a node. */
  private escape(f: Flags, inClass: boolean): Node | Uint8Array {
    const c = this.peek();
    if (c === -1) this.err('incomplete escape');
    this.i++;
    const ch = String.fromCharCode(c);
    const set = (s: Uint8Array): Node | Uint8Array => (inClass ? s : { t: 'set', set: s });
    const lit = (b: number): Node | Uint8Array => {
      if (inClass) {
        const s = new Uint8Array(256);
        s[b] = 1;
        return s;
      }
      return this.lit(b, f);
    };
    switch (ch) {
      case 'd':
        return set(DIGIT);
      case 'D':
        return set(negate(DIGIT));
      case 'w':
        return set(WORD);
      case 'W':
        return set(negate(WORD));
      case 's':
        return set(SPACE);
      case 'S':
        return set(negate(SPACE));
      case 'n':
        return lit(10);
      case 't':
        return lit(9);
      case 'r':
        return lit(13);
      case 'f':
        return lit(12);
      case 'v':
        return lit(11);
      case 'a':
        return lit(7);
      case 'x':
        return lit(this.hexEscape());
      case 'A':
      case 'z':
      case 'b':
      case 'B':
        if (inClass) this.err(`\\${ch} is not allowed in a class`);
        if (ch === 'b' && this.peek() === 123) this.err('\\b{…} is not supported');
        return { t: 'assert', k: ch === 'A' ? As.START_TEXT : ch === 'z' ? As.END_TEXT : ch === 'b' ? As.WORD : As.NOT_WORD };
    }
    if (c >= 48 && c <= 57) this.err('back-references (and octal escapes) are not supported');
    if (ch === 'p' || ch === 'P') this.err('Unicode classes are not available in byte mode');
    // Escaped meta characters and punctuation stand for themselves.
    if ('\\.+*?()|[]{}^$#&-~/ '.includes(ch) || (c >= 33 && c <= 126 && !isWordByte(c))) return lit(c);
    return this.err(`unrecognised escape "\\${ch}"`);
  }

  private hexEscape(): number {
    let v = 0;
    if (this.peek() === 123) {
      this.i++;
      let n = 0;
      while (this.peek() !== 125) {
        const d = hexVal(this.peek());
        if (d < 0 || n > 6) this.err('invalid \\x{…} escape');
        v = v * 16 + d;
        this.i++;
        n++;
      }
      this.i++;
      if (n === 0) this.err('empty \\x{} escape');
    } else {
      const a = hexVal(this.peek());
      const b = hexVal(this.peek(1));
      if (a < 0 || b < 0) this.err('\\x needs two hex digits');
      this.i += 2;
      v = a * 16 + b;
    }
    if (v > 255) this.err('\\x escape above 0xFF is not a byte (Unicode is off)');
    return v;
  }

  /** Character class after '[': members, ranges, escapes, [:posix:], nested classes, && intersection. */
  private klass(f: Flags): Uint8Array {
    let neg = false;
    if (this.peek() === 94) {
      this.i++;
      neg = true;
    }
    let acc: Uint8Array;
    let cur: Uint8Array = new Uint8Array(256);
    let first = true;
    let inter: Uint8Array | null = null as Uint8Array | null;
    for (;;) {
      const c = this.peek();
      if (c === -1) this.err('unclosed character class');
      if (c === 93 && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === 38 && this.peek(1) === 38) {
        this.i += 2;
        inter = inter === null ? cur : and(inter, cur);
        cur = new Uint8Array(256);
        continue;
      }
      if (c === 91 && this.peek(1) === 58) {
        const end = indexOfSeq(this.p, [58, 93], this.i + 2);
        if (end > 0) {
          let name = '';
          for (let k = this.i + 2; k < end; k++) name += String.fromCharCode(this.p[k] as number);
          let pneg = false;
          if (name.startsWith('^')) {
            pneg = true;
            name = name.slice(1);
          }
          const r = POSIX[name];
          if (!r) this.err(`unknown POSIX class [:${name}:]`);
          const s = rangeSet(r);
          or(cur, pneg ? negate(s) : s);
          this.i = end + 2;
          continue;
        }
      }
      if (c === 91) {
        this.i++;
        or(cur, this.klass({ ...f, i: false }));
        continue;
      }
      let lo: number;
      if (c === 92) {
        this.i++;
        const e = this.escape(f, true) as Uint8Array;
        let count = 0;
        let only = -1;
        for (let k = 0; k < 256; k++)
          if (e[k]) {
            count++;
            only = k;
          }
        if (count !== 1) {
          or(cur, e);
          continue;
        }
        lo = only;
      } else {
        this.i++;
        lo = c;
      }
      if (this.peek() === 45 && this.peek(1) !== 93 && this.peek(1) !== -1) {
        this.i++;
        let hi: number;
        if (this.peek() === 92) {
          this.i++;
          const e = this.escape(f, true) as Uint8Array;
          hi = e.indexOf(1);
          if (e.lastIndexOf(1) !== hi) this.err('invalid class range');
        } else {
          hi = this.peek();
          this.i++;
        }
        if (hi < lo) this.err('invalid class range: end before start');
        for (let k = lo; k <= hi; k++) cur[k] = 1;
      } else cur[lo] = 1;
    }
    acc = inter === null ? cur : and(inter, cur);
    if (f.i) acc = foldCase(acc);
    return neg ? negate(acc) : acc;
  }
}

function hexVal(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  if (b >= 65 && b <= 70) return b - 55;
  if (b >= 97 && b <= 102) return b - 87;
  return -1;
}
function or(a: Uint8Array, b: Uint8Array): void {
  for (let k = 0; k < 256; k++) if (b[k]) a[k] = 1;
}
function and(a: Uint8Array, b: Uint8Array): Uint8Array {
  const o = new Uint8Array(256);
  for (let k = 0; k < 256; k++) o[k] = a[k] && b[k] ? 1 : 0;
  return o;
}
function indexOfSeq(p: Uint8Array, seq: number[], from: number): number {
  outer: for (let i = from; i + seq.length <= p.length; i++) {
    for (let k = 0; k < seq.length; k++) if (p[i + k] !== seq[k]) continue outer;
    return i;
  }
  return -1;
}

/** Program: parallel arrays (op, a, b) plus the byte sets of CLASS instructions. */
class Builder {
  op: number[] = [];
  a: number[] = [];
  b: number[] = [];
  sets: Uint8Array[] = [];
  emit(op: Op, a = 0, b = 0): number {
    if (this.op.length >= MAX_PROGRAM) throw new RegexError(`pattern too large (over ${MAX_PROGRAM} instructions)`);
    this.op.push(op);
    this.a.push(a);
    this.b.push(b);
    return this.op.length - 1;
  }
  gen(n: Node): void {
    switch (n.t) {
      case 'empty':
        return;
      case 'set':
        this.sets.push(n.set);
        this.emit(Op.CLASS, this.sets.length - 1);
        return;
      case 'cat':
        for (const x of n.xs) this.gen(x);
        return;
      case 'alt': {
        const jumps: number[] = [];
        for (let k = 0; k < n.xs.length; k++) {
          if (k < n.xs.length - 1) {
            const sp = this.emit(Op.SPLIT);
            this.a[sp] = sp + 1;
            this.gen(n.xs[k] as Node);
            jumps.push(this.emit(Op.JMP));
            this.b[sp] = this.op.length;
          } else this.gen(n.xs[k] as Node);
        }
        for (const j of jumps) this.a[j] = this.op.length;
        return;
      }
      case 'group':
        if (n.cap < 0) {
          this.gen(n.x);
          return;
        }
        this.emit(Op.SAVE, 2 * n.cap);
        this.gen(n.x);
        this.emit(Op.SAVE, 2 * n.cap + 1);
        return;
      case 'assert':
        this.emit(Op.ASSERT, n.k);
        return;
      case 'rep': {
        for (let k = 0; k < n.min; k++) this.gen(n.x);
        if (n.max === -1) {
          // L: split body, out; body; jmp L
          const sp = this.emit(Op.SPLIT);
          this.gen(n.x);
          this.emit(Op.JMP, sp);
          const out = this.op.length;
          if (n.greedy) [this.a[sp], this.b[sp]] = [sp + 1, out];
          else [this.a[sp], this.b[sp]] = [out, sp + 1];
          return;
        }
        const splits: number[] = [];
        for (let k = n.min; k < n.max; k++) {
          splits.push(this.emit(Op.SPLIT));
          this.gen(n.x);
        }
        const out = this.op.length;
        for (const sp of splits) {
          if (n.greedy) [this.a[sp], this.b[sp]] = [sp + 1, out];
          else [this.a[sp], this.b[sp]] = [out, sp + 1];
        }
        return;
      }
    }
  }
}

/**
 * A compiled regular expression. `test` answers whether the pattern occurs anywhere in
 * bytes [off, off+len); `exec` gives the leftmost-first match with its groups. Both are
 * linear in the input. The thread lists are preallocated, so `test` does not allocate.
 */
export class Regex {
  readonly ncap: number;
  private readonly op: Int32Array;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private readonly sets: Uint8Array[];
  /** One flat 256-entry table per CLASS instruction (index a * 256 + byte). */
  private readonly table: Uint8Array;
  private readonly anchored: boolean;
  private readonly n: number;
  // Thread lists: sparse sets (dense array + position index) for test().
  private readonly cur: Int32Array;
  private readonly nxt: Int32Array;
  private readonly mark: Uint32Array;
  private gen = 0;
  private readonly stack: Int32Array;
  /**
   * Thread steps taken by the last test() (states entered). At most (len + 1) × program size by
   * construction; tests assert that bound instead of timing anything.
   */
  steps = 0;
  private readonly first: Uint8Array | null;

  /** Program size (instructions): the per-byte work bound of a search. */
  get size(): number {
    return this.n;
  }

  constructor(readonly source: Uint8Array) {
    const p = new Parser(source);
    const ast = p.parse();
    this.ncap = p.caps;
    const bld = new Builder();
    bld.emit(Op.SAVE, 0);
    bld.gen(ast);
    bld.emit(Op.SAVE, 1);
    bld.emit(Op.MATCH);
    this.n = bld.op.length;
    this.op = Int32Array.from(bld.op);
    this.a = Int32Array.from(bld.a);
    this.b = Int32Array.from(bld.b);
    this.sets = bld.sets;
    this.table = new Uint8Array(Math.max(1, bld.sets.length) * 256);
    for (let k = 0; k < bld.sets.length; k++) this.table.set(bld.sets[k] as Uint8Array, k * 256);
    this.anchored = startsAnchored(ast);
    this.cur = new Int32Array(this.n);
    this.nxt = new Int32Array(this.n);
    this.mark = new Uint32Array(this.n);
    this.stack = new Int32Array(this.n * 2 + 2);
    this.first = this.firstBytes();
    let dfaOk = true;
    for (let pc = 0; pc < this.n; pc++) {
      if (this.op[pc] === Op.ASSERT && this.a[pc] !== As.START_TEXT && this.a[pc] !== As.END_TEXT) dfaOk = false;
    }
    this.dfa = dfaOk ? new LazyDfa(this.n, this.op, this.a, this.b, this.table, this.anchored, this.first) : null;
  }

  private dfa: LazyDfa | null;

  /**
   * Does the pattern occur in buf[off, off+len)? A lazy DFA (one table step per byte) when the
   * pattern has no line or word assertions and its state cache suffices, else the Pike VM.
   * Both are linear; neither allocates once the DFA states an input needs exist.
   */
  test(buf: Uint8Array, off: number, len: number): boolean {
    if (this.dfa !== null) {
      const r = this.dfa.run(buf, off, len);
      this.steps = this.dfa.steps;
      if (r >= 0) return r === 1;
      // Inputs keep needing states the cache cannot hold: stop trying the DFA for this pattern.
      if (++this.dfaMisses > 16) this.dfa = null;
    }
    return this.pikeTest(buf, off, len);
  }

  private dfaMisses = 0;

  private assert(k: number, buf: Uint8Array, off: number, end: number, i: number): boolean {
    switch (k) {
      case As.START_TEXT:
        return i === off;
      case As.END_TEXT:
        return i === end;
      case As.START_LINE:
        return i === off || buf[i - 1] === 10;
      case As.END_LINE:
        return i === end || buf[i] === 10;
      default: {
        const before = i > off && isWordByte(buf[i - 1] as number);
        const after = i < end && isWordByte(buf[i] as number);
        return (before !== after) === (k === As.WORD);
      }
    }
  }

  /**
   * Add pc's epsilon closure to `list` (count in/out). Returns true when MATCH is reachable.
   * Uses an explicit stack: programs may have long split chains.
   */
  private add(list: Int32Array, count: number, pc0: number, buf: Uint8Array, off: number, end: number, i: number, out: { n: number }): boolean {
    const st = this.stack;
    const mark = this.mark;
    const g = this.gen;
    let sp = 0;
    st[sp++] = pc0;
    let n = count;
    let matched = false;
    while (sp > 0) {
      let pc = st[--sp] as number;
      for (;;) {
        if (mark[pc] === g) break;
        mark[pc] = g;
        this.steps++;
        const o = this.op[pc] as number;
        if (o === Op.JMP) {
          pc = this.a[pc] as number;
          continue;
        }
        if (o === Op.SPLIT) {
          st[sp++] = this.b[pc] as number;
          pc = this.a[pc] as number;
          continue;
        }
        if (o === Op.SAVE) {
          pc++;
          continue;
        }
        if (o === Op.ASSERT) {
          if (!this.assert(this.a[pc] as number, buf, off, end, i)) break;
          pc++;
          continue;
        }
        if (o === Op.MATCH) {
          matched = true;
          break;
        }
        list[n++] = pc;
        break;
      }
    }
    out.n = n;
    return matched;
  }

  private readonly cnt = { n: 0 };

  private bump(): void {
    this.gen = (this.gen + 1) >>> 0;
    if (this.gen === 0) {
      this.mark.fill(0);
      this.gen = 1;
    }
  }

  /** Does the pattern occur in buf[off, off+len)? The Pike VM: linear time, no allocation. */
  pikeTest(buf: Uint8Array, off: number, len: number): boolean {
    const end = off + len;
    let cur = this.cur;
    let nxt = this.nxt;
    let nc = 0;
    const tab = this.table;
    const cnt = this.cnt;
    const first = this.first;
    this.steps = 0;
    this.bump();
    for (let i = off; ; i++) {
      if (nc === 0 && first !== null && !this.anchored) {
        // No live thread: skip to the next byte that can start a match.
        while (i < end && first[buf[i] as number] === 0) i++;
        if (i >= end) return false;
      }
      if (!this.anchored || i === off) {
        if (this.add(cur, nc, 0, buf, off, end, i, cnt)) return true;
        nc = cnt.n;
      }
      if (i >= end) return false;
      if (nc === 0) {
        if (this.anchored) return false;
        this.bump();
        continue;
      }
      const byte = buf[i] as number;
      this.bump();
      let nn = 0;
      for (let k = 0; k < nc; k++) {
        const pc = cur[k] as number;
        if (tab[(this.a[pc] as number) * 256 + byte] === 1) {
          if (this.add(nxt, nn, pc + 1, buf, off, end, i + 1, cnt)) return true;
          nn = cnt.n;
        }
      }
      const t = cur;
      cur = nxt;
      nxt = t;
      nc = nn;
    }
  }

  /** Bytes that can begin a match, or null when the start can match empty or needs an assertion. */
  private firstBytes(): Uint8Array | null {
    const set = new Uint8Array(256);
    const seen = new Uint8Array(this.n);
    const st = [0];
    while (st.length > 0) {
      const pc = st.pop() as number;
      if (seen[pc]) continue;
      seen[pc] = 1;
      const o = this.op[pc] as number;
      if (o === Op.JMP) st.push(this.a[pc] as number);
      else if (o === Op.SPLIT) st.push(this.a[pc] as number, this.b[pc] as number);
      else if (o === Op.SAVE) st.push(pc + 1);
      else if (o === Op.CLASS) or(set, this.sets[this.a[pc] as number] as Uint8Array);
      else return null;
    }
    return set;
  }

  /**
   * Leftmost-first match with capture groups: [start0, end0, start1, end1, …] relative to off
   * (-1 for groups that did not take part), or null. Allocates (used by regex_replace only).
   */
  exec(buf: Uint8Array, off: number, len: number): Int32Array | null {
    const end = off + len;
    const slots = this.ncap * 2;
    type Th = { pc: number; caps: Int32Array };
    let clist: Th[] = [];
    let best: Int32Array | null = null;
    const addThread = (list: Th[], seen: Set<number>, pc: number, caps: Int32Array, i: number): void => {
      // Recursive closure in priority order; depth is bounded by the program size.
      const stack: Array<[number, Int32Array]> = [[pc, caps]];
      while (stack.length > 0) {
        const [p0, c0] = stack.pop() as [number, Int32Array];
        let p = p0;
        let c = c0;
        for (;;) {
          if (seen.has(p)) break;
          seen.add(p);
          const o = this.op[p] as number;
          if (o === Op.JMP) {
            p = this.a[p] as number;
            continue;
          }
          if (o === Op.SPLIT) {
            stack.push([this.b[p] as number, c]);
            p = this.a[p] as number;
            continue;
          }
          if (o === Op.SAVE) {
            c = c.slice();
            c[this.a[p] as number] = i - off;
            p++;
            continue;
          }
          if (o === Op.ASSERT) {
            if (!this.assert(this.a[p] as number, buf, off, end, i)) break;
            p++;
            continue;
          }
          list.push({ pc: p, caps: c });
          break;
        }
      }
    };
    for (let i = off; ; i++) {
      if (best === null && (!this.anchored || i === off)) {
        const seen = new Set<number>(clist.map((t) => t.pc));
        addThread(clist, seen, 0, new Int32Array(slots).fill(-1), i);
      }
      const nlist: Th[] = [];
      const seen = new Set<number>();
      for (const th of clist) {
        const o = this.op[th.pc] as number;
        if (o === Op.MATCH) {
          best = th.caps;
          break; // lower-priority threads are cut
        }
        if (i < end && this.table[(this.a[th.pc] as number) * 256 + (buf[i] as number)] === 1) addThread(nlist, seen, th.pc + 1, th.caps, i + 1);
      }
      if (i >= end || (nlist.length === 0 && (best !== null || this.anchored))) {
        return best;
      }
      clist = nlist;
    }
  }
}

/**
 * Lazy DFA over the NFA program (subset construction on demand, as RE2 and Rust's hybrid engine
 * do). A state is the set of CLASS instructions live after a byte, plus two flags: MATCH reached,
 * and MATCH reached through `$`/`\z` (a match only if the input ends here). `^`/`\A` hold only
 * in the start state at the first position. Unanchored search adds the start closure to every
 * state. The cache is bounded (512 states, at most 512 KB of transitions per pattern, grown on
 * demand from 8 KB): past it the caller falls back to the Pike VM.
 */
const MAX_STATES = 512;

class LazyDfa {
  private readonly keys = new Map<string, number>();
  private sets: Int32Array[] = [];
  private flags: number[] = [];
  private trans: Int32Array = new Int32Array(8 * 256).fill(-1);
  private readonly mark: Uint32Array;
  private gen = 0;
  private readonly list: Int32Array;
  private readonly stack: Int32Array;
  private start0 = -1;
  /** States entered and bytes stepped by the last run (the linear-work counter tests assert). */
  steps = 0;

  constructor(
    private readonly n: number,
    private readonly op: Int32Array,
    private readonly a: Int32Array,
    private readonly b: Int32Array,
    private readonly table: Uint8Array,
    private readonly anchored: boolean,
    /** Bytes that can start a match (null: any), to skip input while no thread is live. */
    private readonly first: Uint8Array | null,
  ) {
    this.mark = new Uint32Array(2 * n);
    this.list = new Int32Array(n);
    this.stack = new Int32Array(4 * n + 4);
  }

  /** Closure of pc into list[cnt…]; returns the new count and ORs MATCH flags into this.f. */
  private f = 0;
  private closure(pc0: number, cnt: number, atStart: boolean): number {
    const st = this.stack;
    const g = this.gen;
    let sp = 0;
    // Entries carry an "after end assertion" bit in the low bit.
    st[sp++] = pc0 << 1;
    let c = cnt;
    while (sp > 0) {
      const e = st[--sp] as number;
      let pc = e >> 1;
      let atEnd = (e & 1) === 1;
      for (;;) {
        // Threads past an end assertion are tracked apart (they can only reach MATCH).
        const key = atEnd ? pc + this.n : pc;
        if (this.mark[key] === g) break;
        this.mark[key] = g;
        this.steps++;
        const o = this.op[pc] as number;
        if (o === Op.JMP) {
          pc = this.a[pc] as number;
          continue;
        }
        if (o === Op.SPLIT) {
          st[sp++] = ((this.b[pc] as number) << 1) | (atEnd ? 1 : 0);
          pc = this.a[pc] as number;
          continue;
        }
        if (o === Op.SAVE) {
          pc++;
          continue;
        }
        if (o === Op.ASSERT) {
          const k = this.a[pc] as number;
          if (k === As.START_TEXT && !atStart) break;
          if (k === As.END_TEXT) atEnd = true;
          pc++;
          continue;
        }
        if (o === Op.MATCH) {
          this.f |= atEnd ? 2 : 1;
          break;
        }
        if (!atEnd) this.list[c++] = pc;
        break;
      }
    }
    return c;
  }

  private bump(): void {
    this.gen = (this.gen + 1) >>> 0;
    if (this.gen === 0) {
      this.mark.fill(0);
      this.gen = 1;
    }
  }

  /** Intern the state in list[0, cnt) with flags f: its id, or -2 when the cache is full. */
  private intern(cnt: number, f: number): number {
    const pcs = this.list.slice(0, cnt).sort();
    const key = `${f}:${pcs.join(',')}`;
    const hit = this.keys.get(key);
    if (hit !== undefined) return hit;
    if (this.sets.length >= MAX_STATES) return -2;
    const id = this.sets.length;
    this.sets.push(pcs);
    this.flags.push(f);
    this.keys.set(key, id);
    if ((id + 1) * 256 > this.trans.length) {
      const t = new Int32Array(this.trans.length * 2).fill(-1);
      t.set(this.trans);
      this.trans = t;
    }
    return id;
  }

  /** The unanchored state with nothing live but the start closure (-1: not built yet). */
  private idle = -1;

  private idleState(): number {
    if (this.idle >= 0 || this.anchored) return this.idle;
    this.bump();
    this.f = 0;
    const c = this.closure(0, 0, false);
    this.idle = this.intern(c, this.f);
    return this.idle;
  }

  private startState(): number {
    if (this.start0 >= 0) return this.start0;
    this.bump();
    this.f = 0;
    const c = this.closure(0, 0, true);
    this.start0 = this.intern(c, this.f);
    return this.start0;
  }

  private step(s: number, byte: number): number {
    this.bump();
    this.f = 0;
    let c = 0;
    const pcs = this.sets[s] as Int32Array;
    for (let k = 0; k < pcs.length; k++) {
      const pc = pcs[k] as number;
      if (this.table[(this.a[pc] as number) * 256 + byte] === 1) c = this.closure(pc + 1, c, false);
    }
    if (!this.anchored) c = this.closure(0, c, false);
    const t = this.intern(c, this.f);
    if (t >= 0) this.trans[s * 256 + byte] = t;
    return t;
  }

  /** 1 match, 0 no match, -1 cache full (use the Pike VM). */
  run(buf: Uint8Array, off: number, len: number): number {
    this.steps = 0;
    let s = this.startState();
    if (s < 0) return -1;
    const end = off + len;
    const first = this.first;
    const idle = first === null ? -1 : this.idleState();
    for (let i = off; i < end; i++) {
      if ((this.flags[s] as number) & 1) return 1;
      if (s === idle) {
        // Nothing live: jump to the next byte that can start a match.
        const f = first as Uint8Array;
        while (i < end && f[buf[i] as number] === 0) i++;
        if (i >= end) break;
      }
      if (this.anchored && (this.sets[s] as Int32Array).length === 0) return 0;
      const byte = buf[i] as number;
      let t = this.trans[s * 256 + byte] as number;
      this.steps++;
      if (t < 0) {
        t = this.step(s, byte);
        if (t < 0) return -1;
      }
      s = t;
    }
    return (this.flags[s] as number) !== 0 ? 1 : 0;
  }
}

function startsAnchored(n: Node): boolean {
  if (n.t === 'assert') return n.k === As.START_TEXT;
  if (n.t === 'cat') return n.xs.length > 0 && startsAnchored(n.xs[0] as Node);
  if (n.t === 'group') return startsAnchored(n.x);
  return false;
}

/** Compile a pattern (bytes); throws RegexError when it is invalid or unsupported. */
export function compileRegex(pattern: Uint8Array): Regex {
  return new Regex(pattern);
}
