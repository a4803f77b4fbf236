/**
 * The UDP collector as a Source of flow records (DESIGN.md "Source"), so detection, what-if and
 * reports can take live flow export as they take a capture: read once (not replayable, no
 * location another thread could open), timed by the wall clock, each FlowView carrying its own
 * weight (sampling rate). `read` resolves when the collector stops: its count or duration, or
 * `stop()`.
 */
import type { Clock } from '../../core/clock.js';
import type { FlowView } from '../flow/record-view.js';
import type { Source, SourceInfo, SourceReadOptions } from '../source.js';
import { formatListen } from './address.js';
import { type CollectorOptions, type CollectorSnapshot, FlowCollector, type StopReason } from './collector.js';

export interface FlowListenInfo extends SourceInfo {
  /** The collector's final counters: listeners, exporters, loss. */
  collector: CollectorSnapshot;
}

export interface FlowListenSource extends Source<FlowView, FlowListenInfo> {
  /** Stop a read in progress (it then resolves with the final counters). */
  stop(reason?: StopReason): void;
}

const wallClock: Clock = { nowMs: () => Date.now() };

export function flowListenSource(opts: Omit<CollectorOptions, 'onFlow'>): FlowListenSource {
  let collector: FlowCollector | null = null;
  let consumed = false;
  return {
    kind: 'flow',
    name: opts.listen.map((a) => `${a.kind}@${formatListen(a.host, a.port)}`).join(','),
    weight: 1,
    clock: wallClock,
    replayable: false,
    location: null,
    async read(onRecord: (r: FlowView) => void, _ropts?: SourceReadOptions): Promise<FlowListenInfo> {
      if (consumed) throw new Error('a UDP listener is read once: keep what the first pass needs');
      consumed = true;
      const c = new FlowCollector({ ...opts, onFlow: onRecord });
      collector = c;
      await c.start();
      const final = await c.done;
      return { records: final.records, error: null, collector: final };
    },
    stop(reason: StopReason = 'closed'): void {
      collector?.stop(reason);
    },
  };
}
