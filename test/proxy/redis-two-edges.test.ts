/**
 * Two `palisade edge` processes sharing their rate-limit counters through Redis (the machine's,
 * 127.0.0.1:6379; CI starts it) enforce one limit together: a client alternating between them is
 * let through the configured number of times in the period (±10 %), not twice that. Real
 * processes from the CLI, a real origin, undici clients; a key prefix of the test's own, deleted after.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { startEdgeProcess } from './edge-process.js';
import { type Origin, startOrigin } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-two-edges-'));
const PREFIX = `palisade-test-${randomBytes(4).toString('hex')}:`;
const redisUp = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG';

let origin: Origin;
before(async () => {
  origin = await startOrigin();
});
after(async () => {
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
  if (redisUp) spawnSync('sh', ['-c', `redis-cli -h 127.0.0.1 -p 6379 --scan --pattern '${PREFIX}*' | xargs -r redis-cli -h 127.0.0.1 -p 6379 del`]);
});

test('two edges, one Redis: a client alternating between them gets the limit once, not twice', { skip: !redisUp && 'no Redis on 127.0.0.1:6379', timeout: 120_000 }, async () => {
  const LIMIT = 20;
  const cfg = join(dir, 'palisade.yaml');
  writeFileSync(
    cfg,
    [
      'edge:',
      '  mode: off',
      '  waf: off',
      `  counters: { store: redis, redis_url: "redis://127.0.0.1:6379", prefix: "${PREFIX}", fail: closed, timeout_ms: 2000 }`,
      '  ruleset:',
      '    - id: api-rate',
      '      expression: http.request.uri.path eq "/api"',
      '      action: block',
      `      ratelimit: { characteristics: [ip.src], period: 60, requests_per_period: ${LIMIT}, mitigation_timeout: 60 }`,
      '',
    ].join('\n'),
  );
  const args = ['--listen', '127.0.0.1:0', '--origin', origin.url, '--config', cfg];
  const a = await startEdgeProcess(args);
  const b = await startEdgeProcess(args);
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await request(`${(i % 2 === 0 ? a : b).url}/api`);
      await r.body.text();
      statuses.push(r.statusCode);
    }
    const passed = statuses.filter((s) => s === 200).length;
    const limited = statuses.filter((s) => s === 429).length;
    assert.equal(passed + limited, 100, `only 200s and 429s: ${statuses.join(' ')}`);
    assert.ok(passed >= LIMIT * 0.9 && passed <= LIMIT * 1.1, `${passed} let through by the two edges together (limit ${LIMIT})`);
    // Both edges limited the client: the counter is shared, not one edge doing all the work.
    const fromA = statuses.filter((s, i) => i % 2 === 0 && s === 429).length;
    const fromB = statuses.filter((s, i) => i % 2 === 1 && s === 429).length;
    assert.ok(fromA > 0 && fromB > 0, `429s from both edges: ${fromA} and ${fromB}`);
    const keys = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', '--scan', '--pattern', `${PREFIX}*`], { encoding: 'utf8' }).stdout.trim();
    assert.ok(keys.length > 0, 'the counters live in Redis under the configured prefix');
  } finally {
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    assert.equal(await a.exited, 0, a.stderr());
    assert.equal(await b.exited, 0, b.stderr());
  }
});
