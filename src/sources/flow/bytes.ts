/**
 * Big-endian reads for the flow decoders. Plain byte arithmetic rather than a DataView: the
 * decoders index one Uint8Array (the capture reader's chunk) at absolute offsets, and a DataView
 * per datagram would be an allocation. Callers check bounds first; these never do.
 */

export function u8(b: Uint8Array, o: number): number {
  return b[o] as number;
}

export function u16(b: Uint8Array, o: number): number {
  return ((b[o] as number) << 8) | (b[o + 1] as number);
}

export function u32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

/** A 64-bit counter as a double: exact below 2^53, which no real counter reaches. */
export function u64(b: Uint8Array, o: number): number {
  return u32(b, o) * 4294967296 + u32(b, o + 4);
}

/**
 * An unsigned integer of 1 to 8 bytes (IPFIX reduced-size encoding, RFC 7011 §6.2, lets an
 * exporter send a 64-bit counter in 1, 2 or 4 bytes). Longer fields read their last 8 bytes.
 */
export function uint(b: Uint8Array, o: number, len: number): number {
  switch (len) {
    case 1:
      return b[o] as number;
    case 2:
      return u16(b, o);
    case 4:
      return u32(b, o);
    case 8:
      return u64(b, o);
    default: {
      if (len > 8) {
        o += len - 8;
        len = 8;
      }
      let x = 0;
      for (let i = 0; i < len; i++) x = x * 256 + (b[o + i] as number);
      return x;
    }
  }
}
