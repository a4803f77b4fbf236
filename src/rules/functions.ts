/**
 * Functions of the Rules language (spec §7): signatures checked at compile time (argument
 * errors point at the function name for counts and consistency, at the argument otherwise),
 * implementations over runtime values. A function given a missing value returns a missing
 * value, except concat (skips missing arguments) and starts_with/ends_with (false).
 */
import type { Scheme } from '../scheme/types.js';
import { arrayOf, BOOL, BYTES, bytesKey, INT, IP, IpValue, isArray, type Type, utf8, type Value } from '../scheme/values.js';
import type { Arg, Span } from './ast.js';
import { RulesError } from './errors.js';
import { formatIp } from './ipaddr.js';
import { type Json, parseJson } from './json.js';
import { compileRegex, type Regex, RegexError } from './regex.js';
import { lowerByte, Wildcard, WildcardError } from './wildcard.js';

export type Impl = (a: Array<Value | undefined>) => Value | undefined;

interface FnDef {
  min: number;
  max: number;
  /** Check argument kinds and types (count and [*] already checked); returns the result type. */
  check(args: Arg[], name: Span, scheme: Scheme<unknown>): Type;
  /** Build the implementation; literal arguments are known here (index → value). */
  make(args: Arg[]): Impl;
}

export function argType(a: Arg): Type {
  if (a.k === 'lit') return a.type;
  if (a.k === 'value') return a.v.type;
  return a.e.arr ? arrayOf(BOOL) : BOOL;
}
function argErr(a: Arg, msg: string): never {
  throw new RulesError('argument', a.span.start, a.span.end, msg);
}
function field(a: Arg, fn: string, n: number, want: (t: Type) => boolean, wantText: string): Type {
  if (a.k === 'lit') argErr(a, `argument ${n} of ${fn}(…) must be a field or a function value, not a literal`);
  const t = argType(a);
  if (!want(t)) argErr(a, `argument ${n} of ${fn}(…) must be ${wantText}, found ${t}`);
  return t;
}
function literal(a: Arg, fn: string, n: number, t: Type): Value {
  if (a.k !== 'lit') argErr(a, `argument ${n} of ${fn}(…) must be a literal ${t === BYTES ? 'string' : t === INT ? 'integer' : t}`);
  if (a.type !== t) argErr(a, `argument ${n} of ${fn}(…) must be ${t === BYTES ? 'a string' : 'an integer'}, found ${a.type}`);
  return a.value;
}
function litInt(a: Arg, fn: string, n: number, lo: number, hi: number): number {
  const v = literal(a, fn, n, INT) as number;
  if (v < lo || v > hi) argErr(a, `argument ${n} of ${fn}(…) must be between ${lo} and ${hi}, found ${v}`);
  return v;
}
const isBytes = (t: Type) => t === BYTES;
const lit = (args: Arg[], i: number): Value | undefined => {
  const a = args[i];
  return a !== undefined && a.k === 'lit' ? a.value : undefined;
};

function mapBytes(f: (c: number) => number): Impl {
  return ([x]) => {
    if (!(x instanceof Uint8Array)) return undefined;
    const o = new Uint8Array(x.length);
    for (let i = 0; i < x.length; i++) o[i] = f(x[i] as number);
    return o;
  };
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const o = new Uint8Array(n);
  let k = 0;
  for (const p of parts) {
    o.set(p, k);
    k += p.length;
  }
  return o;
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

export function urlDecode(x: Uint8Array, unicode: boolean): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) {
    const c = x[i] as number;
    if (c === 43) {
      out.push(32);
      continue;
    }
    if (c === 37) {
      if (unicode && (x[i + 1] === 117 || x[i + 1] === 85)) {
        const d = [2, 3, 4, 5].map((k) => hex(x[i + k] ?? -1));
        if (d.every((v) => v >= 0)) {
          const cp = (d[0] as number) * 4096 + (d[1] as number) * 256 + (d[2] as number) * 16 + (d[3] as number);
          for (const b of utf8(String.fromCharCode(cp))) out.push(b);
          i += 5;
          continue;
        }
      }
      const h = hex(x[i + 1] ?? -1);
      const l = hex(x[i + 2] ?? -1);
      if (h >= 0 && l >= 0) {
        out.push(h * 16 + l);
        i += 2;
        continue;
      }
    }
    out.push(c);
  }
  return Uint8Array.from(out);
}

function eqBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `${n}` (n = 1..9) from groups, `$$` → `$`; anything else is copied. */
function expand(repl: Uint8Array, group: (n: number) => Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i] as number;
    if (c === 36 && repl[i + 1] === 36) {
      out.push(36);
      i++;
      continue;
    }
    if (c === 36 && repl[i + 1] === 123) {
      let j = i + 2;
      let n = 0;
      while (j < repl.length && (repl[j] as number) >= 48 && (repl[j] as number) <= 57 && j - i < 6) n = n * 10 + ((repl[j++] as number) - 48);
      if (repl[j] === 125 && j > i + 2) {
        for (const b of group(n)) out.push(b);
        i = j;
        continue;
      }
    }
    out.push(c);
  }
  return Uint8Array.from(out);
}

const B64 = new Int16Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((c, i) => {
  B64[c.charCodeAt(0)] = i;
});
export function decodeBase64(x: Uint8Array): Uint8Array | undefined {
  let n = x.length;
  let pad = 0;
  while (n > 0 && x[n - 1] === 61 && pad < 2) {
    n--;
    pad++;
  }
  if (pad > 0 && x.length % 4 !== 0) return undefined;
  if (n % 4 === 1) return undefined;
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < n; i++) {
    const v = B64[x[i] as number] as number;
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 255);
    }
  }
  return Uint8Array.from(out);
}

function jsonLookup(args: Array<Value | undefined>): Json | undefined {
  const [doc, ...keys] = args;
  if (!(doc instanceof Uint8Array)) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(doc);
  } catch {
    return undefined;
  }
  let cur = parseJson(text);
  for (const k of keys) {
    if (cur === undefined) return undefined;
    if (typeof k === 'number') cur = Array.isArray(cur) ? cur[k] : undefined;
    else if (k instanceof Uint8Array) cur = cur instanceof Map ? cur.get(new TextDecoder().decode(k)) : undefined;
    else return undefined;
  }
  return cur;
}

