/**
 * For the alerts and incidents CLI tests: run a command line in this process through the CLI's
 * own entry (main: the exit code a user would get, the message on stderr) with stdout and stderr
 * captured, and a store seeded through the Store API on each backend the store suite uses.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, type TestContext, it as test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { openStore } from '../../src/incidents/store/open.js';
import type { Store } from '../../src/incidents/store/store.js';
import type { TestBackend, TestDb } from '../incidents/store/backends.js';

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

/**
 * A CLI suite's store on one backend: made and seeded before the suite's tests (a failure fails
 * each test with its message rather than the hook, so both backends' suites still report), closed
 * and dropped after. Call inside `describe`; `it` and `run` (a command line against this store) are
 * the suite's; `store` and `db` are set once the seeding ran.
 */
export function seededStore(backend: TestBackend, seed: (store: Store) => Promise<void>) {
  const s = {
    store: undefined as unknown as Store,
    db: undefined as unknown as TestDb,
    it(name: string, fn: (t: TestContext) => Promise<void>): void {
      test(name, async (t) => {
        if (setupError !== null) throw setupError;
        await fn(t);
      });
    },
    run: (...args: string[]): Promise<CliResult> => cli([...args, '--db', s.db.spec]),
  };
  let setupError: unknown = null;
  before(async () => {
    try {
      s.db = await backend.create();
      s.store = await openStore(s.db.spec);
      await seed(s.store);
    } catch (err) {
      setupError = err;
    }
  });
  after(async () => {
    await s.store?.close();
    await s.db?.drop();
  });
  return s;
}
