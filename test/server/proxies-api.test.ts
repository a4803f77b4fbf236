/**
 * GET /api/proxies against a real `palisade edge` child (its admin API on loopback, with a
 * token): the running proxy is up with its clock, runtime rules and counters; a wrong token and
 * a closed port are down with the reason; answers are kept two seconds; --edge refuses a URL
 * with a path or credentials.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { edgeAdminUrl } from '../../src/cli/commands/serve.js';
import { UsageError } from '../../src/core/errors.js';
import type { Route } from '../../src/server/http.js';
import { type ProxyHealth, proxyRoutes } from '../../src/server/proxies-api.js';
import { type EdgeProcess, startEdgeProcess } from '../proxy/edge-process.js';

const TOKEN = 'proxies-test-token-0123456789';

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('GET /api/proxies', () => {
  let edge: EdgeProcess;
  before(async () => {
    // the origin need not answer: the admin side is what is asked
    edge = await startEdgeProcess(['--listen', '127.0.0.1:0', '--origin', 'http://127.0.0.1:9', '--admin', '127.0.0.1:0', '--admin-token', TOKEN]);
  });
  after(async () => {
    edge?.child.kill('SIGTERM');
    await edge?.exited;
  });

  it('a running edge is up with its counters; a wrong token and a closed port are down with the reason', async () => {
    const admin = edge.admin as string;
    const closed = `http://127.0.0.1:${await closedPort()}`;
    let t = 1_800_000_000_000;
    const route = proxyRoutes(
      [
        { url: admin, token: TOKEN },
        { url: admin, token: 'wrong' },
        { url: closed, token: null },
      ],
      () => t,
    )[0] as Route;
    const answer = async () => ((await route.handler({} as never)) as { json: ProxyHealth[] }).json;
    const [up, badToken, down] = (await answer()) as [ProxyHealth, ProxyHealth, ProxyHealth];
    assert.equal(up.up, true, up.error ?? '');
    assert.equal(up.error, null);
    assert.ok(typeof up.latency_ms === 'number');
    assert.ok(up.time !== null && !Number.isNaN(Date.parse(up.time)));
    assert.equal(up.runtime_rules, 0);
    assert.ok(up.stats !== null && typeof up.stats === 'object' && 'gate' in up.stats, 'its counters');
    assert.equal(badToken.up, false);
    assert.match(badToken.error ?? '', /HTTP 401 \(wrong or missing --edge-token\)/);
    assert.equal(down.up, false);
    assert.equal(down.error, 'ECONNREFUSED');
    // kept two seconds: the same answer object, then a fresh probe
    assert.equal(await answer(), await answer());
    const first = await answer();
    t += 2000;
    assert.notEqual(await answer(), first);
  });
});

describe('palisade serve --edge', () => {
  it('takes http(s)://HOST:PORT and refuses paths, credentials and other schemes', () => {
    assert.equal(edgeAdminUrl('http://127.0.0.1:9901'), 'http://127.0.0.1:9901');
    assert.equal(edgeAdminUrl('https://edge.example:8443/'), 'https://edge.example:8443');
    for (const bad of ['127.0.0.1:9901', 'http://127.0.0.1:9901/api', 'http://u:p@127.0.0.1:9901', 'ftp://127.0.0.1:21']) assert.throws(() => edgeAdminUrl(bad), UsageError, bad);
  });
});
