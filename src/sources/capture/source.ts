/**
 * Packet sources over capture files and stdin: the Source (sources/source.ts) that the analyzer,
 * detection, what-if and reports read, built on readCapture.
 */
import type { Clock } from '../../core/clock.js';
import { PacketView } from '../../decode/view.js';
import type { Source, SourceInfo } from '../source.js';
import { type CaptureInfo, type ReadOptions, readCapture } from './capture.js';

export type PacketInfo = CaptureInfo & SourceInfo;
export type PacketSource = Source<PacketView, PacketInfo, ReadOptions>;

/**
 * The time of the latest record read: the source's one PacketView holds it, so reading the clock
 * costs nothing per packet (no call on the hot path to keep it current).
 */
class CaptureClock implements Clock {
  constructor(private readonly view: PacketView) {}
  nowMs(): number {
    return this.view.tsSec * 1000 + Math.floor(this.view.tsNsec / 1e6);
  }
}

/** A capture file (pcap/pcapng, gzip or not), or `-` for stdin (read once). */
export function captureSource(path: string): PacketSource {
  const view = new PacketView();
  const clock = new CaptureClock(view);
  const stdin = path === '-';
  let consumed = false;
  return {
    kind: 'packet',
    name: path,
    weight: 1,
    clock,
    replayable: !stdin,
    location: stdin ? null : path,
    async read(onRecord, opts) {
      if (stdin && consumed) throw new Error('stdin can be read once; keep what the first pass needs');
      consumed = true;
      const info = await readCapture(path, onRecord, { ...opts, view });
      return { ...info, records: info.packets };
    },
  };
}

/** Library entry points take a Source or, for convenience, a capture path made into one here. */
export function asPacketSource(input: string | PacketSource): PacketSource {
  return typeof input === 'string' ? captureSource(input) : input;
}
