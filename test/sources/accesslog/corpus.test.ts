/**
 * Every corpus log GoAccess 1.7 parsed, read with the same format: our valid (records) and failed
 * (malformed) counts equal GoAccess's, and so do the hits of its top paths, except where we differ
 * on purpose (DIFFERENCES names the lines and says why). JSON logs: every line jq calls an object
 * is a record (or named below), its fields mapped as the raw JSON says.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { HttpRequest } from '../../../src/model/http.js';
import { schemaErrors } from '../../../src/model/validate.js';
import { type AccessLogInfo, readAccessLog } from '../../../src/sources/accesslog/reader.js';
import { Slot } from '../../../src/sources/accesslog/view.js';
import { corpusFiles, FORMAT_OF_LABEL, HAVE_CORPUS, LOGS, truthOf } from './corpus.js';

/** Lines where our verdict differs from GoAccess's, on purpose. */
const DIFFERENCES: Record<string, { malformed: number[]; why: string }> = {
  // `192.168.202.254 [20/Jul/2009...` has no ident and user fields; GoAccess's COMBINED skips to
  // `[` with %^ and accepts it, we hold a line to its format.
  'lnav/logfile_bad_access_log.0': { malformed: [2], why: 'ident/user fields missing' },
  // `192.168.1.1 - [08/Jun/2020...` likewise.
  'crowdsec-hub/nginx_http-logs/nginx_http-logs.log': { malformed: [4, 5, 6, 8, 9], why: 'line 5 lacks the ident field (GoAccess accepts it)' },
  // GoAccess's CADDY preset rejects 7 of the 10 access records (its notes say so); we read all 10.
  // Line 11 is Caddy's reverse_proxy debug message, not a request; line 12 is blank (skipped).
  'crowdsec-hub/caddy-logs/caddy-logs.log': {
    malformed: [11],
    why: "GoAccess 1.7's CADDY preset rejects records with Forwarded/X-Real-Ip headers; line 11 is not an access record",
  },
};

interface Read {
  info: AccessLogInfo;
  records: Array<{ r: HttpRequest; line: number; rawPath: string | undefined; rawQuery: string | undefined }>;
}

async function read(file: string, format?: string): Promise<Read> {
  const records: Read['records'] = [];
  const info = await readAccessLog(
    join(LOGS, file),
    (v) => {
      records.push({ r: v.toHttpRequest(), line: v.lineNo, rawPath: v.raw(Slot.PATH), rawQuery: v.raw(Slot.QUERY) });
    },
    format === undefined ? {} : { format },
  );
  return { info, records };
}

/**
 * What GoAccess shows as a request's path: path?query as written in the log (nginx escapes kept),
 * percent-decoded, read as UTF-8.
 */
