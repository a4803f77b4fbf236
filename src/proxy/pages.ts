/**
 * The small HTML pages of the edge's own answers (502, 504, 4xx from framing checks): a title
 * and one sentence a person can act on, plus the request id to quote to the site's operator.
 */
import { STATUS_CODES } from 'node:http';

const SENTENCES: Record<number, string> = {
  400: 'The request was malformed and was not forwarded.',
  403: 'The request was blocked by the site’s protection.',
  408: 'The request took too long to arrive and was not forwarded.',
  413: 'The request body is larger than this site accepts.',
  429: 'Too many requests: please slow down and try again later.',
  431: 'The request headers are too large.',
  500: 'The edge could not decide on this request.',
  502: 'The site’s origin server could not be reached.',
  503: 'The edge is shutting down; please retry.',
  504: 'The site’s origin server did not answer in time.',
};

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page for `status`, naming the request id. */
export function errorPage(status: number, requestId: string): string {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  const sentence = SENTENCES[status] ?? 'The request could not be completed.';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>${title}</h1>
<p>${sentence}</p>
<p><small>Request id: <code>${escapeHtml(requestId)}</code> · palisade edge</small></p>
</body></html>
`;
}
