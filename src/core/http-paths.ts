/**
 * What a request path is, read in place (no substring): a static asset a browser fetches after
 * the page (by extension), or a login endpoint (by its last segments). L7 detection and the
 * records' enrichment both ask; a site whose login endpoint is elsewhere names it (loginMatcher).
 */

/** Static-asset extensions: what a browser fetches after a page, and a bot that only wants the page does not. */
const ASSET_EXT = ['css', 'js', 'mjs', 'map', 'png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'avif', 'ico', 'woff', 'woff2', 'ttf', 'otf', 'eot', 'mp4', 'webm', 'mp3'];

/**
 * Default login endpoints: paths that end in one of these segments (a login attempt is a POST to
 * one). Sites with another endpoint give their own (loginMatcher).
 */
export const LOGIN_SEGMENTS: readonly string[] = [
  '/login',
  '/signin',
  '/sign-in',
  '/logon',
  '/wp-login.php',
  '/auth',
  '/session',
  '/sessions',
  '/token',
  '/authenticate',
  '/user/login',
  '/account/login',
  '/oauth/token',
];

/** An extension of at most 5 letters and digits as a small integer (base 37), -1 otherwise. */
function extCode(s: string, a: number, b: number): number {
  if (b - a > 5 || b === a) return -1;
  let k = 0;
  for (let i = a; i < b; i++) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c |= 0x20;
    const d = c >= 97 && c <= 122 ? c - 96 : c >= 48 && c <= 57 ? c - 48 + 27 : -1;
    if (d < 0) return -1;
    k = k * 37 + d;
  }
  return k;
}

const ASSET_CODES: ReadonlySet<number> = new Set(ASSET_EXT.map((e) => extCode(e, 0, e.length)));

/** Is the path s[a..b) a static asset (the extension of its last segment)? */
export function isAsset(s: string, a: number, b: number): boolean {
  for (let i = b - 1; i >= a && i >= b - 7; i--) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) return ASSET_CODES.has(extCode(s, i + 1, b));
    if (c === 0x2f) return false;
  }
  return false;
}

/** Does the path s[a..b) end in one of `segments` (lowercase; one trailing slash ignored; case-insensitive)? */
export function endsInSegment(s: string, a: number, b: number, segments: readonly string[]): boolean {
  let e = b;
  if (e - a > 1 && s.charCodeAt(e - 1) === 0x2f) e--;
  for (const seg of segments) {
    const n = seg.length;
    if (e - a < n) continue;
    let ok = true;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(e - n + i);
      if (c >= 65 && c <= 90) c |= 0x20;
      if (c !== seg.charCodeAt(i)) {
        ok = false;
        break;
      }
    }
    // Segments start with `/`, so they match whole segments: `/auth` is not the end of `/oauth`.
    if (ok) return true;
  }
  return false;
}

/** The default login test on s[a..b). */
export function isLoginPath(s: string, a: number, b: number): boolean {
  return endsInSegment(s, a, b, LOGIN_SEGMENTS);
}

/**
 * A login test for a site's own endpoints (`--login-path`, palisade.yaml `detection.login_paths`):
 * a path is a login endpoint when it ends in one of them (`/api/v2/session` matches
 * `/api/v2/session` and `/eu/api/v2/session`). Each must start with `/`. Null: the defaults.
 */
export function loginMatcher(paths: readonly string[] | undefined): ((path: string) => boolean) | null {
  if (paths === undefined || paths.length === 0) return null;
  for (const p of paths) if (!p.startsWith('/')) throw new Error(`login path ${JSON.stringify(p)} must start with /`);
  const segs = paths.map((p) => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p).toLowerCase());
  return (path: string) => endsInSegment(path, 0, path.length, segs);
}
