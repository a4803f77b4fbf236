/**
 * The audit trail of live L7 protection: every decision — a mitigation installed, updated or
 * released, one only suggested (`mode: suggest`), one refused by a safety limit, an attack left
 * without one — as an event with its time, the attack, the rules or list entries, the measured
 * figures and the mode. Kept in a bounded in-memory log (the admin API shows it) and written as
 * one JSON line each to a sink (stderr by default, a file, or nothing).
 */
import { appendFileSync } from 'node:fs';

export type DecisionKind = 'install' | 'update' | 'release' | 'suggest' | 'refused' | 'unmitigated';

/** One rule, rate limit or list as installed (or suggested). */
export interface LiveRuleContent {
  id: string;
  type: 'custom_rule' | 'rate_limit' | 'list';
  expression?: string;
  action?: string;
  ratelimit?: { characteristics: string[]; period: number; requests_per_period: number; mitigation_timeout: number; counting_expression?: string };
  /** A list's addresses and prefixes (all of them: the list is bounded by max_list_size). */
  entries?: string[];
}

export interface LiveDecision {
  /** 1, 2, … in the order taken. */
  seq: number;
  time: string;
  mode: 'auto' | 'suggest';
  kind: DecisionKind;
  /** In suggest mode: what auto would have done. */
  would?: 'install' | 'update' | 'release';
  attack: {
    id: string;
    vector: string;
    host: string;
    start: string;
    detected_at: string;
    /** When the attack was last seen (its last class request; a flood's last firing window). */
    last_active: string;
    /** The attack's class requests so far (detector), and its attributed sources (measured). */
    requests: number;
    sources: number;
  };
  /** What is installed (install, update), removed (release), suggested or refused. */
  rules: LiveRuleContent[];
  /** Signature figures, measured over the buffer of recent requests (an estimate, see `on`). */
  measured: {
    signature: 'fields' | 'source_list' | 'none';
    expression: string;
    coverage: number;
    collateral: number;
    /** The field signature's figures whichever was chosen. */
    field_expression: string;
    field_coverage: number;
    field_collateral: number;
    on: string;
  } | null;
  /** Why, in words (which limit refused, why released, what was left out). */
  reason: string;
  /** Addresses or prefixes left out of a list because an allow list holds them. */
  allow_listed?: string[];
  /** Entries left out of a list by max_list_size. */
  truncated?: number;
}

export type DecisionSink = (line: string) => void;

/** The sink `edge.live.log` names: stderr, off (none), or a file appended to. */
export function decisionSink(target: string): DecisionSink | null {
  if (target === 'off') return null;
  if (target === 'stderr') return (line) => process.stderr.write(line);
  // Decisions are rare (a few per attack): a synchronous append keeps them in order and on disk.
  return (line) => appendFileSync(target, line);
}

export class DecisionLog {
  private readonly kept: LiveDecision[] = [];
  private seq = 0;
  /** Decisions dropped from memory (still in the sink). */
  dropped = 0;
  /** Called with each decision after it is logged (the cluster's edge node publishes them). */
  onPush: ((d: LiveDecision) => void) | null = null;

  constructor(
    private readonly max: number,
    private readonly sink: DecisionSink | null,
  ) {}

  push(d: Omit<LiveDecision, 'seq'>): LiveDecision {
    const full = { seq: ++this.seq, ...d } as LiveDecision;
    this.kept.push(full);
    if (this.kept.length > this.max) {
      this.kept.shift();
      this.dropped++;
    }
    if (this.sink !== null) {
      try {
        this.sink(`${JSON.stringify({ event: 'live_l7_decision', ...full })}\n`);
      } catch {
        // A sink that fails (disk full) must not stop protection; the memory log still has it.
      }
    }
    try {
      this.onPush?.(full);
    } catch {
      // Nor a follower that fails (the bus never throws; a bug must not stop protection either).
    }
    return full;
  }

  list(): LiveDecision[] {
    return this.kept.slice();
  }
}
