/**
 * PCRE → JavaScript RegExp translation for ModSecurity `@rx` patterns.
 *
 * ModSecurity compiles @rx with PCRE_DOTALL | PCRE_DOLLAR_ENDONLY over bytes. We run every
 * pattern over latin1 "byte strings" (one char per byte) with the `s` flag and no `u` flag,
 * and rewrite the constructs JavaScript lacks or reads differently:
 *
 * - inline flags `(?i)` / `(?i:...)` (no modifier groups in Node 20's V8): case folding is
 *   expanded by hand (`a` → `[aA]`, classes get both cases) unless the whole pattern is
 *   case-insensitive, which becomes the `i` flag;
 * - possessive quantifiers (`*+`, `++`, `?+`, `{n}+`) and atomic groups `(?>...)` become their
 *   backtracking forms: the set of strings they can match is a superset, so a rule can only
 *   match more, never less;
 * - `\A`, `\z`, `\Z`, `\h`, `\e`, `\x{...}`, `\Q...\E`, POSIX `[[:alpha:]]` classes, PCRE's
 *   leading `]` in a class, `(?#...)` comments, `(?P<name>`;
 * - `\s` is narrowed to PCRE's set (no U+00A0, which JS includes).
 *
 * Anything else we cannot represent (recursion, conditionals, `\G`, extended mode) is
 * rejected with a reason, never silently changed.
 */
import { PalisadeError } from '../core/errors.js';

export interface Translated {
  source: string;
  flags: string;
}

/** A rule's PCRE that cannot be translated: the ruleset's content is at fault (E_FORMAT). */
export class PcreError extends PalisadeError {
  constructor(message: string) {
    super('E_FORMAT', message);
    this.name = 'PcreError';
  }
}

const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\t-\\r ',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
  ascii: '\\x00-\\x7f',
};

const SPACE_CLASS = '\\t-\\r ';