function networkOf(ip: IpValue, v4bits: number, v6bits: number): IpValue {
  if (ip.fam === 4) return IpValue.of4(v4bits === 0 ? 0 : (ip.v4 & (0xffffffff << (32 - v4bits))) >>> 0);
  const o = new Uint8Array(16);
  const src = ip.v6 as Uint8Array;
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, v6bits - 8 * i));
    o[i] = (src[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return IpValue.of6(o);
}

const KEY_OK = (a: Arg, fn: string, n: number) => {
  if (a.k !== 'lit') argErr(a, `argument ${n} of ${fn}(…) (a key) must be a literal string or integer`);
  if (a.type !== BYTES && a.type !== INT) argErr(a, `argument ${n} of ${fn}(…) (a key) must be a string or an integer, found ${a.type}`);
};

export const FUNCTIONS: ReadonlyMap<string, FnDef> = new Map<string, FnDef>([
  ['lower', { min: 1, max: 1, check: ([a]) => (field(a as Arg, 'lower', 1, isBytes, 'Bytes'), BYTES), make: () => mapBytes((c) => lowerByte(c)) }],
  ['upper', { min: 1, max: 1, check: ([a]) => (field(a as Arg, 'upper', 1, isBytes, 'Bytes'), BYTES), make: () => mapBytes((c) => (c >= 97 && c <= 122 ? c - 32 : c)) }],
  [
    'len',
    {
      min: 1,
      max: 1,
      check: ([a]) => (field(a as Arg, 'len', 1, (t) => t === BYTES || isArray(t), 'Bytes or an Array'), INT),
      make:
        () =>
        ([x]) =>
          x instanceof Uint8Array || Array.isArray(x) ? x.length : undefined,
    },
  ],
  [
    'concat',
    {
      min: 1,
      max: 64,
      check(args, name) {
        args.forEach((a, i) => {
          const t = argType(a);
          if (t !== BYTES && !isArray(t)) argErr(a, `argument ${i + 1} of concat(…) must be Bytes or an Array, found ${t}`);
        });
        const t0 = argType(args[0] as Arg);
        for (const a of args) {
          if (argType(a) !== t0)
            throw new RulesError('argument', name.start, name.end, `concat(…) arguments must all be Bytes or all arrays of one type; found ${t0} and ${argType(a)}`);
        }
        return t0;
      },
      make: (args) => {
        const arrays = isArray(argType(args[0] as Arg));
        return (xs) => {
          const present = xs.filter((x) => x !== undefined);
          if (present.length === 0) return undefined;
          return arrays ? (present as Value[][]).flat() : concatBytes(present as Uint8Array[]);
        };
      },
    },
  ],
  ...(['starts_with', 'ends_with'] as const).map((fn): [string, FnDef] => [
    fn,
    {
      min: 2,
      max: 2,
      check: ([a, b]) => {
        field(a as Arg, fn, 1, isBytes, 'Bytes');
        literal(b as Arg, fn, 2, BYTES);
        return BOOL;
      },
      make: (args) => {
        const p = lit(args, 1) as Uint8Array;
        return ([x]) => {
          if (!(x instanceof Uint8Array) || x.length < p.length) return false;
          const base = fn === 'starts_with' ? 0 : x.length - p.length;
          for (let i = 0; i < p.length; i++) if (x[base + i] !== p[i]) return false;
          return true;
        };
      },
    },
  ]),
  [
    'url_decode',
    {
      min: 1,
      max: 2,
      check: ([a, o]) => {
        field(a as Arg, 'url_decode', 1, isBytes, 'Bytes');
        if (o) {
          const opts = bytesKey(literal(o, 'url_decode', 2, BYTES) as Uint8Array);
          if (!/^[ru]*$/.test(opts)) argErr(o, `url_decode options are the letters r (repeat) and u (%uHHHH), found "${opts}"`);
        }
        return BYTES;
      },
      make: (args) => {
        const opts = args[1] ? bytesKey(lit(args, 1) as Uint8Array) : '';
        const repeat = opts.includes('r');
        const uni = opts.includes('u');
        return ([x]) => {
          if (!(x instanceof Uint8Array)) return undefined;
          let cur = urlDecode(x, uni);
          if (repeat) {
            for (let k = 0; k < 64; k++) {
              const nx = urlDecode(cur, uni);
              if (eqBytes(nx, cur)) break;
              cur = nx;
            }
          }
          return cur;
        };
      },
    },
  ],
  [
    'to_string',
    {
      min: 1,
      max: 1,
      check: ([a]) => (field(a as Arg, 'to_string', 1, (t) => t === INT || t === BOOL || t === IP, 'Int, Bool or Ip'), BYTES),
      make:
        () =>
        ([x]) => {
          if (x === undefined) return undefined;
          if (typeof x === 'number') return utf8(String(x));
          if (typeof x === 'boolean') return utf8(x ? 'true' : 'false');
          if (x instanceof IpValue) return utf8(formatIp(x));
          return undefined;
        },
    },
  ],
  [
    'regex_replace',
    {
      min: 3,
      max: 3,
      check: ([a, r, p]) => {
        if (argType(a as Arg) !== BYTES) argErr(a as Arg, `argument 1 of regex_replace(…) must be Bytes, found ${argType(a as Arg)}`);
        const src = literal(r as Arg, 'regex_replace', 2, BYTES) as Uint8Array;
        try {
          compileRegex(src);
        } catch (e) {
          if (e instanceof RegexError) throw new RulesError('pattern', (r as Arg).span.start, (r as Arg).span.end, `invalid regular expression: ${e.message}`);
          throw e;
        }
        literal(p as Arg, 'regex_replace', 3, BYTES);
        return BYTES;
      },
      make: (args) => {
        const re: Regex = compileRegex(lit(args, 1) as Uint8Array);
        const repl = lit(args, 2) as Uint8Array;
        return ([x]) => {
          if (!(x instanceof Uint8Array)) return undefined;
          const m = re.exec(x, 0, x.length);
          if (m === null) return x;
          const out = expand(repl, (n) => (n < re.ncap && (m[2 * n] as number) >= 0 ? x.subarray(m[2 * n] as number, m[2 * n + 1] as number) : new Uint8Array(0)));
          return concatBytes([x.subarray(0, m[0] as number), out, x.subarray(m[1] as number)]);
        };
      },
    },
  ],
  [
    'wildcard_replace',
    {
      min: 3,
      max: 4,
      check: ([a, w, r, f]) => {
        field(a as Arg, 'wildcard_replace', 1, isBytes, 'Bytes');
        const src = literal(w as Arg, 'wildcard_replace', 2, BYTES) as Uint8Array;
        try {
          new Wildcard(src, true);
        } catch (e) {
          if (e instanceof WildcardError) throw new RulesError('pattern', (w as Arg).span.start, (w as Arg).span.end, `invalid wildcard: ${e.message}`);
          throw e;
        }
        literal(r as Arg, 'wildcard_replace', 3, BYTES);
        if (f) {
          const flags = bytesKey(literal(f, 'wildcard_replace', 4, BYTES) as Uint8Array);
          if (flags !== '' && flags !== 's') argErr(f, `wildcard_replace flags are "" or "s" (case-sensitive), found "${flags}"`);
        }
        return BYTES;
      },
      make: (args) => {
        const strict = args[3] !== undefined && bytesKey(lit(args, 3) as Uint8Array) === 's';
        const w = new Wildcard(lit(args, 1) as Uint8Array, !strict);
        const repl = lit(args, 2) as Uint8Array;
        return ([x]) => {
          if (!(x instanceof Uint8Array)) return undefined;
          const st = new Int32Array(2 * w.stars);
          if (!w.match(x, 0, x.length, st)) return x;
          return expand(repl, (n) => (n >= 1 && n <= w.stars ? x.subarray(st[2 * (n - 1)] as number, st[2 * (n - 1) + 1] as number) : new Uint8Array(0)));
        };
      },
    },
  ],
  [
    'remove_bytes',
    {
      min: 2,
      max: 2,
      check: ([a, b]) => {
        field(a as Arg, 'remove_bytes', 1, isBytes, 'Bytes');
        literal(b as Arg, 'remove_bytes', 2, BYTES);
        return BYTES;
      },
      make: (args) => {
        const drop = new Uint8Array(256);
        for (const c of lit(args, 1) as Uint8Array) drop[c] = 1;
        return ([x]) => (x instanceof Uint8Array ? x.filter((c) => drop[c] === 0) : undefined);
      },
    },
  ],
  ...(['lookup_json_string', 'lookup_json_integer'] as const).map((fn): [string, FnDef] => [
    fn,
    {
      min: 2,
      max: 64,
      check: (args) => {
        field(args[0] as Arg, fn, 1, isBytes, 'Bytes');
        for (let i = 1; i < args.length; i++) KEY_OK(args[i] as Arg, fn, i + 1);
        return fn === 'lookup_json_string' ? BYTES : INT;
      },
      make: () => (xs) => {
        const v = jsonLookup(xs);
        if (fn === 'lookup_json_string') return typeof v === 'string' ? utf8(v) : undefined;
        if (v !== null && typeof v === 'object' && 'num' in v && /^-?(0|[1-9][0-9]*)$/.test(v.num)) {
          const big = BigInt(v.num);
          return big >= -(2n ** 63n) && big < 2n ** 63n ? Number(big) : undefined;
        }
        return undefined;
      },
    },
  ]),
  [
    'substring',
    {
      min: 2,
      max: 3,
      check: ([a, s, e]) => {
        field(a as Arg, 'substring', 1, isBytes, 'Bytes');
        literal(s as Arg, 'substring', 2, INT);
        if (e) literal(e, 'substring', 3, INT);
        return BYTES;
      },
      make: (args) => {
        const s0 = lit(args, 1) as number;
        const e0 = args[2] ? (lit(args, 2) as number) : undefined;
        return ([x]) => {
          if (!(x instanceof Uint8Array)) return undefined;
          const n = x.length;
          const clamp = (v: number) => Math.max(0, Math.min(n, v < 0 ? n + v : v));
          const s = clamp(s0);
          const e = e0 === undefined ? n : clamp(e0);
          return s >= e ? new Uint8Array(0) : x.slice(s, e);
        };
      },
    },
  ],
  [
    'decode_base64',
    {
      min: 1,
      max: 1,
      check: ([a]) => (field(a as Arg, 'decode_base64', 1, isBytes, 'Bytes'), BYTES),
      make:
        () =>
        ([x]) =>
          x instanceof Uint8Array ? decodeBase64(x) : undefined,
    },
  ],
  [
    'cidr',
    {
      min: 3,
      max: 3,
      check: ([a, b4, b6]) => {
        field(a as Arg, 'cidr', 1, (t) => t === IP, 'an Ip');
        litInt(b4 as Arg, 'cidr', 2, 1, 32);
        litInt(b6 as Arg, 'cidr', 3, 1, 128);
        return IP;
      },
      make: (args) => {
        const b4 = lit(args, 1) as number;
        const b6 = lit(args, 2) as number;
        return ([x]) => (x instanceof IpValue ? networkOf(x, b4, b6) : undefined);
      },
    },
  ],
  [
    'cidr6',
    {
      min: 2,
      max: 2,
      check: ([a, b6]) => {
        field(a as Arg, 'cidr6', 1, (t) => t === IP, 'an Ip');
        litInt(b6 as Arg, 'cidr6', 2, 1, 128);
        return IP;
      },
      make: (args) => {
        const b6 = lit(args, 1) as number;
        return ([x]) => (x instanceof IpValue ? (x.fam === 4 ? x : networkOf(x, 32, b6)) : undefined);
      },
    },
  ],
  [
    'join',
    {
      min: 2,
      max: 2,
      check: ([a, s]) => {
        field(a as Arg, 'join', 1, (t) => t === arrayOf(BYTES), 'an Array<Bytes>');
        literal(s as Arg, 'join', 2, BYTES);
        return BYTES;
      },
      make: (args) => {
        const sep = lit(args, 1) as Uint8Array;
        return ([x]) => {
          if (!Array.isArray(x)) return undefined;
          const parts: Uint8Array[] = [];
          x.forEach((e, i) => {
            if (i > 0) parts.push(sep);
            parts.push(e as Uint8Array);
          });
          return concatBytes(parts);
        };
      },
    },
  ],
  [
    'split',
    {
      min: 3,
      max: 3,
      check: ([a, s, l]) => {
        field(a as Arg, 'split', 1, isBytes, 'Bytes');
        const sep = literal(s as Arg, 'split', 2, BYTES) as Uint8Array;
        if (sep.length === 0) argErr(s as Arg, 'the separator of split(…) must not be empty');
        litInt(l as Arg, 'split', 3, 1, 128);
        return arrayOf(BYTES);
      },
      make: (args) => {
        const sep = lit(args, 1) as Uint8Array;
        const limit = lit(args, 2) as number;
        return ([x]) => {
          if (!(x instanceof Uint8Array)) return undefined;
          const out: Value[] = [];
          let start = 0;
          for (let i = 0; i + sep.length <= x.length && out.length < limit - 1; ) {
            let hit = true;
            for (let k = 0; k < sep.length; k++)
              if (x[i + k] !== sep[k]) {
                hit = false;
                break;
              }
            if (hit) {
              out.push(x.slice(start, i));
              i += sep.length;
              start = i;
            } else i++;
          }
          out.push(x.slice(start));
          return out;
        };
      },
    },
  ],
  [
    'bit_slice',
    {
      min: 3,
      max: 3,
      check: ([p, s, e], _name, scheme) => {
        const proto = bytesKey(literal(p as Arg, 'bit_slice', 1, BYTES) as Uint8Array);
        if (!['ip', 'tcp', 'udp', 'icmp'].includes(proto) || !scheme.fields.has(proto)) argErr(p as Arg, `bit_slice reads "ip", "tcp", "udp" or "icmp", found "${proto}"`);
        const start = litInt(s as Arg, 'bit_slice', 2, 0, 2039);
        const end = literal(e as Arg, 'bit_slice', 3, INT) as number;
        if (end <= start || end > 2040 || end - start > 32)
          argErr(e as Arg, `bit_slice end must be above start, at most 2040 and at most 32 bits after start; found ${start}..${end}`);
        return INT;
      },
      // Compiled specially (it reads a raw header field of the record): see compile.ts.
      make: () => () => undefined,
    },
  ],
]);

/** Read bits [start, end) of buf[off, off+len) big-endian; -1 when the bytes are too short. */
export function bitSlice(buf: Uint8Array, off: number, len: number, start: number, end: number): number {
  if (end > len * 8) return -1;
  let v = 0;
  for (let bit = start; bit < end; bit++) v = v * 2 + (((buf[off + (bit >> 3)] as number) >> (7 - (bit & 7))) & 1);
  return v;
}

/** Check a call's arguments; returns its type (Array<R> when the first argument uses [*]). */
export function checkCall(name: string, args: Arg[], nameSpan: Span, scheme: Scheme<unknown>): Type {
  const def = FUNCTIONS.get(name) as FnDef;
  if (args.length < def.min || args.length > def.max) {
    const want = def.min === def.max ? `${def.min}` : def.max >= 64 ? `at least ${def.min}` : `${def.min} to ${def.max}`;
    throw new RulesError('argument', nameSpan.start, nameSpan.end, `${name}(…) takes ${want} argument${def.min === 1 && def.max === 1 ? '' : 's'}, found ${args.length}`);
  }
  args.forEach((a, i) => {
    const each = a.k === 'value' && a.v.each;
    if ((each && i > 0) || (a.k === 'cond' && a.e.arr)) throw new RulesError('type', a.span.start, a.span.end, `[*] is only allowed in the first argument of ${name}(…)`);
  });
  const t = def.check(args, nameSpan, scheme);
  const a0 = args[0];
  return a0 !== undefined && a0.k === 'value' && a0.v.each ? arrayOf(t) : t;
}
