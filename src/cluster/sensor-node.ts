/**
 * A monitor as a sensor of the multi-node mode: what it sees goes onto the bus (DESIGN.md "Events
 * between nodes") — each second's summary with its detector window (summary-message.ts) on
 * `palisade.<site>.<node>.summary`, each alert event on `.alert` and the attack it carries on
 * `.attack`. Every message has an id made of what it is (node, second; alert, kind, revision), so a
 * resend after a NATS outage or a restart is dropped by JetStream's de-duplication, not stored
 * twice. Publishing never blocks the monitor: the bus queues, and spools while NATS is away.
 */
import type { SecondSummary } from '../analyze/monitor.js';
import type { AlertEvent } from '../incidents/alerts.js';
import type { Bus } from './bus.js';
import { subject } from './subjects.js';
import { sensorSummary, summaryMsgId } from './summary-message.js';

export interface SensorNodeOptions {
  bus: Bus;
  site: string;
  node: string;
  /** wall clock, ms */
  now: () => number;
}

export class SensorNode {
  private rows: { second: number; bytes: Uint8Array } | null = null;
  private readonly summarySubject: string;
  private readonly alertSubject: string;
  private readonly attackSubject: string;
  /** per alert: events published so far (the revision in the message id) */
  private readonly revisions = new Map<string, number>();

  constructor(private readonly o: SensorNodeOptions) {
    this.summarySubject = subject(o.site, o.node, 'summary');
    this.alertSubject = subject(o.site, o.node, 'alert');
    this.attackSubject = subject(o.site, o.node, 'attack');
  }

  /** The detector's window of a second, kept until that second's summary goes out. */
  readonly onWindowRows = (second: number, rows: Uint8Array): void => {
    this.rows = { second, bytes: rows };
  };

  readonly onSecond = (s: SecondSummary): void => {
    const rows = this.rows !== null && this.rows.second === s.second ? this.rows.bytes : null;
    this.rows = null;
    this.o.bus.publish(this.summarySubject, summaryMsgId(this.o.node, s.second), sensorSummary(this.o.site, this.o.node, s, rows, this.o.now()));
  };

  readonly onEvent = (e: AlertEvent): void => {
    const id = e.alert.id;
    const rev = (this.revisions.get(id) ?? 0) + 1;
    if (e.kind === 'end') this.revisions.delete(id);
    else this.revisions.set(id, rev);
    const msgId = `${this.o.node}:alert:${id}:${rev}`;
    const from = { site: this.o.site, node: this.o.node, role: 'sensor' };
    this.o.bus.publish(this.alertSubject, msgId, { v: 1, from, kind: e.kind, significant: e.significant, change: e.change, alert: e.alert });
    if (e.significant) this.o.bus.publish(this.attackSubject, `${this.o.node}:attack:${id}:${rev}`, { v: 1, from, kind: e.kind, attack: e.alert.attack });
  };
}
