/**
 * Access logs as a Source of HTTP records (sources/source.ts): one file, several merged in time
 * order, or stdin (`-`, read once). The record is the reader's reused HttpLogView; the format
 * chosen (given or detected) is on the source once a pass has read the first lines.
 */
import type { Clock } from '../../core/clock.js';
import type { Source, SourceReadOptions } from '../source.js';
import { type AccessLogInfo, type AccessLogOptions, readAccessLog } from './reader.js';
import type { HttpLogView } from './view.js';

export interface AccessLogReadOptions extends SourceReadOptions {
  signal?: AbortSignal;
}

export interface AccessLogSource extends Source<HttpLogView, AccessLogInfo, AccessLogReadOptions> {
  /** The format of each input after a pass (`combined`, `cloudflare`, ...), and whether it was detected. */
  readonly formats: readonly string[];
  readonly detected: boolean;
}

/** The time of the latest record read. */
class LogClock implements Clock {
  ms = 0;
  nowMs(): number {
    return this.ms;
  }
}

export function accessLogSource(inputs: string | readonly string[], opts: AccessLogOptions = {}): AccessLogSource {
  const paths = typeof inputs === 'string' ? [inputs] : [...inputs];
  const stdin = paths.includes('-');
  const clock = new LogClock();
  let consumed = false;
  let formats: string[] = [];
  let detected = opts.format === undefined;
  return {
    kind: 'http',
    name: paths.join(','),
    weight: 1,
    clock,
    replayable: !stdin,
    location: paths.length === 1 && !stdin ? paths[0] : null,
    get formats() {
      return formats;
    },
    get detected() {
      return detected;
    },
    async read(onRecord, ropts) {
      if (stdin && consumed) throw new Error('stdin can be read once; keep what the first pass needs');
      consumed = true;
      const info = await readAccessLog(
        paths,
        (v) => {
          if (!Number.isNaN(v.timeMs)) clock.ms = v.timeMs;
          onRecord(v);
        },
        { ...opts, signal: ropts?.signal ?? opts.signal, onProgress: ropts?.onProgress ?? opts.onProgress },
      );
      formats = info.files.map((f) => f.format);
      detected = info.detected;
      return info;
    },
  };
}
