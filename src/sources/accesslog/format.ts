/**
 * Log format strings compiled once into a flat program: a leading literal, then for each field
 * its kind and the literal that ends it. nginx `log_format` (`$remote_addr`, `${var}`) and Apache
 * `LogFormat` (`%h`, `%>s`, `%{Referer}i`, ...) compile to the same program, which text-parser.ts
 * runs over each line with indexOf and charCode scans (no regular expression per line).
 */
import { UsageError } from '../../core/errors.js';

/** What a field means; FieldKind.HEADER and COOKIE carry a name in TextFormat.names. */
export const enum FieldKind {
  SKIP = 0,
  CLIENT,
  CLIENT_PORT,
  USER,
  TIME_CLF,
  TIME_ISO,
  /** Seconds with a fraction since the epoch (nginx $msec). */
  TIME_EPOCH,
  REQUEST,
  METHOD,
  /** Path and query (nginx $request_uri). */
  URI,
  PATH,
  QUERY,
  PROTOCOL,
  STATUS,
  RESPONSE_SIZE,
  BODY_SIZE,
  HOST,
  SERVER_PORT,
  REFERER,
  USER_AGENT,
  HEADER,
  COOKIE,
  DURATION_S,
  DURATION_MS,
  DURATION_US,
  ORIGIN_S,
  TLS_PROTOCOL,
  TLS_CIPHER,
  JA3,
  JA4,
}

export interface TextFormat {
  readonly name: string;
  /** The format string as given. */
  readonly source: string;
  readonly syntax: 'nginx' | 'apache';
  /** Text before the first field. */
  readonly lead: string;
  readonly kinds: readonly FieldKind[];
  /** Header or cookie name for HEADER/COOKIE fields, '' otherwise. */
  readonly names: readonly string[];
  /** The literal after each field ('' for none: the field ends at a space or the line's end). */
  readonly lits: readonly string[];
  /** The field sits inside quotes: escapes are decoded and `\"` does not end it. */
  readonly quoted: readonly boolean[];
}

/** nginx variables by name. */
const NGINX: Record<string, FieldKind> = {
  remote_addr: FieldKind.CLIENT,
  binary_remote_addr: FieldKind.SKIP,
  realip_remote_addr: FieldKind.CLIENT,
  remote_port: FieldKind.CLIENT_PORT,
  remote_user: FieldKind.USER,
  time_local: FieldKind.TIME_CLF,
  time_iso8601: FieldKind.TIME_ISO,
  msec: FieldKind.TIME_EPOCH,
  request: FieldKind.REQUEST,
  request_method: FieldKind.METHOD,
  request_uri: FieldKind.URI,
  uri: FieldKind.PATH,
  document_uri: FieldKind.PATH,
  args: FieldKind.QUERY,
  query_string: FieldKind.QUERY,
  server_protocol: FieldKind.PROTOCOL,
  status: FieldKind.STATUS,
  body_bytes_sent: FieldKind.RESPONSE_SIZE,
  bytes_sent: FieldKind.RESPONSE_SIZE,
  request_length: FieldKind.BODY_SIZE,
  content_length: FieldKind.BODY_SIZE,
  host: FieldKind.HOST,
  server_name: FieldKind.HOST,
  server_port: FieldKind.SERVER_PORT,
  http_referer: FieldKind.REFERER,
  http_user_agent: FieldKind.USER_AGENT,
  request_time: FieldKind.DURATION_S,
  upstream_response_time: FieldKind.ORIGIN_S,
  ssl_protocol: FieldKind.TLS_PROTOCOL,
  ssl_cipher: FieldKind.TLS_CIPHER,
  http_ssl_ja3: FieldKind.JA3,
  ssl_ja3_hash: FieldKind.JA3,
  http_ssl_ja4: FieldKind.JA4,
  ssl_ja4: FieldKind.JA4,
};

/** `x_forwarded_for` (nginx's spelling of a header in a variable) to `X-Forwarded-For`. */
export function headerName(v: string): string {
  return v
    .split(/[_-]/)
    .map((w) => (w === '' ? w : w[0].toUpperCase() + w.slice(1)))
    .join('-');
}

export function nginxVariableKind(v: string): { kind: FieldKind; name: string } {
  const k = NGINX[v];
  if (k !== undefined) return { kind: k, name: '' };
  if (v.startsWith('http_')) return { kind: FieldKind.HEADER, name: headerName(v.slice(5)) };
  if (v.startsWith('cookie_')) return { kind: FieldKind.COOKIE, name: v.slice(7) };
  return { kind: FieldKind.SKIP, name: v };
}

