/** Shared by the challenge tests: the page's proof of work, solved in Node the way its script does. */
import { solves } from '../../src/proxy/challenge/tokens.js';

/** The first decimal nonce that solves `seed` at `bits` (the page's script finds the same one). */
export function solve(seed: string, bits: number): number {
  for (let n = 0; ; n++) if (solves(seed, String(n), bits)) return n;
}

/** The page's hidden form fields. */
export function formOf(html: string): { token: string; url: string; bits: number; action: string } {
  const field = (name: string): string => {
    const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
    if (m === null) throw new Error(`no ${name} in the page`);
    return (m[1] as string).replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)));
  };
  const bits = /data-bits="(\d+)"/.exec(html);
  const action = /<form[^>]* action="([^"]+)"/.exec(html);
  if (bits === null || action === null) throw new Error('no challenge form in the page');
  return { token: field('token'), url: field('url'), bits: Number(bits[1]), action: action[1] as string };
}
