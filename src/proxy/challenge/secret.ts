/**
 * The challenge's HMAC key when palisade.yaml gives none: made once per process tree, so that
 *
 *   - a config reload (a new gate) keeps honouring the clearances already handed out, and
 *   - `--workers N` (node:cluster forks run the same program with the primary's environment)
 *     share one key: a cookie one worker signed is valid on the others, whichever the kernel
 *     hands the next connection to. The primary must call `processSecret()` before it forks.
 *
 * The key lives in the environment variable below for that reason only; a key set there by the
 * operator is taken too. Proxies on several machines need `edge.challenge.secret` in the config.
 */
import { randomBytes } from 'node:crypto';

export const SECRET_ENV = 'PALISADE_CHALLENGE_SECRET';

/** The configured secret, else this process tree's (made on first use). */
export function challengeSecret(configured: string | undefined): string {
  return configured ?? processSecret();
}

export function processSecret(): string {
  const have = process.env[SECRET_ENV];
  if (have !== undefined && have.length >= 16) return have;
  const made = randomBytes(32).toString('base64url');
  process.env[SECRET_ENV] = made;
  return made;
}
