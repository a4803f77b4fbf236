/**
 * `palisade edge` as a child process for tests: started from source, resolved once its start-up
 * line is out (with the URLs it names), rejected with what it printed if it exits or says
 * nothing in time.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface EdgeProcess {
  child: ChildProcess;
  /** Where it serves, and its admin listener when --admin was given. */
  url: string;
  admin?: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

export function startEdgeProcess(args: string[], timeoutMs = 60_000): Promise<EdgeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/run-cli.ts', 'edge', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no start-up line: ${err}`));
    }, timeoutMs);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (https?:\/\/[\d.]+:\d+)[^\n]*\n/.exec(err);
      if (m) {
        clearTimeout(t);
        const admin = /admin (http:\/\/[\d.]+:\d+)/.exec(m[0])?.[1];
        resolve({ child, url: m[1] as string, ...(admin && { admin }), stderr: () => err, exited });
      }
    });
    child.once('exit', () => {
      clearTimeout(t);
      reject(new Error(`edge exited: ${err}`));
    });
  });
}
