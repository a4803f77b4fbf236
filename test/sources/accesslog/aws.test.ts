/**
 * AWS ALB and CloudFront logs (sources/accesslog/aws.ts). Truth: the corpus's real samples with
 * GoAccess 1.7's counts (valid requests, bytes sent, hits per request path), detection among every
 * built-in, and hand-made lines for what the samples lack (IPv6 clients, `-1` timings, header
 * comment lines, percent-encoded user agents, truncated lines).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { HttpRequest } from '../../../src/model/http.js';
import { detectFormat, parserFor } from '../../../src/sources/accesslog/parsers.js';
import { readAccessLog } from '../../../src/sources/accesslog/reader.js';
import { HttpLogView } from '../../../src/sources/accesslog/view.js';

const LOGS = join(import.meta.dirname, '../../../../shared/corpus/logs');
const dir = mkdtempSync(join(tmpdir(), 'palisade-aws-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface GoAccessTruth {
  valid_requests: number;
  failed_requests: number;
  bandwidth_bytes: number;
  top5_requests_panel: Array<{ path: string; hits: number }>;
  top5_static_requests_panel: Array<{ path: string; hits: number }>;
  top5_not_found_panel: Array<{ path: string; hits: number }>;
}

const SAMPLES: Array<[string, string]> = [
  ['matomo-log-analytics/alb.log', 'alb'],
  ['crowdsec-hub/aws-alb-logs/aws-alb-logs.log', 'alb'],
  ['matomo-log-analytics/amazon_cloudfront_web.log', 'cloudfront'],
  ['crowdsec-hub/aws-cloudfront-logs/aws-cloudfront-logs.log', 'cloudfront'],
];

async function records(file: string, format?: string): Promise<{ recs: HttpRequest[]; info: Awaited<ReturnType<typeof readAccessLog>> }> {
  const recs: HttpRequest[] = [];
  const info = await readAccessLog(file, (v) => recs.push(v.toHttpRequest()), format ? { format } : {});
  return { recs, info };
}

describe('AWS samples of the corpus, against GoAccess 1.7', { skip: !existsSync(LOGS) && 'no corpus beside the repository' }, () => {
  for (const [file, format] of SAMPLES) {
    it(`${file}: detected as ${format}; requests, bytes and paths as GoAccess counts them`, async () => {
      const path = join(LOGS, file);
      const truth = JSON.parse(readFileSync(`${path}.truth.json`, 'utf8')) as GoAccessTruth;
      const { recs, info } = await records(path);
      assert.equal(info.format, format);
      assert.equal(info.detected, true);
      assert.equal(info.records, truth.valid_requests);
      assert.equal(info.malformed, truth.failed_requests);
      assert.equal(
        recs.reduce((s, r) => s + (r.response_size ?? 0), 0),
        truth.bandwidth_bytes,
      );
      // GoAccess keeps ALB's absolute URI (scheme and port too) and CloudFront's `?-` for no query:
      // compare by host (ALB) and path with query, GoAccess's entries of one such key summed.
      // GoAccess also percent-decodes the request once (valid %XX only): so does the key.
      const decodeOnce = (x: string) => x.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
      const key = (r: HttpRequest) => decodeOnce(`${format === 'alb' ? r.host : ''}${r.path}${r.query === '' ? '' : `?${r.query}`}`);
      const want = new Map<string, number>();
      for (const p of [...truth.top5_requests_panel, ...truth.top5_static_requests_panel, ...truth.top5_not_found_panel]) {
        const k = format === 'alb' ? p.path.replace(/^[a-z]+:\/\/([^/:]+)(:\d+)?/, '$1') : p.path.replace(/\?-$/, '');
        want.set(k, (want.get(k) ?? 0) + p.hits);
      }
      assert.ok(want.size > 0);
      for (const [k, hits] of want) assert.equal(recs.filter((r) => key(r) === k).length, hits, k);
    });
  }

  it('the ALB sample: client and port, host from the absolute URI, versions, TLS, durations', async () => {
    const { recs } = await records(join(LOGS, 'crowdsec-hub/aws-alb-logs/aws-alb-logs.log'));
    const h2 = recs.find((r) => r.version === 'HTTP/2');
    assert.ok(h2);
    assert.equal(h2.host, '10.0.2.105');
    assert.equal(h2.client.port, 44740);
    const first = recs[0] as HttpRequest;
    assert.deepEqual(
      [first.client.ip, first.host, first.path, first.status, first.body_size, first.response_size, first.duration_ms],
      ['192.168.1.10', 'www.example.com', '/', 200, 34, 366, 1],
    );
    const tls = recs.find((r) => r.tls?.sni === 'www.example.com');
    assert.ok(tls);
  });
});

describe('hand-made lines', () => {
  const alb = parserFor('alb');
  const cf = parserFor('cloudfront');
  const v = new HttpLogView();

  it('ALB: an IPv6 client, -1 timings, a 460 with no target, a query', () => {
    const line =
      'https 2024-05-01T10:00:00.123456Z app/lb/1 2001:db8::7:51515 - -1 -1 -1 460 - 120 0 "POST https://shop.example:443/login?next=%2F HTTP/1.1" "python-requests/2.31" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 - "Root=1-x" "shop.example" "-" 0 2024-05-01T10:00:00.100000Z "forward" "-" "-" "-" "-" "-" "-"';
    assert.ok(alb.parse(line, v));
    const r = v.toHttpRequest();
    assert.equal(r.client.ip, '2001:db8::7');
    assert.equal(r.client.port, 51515);
    assert.equal(r.status, 460);
    assert.equal(r.duration_ms, undefined);
    assert.deepEqual([r.method, r.host, r.path, r.query, r.user_agent], ['POST', 'shop.example', '/login', 'next=%2F', 'python-requests/2.31']);
    assert.equal(r.time, '2024-05-01T10:00:00.123Z');
  });

  it('ALB: lines that are not ALB are refused', () => {
    for (const bad of [
      '1.2.3.4 - - [02/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"',
      'https 2024-05-01T10:00:00Z app/lb/1 1.2.3.4:5 - 0 0 0 200 200 1 2',
      'ftp 2024-05-01T10:00:00Z app/lb/1 1.2.3.4:5 - 0 0 0 200 200 1 2 "GET http://a/ HTTP/1.1" "x" - -',
      'https not-a-time app/lb/1 1.2.3.4:5 - 0 0 0 200 200 1 2 "GET http://a/ HTTP/1.1" "x" - -',
      'https 2024-05-01T10:00:00Z app/lb/1 host.name:5 - 0 0 0 200 200 1 2 "GET http://a/ HTTP/1.1" "x" - -',
    ])
      assert.equal(alb.parse(bad, v), false, bad);
  });

  it('CloudFront: header lines skipped, percent-encoded user agent and referer decoded once, x-host-header as host', async () => {
    const f = join(dir, 'cf.log');
    const row = [
      '2024-03-12',
      '15:22:28',
      'CDG50-P2',
      '703',
      '2001:db8::1',
      'GET',
      'd1.cloudfront.net',
      '/a/b.js',
      '200',
      'https://site.example/page%3Fx',
      'Mozilla/5.0%20(X11)%20%E2%98%83',
      'v=1',
      'sid=abc',
      'Hit',
      'id==',
      'site.example',
      'https',
      '62',
      '0.113',
      '-',
      'TLSv1.3',
      'TLS_AES_128_GCM_SHA256',
      'Hit',
      'HTTP/2.0',
      '-',
      '-',
      '51754',
    ].join('\t');
    writeFileSync(f, `#Version: 1.0\n#Fields: date time ...\n${row}\n${row.slice(0, 40)}\n`);
    const { recs, info } = await records(f);
    assert.equal(info.format, 'cloudfront');
    assert.equal(info.skipped, 2);
    assert.equal(info.malformed, 1);
    assert.deepEqual(info.files[0]?.malformedLines, [4]);
    const r = recs[0] as HttpRequest;
    assert.equal(r.user_agent, 'Mozilla/5.0 (X11) \u2603');
    assert.equal(r.referer, 'https://site.example/page?x');
    assert.deepEqual(
      [r.client.ip, r.client.port, r.host, r.path, r.query, r.version, r.status, r.response_size, r.body_size, r.duration_ms],
      ['2001:db8::1', 51754, 'site.example', '/a/b.js', 'v=1', 'HTTP/2', 200, 703, 62, 113],
    );
    assert.deepEqual(r.cookies, { sid: 'abc' });
  });

  it('detection keeps nginx lines nginx and tells ALB from CloudFront', () => {
    const nginx = ['1.2.3.4 - - [02/Mar/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "x"'];
    assert.equal(detectFormat(nginx).parser.name, 'combined');
    assert.equal(cf.parse(nginx[0] as string, v), false);
    assert.equal(alb.parse(nginx[0] as string, v), false);
  });
});
