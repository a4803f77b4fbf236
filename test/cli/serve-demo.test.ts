/**
 * `palisade serve --demo` as a newcomer runs it: the printed demo credentials log in, the
 * replayed traffic's SYN flood (8 s into the capture) shows up as an alert over the API within a
 * bounded time, the per-second summaries in the store keep moving, and SIGTERM stops the server
 * and the replay and removes the replay's temporary directory. The server is a child process on
 * a free loopback port, killed by its PID at the end whatever happened.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/incidents/store/open.js';
import { loopWindow, shiftPcap } from '../../src/server/demo.js';
import { type ServeProcess, startServeProcess, stopServeProcess } from '../helpers/serve-process.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-serve-demo-'));
const db = join(dir, 'p.db');
/** The flood starts 8 s in; detection takes a second or two more; a busy CI machine gets the rest. */
const ALERT_WITHIN_MS = 60_000;

let server: ServeProcess | null = null;

describe('palisade serve --demo', () => {
  after(async () => {
    await stopServeProcess(server, 0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the last N minutes of a looping replay map onto the capture, wrapping at its round', () => {
    // a 30 s round starting at 1000 s
    const first = 1_000_000;
    assert.deepEqual(loopWindow(first, 30_000, Number.NaN, 1), [], 'nothing played yet');
    assert.deepEqual(loopWindow(first, 30_000, first + 10_000, 5), [[first, first + 30_000]], 'the span covers a round: the whole file');
    assert.deepEqual(loopWindow(first, 120_000, first + 30_000, 1), [[first, first + 30_000]], 'less played than asked: what was');
    assert.deepEqual(loopWindow(first, 120_000, first + 100_000, 1), [[first + 40_000, first + 100_000]]);
    assert.deepEqual(
      loopWindow(first, 120_000, first + 120_000 + 20_000, 1),
      [
        [first, first + 20_000],
        [first + 80_000, first + 120_000],
      ],
      'wrapped: the start of this round and the end of the last',
    );
  });

  it('shiftPcap moves every record and reports the first and last times', async () => {
    const { generate } = await import('../../src/generate/generator.js');
    const f = join(dir, 'shift.pcap');
    generate('demo', f, { packets: 500, seed: 3, noTruth: true });
    const before = shiftPcap(f, 0);
    const after = shiftPcap(f, 1000);
    assert.ok(before.lastMs > before.firstMs);
    assert.ok(Math.abs(after.firstMs - before.firstMs - 1_000_000) < 1e-3);
    assert.ok(Math.abs(after.lastMs - before.lastMs - 1_000_000) < 1e-3);
  });

  it('logs in with the printed credentials, an attack alert appears within a bounded time, summaries move, SIGTERM cleans up', async () => {
    const t0 = Date.now();
    server = await startServeProcess(['--listen', '127.0.0.1:0', '--db', db, '--demo'], { from: 'source', waitMs: 60_000 });
    const { out, base } = server;
    const password = /demo account: name demo, password (\S+)/.exec(out)?.[1];
    assert.ok(password, out);
    const capture = /demo traffic: replaying (\S+)/.exec(out)?.[1] as string;
    assert.ok(capture && existsSync(capture), out);
    const login = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'demo', password }) });
    assert.equal(login.status, 200);
    const { csrf_token: csrf } = (await login.clone().json()) as { csrf_token: string };
    const cookie = login.headers
      .getSetCookie()
      .map((x) => x.split(';')[0])
      .join('; ');

    let alerts: { vector: string; sensor: string; incident_id: number | null }[] = [];
    while (alerts.length === 0 && Date.now() - t0 < ALERT_WITHIN_MS) {
      await sleep(500);
      const r = await fetch(`${base}/api/alerts`, { headers: { cookie } });
      assert.equal(r.status, 200);
      alerts = (await r.json()) as typeof alerts;
    }
    assert.ok(alerts.length > 0, `no alert within ${ALERT_WITHIN_MS / 1000} s`);
    assert.ok(
      alerts.some((a) => a.vector === 'tcp_syn_flood' && a.sensor === 'demo'),
      JSON.stringify(alerts.map((a) => a.vector)),
    );
    const incidents = (await (await fetch(`${base}/api/incidents`, { headers: { cookie } })).json()) as unknown[];
    assert.ok(incidents.length > 0, 'the alert opened an incident');

    // what-if reads the demo's replay: the flood's packets played so far are in the window, labelled
    const text = 'rules:\n  - id: syn\n    expression: tcp.flags.syn and not tcp.flags.ack and ip.dst == 203.0.113.10\n    action: block\n';
    const w = await fetch(`${base}/api/rules/whatif`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ text, minutes: 5 }),
    });
    assert.equal(w.status, 200);
    const report = (await w.json()) as { reads: string; window: { packets: number }; split: { id: string; attack: number; other: number }[] };
    assert.match(report.reads, /demo replay/);
    assert.ok(report.window.packets > 0);
    const syn = report.split[0] as { attack: number; other: number };
    assert.ok(syn.attack > syn.other, JSON.stringify(report.split));

    // the per-second summaries keep coming (written every second), and they are current
    const store = await openStore(db);
    try {
      const nowSec = (): number => Math.floor(Date.now() / 1000);
      const first = await store.readSummaries(nowSec() - 600, nowSec() + 5, 'demo');
      await sleep(3000);
      const later = await store.readSummaries(nowSec() - 600, nowSec() + 5, 'demo');
      assert.ok(first.length > 0, 'summaries are written');
      assert.ok(later.length >= first.length + 2, `${first.length} then ${later.length} summaries`);
      assert.ok((later.at(-1) as { second: number }).second >= nowSec() - 5, 'the latest summary is of the last seconds');
      assert.ok(
        later.some((s) => s.packets > 0),
        'with packets',
      );
    } finally {
      await store.close();
    }

    // the sensors endpoint sees the demo's sensor, live
    const sensors = (await (await fetch(`${base}/api/sensors`, { headers: { cookie } })).json()) as { name: string; stale: boolean; last_minute: { packets_per_s: number } }[];
    const demo = sensors.find((x) => x.name === 'demo');
    assert.ok(demo && !demo.stale && demo.last_minute.packets_per_s > 0, JSON.stringify(sensors));

    assert.equal(await stopServeProcess(server), 0);
    assert.ok(!existsSync(capture), 'the replay directory is removed');
  });
});
