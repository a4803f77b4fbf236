/**
 * The records of src/model and the JSON Schemas of schema/ say the same thing: the vector names,
 * the fields each record has, and a record built from the types validates.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Attack } from '../../src/model/attack.js';
import { VECTORS } from '../../src/model/attack.js';
import { schemaErrors, schemaProblem } from '../../src/model/validate.js';

const attackSchema = JSON.parse(readFileSync(new URL('../../schema/attack.schema.json', import.meta.url), 'utf8'));

/** Every key of Attack, checked by the compiler: a field added to the type must be added here. */
const ATTACK_KEYS = {
  id: 1,
  vector: 1,
  victim: 1,
  start: 1,
  end: 1,
  detected_at: 1,
  packets: 1,
  bytes: 1,
  peak_pps: 1,
  peak_bps: 1,
  sources: 1,
  signature: 1,
  mitigation: 1,
} satisfies Record<keyof Attack, 1>;

const sample: Attack = {
  id: 'a1',
  vector: 'tcp_syn_flood',
  victim: { ip: '203.0.113.10', port: 443, protocol: 'tcp' },
  start: '2026-12-06T05:00:00Z',
  end: '2026-12-06T05:01:00.5Z',
  detected_at: '2026-12-06T05:00:02Z',
  packets: 1000,
  bytes: 60000,
  peak_pps: 100,
  peak_bps: 48000,
  sources: { unique: 900, spoofed_likely: true, top: [{ ip: '198.51.100.1', packets: 3 }] },
  signature: { expression: 'ip.dst == 203.0.113.10 and tcp.flags == 0x02', coverage: 1, collateral: 0 },
  mitigation: { ruleset: null, nftables: '', iptables: '' },
};

test("the vector names of the model are the schema's", () => {
  assert.deepEqual([...VECTORS], attackSchema.properties.vector.enum);
});

test('the Attack type and the schema name the same fields, all required', () => {
  assert.deepEqual(Object.keys(ATTACK_KEYS).sort(), Object.keys(attackSchema.properties).sort());
  assert.deepEqual([...attackSchema.required].sort(), Object.keys(ATTACK_KEYS).sort());
});

test('a record built from the types validates; breaking one field names it', () => {
  assert.equal(schemaErrors(sample, 'attack'), null);
  assert.equal(schemaProblem({ ...sample, start: '2026-13-45T00:00:00Z' }, 'attack'), 'start: expected an ISO-8601 UTC time');
  assert.equal(schemaProblem({ ...sample, vector: 'ddos' }, 'attack')?.startsWith('vector: expected one of "tcp_syn_flood"'), true);
  assert.equal(schemaProblem({ ...sample, signature: { ...sample.signature, collateral: -0.1 } }, 'attack'), 'signature.collateral: expected a share between 0 and 1');
  const { packets: _, ...noPackets } = sample;
  assert.equal(schemaProblem(noPackets, 'attack'), 'packets: missing; expected a number ≥ 0');
});