function goaccessPath(x: Read['records'][number]): string {
  const raw = x.rawQuery === undefined ? (x.rawPath ?? '') : `${x.rawPath}?${x.rawQuery}`;
  const bytes = raw.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

const files = corpusFiles();

for (const file of files) {
  const truth = truthOf(file);
  const label = truth.log_format_label ?? null;
  if (label === null || truth.valid_requests == null) continue;
  const format = FORMAT_OF_LABEL[label];
  if (format === null || format === undefined) continue;

  test(`${file}: valid/failed as GoAccess (${label})`, { skip: !HAVE_CORPUS }, async () => {
    const { info, records } = await read(file, format);
    for (const x of records) assert.equal(schemaErrors(x.r, 'http-request'), null, `line ${x.line}`);
    const diff = DIFFERENCES[file];
    if (diff !== undefined) {
      assert.deepEqual(info.files[0].malformedLines, diff.malformed, diff.why);
      return;
    }
    assert.equal(info.records, truth.valid_requests, 'valid');
    assert.equal(info.malformed, truth.failed_requests, 'failed');
    // Top paths: GoAccess's hits for each path of its three panels (404s apart from the rest).
    const hits = new Map<string, number>();
    for (const x of records) {
      const k = `${x.r.status === 404 ? 'nf' : 'ok'} ${goaccessPath(x)}`;
      hits.set(k, (hits.get(k) ?? 0) + 1);
    }
    const theirs = new Map<string, number>();
    for (const e of [...(truth.top5_requests_panel ?? []), ...(truth.top5_static_requests_panel ?? [])]) theirs.set(`ok ${e.path}`, (theirs.get(`ok ${e.path}`) ?? 0) + e.hits);
    for (const e of truth.top5_not_found_panel ?? []) theirs.set(`nf ${e.path}`, e.hits);
    for (const [k, n] of theirs) assert.equal(hits.get(k), n, `hits of ${k}`);
  });
}

/** Raw JSON objects of a file by line number. */
function jsonLines(file: string): Map<number, Record<string, unknown>> {
  const out = new Map<number, Record<string, unknown>>();
  readFileSync(join(LOGS, file), 'utf8')
    .split('\n')
    .forEach((l, i) => {
      try {
        const o = JSON.parse(l) as unknown;
        if (o !== null && typeof o === 'object' && !Array.isArray(o)) out.set(i + 1, o as Record<string, unknown>);
      } catch {
        // not JSON: jq does not count it either
      }
    });
  return out;
}

const JSON_FILES: Array<{ file: string; format: string; notRequests?: number[]; check: (r: HttpRequest, o: Record<string, unknown>) => void }> = [
  ...['lnav/logfile_cloudflare.1', 'lnav/logfile_cloudflare.json'].map((file) => ({
    file,
    format: 'cloudflare',
    check(r: HttpRequest, o: Record<string, unknown>) {
      assert.equal(r.client.ip, o.ClientIP);
      assert.equal(r.method, o.ClientRequestMethod);
      assert.equal(r.host, o.ClientRequestHost);
      assert.equal(r.query === '' ? r.path : `${r.path}?${r.query}`, o.ClientRequestURI);
      assert.equal(r.status, o.EdgeResponseStatus);
      assert.equal(r.response_size, o.EdgeResponseBytes);
      const t = o.EdgeStartTimestamp;
      assert.equal(Date.parse(r.time), typeof t === 'number' ? Math.round(t / 1e6) : Date.parse(t as string));
      assert.equal(r.version, o.ClientRequestProtocol === 'HTTP/1.1' ? 'HTTP/1.1' : o.ClientRequestProtocol === 'HTTP/2' ? 'HTTP/2' : r.version);
      if (o.ClientRequestUserAgent) assert.equal(r.user_agent, o.ClientRequestUserAgent);
      if (typeof o.ClientASN === 'number') assert.equal(r.enrichment?.asn, o.ClientASN);
      if (o.ClientCountry) assert.equal(r.enrichment?.country, String(o.ClientCountry).toUpperCase());
    },
  })),
  ...['lnav/logfile_caddy_log.1', 'matomo-log-analytics/caddy_json.log', 'crowdsec-hub/caddy-logs/caddy-logs.log'].map((file) => ({
    file,
    format: 'caddy',
    notRequests: file.startsWith('crowdsec') ? [11] : [],
    check(r: HttpRequest, o: Record<string, unknown>) {
      const q = o.request as Record<string, unknown>;
      assert.equal(r.client.ip, q.client_ip ?? q.remote_ip);
      if (q.client_ip !== undefined && q.client_ip !== q.remote_ip) assert.equal(r.client.via, q.remote_ip);
      assert.equal(r.method, q.method);
      assert.equal(r.host, q.host);
      assert.equal(r.query === '' ? r.path : `${r.path}?${r.query}`, q.uri);
      // Caddy logs status 0 when no response was written: no status in the record (schema: 100..999).
      assert.equal(r.status, o.status === 0 ? undefined : o.status);
      assert.equal(r.response_size, o.size);
      assert.equal(Date.parse(r.time), Math.round((o.ts as number) * 1000));
      assert.ok(Math.abs((r.duration_ms ?? -1) - (o.duration as number) * 1000) < 1e-6);
      // Header order as logged, one entry per value; a header Caddy redacts (`[]`) is a name without a value.
      const names = Object.entries(q.headers as Record<string, string[]>).flatMap(([k, vs]) => (vs.length === 0 ? [k] : vs.map(() => k)));
      assert.deepEqual(
        r.headers.map((h) => h.name),
        names,
      );
    },
  })),
  ...['matomo-log-analytics/traefik_json.log', 'crowdsec-hub/traefik_json/traefik_json.log'].map((file) => ({
    file,
    format: 'traefik',
    check(r: HttpRequest, o: Record<string, unknown>) {
      assert.equal(r.client.ip, o.ClientHost);
      assert.equal(r.method, o.RequestMethod);
      assert.equal(r.host, o.RequestHost);
      assert.equal(r.query === '' ? r.path : `${r.path}?${r.query}`, o.RequestPath);
      assert.equal(r.status, Number(o.DownstreamStatus));
      assert.equal(r.response_size, Number(o.DownstreamContentSize));
      assert.equal(r.user_agent, o['request_User-Agent']);
      assert.ok(Math.abs((r.duration_ms ?? -1) - (o.Duration as number) / 1e6) < 1e-6);
      assert.equal(Date.parse(r.time), Date.parse(o.StartUTC as string));
    },
  })),
];

for (const j of JSON_FILES) {
  test(`${j.file}: every JSON object line is a record (${j.format}), fields as in the raw JSON`, { skip: !HAVE_CORPUS }, async () => {
    const raw = jsonLines(j.file);
    const inv = truthOf(j.file).json_inventory;
    assert.equal(raw.size, inv?.lines_that_are_json_objects);
    const { info, records } = await read(j.file, j.format);
    const want = [...raw.keys()].filter((n) => !(j.notRequests ?? []).includes(n));
    assert.deepEqual(
      records.map((x) => x.line),
      want,
    );
    for (const x of records) {
      assert.equal(schemaErrors(x.r, 'http-request'), null, `line ${x.line}`);
      j.check(x.r, raw.get(x.line) as Record<string, unknown>);
    }
    // Lines that are not objects (but for blank lines, skipped), and objects that are not requests,
    // are malformed.
    const blank = readFileSync(join(LOGS, j.file), 'utf8')
      .split('\n')
      .filter((l, i, all) => l.trim() === '' && i < all.length - 1).length;
    assert.equal(info.malformed, (inv?.lines_not_json_objects ?? 0) - blank + (j.notRequests?.length ?? 0));
    assert.equal(info.skipped, blank);
    // And detection finds the same format.
    const det = await read(j.file);
    assert.equal(det.info.format, j.format);
    assert.equal(det.info.detected, true);
  });
}

test('Matomo nginx JSON: a custom mapping table reads a schema that is not built in', { skip: !HAVE_CORPUS }, async () => {
  const { jsonParser } = await import('../../../src/sources/accesslog/parsers.js');
  const matomo = jsonParser({
    name: 'matomo-nginx',
    signature: ['ip', 'host', 'path', 'status'],
    required: 'ip',
    rows: [
      ['date', { to: 'time' }],
      ['ip', { to: 'slot', slot: Slot.CLIENT }],
      ['host', { to: 'slot', slot: Slot.HOST }],
      ['path', { to: 'uri' }],
      ['status', { to: 'status' }],
      ['referrer', { to: 'slot', slot: Slot.REFERER }],
      ['user_agent', { to: 'slot', slot: Slot.USER_AGENT }],
      ['length', { to: 'response_size' }],
      ['generation_time_milli', { to: 'duration', unit: 'ms' }],
    ],
  });
  const file = 'matomo-log-analytics/nginx_json.log';
  const raw = jsonLines(file);
  const out: HttpRequest[] = [];
  const info = await readAccessLog(join(LOGS, file), (v) => out.push(v.toHttpRequest()), { format: matomo });
  assert.equal(info.records, raw.size);
  const o = raw.get(1) as Record<string, unknown>;
  assert.equal(out[0].client.ip, o.ip);
  assert.equal(out[0].status, Number(o.status));
  assert.equal(out[0].method, '-', 'no method logged');
});

test('detection names the format it chose, per file', { skip: !HAVE_CORPUS }, async () => {
  const cases: Array<[string, string]> = [
    ['lnav/logfile_access_log.0', 'combined'],
    ['beats/apache/access/darwin-2.4.23.log', 'common'],
    ['lnav/logfile_shop_access_log.0', 'main'],
    ['lnav/logfile_regexp_access_log.0', 'vhost_combined'],
    ['lnav/logfile_cloudflare.1', 'cloudflare'],
    ['crowdsec-hub/traefik_json/traefik_json.log', 'traefik'],
    ['matomo-log-analytics/caddy_json.log', 'caddy'],
  ];
  for (const [file, want] of cases) {
    const { info } = await read(file);
    assert.equal(info.format, want, file);
    assert.equal(info.detected, true);
    assert.ok(info.files[0].detection && info.files[0].detection.length > 1);
  }
});
