/**
 * Splits a classic pcap by source address into N pcaps, the way N routers of one network each
 * see part of a botnet: every packet of one source goes to the same file (a hash of its IPv4 or
 * IPv6 source), packets without an IP layer to the first. Headers and records are copied byte
 * for byte; only the selection differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeFrame } from '../../src/decode/frame.js';
import { PacketView } from '../../src/decode/view.js';

function fnv(buf: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) h = Math.imul(h ^ (buf[off + i] as number), 0x01000193);
  return h >>> 0;
}

/** Writes `outs[k]` with the packets whose source hashes to k; returns the packets per file. */
export function splitPcapBySource(input: string, outs: readonly string[]): number[] {
  const b = readFileSync(input);
  const magic = b.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && b.readUInt32BE(0) !== 0xa1b2c3d4 && b.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${input}: not a classic pcap`);
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const link = u32(20) & 0xffff;
  const parts: Buffer[][] = outs.map(() => [b.subarray(0, 24)]);
  const counts = outs.map(() => 0);
  const v = new PacketView();
  for (let o = 24; o + 16 <= b.length; ) {
    const incl = u32(o + 8);
    const end = o + 16 + incl;
    if (end > b.length) break;
    v.buf = b;
    v.frameOff = o + 16;
    v.frameEnd = end;
    v.caplen = incl;
    v.wirelen = u32(o + 12);
    v.linkType = link;
    v.reset();
    decodeFrame(v);
    const h =
      v.ipVersion === 4
        ? fnv(Uint8Array.of(v.src4 >>> 24, (v.src4 >>> 16) & 255, (v.src4 >>> 8) & 255, v.src4 & 255), 0, 4)
        : v.ipVersion === 6 && v.src6Off >= 0
          ? fnv(b, v.src6Off, 16)
          : 0;
    const k = h % outs.length;
    (parts[k] as Buffer[]).push(b.subarray(o, end));
    counts[k] = (counts[k] as number) + 1;
    o = end;
  }
  for (const [k, f] of outs.entries()) writeFileSync(f, Buffer.concat(parts[k] as Buffer[]));
  return counts;
}
