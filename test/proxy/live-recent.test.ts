/**
 * Live protection's measuring buffer (proxy/live/recent.ts) against the offline measuring path:
 * the same requests measured record by record (Measurer.add over full views) and over the ring's
 * columns (Measurer.addColumns, each constraint evaluated once per distinct value) give the same
 * tallies — after the ring has wrapped, and after its value tables were compacted — and the
 * exchange→log-view conversion (record.ts) reads what the detector needs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Col } from '../../src/detect/l7/columns.js';
import { Kind } from '../../src/detect/l7/detector.js';
import { hashString, RequestTraits } from '../../src/detect/l7/features.js';
import { Measurer, type MeasureTarget, T, type Tally } from '../../src/detect/l7/measure.js';
import type { EdgeRequest, Outcome } from '../../src/proxy/gate.js';
import { RecentRequests } from '../../src/proxy/live/recent.js';
import { fillLogView } from '../../src/proxy/live/record.js';
import type { HttpRequestView } from '../../src/scheme/http.js';
import { HttpLogView, Slot } from '../../src/sources/accesslog/view.js';
import { BROWSER_UAS, FLOOD_UA, Rng, T0 } from './live-driver.js';

interface Ex {
  req: EdgeRequest;
  outcome: Outcome;
  t: number;
}

/** A mixed stream: browsers, bots with a query, IPv6 clients, HTTP/2, odd methods, random paths. */
function stream(n: number, seed: number): Ex[] {
  const rng = new Rng(seed);
  const out: Ex[] = [];
  for (let i = 0; i < n; i++) {
    const bot = rng.next() < 0.4;
    const v6 = rng.next() < 0.05;
    const ip = v6 ? `2001:db8::${(rng.int(50) + 1).toString(16)}` : bot ? `172.16.0.${rng.int(200)}` : `10.0.${rng.int(4)}.${rng.int(250)}`;
    const path = bot ? '/' : rng.next() < 0.3 ? `/p/${rng.int(1e6)}` : rng.pick(['/', '/a', '/b.css', '/c.js']);
    const target = bot ? `${path}?q=${rng.int(1e6)}` : rng.next() < 0.1 ? `${path}?x=1` : path;
    const hs: Array<[string, string]> = [
      ['Host', rng.next() < 0.9 ? 'shop.example' : 'other.example'],
      ['User-Agent', bot ? FLOOD_UA : rng.pick(BROWSER_UAS)],
    ];
    if (!bot && rng.next() < 0.7) hs.push(['Cookie', 'sid=1']);
    if (!bot && rng.next() < 0.5) hs.push(['Referer', 'https://shop.example/']);
    if (rng.next() < 0.02) hs.push(['Referer', '']);
    const view: HttpRequestView = {
      method: rng.next() < 0.05 ? 'POST' : 'GET',
      target,
      host: hs[0]?.[1] as string,
      version: rng.next() < 0.3 ? 'HTTP/2' : 'HTTP/1.1',
      headers: hs,
      clientIp: ip,
      ssl: true,
      timestampMs: 0,
    };
    const req: EdgeRequest = { id: `x${i}`, view, clientIp: ip, peerIp: ip, headerOrder: [], ruleIds: [] };
    out.push({ req, outcome: { status: rng.next() < 0.1 ? 404 : 200, by: 'origin', bytesIn: 0, bytesOut: 10, durationMs: 5 }, t: T0 + i * 10 });
  }
  return out;
}

const TARGETS: MeasureTarget[] = [
  {
    kind: Kind.FLOOD,
    hostHash: hashString('shop.example'),
    expression: 'http.host eq "shop.example" and http.request.uri.path eq "/" and http.request.uri.query ne "" and http.cookie eq ""',
    parts: [
      { col: Col.HOST, text: 'http.host eq "shop.example"' },
      { col: Col.PATH, text: 'http.request.uri.path eq "/"' },
      { col: Col.QUERY, text: 'http.request.uri.query ne ""' },
      { col: Col.COOKIE, text: 'http.cookie eq ""' },
    ],
    fromMs: T0 + 2000,
    toMs: T0 + 60_000,
  },
  {
    kind: Kind.FLOOD,
    hostHash: hashString('shop.example'),
    expression: `http.host eq "shop.example" and http.user_agent in {"${FLOOD_UA}" "${BROWSER_UAS[0]}"} and http.request.version eq "HTTP/1.1" and http.referer eq "" and http.request.method eq "GET"`,
    parts: [
      { col: Col.HOST, text: 'http.host eq "shop.example"' },
      { col: Col.UA, text: `http.user_agent in {"${FLOOD_UA}" "${BROWSER_UAS[0]}"}` },
      { col: Col.VERSION, text: 'http.request.version eq "HTTP/1.1"' },
      { col: Col.REFERER, text: 'http.referer eq ""' },
      { col: Col.METHOD, text: 'http.request.method eq "GET"' },
    ],
    fromMs: T0,
    toMs: T0 + 1e9,
  },
  {
    kind: Kind.FLOOD,
    hostHash: hashString('other.example'),
    expression: 'http.host eq "other.example" and http.request.uri.path eq "/a"',
    parts: [
      { col: Col.HOST, text: 'http.host eq "other.example"' },
      { col: Col.PATH, text: 'http.request.uri.path eq "/a"' },
    ],
    fromMs: T0,
    toMs: T0 + 1e9,
  },
];

