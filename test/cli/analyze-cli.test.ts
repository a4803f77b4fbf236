/** The analyze command as a user runs it: stdin from tcpdump, human tables, help, exit codes. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { CORPUS } from '../helpers/tshark.js';

const CLI = 'bin/palisade.js';
const SYN = join(CORPUS, 'ddos/pkt.TCP.synflood.spoofed.pcap');

test('tcpdump -w - | palisade analyze - gives the same figures as reading the file', () => {
  const sh = spawnSync('sh', ['-c', `tcpdump -r '${SYN}' -w - 2>/dev/null | ${process.execPath} ${CLI} analyze --json -`], { encoding: 'utf8', maxBuffer: 1 << 26 });
  assert.equal(sh.status, 0, sh.stderr);
  const fromPipe = JSON.parse(sh.stdout);
  const direct = JSON.parse(spawnSync(process.execPath, [CLI, 'analyze', '--json', SYN], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout);
  assert.equal(fromPipe.capture.file, '-');
  assert.equal(fromPipe.capture.packets, 37841);
  assert.deepEqual(fromPipe.traffic.protocols, direct.traffic.protocols);
  assert.deepEqual(fromPipe.traffic.timeline, direct.traffic.timeline);
  assert.deepEqual(fromPipe.traffic.top_destinations, direct.traffic.top_destinations);
});

test('human output: aligned tables, no colour codes when stdout is not a TTY', () => {
  const r = spawnSync(process.execPath, [CLI, 'analyze', SYN], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.doesNotMatch(r.stdout, /\x1b\[/);
  assert.match(r.stdout, /packets\s+37,841/);
  assert.match(r.stdout, /Top destinations[\s\S]*10\.10\.10\.10\s+37,841/);
  assert.match(r.stdout, /25565\/tcp\s+37,841/);
});

test('--help teaches: options and examples are printed', () => {
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /--json/);
  assert.match(r.stdout, /tcpdump -i eth0 -w - \| palisade analyze -/);
});

test('exit codes: usage error 2, unreadable input 3', () => {
  assert.equal(spawnSync(process.execPath, [CLI, 'analyze'], { encoding: 'utf8' }).status, 2);
  assert.equal(spawnSync(process.execPath, [CLI, 'frobnicate'], { encoding: 'utf8' }).status, 2);
  // No command: the help, on stderr, and a usage error; asking for help is not an error.
  const bare = spawnSync(process.execPath, [CLI], { encoding: 'utf8' });
  assert.equal(bare.status, 2);
  assert.equal(bare.stdout, '');
  assert.match(bare.stderr, /Commands:/);
  assert.equal(spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).status, 0);
  const r = spawnSync(process.execPath, [CLI, 'analyze', 'README.md'], { encoding: 'utf8' });
  assert.equal(r.status, 3);
  assert.match(r.stderr, /README\.md: not a pcap or pcapng capture/);
});
