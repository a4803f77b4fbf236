/**
 * Test helper for the application decoders: transport payloads of real captures, extracted by
 * tshark (an independent dissector) together with tshark's own field values for the same
 * frames, and a fresh PacketView whose buf is just the payload.
 */
import { join } from 'node:path';
import { decodeApp } from '../../src/decode/app.js';
import { PacketView } from '../../src/decode/view.js';
import { CORPUS, tsharkFields } from '../helpers/tshark.js';

export interface Sample {
  file: string;
  frame: number;
  proto: 6 | 17;
  sport: number;
  dport: number;
  tcpFlags: number;
  bytes: Uint8Array;
  /** tshark's values of the requested fields (first occurrence), '' when absent. */
  fields: string[];
}

const BASE = ['frame.number', 'udp.srcport', 'udp.dstport', 'udp.payload', 'tcp.srcport', 'tcp.dstport', 'tcp.flags', 'tcp.payload'];

/**
 * Frames of `file` (relative to the corpus) matching the display filter that carry a UDP or TCP
 * payload. Reassembly is off: like our decoder, tshark then looks at each frame on its own.
 */
export function samples(file: string, filter: string, fields: string[] = []): Sample[] {
  const path = join(CORPUS, file);
  const rows = tsharkFields(path, [...BASE, ...fields], ['-Y', filter], 'f');
  const out: Sample[] = [];
  for (const c of rows) {
    const udp = (c[3] ?? '') !== '';
    const hex = udp ? (c[3] as string) : (c[7] ?? '');
    if (hex === '') continue;
    out.push({
      file,
      frame: Number(c[0]),
      proto: udp ? 17 : 6,
      sport: Number(udp ? c[1] : c[4]),
      dport: Number(udp ? c[2] : c[5]),
      tcpFlags: udp ? 0 : Number.parseInt(c[6] ?? '0', 16),
      bytes: new Uint8Array(Buffer.from(hex.replaceAll(':', ''), 'hex')),
      fields: c.slice(BASE.length).map((x) => x ?? ''),
    });
  }
  return out;
}

/** Run decodeApp on the payload as the TCP/UDP decoders would. */
export function decode(s: { proto: number; sport: number; dport: number; tcpFlags: number; bytes: Uint8Array }, v = new PacketView()): PacketView {
  v.resetL4();
  v.buf = s.bytes;
  v.srcPort = s.sport;
  v.dstPort = s.dport;
  v.tcpFlags = s.tcpFlags;
  decodeApp(v, s.proto, 0, s.bytes.length);
  return v;
}

/** Bytes from a template: strings are latin1, numbers are bytes, arrays are nested. */
export function bytes(...parts: (string | number | number[] | Uint8Array)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') for (let i = 0; i < p.length; i++) out.push(p.charCodeAt(i) & 0xff);
    else if (typeof p === 'number') out.push(p & 0xff);
    else out.push(...p);
  }
  return new Uint8Array(out);
}
