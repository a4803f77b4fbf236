/**
 * Enrichment (sources/accesslog/enrich.ts): prefixes by arithmetic on the address, AS number and
 * country from the offline databases as the generator (which picks addresses the databases
 * confirm) recorded them, and what a log says kept over the databases.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { geoDb } from '../../../src/core/geoip.js';
import type { HttpRequest } from '../../../src/model/http.js';
import { clientPrefix, enrichRequest } from '../../../src/sources/accesslog/enrich.js';

const req = (ip: string, enrichment?: HttpRequest['enrichment']): HttpRequest => ({
  time: '2026-03-02T10:00:00.000Z',
  client: { ip },
  method: 'GET',
  host: 'h',
  path: '/',
  query: '',
  version: 'HTTP/1.1',
  headers: [],
  body_size: 0,
  ...(enrichment && { enrichment }),
});

describe('enrichment', () => {
  it('prefixes: /24 for IPv4, /48 for IPv6, none for what is no address', () => {
    assert.equal(clientPrefix('66.249.66.171'), '66.249.66.0/24');
    assert.equal(clientPrefix('10.0.0.255'), '10.0.0.0/24');
    assert.equal(clientPrefix('2001:db8:1234:5678::1'), '2001:db8:1234::/48');
    assert.equal(clientPrefix('2a03:2880:f12f:83:face:b00c::25de'), '2a03:2880:f12f::/48');
    assert.equal(clientPrefix('unix:'), null);
    assert.equal(clientPrefix('-'), null);
  });

  it('AS number and country from the offline databases', { skip: !geoDb().available && 'no offline databases installed' }, () => {
    const r = enrichRequest(req('66.249.66.171'));
    assert.deepEqual(r.enrichment, { asn: 15169, country: 'US', prefix: '66.249.66.0/24' });
  });

  it("the log's own values win; a client that is no address gets nothing", () => {
    const r = enrichRequest(req('66.249.66.171', { asn: 64500, country: 'FR' }));
    assert.deepEqual(r.enrichment, { asn: 64500, country: 'FR', prefix: '66.249.66.0/24' });
    assert.equal(enrichRequest(req('-')).enrichment, undefined);
  });
});
