/**
 * `palisade monitor --retention AGE`: at start (and hourly) the store loses closed incidents
 * last changed before the cutoff, with their alerts, and summaries older than it; open incidents
 * and recent ones stay. The monitor watches an empty capture, so the run is its start alone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../../src/incidents/store/open.js';
import { alert } from '../incidents/store/fixtures.js';
import { cli } from './store-cli-run.js';

const DAY = 86_400_000;
const ago = (days: number): string => new Date(Date.now() - days * DAY).toISOString();

test('monitor --retention 90d deletes the closed incidents and summaries older than 90 days at start, and nothing else', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-retention-'));
  const db = join(dir, 'palisade.db');
  // a classic pcap with no packets (the global header: magic, 2.4, snaplen 65535, Ethernet)
  const pcap = join(dir, 'empty.pcap');
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  writeFileSync(pcap, head);
  const store = await openStore(db);
  const old = (await store.createIncident({ title: 'old flood', severity: 'high', at: ago(200) })).number;
  const openOld = (await store.createIncident({ title: 'still open', severity: 'high', at: ago(200) })).number;
  const recent = (await store.createIncident({ title: 'last week', severity: 'high', at: ago(7) })).number;
  await store.upsertAlert(alert(1, { first_seen: ago(200), last_seen: ago(200), incident_id: old }));
  await store.upsertAlert(alert(2, { first_seen: ago(200), last_seen: ago(200), incident_id: openOld }));
  await store.upsertAlert(alert(3, { first_seen: ago(7), last_seen: ago(7), incident_id: recent }));
  await store.updateIncident(old, { status: 'resolved' }, ago(199));
  await store.updateIncident(recent, { status: 'resolved' }, ago(6));
  const second = (days: number): number => Math.floor((Date.now() - days * DAY) / 1000);
  // one second of each age, fixed now (the clock moves on while the test runs)
  const oldSecond = second(100);
  const recentSecond = second(1);
  await store.writeSummaries([oldSecond, recentSecond].map((s) => ({ sensor: 's1', second: s, packets: 1, bytes: 1, requests: 0, by_protocol: {}, by_vector: {}, by_victim: {} })));
  await store.close();

  const r = await cli(['monitor', '--replay', pcap, '--speed', '100', '--db', db, '--retention', '90d', '--sensor', 't']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /retention: 1 closed incident\(s\), 1 alert\(s\), 1 per-second summaries and 0 sent notification\(s\) older than the cutoff deleted/);

  const after = await openStore(db);
  try {
    const left = (await after.listIncidents({})).map((i) => i.number).sort();
    assert.deepEqual(left, [openOld, recent].sort());
    const rows = await after.readSummaries(0, second(-1));
    assert.deepEqual(
      rows.map((x) => x.second),
      [recentSecond],
    );
  } finally {
    await after.close();
  }
});
