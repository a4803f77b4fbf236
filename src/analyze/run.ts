/** analyzeCapture: read a capture through the decoders into an Analyzer and the L3/L4 detector (library entry point). */
import { statSync } from 'node:fs';
import { buildAttacks } from '../detect/attacks.js';
import { type DetectOptions, Detector } from '../detect/detector.js';
import { startDetection } from '../detect/thread.js';
import type { Analysis } from '../model/analysis.js';
import { readCapture } from '../sources/capture/capture.js';
import { Analyzer } from './analyzer.js';

export interface AnalyzeOptions {
  top?: number;
  onProgress?: (done: number, total?: number) => void;
  /** Run attack detection (default true). */
  detect?: boolean;
  detection?: DetectOptions;
  /**
   * Detect on a second thread that reads the file itself: true, false, or (default) for files of
   * PARALLEL_MIN_BYTES and more, where it pays for the thread's start-up. stdin is always read
   * once, on this thread. The attacks are the same either way.
   */
  parallel?: boolean;
}

/** Below this size a capture is analysed in well under a second; a second thread would not pay. */
const PARALLEL_MIN_BYTES = 16 * 1024 * 1024;

function wantsThread(path: string, parallel: boolean | undefined): boolean {
  if (path === '-' || parallel === false) return false;
  if (parallel === true) return true;
  try {
    return statSync(path).size >= PARALLEL_MIN_BYTES;
  } catch {
    return false; // the reader reports why the file cannot be read
  }
}

export async function analyzeCapture(path: string, opts: AnalyzeOptions = {}): Promise<Analysis> {
  const analyzer = new Analyzer({ top: opts.top ?? 10 });
  if (opts.detect === false) {
    const info = await readCapture(path, (v) => analyzer.add(v), { onProgress: opts.onProgress });
    return analyzer.result(info);
  }
  if (wantsThread(path, opts.parallel)) {
    const job = startDetection(path, opts.detection);
    let analysis: Analysis;
    try {
      analysis = analyzer.result(await readCapture(path, (v) => analyzer.add(v), { onProgress: opts.onProgress }));
    } catch (e) {
      job.cancel();
      throw e;
    }
    analysis.attacks = await job.finish();
    return analysis;
  }
  // stdin cannot be read twice: fix signatures at the first detection window and measure live.
  const detector = new Detector(path === '-' ? { ...opts.detection, lockWindows: 1 } : opts.detection);
  const info = await readCapture(
    path,
    (v) => {
      analyzer.add(v);
      detector.add(v);
    },
    { onProgress: opts.onProgress },
  );
  const analysis = analyzer.result(info);
  // Signatures are measured by a second read of the file; stdin cannot be read twice.
  analysis.attacks = await buildAttacks(detector, { path: path === '-' ? null : path, totalPackets: info.packets });
  return analysis;
}
