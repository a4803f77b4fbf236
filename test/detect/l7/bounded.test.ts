/**
 * Memory stays bounded whatever the number of clients: a synthetic stream of 600,000 requests
 * from 600,000 distinct addresses (and a flood of new addresses at the end) through a detector
 * whose client table holds 16,384. The table never holds more than its capacity allows, the
 * evictions are counted, the heap does not grow with the stream, and the whole runs in linear
 * time (a table left clustered by evictions once made every insert probe thousands of slots).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { C } from '../../../src/detect/l7/clients.js';
import { L7Detector } from '../../../src/detect/l7/detector.js';
import { parserFor } from '../../../src/sources/accesslog/parsers.js';
import { HttpLogView } from '../../../src/sources/accesslog/view.js';

const pad = (n: number): string => String(n).padStart(2, '0');

function line(ip: number, sec: number, path: string, ua: string): string {
  const a = `${(ip >>> 24) & 255}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
  const h = 10 + Math.floor(sec / 3600);
  const m = Math.floor(sec / 60) % 60;
  return `${a} - - [02/Mar/2026:${pad(h)}:${pad(m)}:${pad(sec % 60)} +0000] "GET ${path} HTTP/1.1" 200 5120 "-" "${ua}" rt=0.010 host=www.example.com`;
}

test('the client table is bounded and its evictions counted; the heap does not grow with distinct addresses', { timeout: 120_000 }, () => {
  const det = new L7Detector({ maxClients: 16384 });
  const parser = parserFor('nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time host=$host');
  const view = new HttpLogView();
  const feed = (l: string): void => {
    assert.ok(parser.parse(l, view), l);
    det.add(view);
  };
  const N = 600_000;
  // A collector to call between measurements, without asking the test runner for --expose-gc.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const t0 = performance.now();
  let heapAt100k = 0;
  let peakEntries = 0;
  // 1,000 requests a second, every one from a new address, browsers fetching a page and an asset.
  for (let i = 0; i < N; i++) {
    const ip = (0x0b000000 + i * 7919) | 0;
    feed(line(ip, Math.floor(i / 1000), i % 2 === 0 ? '/products/x' : '/static/app.js', 'Mozilla/5.0 (X11; Linux x86_64) Chrome/142.0'));
    if (det.clients.entries > peakEntries) peakEntries = det.clients.entries;
    if (i === 100_000) {
      gc();
      heapAt100k = process.memoryUsage().heapUsed;
    }
  }
  gc();
  const heapEnd = process.memoryUsage().heapUsed;
  assert.ok(peakEntries <= (det.clients.capacity * 3) / 4, `at most 3/4 of ${det.clients.capacity} slots used (peak ${peakEntries})`);
  assert.ok(det.clients.evictedIdle + det.clients.evictedBusy >= N - det.clients.capacity, `evictions counted: ${det.clients.evictedIdle} idle, ${det.clients.evictedBusy} busy`);
  // Sampled rows and per-window state are bounded too: 500k more addresses cost under 24 MB of heap.
  assert.ok(heapEnd - heapAt100k < 24 * 1024 * 1024, `heap grew ${((heapEnd - heapAt100k) / 1048576).toFixed(1)} MB over 500k new addresses`);
  assert.equal(det.finish().length, 0, 'a steady stream of browsers is no attack');
  // Linear: well under 20 µs a record even on a loaded machine under the test runner.
  assert.ok(performance.now() - t0 < N * 0.02, `${N} records in ${(performance.now() - t0).toFixed(0)} ms`);
});

test('many sites: every host judged, those past the cap counted under (other), no hang', { timeout: 60_000 }, () => {
  const det = new L7Detector({ maxHosts: 64 });
  const parser = parserFor('nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" rt=$request_time host=$host');
  const view = new HttpLogView();
  // 200 sites, each asked a few times a second, for two minutes (a window table once looped forever at four hosts).
  for (let i = 0; i < 120_000; i++) {
    const l = line((0x0c000000 + (i % 5000)) | 0, Math.floor(i / 1000), '/', 'Mozilla/5.0').replace('host=www.example.com', `host=site${i % 200}.example`);
    assert.ok(parser.parse(l, view));
    det.add(view);
  }
  det.finish();
  assert.equal(det.hosts.length, 65, '64 sites and (other)');
  assert.equal(det.hosts[64]?.name, '(other)');
  assert.equal(
    det.hosts.reduce((n, h) => n + h.requests, 0),
    120_000,
  );
});

test('the client table starts small and grows as addresses come; each client keeps its counts across the growth', () => {
  const det = new L7Detector();
  const parser = parserFor('combined');
  const view = new HttpLogView();
  assert.ok(det.clients.capacity <= 4096, `starts small: ${det.clients.capacity} slots`);
  const N = 10_000;
  // three rounds over 10,000 addresses, a window (5 s) apart: the table grows during the first
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < N; i++) {
      const ip = (0x0b000000 + i * 7919) | 0;
      const l = line(ip, round * 10 + Math.floor((i * 5) / N), '/products/x', 'Mozilla/5.0').replace(/ rt=.*$/, '');
      assert.ok(parser.parse(l, view), l);
      det.add(view);
    }
  }
  assert.equal(det.clients.entries, N);
  assert.equal(det.clients.capacity, 16_384, 'doubled up to what 10,000 clients need at 3/4 full, not the 262,144 bound');
  assert.equal(det.clients.evictedIdle + det.clients.evictedBusy, 0);
  for (let i = 0; i < N; i++) {
    const c = det.clients.lookup((0x0b000000 + i * 7919) | 0, 4);
    assert.ok(c >= 0, `client ${i} still found`);
    assert.equal(det.clients.get(c, C.REQUESTS), 3);
    assert.equal(det.clients.get(c, C.PAGES), 3);
  }
  assert.equal(det.finish().length, 0);
});
