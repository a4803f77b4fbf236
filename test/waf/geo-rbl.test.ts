/**
 * The WAF's two operators that reach outside the request: `@geoLookup` fills GEO from the
 * offline country database (so the CRS's high-risk-country rule and GEO:COUNTRY_CODE chains
 * match), and `@rbl` answers from DNS block lists through a cache that `Waf.prepare` fills,
 * tested against a DNS server this test runs on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { createWaf, type WafRequest } from '../../src/waf/engine.js';
import { geoLookup, geoOfCountry } from '../../src/waf/geo.js';
import { RblResolver, rblQueryName } from '../../src/waf/rbl.js';

const HEADERS: [string, string][] = [
  ['Host', 'shop.example'],
  ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['Accept-Language', 'en-US,en;q=0.9'],
];
const get = (remoteAddr: string, uri = '/'): WafRequest => ({ method: 'GET', uri, protocol: 'HTTP/1.1', headers: HEADERS, remoteAddr });
const ids = (v: { matched: { id: number }[] }): number[] => v.matched.map((m) => m.id);

/** Addresses the shipped DB-IP country database places (checked in the first test). */
const DE = '130.149.1.1';
const US = '8.8.8.8';
const UNPLACED = '203.0.113.1';

describe('@geoLookup', () => {
  it('the database places the test addresses', () => {
    assert.equal(geoLookup(DE)?.COUNTRY_CODE, 'DE');
    assert.equal(geoLookup(US)?.COUNTRY_CODE, 'US');
    assert.equal(geoLookup(UNPLACED), null);
    assert.equal(geoLookup('not an address'), null);
    assert.deepEqual(geoOfCountry('DE'), { COUNTRY_CODE: 'DE', COUNTRY_CODE3: 'DEU', COUNTRY_NAME: 'Germany', COUNTRY_CONTINENT: 'EU' });
    assert.deepEqual(geoOfCountry('BR'), { COUNTRY_CODE: 'BR', COUNTRY_CODE3: 'BRA', COUNTRY_NAME: 'Brazil', COUNTRY_CONTINENT: 'SA' });
  });

  it("the CRS's high-risk country rule (910100) matches a client from a listed country and only those", () => {
    const waf = createWaf({ paranoia: 1, mode: 'block', setup: { high_risk_country_codes: 'DE RU' } });
    assert.deepEqual(waf.warnings, []);
    const de = waf.evaluate(get(DE));
    assert.ok(ids(de).includes(910100), `${ids(de)}`);
    assert.equal(de.action, 'block');
    const us = waf.evaluate(get(US));
    assert.deepEqual(ids(us), []);
    assert.equal(us.action, 'pass');
    assert.deepEqual(ids(waf.evaluate(get(UNPLACED))), []);
  });

  it('GEO:COUNTRY_CODE, COUNTRY_CODE3, COUNTRY_NAME and COUNTRY_CONTINENT chains can match', () => {
    const waf = createWaf({
      paranoia: 1,
      mode: 'block',
      extraConfig: [
        'SecRule REMOTE_ADDR "@geoLookup" "id:10001,phase:1,pass,log,msg:\'geo\',chain"',
        '  SecRule GEO:COUNTRY_CODE "@streq DE" "chain"',
        '    SecRule GEO:COUNTRY_CODE3 "@streq DEU" "chain"',
        '      SecRule GEO:COUNTRY_CONTINENT "@streq EU" "chain"',
        '        SecRule GEO:COUNTRY_NAME "@streq Germany" "setvar:tx.geo_ok=1"',
        'SecRule REMOTE_ADDR "!@geoLookup" "id:10002,phase:1,pass,log,msg:\'no geo\'"',
        '',
      ].join('\n'),
    });
    assert.deepEqual(waf.warnings, []);
    assert.deepEqual(ids(waf.evaluate(get(DE))), [10001]);
    // The US client: the lookup succeeds but the chain's country does not match.
    assert.deepEqual(ids(waf.evaluate(get(US))), []);
    // An address the database does not place: @geoLookup does not match (and GEO stays empty).
    assert.deepEqual(ids(waf.evaluate(get(UNPLACED))), [10002]);
  });
});

/**
 * A DNS server for the test: answers A 127.0.0.2 for the names it lists, NXDOMAIN for other
 * names under rbl.test, and never answers names under slow.test (for the timeout).
 */
class TinyDns {
  readonly socket: Socket = createSocket('udp4');
  readonly listed = new Set<string>();
  readonly queries: string[] = [];
  port = 0;

