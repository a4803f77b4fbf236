/**
 * Notification payloads and delivery: the PagerDuty Events v2 and Slack incoming-webhook bodies
 * are valid against schemas written from those services' documentation; a generic webhook is
 * signed (HMAC over timestamp and body) and carries its idempotency key; failures are told
 * apart (retry a 503 or a refused connection, give up on a 404), against a local HTTP receiver.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DetectedAttack } from '../../src/detect/l34/attacks.js';
import type { AlertState } from '../../src/incidents/alerts.js';
import type { NotifyEvent } from '../../src/incidents/notify/event.js';
import { emailMessage, pagerDutyAction, pagerDutyBody, slackBody } from '../../src/incidents/notify/payloads.js';
import { sendHttp } from '../../src/incidents/notify/send.js';

const require = createRequire(import.meta.url);
const { Ajv } = require('ajv') as typeof import('ajv');
const schema = (f: string): object => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', f), 'utf8')) as object;

const attack: DetectedAttack = {
  id: 'attack-1',
  vector: 'dns_amplification',
  victim: { ip: '203.0.113.20', protocol: 'udp' },
  start: '2026-12-06T10:00:06Z',
  end: '2026-12-06T10:00:16Z',
  detected_at: '2026-12-06T10:00:07Z',
  packets: 1_000_000,
  bytes: 1_400_000_000,
  peak_pps: 100_000,
  peak_bps: 1.1e9,
  sources: { unique: 3000, spoofed_likely: false, top: [{ ip: '192.0.2.53', packets: 1000 }] },
  signature: { expression: 'ip.dst == 203.0.113.20 and udp.srcport == 53', coverage: 0.999, collateral: 0 },
  confidence: 0.9,
  evidence: {
    out_of_state: null,
    handshakes_completed: null,
    sources_per_packet: 0.003,
    spoofed_likely: false,
    separating_fields: ['udp.srcport'],
    signature: 'fields',
    field_signature: { expression: 'x', coverage: 1, collateral: 0 },
  },
};
const alert: AlertState = {
  id: 'alert-1',
  fingerprint: 'dns_amplification|203.0.113.20|udp',
  vector: 'dns_amplification',
  victim: '203.0.113.20',
  sensor: 'edge-fra-1',
  severity: 'critical',
  urgency: 'high',
  score: 81,
  confidence: 0.9,
  first_seen: '2026-12-06T10:00:07Z',
  last_seen: '2026-12-06T10:00:09Z',
  attack,
  reasons: ['peak 1.1 Gbit/s, 110 % of the 1.0 Gbit/s link', 'tier 1 service shop (ACME <Retail> & Co)'],
  service: 'shop',
  customer: 'ACME <Retail> & Co',
  growing: true,
  mitigated: false,
  peak: 100_000,
};
const event = (over: Partial<NotifyEvent> = {}): NotifyEvent => ({
  key: 'alert-1:start',
  type: 'alert.start',
  at: '2026-12-06T10:00:07.000Z',
  incident: { number: 42, title: 'dns amplification on 203.0.113.20', status: 'new', severity: 'critical', customer: 'ACME <Retail> & Co' },
  alert,
  text: 'critical dns_amplification on 203.0.113.20',
  ...over,
});

describe('payloads against the documented shapes', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const pd = ajv.compile(schema('pagerduty-events-v2.schema.json'));
  const slack = ajv.compile(schema('slack-incoming-webhook.schema.json'));

  it('PagerDuty: trigger on a raised alert, acknowledge when investigated, resolve when resolved, one dedup_key per incident', () => {
    const trigger = pagerDutyBody(event(), 'R0UTINGKEY0123456789ABCDEFGHIJKL', 'palisade');
    assert.ok(pd(trigger), JSON.stringify(pd.errors));
    assert.equal(trigger?.event_action, 'trigger');
    assert.equal(trigger?.dedup_key, 'palisade-incident-42');
    assert.equal((trigger as { payload: { severity: string } }).payload.severity, 'critical');
    const ack = pagerDutyBody(event({ type: 'incident.status', incident: { ...event().incident, status: 'investigating' } }), 'k', 'palisade');
    assert.ok(pd(ack), JSON.stringify(pd.errors));
    assert.deepEqual(ack, { routing_key: 'k', event_action: 'acknowledge', dedup_key: 'palisade-incident-42' });
    const resolve = pagerDutyBody(event({ type: 'incident.status', incident: { ...event().incident, status: 'resolved' } }), 'k', 'palisade');
    assert.ok(pd(resolve));
    assert.equal(resolve?.event_action, 'resolve');
    assert.equal(pagerDutyAction(event({ type: 'alert.end' })), null, 'an attack ending does not resolve the incident: a person does');
    // a very long title stays within the documented 1024 characters
    const long = pagerDutyBody(event({ incident: { ...event().incident, title: 'x'.repeat(5000) } }), 'k', 'palisade');
    assert.ok(pd(long), JSON.stringify(pd.errors));
  });

  it('Slack: text plus header/section/context blocks within their limits; &, < and > escaped', () => {
    const b = slackBody(event());
    assert.ok(slack(b), JSON.stringify(slack.errors));
    assert.match(JSON.stringify(b), /ACME &lt;Retail&gt; &amp; Co/);
    const huge = slackBody(event({ text: 'y'.repeat(10_000), incident: { ...event().incident, title: 'z'.repeat(400) } }));
    assert.ok(slack(huge), JSON.stringify(slack.errors));
  });

  it('e-mail: one-line subject (no header injection), the reasons and the signature in the body', () => {
    const m = emailMessage(event({ incident: { ...event().incident, title: 'evil\r\nBcc: x@example.com' } }));
    assert.ok(!/[\r\n]/.test(m.subject));
    assert.match(m.text, /Signature: ip\.dst == 203\.0\.113\.20/);
    assert.match(m.text, /110 % of the 1\.0 Gbit\/s link/);
  });
});

describe('HTTP delivery', () => {
  let server: Server;
  let url = '';
  const got: { headers: IncomingMessage['headers']; body: string; path: string }[] = [];
  let answer = 200;
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString('utf8');
      });
      req.on('end', () => {
        got.push({ headers: req.headers, body, path: req.url ?? '' });
        res.statusCode = req.url === '/gone' ? 404 : answer;
        res.end(answer === 200 ? 'ok' : 'busy');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('a signed webhook: the receiver can check the HMAC over "<t>.<body>" and sees the idempotency key', async () => {
    got.length = 0;
    const r = await sendHttp({ name: 'hook', kind: 'webhook', url: `${url}/hook`, secret: 's3cret' }, event(), 'palisade', () => 1_800_000_000_000);
    assert.deepEqual(r, { ok: true, status: 200 });
    const h = got[0]?.headers ?? {};
    assert.equal(h['idempotency-key'], 'alert-1:start');
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(h['palisade-signature']));
    assert.ok(m);
    assert.equal(m[1], '1800000000');
    assert.equal(m[2], createHmac('sha256', 's3cret').update(`${m[1]}.${got[0]?.body}`).digest('hex'));
    assert.equal(JSON.parse(got[0]?.body ?? '{}').incident.number, 42);
  });

  it('503 and a refused connection are retried; 404 is not', async () => {
    answer = 503;
    const busy = await sendHttp({ name: 'hook', kind: 'webhook', url: `${url}/hook` }, event(), 'palisade');
    assert.equal(busy?.ok, false);
    assert.equal(busy?.ok === false && busy.retry, true);
    answer = 200;
    const gone = await sendHttp({ name: 'hook', kind: 'webhook', url: `${url}/gone` }, event(), 'palisade');
    assert.equal(gone?.ok === false && gone.retry, false);
    const down = await sendHttp({ name: 'hook', kind: 'webhook', url: 'http://127.0.0.1:1/x', timeoutMs: 1000 }, event(), 'palisade');
    assert.equal(down?.ok === false && down.retry, true);
    // PagerDuty has nothing to send for an attack's end
    assert.equal(await sendHttp({ name: 'pd', kind: 'pagerduty', url: `${url}/pd`, routingKey: 'k' }, event({ type: 'alert.end' }), 'palisade'), null);
  });
});
