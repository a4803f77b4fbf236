/** The rules API's answers as the editor reads them (src/server/rules-api.ts). */

export interface RuleView {
  id: string;
  description: string;
  expression: string;
  action: string;
  enabled: boolean;
  line?: number;
}

export interface RulesetProblem {
  line: number;
  column: number;
  message: string;
  start?: number;
  end?: number;
  /** A rule expression's error: the rule and the span inside its expression. */
  rule?: string;
  span?: { start: number; end: number };
}

export interface RulesFile {
  file: string;
  etag: string;
  text: string;
  rules: RuleView[];
  lists: { name: string; kind: string; file: string | null }[];
  problems: RulesetProblem[];
}

export interface Validation {
  ok: boolean;
  problems: RulesetProblem[];
  rules: RuleView[];
}

export interface Counter {
  packets: number;
  bytes: number;
}

export interface WhatIf {
  reads: string;
  minutes: number;
  window: { packets: number };
  labelled: { attack: number; other: number } | null;
  split: { id: string; attack: number | null; other: number | null }[];
  rules: { id: string; action: string; matched: Counter; dropped: Counter; passed: Counter; rate_limited: Counter }[];
}

export interface ExportNote {
  rule: string;
  span: { start: number; end: number } | null;
  reason: string;
}

export interface Exports {
  rules: string[];
  /** One disabled rule asked for: exported as it would be once enabled. */
  disabled?: true;
  targets: Record<string, { text: string; notes: ExportNote[] }>;
}

export interface Field {
  scheme: string;
  name: string;
  type: string;
  description: string;
}
