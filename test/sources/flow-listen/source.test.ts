/**
 * The collector as a Source, in process: a sampled NetFlow v9 export (softflowd -s 10) replayed to
 * it gives the truth file's records, each carrying its weight (the announced 1:10), and `read`
 * resolves with the collector's counters when the count is reached or stop() is called.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseListenAddress } from '../../../src/sources/flow-listen/address.js';
import { flowListenSource } from '../../../src/sources/flow-listen/source.js';
import { FLOWS, freePort, payloads, sendAll, senderSocket } from './replay.js';

const FILE = 'nf9_softflowd_udp_flood_1in10.pcap';

test('a UDP listener as a Source of weighted flow records', { timeout: 60_000 }, async () => {
  const truth = JSON.parse(readFileSync(join(FLOWS, FILE.replace(/\.pcap$/, '.truth.json')), 'utf8')) as {
    datagrams: number;
    netflow_ipfix: { flow_records: number; packets: number };
  };
  const port = await freePort();
  const src = flowListenSource({ listen: [parseListenAddress('netflow', `127.0.0.1:${port}`)], maxDatagrams: truth.datagrams, maxDurationMs: 30_000 });
  assert.equal(src.kind, 'flow');
  assert.equal(src.replayable, false);
  assert.equal(src.name, `netflow@127.0.0.1:${port}`);
  let records = 0;
  let weighted = 0;
  const done = src.read((v) => {
    records++;
    weighted += v.packets * v.samplingRate;
  });
  // read() binds before it waits: give it a moment, then replay.
  await new Promise((r) => setTimeout(r, 100));
  const s = await senderSocket('127.0.0.1');
  await sendAll(s, await payloads(join(FLOWS, FILE)), '127.0.0.1', port, 32, 1);
  s.close();
  const info = await done;
  assert.equal(info.collector.stopped, 'count');
  assert.equal(info.records, truth.netflow_ipfix.flow_records);
  assert.equal(records, truth.netflow_ipfix.flow_records);
  // Records after the options record that announces 1:10 carry it; softflowd sends that record first.
  assert.equal(weighted, truth.netflow_ipfix.packets * 10);
  await assert.rejects(
    src.read(() => {}),
    /read once/,
  );
});

test('stop() ends a read with the counters so far', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const src = flowListenSource({ listen: [parseListenAddress('ipfix', `127.0.0.1:${port}`)], maxDurationMs: 20_000 });
  const done = src.read(() => {});
  await new Promise((r) => setTimeout(r, 100));
  src.stop('signal');
  const info = await done;
  assert.equal(info.collector.stopped, 'signal');
  assert.equal(info.records, 0);
});
