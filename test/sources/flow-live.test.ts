/**
 * Live flow views (sources/flow-live.ts): a record counts from its arrival, its packets spread
 * over as many seconds after it as the flow lasted (at most SPREAD_S), each second handed over
 * once the clock passes it, in order, every packet accounted for (times the sampling rate).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LiveFlowViews, SPREAD_S } from '../../src/sources/flow-live.js';
import { flowRecord } from '../helpers/flow-view.js';

const T = Date.UTC(2026, 11, 6, 12, 0, 0);

test('a record arriving late is spread over the seconds after its arrival, all its packets counted, each second once and in order', () => {
  const live = new LiveFlowViews();
  // a 4 s flow that ended a minute before it arrived; and a 1-hour flow (spread over SPREAD_S at most)
  live.add(flowRecord('192.0.2.1', '198.51.100.7', 400, T - 64_000, T - 60_000), T + 250);
  live.add(flowRecord('192.0.2.2', '198.51.100.7', 3600, T - 3_600_000, T, 10), T + 500);
  const seen: Array<[number, number]> = [];
  live.drain(Math.floor(T / 1000) + 2, (v) => void seen.push([v.tsSec, v.weight]));
  // only the seconds before the clock's (T/1000, T/1000 + 1) so far
  assert.ok(seen.every(([s]) => s < Math.floor(T / 1000) + 2));
  live.drain(Math.floor(T / 1000) + 60, (v) => void seen.push([v.tsSec, v.weight]));
  const secs = seen.map(([s]) => s);
  assert.deepEqual(
    secs,
    [...secs].sort((a, b) => a - b),
    'in second order',
  );
  const total = seen.reduce((n, [, w]) => n + w, 0);
  assert.equal(total, 400 + 3600 * 10);
  assert.equal(live.packets, total);
  const first = Math.floor(T / 1000);
  assert.ok(secs[0] === first && (secs.at(-1) as number) <= first + SPREAD_S, `${secs[0]}..${secs.at(-1)}`);
  assert.equal(live.late, 0);
  // nothing is handed over twice
  let again = 0;
  live.drain(Number.POSITIVE_INFINITY, () => void again++);
  assert.equal(again, 0);
});

test('the end of input hands over what is still spread ahead', () => {
  const live = new LiveFlowViews();
  live.add(flowRecord('192.0.2.1', '198.51.100.7', 100, T - 8000, T), T);
  let n = 0;
  live.drain(Number.POSITIVE_INFINITY, (v) => {
    n += v.weight;
  });
  assert.equal(n, 100);
});
