/**
 * A cheap exclusion test for @rx. Most values a WAF sees are plain words and numbers (cookie
 * and argument names, ids, tokens); most attack patterns need a byte outside that alphabet (a
 * quote, a space, a bracket, `<`, `;` ...). For each translated pattern we decide once whether
 * it can match ANY string made only of PLAIN bytes (letters, digits, `_ . -`); when it cannot,
 * a value made only of such bytes cannot match and the regex need not run.
 *
 * The analysis reads the JavaScript pattern our translator produced and is conservative:
 * whatever it does not understand counts as "can match".
 */

const PLAIN = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  PLAIN[c] = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45 ? 1 : 0;
}

/** True when every byte of `s` is PLAIN (empty strings included). */
export function isPlain(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!PLAIN[s.charCodeAt(i) & 0xff] || s.charCodeAt(i) > 0xff) return false;
  return true;
}

class Unknown extends Error {}

/** Can the pattern match some string of PLAIN bytes? (true when unsure) */
export function canMatchPlain(source: string): boolean {
  try {
    const a = new Analyzer(source);
    const r = a.alt();
    if (a.i !== source.length) return true;
    return r;
  } catch {
    return true;
  }
}

class Analyzer {
  i = 0;
  constructor(private readonly p: string) {}

  alt(): boolean {
    let any = false;
    for (;;) {
      if (this.seq()) any = true;
      if (this.p[this.i] !== '|') break;
      this.i++;
    }
    return any;
  }

  private seq(): boolean {
    let ok = true;
    while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') {
      const atom = this.atom();
      const min = this.quant();
      if (min > 0 && !atom) ok = false;
    }
    return ok;
  }

  private quant(): number {
    const p = this.p;
    const c = p[this.i];
    let min = 1;
    if (c === '*' || c === '?') {
      min = 0;
      this.i++;
    } else if (c === '+') this.i++;
    else if (c === '{') {
      const m = /^\{(\d+)(,\d*)?\}/.exec(p.slice(this.i, this.i + 24));
      if (!m) return 1;
      min = Number(m[1]);
      this.i += m[0].length;
    } else return 1;
    if (p[this.i] === '?') this.i++;
    return min;
  }

  private atom(): boolean {
    const p = this.p;
    const c = p[this.i];
    if (c === '(') {
      this.i++;
      let zeroWidth = false;
      if (p[this.i] === '?') {
        const rest = p.slice(this.i, this.i + 3);
        if (rest.startsWith('?:')) this.i += 2;
        else if (rest.startsWith('?=') || rest.startsWith('?!')) {
          this.i += 2;
          zeroWidth = true;
        } else if (rest.startsWith('?<=') || rest.startsWith('?<!')) {
          this.i += 3;
          zeroWidth = true;
        } else if (rest.startsWith('?<')) {
          const e = p.indexOf('>', this.i);
          if (e < 0) throw new Unknown();
          this.i = e + 1;
        } else throw new Unknown();
      }
      const r = this.alt();
      if (p[this.i] !== ')') throw new Unknown();
      this.i++;
      // look-arounds consume nothing: they never make a PLAIN match impossible here
      return zeroWidth ? true : r;
    }
    if (c === '[') return this.cls();
    if (c === '.' || c === '^' || c === '$') {
      this.i++;
      return true;
    }
    if (c === '\\') return this.escape(false);
    this.i++;
    return PLAIN[c.charCodeAt(0)] === 1;
  }

  /** Does the escape at p[i] admit a PLAIN byte? */
  private escape(inClass: boolean): boolean {
    const p = this.p;
    const d = p[this.i + 1];
    this.i += 2;
    switch (d) {
      case 'd':
      case 'w':
      case 'D': // has letters
      case 'S':
        return true;
      case 'W':
        return true; // `.` and `-` are non-word but PLAIN
      case 's':
        return false;
      case 'b':
        return !inClass; // \b is zero-width outside a class, backspace inside
      case 'B':
        return true;
      case 'n':
      case 'r':
      case 't':
      case 'f':
      case 'v':
      case '0':
        return false;
      case 'x': {
        const code = Number.parseInt(p.slice(this.i, this.i + 2), 16);
        this.i += 2;
        return PLAIN[code] === 1;
      }
      case 'u': {
        const code = Number.parseInt(p.slice(this.i, this.i + 4), 16);
        this.i += 4;
        return code < 256 && PLAIN[code] === 1;
      }
      default:
        if (d >= '1' && d <= '9') {
          while (p[this.i] >= '0' && p[this.i] <= '9') this.i++;
          return true; // back-reference: unknown
        }
        if (d === undefined) throw new Unknown();
        return PLAIN[d.charCodeAt(0)] === 1;
    }
  }

  /** Does the class admit a PLAIN byte? */
  private cls(): boolean {
    const p = this.p;
    this.i++;
    let neg = false;
    if (p[this.i] === '^') {
      neg = true;
      this.i++;
    }
    const set = new Uint8Array(256);
    let unknown = false;
    let prev = -1;
    while (this.i < p.length && p[this.i] !== ']') {
      let code = -1;
      if (p[this.i] === '\\') {
        const d = p[this.i + 1];
        if (d === 'x') {
          code = Number.parseInt(p.slice(this.i + 2, this.i + 4), 16);
          this.i += 4;
        } else if (d === 'u') {
          code = Number.parseInt(p.slice(this.i + 2, this.i + 6), 16);
          this.i += 6;
        } else if (d === 'n' || d === 'r' || d === 't' || d === 'f' || d === 'v' || d === '0' || d === 'b') {
          code = { n: 10, r: 13, t: 9, f: 12, v: 11, '0': 0, b: 8 }[d] as number;
          this.i += 2;
        } else if (/[dDwWsS]/.test(d)) {
          // class shorthands: mark what they cover
          this.i += 2;
          for (let c = 0; c < 256; c++) {
            const w = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
            const dg = c >= 48 && c <= 57;
            const sp = c === 32 || (c >= 9 && c <= 13);
            const inIt = d === 'd' ? dg : d === 'D' ? !dg : d === 'w' ? w : d === 'W' ? !w : d === 's' ? sp : !sp;
            if (inIt) set[c] = 1;
          }
          prev = -1;
          continue;
        } else if (d === undefined) throw new Unknown();
        else {
          code = d.charCodeAt(0);
          this.i += 2;
        }
      } else if (p[this.i] === '-' && prev >= 0 && p[this.i + 1] !== ']') {
        this.i++;
        let hi: number;
        if (p[this.i] === '\\') {
          const d = p[this.i + 1];
          if (d === 'x') {
            hi = Number.parseInt(p.slice(this.i + 2, this.i + 4), 16);
            this.i += 4;
          } else if (d === 'u') {
            hi = Number.parseInt(p.slice(this.i + 2, this.i + 6), 16);
            this.i += 6;
          } else {
            hi = d.charCodeAt(0);
            this.i += 2;
            if (/[a-zA-Z0-9]/.test(d)) unknown = true;
          }
        } else hi = p.charCodeAt(this.i++);
        for (let c = prev; c <= hi && c < 256; c++) set[c] = 1;
        prev = -1;
        continue;
      } else code = p.charCodeAt(this.i++);
      if (code >= 0 && code < 256) set[code] = 1;
      prev = code;
    }
    if (p[this.i] !== ']') throw new Unknown();
    this.i++;
    if (unknown) return true;
    for (let c = 0; c < 256; c++) if (PLAIN[c] && (neg ? !set[c] : set[c])) return true;
    return false;
  }
}
