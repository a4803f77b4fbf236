/**
 * A Source is whatever yields records (DESIGN.md "Source"): packets from a capture file, stdin or
 * a live interface today; flow records and HTTP requests next. Detection, what-if and reports take
 * a Source, never a path, so a file, a replay and a live stream go through the same code.
 *
 * Records are pushed to a callback rather than yielded by an async iterator: the packet record is
 * one reused PacketView, and a callback per record costs nothing where an iterator step would
 * allocate a promise per packet.
 */
import type { Clock } from '../core/clock.js';

export type RecordKind = 'packet' | 'flow' | 'http';

/** What a pass over a source read; kinds add their own figures (CaptureInfo for packets). */
export interface SourceInfo {
  /** Records read. */
  records: number;
  /** Set when reading stopped early because the input is damaged. */
  error: string | null;
}

export interface SourceReadOptions {
  /** Called after each chunk: bytes consumed so far and the total when known. */
  onProgress?: (done: number, total?: number) => void;
}

export interface Source<R, Info extends SourceInfo = SourceInfo, Opts extends SourceReadOptions = SourceReadOptions> {
  readonly kind: RecordKind;
  /** For messages and reports: a file name, `-` for stdin, an interface or a listening address. */
  readonly name: string;
  /** Each record stands for `weight` records on the wire: 1 for a full capture, the sampling rate for sampled flows. */
  readonly weight: number;
  /** The source's time: the records' own timestamps for files and replays, the wall clock live. */
  readonly clock: Clock;
  /**
   * True when `read` may be called again and sees the same records (a file); false for a stream
   * read once (stdin, a live interface, a UDP collector).
   */
  readonly replayable: boolean;
  /**
   * What another thread needs to open the same records itself (a file path), or null when the
   * records cannot be re-read elsewhere (stdin, live).
   */
  readonly location: string | null;
  /**
   * True when records come fully decoded whatever the read options ask (packet views made from
   * flow records, sources/flow-packets.ts): a reader that decodes raw bytes itself must not.
   */
  readonly decoded?: boolean;
  /** One pass over the records, in order. Resolves when the source ends (never, for a live source, until closed). */
  read(onRecord: (r: R) => void, opts?: Opts): Promise<Info>;
}
