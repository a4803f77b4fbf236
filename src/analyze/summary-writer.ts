/**
 * The monitor's per-second summaries on their way to the store: taken off the packet path as they
 * come (monitorTraffic's onSecond) and written in one batch a second, so the console's overview,
 * which reads the store once a second, is at most about two seconds behind the traffic. A write
 * that fails is reported and the rows are dropped (charts only; alerts and incidents go their own
 * way); the last rows are written by stop().
 */
import type { Store, Summary } from '../incidents/store/store.js';
import type { SecondSummary } from './monitor.js';

export const SUMMARY_FLUSH_MS = 1000;

/** A store's row for a monitor's second. */
export function summaryRow(sensor: string, x: SecondSummary): Summary {
  return {
    sensor,
    second: x.second,
    packets: x.packets,
    bytes: x.bytes,
    requests: x.requests,
    by_protocol: x.byProtocol,
    by_vector: x.byVector,
    by_victim: x.byVictim,
    traffic_by_vector: x.trafficByVector,
  };
}

export class SummaryWriter {
  private readonly pending: SecondSummary[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly store: Store,
    private readonly sensor: string,
    private readonly log: (line: string) => void,
    private readonly everyMs = SUMMARY_FLUSH_MS,
  ) {}

  /** A second closed by the monitor (cheap: kept until the next flush). */
  readonly add = (s: SecondSummary): void => {
    this.pending.push(s);
  };

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.everyMs);
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const rows = this.pending.splice(0).map((x) => summaryRow(this.sensor, x));
    await this.store.writeSummaries(rows).catch((e: Error) => this.log(`per-second summaries not stored: ${e.message}`));
  }

  /** Stop the timer and write what is left. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
