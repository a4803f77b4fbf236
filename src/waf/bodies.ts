/**
 * Request parsing the way ModSecurity does it, over latin1 byte strings: query strings and
 * urlencoded bodies, cookies, multipart/form-data (with the strict-validation flags CRS and
 * the base configuration check), JSON and XML bodies. Parsers never throw on bad input:
 * they report an error message and set flags instead.
 */

export type Pair = [name: string, value: string];

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Lenient %XX / `+` decoding used for argument names and values. */
export function decodeArg(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && i + 2 < s.length) {
      const a = hexVal(s.charCodeAt(i + 1));
      const b = hexVal(s.charCodeAt(i + 2));
      if (a >= 0 && b >= 0) {
        out += String.fromCharCode(a * 16 + b);
        i += 2;
        continue;
      }
    }
    out += c === 43 ? ' ' : s[i];
  }
  return out;
}

/** Splits `a=1&b=2`; a piece without `=` is a name with an empty value. */
export function parseUrlEncoded(s: string, out: Pair[], limit = 1000): void {
  if (s.length === 0) return;
  let st = 0;
  while (st <= s.length && out.length < limit) {
    let en = s.indexOf('&', st);
    if (en < 0) en = s.length;
    if (en > st) {
      const eq = s.indexOf('=', st);
      if (eq >= 0 && eq < en) out.push([decodeArg(s.slice(st, eq)), decodeArg(s.slice(eq + 1, en))]);
      else out.push([decodeArg(s.slice(st, en)), '']);
    }
    st = en + 1;
  }
}

/** Cookie header (version 0 format): `a=1; b=2`. */
export function parseCookies(s: string, out: Pair[]): void {
  const n = s.length;
  let st = 0;
  while (st <= n) {
    let en = s.indexOf(';', st);
    if (en < 0) en = n;
    // leading spaces and tabs are not part of the name; a piece with nothing else is skipped
    let p = st;
    while (p < en && (s.charCodeAt(p) === 32 || s.charCodeAt(p) === 9)) p++;
    if (p < en) {
      const eq = s.indexOf('=', p);
      if (eq < 0 || eq >= en) out.push([s.slice(p, en), '']);
      else out.push([s.slice(p, eq), s.slice(eq + 1, en)]);
    }
    st = en + 1;
  }
}

// ------------------------------------------------------------------ multipart

export interface MultipartResult {
  args: Pair[];
  files: Pair[]; // FILES: field name -> file name
  fileSizes: Pair[];
  partHeaders: Pair[]; // MULTIPART_PART_HEADERS: field name -> "Name: value" line
  combinedFileSize: number;
  flags: {
    boundaryQuoted: number;
    boundaryWhitespace: number;
    dataBefore: number;
    dataAfter: number;
    headerFolding: number;
    lfLine: number;
    crlfLfLines: number;
    missingSemicolon: number;
    invalidQuoting: number;
    invalidPart: number;
    invalidHeaderFolding: number;
    fileLimitExceeded: number;
    unmatchedBoundary: number;
  };
  error: string | null; // REQBODY_PROCESSOR_ERROR message
}

function newFlags(): MultipartResult['flags'] {
  return {
    boundaryQuoted: 0,
    boundaryWhitespace: 0,
    dataBefore: 0,
    dataAfter: 0,
    headerFolding: 0,
    lfLine: 0,
    crlfLfLines: 0,
    missingSemicolon: 0,
    invalidQuoting: 0,
    invalidPart: 0,
    invalidHeaderFolding: 0,
    fileLimitExceeded: 0,
    unmatchedBoundary: 0,
  };
}

