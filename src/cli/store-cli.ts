/**
 * What `palisade alerts` and `palisade incidents` share: the `--db` and `--json` flags, opening
 * the store for one command (and closing it whatever happens), times given as ISO or as an age
 * (`30m`), comma-separated choices, the "no such alert" answer (exit 1) and plain tables.
 */

import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import pc from 'picocolors';
import { PalisadeError, UsageError } from '../core/errors.js';
import { textTable } from '../core/text-table.js';
import { DEFAULT_DB, openStore, parseStoreSpec } from '../incidents/store/open.js';
import type { Store } from '../incidents/store/store.js';
import type { Severity } from '../model/alert.js';

export interface StoreOpts {
  db: string;
  json?: boolean;
}

/** Adds `--db` and `--json` to a subcommand (each subcommand has its own, so they go after it). */
export function storeOptions(cmd: Command): Command {
  return cmd
    .option('--db <file|url>', `the alert store: a SQLite file or postgres://user@host/db[?schema=NAME]`, DEFAULT_DB)
    .option('--json', 'print the records as JSON (schema/alert.schema.json, schema/incident.schema.json) instead of text');
}

/**
 * Opens the store the flag names, runs fn, closes it. A SQLite file that does not exist is E_INPUT
 * (exit 3) rather than a new empty database: a mistyped path would otherwise show an empty queue.
 */
export async function withStore<T>(spec: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const parsed = parseStoreSpec(spec);
  if (parsed.backend === 'sqlite' && !existsSync(parsed.file)) {
    throw new PalisadeError('E_INPUT', `no alert store at ${parsed.file} (palisade monitor --db ${parsed.file} creates it; give another with --db)`);
  }
  const store = await openStore(spec);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `30m`, `2h`, `1d`, `1w` in milliseconds; null when the text is not a duration. */
export function durationMs(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/.exec(text.trim());
  if (m === null) return null;
  const ms = Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return ms > 0 && Number.isFinite(ms) ? ms : null;
}

/** A commander argParser for a duration flag (`--for 2h`): milliseconds, or a usage error. */
export function durationOption(flag: string): (text: string) => number {
  return (text) => {
    const ms = durationMs(text);
    if (ms === null) throw new UsageError(`${flag} takes a duration such as 90s, 30m, 2h, 1d or 1w, not "${text}"`);
    return ms;
  };
}

/** A commander argParser for `--since`: an ISO-8601 time, or an age (`30m` ago), as ISO-8601 UTC. */
export function sinceOption(now: () => number = Date.now): (text: string) => string {
  return (text) => {
    const ms = durationMs(text);
    if (ms !== null) return new Date(now() - ms).toISOString();
    const t = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(t)) throw new UsageError(`--since takes an ISO-8601 time (2026-12-06T05:00:00Z) or an age (30m, 2h, 1d), not "${text}"`);
    return new Date(t).toISOString();
  };
}

/** A commander argParser for a filter that takes one or more of a closed set (`--state open,acknowledged`, repeatable). */
export function choicesOption<T extends string>(flag: string, allowed: readonly T[]): (text: string, prev: T[] | undefined) => T[] {
  return (text, prev) => {
    const out = [...(prev ?? [])];
    for (const v of text.split(',').map((s) => s.trim())) {
      if (!(allowed as readonly string[]).includes(v)) throw new UsageError(`${flag} takes ${allowed.join(', ')} (comma-separated or repeated), not "${v}"`);
      out.push(v as T);
    }
    return out;
  };
}

/** The person acting: --by, else the login name of this user. */
export function actor(by: string | undefined): string {
  if (by !== undefined && by.trim() !== '') return by.trim();
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** The named alert or incident does not exist: a message on stderr and exit 1 (not an input error: the store was read). */
export function notFound(message: string): void {
  process.stderr.write(`palisade: ${message}\n`);
  process.exitCode = 1;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A table (core/text-table.ts) ending with a newline. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return `${textTable(head, rows)}\n`;
}

/** `2026-12-06T05:00:02.000Z` → `2026-12-06 05:00:02` (UTC, as the store keeps it). */
export function timeText(isoTime: string | null | undefined): string {
  if (!isoTime) return '-';
  return isoTime.replace('T', ' ').replace(/(\.\d+)?Z$/, '');
}

const SEVERITY_COLOUR: Record<Severity, (s: string) => string> = {
  critical: (s) => pc.bold(pc.red(s)),
  high: pc.red,
  medium: pc.yellow,
  low: pc.cyan,
  info: pc.dim,
};

/** The severity word, coloured when the output is a terminal. */
export function severityText(s: Severity, colour: boolean): string {
  return colour ? SEVERITY_COLOUR[s](s) : s;
}
