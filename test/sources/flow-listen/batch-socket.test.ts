/**
 * The recvmmsg reader (native/udp-batch.c through src/sources/flow-listen/batch-socket.ts), on
 * loopback only: it must be built wherever set-up had a C compiler; every datagram arrives with its
 * bytes, length, source address and port as node:dgram would report them (IPv4, IPv6, IPv4 on a
 * dual-stack socket); bind errors carry the errno name; and a FlowCollector reading with it counts
 * exactly what one reading with node:dgram counts on the same corpus replay.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseListenAddress } from '../../../src/sources/flow-listen/address.js';
import { BatchSocket, loadBatchSocket, Meta, nativeNote, SLOT } from '../../../src/sources/flow-listen/batch-socket.js';
import { FlowCollector } from '../../../src/sources/flow-listen/collector.js';
import { FLOWS, freePort, payloads, sendAll, senderSocket } from './replay.js';

const haveCompiler = spawnSync('sh', ['-c', 'command -v cc']).status === 0;

function bound(family: 'udp4' | 'udp6', host: string, port = 0): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket(family);
    s.once('error', reject);
    s.bind(port, host, () => resolve(s));
  });
}

function send(s: Socket, data: Uint8Array, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => s.send(data, port, host, (e) => (e ? reject(e) : resolve())));
}

interface Got {
  bytes: Uint8Array;
  sent: number;
  port: number;
  family: number;
  addr: number[];
}

/** Collect `count` datagrams from a BatchSocket (bounded by a timer). */
function receive(b: BatchSocket, count: number, ms = 5000): Promise<Got[]> {
  const got: Got[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} datagrams in ${ms} ms`)), ms);
    b.start((n) => {
      for (let i = 0; i < n; i++) {
        const m = i * b.metaStride;
        const len = b.meta[m + Meta.LEN] as number;
        got.push({
          bytes: b.data.slice(i * SLOT, i * SLOT + len),
          sent: b.meta[m + Meta.SENT] as number,
          port: b.meta[m + Meta.PORT] as number,
          family: b.meta[m + Meta.FAMILY] as number,
          addr: Array.from(b.meta.subarray(m + Meta.ADDR, m + Meta.ADDR + 4), (x) => x >>> 0),
        });
      }
      if (got.length >= count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

const lib = loadBatchSocket();

test('the recvmmsg addon is built wherever set-up had a C compiler', () => {
  if (haveCompiler) assert.ok(lib !== null, `build/udp-batch.node: ${nativeNote} (npm run build runs scripts/build-native.sh)`);
  else assert.equal(lib, null);
});

test('IPv4: bytes, lengths and sources of datagrams of 1, 1,400 and 65,507 bytes from two senders', { skip: lib === null && 'addon not built (no compiler)' }, async () => {
  const b = new BatchSocket(lib as NonNullable<typeof lib>, 4, '127.0.0.1', 0, 1 << 20);
  const { port } = b.address();
  assert.ok(port > 0);
  assert.ok(b.recvBufferSize() >= 4096);
  const a = await bound('udp4', '127.0.0.2');
  const c = await bound('udp4', '127.0.0.3');
  const portOf = new Map([
    [a, a.address().port],
    [c, c.address().port],
  ]);
  const sizes = [1, 1400, 65507];
  const payload = (n: number, k: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + k) & 0xff);
  const want: Array<{ data: Uint8Array; from: Socket; host: number }> = [];
  for (const [k, n] of sizes.entries()) {
    want.push({ data: payload(n, k), from: a, host: 0x7f000002 });
    want.push({ data: payload(n, k + 3), from: c, host: 0x7f000003 });
  }
  const done = receive(b, want.length);
  for (const w of want) await send(w.from, w.data, port, '127.0.0.1');
  const got = await done;
  b.close();
  a.close();
  c.close();
  assert.equal(got.length, want.length);
  // Loopback keeps order per sender; match each received datagram to what was sent by content.
  for (const g of got) {
    const w = want.find((x) => x.data.length === g.bytes.length && Buffer.compare(Buffer.from(x.data), Buffer.from(g.bytes)) === 0);
    assert.ok(w, `a received datagram of ${g.bytes.length} bytes was sent`);
    assert.equal(g.sent, w.data.length);
    assert.equal(g.family, 4);
    assert.equal(g.addr[0], w.host);
    assert.equal(g.port, portOf.get(w.from));
  }
});

test('a dual-stack [::] socket: IPv6 sources as IPv6, IPv4 ones as IPv4 (not ::ffff:)', { skip: lib === null && 'addon not built (no compiler)' }, async () => {
  let b: BatchSocket;
  try {
    b = new BatchSocket(lib as NonNullable<typeof lib>, 6, '::', 0, 1 << 20);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAFNOSUPPORT') return; // no IPv6 on this host
    throw err;
  }
  const { port, address } = b.address();
  assert.equal(address, '::');
  const six = await bound('udp6', '::1');
  const four = await bound('udp4', '127.0.0.9');
  const sixPort = six.address().port;
  const done = receive(b, 2);
  await send(six, Uint8Array.of(6), port, '::1');
  await send(four, Uint8Array.of(4), port, '127.0.0.9');
  const got = await done;
  b.close();
  six.close();
  four.close();
  const g6 = got.find((g) => g.bytes[0] === 6);
  const g4 = got.find((g) => g.bytes[0] === 4);
  assert.deepEqual(g6?.addr, [0, 0, 0, 1]);
  assert.equal(g6?.family, 6);
  assert.equal(g6?.port, sixPort);
  assert.equal(g4?.family, 4);
  assert.equal(g4?.addr[0], 0x7f000009);
});

test('bind errors carry the errno name node:dgram would give', { skip: lib === null && 'addon not built (no compiler)' }, async () => {
  const taken = await bound('udp4', '127.0.0.1');
  const port = taken.address().port;
  assert.throws(
    () => new BatchSocket(lib as NonNullable<typeof lib>, 4, '127.0.0.1', port, 0),
    (e: NodeJS.ErrnoException) => e.code === 'EADDRINUSE',
  );
  taken.close();
  assert.throws(
    () => new BatchSocket(lib as NonNullable<typeof lib>, 4, '192.0.2.1', 0, 0),
    (e: NodeJS.ErrnoException) => e.code === 'EADDRNOTAVAIL',
  );
});

test('closing inside a batch stops the deliveries; close twice is harmless', { skip: lib === null && 'addon not built (no compiler)' }, async () => {
  const b = new BatchSocket(lib as NonNullable<typeof lib>, 4, '127.0.0.1', 0, 1 << 20);
  const { port } = b.address();
  const s = await bound('udp4', '127.0.0.1');
  let calls = 0;
  b.start(() => {
    calls++;
    b.close();
  });
  for (let i = 0; i < 200; i++) await send(s, Uint8Array.of(i), port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 200));
  s.close();
  b.close();
  assert.equal(calls, 1);
});

test('a FlowCollector counts the same reading with recvmmsg and with node:dgram', { timeout: 60_000, skip: lib === null && 'addon not built (no compiler)' }, async () => {
  const file = 'ipfix_softflowd_biflow_carpet_bombing.pcap';
  const data = await payloads(join(FLOWS, file));
  const run = async (dgramOnly: boolean) => {
    const port = await freePort();
    const c = new FlowCollector({ listen: [parseListenAddress('ipfix', `127.0.0.1:${port}`)], maxDatagrams: data.length, maxDurationMs: 30_000, dgramOnly });
    await c.start();
    const s = await senderSocket('127.0.0.5');
    await sendAll(s, data, '127.0.0.1', port, 32, 1);
    s.close();
    const snap = await c.done;
    return { snap, reader: snap.listeners[0]?.reader };
  };
  const fast = await run(false);
  const slow = await run(true);
  assert.equal(fast.reader, 'recvmmsg');
  assert.equal(slow.reader, 'node:dgram');
  assert.equal(fast.snap.stopped, 'count');
  assert.equal(fast.snap.datagrams, data.length);
  for (const k of ['datagrams', 'bytes', 'records'] as const) assert.equal(fast.snap[k], slow.snap[k], k);
  assert.deepEqual(fast.snap.exporters, slow.snap.exporters);
  assert.equal(fast.snap.exporters[0]?.address, '127.0.0.5');
  assert.deepEqual(fast.snap.decoder, slow.snap.decoder);
});
