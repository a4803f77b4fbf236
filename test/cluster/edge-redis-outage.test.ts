/**
 * Redis stopped under clustered edge proxies (issue 19, "Faults"): two `palisade edge` processes
 * (--cluster on the machine's NATS, --redis on a PRIVATE redis-server of this test, killed by its
 * PID and started again on the same port), one with edge.counters.fail open, one closed, a rate
 * limit of 5 requests per 10 s per address on /api. While Redis is down the open one lets /api
 * through, the closed one refuses it (503, palisade-mitigated: rate_limit), both keep answering
 * every request promptly (bounded by the counters' timeout, no hang) and pass paths no limit
 * concerns; once Redis is back, both limit at 5 again. Neither exits but on SIGTERM, with 0.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent as HttpAgent, get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanMachineNats, requireMachineNats } from '../helpers/nats-server.js';
import { type EdgeProcess, startEdgeProcess } from '../proxy/edge-process.js';
import { type Origin, startOrigin } from '../proxy/helpers.js';
import { freePort, startRedis, stopAll } from '../proxy/redis-server.js';

const RUN = randomBytes(4).toString('hex');
const SITE = `t-outage-${RUN}`;
const LIMIT = 5;

// NATS down is a failure that says so, never a skip (.ci/run starts it)
await requireMachineNats();

const agent = new HttpAgent({ keepAlive: true, maxSockets: 4 });
/** One request from a loopback address of its own, with how long it took (bounded: 5 s). */
function get(base: string, path: string, ip: string): Promise<{ status: number; mitigated: string | undefined; ms: number }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = httpGet(`${base}${path}`, { agent, localAddress: ip, timeout: 5000 }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0, mitigated: res.headers['palisade-mitigated'] as string | undefined, ms: performance.now() - t }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`${base}${path} from ${ip}: no answer in 5 s`)));
    req.once('error', reject);
  });
}

async function burst(e: EdgeProcess, ip: string, n = 8): Promise<Array<{ status: number; mitigated: string | undefined; ms: number }>> {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await get(e.url, '/api', ip));
  return out;
}

const count = (rs: Array<{ status: number }>, status: number): number => rs.filter((r) => r.status === status).length;

const dir = mkdtempSync(join(tmpdir(), 'palisade-edge-outage-'));
let origin: Origin;
let redisPort: number;
let redis: ChildProcess;
const edges: EdgeProcess[] = [];

function config(fail: 'open' | 'closed'): string {
  const file = join(dir, `${fail}.yaml`);
  writeFileSync(
    file,
    [
      'edge:',
      '  mode: off',
      '  waf: off',
      `  counters: { fail: ${fail}, timeout_ms: 200 }`,
      '  ruleset:',
      '    - id: api-rate',
      '      expression: http.request.uri.path eq "/api"',
      '      action: block',
      `      ratelimit: { characteristics: [ip.src], period: 10, requests_per_period: ${LIMIT}, mitigation_timeout: 10 }`,
      '',
    ].join('\n'),
  );
  return file;
}

async function killRedis(): Promise<void> {
  const gone = new Promise((r) => redis.once('exit', r));
  process.kill(redis.pid as number, 'SIGKILL');
  await gone;
}

describe('clustered edges when Redis stops', { timeout: 180_000 }, () => {
  before(async () => {
    origin = await startOrigin();
    redisPort = await freePort();
    redis = await startRedis(redisPort);
  });
  after(async () => {
    for (const e of edges) if (e.child.exitCode === null) e.child.kill('SIGKILL');
    stopAll();
    agent.destroy();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
    await cleanMachineNats(SITE);
  });

  it('fail open lets /api through, fail closed refuses it, both keep answering; limits return with Redis', async () => {
    const url = `redis://127.0.0.1:${redisPort}`;
    const start = (fail: 'open' | 'closed') =>
      startEdgeProcess([
        '--listen',
        '127.0.0.1:0',
        '--origin',
        origin.url,
        '--config',
        config(fail),
        '--cluster',
        'nats://127.0.0.1:4222',
        '--redis',
        url,
        '--site',
        SITE,
        '--node',
        `edge-${fail}`,
      ]);
    const [open, closed] = await Promise.all([start('open'), start('closed')]);
    edges.push(open, closed);

    // Redis up: both limit at 5.
    for (const [e, ip] of [
      [open, '127.0.0.21'],
      [closed, '127.0.0.22'],
    ] as const) {
      const rs = await burst(e, ip);
      assert.deepEqual([count(rs, 200), count(rs, 429)], [LIMIT, 8 - LIMIT], `${e.url}: ${rs.map((r) => r.status).join(' ')}`);
    }

    await killRedis();
    const down = { open: await burst(open, '127.0.0.23', 10), closed: await burst(closed, '127.0.0.24', 10) };
    const slowest = Math.max(...down.open.map((r) => r.ms), ...down.closed.map((r) => r.ms));
    process.stderr.write(`redis down: fail open ${count(down.open, 200)}/10 passed, fail closed ${count(down.closed, 503)}/10 refused; slowest answer ${slowest.toFixed(0)} ms\n`);
    assert.equal(count(down.open, 200), 10, down.open.map((r) => r.status).join(' '));
    assert.ok(
      down.closed.every((r) => r.status === 503 && r.mitigated === 'rate_limit'),
      down.closed.map((r) => `${r.status}/${r.mitigated}`).join(' '),
    );
    assert.ok(slowest < 1500, `every answer within 1.5 s while Redis is down (slowest ${slowest} ms)`);
    // Paths no limit concerns pass on both.
    for (const e of [open, closed]) assert.equal((await get(e.url, '/', '127.0.0.25')).status, 200);
    assert.match(open.stderr(), /counters: redis unavailable .*failing open/);
    assert.match(closed.stderr(), /counters: redis unavailable .*failing closed/);

    // Redis back (empty: no persistence): the closed one serves /api again, then both limit at 5.
    redis = await startRedis(redisPort);
    const back = performance.now();
    for (;;) {
      const r = await get(closed.url, '/api', '127.0.0.26');
      if (r.status === 200) break;
      assert.ok(performance.now() - back < 10_000, 'the closed edge serves /api again within 10 s of Redis coming back');
      await new Promise((res) => setTimeout(res, 50));
    }
    process.stderr.write(`redis back: the closed edge served /api again after ${(performance.now() - back).toFixed(0)} ms\n`);
    for (const [e, ip] of [
      [open, '127.0.0.27'],
      [closed, '127.0.0.28'],
    ] as const) {
      const rs = await burst(e, ip);
      assert.deepEqual([count(rs, 200), count(rs, 429)], [LIMIT, 8 - LIMIT], `${e.url} after Redis came back: ${rs.map((r) => r.status).join(' ')}`);
    }
    assert.match(open.stderr(), /counters: redis is back; while it was down \d+ request\(s\) were let through unlimited/);
    assert.match(closed.stderr(), /counters: redis is back; while it was down \d+ request\(s\) were refused/);

    for (const e of [open, closed]) {
      assert.equal(e.child.exitCode, null, `still running: ${e.stderr()}`);
      e.child.kill('SIGTERM');
    }
    for (const e of [open, closed]) assert.equal(await e.exited, 0, e.stderr());
  });
});
