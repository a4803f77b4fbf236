/**
 * Where a solved challenge sends the browser back to: the URL it asked for, which the form posts
 * along with the solution. The form is the client's to change, so only a path on this same site
 * is followed (no open redirect): it must start with one `/` and not two (`//evil.example` is
 * another host to a browser), hold no backslash (browsers read `/\evil.example` as `//`), and be
 * visible ASCII only (no header splitting, no tab or newline the URL parser would drop); what a
 * URL parser then makes of it must still be on the same origin with the same path and query.
 */
const MAX = 4096;
const VISIBLE_ASCII = /^[\x21-\x7e]*$/;

/** The path itself when it is safe to redirect to, null when not. */
export function safeReturnPath(s: string): string | null {
  if (s.length === 0 || s.length > MAX) return null;
  if (s.charCodeAt(0) !== 47 /* / */) return null;
  if (s.length > 1 && (s.charCodeAt(1) === 47 || s.charCodeAt(1) === 92)) return null;
  if (s.includes('\\') || !VISIBLE_ASCII.test(s)) return null;
  let u: URL;
  try {
    u = new URL(s, 'http://edge.invalid');
  } catch {
    return null;
  }
  if (u.origin !== 'http://edge.invalid') return null;
  // Dot segments are resolved by the parser: /a/../b is fine, and what comes out is still a path here.
  if (!u.pathname.startsWith('/') || u.pathname.startsWith('//')) return null;
  return s;
}
