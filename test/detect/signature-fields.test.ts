/** The signature search's candidates come from the packet scheme; each must have a sample column. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { candidatesWithoutColumn, SEARCH_FIELDS, searchField } from '../../src/detect/l34/signature-fields.js';
import { packetScheme } from '../../src/scheme/packet.js';
import { fieldsWith } from '../../src/scheme/types.js';

test('every signature candidate of the packet scheme has a reservoir-sample column', () => {
  assert.deepEqual(candidatesWithoutColumn(), []);
  assert.equal(SEARCH_FIELDS.length, fieldsWith(packetScheme, 'signature').length);
});

test('candidates in rank order, with the catalogue domain and flags', () => {
  // The order the search has always used (on equal gain the first is kept: signatures depend on it).
  assert.deepEqual(
    SEARCH_FIELDS.map((f) => f.name),
    ['tcp.dstport', 'udp.dstport', 'udp.srcport', 'tcp.srcport', 'tcp.window', 'tcp.hdr_len', 'tcp.flags', 'udp.len', 'ip.ttl', 'ip.len', 'ip.proto.num', 'icmp.type'],
  );
  for (const f of SEARCH_FIELDS) {
    const sig = packetScheme.fields.get(f.name)?.caps?.signature;
    assert.ok(sig, f.name);
    assert.equal(f.min, sig.min, f.name);
    assert.equal(f.max, sig.max, f.name);
    assert.equal(f.hex === true, sig.hex === true, f.name);
    assert.equal(f.setOnly === true, sig.setOnly === true, f.name);
  }
  assert.throws(() => searchField('ip.dst'), /not a signature candidate/);
});
