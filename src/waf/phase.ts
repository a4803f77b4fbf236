/**
 * ModSecurity's five processing phases. Rules name a phase by number (or by the words SecLang
 * accepts); the engine runs them in this order, with request body processing between
 * REQUEST_HEADERS and REQUEST_BODY and the response's variables added before RESPONSE_HEADERS.
 */
export const Phase = {
  REQUEST_HEADERS: 1,
  REQUEST_BODY: 2,
  RESPONSE_HEADERS: 3,
  RESPONSE_BODY: 4,
  LOGGING: 5,
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export const FIRST_PHASE = Phase.REQUEST_HEADERS;
export const LAST_PHASE = Phase.LOGGING;

/** The phase a `phase:` action or SecDefaultAction names: a number, or `request` (2),
 * `response` (4), `logging` (5). Anything else is kept as the number it reads as, so a rule in a
 * phase the engine does not run is simply never run. */
export function parsePhase(v: string): number {
  const s = v.toLowerCase();
  if (s === 'request') return Phase.REQUEST_BODY;
  if (s === 'response') return Phase.RESPONSE_BODY;
  if (s === 'logging') return Phase.LOGGING;
  return Number(s);
}
