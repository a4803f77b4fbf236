/**
 * Tiny byte builders for reader tests: capture files written field by field from the format
 * specifications, independent of the project's own PcapWriter.
 */

export interface Rec {
  sec: number;
  frac: number;
  data: Uint8Array;
  wirelen?: number;
  caplen?: number;
}

function u16(v: number, le: boolean): number[] {
  return le ? [v & 255, (v >>> 8) & 255] : [(v >>> 8) & 255, v & 255];
}
function u32(v: number, le: boolean): number[] {
  return le ? [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255] : [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

export function pcapFile(recs: Rec[], opts: { le?: boolean; nano?: boolean; linkType?: number; snaplen?: number } = {}): Uint8Array {
  const le = opts.le ?? true;
  const out: number[] = [
    ...u32(opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, le),
    ...u16(2, le),
    ...u16(4, le),
    ...u32(0, le),
    ...u32(0, le),
    ...u32(opts.snaplen ?? 65535, le),
    ...u32(opts.linkType ?? 1, le),
  ];
  for (const r of recs) {
    const cap = r.caplen ?? r.data.length;
    out.push(...u32(r.sec, le), ...u32(r.frac, le), ...u32(cap, le), ...u32(r.wirelen ?? r.data.length, le), ...r.data);
  }
  return Uint8Array.from(out);
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

export function block(type: number, body: number[], le: boolean): number[] {
  const len = 12 + body.length + pad4(body.length);
  return [...u32(type, le), ...u32(len, le), ...body, ...new Array(pad4(body.length)).fill(0), ...u32(len, le)];
}

export function option(code: number, value: number[], le: boolean): number[] {
  return [...u16(code, le), ...u16(value.length, le), ...value, ...new Array(pad4(value.length)).fill(0)];
}

export function shb(le: boolean, options: number[] = []): number[] {
  return block(0x0a0d0d0a, [...u32(0x1a2b3c4d, le), ...u16(1, le), ...u16(0, le), ...u32(0xffffffff, le), ...u32(0xffffffff, le), ...options], le);
}

export function idb(le: boolean, linkType: number, tsresol?: number, snaplen = 0, extraOptions: number[] = []): number[] {
  const opts: number[] = [...extraOptions];
  if (tsresol !== undefined) opts.push(...option(9, [tsresol], le));
  if (opts.length > 0) opts.push(...u16(0, le), ...u16(0, le));
  return block(1, [...u16(linkType, le), ...u16(0, le), ...u32(snaplen, le), ...opts], le);
}

/** Enhanced Packet Block with a 64-bit timestamp given as high/low words. */
export function epb(le: boolean, ifId: number, high: number, low: number, data: Uint8Array, wirelen = data.length, options: number[] = []): number[] {
  const body = [...u32(ifId, le), ...u32(high, le), ...u32(low, le), ...u32(data.length, le), ...u32(wirelen, le), ...data, ...new Array(pad4(data.length)).fill(0), ...options];
  const len = 12 + body.length;
  return [...u32(6, le), ...u32(len, le), ...body, ...u32(len, le)];
}

export function spb(le: boolean, data: Uint8Array, wirelen = data.length): number[] {
  return block(3, [...u32(wirelen, le), ...data], le);
}

/** An Ethernet + IPv4 + UDP frame with the given addresses/ports (checksums zero: not checked). */
export function udpFrame(src: number[], dst: number[], sport: number, dport: number, payload: number[] = [1, 2, 3, 4]): Uint8Array {
  const ulen = 8 + payload.length;
  const tot = 20 + ulen;
  return Uint8Array.from([
    ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00],
    0x45,
    0,
    tot >> 8,
    tot & 255,
    0,
    1,
    0,
    0,
    64,
    17,
    0,
    0,
    ...src,
    ...dst,
    sport >> 8,
    sport & 255,
    dport >> 8,
    dport & 255,
    ulen >> 8,
    ulen & 255,
    0,
    0,
    ...payload,
  ]);
}

/** Ethernet + IPv4 + TCP SYN. */
export function synFrame(src: number[], dst: number[], sport: number, dport: number): Uint8Array {
  const tot = 40;
  return Uint8Array.from([
    ...[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00],
    0x45,
    0,
    0,
    tot,
    0,
    1,
    0x40,
    0,
    64,
    6,
    0,
    0,
    ...src,
    ...dst,
    sport >> 8,
    sport & 255,
    dport >> 8,
    dport & 255,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0x50,
    0x02,
    0xff,
    0xff,
    0,
    0,
    0,
    0,
  ]);
}