function apacheKind(letter: string, arg: string): { kind: FieldKind; name: string } {
  switch (letter) {
    case 'h':
    case 'a':
      return { kind: arg === 'c' ? FieldKind.SKIP : FieldKind.CLIENT, name: '' };
    case 'l':
      return { kind: FieldKind.SKIP, name: '' };
    case 'u':
      return { kind: FieldKind.USER, name: '' };
    case 't':
      // %{format}t is a strftime format we do not interpret, beyond ISO and the default.
      if (arg === '' || arg === '%d/%b/%Y:%H:%M:%S %z') return { kind: FieldKind.TIME_CLF, name: '' };
      return { kind: arg.startsWith('%Y-%m-%d') ? FieldKind.TIME_ISO : FieldKind.SKIP, name: '' };
    case 'r':
      return { kind: FieldKind.REQUEST, name: '' };
    case 'm':
      return { kind: FieldKind.METHOD, name: '' };
    case 'U':
      return { kind: FieldKind.PATH, name: '' };
    case 'q':
      return { kind: FieldKind.QUERY, name: '' };
    case 'H':
      return { kind: FieldKind.PROTOCOL, name: '' };
    case 's':
      return { kind: FieldKind.STATUS, name: '' };
    case 'b':
    case 'B':
    case 'O':
      return { kind: FieldKind.RESPONSE_SIZE, name: '' };
    case 'I':
      return { kind: FieldKind.BODY_SIZE, name: '' };
    case 'v':
    case 'V':
      return { kind: FieldKind.HOST, name: '' };
    case 'p':
      return { kind: arg === 'remote' ? FieldKind.CLIENT_PORT : FieldKind.SERVER_PORT, name: '' };
    case 'D':
      return { kind: FieldKind.DURATION_US, name: '' };
    case 'T':
      return { kind: arg === 'ms' ? FieldKind.DURATION_MS : arg === 'us' ? FieldKind.DURATION_US : FieldKind.DURATION_S, name: '' };
    case 'i': {
      const l = arg.toLowerCase();
      if (l === 'referer') return { kind: FieldKind.REFERER, name: '' };
      if (l === 'user-agent') return { kind: FieldKind.USER_AGENT, name: '' };
      if (l === 'host') return { kind: FieldKind.HOST, name: '' };
      return { kind: FieldKind.HEADER, name: arg };
    }
    case 'C':
      return { kind: FieldKind.COOKIE, name: arg };
    case 'x':
      if (arg === 'SSL_PROTOCOL') return { kind: FieldKind.TLS_PROTOCOL, name: '' };
      if (arg === 'SSL_CIPHER') return { kind: FieldKind.TLS_CIPHER, name: '' };
      return { kind: FieldKind.SKIP, name: arg };
    default:
      return { kind: FieldKind.SKIP, name: '' };
  }
}

interface Builder {
  lead: string;
  kinds: FieldKind[];
  names: string[];
  lits: string[];
}

function push(b: Builder, kind: FieldKind, name: string): void {
  b.kinds.push(kind);
  b.names.push(name);
  b.lits.push('');
}
function lit(b: Builder, text: string): void {
  if (b.kinds.length === 0) b.lead += text;
  else b.lits[b.lits.length - 1] += text;
}

function finish(name: string, source: string, syntax: 'nginx' | 'apache', b: Builder): TextFormat {
  if (b.kinds.length === 0) throw new UsageError(`log format ${name}: no fields in ${JSON.stringify(source)}`);
  const quoted = b.kinds.map((_, i) => (i === 0 ? b.lead : b.lits[i - 1]).endsWith('"') && b.lits[i].startsWith('"'));
  return { name, source, syntax, lead: b.lead, kinds: b.kinds, names: b.names, lits: b.lits, quoted };
}

/** Compile an nginx `log_format` string (the part after the name, quotes of the config removed). */
export function compileNginx(source: string, name = 'custom'): TextFormat {
  const b: Builder = { lead: '', kinds: [], names: [], lits: [] };
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c !== '$') {
      lit(b, c);
      i++;
      continue;
    }
    let j = i + 1;
    let v: string;
    if (source[j] === '{') {
      const close = source.indexOf('}', j);
      if (close < 0) throw new UsageError(`log format ${name}: unclosed \${ at ${i}`);
      v = source.slice(j + 1, close);
      j = close + 1;
    } else {
      while (j < source.length && /[A-Za-z0-9_]/.test(source[j])) j++;
      v = source.slice(i + 1, j);
    }
    if (v === '') {
      lit(b, '$');
      i++;
      continue;
    }
    const k = nginxVariableKind(v);
    push(b, k.kind, k.name);
    i = j;
  }
  return finish(name, source, 'nginx', b);
}

/** Compile an Apache `LogFormat` string (`\"` as written in httpd.conf or plain `"`). */
export function compileApache(source: string, name = 'custom'): TextFormat {
  const b: Builder = { lead: '', kinds: [], names: [], lits: [] };
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\' && i + 1 < source.length) {
      const n = source[i + 1];
      lit(b, n === 'n' ? '\n' : n === 't' ? '\t' : n);
      i += 2;
      continue;
    }
    if (c !== '%') {
      lit(b, c);
      i++;
      continue;
    }
    let j = i + 1;
    if (source[j] === '%') {
      lit(b, '%');
      i = j + 1;
      continue;
    }
    // Modifiers: status conditions (`%400,501{..}i`), `!`, and `<` / `>` (original / final request).
    while (j < source.length && /[0-9,!<>]/.test(source[j])) j++;
    let arg = '';
    if (source[j] === '{') {
      const close = source.indexOf('}', j);
      if (close < 0) throw new UsageError(`log format ${name}: unclosed %{ at ${i}`);
      arg = source.slice(j + 1, close);
      j = close + 1;
    }
    const letter = source[j];
    if (letter === undefined) throw new UsageError(`log format ${name}: % at the end`);
    const k = apacheKind(letter, arg);
    // %t writes its own brackets; the time parser is given what is between them.
    if (letter === 't' && arg === '') {
      lit(b, '[');
      push(b, k.kind, k.name);
      lit(b, ']');
    } else push(b, k.kind, k.name);
    i = j + 1;
  }
  return finish(name, source, 'apache', b);
}

const COMBINED_NGINX = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/** Built-in text formats by name. */
export const TEXT_FORMATS: Readonly<Record<string, () => TextFormat>> = {
  combined: () => compileNginx(COMBINED_NGINX, 'combined'),
  common: () => compileApache('%h %l %u %t "%r" %>s %b', 'common'),
  vhost_combined: () => compileApache('%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"', 'vhost_combined'),
  main: () => compileNginx(`${COMBINED_NGINX} "$http_x_forwarded_for"`, 'main'),
};
