/** Worker entry for thread.ts: open the source at a location, detect its attacks and post them back. */
import { parentPort, workerData } from 'node:worker_threads';
import { captureSource } from '../../sources/capture/source.js';
import type { DetectOptions } from './detector.js';
import { type Caught, detectSource, type Handoff } from './thread.js';

const { location, opts } = workerData as { location: string; opts: DetectOptions | undefined };
const port = parentPort;
const handoff: Handoff | undefined = port
  ? {
      locked: (lock) => port.postMessage({ lock }),
      // The main thread answers once its own pass is over (messages wait in the port till then).
      caught: () =>
        new Promise((resolve) => {
          port.once('message', (m: { caught: Caught }) => resolve(new Map(m.caught.map((c) => [c.id, c.list ? { counts: c.counts, list: c.list } : { counts: c.counts }]))));
        }),
    }
  : undefined;
try {
  port?.postMessage({ attacks: await detectSource(captureSource(location), opts, handoff) });
} catch (e) {
  const err = e as Error & { code?: string };
  port?.postMessage({ error: { message: err.message, name: err.name, code: err.code } });
}
