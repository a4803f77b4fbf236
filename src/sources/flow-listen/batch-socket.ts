/**
 * BatchSocket: a UDP receive socket read with recvmmsg(2) through the optional native addon
 * (native/udp-batch.c, built by scripts/build-native.sh into build/udp-batch.node). One JS call per
 * batch of up to BATCH datagrams, into one buffer, with no object per datagram: node:dgram's
 * per-datagram Buffer, rinfo and callback capped a collector near 100 k datagrams/s here, below
 * what nfcapd and pmacct take (bench/flows.bench.ts).
 *
 * `loadBatchSocket()` returns null when the addon is not built (no C compiler or Node headers at
 * set-up) or PALISADE_NO_NATIVE=1 is set; callers then use node:dgram and say so.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Datagrams per recvmmsg call; one slot each. */
export const BATCH = 64;
/** The largest UDP payload: nothing is cut. */
export const SLOT = 65536;

interface Addon {
  META: number;
  open(family: number, host: string, port: number, rcvbuf: number): unknown;
  address(h: unknown): [string, number];
  rcvbuf(h: unknown): number;
  start(h: unknown, data: ArrayBuffer, slot: number, meta: Int32Array, batch: number, onBatch: (n: number) => void): void;
  close(h: unknown): void;
}

/** Where the batch's i-th datagram came from: meta[i*META + k]. */
export const enum Meta {
  LEN = 0,
  SENT = 1,
  PORT = 2,
  FAMILY = 3,
  ADDR = 4,
}

let addon: Addon | null | undefined;

/** The addon, or null (not built, failed to load, or turned off); the reason is kept for --help/--json. */
export function loadBatchSocket(): Addon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.env.PALISADE_NO_NATIVE === '1') {
    nativeNote = 'turned off (PALISADE_NO_NATIVE=1)';
    return null;
  }
  // src/sources/flow-listen and dist/sources/flow-listen are both three levels below the package root.
  const path = new URL('../../../build/udp-batch.node', import.meta.url).pathname;
  if (!existsSync(path)) {
    nativeNote = 'not built (scripts/build-native.sh needs a C compiler and Node headers)';
    return null;
  }
  try {
    addon = createRequire(import.meta.url)(path) as Addon;
    nativeNote = 'recvmmsg';
  } catch (err) {
    nativeNote = `failed to load: ${(err as Error).message}`;
  }
  return addon;
}

/** How the last loadBatchSocket() went: 'recvmmsg' or why not. */
export let nativeNote = 'not loaded';

export class BatchSocket {
  /** The batch's datagrams: datagram i at data[i*SLOT ..]. */
  readonly data: Uint8Array;
  /** Per datagram (Meta offsets): length kept, length sent, source port, family, address words. */
  readonly meta: Int32Array;
  readonly metaStride: number;
  private handle: unknown;
  private closed = false;

  /** Bind now (throws an Error whose `code` is the errno name, as node:dgram's would be). */
  constructor(
    private readonly lib: Addon,
    family: 4 | 6,
    host: string,
    port: number,
    rcvbuf: number,
  ) {
    this.handle = lib.open(family, host, port, rcvbuf);
    this.metaStride = lib.META;
    this.data = new Uint8Array(new ArrayBuffer(BATCH * SLOT));
    this.meta = new Int32Array(BATCH * lib.META);
  }

  address(): { address: string; port: number } {
    const [address, port] = this.lib.address(this.handle);
    return { address, port };
  }

  recvBufferSize(): number {
    return this.lib.rcvbuf(this.handle);
  }

  /** Start reading: onBatch(n) for each batch; read data/meta inside the call (they are reused). */
  start(onBatch: (n: number) => void): void {
    this.lib.start(this.handle, this.data.buffer as ArrayBuffer, SLOT, this.meta, BATCH, onBatch);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lib.close(this.handle);
    this.handle = null;
  }
}
