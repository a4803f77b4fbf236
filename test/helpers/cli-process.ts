/**
 * Any long-running `palisade` command as a child process of a test (monitor, correlate, edge):
 * run from source through tsx, its output collected, ready once a line it prints matches, and
 * stopped by its PID — SIGTERM (SIGKILL when it hangs), or SIGKILL at once for crash tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

const SOURCE = resolve(import.meta.dirname, 'run-cli.ts');

export interface CliProcess {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  /** Resolves with the exit code (null: ended by a signal). */
  exited: Promise<number | null>;
  /** Resolves when stdout or stderr matches (rejects after waitMs or when the process exits first). */
  waitFor(re: RegExp, waitMs?: number): Promise<RegExpExecArray>;
}

export function startCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', SOURCE, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    waitFor(re, waitMs = 30_000) {
      return new Promise((res, rej) => {
        const check = (): void => {
          const m = re.exec(out) ?? re.exec(err);
          if (m) {
            done();
            res(m);
          }
        };
        const timer = setTimeout(() => {
          done();
          rej(new Error(`palisade ${args[0]}: no ${re} in ${waitMs / 1000} s; stdout: ${out.slice(-2000)} stderr: ${err.slice(-2000)}`));
        }, waitMs);
        const onExit = (): void => {
          check();
          done();
          rej(new Error(`palisade ${args[0]} exited before ${re}; stdout: ${out.slice(-2000)} stderr: ${err.slice(-2000)}`));
        };
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
  };
}

/** SIGTERM by PID (SIGKILL after graceMs), or SIGKILL at once with `hard`; resolves with the exit code. */
export async function stopCli(p: CliProcess | null, o: { graceMs?: number; hard?: boolean } = {}): Promise<number | null> {
  const child = p?.child;
  if (p === null || child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
  process.kill(child.pid, o.hard ? 'SIGKILL' : 'SIGTERM');
  const hard = setTimeout(() => child.exitCode === null && child.signalCode === null && child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), o.graceMs ?? 5000);
  const code = await p.exited;
  clearTimeout(hard);
  return code;
}