/** Extracts and checks the boundary from a Content-Type value. */
function boundaryOf(ct: string, r: MultipartResult): string | null {
  const m = /boundary(?=\s*=)/i.exec(ct);
  if (!m) return null;
  // "multipart/form-data boundary=..." without ';'
  const before = ct.slice(0, m.index);
  if (!/;\s*$/.test(before) && !/;/.test(before)) r.flags.missingSemicolon = 1;
  let rest = ct.slice(m.index + m[0].length);
  if (/^\s/.test(rest)) r.flags.boundaryWhitespace = 1;
  rest = rest.replace(/^\s+/, '');
  if (rest[0] !== '=') return null;
  rest = rest.slice(1);
  if (/^\s/.test(rest)) r.flags.boundaryWhitespace = 1;
  rest = rest.replace(/^\s+/, '');
  let b: string;
  if (rest[0] === '"') {
    r.flags.boundaryQuoted = 1;
    const en = rest.indexOf('"', 1);
    if (en < 0) return null;
    b = rest.slice(1, en);
  } else {
    const en = rest.search(/[;,\s]/);
    b = en < 0 ? rest : rest.slice(0, en);
    if (b.endsWith('"')) return null;
  }
  if (b.length === 0 || b.length > 70) return null;
  if (/[^0-9A-Za-z'()+_,\-./:=? ]/.test(b)) return null;
  // a second boundary parameter is ambiguous
  if ((ct.match(/(?:^|[;\s])boundary\s*=/gi) ?? []).length > 1) return null;
  return b;
}

function parseDisposition(v: string, r: MultipartResult): { name: string | null; filename: string | null } | null {
  const m = /^\s*form-data\s*(;|$)/i.exec(v);
  if (!m) return null;
  let p = m[0].length;
  let name: string | null = null;
  let filename: string | null = null;
  while (p < v.length) {
    while (p < v.length && (v[p] === ' ' || v[p] === '\t' || v[p] === ';')) p++;
    if (p >= v.length) break;
    const eq = v.indexOf('=', p);
    if (eq < 0) return null;
    const key = v.slice(p, eq).trim().toLowerCase();
    p = eq + 1;
    while (v[p] === ' ' || v[p] === '\t') p++;
    let val = '';
    if (v[p] === '"') {
      p++;
      while (p < v.length && v[p] !== '"') {
        if (v[p] === '\\' && (v[p + 1] === '"' || v[p + 1] === '\\')) {
          val += v[p + 1];
          p += 2;
          continue;
        }
        val += v[p++];
      }
      if (p >= v.length) {
        r.flags.invalidQuoting = 1;
        return null;
      }
      p++;
    } else {
      const st = p;
      while (p < v.length && v[p] !== ';' && v[p] !== ' ' && v[p] !== '\t') p++;
      val = v.slice(st, p);
      if (val.includes("'") || val.includes('"')) r.flags.invalidQuoting = 1;
    }
    if (key === 'name') {
      if (name !== null) return null;
      name = val;
    } else if (key === 'filename' || key === 'filename*') {
      if (filename !== null && key === 'filename') return null;
      filename = val;
    } else return null;
    while (p < v.length && (v[p] === ' ' || v[p] === '\t')) p++;
    if (p < v.length && v[p] !== ';') {
      r.flags.invalidQuoting = 1;
      return null;
    }
  }
  return { name, filename };
}

export function parseMultipart(body: string, contentType: string, maxFiles = 100): MultipartResult {
  const r: MultipartResult = {
    args: [],
    files: [],
    fileSizes: [],
    partHeaders: [],
    combinedFileSize: 0,
    flags: newFlags(),
    error: null,
  };
  const boundary = boundaryOf(contentType, r);
  if (boundary === null) {
    r.error = 'Multipart: Invalid boundary in C-T.';
    return r;
  }
  const delim = `--${boundary}`;
  let pos = body.indexOf(delim);
  if (pos < 0) {
    r.error = 'Multipart: final boundary missing.';
    return r;
  }
  if (pos > 0) r.flags.dataBefore = 1;
  let sawCrlf = false;
  let sawLf = false;
  let finished = false;
  let files = 0;
  while (pos >= 0) {
    let p = pos + delim.length;
    if (body.startsWith('--', p)) {
      finished = true;
      const tail = body.slice(p + 2);
      if (!/^(\r?\n)?$/.test(tail)) r.flags.dataAfter = 1;
      break;
    }
    // boundary line end (allow trailing whitespace)
    while (body[p] === ' ' || body[p] === '\t') p++;
    if (body.startsWith('\r\n', p)) {
      sawCrlf = true;
      p += 2;
    } else if (body[p] === '\n') {
      sawLf = true;
      p += 1;
    } else {
      r.flags.invalidPart = 1;
      r.error = 'Multipart: Invalid boundary.';
      return r;
    }
    // headers
    const headers: Pair[] = [];
    let ok = true;
    for (;;) {
      let eol = body.indexOf('\n', p);
      if (eol < 0) {
        ok = false;
        break;
      }
      const crlf = body[eol - 1] === '\r';
      if (crlf) sawCrlf = true;
      else sawLf = true;
      const line = body.slice(p, crlf ? eol - 1 : eol);
      p = eol + 1;
      if (line === '') break;
      if (line[0] === ' ' || line[0] === '\t') {
        r.flags.headerFolding = 1;
        if (headers.length === 0) {
          r.flags.invalidHeaderFolding = 1;
          ok = false;
          break;
        }
        headers[headers.length - 1][1] += ` ${line.trim()}`;
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) {
        ok = false;
        break;
      }
      headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
      eol = 0;
    }
    if (!ok) {
      r.flags.invalidPart = 1;
      r.error = 'Multipart: Invalid part header.';
      return r;
    }
    // content up to the next boundary (preceded by CRLF or LF)
    const next = body.indexOf(`\n${delim}`, p);
    let content: string;
    let nextPos: number;
    if (next < 0) {
      content = body.slice(p);
      nextPos = -1;
    } else {
      const end = body[next - 1] === '\r' ? next - 1 : next;
      if (body[next - 1] !== '\r') sawLf = true;
      content = body.slice(p, end);
      nextPos = next + 1;
    }
    let name: string | null = null;
    let filename: string | null = null;
    let hadDisposition = false;
    for (const [hn, hv] of headers) {
      if (hn.toLowerCase() === 'content-disposition') {
        hadDisposition = true;
        const d = parseDisposition(hv, r);
        if (!d) {
          r.flags.invalidPart = 1;
          r.error = 'Multipart: Invalid Content-Disposition header.';
          return r;
        }
        name = d.name;
        filename = d.filename;
      }
    }
    if (!hadDisposition || name === null) {
      r.flags.invalidPart = 1;
      r.error = 'Multipart: Part missing Content-Disposition header.';
      return r;
    }
    for (const [hn, hv] of headers) r.partHeaders.push([name, `${hn}: ${hv}`]);
    if (filename !== null) {
      files++;
      if (files > maxFiles) r.flags.fileLimitExceeded = 1;
      r.files.push([name, filename]);
      r.fileSizes.push([name, String(content.length)]);
      r.combinedFileSize += content.length;
    } else {
      r.args.push([name, content]);
    }
    // a line in the content that looks like our boundary but is not preceded by a newline
    if (content.includes(delim)) r.flags.unmatchedBoundary = 1;
    pos = nextPos;
  }
  if (!finished) {
    r.error = 'Multipart: Final boundary missing.';
    r.flags.invalidPart = 1;
  }
  if (sawLf) r.flags.lfLine = 1;
  if (sawLf && sawCrlf) r.flags.crlfLfLines = 1;
  return r;
}

export function multipartStrictError(r: MultipartResult): number {
  const f = r.flags;
  return r.error !== null ||
    f.boundaryQuoted ||
    f.boundaryWhitespace ||
    f.dataBefore ||
    f.dataAfter ||
    f.headerFolding ||
    f.lfLine ||
    f.missingSemicolon ||
    f.invalidQuoting ||
    f.invalidPart ||
    f.invalidHeaderFolding ||
    f.fileLimitExceeded
    ? 1
    : 0;
}

// ------------------------------------------------------------------ JSON

/** Nesting depth of a JSON text (strings skipped), to refuse over-deep bodies before parsing. */
function jsonDepth(s: string): number {
  let depth = 0;
  let max = 0;
  let inStr = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inStr) {
      if (c === 92) i++;
      else if (c === 34) inStr = false;
      continue;
    }
    if (c === 34) inStr = true;
    else if (c === 123 || c === 91) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 125 || c === 93) depth--;
  }
  return max;
}

function toBytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return Buffer.from(s, 'utf8').toString('latin1');
  }
  return s;
}

/** JSON body → ARGS named `json.a.b` (arrays by index). Returns an error message or null. */
export function parseJson(body: string, out: Pair[], maxDepth = 512, limit = 1000): string | null {
  if (jsonDepth(body) > maxDepth) return `JSON parsing error: nesting depth exceeds ${maxDepth}`;
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    return `JSON parsing error: ${(e as Error).message}`;
  }
  const walk = (x: unknown, prefix: string): void => {
    if (out.length >= limit) return;
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) walk(x[i], `${prefix}.${i}`);
    } else if (x !== null && typeof x === 'object') {
      for (const [k, val] of Object.entries(x)) walk(val, `${prefix}.${toBytes(k)}`);
    } else {
      out.push([prefix, x === null ? '' : toBytes(String(x))]);
    }
  };
  walk(v, 'json');
  return null;
}

// ------------------------------------------------------------------ XML

export interface XmlResult {
  text: string; // text content of the root element (XML:/*)
  attrs: string[]; // attribute values (XML://@*)
  error: string | null;
}

const XML_ENT: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function xmlDecode(s: string): string | null {
  if (s.indexOf('&') < 0) return s;
  let bad = false;
  const r = s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);?/g, (m, e: string) => {
    if (!m.endsWith(';')) {
      bad = true;
      return m;
    }
    if (e[0] === '#') {
      const code = e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number.parseInt(e.slice(1), 10);
      return code > 0x10ffff ? '' : toBytes(String.fromCodePoint(code));
    }
    const v = XML_ENT[e];
    if (v === undefined) bad = true;
    return v ?? '';
  });
  return bad ? null : r;
}

