/**
 * The TCP/IP stacks the generator's hosts run: initial TTL, SYN window and SYN option layout
 * (byte for byte, as Linux, macOS and Windows send them), and whether established segments carry
 * timestamps. Benign clients, bots and the mimicking flood all draw from this one table.
 */

/** SYN option layouts (all multiples of 4 bytes). */
export const OPTS_LINUX = Uint8Array.from([2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]);
export const OPTS_WINDOWS = Uint8Array.from([2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2]);
export const OPTS_MAC = Uint8Array.from([2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 0, 4, 2, 0, 0]);
export const OPTS_V6 = Uint8Array.from([2, 4, 0x05, 0xa0, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]);
export const OPTS_SYNACK = Uint8Array.from([2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7]);
/** Established-segment timestamps option (NOP NOP TS). */
export const OPTS_TS = Uint8Array.from([1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 7]);

export interface Stack {
  ttl: number;
  win: number;
  opts: Uint8Array;
  ts: boolean;
}

export const STACKS: readonly Stack[] = [
  { ttl: 64, win: 64240, opts: OPTS_LINUX, ts: true },
  { ttl: 64, win: 65535, opts: OPTS_MAC, ts: true },
  { ttl: 128, win: 64240, opts: OPTS_WINDOWS, ts: false },
  { ttl: 128, win: 8192, opts: OPTS_WINDOWS, ts: false },
  { ttl: 64, win: 29200, opts: OPTS_LINUX, ts: true },
];

/** Hops between a remote host and the capture point (its TTL is the initial one minus these). */
export const MIN_HOPS = 3;
export const MAX_HOPS = 18;
