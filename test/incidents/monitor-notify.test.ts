/**
 * End to end: `palisade monitor --replay` with a notifications section — the webhook receiver
 * (a local HTTP server) gets the alert's start and end, each once, signed; a config with a route
 * to a target that does not exist is refused with its line and column.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseConfig } from '../../src/config/index.js';
import { openStore } from '../../src/incidents/store/open.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-notify-'));
const CLI = join(import.meta.dirname, '../../bin/palisade.js');
after(() => rmSync(dir, { recursive: true, force: true }));

test('monitor → outbox → webhook: the start and the end of the attack, each once, signed', { timeout: 120_000 }, async () => {
  const got: { type: string; key: string; ok: boolean }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString('utf8');
    });
    req.on('end', () => {
      const m = /^t=(\d+),v1=([0-9a-f]+)$/.exec(String(req.headers['palisade-signature']));
      const ok = m !== null && createHmac('sha256', 'shh').update(`${m[1]}.${body}`).digest('hex') === m[2];
      const j = JSON.parse(body) as { type: string; id: string };
      got.push({ type: j.type, key: j.id, ok });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const gen = spawnSync(process.execPath, [CLI, 'generate', 'dns_amplification', '-n', '40000', '-s', '4', '-w', join(dir, 'amp.pcap')], { encoding: 'utf8' });
    assert.equal(gen.status, 0, gen.stderr);
    const cfg = join(dir, 'palisade.yaml');
    writeFileSync(
      cfg,
      [
        'notifications:',
        '  targets:',
        `    hook: { kind: webhook, url: "http://127.0.0.1:${port}/palisade", secret: shh }`,
        '  routes:',
        '    - { targets: [hook], types: [alert.start, alert.end] }',
        '',
      ].join('\n'),
    );
    const mon = spawn(process.execPath, [CLI, 'monitor', '--replay', join(dir, 'amp.pcap'), '--speed', '4', '--config', cfg, '--db', join(dir, 'm.db'), '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    mon.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    mon.stdout.resume();
    const code = await new Promise<number | null>((r) => mon.once('exit', (c) => r(c)));
    assert.equal(code, 0, err);
    assert.deepEqual(
      got.map((g) => g.type),
      ['alert.start', 'alert.end'],
    );
    assert.ok(
      got.every((g) => g.ok),
      'signed with the configured secret',
    );
    assert.equal(new Set(got.map((g) => g.key)).size, 2);
    // the per-second summaries add up to every packet of the capture
    const store = await openStore(join(dir, 'm.db'));
    try {
      const rows = await store.readSummaries(0, 2 ** 31);
      assert.ok(rows.length >= 15, `${rows.length} seconds`);
      assert.equal(
        rows.reduce((n, r) => n + r.packets, 0),
        40_000,
      );
      assert.ok(rows.some((r) => (r.by_vector.dns_amplification ?? 0) > 0));
      // and each second's protocols add up to its packets (a DNS amplification: UDP above all)
      for (const r of rows)
        assert.equal(
          Object.values(r.by_protocol).reduce((n, x) => n + x, 0),
          r.packets,
          JSON.stringify(r),
        );
      assert.ok(rows.reduce((n, r) => n + (r.by_protocol.udp ?? 0), 0) > 20_000);
    } finally {
      await store.close();
    }
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('notifications config errors name their line and column', () => {
  assert.throws(
    () => parseConfig('notifications:\n  targets:\n    a: { kind: webhook, url: "http://x" }\n  routes:\n    - { targets: [b] }\n', 'p.yaml'),
    /p\.yaml:5:.*routes\[0\]\.targets: no target named b/,
  );
  assert.throws(() => parseConfig('notifications:\n  targets:\n    a: { kind: fax }\n', 'p.yaml'), /p\.yaml:3:.*kind must be one of webhook, slack, pagerduty, email/);
  assert.throws(() => parseConfig('notifications:\n  targets:\n    a: { kind: email, host: h, port: 25, from: f }\n', 'p.yaml'), /needs to/);
  const ok = parseConfig('notifications:\n  targets:\n    pd: { kind: pagerduty, routing_key: abc }\n  routes:\n    - { targets: [pd], min_severity: critical }\n', 'p.yaml');
  assert.equal(ok.notifications.targets.get('pd')?.kind, 'pagerduty');
  assert.equal(ok.notifications.routes[0]?.minSeverity, 'critical');
});
