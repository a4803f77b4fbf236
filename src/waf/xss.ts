/**
 * XSS detection in the manner of libinjection's HTML5 approach (our own implementation): the
 * input is scanned as HTML text and, separately, as if it began inside an attribute value
 * (unquoted, '...' or "..."), the usual reflection points. It is flagged when that reading
 * yields an element that runs script or loads content (script, iframe, object, svg, ...,
 * also behind a namespace prefix such as `x:script`), an event-handler attribute (`on*`),
 * an attribute that changes how content is interpreted (xmlns, xlink:href, style,
 * formaction), or a URL attribute value using the javascript:, vbscript: or data: scheme.
 */

import { htmlEntityDecode } from './transforms.js';

const BLACK_TAGS = new Set([
  'script',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'base',
  'link',
  'meta',
  'style',
  'svg',
  'math',
  'xml',
  'xss',
  'import',
  'vmlframe',
  'isindex',
  'template',
  'animate',
  'set',
  'handler',
  'listener',
  'bgsound',
  'layer',
  'ilayer',
]);

const BLACK_ATTRS = new Set(['xmlns', 'xlink:href', 'style', 'formaction', 'datasrc', 'dataformatas', 'background', 'lowsrc', 'dynsrc']);

function isWs(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0 || c === 47;
}

function isAlpha(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** True when a URL-ish attribute value starts with a script-capable scheme (ignoring noise). */
function badUrl(raw: string): boolean {
  // browsers decode character references in attribute values before reading the URL
  const v = raw.indexOf('&') >= 0 ? htmlEntityDecode(raw) : raw;
  let clean = '';
  for (let i = 0; i < v.length && clean.length < 12; i++) {
    const c = v.charCodeAt(i);
    if (c <= 32 || c === 127) continue; // browsers skip controls and spaces in schemes
    clean += v[i].toLowerCase();
  }
  return clean.startsWith('javascript:') || clean.startsWith('vbscript:') || clean.startsWith('data:') || clean.startsWith('livescript:');
}

/** Scans attributes from position i (inside a start tag). Returns true on a dangerous one. */
function scanAttrs(s: string, i: number): { bad: boolean; end: number } {
  const n = s.length;
  while (i < n) {
    while (i < n && isWs(s.charCodeAt(i))) i++;
    if (i >= n) break;
    if (s[i] === '>') return { bad: false, end: i + 1 };
    const st = i;
    while (i < n && !isWs(s.charCodeAt(i)) && s[i] !== '=' && s[i] !== '>') i++;
    const name = s.slice(st, i).toLowerCase();
    while (i < n && (s.charCodeAt(i) === 32 || (s.charCodeAt(i) >= 9 && s.charCodeAt(i) <= 13))) i++;
    if (s[i] !== '=') {
      if (i === st) i++;
      continue;
    }
    // only an attribute with a value can run or load anything
    if (name.length > 2 && name.startsWith('on') && /^on[a-z]+$/.test(name)) return { bad: true, end: i };
    if (BLACK_ATTRS.has(name)) return { bad: true, end: i };
    i++;
    while (i < n && (s.charCodeAt(i) === 32 || (s.charCodeAt(i) >= 9 && s.charCodeAt(i) <= 13))) i++;
    let value: string;
    const q = s[i];
    if (q === '"' || q === "'" || q === '`') {
      const e = s.indexOf(q, i + 1);
      value = s.slice(i + 1, e < 0 ? n : e);
      i = e < 0 ? n : e + 1;
    } else {
      const vs = i;
      while (i < n && !isWs(s.charCodeAt(i)) && s[i] !== '>') i++;
      value = s.slice(vs, i);
    }
    if (badUrl(value)) return { bad: true, end: i };
  }
  return { bad: false, end: n };
}

/** Scans HTML text from position i for a dangerous tag or attribute. */
function scanText(s: string, i: number): boolean {
  const n = s.length;
  for (;;) {
    const lt = s.indexOf('<', i);
    if (lt < 0 || lt + 1 >= n) return false;
    let j = lt + 1;
    if (s[j] === '/') j++;
    if (s[j] === '!' || s[j] === '?') {
      // <!-- comments --> and <? processing instructions ?> carry no tags; <!ENTITY is not HTML
      i = j + 1;
      continue;
    }
    if (!isAlpha(s.charCodeAt(j))) {
      i = j;
      continue;
    }
    const st = j;
    while (j < n && !isWs(s.charCodeAt(j)) && s[j] !== '>') j++;
    let tag = s.slice(st, j).toLowerCase();
    const colon = tag.lastIndexOf(':');
    if (colon >= 0) tag = tag.slice(colon + 1);
    if (BLACK_TAGS.has(tag) || tag.startsWith('svg') || tag.startsWith('xsl')) return true;
    const a = scanAttrs(s, j);
    if (a.bad) return true;
    i = a.end;
  }
}

export function detectXss(s: string): boolean {
  if (s.length === 0) return false;
  const lt = s.indexOf('<') >= 0;
  if (lt && scanText(s, 0)) return true;
  // as if the input started inside an attribute value
  for (const q of ['"', "'", '`']) {
    const e = s.indexOf(q);
    if (e < 0) continue;
    const a = scanAttrs(s, e + 1);
    if (a.bad) return true;
    if (lt && scanText(s, a.end)) return true;
  }
  // unquoted attribute value: ends at the first whitespace
  const ws = s.search(/[\s>]/);
  if (ws >= 0) {
    const a = scanAttrs(s, ws + (s[ws] === '>' ? 0 : 1));
    if (a.bad) return true;
  }
  return false;
}
