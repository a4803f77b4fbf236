/**
 * The console's files (the build of web/, in dist/web): served to anyone, since they are the
 * login page and carry no data; every /api path keeps its authentication. A path resolves inside
 * the build directory or is refused; files get their content type and a Cache-Control that lets
 * a browser keep the hashed assets for good and revalidate the rest. The console's
 * Content-Security-Policy allows scripts, styles and connections to this origin only, so the
 * build must inline nothing (web/vite.config.ts).
 */
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CSP, SECURITY_HEADERS } from './http.js';

/** The console's policy: its own scripts, styles and API, images inline as data: (the favicon), nothing else. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Where `npm run build` puts the console: dist/web at the package root. This module is two
 * folders below the root both as source (src/server) and compiled (dist/server).
 */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Vite names what it emits under assets/ by content hash: a changed file is a new name. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

const MISSING_BUILD = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Palisade: console not built</title></head>
<body><h1>The console is not built</h1>
<p>This server has no console files. Run <code>npm run build</code> in Palisade's directory (it builds web/ into dist/web) and reload.</p>
<p>The API answers under <code>/api</code> (GET /api/health, GET /api/openapi.json).</p></body></html>
`;

/** True for the paths the console's files are served at: all but /api and what is under it. */
export function isStaticPath(pathname: string): boolean {
  return pathname !== '/api' && !pathname.startsWith('/api/');
}

function plain(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
  // an error page loads nothing: the API's policy, not the console's
  res.setHeader('content-security-policy', CSP);
  res.setHeader('content-type', type);
  res.writeHead(status).end(head ? undefined : body);
}

/** The file a URL path names inside root, or null when it would leave root or is malformed. */
export function resolveInside(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  // no dot-files or dot-segments at all: the build has none, and '..' is the traversal
  if (decoded.split('/').some((seg) => seg.startsWith('.'))) return null;
  const base = resolve(root);
  const file = resolve(base, `.${decoded.endsWith('/') ? `${decoded}index.html` : decoded}`);
  return file.startsWith(base + sep) ? file : null;
}

/** A handler for GET and HEAD of the console's paths. */
export function staticFiles(root: string = DEFAULT_WEB_ROOT): (req: IncomingMessage, res: ServerResponse, pathname: string) => Promise<void> {
  const index = resolve(root, 'index.html');
  return async (req, res, pathname) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('allow', 'GET, HEAD');
      return plain(res, 405, 'text/plain; charset=utf-8', `${req.method} is not served at ${pathname}\n`, false);
    }
    const file = resolveInside(root, pathname);
    if (file === null) return plain(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
    const info = await stat(file).catch(() => null);
    if (info === null || !info.isFile()) {
      // a missing build shows as a page saying what to do, not as a bare 404
      if ((await stat(index).catch(() => null)) === null) return plain(res, 503, 'text/html; charset=utf-8', MISSING_BUILD, head);
      return plain(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
    }
    const body = await readFile(file);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    res.setHeader('content-security-policy', CONSOLE_CSP);
    res.setHeader('content-type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.setHeader('content-length', body.length);
    res.setHeader('cache-control', pathname.startsWith('/assets/') ? IMMUTABLE : REVALIDATE);
    res.writeHead(200).end(head ? undefined : body);
  };
}
