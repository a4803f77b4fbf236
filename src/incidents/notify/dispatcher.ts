/**
 * Delivers the outbox (store: notifications queued with the changes that caused them): claims
 * due items under a lease, sends each to its target, and records the outcome — delivered (never
 * sent again), failed and worth retrying (again after a backoff that doubles up to a ceiling:
 * a receiver that is down delays notifications, never loses them), or failed for good (a 4xx:
 * kept as dead, with the error, for a person to see). Several dispatchers (a restarted monitor,
 * two processes) share the outbox safely: a claimed item is another's only after its lease.
 * A crash between sending and recording sends the item again later with the same idempotency
 * key, so the receiver sees the event once.
 */
import type { Target } from '../../config/notifications.js';
import type { OutboxItem, Store } from '../store/store.js';
import { sendEmail } from './email.js';
import type { NotifyEvent } from './event.js';
import { type SendOutcome, sendHttp } from './send.js';

export type { Target };

export interface DispatcherOptions {
  /** this dispatcher's name in leases (unique per process) */
  owner: string;
  now?: () => number;
  /** the sensor name PagerDuty shows as the source */
  source?: string;
  batch?: number;
  leaseMs?: number;
  /** first retry after this, doubling per attempt (default 2 s) */
  baseBackoffMs?: number;
  /** retries at most this far apart (default 5 min) */
  maxBackoffMs?: number;
  log?: (line: string) => void;
}

export interface DispatchStats {
  delivered: number;
  retried: number;
  dead: number;
}

export class Dispatcher {
  readonly stats: DispatchStats = { delivered: 0, retried: 0, dead: 0 };
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly now: () => number;

  constructor(
    private readonly store: Store,
    private readonly targets: ReadonlyMap<string, Target>,
    private readonly o: DispatcherOptions,
  ) {
    this.now = o.now ?? Date.now;
  }

  /** One round: claims what is due and delivers it. Returns how many items it handled. */
  async runOnce(): Promise<number> {
    const items = await this.store.claimOutbox(this.o.owner, this.o.batch ?? 50, this.o.leaseMs ?? 60_000, new Date(this.now()).toISOString());
    for (const item of items) await this.deliver(item);
    return items.length;
  }

  private async deliver(item: OutboxItem): Promise<void> {
    const t = this.targets.get(item.target);
    let r: SendOutcome | null;
    if (t === undefined) r = { ok: false, retry: false, status: 0, error: `no notification target named ${item.target}` };
    else if (t.kind === 'email') r = await sendEmail(t, item.payload as NotifyEvent);
    else r = await sendHttp(t, item.payload as NotifyEvent, this.o.source ?? 'palisade', this.now);
    const at = new Date(this.now()).toISOString();
    // null: nothing to send for this receiver (PagerDuty has no action for an attack's end)
    if (r === null || r.ok) {
      await this.store.markDelivered(item.id, this.o.owner, at);
      this.stats.delivered++;
      return;
    }
    if (!r.retry) {
      await this.store.markFailed(item.id, this.o.owner, r.error, null);
      this.stats.dead++;
      this.o.log?.(`notify: ${item.target}: giving up on ${item.key}: ${r.error}`);
      return;
    }
    const base = this.o.baseBackoffMs ?? 2000;
    const wait = Math.min(this.o.maxBackoffMs ?? 300_000, base * 2 ** Math.min(item.attempts, 20));
    const jitter = wait * (0.8 + 0.4 * Math.random());
    await this.store.markFailed(item.id, this.o.owner, r.error, new Date(this.now() + jitter).toISOString());
    this.stats.retried++;
    if (item.attempts === 0) this.o.log?.(`notify: ${item.target}: ${r.error}; retrying with backoff`);
  }

  /** Delivers every `intervalMs` until stopped (rounds never overlap). */
  start(intervalMs = 1000): void {
    if (this.timer !== null) return;
    const tick = (): void => {
      if (this.running !== null) return;
      this.running = this.runOnce()
        .then(
          () => undefined,
          (e: Error) => this.o.log?.(`notify: ${e.message}`),
        )
        .finally(() => {
          this.running = null;
        });
    };
    this.timer = setInterval(tick, intervalMs);
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
