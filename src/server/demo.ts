/**
 * `palisade serve --demo`: live traffic with attacks for a newcomer's first look. A small
 * generated capture (the generator's `demo` scenario: benign traffic, a spoofed SYN flood from
 * 8 s, a DNS amplification from 14 s) is moved to start now and replayed at its own pace, looping,
 * through the monitor's own pipeline (analyze/monitor.ts, the replay source of `palisade monitor
 * --replay`), which writes alerts, incidents and per-second summaries into the server's store.
 *
 * Mitigation is suggest-only: the incidents show what would be applied, and the nftables
 * enforcement point is given a command runner that refuses, so nothing on this machine changes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { runStoredMonitor } from '../analyze/monitor-run.js';
import { generate, truthPath } from '../generate/generator.js';
import { NftEnforcer } from '../incidents/enforce/nft.js';
import type { Store } from '../incidents/store/store.js';
import { type PaceClock, pacedCapture } from '../sources/capture/paced.js';
import type { Recording } from './recording.js';

export interface DemoOptions {
  store: Store;
  /** The sensor name the demo's summaries and alerts carry (default `demo`). */
  sensor?: string;
  /** Packets in the generated capture (default 20000: about 30 s, a few hundred to a thousand packets/s). */
  packets?: number;
  /** Problems of the replay (a store write that failed): stderr by default. */
  log?: (line: string) => void;
  /** Wall clock, ms (default Date.now). */
  now?: () => number;
}

export interface Demo {
  /** The temporary directory holding the capture (removed by stop). */
  dir: string;
  /** The capture being replayed and its ground truth, for what-if. */
  recording: Recording;
  /** Stops the replay, writes the last summaries, removes the directory. */
  stop(): Promise<void>;
}

/**
 * Moves every record of a classic pcap by `deltaSec` seconds, in place (or into `to`). The
 * generator stamps its captures at a fixed date; the demo's traffic must look current (the console
 * shows the last minutes). `speed` also brings the records `speed` times closer together from the
 * first one (the serve bench: a replay at its own pace that is that many times the rate, its
 * capture time following the clock). Returns the first and last record times after the move (ms).
 */
export function shiftPcap(path: string, deltaSec: number, opts: { speed?: number; to?: string } = {}): { firstMs: number; lastMs: number } {
  const speed = opts.speed ?? 1;
  const buf = readFileSync(path);
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const nano = (le ? magic : buf.readUInt32BE(0)) === 0xa1b23c4d;
  const unit = nano ? 1e9 : 1e6;
  const u32 = (at: number) => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const w32 = (at: number, v: number) => (le ? buf.writeUInt32LE(v >>> 0, at) : buf.writeUInt32BE(v >>> 0, at));
  let firstMs = Number.NaN;
  let lastMs = Number.NaN;
  let sec0 = -1;
  let frac0 = 0;
  for (let at = 24; at + 16 <= buf.length; at += 16 + u32(at + 8)) {
    let sec = u32(at);
    let frac = u32(at + 4);
    if (sec0 < 0) {
      sec0 = sec;
      frac0 = frac;
    }
    if (speed !== 1) {
      // the offset from the first record, in whole ticks (exact integers), `speed` times shorter
      const ticks = frac0 + Math.round(((sec - sec0) * unit + (frac - frac0)) / speed);
      sec = sec0 + Math.floor(ticks / unit);
      frac = ticks % unit;
      w32(at + 4, frac);
    }
    sec += deltaSec;
    w32(at, sec);
    lastMs = sec * 1000 + frac / (unit / 1000);
    if (Number.isNaN(firstMs)) firstMs = lastMs;
  }
  writeFileSync(opts.to ?? path, buf);
  return { firstMs, lastMs };
}

/**
 * The capture-time ranges (ms, in the file's own times) that the last `minutes` of a looping
 * replay played: the whole file once that covers a round, else the stretch before the replay's
 * position in its round (two stretches when it wraps past the round's start).
 */
export function loopWindow(firstMs: number, periodMs: number, playedMs: number, minutes: number): Array<[number, number]> {
  const span = minutes * 60_000;
  if (Number.isNaN(playedMs)) return [];
  if (span >= periodMs || playedMs - firstMs < 0) return [[firstMs, firstMs + periodMs]];
  const elapsed = playedMs - firstMs;
  const pos = firstMs + (elapsed % periodMs);
  if (elapsed < span) return [[firstMs, pos]];
  if (pos - span >= firstMs) return [[pos - span, pos]];
  return [
    [firstMs, pos],
    [firstMs + periodMs - (span - (pos - firstMs)), firstMs + periodMs],
  ];
}

export async function startDemo(o: DemoOptions): Promise<Demo> {
  const now = o.now ?? Date.now;
  const log = o.log ?? ((l: string) => void process.stderr.write(`${l}\n`));
  const sensor = o.sensor ?? 'demo';
  const dir = mkdtempSync(join(tmpdir(), 'palisade-demo-'));
  const capture = join(dir, 'demo.pcap');
  let stream: Readable | undefined;
  try {
    generate('demo', capture, { packets: o.packets ?? 20_000, seed: 1 });
    const first = shiftPcap(capture, 0);
    // start a second from now: the replay's first records are due at once, not in the past
    const moved = shiftPcap(capture, Math.ceil(now() / 1000) + 1 - Math.floor(first.firstMs / 1000));
    // the pacer plays the next round a whole second after this one's last record
    const periodMs = (Math.ceil((moved.lastMs - moved.firstMs) / 1000) + 1) * 1000;
    const pace: { current: PaceClock | null } = { current: null };
    stream = pacedCapture(capture, { speed: 1, loops: Number.POSITIVE_INFINITY }, pace);
    const recording: Recording = {
      file: capture,
      truth: truthPath(capture),
      describe: 'the demo replay (the generated capture, looping): the records of its rounds played in the last N minutes',
      window: (minutes) => loopWindow(moved.firstMs, periodMs, pace.current?.captureMs(now()) ?? Number.NaN, minutes),
    };
    const refuse = async () => ({ code: 1, stdout: '', stderr: 'palisade serve --demo runs no commands' });
    const abort = new AbortController();
    const replay = stream;
    // suggest-only: the nftables point is there to word the suggestions, its runner refuses to run anything
    const run = runStoredMonitor({
      store: o.store,
      stream: replay,
      name: capture,
      pace,
      detection: {},
      services: [],
      sensor,
      now,
      drain: false,
      signal: abort.signal,
      enforcers: [new NftEnforcer({}, refuse)],
      policy: { mode: 'suggest' },
      actor: 'palisade-demo',
      log: (l) => log(`palisade serve --demo: ${l}`),
    }).catch((e: Error) => {
      if (!abort.signal.aborted) log(`palisade serve --demo: the replay stopped: ${e.message}`);
    });
    let stopped: Promise<void> | null = null;
    return {
      dir,
      recording,
      stop: () => {
        stopped ??= (async () => {
          abort.abort();
          replay.destroy();
          await run;
          rmSync(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (e) {
    stream?.destroy();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
