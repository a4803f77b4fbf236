/**
 * The monitor with its store: monitorTraffic (monitor.ts) wired to what keeps its work — the
 * incident recorder (alerts, tickets and timelines, open ones resumed on start), the notification
 * dispatcher (the outbox the recorder fills), the per-second summaries the console charts,
 * retention, and the mitigator over the enforcement points given. `palisade monitor` runs it with
 * the inputs of its flags; `palisade serve` runs it in its own process on the inputs it is given
 * (--demo: the generated replay). Printing and process signals stay with the caller.
 */
import type { NotificationsSection } from '../config/notifications.js';
import type { AlertEvent } from '../incidents/alerts.js';
import type { TimelineEntry } from '../incidents/desk.js';
import type { Enforcer } from '../incidents/enforce/enforcer.js';
import { DEFAULT_POLICY, type MitigationPolicy, Mitigator } from '../incidents/mitigator.js';
import { Dispatcher } from '../incidents/notify/dispatcher.js';
import { IncidentRecorder } from '../incidents/recorder.js';
import type { PruneResult, Store } from '../incidents/store/store.js';
import { type MonitorOptions, type MonitorResult, monitorTraffic, type SecondSummary } from './monitor.js';
import { SummaryWriter } from './summary-writer.js';

export interface StoredMonitorOptions extends Omit<MonitorOptions, 'onEvent' | 'onSecond' | 'mitigator' | 'onAction' | 'now'> {
  /** Where alerts, incidents and summaries go; null: nowhere (print only). */
  store: Store | null;
  /** Notification targets and routes (palisade.yaml); none: nothing is sent. */
  notifications?: NotificationsSection;
  /** Enforcement points; none: no mitigation at all. */
  enforcers?: readonly Enforcer[];
  /** The mitigation policy (mode suggest or auto, hold, limits): DEFAULT_POLICY's where unset. */
  policy?: Partial<MitigationPolicy>;
  /** Who mitigations are by on the timeline (default palisade-monitor). */
  actor?: string;
  /** Delete closed incidents and summaries older than this (ms), hourly; absent: keep everything. */
  retentionMs?: number;
  /** Wall clock, ms (default Date.now). */
  now?: () => number;
  /** Problems worth a line (a store write that failed, a notification target that refuses). */
  log: (line: string) => void;
  /** Each alert event once stored: the incident number and whether it was opened by it. */
  onEvent?: (e: AlertEvent, incident: number, created: boolean) => void | Promise<void>;
  /** Each mitigation decision or outcome once stored, with its incident. */
  onAction?: (entry: TimelineEntry, incident: number, failed: boolean) => void | Promise<void>;
  /** Multi-node: what the sensor publishes (cluster/sensor-node.ts): each second, its detector window and each alert event. */
  publish?: { onSecond: (s: SecondSummary) => void; onWindowRows: (second: number, rows: Uint8Array) => void; onEvent: (e: AlertEvent) => void };
  /** Open incidents taken up again from the store on start. */
  onResumed?: (count: number) => void;
  /** A retention round that deleted something: the store's counts and the sent notifications removed. */
  onPruned?: (r: PruneResult, sentNotifications: number) => void;
}

export async function runStoredMonitor(o: StoredMonitorOptions): Promise<MonitorResult> {
  const now = o.now ?? Date.now;
  // what monitorTraffic takes as it is; the rest is this function's
  const {
    store,
    publish,
    notifications: _n,
    enforcers: _e,
    policy: _p,
    actor: _a,
    retentionMs: _r,
    log: _l,
    onEvent: _oe,
    onAction: _oa,
    onResumed: _or,
    onPruned: _op,
    ...traffic
  } = o;
  const routes = o.notifications?.routes ?? [];
  const targets = o.notifications?.targets ?? new Map();
  const recorder = store === null ? null : new IncidentRecorder(store, { sensor: o.sensor, now, routes });
  // notifications go out from the outbox the recorder fills, in this process (a restart picks up what is left)
  const dispatcher = store === null || targets.size === 0 ? null : new Dispatcher(store, targets, { owner: `${o.sensor}:${process.pid}`, source: o.sensor, log: o.log });
  // per-second traffic for charts, written once a second off the packet path (the console reads it live)
  const summaries = store === null ? null : new SummaryWriter(store, o.sensor, o.log);
  // retention: the store must not grow for ever on a monitor that runs for months
  const prune = async (): Promise<void> => {
    if (store === null || o.retentionMs === undefined) return;
    const cutoff = now() - o.retentionMs;
    try {
      const r = await store.prune({ incidentsBefore: new Date(cutoff).toISOString(), summariesBefore: Math.floor(cutoff / 1000) });
      const sent = await store.pruneOutbox(new Date(cutoff).toISOString());
      if (r.incidents.length + r.summaries + sent > 0) o.onPruned?.(r, sent);
    } catch (e) {
      o.log(`retention: ${(e as Error).message}`);
    }
  };
  const enforcers = o.enforcers ?? [];
  const mitigator = enforcers.length === 0 ? undefined : new Mitigator({ ...DEFAULT_POLICY, ...o.policy }, enforcers, now, o.actor);
  dispatcher?.start(1000);
  summaries?.start();
  const pruneTimer = o.retentionMs === undefined ? null : setInterval(() => void prune(), 3_600_000);
  pruneTimer?.unref();
  try {
    await prune();
    if (recorder !== null) {
      const resumed = await recorder.resume();
      if (resumed > 0) o.onResumed?.(resumed);
    }
    return await monitorTraffic({
      ...traffic,
      now,
      onEvent: async (e, p) => {
        // published before it is stored: a sensor whose store is down still tells the correlator
        publish?.onEvent(e);
        let incident = p.incident.number;
        let created = p.created;
        if (recorder !== null) {
          const r = await recorder.record(e);
          incident = r.incident;
          created = r.created;
        }
        await o.onEvent?.(e, incident, created);
      },
      ...((summaries !== null || publish !== undefined) && {
        onSecond: (s: SecondSummary) => {
          summaries?.add(s);
          publish?.onSecond(s);
        },
      }),
      ...(publish !== undefined && { onWindowRows: publish.onWindowRows }),
      ...(mitigator !== undefined && {
        mitigator,
        onAction: async (desk: number, entry: TimelineEntry, failed: boolean, alertId: string) => {
          let incident = desk;
          if (recorder !== null) {
            const m = mitigator.states().find((x) => x.id === entry.data?.mitigation);
            const stored = await recorder.action(alertId, entry, failed, m ? { id: m.id, state: m.state, hits: m.hits.packets } : null);
            if (stored !== null) incident = stored;
          }
          await o.onAction?.(entry, incident, failed);
        },
      }),
    });
  } finally {
    if (pruneTimer !== null) clearInterval(pruneTimer);
    await summaries?.stop();
    await dispatcher?.stop();
    await dispatcher?.runOnce().catch(() => 0);
  }
}
