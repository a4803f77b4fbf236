/**
 * Detection on a second thread. `palisade analyze FILE` has two independent jobs over the same
 * packets: the traffic summary (Analyzer) and attack detection (Detector, then the signature
 * measurement pass). For a file, which can be read twice, the detector runs in a worker that
 * reads and decodes the file itself, so on a machine with two cores the two jobs overlap and
 * detection costs little of analyze's wall time. Decoding twice is cheaper than shipping decoded
 * packets between threads (a structured clone per packet would cost more than the decode).
 *
 * The worker runs exactly the code the single-thread path runs (detectFile), so the attacks are
 * identical either way; stdin, which can be read only once, always takes the single-thread path.
 */
import { Worker } from 'node:worker_threads';
import { readCapture } from '../sources/capture.js';
import { buildAttacks } from './attacks.js';
import { type DetectOptions, Detector } from './detector.js';
import type { Attack } from './types.js';

/** Read a capture file and return its attacks (what the worker runs). */
export async function detectFile(path: string, opts: DetectOptions | undefined): Promise<Attack[]> {
  const detector = new Detector(opts);
  // Classification and signatures use no TCP application data or QUIC: not decoded here.
  const info = await readCapture(path, (v) => detector.add(v), { streamApps: false });
  return buildAttacks(detector, { path, totalPackets: info.packets });
}

export interface DetectionJob {
  /** Resolves with the attacks, or rejects with the worker's error. */
  result: Promise<Attack[]>;
  /** Stop the worker (the caller failed and no longer needs the result). */
  cancel(): void;
}

/**
 * The worker's entry module. Under tsx (the tests run the .ts sources) a worker does not inherit
 * tsx's loader, so a small ESM entry registers it first and then imports the .ts entry.
 */
function workerEntry(): URL {
  const self = import.meta.url;
  if (!self.endsWith('.ts')) return new URL('./thread-main.js', self);
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./thread-main.ts', self).href;
  const code = `const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** Start detecting the attacks of a capture file on a worker thread. */
export function startDetection(path: string, opts: DetectOptions | undefined): DetectionJob {
  const worker = new Worker(workerEntry(), { workerData: { path, opts } });
  const result = new Promise<Attack[]>((resolve, reject) => {
    let settled = false;
    worker.once('message', (m: { attacks?: Attack[]; error?: { message: string; name: string; code?: string } }) => {
      settled = true;
      if (m.attacks) resolve(m.attacks);
      else reject(Object.assign(new Error(m.error?.message ?? 'detection failed'), { name: m.error?.name ?? 'Error', code: m.error?.code }));
    });
    worker.once('error', (e) => {
      settled = true;
      reject(e);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`detection thread exited with code ${code} before its result`));
    });
  });
  // The caller may never await a cancelled job; keep its rejection from being unhandled.
  result.catch(() => {});
  return { result, cancel: () => void worker.terminate() };
}
