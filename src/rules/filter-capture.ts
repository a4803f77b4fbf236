/**
 * Run packet-scheme rules over a capture in one pass: count the matches of each expression and,
 * for one expression, hand matching packets to a sink (the pcap writer of `palisade filter -w`).
 * The per-packet work is the decoders plus the compiled predicates; nothing else allocates.
 */
import type { PacketView } from '../decode/view.js';
import { packetScheme } from '../scheme/packet.js';
import type { CaptureInfo } from '../sources/capture/capture.js';
import { asPacketSource, type PacketSource } from '../sources/capture/source.js';
import { type CompileOptions, compile } from './compile.js';
import { matchStep } from './match-pass.js';

export interface FilterResult {
  /** Matches per expression, in the order given. */
  counts: number[];
  info: CaptureInfo;
}

/** Compiles every expression first (a RulesError stops before reading), then reads the source (or the capture at a path) once. */
export async function filterCapture(capture: string | PacketSource, exprs: string[], opts: CompileOptions & { onMatch?: (v: PacketView) => void } = {}): Promise<FilterResult> {
  const preds = exprs.map((e) => compile(e, packetScheme, opts));
  const onMatch = opts.onMatch;
  const counts = new Float64Array(preds.length);
  const step = matchStep(
    preds,
    onMatch
      ? (i, v) => {
          counts[i]++;
          onMatch(v);
        }
      : (i) => {
          counts[i]++;
        },
  );
  const info = await asPacketSource(capture).read(step);
  return { counts: Array.from(counts), info };
}