function isLetter(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

function hex2(n: number): string {
  return `\\x${n.toString(16).padStart(2, '0')}`;
}

function escapeLiteral(ch: string, ci: boolean): string {
  if (ci && isLetter(ch)) return `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
  if (/[\\^$.*+?()[\]{}|/]/.test(ch)) return `\\${ch}`;
  const code = ch.charCodeAt(0);
  if (code < 0x20 || code > 0x7e) return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : hex2(code);
  return ch;
}

/** Translates one PCRE pattern. Throws PcreError with a reason when it cannot. */
export function translatePcre(pattern: string): Translated {
  const p = pattern;
  // A leading (?i) (possibly with s/m) covers the whole pattern: use the flag.
  // Case-insensitivity is always expanded by hand ([aA]) rather than given as the `i` flag:
  // V8's linear-time engine, our guard against runaway backtracking, rejects the `i` flag.
  const globalCi = false;
  let out = '';
  let i = 0;
  const n = p.length;
  const stack: boolean[] = [];
  let ci = false; // case folding to expand by hand
  let afterQuant = false;

  // Reads one class atom at p[i]: a single character (code) or a whole sub-class (text).
  const classAtom = (): { code: number; text: string } => {
    const c = p[i];
    if (c === '[' && p[i + 1] === ':') {
      const m = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i));
      if (m) {
        const cls = POSIX[m[2]];
        if (!cls) throw new PcreError(`unknown POSIX class [:${m[2]}:]`);
        if (m[1]) throw new PcreError('negated POSIX class inside a class');
        i += m[0].length;
        return { code: -1, text: cls };
      }
    }
    if (c !== '\\') {
      i++;
      return { code: c.charCodeAt(0), text: '' };
    }
    const d = p[i + 1];
    if (d === undefined) throw new PcreError('trailing backslash');
    i += 2;
    switch (d) {
      case 's':
        return { code: -1, text: SPACE_CLASS };
      case 'h':
        return { code: -1, text: ' \\t\\xa0' };
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 'S':
        return { code: -1, text: `\\${d}` };
      case 'e':
        return { code: 0x1b, text: '' };
      case 'n':
        return { code: 10, text: '' };
      case 'r':
        return { code: 13, text: '' };
      case 't':
        return { code: 9, text: '' };
      case 'f':
        return { code: 12, text: '' };
      case 'v':
        return { code: 11, text: '' };
      case 'a':
        return { code: 7, text: '' };
      case 'b':
        return { code: 8, text: '' };
      case 'x': {
        if (p[i] === '{') {
          const end = p.indexOf('}', i);
          if (end < 0) throw new PcreError('unterminated \\x{');
          const code = Number.parseInt(p.slice(i + 1, end), 16);
          i = end + 1;
          return { code, text: '' };
        }
        const m = /^[0-9a-fA-F]{1,2}/.exec(p.slice(i));
        i += m ? m[0].length : 0;
        return { code: m ? Number.parseInt(m[0], 16) : 0, text: '' };
      }
      default:
        if (d >= '0' && d <= '7') {
          const m = /^[0-7]{1,3}/.exec(p.slice(i - 1)) as RegExpExecArray;
          i += m[0].length - 1;
          return { code: Number.parseInt(m[0], 8) & 0xff, text: '' };
        }
        if (isLetter(d)) throw new PcreError(`unsupported escape \\${d} in a class`);
        return { code: d.charCodeAt(0), text: '' };
    }
  };

  const readClass = (): string => {
    i++; // '['
    let neg = false;
    if (p[i] === '^') {
      neg = true;
      i++;
    }
    let body = '';
    const extra: string[] = [];
    let first = true;
    while (i < n) {
      if (p[i] === ']' && !first) break;
      first = false;
      if (p[i] === '\\' && p[i + 1] === 'Q') {
        const end = p.indexOf('\\E', i + 2);
        const lit = p.slice(i + 2, end < 0 ? n : end);
        for (const ch of lit) {
          body += escapeClassChar(ch);
          if (ci && isLetter(ch)) extra.push(ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase());
        }
        i = end < 0 ? n : end + 2;
        continue;
      }
      const a = classAtom();
      if (a.code < 0) {
        body += a.text;
        continue;
      }
      if (p[i] === '-' && p[i + 1] !== undefined && p[i + 1] !== ']') {
        const save = i;
        i++;
        const b = classAtom();
        if (b.code < 0) {
          // "a-\d": the dash is literal
          body += `${escapeClassCode(a.code)}\\-${b.text}`;
          continue;
        }
        if (b.code < a.code) {
          i = save;
          throw new PcreError('range out of order in character class');
        }
        body += `${escapeClassCode(a.code)}-${escapeClassCode(b.code)}`;
        if (ci) {
          const lo = Math.max(a.code, 0x61);
          const hi = Math.min(b.code, 0x7a);
          if (lo <= hi) extra.push(`${String.fromCharCode(lo - 32)}-${String.fromCharCode(hi - 32)}`);
          const LO = Math.max(a.code, 0x41);
          const HI = Math.min(b.code, 0x5a);
          if (LO <= HI) extra.push(`${String.fromCharCode(LO + 32)}-${String.fromCharCode(HI + 32)}`);
        }
        continue;
      }
      body += escapeClassCode(a.code);
      if (ci) {
        const ch = String.fromCharCode(a.code);
        if (isLetter(ch)) extra.push(ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase());
      }
    }
    if (i >= n) throw new PcreError('unterminated character class');
    i++; // ']'
    return `[${neg ? '^' : ''}${body}${extra.join('')}]`;
  };

  while (i < n) {
    const c = p[i];
    // possessive quantifier marker
    if (c === '+' && afterQuant) {
      i++;
      afterQuant = false;
      continue;
    }
    afterQuant = false;
    if (c === '\\') {
      const d = p[i + 1];
      if (d === undefined) throw new PcreError('trailing backslash');
      i += 2;
      switch (d) {
        case 'A':
          out += '^';
          break;
        case 'z':
          out += '$';
          break;
        case 'Z':
          out += '(?=\\n?$)';
          break;
        case 's':
          out += `[${SPACE_CLASS}]`;
          break;
        case 'S':
          out += `[^${SPACE_CLASS}]`;
          break;
        case 'h':
          out += '[ \\t\\xa0]';
          break;
        case 'H':
          out += '[^ \\t\\xa0]';
          break;
        case 'e':
          out += '\\x1b';
          break;
        case 'R':
          out += '(?:\\r\\n|[\\n\\x0b\\f\\r\\x85])';
          break;
        case 'x':
          if (p[i] === '{') {
            const end = p.indexOf('}', i);
            if (end < 0) throw new PcreError('unterminated \\x{');
            const code = Number.parseInt(p.slice(i + 1, end), 16);
            out += code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : hex2(code);
            i = end + 1;
          } else {
            const m = /^[0-9a-fA-F]{1,2}/.exec(p.slice(i));
            const code = m ? Number.parseInt(m[0], 16) : 0;
            out += escapeLiteral(String.fromCharCode(code), ci);
            i += m ? m[0].length : 0;
          }
          break;
        case 'Q': {
          const end = p.indexOf('\\E', i);
          const lit = p.slice(i, end < 0 ? n : end);
          for (const ch of lit) out += escapeLiteral(ch, ci);
          i = end < 0 ? n : end + 2;
          break;
        }
        case 'E':
          break;
        case 'G':
        case 'K':
        case 'X':
        case 'C':
        case 'p':
        case 'P':
        case 'g':
        case 'k':
          throw new PcreError(`unsupported escape \\${d}`);
        default:
          if (isLetter(d) || (d >= '0' && d <= '9')) out += `\\${d}`;
          else out += escapeLiteral(d, ci);
      }
      continue;
    }
    if (c === '[') {
      out += readClass();
      continue;
    }
    if (c === '(') {
      if (p[i + 1] === '?') {
        const rest = p.slice(i + 2);
        const flagOnly = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?\)/.exec(rest);
        const flagGroup = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?:/.exec(rest);
        if (/^(?:R|[+-]?\d|&|P>)/.test(rest)) throw new PcreError('recursion and subroutine calls are not supported');
        if (rest[0] === '(') throw new PcreError('conditional groups are not supported');
        if (rest[0] === '#') {
          const end = p.indexOf(')', i);
          i = end < 0 ? n : end + 1;
          continue;
        }
        if (flagOnly && (flagOnly[1] || flagOnly[2] !== undefined)) {
          checkFlags(flagOnly[1], flagOnly[2]);
          if (!globalCi) {
            if (flagOnly[1].includes('i')) ci = true;
            if (flagOnly[2]?.includes('i')) ci = false;
          } else if (flagOnly[2]?.includes('i')) throw new PcreError('(?-i) inside a case-insensitive pattern');
          i += 2 + flagOnly[0].length;
          continue;
        }
        if (flagGroup && (flagGroup[1] || flagGroup[2] !== undefined)) {
          checkFlags(flagGroup[1], flagGroup[2]);
          stack.push(ci);
          if (!globalCi) {
            if (flagGroup[1].includes('i')) ci = true;
            if (flagGroup[2]?.includes('i')) ci = false;
          } else if (flagGroup[2]?.includes('i')) throw new PcreError('(?-i:) inside a case-insensitive pattern');
          out += '(?:';
          i += 2 + flagGroup[0].length;
          continue;
        }
        stack.push(ci);
        if (rest.startsWith(':') || rest.startsWith('=') || rest.startsWith('!')) {
          out += `(?${rest[0]}`;
          i += 3;
        } else if (rest.startsWith('<=') || rest.startsWith('<!')) {
          out += `(?${rest.slice(0, 2)}`;
          i += 4;
        } else if (rest.startsWith('>') || rest.startsWith('|')) {
          out += '(?:';
          i += 3;
        } else if (rest.startsWith('P<')) {
          out += '(?<';
          i += 4;
        } else if (rest.startsWith('<') || rest.startsWith("'")) {
          const m = /^[<']([A-Za-z_]\w*)[>']/.exec(rest);
          if (!m) throw new PcreError('bad named group');
          out += `(?<${m[1]}>`;
          i += 2 + m[0].length;
        } else {
          throw new PcreError(`unsupported group (?${rest.slice(0, 2)}`);
        }
        continue;
      }
      stack.push(ci);
      out += '(';
      i++;
      continue;
    }
    if (c === ')') {
      if (stack.length === 0) throw new PcreError('unbalanced )');
      ci = stack.pop() as boolean;
      out += ')';
      i++;
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      out += c;
      i++;
      // lazy marker stays; a following '+' makes it possessive
      if (p[i] === '?') {
        out += '?';
        i++;
      } else afterQuant = true;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length;
        if (p[i] === '?') {
          out += '?';
          i++;
        } else afterQuant = true;
        continue;
      }
      out += '\\{';
      i++;
      continue;
    }
    if (c === '}') {
      out += '\\}';
      i++;
      continue;
    }
    if (c === '/') {
      out += '\\/';
      i++;
      continue;
    }
    if (c === '.' || c === '^' || c === '$' || c === '|') {
      out += c;
      i++;
      continue;
    }
    out += escapeLiteral(c, ci);
    i++;
  }
  if (stack.length) throw new PcreError('unbalanced (');
  return { source: out, flags: globalCi ? 'is' : 's' };
}

function escapeClassCode(code: number): string {
  return escapeClassChar(String.fromCharCode(code));
}

function escapeClassChar(c: string): string {
  if (c === '\\' || c === ']' || c === '[' || c === '^' || c === '-') return `\\${c}`;
  const code = c.charCodeAt(0);
  if (code < 0x20 || code > 0x7e) return code > 0xff ? `\\u${code.toString(16).padStart(4, '0')}` : hex2(code);
  return c;
}

function checkFlags(on: string, off: string | undefined): void {
  for (const f of on + (off ?? '')) {
    if (f === 'x') throw new PcreError('extended mode (?x) is not supported');
    if (f !== 'i' && f !== 's' && f !== 'm') throw new PcreError(`unsupported inline flag ${f}`);
    if (f === 'm') throw new PcreError('multiline inline flag is not supported');
  }
}

/** Compiles a PCRE pattern to a RegExp (translation + JS compile). */
export function compilePcre(pattern: string, extraFlags = ''): RegExp {
  const t = translatePcre(pattern);
  try {
    return new RegExp(t.source, t.flags + extraFlags);
  } catch (e) {
    throw new PcreError(`JavaScript rejected the translation: ${(e as Error).message}`);
  }
}
