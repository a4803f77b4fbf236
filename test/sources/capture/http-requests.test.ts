/**
 * HTTP requests followed through a capture's TCP connections (sources/capture/http-requests.ts):
 * segment by segment on hand-made packets (heads split across segments, pipelining, slowloris
 * heads closed by the server, cut heads, retransmissions and gaps, a spoofed flood against the
 * table's bound), then against tshark on a generated capture and on real browsing captures.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PacketView } from '../../../src/decode/view.js';
import { generate } from '../../../src/generate/generator.js';
import type { HttpRequest } from '../../../src/model/http.js';
import { Slot } from '../../../src/sources/accesslog/view.js';
import { readCapture } from '../../../src/sources/capture/capture.js';
import { HttpRequestExtractor } from '../../../src/sources/capture/http-requests.js';
import { gcsDuring } from '../../helpers/gc.js';

const CLIENT = 0x0a000001; // 10.0.0.1
const SERVER = 0xcb00710a; // 203.0.113.10
const T0 = 1772445600;

/** A TCP packet as the decoder leaves it in the view (only what the extractor reads). */
function pkt(v: PacketView, o: { fromClient: boolean; flags?: number; seq: number; data?: string; t: number; src?: number; cport?: number }): PacketView {
  const bytes = Buffer.from(o.data ?? '', 'latin1');
  v.reset();
  v.buf = new Uint8Array(bytes);
  v.ipVersion = 4;
  v.l4Proto = 6;
  const c = o.src ?? CLIENT;
  v.src4 = o.fromClient ? c : SERVER;
  v.dst4 = o.fromClient ? SERVER : c;
  const cport = o.cport ?? 40000;
  v.srcPort = o.fromClient ? cport : 80;
  v.dstPort = o.fromClient ? 80 : cport;
  v.tcpFlags = o.flags ?? 0x18;
  v.tcpSeq = o.seq >>> 0;
  v.payloadOff = 0;
  v.payloadLen = bytes.length;
  v.tsSec = T0 + Math.floor(o.t);
  v.tsNsec = Math.round((o.t - Math.floor(o.t)) * 1e9);
  return v;
}

function collect(opts?: ConstructorParameters<typeof HttpRequestExtractor>[1]): { x: HttpRequestExtractor; out: HttpRequest[] } {
  const out: HttpRequest[] = [];
  const x = new HttpRequestExtractor((r) => out.push(r.toHttpRequest()), opts);
  return { x, out };
}

