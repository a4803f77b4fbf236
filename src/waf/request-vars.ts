/**
 * The variables a request and its response bring: request line, headers, cookies and query
 * arguments; the body as parsed by the selected processor (bodies.ts) within the configured
 * limits; the response's status, headers and body.
 */
import { multipartStrictError, type Pair, parseCookies, parseJson, parseMultipart, parseUrlEncoded, parseXml } from './bodies.js';
import { type Collections, Entry } from './collections.js';
import type { EngineSettings } from './rule.js';
import type { WafRequest, WafResponse } from './transaction.js';

function latin1(b: Buffer | string | null | undefined): string {
  if (b == null) return '';
  return typeof b === 'string' ? b : b.toString('latin1');
}

/** The request line, headers and query string as variables. */
export function addRequestVars(vars: Collections, r: WafRequest, settings: EngineSettings): void {
  const uri = r.uri;
  const q = uri.indexOf('?');
  const path = q < 0 ? uri : uri.slice(0, q);
  const query = q < 0 ? '' : uri.slice(q + 1);
  let filename = path;
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/]*/.exec(filename);
  if (abs) filename = filename.slice(abs[0].length) || '/';
  const slash = Math.max(filename.lastIndexOf('/'), filename.lastIndexOf('\\'));
  vars.setScalar('REQUEST_METHOD', r.method);
  vars.setScalar('REQUEST_PROTOCOL', r.protocol);
  vars.setScalar('REQUEST_URI', abs ? uri.slice(abs[0].length) : uri);
  vars.setScalar('REQUEST_URI_RAW', uri);
  vars.setScalar('REQUEST_FILENAME', filename);
  vars.setScalar('REQUEST_BASENAME', filename.slice(slash + 1));
  vars.setScalar('QUERY_STRING', query);
  vars.setScalar('REQUEST_LINE', r.requestLine ?? `${r.method} ${uri}${r.protocol ? ` ${r.protocol}` : ''}`);
  vars.setScalar('REMOTE_ADDR', r.remoteAddr ?? '127.0.0.1');
  vars.setScalar('REMOTE_PORT', String(r.remotePort ?? 0));
  vars.setScalar('SERVER_PORT', String(r.serverPort ?? 80));
  vars.setScalar('DURATION', '0');
  vars.setScalar('REQBODY_ERROR', '0');
  vars.setScalar('REQBODY_PROCESSOR_ERROR', '0');
  vars.setScalar('REQBODY_ERROR_MSG', '');
  vars.setScalar('INBOUND_DATA_ERROR', '0');
  const args: Pair[] = [];
  parseUrlEncoded(query, args, settings.argumentsLimit);
  vars.addPairs('ARGS_GET', args);
  vars.addPairs('ARGS', args);
  vars.addPairs('REQUEST_HEADERS', r.headers);
  const cookies: Pair[] = [];
  for (const [k, v] of r.headers) if (k.length === 6 && k.toLowerCase() === 'cookie') parseCookies(v, cookies);
  vars.addPairs('REQUEST_COOKIES', cookies);
  for (const e of vars.list('REQUEST_HEADERS')) if (e.lowerName === 'host') vars.setScalar('SERVER_NAME', e.value);
  let argsLen = 0;
  for (const [k, v] of args) argsLen += k.length + v.length;
  vars.setScalar('ARGS_COMBINED_SIZE', String(argsLen));
  vars.list('ARGS_POST');
  vars.list('ARGS_POST_NAMES');
  vars.setScalar('REQBODY_PROCESSOR', defaultProcessor(vars) ?? '');
}

/** The body processor the request's Content-Type selects (a ctl can choose another). */
export function defaultProcessor(vars: Collections): string | null {
  const lct = (vars.header('content-type') ?? '').toLowerCase();
  if (lct.startsWith('application/x-www-form-urlencoded')) return 'URLENCODED';
  if (lct.startsWith('multipart/form-data')) return 'MULTIPART';
  return null;
}

/**
 * Parses the request body with the selected processor into variables (before phase 2). Returns
 * the status to interrupt the request with (413: over a limit with the reject action), or 0.
 * `processor`: set by ctl:requestBodyProcessor, else the Content-Type decides.
 */
