/**
 * `palisade edge` from the command line with its decisions wired in (proxy/stack.ts): a
 * --block-list file stops a client (a socket bound to 127.0.0.2), the CRS WAF at paranoia 1 blocks
 * an SQL injection with no configuration, the admin listener's rules apply at once, and SIGHUP
 * after palisade.yaml changed reloads it — a configuration with errors is refused and said, and
 * the running one serves on. Real clients (undici) against a real origin, loopback only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Agent, request } from 'undici';
import { startEdgeProcess } from './edge-process.js';
import { type Origin, startOrigin } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-edge-phases-'));
let origin: Origin;
before(async () => {
  origin = await startOrigin();
});
after(async () => {
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('block list, WAF, admin rules and SIGHUP reload through the CLI', { timeout: 180_000 }, async () => {
  const drop = join(dir, 'drop.txt');
  writeFileSync(drop, '# bad actors\n127.0.0.2\n');
  const cfg = join(dir, 'palisade.yaml');
  writeFileSync(cfg, ['edge:', '  mode: suggest', '  ruleset:', '    - id: no-old', '      expression: http.request.uri.path eq "/old"', '      action: block', ''].join('\n'));
  const edge = await startEdgeProcess(['--listen', '127.0.0.1:0', '--origin', origin.url, '--config', cfg, '--block-list', drop, '--admin', '127.0.0.1:0']);
  // undici takes the local address as a client option (its connect options are not net.connect's).
  const from2 = new Agent({ localAddress: '127.0.0.2' });
  try {
    assert.match(edge.stderr(), /WAF on \(\d+ CRS rules\), live L7 protection suggest/);
    const get = async (path: string, dispatcher?: Agent) => {
      const r = await request(`${edge.url}${path}`, { dispatcher });
      await r.body.text();
      return { status: r.statusCode, mitigated: r.headers['palisade-mitigated'] };
    };
    assert.deepEqual(await get('/'), { status: 200, mitigated: undefined });
    assert.deepEqual(await get('/', from2), { status: 403, mitigated: 'block' }, '--block-list');
    assert.deepEqual(await get('/old'), { status: 403, mitigated: 'block' }, "palisade.yaml's rule");
    assert.deepEqual(await get('/?id=1%27%20union%20select%20password%20from%20users--'), { status: 403, mitigated: 'waf' }, 'the CRS at paranoia 1');

    const add = await request(`${edge.admin}/api/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'rate_limit',
        id: 'slow-down',
        expression: 'http.request.uri.path eq "/api"',
        action: 'block',
        characteristics: ['ip.src'],
        period: 60,
        requestsPerPeriod: 2,
        mitigationTimeout: 60,
      }),
    });
    assert.equal(add.statusCode, 201, await add.body.text());
    const api = [];
    for (let i = 0; i < 4; i++) api.push((await get('/api')).status);
    assert.deepEqual(api, [200, 200, 429, 429], 'the admin rate limit');

    // palisade.yaml changes: SIGHUP reloads it; the runtime rule stays.
    writeFileSync(cfg, ['edge:', '  mode: suggest', '  ruleset:', '    - id: no-new', '      expression: http.request.uri.path eq "/new"', '      action: block', ''].join('\n'));
    edge.child.kill('SIGHUP');
    await until('the reload', async () => (await get('/new')).status === 403);
    assert.equal((await get('/old')).status, 200, 'the old rule is gone');
    assert.equal((await get('/api')).status, 429, 'the runtime rule and its counters stay');
    // A broken file is refused; the running configuration serves on.
    writeFileSync(cfg, 'edge:\n  waf: { paranoia: 9 }\n');
    edge.child.kill('SIGHUP');
    await until('the refusal', async () => /configuration refused/.test(edge.stderr()));
    assert.match(edge.stderr(), /palisade\.yaml:2:\d+: .*paranoia/);
    assert.equal((await get('/new')).status, 403);
    const metrics = await (await request(`${edge.admin}/metrics`)).body.text();
    assert.match(metrics, /^palisade_edge_responses_total\{by="phase",mitigated="waf",class="4xx"\} 1$/m);
  } finally {
    await from2.close();
    edge.child.kill('SIGTERM');
    assert.equal(await edge.exited, 0, edge.stderr());
  }
});