/** A small well-formedness checking XML reader (no DTD expansion, no external entities). */
export function parseXml(body: string, maxDepth = 256): XmlResult {
  const res: XmlResult = { text: '', attrs: [], error: null };
  const stack: string[] = [];
  let i = 0;
  const n = body.length;
  let rootSeen = false;
  let rootClosed = false;
  const fail = (msg: string): XmlResult => {
    res.error = `XML: Failed parsing document: ${msg}`;
    return res;
  };
  while (i < n) {
    const lt = body.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      const raw = body.slice(i, textEnd);
      if (stack.length === 0) {
        if (/[^\s]/.test(raw)) return fail('content outside the root element');
      } else {
        const t = xmlDecode(raw);
        if (t === null) return fail('bad entity');
        res.text += t;
      }
    }
    if (lt < 0) break;
    i = lt;
    if (body.startsWith('<?', i)) {
      const e = body.indexOf('?>', i + 2);
      if (e < 0) return fail('unterminated processing instruction');
      i = e + 2;
    } else if (body.startsWith('<!--', i)) {
      const e = body.indexOf('-->', i + 4);
      if (e < 0) return fail('unterminated comment');
      i = e + 3;
    } else if (body.startsWith('<![CDATA[', i)) {
      const e = body.indexOf(']]>', i + 9);
      if (e < 0) return fail('unterminated CDATA');
      if (stack.length === 0) return fail('CDATA outside the root element');
      res.text += body.slice(i + 9, e);
      i = e + 3;
    } else if (body.startsWith('<!', i)) {
      // DOCTYPE: skip to the matching '>' (internal subsets may nest brackets)
      let depth = 0;
      let j = i + 2;
      for (; j < n; j++) {
        if (body[j] === '[') depth++;
        else if (body[j] === ']') depth--;
        else if (body[j] === '>' && depth <= 0) break;
      }
      if (j >= n) return fail('unterminated declaration');
      i = j + 1;
    } else if (body[i + 1] === '/') {
      const e = body.indexOf('>', i);
      if (e < 0) return fail('unterminated end tag');
      const name = body.slice(i + 2, e).trim();
      if (stack.pop() !== name) return fail(`mismatched end tag ${name}`);
      if (stack.length === 0) rootClosed = true;
      i = e + 1;
    } else {
      const m = /^<([A-Za-z_:\x80-\xff][\w:.\-\x80-\xff]*)/.exec(body.slice(i, i + 256));
      if (!m) return fail('bad start tag');
      if (stack.length === 0 && rootSeen) return fail('extra content at the end of the document');
      rootSeen = true;
      let j = i + m[0].length;
      for (;;) {
        while (j < n && /\s/.test(body[j])) j++;
        if (j >= n) return fail('unterminated start tag');
        if (body[j] === '>' || body.startsWith('/>', j)) break;
        const am = /^([A-Za-z_:\x80-\xff][\w:.\-\x80-\xff]*)\s*=\s*/.exec(body.slice(j, j + 512));
        if (!am) return fail('bad attribute');
        j += am[0].length;
        const q = body[j];
        if (q !== '"' && q !== "'") return fail('unquoted attribute');
        const e = body.indexOf(q, j + 1);
        if (e < 0) return fail('unterminated attribute');
        const v = xmlDecode(body.slice(j + 1, e));
        if (v === null) return fail('bad entity');
        res.attrs.push(v);
        j = e + 1;
      }
      if (body[j] === '/') {
        j += 2;
        if (stack.length === 0) rootClosed = true;
      } else {
        j += 1;
        stack.push(m[1]);
        if (stack.length > maxDepth) return fail('nesting too deep');
      }
      i = j;
    }
  }
  if (!rootSeen || !rootClosed || stack.length) return fail('premature end of data');
  return res;
}
