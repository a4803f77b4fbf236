/**
 * `palisade serve` as a user starts it: --add-account prints a generated password once and the
 * account can log in; --demo prints the demo account's credentials; a bad --listen is a usage
 * error. The server runs as a child process on a free loopback port.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseListen } from '../../src/cli/commands/serve.js';

const CLI = resolve(import.meta.dirname, '../helpers/run-cli.ts');
const dir = mkdtempSync(join(tmpdir(), 'palisade-serve-'));
const db = join(dir, 'p.db');

function run(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** Starts the server and resolves with its stdout once it says where it listens. */
function start(args: string[]): Promise<{ child: ChildProcess; out: string; base: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((res, rej) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => rej(new Error(`no "listening" line in 30 s: ${out} ${err}`)), 30_000);
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res({ child, out, base: m[1] as string });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`serve exited ${code}: ${out} ${err}`));
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((res) => {
    child.removeAllListeners('exit');
    child.on('exit', (code) => res(code));
    child.kill('SIGTERM');
  });
}

const loginBody = (name: string, password: string) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });

describe('palisade serve (CLI)', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('parses --listen HOST:PORT and [v6]:PORT, and refuses anything else', () => {
    assert.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
    for (const bad of ['8080', '127.0.0.1', '127.0.0.1:99999', 'a:b']) assert.throws(() => parseListen(bad), /--listen takes HOST:PORT/);
    const r = run(['serve', '--listen', 'nowhere', '--db', db]);
    assert.equal(r.status, 2, r.stderr);
  });

  it('--add-account prints a password once; --demo prints the demo credentials; both log in', async () => {
    const added = run(['serve', '--add-account', 'root', '--role', 'admin', '--db', db]);
    assert.equal(added.status, 0, added.stderr);
    const password = added.stdout.trim().split('\n').at(-1) as string;
    assert.match(added.stdout, /account root \(admin\) created/);
    assert.ok(password.length >= 20);
    assert.equal(run(['serve', '--add-account', 'root', '--db', db]).status, 3, 'an existing name is refused');

    const { child, out, base } = await start(['serve', '--listen', '127.0.0.1:0', '--db', db, '--demo']);
    try {
      const demo = /demo account: name demo, password (\S+)/.exec(out)?.[1] as string;
      assert.ok(demo, out);
      assert.match(out, /without Secure/);
      assert.equal((await fetch(`${base}/api/health`)).status, 200);
      assert.equal((await fetch(`${base}/api/alerts`)).status, 401);
      const root = await fetch(`${base}/api/login`, loginBody('root', password));
      assert.equal(root.status, 200);
      assert.doesNotMatch(root.headers.getSetCookie().join('\n'), /Secure/, 'loopback over plain HTTP');
      const d = await fetch(`${base}/api/login`, loginBody('demo', demo));
      assert.equal(((await d.json()) as { role: string }).role, 'operator');
    } finally {
      assert.equal(await stop(child), 0);
    }
  });
});
