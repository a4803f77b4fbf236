/** Header look-ups on a request view: the view's own `header()` when it has one (no pair list built), else a scan. */
import type { HttpRequestView } from '../../scheme/http.js';

/** The first value of header `lower` (a lowercase name), undefined when absent. */
export function headerOf(v: HttpRequestView, lower: string): string | undefined {
  if (v.header !== undefined) return v.header(lower);
  const hs = v.headers;
  for (let i = 0; i < hs.length; i++) {
    const h = hs[i] as readonly [string, string];
    if (h[0].length === lower.length && h[0].toLowerCase() === lower) return h[1];
  }
  return undefined;
}
