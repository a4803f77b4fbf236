/**
 * SecLang configuration reader: splits ModSecurity configuration text into directives
 * (name + arguments) the way Apache's config reader does, so CRS files load unchanged.
 *
 * - a line ending in a backslash continues on the next line (the continuation's leading
 *   whitespace is dropped, as Apache does);
 * - `#` starts a comment only at the beginning of a (logical) line;
 * - arguments are separated by whitespace; a double-quoted argument keeps everything up to
 *   the closing quote; inside it `\"` and `\\` are unescaped as Apache's reader does (other
 *   backslashes stay, which matters for regular expressions).
 * - `Include` / `IncludeOptional` are expanded with simple `*` globs in the last segment.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { PalisadeError } from '../core/errors.js';

export interface Directive {
  name: string;
  args: string[];
  file: string;
  line: number;
}

/** SecLang that does not parse: names the file and line (E_CONFIG). */
export class SecLangError extends PalisadeError {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
  ) {
    super('E_CONFIG', `${file}:${line}: ${message}`, { start: 0, end: 0, line }, file);
    this.name = 'SecLangError';
  }
}

/** Parses configuration text. `file` is used for messages and to resolve Include paths. */
export function parseSecLang(text: string, file: string, out: Directive[] = [], depth = 0): Directive[] {
  const lines = text.split(/\r?\n/);
  let i = 0;
  while (i < lines.length) {
    const startLine = i + 1;
    let logical = lines[i].replace(/^\s+/, '');
    i++;
    while (logical.endsWith('\\') && i < lines.length) {
      logical = logical.slice(0, -1) + lines[i].replace(/^\s+/, '');
      i++;
    }
    if (logical === '' || logical.startsWith('#')) continue;
    const words = splitArgs(logical, file, startLine);
    if (words.length === 0) continue;
    const name = words[0];
    const args = words.slice(1);
    const lname = name.toLowerCase();
    if (lname === 'include' || lname === 'includeoptional') {
      if (depth > 16) throw new SecLangError('Include nested too deeply', file, startLine);
      const pattern = isAbsolute(args[0] ?? '') ? args[0] : join(dirname(file), args[0] ?? '');
      const files = expandGlob(pattern);
      if (files.length === 0 && lname === 'include' && !pattern.includes('*')) {
        throw new SecLangError(`Include: no such file ${pattern}`, file, startLine);
      }
      for (const f of files) parseSecLang(readFileSync(f, 'latin1'), f, out, depth + 1);
      continue;
    }
    out.push({ name, args, file, line: startLine });
  }
  return out;
}

function splitArgs(s: string, file: string, line: number): string[] {
  const out: string[] = [];
  let p = 0;
  const n = s.length;
  while (p < n) {
    while (p < n && (s[p] === ' ' || s[p] === '\t')) p++;
    if (p >= n) break;
    if (s[p] === '"' || s[p] === "'") {
      const q = s[p];
      p++;
      let w = '';
      while (p < n && s[p] !== q) {
        if (s[p] === '\\' && (s[p + 1] === q || s[p + 1] === '\\')) {
          w += s[p + 1];
          p += 2;
          continue;
        }
        w += s[p++];
      }
      if (p >= n) throw new SecLangError('unterminated quoted argument', file, line);
      p++;
      out.push(w);
    } else {
      const st = p;
      while (p < n && s[p] !== ' ' && s[p] !== '\t') p++;
      out.push(s.slice(st, p));
    }
  }
  return out;
}

/** Expands `dir/*.conf`-style patterns (a `*` only in the file name), sorted like a shell. */
export function expandGlob(pattern: string): string[] {
  if (!pattern.includes('*') && !pattern.includes('?')) return existsSync(pattern) ? [pattern] : [];
  const dir = dirname(pattern);
  const re = new RegExp(
    `^${basename(pattern)
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** A parsed action list entry: `name` or `name:value` (quotes removed). */
export interface ActionSpec {
  name: string;
  value: string | null;
}

/** Splits a SecRule action string (`id:1,phase:2,msg:'a, b',t:none`) into actions. */
export function parseActions(s: string): ActionSpec[] {
  const out: ActionSpec[] = [];
  let p = 0;
  const n = s.length;
  while (p < n) {
    while (p < n && (s[p] === ' ' || s[p] === '\t' || s[p] === ',')) p++;
    if (p >= n) break;
    const st = p;
    while (p < n && s[p] !== ':' && s[p] !== ',') p++;
    const name = s.slice(st, p).trim().toLowerCase();
    if (p >= n || s[p] === ',') {
      out.push({ name, value: null });
      continue;
    }
    p++; // ':'
    while (p < n && (s[p] === ' ' || s[p] === '\t')) p++;
    let value = '';
    if (s[p] === "'") {
      p++;
      while (p < n && s[p] !== "'") {
        if (s[p] === '\\' && s[p + 1] === "'") {
          value += "'";
          p += 2;
          continue;
        }
        value += s[p++];
      }
      p++;
      while (p < n && s[p] !== ',') p++;
    } else {
      const vs = p;
      while (p < n && s[p] !== ',') p++;
      value = s.slice(vs, p).trim();
    }
    out.push({ name, value });
  }
  return out;
}
