/** Shared shape of the capture-file record parsers (pcap.ts, pcapng.ts). */

/** Largest record we accept (libpcap's MAXIMUM_SNAPLEN is 262144). */
export const MAX_RECORD = 262_144;

export interface RecordParser {
  readonly format: 'pcap' | 'pcapng';
  readonly linkTypes: number[];
  /** A reason the stream cannot be parsed further, or null. */
  fatal: string | null;
  /** Emit every complete record in [start, end); return the offset of the first incomplete one. */
  parse(buf: Uint8Array, start: number, end: number): number;
  /** ReadOptions.prefilter: records it refuses are skipped before the view is filled. */
  prefilter: Prefilter | null;
}

/** A look at a record's frame bytes before anything else is done with it (true: go on). */
export type Prefilter = (buf: Uint8Array, frameOff: number, caplen: number, linkType: number, tsSec: number) => boolean;

/** Counters the parsers and decoders fill; capture.ts turns them into CaptureInfo. */
export class ParserStats {
  /** Bytes handed to the parser and consumed so far (for error offsets and progress). */
  consumed = 0;
  /** Records whose header was unusable (file-level damage). */
  malformed = 0;
  /** Records that claim more bytes than the file holds (cut-off file). */
  truncatedRecords = 0;
  /** Records whose caplen exceeds the file's snaplen (tolerated, decoded, reported). */
  caplenOverSnaplen = 0;
  /** pcapng blocks of types we do not use (skipped by design). */
  skippedBlocks = 0;
}