/** A tally as comparable data: totals and per-address rows, sorted by address. */
function summary(tl: Tally): unknown {
  const rows: string[] = [];
  for (let i = 0; i < tl.size; i++) {
    const cols: number[] = [];
    for (let c = 0; c < T.COUNT; c++) cols.push(tl.get(i, c as T));
    rows.push(`${tl.address(i)} ${cols.join(',')}`);
  }
  return { matched: tl.matched, host: tl.hostRequests, per24: [...tl.per24].sort(), others: tl.otherRequests, rows: rows.sort() };
}

function both(xs: Ex[], capacity: number): { byRecord: unknown[]; byColumns: unknown[]; ring: RecentRequests } {
  const ring = new RecentRequests(capacity);
  const tr = new RequestTraits(null);
  const v = new HttpLogView();
  for (const x of xs) {
    fillLogView(v, x.req, x.outcome, x.t);
    assert.ok(tr.read(v));
    ring.add(v, tr);
  }
  const a = new Measurer(TARGETS, null);
  for (const x of xs.slice(Math.max(0, xs.length - capacity))) a.add(fillLogView(v, x.req, x.outcome, x.t));
  const b = new Measurer(TARGETS, null);
  const { cols, parse } = ring.columns();
  b.addColumns(cols, parse);
  return { byRecord: a.tallies.map(summary), byColumns: b.tallies.map(summary), ring };
}

describe('the ring of recent requests', () => {
  it('measures as the record-by-record pass does', () => {
    const { byRecord, byColumns, ring } = both(stream(5000, 1), 10_000);
    assert.deepEqual(byColumns, byRecord);
    assert.equal(ring.size, 5000);
    assert.ok((byRecord[0] as { matched: number }).matched > 1000);
  });

  it('holds the last `capacity` requests, oldest first, after wrapping and compacting its value tables', () => {
    // 20,000 requests through 1,000 slots: a fifth of the paths are random, so the path table compacts.
    const xs = stream(20_000, 2);
    const { byRecord, byColumns, ring } = both(xs, 1000);
    assert.deepEqual(byColumns, byRecord);
    assert.equal(ring.size, 1000);
    assert.equal(ring.added, 20_000);
    assert.equal(ring.oldestMs, (xs[19_000] as Ex).t);
    // Some 3,500 distinct paths went through 1,000 slots: the path table was rebuilt, and stays bounded.
    const paths = new Set(xs.map((x) => x.req.view.target.split('?')[0])).size;
    const ids = ring.columns().cols.idCount(Col.PATH);
    assert.ok(paths > 3000 && ids <= 2000, `${paths} paths, ${ids} ids`);
  });
});

describe('an exchange as the detector reads it', () => {
  it('client, host, method, path and query apart, version, headers, status, time, durations', () => {
    const view: HttpRequestView = {
      method: 'GET',
      target: '/search?q=shoes',
      host: 'shop.example',
      version: 'HTTP/2',
      headers: [
        ['User-Agent', 'UA/1'],
        ['Referer', 'https://shop.example/'],
        ['Cookie', 'sid=1'],
      ],
      clientIp: '2001:db8::7',
      ssl: true,
      timestampMs: 0,
      ja4: 't13d1516h2_8daaf6152771_02713d6af862',
    };
    const req: EdgeRequest = { id: 'r', view, clientIp: '2001:db8::7', peerIp: '192.0.2.1', headerOrder: [], ruleIds: [], challenge: 'passed' };
    const v = fillLogView(new HttpLogView(), req, { status: 403, by: 'phase', mitigated: 'block', bytesIn: 0, bytesOut: 120, durationMs: 2 }, T0);
    assert.equal(v.get(Slot.CLIENT), '2001:db8::7');
    assert.equal(v.get(Slot.VIA), '192.0.2.1');
    assert.equal(v.get(Slot.HOST), 'shop.example');
    assert.equal(v.get(Slot.METHOD), 'GET');
    assert.equal(v.get(Slot.PATH), '/search');
    assert.equal(v.get(Slot.QUERY), 'q=shoes');
    assert.equal(v.get(Slot.USER_AGENT), 'UA/1');
    assert.equal(v.get(Slot.REFERER), 'https://shop.example/');
    assert.equal(v.get(Slot.COOKIE), 'sid=1');
    assert.equal(v.get(Slot.JA4), 't13d1516h2_8daaf6152771_02713d6af862');
    assert.equal(v.version, 20);
    assert.equal(v.status, 403);
    assert.equal(v.timeMs, T0);
    assert.equal(v.durationMs, 2);
    assert.equal(v.challenge, 'passed');
    const tr = new RequestTraits(null);
    assert.ok(tr.read(v));
    assert.equal(tr.fam, 6);
    assert.ok(tr.hasCookie && tr.hasReferer && tr.hasQuery && !tr.asset);
  });
});
