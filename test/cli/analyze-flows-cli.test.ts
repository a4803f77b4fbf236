/** `palisade analyze` on a capture of flow export, as a user runs it: recognised, reported, --as checked. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const CLI = 'bin/palisade.js';
const NF9 = join(import.meta.dirname, '../../../shared/corpus/flows/nf9_softflowd_dns_amplification.pcap');
const PACKETS = join(import.meta.dirname, '../../../shared/corpus/real/ddos/pkt.TCP.synflood.spoofed.pcap');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });

test('a NetFlow v9 export is analysed as flows without --as, and the report says what the records were', { skip: !existsSync(NF9) }, () => {
  const r = run('analyze', '--no-progress', NF9);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /flow export: 522 datagrams, 16,375 NetFlow v9/);
  assert.match(r.stdout, /dns_amplification/);
  assert.match(r.stdout, /without payload/);
  const j = JSON.parse(run('analyze', '--json', '--no-progress', NF9).stdout);
  assert.equal(j.capture.flows.records.netflow9, 16375);
  assert.equal(j.capture.packets, 49728);
});

test('--as packets reads the same file as the UDP datagrams it is; --as anything else is a usage error', { skip: !existsSync(NF9) }, () => {
  const j = JSON.parse(run('analyze', '--json', '--no-progress', '--as', 'packets', NF9).stdout);
  assert.equal(j.capture.packets, 522);
  assert.equal(j.capture.flows, undefined);
  const bad = run('analyze', '--as', 'netflow', NF9);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--as must be packets, flows or log/);
});

test('a packet capture is not taken for flow export', { skip: !existsSync(PACKETS) }, () => {
  const j = JSON.parse(run('analyze', '--json', '--no-progress', PACKETS).stdout);
  assert.equal(j.capture.flows, undefined);
  assert.equal(j.capture.packets, 37841);
});
