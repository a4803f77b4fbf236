/**
 * Flow export inside a capture file: what `tcpdump -w` records on a collector. Every UDP datagram of
 * the capture goes to a FlowDecoder (which tells flow export from other traffic by port and
 * content); the records come out through the callbacks. Also the Source<FlowView> over such a file.
 */
import type { Clock } from '../../core/clock.js';
import type { PacketView } from '../../decode/view.js';
import { type CaptureInfo, readCapture } from '../capture/capture.js';
import type { Source, SourceInfo, SourceReadOptions } from '../source.js';
import { FlowDecoder, type FlowDecoderOptions } from './datagram.js';
import type { CounterView, FlowView } from './record-view.js';
import { FlowStats } from './stats.js';

export interface FlowCaptureInfo extends SourceInfo {
  capture: CaptureInfo;
  /** The decoder's counters at the end of the pass (a copy). */
  flows: FlowStats;
}

export interface FlowReadOptions extends SourceReadOptions {
  /** Called for each sFlow generic interface counter record. */
  onCounters?: (c: CounterView) => void;
  /** A decoder to use (its state carries over between calls); a new one with `decoder` options by default. */
  decoder?: FlowDecoder;
}

/** Feed one decoded capture packet's UDP payload, if it has one, to the decoder. */
export function feedPacket(dec: FlowDecoder, v: PacketView): void {
  if (v.l4Proto !== 17 || v.payloadOff < 0 || v.payloadLen <= 0) return;
  if (v.ipVersion === 6) dec.exporter.set6(v.buf, v.src6Off);
  else dec.exporter.set4(v.src4);
  dec.exporter.port = v.srcPort;
  // A datagram cut by the snap length or split by IP fragmentation: decode what arrived, say so.
  if (v.payloadLen < v.payloadWireLen || v.isFragment) dec.stats.truncatedDatagrams++;
  dec.decode(v.buf, v.payloadOff, v.payloadOff + v.payloadLen, v.dstPort, v.tsSec * 1000 + Math.floor(v.tsNsec / 1e6));
}

/** Read the flow export in a capture file (or `-` for stdin). */
export async function readFlowCapture(path: string, onFlow: (v: FlowView) => void, opts: FlowReadOptions & FlowDecoderOptions = {}): Promise<FlowCaptureInfo> {
  const dec = opts.decoder ?? new FlowDecoder(opts);
  dec.onFlow = onFlow;
  dec.onCounters = opts.onCounters ?? null;
  const before = dec.stats.flowRecords + dec.stats.flowSamples;
  // Application decoders have nothing to find in flow export: the UDP header is all we need.
  const capture = await readCapture(path, (v) => feedPacket(dec, v), { onProgress: opts.onProgress, streamApps: false });
  const flows = Object.assign(new FlowStats(), dec.stats);
  return { capture, flows, records: flows.flowRecords + flows.flowSamples - before, error: capture.error };
}

export type FlowSource = Source<FlowView, FlowCaptureInfo, FlowReadOptions>;

/** The time of the latest record read: the source's FlowView holds it. */
class FlowClock implements Clock {
  constructor(public view: FlowView) {}
  nowMs(): number {
    return this.view.endMs;
  }
}

/**
 * A capture of exported datagrams as a Source of flow records. Each FlowView carries its own
 * weight (samplingRate): the source's `weight` is 1 because one record may be sampled 1:1 and the
 * next 1:1000.
 */
export function flowCaptureSource(path: string, opts: FlowDecoderOptions = {}): FlowSource {
  const stdin = path === '-';
  let consumed = false;
  let dec = new FlowDecoder(opts);
  const clock = new FlowClock(dec.view);
  const source: FlowSource = {
    kind: 'flow',
    name: path,
    weight: 1,
    clock,
    replayable: !stdin,
    location: stdin ? null : path,
    async read(onRecord, ropts) {
      if (stdin && consumed) throw new Error('stdin can be read once; keep what the first pass needs');
      consumed = true;
      // Each pass starts with no templates, as a collector restarted on the same file would.
      dec = new FlowDecoder(opts);
      clock.view = dec.view;
      return readFlowCapture(path, onRecord, { ...ropts, decoder: dec });
    },
  };
  return source;
}
