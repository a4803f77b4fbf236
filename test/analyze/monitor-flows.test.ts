/**
 * The monitor on flow export from a real exporter: a generated SYN flood capture turned into
 * NetFlow v9 by softflowd (Debian), sent to `palisade monitor --netflow 127.0.0.1:PORT` on
 * loopback. One syn_flood alert on the capture's victim, then its end; the final line counts the
 * records. softflowd reading a file exports as the file's clock expires flows — here in one burst
 * at its end, as a router does after its active timeout — so this is also the late-records case:
 * the records count from their arrival. Bounded: 60 s.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { jsonLines } from '../helpers/json-lines.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/palisade.js');
const dir = mkdtempSync(join(tmpdir(), 'palisade-monitor-flows-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

interface Line {
  event: string;
  alert?: { id: string; vector: string; victim: string };
}

test('monitor --netflow: softflowd’s NetFlow v9 of a SYN flood gives one syn_flood alert on the victim, then its end', { timeout: 90_000 }, async () => {
  const pcap = join(dir, 'syn.pcap');
  const g = spawnSync(process.execPath, [CLI, 'generate', 'tcp_syn_flood', '-n', '60000', '-s', '3', '-w', pcap], { encoding: 'utf8' });
  assert.equal(g.status, 0, g.stderr);
  const truth = JSON.parse(readFileSync(join(dir, 'syn.truth.json'), 'utf8')) as { attacks: Array<{ vector: string; victim: { ip?: string } }> };
  const victim = truth.attacks[0]?.victim.ip as string;
  const port = await freePort();
  let out = '';
  let err = '';
  const monitor: ChildProcess = spawn(process.execPath, [CLI, 'monitor', '--netflow', `127.0.0.1:${port}`, '--json', '--no-db', '--duration', '60', '--sensor', 't'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  monitor.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  monitor.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const exited = new Promise<number | null>((r) => monitor.once('exit', (c) => r(c)));
  try {
    // wait for the monitor's listener: its socket in the kernel's UDP table (bounded: 20 s)
    const bound = (): boolean => readFileSync('/proc/net/udp', 'utf8').includes(`:${port.toString(16).toUpperCase().padStart(4, '0')} `);
    for (let i = 0; i < 200 && !bound(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(bound(), `the monitor never bound 127.0.0.1:${port}: ${err}`);
    const sf = spawnSync('softflowd', ['-d', '-r', pcap, '-n', `127.0.0.1:${port}`, '-v', '9'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(sf.status, 0, sf.stderr);
    for (let i = 0; i < 600 && !/"event":"end"/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    monitor.kill('SIGTERM');
    assert.equal(await exited, 0, err);
  } finally {
    monitor.kill('SIGKILL');
  }
  const lines = jsonLines<Line>(out);
  const starts = lines.filter((l) => l.event === 'start');
  assert.deepEqual(
    starts.map((l) => [l.alert?.vector, l.alert?.victim]),
    [['tcp_syn_flood', victim]],
    `${out.slice(0, 2000)}\n${err}`,
  );
  assert.ok(
    lines.some((l) => l.event === 'end' && l.alert?.id === starts[0]?.alert?.id),
    'the alert ended',
  );
  assert.match(err, /from \d+ flow records and samples/);
});
