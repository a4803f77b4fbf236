/** Victims as text and as bytes: key strings of table slots, and which sample rows went to a victim. */
import type { KeyTable } from '../core/table.js';
import type { VictimSample } from './sample.js';

/** What identifies a victim: an address or a prefix of one family. */
export interface VictimBytes {
  fam: 4 | 6;
  /** Address or prefix bytes (IPv4 in the first 4). */
  addr: Uint8Array;
  isPrefix: boolean;
  prefixLen: number;
}

/** The key string of slot i: the address, or `address/prefixLen` for a prefix slot. */
export function slotKey(t: KeyTable, i: number, isPrefix: boolean, prefixLen: number): string {
  const o = i * 16;
  const a = t.addr;
  let s: string;
  if (t.fam[i] === 4) s = `${a[o]}.${a[o + 1]}.${a[o + 2]}.${a[o + 3]}`;
  else {
    const w: string[] = [];
    for (let k = 0; k < 16; k += 2) w.push((((a[o + k] as number) << 8) | (a[o + k + 1] as number)).toString(16));
    s = w.join(':');
  }
  return isPrefix ? `${s}/${prefixLen}` : s;
}

/** The key string of the IPv6 prefix of length prefixLen holding the address at a[o..] (as slotKey writes a prefix slot's). */
export function prefixKey6(a: Uint8Array, o: number, prefixLen: number): string {
  const w: string[] = [];
  for (let k = 0; k < 16; k += 2) {
    const bits = prefixLen - k * 8;
    const m = bits >= 16 ? 0xffff : bits <= 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
    w.push(((((a[o + k] as number) << 8) | (a[o + k + 1] as number)) & m).toString(16));
  }
  return `${w.join(':')}/${prefixLen}`;
}

/** Was row r of a sample sent to the victim? */
export function rowToVictim(w: VictimSample, r: number, p: VictimBytes): boolean {
  if (w.fam[r] !== p.fam) return false;
  const bits = p.isPrefix ? p.prefixLen : p.fam === 4 ? 32 : 128;
  if (p.fam === 4) {
    const d = w.dst4[r] as number;
    const a = p.addr;
    const want = (((a[0] as number) << 24) | ((a[1] as number) << 16) | ((a[2] as number) << 8) | (a[3] as number)) >>> 0;
    const m = bits === 0 ? 0 : bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
    return (d & m) >>> 0 === (want & m) >>> 0;
  }
  for (let k = 0; k < 16 && k * 8 < bits; k++) {
    const left = bits - k * 8;
    const m = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff;
    if (((w.dst6[r * 16 + k] as number) & m) !== ((p.addr[k] as number) & m)) return false;
  }
  return true;
}
