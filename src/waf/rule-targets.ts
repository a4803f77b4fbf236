/** Target lists of SecRule (`ARGS|!ARGS:password|&TX:foo|REQUEST_HEADERS:/^x-/`) parsed into `Target`s. */
import { sourceOf } from './collections.js';
import { patternFactors } from './factors.js';
import { intern } from './macro.js';
import { compilePcre } from './pcre.js';
import type { Selector, Target } from './rule.js';

export function parseTargets(spec: string): Target[] {
  const out: Target[] = [];
  // split on '|' but not inside /regex/ selectors
  const parts: string[] = [];
  let cur = '';
  let inRe = false;
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i];
    if (c === '/' && ((cur.endsWith(':') && !/^[!&]*XML:$/i.test(cur)) || inRe)) {
      if (inRe && spec[i - 1] === '\\') {
        cur += c;
        continue;
      }
      inRe = !inRe;
      cur += c;
      continue;
    }
    if (c === '|' && !inRe) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur) parts.push(cur);
  for (let part of parts) {
    part = part.trim();
    if (!part) continue;
    let exclude = false;
    let count = false;
    if (part[0] === '!') {
      exclude = true;
      part = part.slice(1);
    }
    if (part[0] === '&') {
      count = true;
      part = part.slice(1);
    }
    const colon = part.indexOf(':');
    const coll = intern((colon < 0 ? part : part.slice(0, colon)).toUpperCase());
    let selector: Selector = null;
    if (colon >= 0) {
      let s = part.slice(colon + 1);
      if (s.startsWith("'") && s.endsWith("'")) s = s.slice(1, -1);
      if (s.length > 1 && s.startsWith('/') && s.endsWith('/') && coll !== 'XML') {
        const src = s.slice(1, -1);
        selector = { kind: 'regex', re: compilePcre(src, 'i') };
        if (/^\^[A-Za-z0-9_]+$/.test(src)) selector.prefix = src.slice(1).toLowerCase();
        else {
          // names the regex can match contain one of these (lower-case ASCII): most names are
          // ruled out without running it
          const f = patternFactors(selector.re.source);
          if (f?.every((x) => /^[\x00-\x7f]+$/.test(x))) selector.factors = f;
        }
      } else selector = { kind: 'name', name: intern(s.toLowerCase()) };
    }
    out.push({ coll, selector, count, exclude, source: sourceOf(coll) });
  }
  return out;
}
