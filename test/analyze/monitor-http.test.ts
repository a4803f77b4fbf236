/**
 * The monitor on HTTP logs: a labelled synthetic site (browsers, the site's scripts, a flash
 * crowd, then a cache-busting HTTP flood from 400 addresses) written as nginx log lines with the
 * host, read through the stream reader the monitor uses for stdin, on an injected clock (the
 * lines' own times), so ten minutes of traffic take seconds. One alert for the flood, with the
 * host as victim and a signature, raised within a minute of its start and ended after it
 * stopped; nothing for the flash crowd; the per-second summaries count every request.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { type HttpInput, monitorTraffic, type SecondSummary } from '../../src/analyze/monitor.js';
import type { AlertEvent } from '../../src/incidents/alerts.js';
import { readLogStream } from '../../src/sources/accesslog/stream.js';
import { browsers, flashCrowd, flood, HOST, type Req, Rng, scripts, T0 } from '../proxy/live-driver.js';

const MIN = 60_000;
const F0 = T0 + 4 * MIN;
const F1 = T0 + 6 * MIN;
const END = T0 + 10 * MIN;
const FORMAT = 'nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$host"';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function clf(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function line(r: Req): string {
  return `${r.ip} - - [${clf(r.t)}] "${r.method ?? 'GET'} ${r.target} HTTP/1.1" ${r.status ?? 200} 1234 "${r.referer ?? '-'}" "${r.ua}" "${HOST}"\n`;
}

test('monitor on an HTTP log: one alert for the flood (host, signature) within a minute, ended after it stopped; none for the flash crowd', { timeout: 120_000 }, async () => {
  const rng = new Rng(7);
  const reqs: Req[] = [];
  browsers(rng, reqs, 400, T0, END);
  scripts(rng, reqs, T0, END);
  flashCrowd(rng, reqs, 1500, T0 + 2 * MIN, MIN);
  flood(rng, reqs, { bots: 400, from: F0, to: F1, rate: 1.2, trait: 'query' });
  reqs.sort((a, b) => a.t - b.t);
  const floodReqs = reqs.filter((r) => r.label === 'flood').length;

  const clock = { t: T0 };
  const input: HttpInput = {
    name: 'synthetic nginx log',
    async run(onRequest) {
      const info = await readLogStream(
        Readable.from(reqs.map(line)),
        'synthetic',
        (v) => {
          clock.t = v.timeMs;
          onRequest(v);
        },
        { format: FORMAT },
      );
      return { lines: info.lines, records: info.records, malformed: info.malformed };
    },
  };
  const events: AlertEvent[] = [];
  const seconds: SecondSummary[] = [];
  const r = await monitorTraffic({
    http: [input],
    detection: {},
    services: [],
    sensor: 'test',
    now: () => clock.t,
    drain: false,
    onEvent: (e) => void events.push(e),
    onSecond: (s) => void seconds.push(s),
  });
  assert.equal(r.requests, reqs.length);
  assert.equal(r.malformedLines, 0);
  const starts = events.filter((e) => e.kind === 'start');
  assert.deepEqual(
    starts.map((e) => [e.alert.vector, e.alert.attack.victim.host]),
    [['http_flood', HOST]],
    `alerts: ${starts.map((e) => `${e.alert.vector} ${e.alert.victim} at ${e.alert.first_seen}`).join('; ')} (${floodReqs} flood requests)`,
  );
  const alert = (starts[0] as AlertEvent).alert;
  const raisedS = (Date.parse(alert.first_seen) - F0) / 1000;
  assert.ok(raisedS >= 0 && raisedS <= 60, `raised ${raisedS} s after the flood began`);
  assert.ok(alert.attack.signature !== null, 'the alert carries the signature');
  assert.ok(alert.attack.peak_rps !== undefined && alert.attack.peak_rps > 100, `peak ${alert.attack.peak_rps} req/s`);
  const ends = events.filter((e) => e.kind === 'end');
  assert.equal(ends.length, 1);
  assert.equal((ends[0] as AlertEvent).alert.id, alert.id);
  const endedS = (Date.parse((ends[0] as AlertEvent).alert.last_seen) - F1) / 1000;
  assert.ok(endedS >= 0 && endedS <= 240, `ended ${endedS} s after the flood stopped`);
  // updates are updates of the one alert, never a second alert
  assert.ok(events.every((e) => e.alert.id === alert.id));
  // every request is in the per-second summaries, each second once
  assert.equal(
    seconds.reduce((n, s) => n + s.requests, 0),
    reqs.length,
  );
  assert.equal(new Set(seconds.map((s) => s.second)).size, seconds.length);
  assert.ok(seconds.every((s) => (s.byProtocol.http_requests ?? 0) === s.requests));
});
