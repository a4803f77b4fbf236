/**
 * The edge's decision side as `palisade edge` assembles it (src/proxy/stack.ts): palisade.yaml's
 * edge section and --block-list files in one gate; a reload applies a changed configuration to
 * new requests, keeps the runtime rules the admin API added and the gate a request started with;
 * a broken configuration is refused with file:line:col and the old one serves on; the admin
 * listener follows the reload.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { EdgeRequest, HeadVerdict, Respond } from '../../src/proxy/gate.js';
import { EdgeStack } from '../../src/proxy/stack.js';
import type { HttpRequestView } from '../../src/scheme/http.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-stack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let seq = 0;
function request(ip: string, target: string): EdgeRequest {
  const hs: Array<[string, string]> = [
    ['Host', 'shop.example'],
    ['User-Agent', 'curl/8.5.0'],
  ];
  const view: HttpRequestView = { method: 'GET', target, host: 'shop.example', version: 'HTTP/1.1', headers: hs, clientIp: ip, ssl: false, timestampMs: Date.now() };
  return { id: `s-${++seq}`, view, clientIp: ip, peerIp: ip, headerOrder: ['host', 'user-agent'], ruleIds: [] };
}

const config = (path: string) =>
  ['edge:', '  mode: off', '  waf: off', '  ruleset:', '    - id: no-path', `      expression: http.request.uri.path eq "${path}"`, '      action: block', ''].join('\n');

async function status(stack: EdgeStack, ip: string, target: string): Promise<number> {
  const v: HeadVerdict = await stack.gate.head(request(ip, target));
  return v.kind === 'respond' ? (v as Respond).status : 200;
}

test('config and block lists in; reload swaps the rules, keeps runtime rules, refuses a broken file', { timeout: 60_000 }, async () => {
  const file = join(dir, 'palisade.yaml');
  writeFileSync(file, config('/admin'));
  const drop = join(dir, 'drop.txt');
  writeFileSync(drop, '198.51.100.0/24\n');
  const log: string[] = [];
  const stack = await EdgeStack.start({ config: file, blockLists: [drop], admin: { host: '127.0.0.1', port: 0 } }, { log: (l) => log.push(l) });
  try {
    assert.equal(await status(stack, '203.0.113.1', '/admin'), 403);
    assert.equal(await status(stack, '203.0.113.1', '/secret'), 200);
    assert.equal(await status(stack, '198.51.100.9', '/'), 403, '--block-list');
    // A rule added at run time over the admin API.
    const add = await fetch(`${stack.admin?.url}/api/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'custom_rule', id: 'no-curl', expression: 'http.request.uri.path eq "/curl-only"', action: 'block' }),
    });
    assert.equal(add.status, 201, await add.clone().text());
    assert.equal(await status(stack, '203.0.113.1', '/curl-only'), 403);

    // A request whose head the old gate saw finishes with it.
    const inflight = request('203.0.113.2', '/');
    await stack.gate.head(inflight);
    const oldGate = stack.edgeGate;

    writeFileSync(file, config('/secret'));
    assert.deepEqual(await stack.reload(), { ok: true });
    assert.notEqual(stack.edgeGate, oldGate);
    assert.equal(await status(stack, '203.0.113.1', '/secret'), 403, 'the new rule');
    assert.equal(await status(stack, '203.0.113.1', '/admin'), 200, 'the old rule gone');
    assert.equal(await status(stack, '203.0.113.1', '/curl-only'), 403, 'the runtime rule kept');
    assert.equal(await status(stack, '198.51.100.9', '/'), 403, 'the block list read again');
    let seen = 0;
    const detach = oldGate.observe(() => seen++);
    stack.gate.done?.(inflight, { status: 200, by: 'origin', bytesIn: 1, bytesOut: 1, durationMs: 1 });
    detach();
    assert.equal(seen, 1, 'the in-flight request ended on the gate that saw its head');
    const rules = (await (await fetch(`${stack.admin?.url}/api/rules`)).json()) as { rules: Array<{ id: string }> };
    assert.deepEqual(
      rules.rules.map((r) => r.id),
      ['no-curl'],
      'the admin API follows the reload',
    );

    writeFileSync(file, `${config('/secret')}  counters: { store: nowhere }\n`);
    const bad = await stack.reload();
    assert.equal(bad.ok, false);
    assert.match((bad as { error: string }).error, /palisade\.yaml:\d+:\d+/);
    assert.equal(await status(stack, '203.0.113.1', '/secret'), 403, 'the old configuration serves on');
    assert.equal(stack.reloads, 1);
  } finally {
    await stack.close();
  }
});
