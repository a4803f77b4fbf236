/** `palisade filter` as a user runs it: pipes in and out, several -e, bad expressions. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { CORPUS } from '../helpers/tshark.js';

const RUN = `${process.execPath} --import tsx test/helpers/run-cli.ts`;
const SNMP = join(CORPUS, 'ddos/amp.UDP.snmp.src161.pcapng');

test('tcpdump -w - | palisade filter - -w - | tcpdump -r -: the pipe carries exactly the matching packets', () => {
  const sh = spawnSync('sh', ['-c', `tcpdump -r '${SNMP}' -w - 2>/dev/null | ${RUN} filter -e 'udp.srcport == 161 and ip.len > 1000' - -w - | tcpdump -nr - 2>/dev/null`], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  assert.equal(sh.status, 0, sh.stderr);
  const lines = sh.stdout.split('\n').filter(Boolean);
  const count = spawnSync('sh', ['-c', `${RUN} filter --count -e 'udp.srcport == 161 and ip.len > 1000' '${SNMP}'`], { encoding: 'utf8' });
  assert.equal(lines.length, Number(count.stdout.trim()));
  assert.ok(lines.length > 100);
  assert.ok(
    lines.every((l) => /\.161 > /.test(l)),
    'every packet is from port 161',
  );
});

test('several -e print one count per expression, in order', () => {
  const r = spawnSync('sh', ['-c', `${RUN} filter -e 'udp' -e 'udp.srcport == 161' -e 'ip.version == 4' '${SNMP}'`], { encoding: 'utf8' });
  assert.equal(r.status, 2, 'udp alone is Bytes, not a condition');
  assert.match(r.stderr, /error\[type\] at 0: udp is Bytes, not a condition/);
  const ok = spawnSync('sh', ['-c', `${RUN} filter -e 'udp.srcport == 161' -e 'ip.version == 4' -e 'ip.version == 6' '${SNMP}'`], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  const [a, b, c] = ok.stdout.trim().split('\n').map(Number);
  assert.equal(a, 4079);
  assert.ok((b as number) >= (a as number));
  assert.equal(c, 0);
});

test('an invalid expression: exit 2, the error class and a caret under the span; -w with several -e is a usage error', () => {
  const r = spawnSync('sh', ['-c', `${RUN} filter -e 'tcp.dstport == 80 and ip.src in {10.0.0.0/8,192.168.0.0/16}' '${SNMP}'`], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  const lines = r.stderr.split('\n');
  assert.match(lines[1] as string, /^error\[parse\] at 43: set items are separated by spaces, not commas/);
  assert.equal(lines[3], `${' '.repeat(43)}^`);
  const w = spawnSync('sh', ['-c', `${RUN} filter -e 'udp' -e 'tcp' '${SNMP}' -w /dev/null`], { encoding: 'utf8' });
  assert.equal(w.status, 2);
  assert.match(w.stderr, /-w takes one expression/);
});
