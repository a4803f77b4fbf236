/**
 * The records of src/model and the JSON Schemas of schema/ say the same thing: the vector names,
 * the fields each record has, and a record built from the types validates.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Attack } from '../../src/model/attack.js';
import { VECTORS } from '../../src/model/attack.js';
import type { FlowRecord } from '../../src/model/flow.js';
import type { HttpRequest } from '../../src/model/http.js';
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
  confidence: 1,
  evidence: 1,
  mitigation: 1,
  requests: 1,
  peak_rps: 1,
} satisfies Record<keyof Attack, 1>;
/** L7 attacks' fields (requests, peak rps): absent from L3/L4 attacks, whose output stays as it was. */
const OPTIONAL_ATTACK_KEYS = new Set(['requests', 'peak_rps']);

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
  confidence: 0.9,
  evidence: {
    out_of_state: 0.999,
    handshakes_completed: 0,
    sources_per_packet: 0.9,
    spoofed_likely: true,
    separating_fields: ['tcp.window'],
    signature: 'fields',
    field_signature: { expression: 'ip.dst == 203.0.113.10 and tcp.flags == 0x02', coverage: 1, collateral: 0 },
  },
  mitigation: { ruleset: null, nftables: '', iptables: '' },
};

test("the vector names of the model are the schema's", () => {
  assert.deepEqual([...VECTORS], attackSchema.properties.vector.enum);
});

test('the Attack type and the schema name the same fields, all required', () => {
  assert.deepEqual(Object.keys(ATTACK_KEYS).sort(), Object.keys(attackSchema.properties).sort());
  assert.deepEqual(
    [...attackSchema.required].sort(),
    Object.keys(ATTACK_KEYS)
      .filter((k) => !OPTIONAL_ATTACK_KEYS.has(k))
      .sort(),
  );
});

test('a record built from the types validates; breaking one field names it', () => {
  assert.equal(schemaErrors(sample, 'attack'), null);
  // No signature met the bar: null, with the evidence saying so.
  assert.equal(schemaErrors({ ...sample, signature: null, evidence: { ...sample.evidence, signature: 'none' } }, 'attack'), null);
  assert.equal(schemaProblem({ ...sample, start: '2026-13-45T00:00:00Z' }, 'attack'), 'start: expected an ISO-8601 UTC time');
  assert.equal(schemaProblem({ ...sample, vector: 'ddos' }, 'attack')?.startsWith('vector: expected one of "tcp_syn_flood"'), true);
  assert.equal(schemaProblem({ ...sample, signature: { ...sample.signature, collateral: -0.1 } }, 'attack'), 'signature.collateral: expected a share between 0 and 1');
  const { packets: _, ...noPackets } = sample;
  assert.equal(schemaProblem(noPackets, 'attack'), 'packets: missing; expected a number ≥ 0');
});

const schemaOf = (name: string) => JSON.parse(readFileSync(new URL(`../../schema/${name}.schema.json`, import.meta.url), 'utf8'));

const FLOW_KEYS = {
  exporter: 1,
  observation_domain: 1,
  start: 1,
  end: 1,
  src: 1,
  dst: 1,
  proto: 1,
  srcport: 1,
  dstport: 1,
  tcp_flags: 1,
  packets: 1,
  bytes: 1,
  sampling_rate: 1,
  input_if: 1,
  output_if: 1,
  src_as: 1,
  dst_as: 1,
} satisfies Record<keyof FlowRecord, 1>;

const HTTP_KEYS = {
  time: 1,
  client: 1,
  method: 1,
  host: 1,
  path: 1,
  query: 1,
  version: 1,
  headers: 1,
  cookies: 1,
  user_agent: 1,
  referer: 1,
  body_size: 1,
  status: 1,
  response_size: 1,
  duration_ms: 1,
  origin_ms: 1,
  tls: 1,
  challenge: 1,
  edge: 1,
  enrichment: 1,
} satisfies Record<keyof HttpRequest, 1>;

test('FlowRecord and HttpRequest: the types and the schemas name the same fields', () => {
  assert.deepEqual(Object.keys(FLOW_KEYS).sort(), Object.keys(schemaOf('flow-record').properties).sort());
  assert.deepEqual(Object.keys(HTTP_KEYS).sort(), Object.keys(schemaOf('http-request').properties).sort());
});

test('a flow record and an HTTP request built from the types validate; a bad field is named', () => {
  const flow: FlowRecord = {
    exporter: { ip: '192.0.2.1', protocol: 'ipfix' },
    observation_domain: 0,
    start: '2026-12-06T05:00:00Z',
    end: '2026-12-06T05:00:30Z',
    src: '198.51.100.7',
    dst: '203.0.113.10',
    proto: 17,
    srcport: 123,
    dstport: 44321,
    packets: 12,
    bytes: 5808,
    sampling_rate: 1000,
    src_as: 64500,
  };
  assert.equal(schemaErrors(flow, 'flow-record'), null);
  assert.equal(schemaProblem({ ...flow, sampling_rate: 0 }, 'flow-record'), 'sampling_rate: expected a number ≥ 1');
  assert.equal(schemaProblem({ ...flow, dstport: 70000 }, 'flow-record'), 'dstport: expected a port (0-65535)');
  const req: HttpRequest = {
    time: '2026-12-06T05:00:00.123Z',
    client: { ip: '198.51.100.7', port: 50123 },
    method: 'GET',
    host: 'www.example.com',
    path: '/login',
    query: 'next=%2F',
    version: 'HTTP/1.1',
    headers: [{ name: 'Host', value: 'www.example.com' }, { name: 'User-Agent' }],
    user_agent: 'curl/8.5.0',
    body_size: 0,
    status: 200,
    tls: { ja4: 't13d1516h2_8daaf6152771_02713d6af862', sni: 'www.example.com' },
    challenge: 'none',
  };
  assert.equal(schemaErrors(req, 'http-request'), null);
  assert.equal(schemaProblem({ ...req, headers: [{ value: 'x' }] }, 'http-request'), 'headers[0].name: missing');
  assert.equal(schemaProblem({ ...req, time: 'now' }, 'http-request'), 'time: expected an ISO-8601 UTC time');
});
