/**
 * The Flowspec enforcer without daemons: ExaBGP's pipe protocol against a stand-in on real FIFOs
 * (answers left by others before ours, a dead ExaBGP, a silent one), what it refuses to announce,
 * and what it remembers per mitigation (replacing, shared routes, a failed apply). The real thing,
 * ExaBGP announcing to BIRD, is flowspec-bird.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildMitigation } from '../../../src/export/mitigation.js';
import { type ExaBgpAnswer, exabgpExchange, FlowspecEnforcer, pipeBase } from '../../../src/incidents/enforce/flowspec.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-flowspec-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function fifos(): string {
  const base = join(dir, `exabgp${n++}`);
  execFileSync('mkfifo', [`${base}.in`, `${base}.out`]);
  return base;
}

/** ExaBGP's CLI side as 4.2 does it: reads `.in`, writes each answer line to `.out` opened afresh (held until someone reads). */
function standIn(base: string, answer: (line: string) => string[], stale: string[] = []): () => void {
  const r = openSync(`${base}.in`, constants.O_RDWR | constants.O_NONBLOCK);
  const out: string[] = [...stale];
  let got = '';
  const buf = Buffer.alloc(4096);
  const timer = setInterval(() => {
    try {
      const k = readSync(r, buf, 0, buf.length, null);
      got += buf.toString('utf8', 0, k);
    } catch {}
    let nl = got.indexOf('\n');
    while (nl >= 0) {
      out.push(...answer(got.slice(0, nl)));
      got = got.slice(nl + 1);
      nl = got.indexOf('\n');
    }
    while (out.length > 0) {
      let w: number;
      try {
        w = openSync(`${base}.out`, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch {
        break; // nobody reads: keep it
      }
      writeSync(w, `${out.shift()}\n`);
      closeSync(w);
    }
  }, 2);
  return () => {
    clearInterval(timer);
    closeSync(r);
  };
}

const exa = (line: string): string[] => (line === 'version' ? ['exabgp 4.2.21', 'done'] : line.startsWith('announce ') || line.startsWith('withdraw ') ? ['done'] : ['error']);

test('answers come back one per command, those others left in the pipe before ours skipped', async () => {
  const base = fifos();
  const stop = standIn(base, exa, ['error', 'done', 'error']);
  try {
    const a = await exabgpExchange(
      base,
      ['announce flow route { match { destination 192.0.2.1/32; } then { discard; } }', 'bogus', 'withdraw flow route { match { destination 192.0.2.1/32; } then { discard; } }'],
      3000,
    );
    assert.deepEqual(a, ['done', 'error', 'done']);
  } finally {
    stop();
  }
});

test('a dead ExaBGP, a silent one and a missing pipe are errors that name the pipe, in bounded time', async () => {
  const dead = fifos();
  let t = Date.now();
  await assert.rejects(exabgpExchange(dead, ['version'], 3000), new RegExp(`nothing reads ${dead}\\.in: ExaBGP is not running`));
  assert.ok(Date.now() - t < 500);
  const silent = fifos();
  const stop = standIn(silent, () => []);
  t = Date.now();
  try {
    await assert.rejects(
      exabgpExchange(silent, ['announce flow route { match { destination 192.0.2.1/32; } then { discard; } }'], 300),
      new RegExp(`no answer from ExaBGP on ${silent}\\.out within 300 ms`),
    );
  } finally {
    stop();
  }
  assert.ok(Date.now() - t < 1000);
  await assert.rejects(exabgpExchange(join(dir, 'none'), [], 300), /no .*none\.out: ExaBGP's answer pipe/);
  // the enforcer turns them into outcomes for the timeline, never a throw
  const fs = new FlowspecEnforcer({ pipe: `${dead}.in`, timeoutMs: 300 });
  const r = await fs.apply('m1', 'announce flow route { match { destination 192.0.2.1/32; } then { discard; } }\n');
  assert.equal(r.ok, false);
  assert.match(r.error ?? '', /nothing reads .*\.in/);
  assert.equal(pipeBase('/run/exabgp/exabgp.out'), '/run/exabgp/exabgp');
});

test('what Flowspec cannot carry is refused with the reason: a SYN flood keyed on the TCP window', () => {
  const fs = new FlowspecEnforcer({ pipe: '/nonexistent' });
  const rs = (expression: string) => buildMitigation({ expression, id: 'm1', description: 'test' }).ruleset;
  const syn = fs.script('m1', rs('ip.dst == 203.0.113.10 and tcp.flags.syn and not tcp.flags.ack and tcp.window == 16384 and tcp.dstport == 80'));
  assert.equal(syn.text, '');
  assert.match(syn.problems.join('; '), /tcp\.window cannot be expressed in Flowspec/);
  const ntp = fs.script('m1', rs('ip.dst == 203.0.113.20 and udp.srcport == 123'));
  assert.deepEqual(ntp, { text: 'announce flow route { match { protocol [ =17 ]; source-port [ =123 ]; destination 203.0.113.20/32; } then { discard; } }\n', problems: [] });
});

test('per mitigation: an apply replaces its routes, a shared route stays until the last, a failed apply is withdrawn whole', async () => {
  const sent: string[][] = [];
  let answer: ExaBgpAnswer = 'done';
  const fake = async (_base: string, commands: readonly string[]): Promise<ExaBgpAnswer[]> => {
    sent.push([...commands]);
    return commands.map(() => answer);
  };
  const fs = new FlowspecEnforcer({ pipe: '/run/exabgp/exabgp' }, fake);
  const route = (port: number, then = 'discard;') => `announce flow route { match { destination 192.0.2.1/32; destination-port [ =${port} ]; } then { ${then} } }`;
  assert.equal((await fs.apply('m1', `${route(80)}\n${route(443)}\n`)).ok, true);
  assert.deepEqual(sent.pop(), [route(80), route(443)]);
  // 80 goes, 443 stays (announced again: harmless), 8080 comes; a new action on 443 is the same route for BGP
  await fs.apply('m1', `${route(443, 'rate-limit 1000;')}\n${route(8080)}\n`);
  assert.deepEqual(sent.pop(), [route(443, 'rate-limit 1000;'), route(8080), route(80).replace('announce', 'withdraw')]);
  await fs.apply('m2', `${route(8080)}\n`);
  sent.length = 0;
  await fs.remove('m1');
  assert.deepEqual(sent.pop(), [route(443, 'rate-limit 1000;').replace('announce', 'withdraw')], '8080 is still m2’s');
  await fs.remove('m2');
  assert.deepEqual(sent.pop(), [route(8080).replace('announce', 'withdraw')]);
  // ExaBGP refused: the outcome says which and where; remove() still withdraws all that may be out
  answer = 'error';
  const r = await fs.apply('m3', `${route(53)}\n`);
  assert.equal(r.ok, false);
  assert.match(r.error ?? '', /ExaBGP \(\/run\/exabgp\/exabgp\.in\) answered error to 1 of 1 command\(s\), see its log: announce flow route/);
  answer = 'done';
  assert.equal((await fs.remove('m3')).ok, true);
  assert.deepEqual(sent.pop(), [route(53).replace('announce', 'withdraw')]);
  assert.deepEqual(fs.routes('m3'), []);
});
