/**
 * Vectors as the overview charts them: a fixed colour per vector name (a SYN flood is the same
 * colour today and tomorrow, whatever else is on the chart), and which vectors are L7 (their
 * traffic is counted in requests, not packets).
 */
// DESIGN.md's vector names, in its order (the model's own list): the index picks the colour
import { VECTORS } from '../../src/model/attack.js';

export const L7_VECTORS: ReadonlySet<string> = new Set(['http_flood', 'slowloris', 'credential_stuffing', 'scanner']);

/** Twelve colours readable on white (contrast of 3:1 or more), far enough apart to tell lines apart. */
const PALETTE = ['#b3261e', '#1f5fbf', '#1e7b34', '#8a4b08', '#6a1b9a', '#00695c', '#ad1457', '#37474f', '#c43e00', '#3949ab', '#5d6b00', '#7b1fa2'];

export function vectorColour(vector: string): string {
  let i = (VECTORS as readonly string[]).indexOf(vector);
  if (i < 0) {
    // a vector this console does not know yet: a colour from its name, so it too stays put
    i = 0;
    for (const c of vector) i = (i * 31 + (c.codePointAt(0) ?? 0)) >>> 0;
  }
  return PALETTE[i % PALETTE.length] as string;
}
