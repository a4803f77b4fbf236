/**
 * `palisade serve` as a user starts it: --add-account prints a generated password once and the
 * account can log in; --demo prints the demo account's credentials; a bad --listen is a usage
 * error. The server runs as a child process on a free loopback port.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultRulesFile, parseListen } from '../../src/cli/commands/serve.js';
import { startServeProcess, stopServeProcess } from '../helpers/serve-process.js';

const CLI = resolve(import.meta.dirname, '../helpers/run-cli.ts');
const dir = mkdtempSync(join(tmpdir(), 'palisade-serve-'));
const db = join(dir, 'p.db');

function run(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
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

    const { child, out, base } = await startServeProcess(['--listen', '127.0.0.1:0', '--db', db, '--demo']);
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
      assert.equal(await stopServeProcess({ child }), 0);
    }
  });

  it('--rules FILE is created empty and served; --record CAPTURE is what what-if reads; the default is rules.yaml beside the db', async () => {
    const rules = join(dir, 'conf', 'edge.yaml');
    const capture = join(dir, 'rec.pcap');
    const { generate } = await import('../../src/generate/generator.js');
    generate('demo', capture, { packets: 500, seed: 2, noTruth: true });
    // stamped as if recorded from 75 s ago for 30 s: the last minute holds only its end
    const { shiftPcap } = await import('../../src/server/demo.js');
    const t = shiftPcap(capture, 0);
    shiftPcap(capture, Math.floor(Date.now() / 1000) - 75 - Math.floor(t.firstMs / 1000));
    const added = run(['serve', '--add-account', 'ops', '--role', 'operator', '--db', db]);
    const password = added.stdout.trim().split('\n').at(-1) as string;
    const { child, base } = await startServeProcess(['--listen', '127.0.0.1:0', '--db', db, '--rules', rules, '--record', capture], { from: 'source' });
    try {
      assert.ok(existsSync(rules), 'created');
      const login = await fetch(`${base}/api/login`, loginBody('ops', password));
      const { csrf_token: csrf } = (await login.clone().json()) as { csrf_token: string };
      const cookie = login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const got = (await (await fetch(`${base}/api/rules`, { headers: { cookie } })).json()) as { file: string; text: string };
      assert.equal(got.file, rules);
      assert.equal(got.text, readFileSync(rules, 'utf8'));
      const w = await fetch(`${base}/api/rules/whatif`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'rules:\n  - id: all\n    expression: tcp.dstport > 0\n    action: log\n', minutes: 5 }),
      });
      assert.equal(w.status, 200);
      const report = (await w.json()) as { reads: string; labels: string; labelled: { attack: number; other: number }; window: { packets: number } };
      assert.match(report.reads, /rec\.pcap: the records stamped within the last N minutes/);
      assert.equal(report.window.packets, 500, 'all of it is in the last 5 minutes');
      // no truth file beside it: the attacks detected (alerts in the store) label the packets
      assert.equal(report.labels, 'detected');
      assert.equal(report.labelled.attack + report.labelled.other, 500);
      const one = await fetch(`${base}/api/rules/whatif`, {
        method: 'POST',
        headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'rules: []\n', minutes: 1 }),
      });
      const last = (await one.json()) as { window: { packets: number } };
      assert.ok(last.window.packets > 0 && last.window.packets < 500, `the last minute holds the end of it: ${last.window.packets}`);
    } finally {
      assert.equal(await stopServeProcess({ child }), 0);
    }
    assert.equal(defaultRulesFile(db), join(dir, 'rules.yaml'));
    assert.equal(defaultRulesFile('postgres://u@h/db'), resolve('rules.yaml'));
  });
});
