/**
 * Minimal JSON reader for lookup_json_string / lookup_json_integer (spec §7). Numbers keep their
 * source text because `42.0` is not an integer literal for lookup_json_integer, and JSON.parse
 * cannot tell. Depth is capped so hostile bodies cannot exhaust the stack.
 */

export type Json = null | boolean | { num: string } | string | Json[] | Map<string, Json>;

const MAX_DEPTH = 512;

export function parseJson(text: string): Json | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const value = (depth: number): Json => {
    if (depth > MAX_DEPTH) throw new SyntaxError('too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const m = new Map<string, Json>();
      ws();
      if (text[i] === '}') {
        i++;
        return m;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw new SyntaxError('key');
        const k = str();
        ws();
        if (text[i++] !== ':') throw new SyntaxError(':');
        m.set(k, value(depth + 1));
        ws();
        const d = text[i++];
        if (d === '}') return m;
        if (d !== ',') throw new SyntaxError(',');
      }
    }
    if (c === '[') {
      i++;
      const a: Json[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        const d = text[i++];
        if (d === ']') return a;
        if (d !== ',') throw new SyntaxError(',');
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') throw new SyntaxError('value');
    i += m[0].length;
    return { num: m[0] };
  };
  const str = (): string => {
    i++;
    let out = '';
    for (;;) {
      if (i >= text.length) throw new SyntaxError('string');
      const c = text[i++] as string;
      if (c === '"') return out;
      if (c.charCodeAt(0) < 0x20) throw new SyntaxError('control');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = text[i++];
      if (e === 'u') {
        const h = text.slice(i, i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) throw new SyntaxError('\\u');
        out += String.fromCharCode(Number.parseInt(h, 16));
        i += 4;
      } else {
        const map: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        const r = e === undefined ? undefined : map[e];
        if (r === undefined) throw new SyntaxError('escape');
        out += r;
      }
    }
  };
  try {
    const v = value(0);
    ws();
    return i === text.length ? v : undefined;
  } catch {
    return undefined;
  }
}
