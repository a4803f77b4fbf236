/** Fast non-cryptographic 32-bit hashes for sketches (no allocation, int32 in and out). */

/** murmur3 fmix32: a strong mixer for one 32-bit word. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** FNV-1a over buf[off, off+len), then mixed: for IPv6 addresses and names. */
export function hashBytes(buf: Uint8Array, off: number, len: number, seed = 0x811c9dc5): number {
  let h = seed | 0;
  for (let i = 0; i < len; i++) {
    h ^= buf[off + i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** Combine two words (e.g. a conversation's two addresses). */
export function hash2(a: number, b: number): number {
  return mix32(Math.imul(mix32(a) ^ 0x9e3779b9, 0x01000193) ^ b);
}
