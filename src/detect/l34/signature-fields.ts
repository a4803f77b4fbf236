/**
 * The signature search's candidate fields: the packet scheme's fields with `caps.signature`, in
 * rank order, each read from the reservoir-sample column (sample.ts) that holds it. The catalogue
 * says which fields are candidates and how they may be used; this table only says where the
 * sample keeps each one (a test checks every candidate has a column).
 */
import { packetScheme } from '../../scheme/packet.js';
import { fieldsWith } from '../../scheme/types.js';
import type { VictimSample } from './sample.js';

/** A field's value in sample row r, NaN when the packet has no such field. */
export type SampleColumn = (s: VictimSample, r: number) => number;

const isTcp = (s: VictimSample, r: number) => s.l4[r] === 6;
/** A TCP row whose header was seen (a flow record carries no window or header length). */
const tcpHdr = (s: VictimSample, r: number) => s.l4[r] === 6 && s.noHdr[r] === 0;
const isUdp = (s: VictimSample, r: number) => s.l4[r] === 17;

/** Packet-scheme field name → its value in a sample row. */
export const SAMPLE_COLUMNS: Readonly<Record<string, SampleColumn>> = {
  'tcp.dstport': (s, r) => (isTcp(s, r) ? (s.dport[r] as number) : Number.NaN),
  'udp.dstport': (s, r) => (isUdp(s, r) ? (s.dport[r] as number) : Number.NaN),
  'udp.srcport': (s, r) => (isUdp(s, r) ? (s.sport[r] as number) : Number.NaN),
  'tcp.srcport': (s, r) => (isTcp(s, r) ? (s.sport[r] as number) : Number.NaN),
  'tcp.window': (s, r) => (tcpHdr(s, r) ? (s.win[r] as number) : Number.NaN),
  'tcp.hdr_len': (s, r) => (tcpHdr(s, r) ? (s.tcpHdr[r] as number) : Number.NaN),
  'tcp.flags': (s, r) => (isTcp(s, r) ? (s.flags[r] as number) : Number.NaN),
  'udp.len': (s, r) => (isUdp(s, r) ? (s.udpLen[r] as number) : Number.NaN),
  'ip.ttl': (s, r) => (s.noHdr[r] === 0 ? (s.ttl[r] as number) : Number.NaN),
  'ip.len': (s, r) => s.ipLen[r] as number,
  'ip.proto.num': (s, r) => s.proto[r] as number,
  'icmp.type': (s, r) => (s.l4[r] === 1 || s.l4[r] === 58 ? (s.icmpType[r] as number) : Number.NaN),
  /** IPv4 sources only (a handful of sources is named only for IPv4 victims). */
  'ip.src': (s, r) => s.src4[r] as number,
};

/** One field the search may constrain. */
export interface SearchField {
  name: string;
  /** Value of the field in sample row r, NaN when the field is missing for that packet. */
  get: SampleColumn;
  /** Natural domain (a range covering it is no constraint). */
  min: number;
  max: number;
  hex?: boolean;
  /** Only as a single-value or small-set constraint. */
  setOnly?: boolean;
}

/** The scheme's signature candidates without a sample column (should be none: a test says so). */
export function candidatesWithoutColumn(): string[] {
  return fieldsWith(packetScheme, 'signature')
    .map((f) => f.name)
    .filter((n) => SAMPLE_COLUMNS[n] === undefined);
}

/** The candidates, in rank order (on equal gain the search keeps the first). */
export const SEARCH_FIELDS: readonly SearchField[] = fieldsWith(packetScheme, 'signature')
  .filter((f) => SAMPLE_COLUMNS[f.name] !== undefined)
  .sort((a, b) => a.caps.signature.rank - b.caps.signature.rank)
  .map((f): SearchField => {
    const sig = f.caps.signature;
    const field: SearchField = { name: f.name, get: SAMPLE_COLUMNS[f.name] as SampleColumn, min: sig.min, max: sig.max };
    if (sig.hex) field.hex = true;
    if (sig.setOnly) field.setOnly = true;
    return field;
  });

/** A candidate by name (the search's class constraints and free narrowing name theirs). */
export function searchField(name: string): SearchField {
  const f = SEARCH_FIELDS.find((x) => x.name === name);
  if (!f) throw new Error(`signature search: ${name} is not a signature candidate of the packet scheme`);
  return f;
}
