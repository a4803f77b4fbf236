/**
 * `palisade edge` from the command line: help, usage errors, start-up line, graceful stop on
 * SIGTERM, and `--workers 2` (both workers serve, a killed worker is replaced).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startEdgeProcess } from './edge-process.js';
import { type Origin, startOrigin } from './helpers.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = ['--import', 'tsx', 'test/helpers/run-cli.ts'];

function cli(args: string[]) {
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

/** The same, without waiting: the usage cases run side by side (each is a Node start-up). */
function cliAsync(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [...CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const t = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.once('exit', (status) => {
      clearTimeout(t);
      resolve({ status, stderr });
    });
  });
}

async function status(url: string): Promise<number> {
  const r = await request(url, { reset: true, headersTimeout: 15_000, bodyTimeout: 15_000 });
  await r.body.dump();
  return r.statusCode;
}

function children(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Worker processes of a primary: its node children (tsx also starts an esbuild child). */
function workers(pid: number): number[] {
  return children(pid).filter((p) => {
    try {
      return execFileSync('ps', ['-o', 'args=', '-p', String(p)], { encoding: 'utf8' }).includes('run-cli.ts');
    } catch {
      return false;
    }
  });
}

describe('palisade edge (CLI)', { timeout: 300_000 }, () => {
  let origin: Origin;
  before(async () => {
    origin = await startOrigin();
  });
  after(async () => {
    await origin.close();
  });

  test('--help teaches with examples', () => {
    const r = cli(['edge', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Examples:/);
    assert.match(r.stdout, /--origin <url>/);
    assert.match(r.stdout, /--workers <n>/);
  });

  test('usage errors: exit 2 with a message naming the flag', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['edge', '--listen', '127.0.0.1:0'], /--origin is required/],
      [['edge', '--listen', 'nope', '--origin', 'http://127.0.0.1:1'], /--listen must be HOST:PORT/],
      [['edge', '--listen', '127.0.0.1:0', '--origin', 'ftp://x'], /--origin must be an http/],
      [['edge', '--listen', '127.0.0.1:0', '--origin', 'http://127.0.0.1:1', '--trusted-proxy', '10.0.0.0/99'], /--trusted-proxy/],
      [['edge', '--listen', '127.0.0.1:0', '--origin', 'http://127.0.0.1:1', '--cert', 'x.pem'], /--cert and --key go together/],
      [['edge', '--listen', '127.0.0.1:0', '--origin', 'http://127.0.0.1:1', '--header-timeout', '0'], /--header-timeout must be/],
    ];
    const results = await Promise.all(cases.map(([args]) => cliAsync(args)));
    cases.forEach(([args, msg], i) => {
      const r = results[i] as { status: number | null; stderr: string };
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    });
    const missing = await cliAsync(['edge', '--listen', '127.0.0.1:0', '--origin', 'http://127.0.0.1:1', '--cert', '/nonexistent.pem', '--key', '/nonexistent.key']);
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /--cert \/nonexistent\.pem: no such file/);
  });

  test('start-up line on stderr, serves, SIGTERM closes gracefully with exit 0', async () => {
    const r = await startEdgeProcess(['--listen', '127.0.0.1:0', '--origin', origin.url]);
    assert.match(r.stderr(), new RegExp(`origin ${origin.url}`));
    assert.equal(await status(`${r.url}/x`), 200);
    r.child.kill('SIGTERM');
    assert.equal(await r.exited, 0);
    assert.match(r.stderr(), /SIGTERM: closing[\s\S]*closed/);
  });

  test('--workers 2: two workers serve; a killed worker is replaced; SIGTERM stops all', async () => {
    const r = await startEdgeProcess(['--listen', '127.0.0.1:0', '--origin', origin.url, '--workers', '2']);
    try {
      assert.match(r.stderr(), /2 workers/);
      const pid = r.child.pid as number;
      const first = workers(pid);
      assert.equal(first.length, 2, `workers: ${first}`);
      for (let i = 0; i < 10; i++) assert.equal(await status(`${r.url}/w${i}`), 200);
      process.kill(first[0] as number, 'SIGKILL');
      // Once the primary has seen the death (it says so) the survivor takes every connection;
      // a connection handed to the dying worker in the instant before is lost with it (node's
      // round-robin hand-off), as in-flight connections of a crashed process are.
      for (let i = 0; i < 100 && !/died/.test(r.stderr()); i++) await new Promise((res) => setTimeout(res, 100));
      assert.equal(await status(`${r.url}/after-kill`), 200);
      const deadline = Date.now() + 20_000;
      let now = workers(pid);
      while ((now.length < 2 || now.includes(first[0] as number)) && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 200));
        now = workers(pid);
      }
      assert.equal(now.length, 2, 'a new worker took the dead one’s place');
      assert.match(r.stderr(), /worker \d+ \(pid \d+\) died/);
      assert.equal(await status(`${r.url}/again`), 200);
      r.child.kill('SIGTERM');
      assert.equal(await r.exited, 0);
      assert.deepEqual(workers(pid), []);
    } finally {
      r.child.kill('SIGKILL');
    }
  });
});
