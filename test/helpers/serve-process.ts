/**
 * `palisade serve` as a child process for tests: started from the build (bin/palisade.js: what
 * the browser tests drive) or from source (through tsx: what the CLI tests run), resolved once it
 * prints where it listens, with what it printed; stopped by its PID (SIGTERM, then SIGKILL when it
 * hangs), never left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/palisade.js');
const SOURCE = resolve(import.meta.dirname, 'run-cli.ts');

export interface ServeProcess {
  child: ChildProcess;
  base: string;
  /** Its standard output up to the "listening" line (the demo's credentials are in it). */
  out: string;
  /** Its standard error so far. */
  err: () => string;
}

/** Starts `palisade serve ARGS` (give --listen) and resolves once it says where it listens. */
export function startServeProcess(args: readonly string[], o: { from?: 'build' | 'source'; waitMs?: number } = {}): Promise<ServeProcess> {
  const waitMs = o.waitMs ?? 30_000;
  const argv = o.from === 'source' ? ['--import', 'tsx', SOURCE, 'serve', ...args] : [BIN, 'serve', ...args];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      rej(new Error(`palisade serve said no "listening" line in ${waitMs / 1000} s: ${out} ${err}`));
    }, waitMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      rej(new Error(`palisade serve exited ${code}: ${out} ${err}`));
    };
    child.once('exit', onExit);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.off('exit', onExit);
        res({ child, base: m[1] as string, out, err: () => err });
      }
    });
  });
}

/** SIGTERM by PID, SIGKILL after `graceMs` if it has not gone; resolves with its exit code (null: killed by a signal, or already gone). */
export async function stopServeProcess(p: { child: ChildProcess } | null, graceMs = 3000): Promise<number | null> {
  const child = p?.child;
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  process.kill(child.pid, 'SIGTERM');
  const hard = setTimeout(() => child.exitCode === null && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(hard);
  return code;
}
