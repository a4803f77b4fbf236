/**
 * Packet sources over capture files and stdin: the Source (sources/source.ts) that the analyzer,
 * detection, what-if and reports read, built on readCapture.
 */
import { RecordClock } from '../../core/clock.js';
import type { PacketView } from '../../decode/view.js';
import type { Source, SourceInfo } from '../source.js';
import { type CaptureInfo, type ReadOptions, readCapture } from './capture.js';

export type PacketInfo = CaptureInfo & SourceInfo;
export type PacketSource = Source<PacketView, PacketInfo, ReadOptions>;

/** A capture file (pcap/pcapng, gzip or not), or `-` for stdin (read once). */
export function captureSource(path: string): PacketSource {
  const clock = new RecordClock();
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
      const info = await readCapture(
        path,
        (v) => {
          clock.advance(v.tsSec, v.tsNsec);
          onRecord(v);
        },
        opts,
      );
      return { ...info, records: info.packets };
    },
  };
}
