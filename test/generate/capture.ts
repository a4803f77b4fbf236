/**
 * A reader of the generator's own captures for tests, independent of src/decode: classic pcap,
 * Ethernet, IPv4 (and IPv4 inside GRE) or IPv6, TCP/UDP headers as numbers, options as hex.
 */
import { readFileSync } from 'node:fs';
import { EPOCH_SEC } from '../../src/generate/emitter.js';

export interface Frame {
  /** 0-based frame index (the label index). */
  i: number;
  /** Traffic time in ns from the scenario start. */
  t: number;
  v: 4 | 6;
  src: string;
  dst: string;
  proto: number;
  ttl: number;
  df: boolean;
  ipId: number;
  sport: number;
  dport: number;
  flags: number;
  win: number;
  seq: number;
  ack: number;
  /** TCP options as hex. */
  opts: string;
  /** Transport payload length (after the TCP/UDP header; for other protocols, after IP). */
  pay: number;
  /** Absolute offset of that payload in `buf`. */
  payAt: number;
  /** The IPv4 packet a GRE packet carries. */
  inner: Frame | null;
}

function v4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function v6(b: Buffer, o: number): string {
  const w: string[] = [];
  for (let i = 0; i < 16; i += 2) w.push(b.readUInt16BE(o + i).toString(16));
  return w.join(':');
}

/** The uncompressed text form this reader gives an IPv6 address (for comparisons). */
export function ip6Text(a: Uint8Array): string {
  return v6(Buffer.from(a), 0);
}

function ip(b: Buffer, o: number, end: number, i: number, t: number): Frame {
  const f: Frame = {
    i,
    t,
    v: 4,
    src: '',
    dst: '',
    proto: 0,
    ttl: 0,
    df: false,
    ipId: 0,
    sport: 0,
    dport: 0,
    flags: 0,
    win: 0,
    seq: 0,
    ack: 0,
    opts: '',
    pay: 0,
    payAt: 0,
    inner: null,
  };
  let l4: number;
  if ((b[o] as number) >> 4 === 4) {
    f.proto = b[o + 9] as number;
    f.ttl = b[o + 8] as number;
    f.df = ((b[o + 6] as number) & 0x40) !== 0;
    f.ipId = b.readUInt16BE(o + 4);
    f.src = v4(b, o + 12);
    f.dst = v4(b, o + 16);
    l4 = o + ((b[o] as number) & 15) * 4;
    end = Math.min(end, o + b.readUInt16BE(o + 2));
  } else {
    f.v = 6;
    f.proto = b[o + 6] as number;
    f.ttl = b[o + 7] as number;
    f.src = v6(b, o + 8);
    f.dst = v6(b, o + 24);
    l4 = o + 40;
  }
  if (f.proto === 6) {
    f.sport = b.readUInt16BE(l4);
    f.dport = b.readUInt16BE(l4 + 2);
    f.seq = b.readUInt32BE(l4 + 4);
    f.ack = b.readUInt32BE(l4 + 8);
    const hl = ((b[l4 + 12] as number) >> 4) * 4;
    f.flags = b[l4 + 13] as number;
    f.win = b.readUInt16BE(l4 + 14);
    f.opts = b.subarray(l4 + 20, l4 + hl).toString('hex');
    f.payAt = l4 + hl;
  } else if (f.proto === 17) {
    f.sport = b.readUInt16BE(l4);
    f.dport = b.readUInt16BE(l4 + 2);
    f.payAt = l4 + 8;
  } else {
    f.payAt = l4;
    if (f.proto === 47 && b.readUInt16BE(l4 + 2) === 0x0800) f.inner = ip(b, l4 + 4, end, i, t);
  }
  f.pay = end - f.payAt;
  return f;
}

export interface Capture {
  buf: Buffer;
  frames: Frame[];
}

export function readFrames(file: string): Capture {
  const b = readFileSync(file);
  const nano = b.readUInt32LE(0) === 0xa1b23c4d;
  const frames: Frame[] = [];
  let o = 24;
  while (o + 16 <= b.length) {
    const sec = b.readUInt32LE(o);
    const frac = b.readUInt32LE(o + 4);
    const cap = b.readUInt32LE(o + 8);
    const at = o + 16;
    o = at + cap;
    const t = (sec - EPOCH_SEC) * 1e9 + (nano ? frac : frac * 1000);
    const et = b.readUInt16BE(at + 12);
    if (et !== 0x0800 && et !== 0x86dd) throw new Error(`frame ${frames.length}: ethertype ${et.toString(16)}`);
    frames.push(ip(b, at + 14, o, frames.length, t));
  }
  return { buf: b, frames };
}
