/**
 * `palisade serve` running the monitor in its own process on the inputs it is given: a generated
 * SYN flood, its times moved to now (as a live capture's are), replayed with --replay; the
 * flood's alert, its incident with the suggested mitigation, and the sensor's per-second summaries
 * reach the API of the same process. --demo with inputs is a usage error. Bounded in time; the
 * server is stopped by its PID.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { shiftPcap } from '../../src/server/demo.js';
import { type ServeProcess, startServeProcess, stopServeProcess } from '../helpers/serve-process.js';

const CLI = resolve(import.meta.dirname, '../helpers/run-cli.ts');
const BIN = resolve(import.meta.dirname, '../../bin/palisade.js');
const dir = mkdtempSync(join(tmpdir(), 'palisade-serve-watch-'));
const db = join(dir, 'p.db');

function run(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

let server: ServeProcess | null = null;
after(async () => {
  await stopServeProcess(server, 0);
  rmSync(dir, { recursive: true, force: true });
});

describe('palisade serve with inputs: the monitor in the same process', () => {
  it('--demo and inputs together is a usage error', () => {
    const r = run(['serve', '--listen', '127.0.0.1:0', '--db', db, '--demo', '--replay', 'x.pcap']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--demo replays its own traffic/);
  });

  it("a replayed SYN flood's alert, incident and summaries reach the API", { timeout: 120_000 }, async () => {
    const gen = join(dir, 'gen.pcap');
    const g = spawnSync(process.execPath, [BIN, 'generate', 'tcp_syn_flood', '-n', '60000', '-s', '3', '-w', gen], { encoding: 'utf8' });
    assert.equal(g.status, 0, g.stderr);
    const live = join(dir, 'live.pcap');
    copyFileSync(gen, live);
    const first = shiftPcap(live, 0);
    shiftPcap(live, Math.ceil(Date.now() / 1000) + 1 - Math.floor(first.firstMs / 1000));
    const added = run(['serve', '--add-account', 'ops', '--role', 'operator', '--db', db]);
    assert.equal(added.status, 0, added.stderr);
    const password = added.stdout.trim().split('\n').at(-1) as string;

    server = await startServeProcess(['--listen', '127.0.0.1:0', '--db', db, '--replay', live, '--sensor', 'tap1'], { from: 'source' });
    const { base } = server;
    const err = server.err;
    assert.match(err(), /palisade serve: monitor watching .*live\.pcap at 1×, mitigations suggested/);
    const login = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ops', password }) });
    assert.equal(login.status, 200);
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const get = async <T>(path: string): Promise<T> => (await (await fetch(`${base}${path}`, { headers: { cookie } })).json()) as T;
    // the flood starts 6 s into the capture; detection takes a few seconds more
    let alerts: { vector: string; incident_id: number | null; victim: { ip?: string } }[] = [];
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      alerts = await get('/api/alerts?state=open,acknowledged');
      if (alerts.some((a) => a.vector === 'tcp_syn_flood' && a.incident_id !== null)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const syn = alerts.find((a) => a.vector === 'tcp_syn_flood');
    assert.ok(syn, `an alert for the flood within 60 s: ${JSON.stringify(alerts)}; ${err()}`);
    assert.equal(syn.victim.ip, '203.0.113.10');
    const inc = await get<{ mitigations: { state: string; target: string }[]; timeline: { kind: string }[] }>(`/api/incidents/${syn.incident_id}`);
    assert.ok(inc.timeline.length > 0, 'its incident has a timeline');
    // the signature is fixed a few seconds after detection: its mitigation is suggested, none applied
    let mitigations = inc.mitigations;
    const by = Date.now() + 30_000;
    while (mitigations.length === 0 && Date.now() < by) {
      await new Promise((r) => setTimeout(r, 500));
      mitigations = (await get<{ mitigations: { state: string; target: string }[] }>(`/api/incidents/${syn.incident_id}`)).mitigations;
    }
    assert.deepEqual(
      mitigations.map((m) => [m.target, m.state]),
      [['nftables', 'suggested']],
    );
    const sensors = await get<{ name: string; stale: boolean }[]>('/api/sensors');
    assert.deepEqual(
      sensors.map((s) => [s.name, s.stale]),
      [['tap1', false]],
      'the in-process monitor writes its seconds as a live sensor',
    );
    assert.equal(await stopServeProcess(server), 0, err());
  });
});
