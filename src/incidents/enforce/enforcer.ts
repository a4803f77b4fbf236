/**
 * An enforcement point the monitor's mitigator drives: nftables in a kernel (nft.ts), Flowspec
 * routes announced to BGP peers, the edge proxy's runtime rules. Each takes a mitigation's
 * one-rule ruleset (export/mitigation.ts's buildMitigation), says what it would load and why it
 * cannot, loads it under the mitigation's id, counts what it caught, and removes it.
 */

/** L3/4 points take packet signatures; L7 points take request signatures. */
export type EnforcerLayer = 'l34' | 'l7';

export interface EnforcerOutcome {
  ok: boolean;
  /** what was run or sent, for the audit trail */
  command: string;
  error?: string;
}

export interface Enforcer {
  /** Its name in timelines and mitigation records: nftables, flowspec, edge. */
  readonly target: string;
  readonly layer: EnforcerLayer;
  /** What it would load for this ruleset (the text of a suggestion), or why it cannot express it. */
  script(id: string, ruleset: object): { text: string; problems: string[] };
  /** Loads it (replacing an earlier load of the same id). */
  apply(id: string, script: string): Promise<EnforcerOutcome>;
  /** Takes it away; taking away what is not there is success. */
  remove(id: string): Promise<EnforcerOutcome>;
  /** What it caught so far (packets and bytes; requests for the edge), null when unknown. */
  hits(id: string): Promise<{ packets: number; bytes: number } | null>;
}
