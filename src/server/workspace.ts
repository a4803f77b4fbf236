/**
 * What `palisade serve` hands its API beyond the store: the ruleset file the rule editor reads
 * and replaces, and the recorded traffic what-if runs over (ServerOptions.workspace).
 */
import type { Recording } from './recording.js';

export interface Workspace {
  /** The ruleset file (`palisade mitigate -r` format); list files it names are beside it. */
  rulesFile: string;
  /** The traffic what-if reads; null: none (what-if answers 409). */
  recording: Recording | null;
}