export function addBodyVars(vars: Collections, req: WafRequest, s: EngineSettings, detectOnly: boolean, processor: string | null, forceBodyVar: boolean): number {
  let body = latin1(req.body);
  const ct = vars.header('content-type') ?? '';
  if (!s.requestBodyAccess) return 0;
  if (body.length > s.requestBodyLimit) {
    if (s.requestBodyLimitAction === 'reject' && !detectOnly) return 413;
    body = body.slice(0, s.requestBodyLimit);
    vars.setScalar('INBOUND_DATA_ERROR', '1');
  }
  const proc = processor ?? defaultProcessor(vars);
  vars.setScalar('REQBODY_PROCESSOR', proc ?? '');
  vars.setScalar('REQUEST_BODY_LENGTH', String(body.length));
  const err = (msg: string): void => {
    vars.setScalar('REQBODY_ERROR', '1');
    vars.setScalar('REQBODY_PROCESSOR_ERROR', '1');
    vars.setScalar('REQBODY_ERROR_MSG', msg);
    vars.setScalar('REQBODY_PROCESSOR_ERROR_MSG', msg);
  };
  const post: Pair[] = [];
  if (proc !== 'MULTIPART' && body.length > s.requestBodyNoFilesLimit) {
    // bodies without files have the lower limit; detection-only inspects the first part
    if (!detectOnly && s.requestBodyLimitAction === 'reject') return 413;
    body = body.slice(0, s.requestBodyNoFilesLimit);
    vars.setScalar('INBOUND_DATA_ERROR', '1');
  }
  if (proc === 'URLENCODED') {
    parseUrlEncoded(body, post, s.argumentsLimit);
    vars.setScalar('REQUEST_BODY', body);
  } else if (proc === 'MULTIPART') {
    const m = parseMultipart(body, ct);
    post.push(...m.args);
    vars.addPairs('FILES', m.files);
    vars.addPairs('FILES_SIZES', m.fileSizes);
    vars.addPairs('MULTIPART_PART_HEADERS', m.partHeaders);
    vars.setScalar('FILES_COMBINED_SIZE', String(m.combinedFileSize));
    const f = m.flags;
    vars.setScalar('MULTIPART_BOUNDARY_QUOTED', String(f.boundaryQuoted));
    vars.setScalar('MULTIPART_BOUNDARY_WHITESPACE', String(f.boundaryWhitespace));
    vars.setScalar('MULTIPART_DATA_BEFORE', String(f.dataBefore));
    vars.setScalar('MULTIPART_DATA_AFTER', String(f.dataAfter));
    vars.setScalar('MULTIPART_HEADER_FOLDING', String(f.headerFolding));
    vars.setScalar('MULTIPART_LF_LINE', String(f.lfLine));
    vars.setScalar('MULTIPART_CRLF_LF_LINES', String(f.crlfLfLines));
    vars.setScalar('MULTIPART_MISSING_SEMICOLON', String(f.missingSemicolon));
    vars.setScalar('MULTIPART_INVALID_QUOTING', String(f.invalidQuoting));
    vars.setScalar('MULTIPART_INVALID_PART', String(f.invalidPart));
    vars.setScalar('MULTIPART_INVALID_HEADER_FOLDING', String(f.invalidHeaderFolding));
    vars.setScalar('MULTIPART_FILE_LIMIT_EXCEEDED', String(f.fileLimitExceeded));
    vars.setScalar('MULTIPART_UNMATCHED_BOUNDARY', String(f.unmatchedBoundary));
    vars.setScalar('MULTIPART_STRICT_ERROR', String(multipartStrictError(m)));
    if (m.error) err(m.error);
  } else if (proc === 'JSON') {
    const e = parseJson(body, post, s.jsonDepthLimit, s.argumentsLimit);
    if (e) err(e);
  } else if (proc === 'XML') {
    const x = parseXml(body);
    if (x.error) err(x.error);
    else {
      vars.list('XML').push(new Entry('XML', '/*', x.text));
      for (const a of x.attrs) vars.list('XML_ATTRS').push(new Entry('XML', '//@*', a));
    }
  }
  if (forceBodyVar && proc !== 'URLENCODED') vars.setScalar('REQUEST_BODY', body);
  if (post.length) {
    vars.addPairs('ARGS_POST', post);
    const args = vars.list('ARGS');
    const names = vars.list('ARGS_NAMES');
    for (const [k, v] of post) {
      args.push(new Entry('ARGS', k, v));
      names.push(new Entry('ARGS_NAMES', k, k));
    }
    let len = 0;
    for (const e of args) len += e.name.length + e.value.length;
    vars.setScalar('ARGS_COMBINED_SIZE', String(len));
  }
  return 0;
}

/** The response's status line, headers and (when inspected) body as variables. */
export function addResponseVars(vars: Collections, r: WafResponse, s: EngineSettings): void {
  vars.setScalar('RESPONSE_STATUS', String(r.status));
  vars.setScalar('RESPONSE_PROTOCOL', r.protocol ?? 'HTTP/1.1');
  vars.addPairs('RESPONSE_HEADERS', r.headers);
  let ct = '';
  for (const [k, v] of r.headers) if (k.toLowerCase() === 'content-type') ct = v;
  vars.setScalar('RESPONSE_CONTENT_TYPE', ct);
  const body = latin1(r.body);
  vars.setScalar('RESPONSE_CONTENT_LENGTH', String(body.length));
  const mime = ct.split(';')[0].trim().toLowerCase();
  if (s.responseBodyAccess && s.responseBodyMimeTypes.includes(mime)) {
    vars.setScalar('RESPONSE_BODY', body.slice(0, s.responseBodyLimit));
  }
}