  async start(): Promise<void> {
    this.socket.on('message', (msg, rinfo) => {
      const name = qname(msg);
      this.queries.push(name);
      if (name.endsWith('.slow.test')) return;
      const qEnd = 12 + qnameLength(msg) + 4;
      const question = msg.subarray(12, qEnd);
      const hit = this.listed.has(name) && msg.readUInt16BE(qEnd - 4) === 1;
      const header = Buffer.alloc(12);
      msg.copy(header, 0, 0, 2);
      header.writeUInt16BE(hit ? 0x8180 : 0x8183, 2);
      header.writeUInt16BE(1, 4);
      header.writeUInt16BE(hit ? 1 : 0, 6);
      const answer = hit ? Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 2]) : Buffer.alloc(0);
      this.socket.send(Buffer.concat([header, question, answer]), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    this.port = this.socket.address().port;
  }

  close(): void {
    this.socket.close();
  }
}

function qnameLength(msg: Buffer): number {
  let i = 12;
  while (msg[i] !== 0) i += (msg[i] as number) + 1;
  return i - 12 + 1;
}

function qname(msg: Buffer): string {
  const labels: string[] = [];
  let i = 12;
  while (msg[i] !== 0) {
    const n = msg[i] as number;
    labels.push(msg.subarray(i + 1, i + 1 + n).toString('latin1'));
    i += n + 1;
  }
  return labels.join('.').toLowerCase();
}

describe('@rbl', () => {
  const dns = new TinyDns();
  before(() => dns.start());
  after(() => dns.close());

  it('query names: reversed octets for IPv4, nibbles for IPv6', () => {
    assert.equal(rblQueryName('192.0.2.66', 'rbl.test'), '66.2.0.192.rbl.test');
    assert.equal(rblQueryName('2001:db8::1', 'rbl.test.'), `1.0.0.0.${'0.'.repeat(20)}8.b.d.0.1.0.0.2.rbl.test`);
    assert.equal(rblQueryName('nope', 'rbl.test'), null);
  });

  it('a listed client is blocked once its answer is in the cache; others pass; answers are cached', async () => {
    dns.listed.add('66.2.0.192.rbl.test');
    dns.listed.add('67.2.0.192.rbl.test');
    const waf = createWaf({
      paranoia: 1,
      mode: 'block',
      extraConfig: 'SecRule REMOTE_ADDR "@rbl rbl.test" "id:10010,phase:1,deny,status:403,log,msg:\'listed in rbl.test\'"\n',
      rbl: { servers: [`127.0.0.1:${dns.port}`], timeoutMs: 500 },
    });
    // Honoured (through the cache), so no warning; the CRS's own httpbl rule is there too, inactive.
    assert.deepEqual(waf.warnings, []);
    assert.deepEqual([...waf.rblZones].sort(), ['dnsbl.httpbl.org', 'rbl.test']);
    // No rbl rule has run yet: nothing to look up ahead, no DNS traffic (the CRS's httpbl rule is skipped without a key).
    assert.equal(waf.prepare(get('192.0.2.66')), null);
    // The very first evaluation cannot wait: no match, and it starts the lookup.
    assert.deepEqual(ids(waf.evaluate(get('192.0.2.66'))), []);
    // From now on the application looks ahead before evaluating.
    await waf.prepare(get('192.0.2.66'));
    const v = waf.evaluate(get('192.0.2.66'));
    assert.deepEqual(ids(v), [10010]);
    assert.equal(v.action, 'block');
    // Another listed client: blocked on its first request.
    await waf.prepare(get('192.0.2.67'));
    assert.equal(waf.evaluate(get('192.0.2.67')).action, 'block');
    // Not listed (NXDOMAIN): passes.
    await waf.prepare(get('192.0.2.99'));
    assert.equal(waf.evaluate(get('192.0.2.99')).action, 'pass');
    // Cached: looking the same clients up again asks the server nothing.
    const before = dns.queries.length;
    await waf.prepare(get('192.0.2.66'));
    await waf.prepare(get('192.0.2.99'));
    assert.equal(dns.queries.length, before);
    assert.ok(!dns.queries.some((q) => q.endsWith('httpbl.org')), dns.queries.join(' '));
  });

  it('a DNS server that does not answer costs at most the timeout, matches nothing, and is not cached', async () => {
    const rbl = new RblResolver({ servers: [`127.0.0.1:${dns.port}`], timeoutMs: 300 });
    const t0 = performance.now();
    assert.equal(await rbl.lookup('192.0.2.66', 'slow.test'), false);
    const ms = performance.now() - t0;
    assert.ok(ms < 2000, `${ms.toFixed(0)} ms`);
    assert.equal(rbl.stats.failures, 1);
    assert.equal(rbl.cached('192.0.2.66', 'slow.test'), undefined);
    rbl.cancel();
  });
});