describe('segment by segment', () => {
  test('a head split over three segments: one record at its last byte, duration from its first', () => {
    const { x, out } = collect();
    const v = new PacketView();
    const head = 'GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: t/1\r\nReferer: http://r/\r\nCookie: a=1; b=2\r\nAccept: */*\r\n\r\n';
    x.add(pkt(v, { fromClient: true, seq: 100, data: head.slice(0, 20), t: 1 }));
    x.add(pkt(v, { fromClient: false, flags: 0x10, seq: 500, t: 1.01 }));
    x.add(pkt(v, { fromClient: true, seq: 120, data: head.slice(20, 60), t: 1.2 }));
    x.add(pkt(v, { fromClient: true, seq: 160, data: head.slice(60), t: 1.5 }));
    assert.equal(out.length, 0, 'held until its answer');
    x.add(pkt(v, { fromClient: false, seq: 500, data: 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', t: 1.6 }));
    assert.equal(out.length, 1);
    const r = out[0] as HttpRequest;
    assert.equal(r.client.ip, '10.0.0.1');
    assert.equal(r.client.port, 40000);
    assert.equal(r.method, 'GET');
    assert.equal(r.path, '/a/b');
    assert.equal(r.query, 'x=1&y=2');
    assert.equal(r.host, 'www.example.com');
    assert.equal(r.user_agent, 't/1');
    assert.equal(r.referer, 'http://r/');
    assert.deepEqual(r.cookies, { a: '1', b: '2' });
    assert.equal(r.version, 'HTTP/1.1');
    assert.deepEqual(
      r.headers.map((h) => h.name),
      ['Host', 'User-Agent', 'Referer', 'Cookie', 'Accept'],
    );
    assert.equal(r.status, 404);
    assert.equal(r.time, new Date((T0 + 1.5) * 1000).toISOString());
    assert.equal(r.duration_ms, 500);
    assert.equal(x.stats.requests, 1);
  });

  test('pipelined requests in one segment get their answers in order; a retransmission is not a second request', () => {
    const { x, out } = collect();
    const v = new PacketView();
    const two = 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /3 HTTP/1.1\r\nHost: h\r\n\r\n';
    x.add(pkt(v, { fromClient: true, seq: 1, data: two, t: 1 }));
    x.add(pkt(v, { fromClient: true, seq: 1, data: two, t: 1.1 }));
    x.add(pkt(v, { fromClient: false, seq: 9, data: 'HTTP/1.1 200 OK\r\n\r\n', t: 1.2 }));
    x.add(pkt(v, { fromClient: false, seq: 28, data: 'HTTP/1.1 201 Created\r\n\r\n', t: 1.3 }));
    x.add(pkt(v, { fromClient: false, seq: 28, data: 'HTTP/1.1 201 Created\r\n\r\n', t: 1.31 }));
    x.add(pkt(v, { fromClient: false, seq: 52, data: 'HTTP/1.1 304 Not Modified\r\n\r\n', t: 1.4 }));
    assert.deepEqual(
      out.map((r) => `${r.method} ${r.path} ${r.status}`),
      ['GET /1 200', 'POST /2 201', 'GET /3 304'],
    );
    assert.equal(out[1]?.body_size, 5);
  });

  test('slowloris: a head that never ends is a 408 when the server closes, held for as long as it was open', () => {
    const { x, out } = collect();
    const v = new PacketView();
    x.add(pkt(v, { fromClient: true, seq: 1, data: 'GET /?12 HTTP/1.1\r\nUser-Agent: slow\r\n', t: 0 }));
    x.add(pkt(v, { fromClient: false, flags: 0x10, seq: 9, t: 0.05 }));
    x.add(pkt(v, { fromClient: true, seq: 38, data: 'X-a: 1\r\n', t: 15 }));
    x.add(pkt(v, { fromClient: true, seq: 46, data: 'X-a: 2\r\n', t: 30 }));
    x.add(pkt(v, { fromClient: false, flags: 0x11, seq: 9, t: 60 }));
    assert.equal(out.length, 1);
    const r = out[0] as HttpRequest;
    assert.equal(r.status, 408);
    assert.equal(r.duration_ms, 60000);
    assert.equal(r.user_agent, 'slow');
    assert.equal(r.path, '/');
    assert.equal(r.query, '12');
    assert.equal(x.stats.incomplete, 1);
    // The tool's next line after the close starts nothing.
    x.add(pkt(v, { fromClient: true, seq: 54, data: 'X-a: 3\r\n', t: 70 }));
    assert.equal(x.connections, 0);
  });

  test('unfinished heads become 408s at the end of the capture; a connection the server never acknowledged gives nothing', () => {
    const { x, out } = collect();
    const v = new PacketView();
    x.add(pkt(v, { fromClient: true, seq: 1, data: 'GET / HTTP/1.1\r\nHost: a\r\n', t: 0 }));
    x.add(pkt(v, { fromClient: false, flags: 0x10, seq: 9, t: 0.05 }));
    x.add(pkt(v, { fromClient: true, seq: 1, data: 'GET / HTTP/1.1\r\nHost: b\r\n\r\n', t: 1, src: 0x0a000002 }));
    x.finish((T0 + 10) * 1000);
    assert.deepEqual(
      out.map((r) => `${r.client.ip} ${r.status} ${r.duration_ms}`),
      ['10.0.0.1 408 10000'],
    );
    assert.equal(x.stats.unconfirmed, 1);
  });

  test('a head past the limit is cut and counted; a gap abandons the request in progress', () => {
    const { x, out } = collect({ maxHeaderBytes: 1024 });
    const v = new PacketView();
    const big = `GET /big HTTP/1.1\r\nHost: h\r\nX-Long: ${'a'.repeat(2000)}\r\n\r\n`;
    x.add(pkt(v, { fromClient: true, seq: 1, data: big.slice(0, 600), t: 0 }));
    x.add(pkt(v, { fromClient: false, flags: 0x10, seq: 9, t: 0.01 }));
    x.add(pkt(v, { fromClient: true, seq: 601, data: big.slice(600), t: 0.02 }));
    assert.equal(x.stats.cut, 1);
    x.add(pkt(v, { fromClient: true, seq: 1, data: 'GET /g HTTP/1.1\r\n', t: 1, cport: 40001 }));
    x.add(pkt(v, { fromClient: false, flags: 0x10, seq: 9, t: 1.01, cport: 40001 }));
    x.add(pkt(v, { fromClient: true, seq: 400, data: 'Host: h\r\n\r\n', t: 1.1, cport: 40001 }));
    assert.equal(x.stats.gaps, 1);
    x.finish((T0 + 2) * 1000);
    assert.deepEqual(
      out.map((r) => r.path),
      ['/big'],
    );
  });

  test('a segment the capture cut short (snap length) is a gap: the head it held is not made up', () => {
    const { x, out } = collect();
    const v = new PacketView();
    pkt(v, { fromClient: true, seq: 1, data: 'GET /cut HTTP/1.1\r\nHost: h\r\n', t: 0 });
    v.payloadWireLen = 400;
    x.add(v);
    x.add(pkt(v, { fromClient: false, flags: 0x10, seq: 9, t: 0.01 }));
    x.add(pkt(v, { fromClient: true, seq: 401, data: 'GET /next HTTP/1.1\r\nHost: h\r\n\r\n', t: 0.2 }));
    x.add(pkt(v, { fromClient: false, seq: 9, data: 'HTTP/1.1 200 OK\r\n\r\n', t: 0.3 }));
    assert.equal(x.stats.gaps, 1);
    assert.deepEqual(
      out.map((r) => `${r.path} ${r.status}`),
      ['/next 200'],
    );
  });

  test('a spoofed flood of partial requests stays within the table bound (evictions counted, no records)', () => {
    const { x, out } = collect({ maxConnections: 1024 });
    const v = new PacketView();
    for (let i = 0; i < 50_000; i++) x.add(pkt(v, { fromClient: true, seq: i, data: 'GET / HTTP/1.1\r\n', t: i / 1000, src: (0x30000000 + i) >>> 0 }));
    assert.ok(x.connections <= 1024, `${x.connections}`);
    assert.equal(x.stats.evicted, 50_000 - 1024);
    x.finish((T0 + 60) * 1000);
    assert.equal(out.length, 0);
    assert.equal(x.stats.unconfirmed, 1024);
  });

  test('no allocation for packets that are not HTTP: other ports, UDP, SYNs and bare ACKs to port 80 (2 M packets, no collection)', async () => {
    const { x } = collect();
    const views = [0, 1, 2, 3].map(() => new PacketView());
    pkt(views[0] as PacketView, { fromClient: true, seq: 1, data: 'x'.repeat(600), t: 0 }).dstPort = 443;
    pkt(views[1] as PacketView, { fromClient: true, seq: 1, data: 'GET / HTTP/1.1\r\n\r\n', t: 0 }).l4Proto = 17;
    pkt(views[2] as PacketView, { fromClient: true, flags: 0x02, seq: 1, t: 0 });
    pkt(views[3] as PacketView, { fromClient: true, flags: 0x10, seq: 1, t: 0 });
    const run = (): void => {
      for (let i = 0; i < 2_000_000; i++) x.add(views[i & 3] as PacketView);
    };
    run();
    assert.equal(await gcsDuring(run), 0);
    assert.equal(x.stats.connections, 0);
  });

  test('packets that are not TCP to an HTTP port are left alone', () => {
    const { x } = collect();
    const v = new PacketView();
    pkt(v, { fromClient: true, seq: 1, data: 'GET / HTTP/1.1\r\n\r\n', t: 0 });
    v.dstPort = 443;
    x.add(v);
    v.l4Proto = 17;
    v.dstPort = 80;
    x.add(v);
    assert.equal(x.stats.connections, 0);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'palisade-httpreq-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Our records of a capture as tshark prints them (source, method, URI, user agent); tshark lists complete heads only. */
async function ours(pcap: string): Promise<{ rows: string[]; unconfirmed: number }> {
  const rows: string[] = [];
  const x = new HttpRequestExtractor((v, head) => {
    if (head.partial) return;
    const r = v.toHttpRequest();
    rows.push([r.client.ip, r.method, v.has(Slot.QUERY) ? `${r.path}?${r.query}` : r.path, r.user_agent ?? ''].join('\t'));
  });
  let end = 0;
  await readCapture(pcap, (v) => {
    x.add(v);
    end = v.tsSec * 1000 + v.tsNsec / 1e6;
  });
  x.finish(end);
  return { rows: rows.sort(), unconfirmed: x.stats.unconfirmed };
}

function theirs(pcap: string): string[] {
  const out = execFileSync(
    'tshark',
    [
      '-r',
      pcap,
      '-Y',
      'http.request',
      '-T',
      'fields',
      '-E',
      'occurrence=l',
      '-e',
      'ip.src',
      '-e',
      'ipv6.src',
      '-e',
      'http.request.method',
      '-e',
      'http.request.uri',
      '-e',
      'http.user_agent',
    ],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 28,
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [ip4 = '', ip6 = '', ...rest] = l.split('\t');
      return [ip4 || ip6, ...rest].join('\t');
    })
    .sort();
}

describe('against tshark', () => {
  test('a generated capture with browsers, the benign mix and an HTTP flood: the same requests, field by field', async () => {
    const f = join(dir, 'flood.pcap');
    generate('http_flood', f, { packets: 60_000, seed: 3 });
    const mine = await ours(f);
    const ts = theirs(f);
    assert.ok(ts.length > 1000, `${ts.length} requests`);
    // tshark also lists requests the server had not acknowledged when the capture ended.
    assert.equal(mine.rows.length + mine.unconfirmed, ts.length);
    const missing = new Map<string, number>();
    for (const r of ts) missing.set(r, (missing.get(r) ?? 0) + 1);
    for (const r of mine.rows) {
      const n = missing.get(r) ?? 0;
      assert.ok(n > 0, `not in tshark's list: ${r}`);
      missing.set(r, n - 1);
    }
  });

  for (const name of ['http_get', 'wikipedia', 'workshop_2011_browse', 'http-vlan-0', 'nflog-http']) {
    const f = `/work/shared/corpus/real/edge/${name}.pcap`;
    test(`real capture ${name}: the same requests as tshark`, { skip: !existsSync(f) && 'corpus not present' }, async () => {
      const mine = await ours(f);
      assert.deepEqual(mine.rows, theirs(f));
    });
  }
});
