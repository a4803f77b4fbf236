/**
 * The monitor watching a live edge: `palisade edge` (mode off: it enforces nothing by itself, WAF
 * off) with its admin API, and `palisade monitor --edge <admin> --mitigate auto` reading the
 * edge's request stream. Users browse for 20 s, then an HTTP flood from 320 loopback addresses
 * (each about 1 request/s, cache-busting queries) for 40 s. The monitor raises an http_flood
 * alert for the host, pushes the attack's rule to the edge through its admin API, the flood is
 * refused from then on while the users are served, and after the flood stops the alert ends and
 * the rule is taken away after the hold. Bounded: about two minutes of traffic and a minute for the end.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { jsonLines } from '../helpers/json-lines.js';
import { startEdgeProcess } from '../proxy/edge-process.js';
import { Rng } from '../proxy/live-driver.js';
import { Driver, type LabOrigin, LEGIT, pct, startLabOrigin, tally } from '../proxy/live-driver-net.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'palisade-monitor-edge-'));
let origin: LabOrigin;
before(async () => {
  origin = await startLabOrigin();
});
after(async () => {
  await origin.close();
});

const ip = (a: number, k: number): string => `127.${a}.${((k + 1) >> 8) & 255}.${(k + 1) & 255 || 1}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface Line {
  event: string;
  alert?: { id: string; vector: string; attack: { victim: { host?: string } } };
  entry?: { text: string; data?: { target?: string; mitigation?: string } };
  failed?: boolean;
}

test('monitor --edge: the edge’s request stream in, an http_flood alert, its rule pushed to the edge and taken away after the hold', { timeout: 330_000 }, async () => {
  const cfg = join(dir, 'palisade.yaml');
  writeFileSync(cfg, 'edge:\n  mode: off\n');
  const edge = await startEdgeProcess(['--listen', '127.0.0.1:0', '--origin', origin.url, '--config', cfg, '--admin', '127.0.0.1:0']);
  let monitor: ChildProcess | null = null;
  const d = new Driver(edge.url, origin, new Rng(5));
  try {
    const admin = edge.admin as string;
    let out = '';
    let err = '';
    monitor = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/helpers/run-cli.ts', 'monitor', '--edge', admin, '--mitigate', 'auto', '--hold', '3', '--no-db', '--json', '--sensor', 't'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    monitor.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    monitor.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
    });
    const exited = new Promise<number | null>((r) => monitor?.once('exit', (c) => r(c)));
    // the monitor is on the stream once the edge counts an open one
    const streams = async (): Promise<number> => ((await (await fetch(`${admin}/api/stats`)).json()) as { streams: { open: number } }).streams.open;
    for (let i = 0; i < 200 && (await streams()) === 0; i++) await sleep(100);
    assert.equal(await streams(), 1, err);

    // a minute of users first: the L7 detector learns the host's rate (ten 5 s windows) before it judges
    const start = Date.now();
    const attackAt = start + 60_000;
    const end = attackAt + 40_000;
    const tailEnd = end + 15_000;
    for (let i = 0; i < 40; i++) d.browser('user', ip(1, i), tailEnd);
    for (let u = 0; u < 30; u++) d.browser('nat', '127.7.0.1', tailEnd);
    await sleep(attackAt - Date.now());
    for (let i = 0; i < 320; i++) d.floodBot(ip(2, i), end);
    await sleep(tailEnd - Date.now());
    await d.close(5000);
    // the end (the L7 analysis closes a flood after its quiet period: about a minute) and the removal after the 3 s hold
    for (let i = 0; i < 1200 && !/removed from edge/.test(out); i++) await sleep(100);
    monitor.kill('SIGTERM');
    assert.equal(await exited, 0, err);

    const lines = jsonLines<Line>(out);
    const starts = lines.filter((l) => l.event === 'start');
    assert.deepEqual(
      starts.map((l) => l.alert?.vector),
      ['http_flood'],
      err,
    );
    const alertId = starts[0]?.alert?.id;
    const applied = lines.find((l) => l.event === 'mitigation' && /^applied to edge/.test(l.entry?.text ?? ''));
    assert.ok(applied !== undefined, `no rule pushed to the edge:\n${out}\n${err}`);
    assert.equal(applied.failed, false);
    assert.ok(
      lines.some((l) => l.event === 'end' && l.alert?.id === alertId),
      'the alert ended',
    );
    assert.ok(
      lines.some((l) => l.event === 'mitigation' && /^removed from edge after the hold/.test(l.entry?.text ?? '')),
      out,
    );
    // the edge's runtime rules are empty again
    const rules = (await (await fetch(`${admin}/api/rules`)).json()) as { rules: unknown[] };
    assert.deepEqual(rules.rules, []);

    const appliedAt = Date.parse((applied.entry as unknown as { at: string }).at);
    const floodAfter = tally(d.outcomes, (o) => o.group === 'flood' && o.t >= appliedAt + 1000);
    const legit = tally(d.outcomes, (o) => LEGIT.includes(o.group));
    process.stdout.write(
      `# rule pushed ${((appliedAt - attackAt) / 1000).toFixed(1)} s after the flood began; flood after it: ${floodAfter.origin} of ${floodAfter.sent} reached the origin (${pct(floodAfter.origin, floodAfter.sent)}); users served ${pct(legit.served, legit.sent)}\n`,
    );
    assert.ok(appliedAt - attackAt <= 30_000, `pushed ${(appliedAt - attackAt) / 1000} s after the flood began`);
    assert.ok(floodAfter.sent > 1000 && floodAfter.origin < 0.1 * floodAfter.sent, `flood reaching the origin once the rule was in: ${pct(floodAfter.origin, floodAfter.sent)}`);
    assert.ok(legit.served >= 0.995 * legit.sent, `users served: ${pct(legit.served, legit.sent)}`);
  } finally {
    monitor?.kill('SIGKILL');
    edge.child.kill('SIGTERM');
    await edge.exited;
  }
});
