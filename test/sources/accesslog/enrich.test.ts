/**
 * Enrichment (sources/accesslog/enrich.ts): prefixes by arithmetic on the address, AS number and
 * country from the offline databases as the generator (which picks addresses the databases
 * confirm) recorded them, and what a log says kept over the databases.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { geoDb } from '../../../src/core/geoip.js';
import { loginMatcher } from '../../../src/core/http-paths.js';
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
    assert.deepEqual(r.enrichment, { asn: 15169, country: 'US', prefix: '66.249.66.0/24', static: false, login: false });
  });

  it("the log's own values win; a client that is no address gets no address fields", () => {
    const r = enrichRequest(req('66.249.66.171', { asn: 64500, country: 'FR' }));
    assert.deepEqual(r.enrichment, { asn: 64500, country: 'FR', prefix: '66.249.66.0/24', static: false, login: false });
    assert.deepEqual(enrichRequest(req('-')).enrichment, { static: false, login: false });
  });

  it('static asset or page; login endpoint, by default and as the site names it', () => {
    const at = (path: string, opts = {}) => enrichRequest({ ...req('-'), path }, opts).enrichment;
    assert.equal(at('/static/app.3f2a.JS')?.static, true);
    assert.equal(at('/img/logo.webp')?.static, true);
    assert.equal(at('/products/42')?.static, false);
    assert.equal(at('/docs/v1.2')?.static, false, 'a dot in a page path is no extension of an asset');
    assert.equal(at('/wp-login.php')?.login, true);
    assert.equal(at('/account/Login/')?.login, true, 'case and one trailing slash ignored');
    assert.equal(at('/oauth')?.login, false, 'segments match whole: /auth is not the end of /oauth');
    const isLogin = loginMatcher(['/customer/enter']);
    assert.equal(at('/customer/enter', { isLogin })?.login, true);
    assert.equal(at('/eu/customer/enter', { isLogin })?.login, true);
    assert.equal(at('/login', { isLogin })?.login, false, "the site's own list replaces the defaults");
    assert.throws(() => loginMatcher(['customer/enter']), /must start with \//);
  });

  it("cookie names, sorted; the header order only where the log keeps the client's", () => {
    const r: HttpRequest = {
      ...req('-'),
      headers: [{ name: 'Host' }, { name: 'User-Agent' }, { name: 'Accept' }, { name: 'Cookie' }],
      cookies: { sid: 'x', _ga: 'y', consent: '1' },
    };
    assert.deepEqual(enrichRequest({ ...r }, { orderedHeaders: true }).enrichment, {
      static: false,
      login: false,
      cookie_names: ['_ga', 'consent', 'sid'],
      header_order: 'host,user-agent,accept,cookie',
    });
    assert.equal(enrichRequest({ ...r }).enrichment?.header_order, undefined, "a text log's headers are in its format's order, not the client's");
  });
});
