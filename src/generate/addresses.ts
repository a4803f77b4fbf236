/**
 * The generator's address plan. The protected network (the capture point's side) is
 * 203.0.113.0/24 and 2001:db8:1::/64 (documentation ranges, RFC 5737 / 3849); everything else is
 * "the Internet": addresses drawn from the rng among ordinary unicast space.
 */
import type { Rng } from './prng.js';

export const NET4 = 0xcb007100; // 203.0.113.0
export const NET4_TEXT = '203.0.113.0/24';

export function host4(last: number): number {
  return (NET4 | (last & 255)) >>> 0;
}

export function host6(last: number): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = 0x20;
  a[1] = 0x01;
  a[2] = 0x0d;
  a[3] = 0xb8;
  a[5] = 0x01;
  a[14] = (last >> 8) & 255;
  a[15] = last & 255;
  return a;
}

/** A public-looking IPv4 address outside the protected /24 and outside special-use space. */
export function randomPublic4(rng: Rng): number {
  for (;;) {
    const a = rng.u32();
    const o1 = a >>> 24;
    if (o1 === 0 || o1 === 10 || o1 === 127 || o1 >= 224) continue;
    if (o1 === 100 && ((a >>> 16) & 0xc0) === 0x40) continue;
    if (o1 === 169 && ((a >>> 16) & 255) === 254) continue;
    if (o1 === 172 && ((a >>> 16) & 0xf0) === 16) continue;
    if (o1 === 192 && ((a >>> 16) & 255) === 168) continue;
    if (o1 === 198 && ((a >>> 16) & 0xfe) === 18) continue;
    if ((a & 0xffffff00) >>> 0 === NET4) continue;
    if (o1 === 192 && ((a >>> 8) & 0xffff) === 0x0002) continue;
    if (o1 === 198 && ((a >>> 8) & 0xffff) === 0x3364) continue;
    return a;
  }
}

/** A global-unicast IPv6 address in 2a00::/12 (outside the protected /64). */
export function randomPublic6(rng: Rng): Uint8Array {
  const a = new Uint8Array(16);
  const w0 = rng.u32();
  a[0] = 0x2a;
  a[1] = (w0 >>> 24) & 0x0f;
  for (let i = 2; i < 16; i++) a[i] = rng.int(0, 255);
  return a;
}

/** A pool of distinct public IPv4 addresses. */
export function pool4(rng: Rng, n: number): Uint32Array {
  const out = new Uint32Array(n);
  const seen = new Set<number>();
  let i = 0;
  while (i < n) {
    const a = randomPublic4(rng);
    if (seen.has(a)) continue;
    seen.add(a);
    out[i++] = a;
  }
  return out;
}

export function formatAddr4(u: number): string {
  return `${u >>> 24}.${(u >>> 16) & 255}.${(u >>> 8) & 255}.${u & 255}`;
}
