/**
 * For the alerts and incidents CLI tests: run a command line in this process through the CLI's
 * own entry (main: the exit code a user would get, the message on stderr) with stdout and stderr
 * captured, and a store seeded through the Store API on each backend the store suite uses.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** One command line, in process; process.exitCode is left as it was found (the test runner reads it). */
export async function cli(args: string[]): Promise<CliResult> {
  const out = process.stdout.write;
  const err = process.stderr.write;
  let stdout = '';
  let stderr = '';
  // Only text is the command's: the test runner reports to its parent through stdout in binary
  // (while a PostgreSQL query is awaited, too), and that must still go through.
  process.stdout.write = ((s: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof s !== 'string') return (out as (...a: unknown[]) => boolean).call(process.stdout, s, ...rest);
    stdout += s;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof s !== 'string') return (err as (...a: unknown[]) => boolean).call(process.stderr, s, ...rest);
    stderr += s;
    return true;
  }) as typeof process.stderr.write;
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.exitCode = saved;
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

const ROOT = resolve(import.meta.dirname, '../..');

/** The real CLI in a child process (from source, as test/helpers/run-cli.ts runs it). */
export function cliProcess(args: string[]): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The lines of a table's body whose text includes `needle`, in printed order. */
export function rowsWith(text: string, needle: string): string[] {
  return text.split('\n').filter((l) => l.includes(needle));
}
