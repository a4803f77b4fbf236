/**
 * Detection on a second thread. `palisade analyze FILE` has two independent jobs over the same
 * packets: the traffic summary (Analyzer) and attack detection (Detector, then the signature
 * measurement pass). For a file, which can be read twice, the detector runs in a worker that
 * reads and decodes the file itself, so on a machine with two cores the two jobs overlap and
 * detection costs little of analyze's wall time. Decoding twice is cheaper than shipping decoded
 * packets between threads (a structured clone per packet would cost more than the decode).
 *
 * The worker opens the source's `location` itself and runs the code the single-thread path runs
 * (detectSource), so the attacks are identical
 * either way; stdin, which can be read only once, always takes the single-thread path. One piece
 * of work moves: a signature's catch-up pass (the packets before it was fixed, re-read from the
 * start of the file) is final once the signature is fixed, so the worker sends each fixed
 * signature to the main thread, which runs those passes once its own pass is over and sends the
 * counts back to be added (DetectionJob.finish). Protocol, worker → main: { lock } per fixed
 * signature, then { attacks } or { error }; main → worker: one { caught } after its pass.
 */
import { Worker } from 'node:worker_threads';
import type { PacketSource } from '../../sources/capture/source.js';
import { buildAttacks, type Detection } from './attacks.js';
import { catchUpMeasurements } from './catch-up.js';
import { type DetectOptions, Detector } from './detector.js';
import { type MeasureCounts, type MeasuredTrack, Measurement } from './measurement.js';
import type { Track } from './track.js';

/** A fixed signature, as the detection thread sends it: enough to run its catch-up pass elsewhere. */
export interface LockedSignature {
  id: number;
  expression: string;
  /** The source-list alternative's measured expression, when there is one. */
  listExpression?: string;
  classes: number[];
  base: number;
  fam: 4 | 6;
  addr: Uint8Array;
  isPrefix: boolean;
  prefixLen: number;
  lockSec: number;
  activeWins: number[];
}

/** The main thread's answer: the catch-up counts it took, by track id. */
export type Caught = Array<{ id: number; counts: MeasureCounts; list?: MeasureCounts }>;

/** Catch-up counts of one track: its field signature's and, when it has one, its source list's. */
export interface CaughtCounts {
  counts: MeasureCounts;
  list?: MeasureCounts;
}

/** How the detection thread hands catch-up work to the main thread (absent: it does it all). */
export interface Handoff {
  /** A signature was fixed during the pass. */
  locked(sig: LockedSignature): void;
  /** The catch-up counts the main thread took, by track id (awaited after the pass). */
  caught(): Promise<Map<number, CaughtCounts>>;
}

/**
 * Read a source and return its attacks (what the worker runs). A source that cannot be read again
 * gets no catch-up pass: its signatures should be fixed early (DetectOptions.lockWindows).
 */
export async function detectSource(source: PacketSource, opts: DetectOptions | undefined, handoff?: Handoff): Promise<Detection[]> {
  const detector = new Detector(opts);
  if (handoff) {
    detector.onLock = (tr: Track) => {
      const m = tr.measurement as Measurement<Track>;
      const lock: LockedSignature = {
        id: tr.id,
        expression: m.expression,
        classes: m.classes,
        base: m.base,
        fam: tr.fam,
        addr: tr.addr,
        isPrefix: tr.isPrefix,
        prefixLen: tr.prefixLen,
        lockSec: tr.lockSec,
        activeWins: [...tr.activeWins],
      };
      if (tr.listMeasurement) lock.listExpression = tr.listMeasurement.expression;
      handoff.locked(lock);
    };
  }
  // Classification and signatures use no TCP application data or QUIC: not decoded here.
  const info = await source.read((v) => detector.add(v), { streamApps: false });
  return buildAttacks(detector, { replay: source.replayable ? source : null, totalPackets: info.packets, caughtUp: handoff?.caught });
}

/**
 * The catch-up pass of signatures fixed on the detection thread, run here while that thread is
 * still reading: the main thread is free once its own pass is over.
 */
async function catchUpLocked(source: PacketSource, locked: LockedSignature[]): Promise<Caught> {
  if (locked.length === 0) return [];
  const ms = locked.map((l) => {
    const tr: MeasuredTrack = { fam: l.fam, addr: l.addr, isPrefix: l.isPrefix, prefixLen: l.prefixLen, lockSec: l.lockSec, activeWins: new Set(l.activeWins) };
    return {
      id: l.id,
      m: new Measurement(tr, l.expression, l.classes, l.base),
      list: l.listExpression === undefined ? null : new Measurement(tr, l.listExpression, l.classes, l.base),
    };
  });
  // Every signature of one capture shares the detector's base second.
  await catchUpMeasurements(
    source,
    ms.flatMap((x) => (x.list ? [x.m, x.list] : [x.m])),
    (locked[0] as LockedSignature).base,
  );
  return ms.map((x) => (x.list ? { id: x.id, counts: x.m.counts(), list: x.list.counts() } : { id: x.id, counts: x.m.counts() }));
}

export interface DetectionJob {
  /**
   * Call once this thread's own pass over the file is done: takes over the catch-up of the
   * signatures fixed so far, then resolves with the attacks (or rejects with the worker's error).
   */
  finish(): Promise<Detection[]>;
  /** Stop the worker (the caller failed and no longer needs the result). */
  cancel(): void;
  /** Signatures whose catch-up this thread took over (after finish(); for tests and benches). */
  readonly caughtHere: number;
  /** Signatures fixed so far whose catch-up this thread would take over (delivered while it awaits). */
  readonly pending: number;
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

/**
 * Start detecting the attacks of a source on a worker thread, which opens the source's location
 * itself. The source must have a location and be replayable (the catch-up pass here reads it).
 */
export function startDetection(source: PacketSource, opts: DetectOptions | undefined): DetectionJob {
  const location = source.location;
  if (location === null || !source.replayable) throw new Error(`detection thread: ${source.name} cannot be opened by another thread`);
  const worker = new Worker(workerEntry(), { workerData: { location, opts } });
  const locked: LockedSignature[] = [];
  let settled = false;
  let caughtHere = 0;
  const result = new Promise<Detection[]>((resolve, reject) => {
    worker.on('message', (m: { lock?: LockedSignature; attacks?: Detection[]; error?: { message: string; name: string; code?: string } }) => {
      if (m.lock) {
        locked.push(m.lock);
        return;
      }
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
  return {
    async finish() {
      // The lock messages sent while this thread was busy are delivered on the next turns.
      for (let k = 0; k < 2; k++) await new Promise((r) => setImmediate(r));
      const mine = locked.splice(0);
      let caught: Caught = [];
      try {
        caught = await catchUpLocked(source, mine);
      } catch {
        caught = []; // the detection thread measures them itself (and reports any read error)
      }
      if (!settled) worker.postMessage({ caught });
      caughtHere = caught.length;
      return result;
    },
    cancel: () => void worker.terminate(),
    get caughtHere() {
      return caughtHere;
    },
    get pending() {
      return locked.length;
    },
  };
}
