/** Worker entry for thread.ts: detect the attacks of one capture file and post them back. */
import { parentPort, workerData } from 'node:worker_threads';
import type { DetectOptions } from './detector.js';
import { detectFile } from './thread.js';

const { path, opts } = workerData as { path: string; opts: DetectOptions | undefined };
try {
  parentPort?.postMessage({ attacks: await detectFile(path, opts) });
} catch (e) {
  const err = e as Error & { code?: string };
  parentPort?.postMessage({ error: { message: err.message, name: err.name, code: err.code } });
}
