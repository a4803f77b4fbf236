/**
 * analyzeCapture: read a packet source through the decoders into an Analyzer and the L3/L4
 * detector, then attach each attack's mitigation (library entry point).
 */
import { statSync } from 'node:fs';
import { buildAttacks, type Detection } from '../detect/l34/attacks.js';
import { type DetectOptions, Detector } from '../detect/l34/detector.js';
import { startDetection } from '../detect/l34/thread.js';
import type { Analysis } from '../model/analysis.js';
import { asPacketSource, type PacketSource } from '../sources/capture/source.js';
import { type FlowDecoderOptions, flowDatagrams, lostCounts } from '../sources/flow/index.js';
import { flowPacketSource } from '../sources/flow-packets.js';
import { Analyzer } from './analyzer.js';
import { CaptureL7, type CaptureL7Options } from './capture-l7.js';
import { withMitigation } from './mitigation.js';

export interface AnalyzeOptions {
  top?: number;
  onProgress?: (done: number, total?: number) => void;
  /** Run attack detection (default true). */
  detect?: boolean;
  detection?: DetectOptions;
  /**
   * Detect on a second thread that reads the source itself: true, false, or (default) for files of
   * PARALLEL_MIN_BYTES and more, where it pays for the thread's start-up. A source that cannot be
   * read twice (stdin) is always read once, on this thread. The attacks are the same either way.
   */
  parallel?: boolean;
  /** L7 detection on the HTTP/1.x requests of the capture (default on; false turns it off). */
  l7?: CaptureL7Options | false;
}

/** Below this size a capture is analysed in well under a second; a second thread would not pay. */
const PARALLEL_MIN_BYTES = 16 * 1024 * 1024;

function wantsThread(source: PacketSource, parallel: boolean | undefined): boolean {
  if (source.location === null || !source.replayable || parallel === false) return false;
  if (parallel === true) return true;
  try {
    return statSync(source.location).size >= PARALLEL_MIN_BYTES;
  } catch {
    return false; // the reader reports why the file cannot be read
  }
}

/** A capture path (`-`: stdin) or a packet source. */
export async function analyzeCapture(input: string | PacketSource, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const source = asPacketSource(input);
  const analyzer = new Analyzer({ top: opts.top ?? 10 });
  if (opts.detect === false) {
    const info = await source.read((v) => analyzer.add(v), { onProgress: opts.onProgress });
    return analyzer.result(info);
  }
  let detections: Detection[];
  let analysis: Analysis;
  // HTTP requests followed through the capture's connections, for L7 detection (capture-l7.ts).
  const l7 = opts.l7 === false ? null : new CaptureL7(!source.replayable, opts.l7);
  if (wantsThread(source, opts.parallel)) {
    const job = startDetection(source, opts.detection);
    try {
      analysis = analyzer.result(
        await source.read(
          (v) => {
            analyzer.add(v);
            l7?.add(v);
          },
          { onProgress: opts.onProgress },
        ),
      );
    } catch (e) {
      job.cancel();
      throw e;
    }
    detections = await job.finish();
  } else {
    // A source read once (stdin): fix signatures at the first detection window and measure live.
    const detector = new Detector(source.replayable ? opts.detection : { ...opts.detection, lockWindows: 1 });
    const info = await source.read(
      (v) => {
        analyzer.add(v);
        detector.add(v);
        l7?.add(v);
      },
      { onProgress: opts.onProgress },
    );
    analysis = analyzer.result(info);
    // Signatures are measured by a second read of the source, when it can be read again.
    detections = await buildAttacks(detector, { replay: source.replayable ? source : null, totalPackets: info.packets });
  }
  analysis.attacks = detections.map(withMitigation);
  if (l7 !== null) {
    // The capture's last packet time (its ISO text may carry nanoseconds, which Date.parse does not read).
    const end = analysis.capture.end === null ? 0 : Date.parse(analysis.capture.end.replace(/(\.\d{3})\d*Z$/, '$1Z'));
    analysis.attacks.push(...(await l7.finish(end, source.replayable ? source : null)));
    const h = l7.stats;
    analysis.capture.http_requests = {
      requests: h.requests,
      incomplete: h.incomplete,
      answered: h.answered,
      connections: h.connections,
      evicted: h.evicted,
      cut: h.cut,
      gaps: h.gaps,
      unconfirmed: h.unconfirmed,
      pipeline_overflow: h.pipelineOverflow,
    };
  }
  return analysis;
}

/**
 * A capture of flow export (NetFlow v5/v9, IPFIX, sFlow v5 datagrams, as `tcpdump -w` keeps them on
 * a collector): the same summary and detection over the packets its records stand for
 * (sources/flow-packets.ts), with what the flow decoder counted in `capture.flows`.
 */
export async function analyzeFlowCapture(path: string, opts: AnalyzeOptions & { flows?: FlowDecoderOptions } = {}): Promise<Analysis> {
  const source = flowPacketSource(path, opts.flows);
  // Flow records and sampled headers are no byte stream: there are no HTTP requests to follow.
  const analysis = await analyzeCapture(source, { ...opts, parallel: false, l7: false });
  // The flow figures of the pass (the analysis itself took the packet-shaped part).
  const i = source.flowInfo;
  if (i !== null) {
    const f = i.flows;
    analysis.capture.flows = {
      datagrams: flowDatagrams(f),
      not_flow: f.notFlow,
      records: { ...i.kinds },
      options_records: f.optionsRecords,
      counter_samples: f.counterSamples,
      lost: { ...lostCounts(f), sflow_drops: f.sflowDrops },
      malformed: f.malformedDatagrams + f.malformedTemplates + f.malformedSets + f.malformedRecords + f.malformedSamples,
      held_dropped: f.pendingDropped,
      views: i.views,
    };
    // NetFlow and IPFIX records carry no payload: say so on every verdict drawn from them.
    const headerless = i.kinds.netflow5 + i.kinds.netflow9 + i.kinds.ipfix > 0;
    if (headerless) for (const a of analysis.attacks) a.evidence.without_payload = true;
  }
  return analysis;
}
