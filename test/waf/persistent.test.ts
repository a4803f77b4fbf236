/**
 * Persistent collections: `initcol` opens IP/GLOBAL/... records that outlive the request, so the
 * CRS rules that keep state work — the DoS protection of REQUEST-912 (bursts counted per client
 * address and user agent, then a block for `dos_block_timeout`) and the reputation flag that
 * scanners get in REQUEST-913 and REQUEST-910 blocks on. Time is a fake clock, so expiry
 * (`expirevar`) is tested to the second.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createWaf, type WafRequest } from '../../src/waf/engine.js';
import { MemoryCollectionStore } from '../../src/waf/persistent.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const headers = (ua = UA): [string, string][] => [
  ['Host', 'shop.example'],
  ['User-Agent', ua],
  ['Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
  ['Accept-Language', 'en-US,en;q=0.9'],
];
const get = (remoteAddr: string, uri = '/index.php', ua = UA): WafRequest => ({ method: 'GET', uri, protocol: 'HTTP/1.1', headers: headers(ua), remoteAddr });
const ids = (v: { matched: { id: number }[] }): number[] => v.matched.map((m) => m.id);

/** The CRS DoS settings: a burst is 5 dynamic requests within 60 s; two bursts block for 600 s. */
const DOS = { dos_burst_time_slice: 60, dos_counter_threshold: 5, dos_block_timeout: 600 };

function clock(start = 1_700_000_000_000): { now: () => number; advance: (s: number) => void } {
  let t = start;
  return { now: () => t, advance: (s) => (t += s * 1000) };
}

describe('persistent collections (memory store)', () => {
  it('the CRS DoS protection blocks a client after two bursts, for dos_block_timeout, and no one else', () => {
    const c = clock();
    const waf = createWaf({ paranoia: 1, mode: 'block', setup: DOS, now: c.now });
    assert.deepEqual(
      waf.warnings.filter((w) => /initcol|expirevar|collection/i.test(w)),
      [],
    );
    const a = '192.0.2.10';
    // burst 1 (5 requests) and burst 2 (5 more): passed, then 912170 marks the client
    for (let i = 0; i < 10; i++) {
      const v = waf.evaluate(get(a));
      assert.equal(v.action, 'pass', `request ${i + 1}: ${ids(v)}`);
      if (i === 9) assert.ok(ids(v).includes(912170), `the second burst is logged: ${ids(v)}`);
      c.advance(1);
    }
    const blocked = waf.evaluate(get(a));
    assert.equal(blocked.action, 'block');
    assert.ok(ids(blocked).includes(912120), `${ids(blocked)}`);
    // another address, and the same address with another user agent (the CRS keys IP records
    // by address and user-agent hash), are not blocked
    assert.equal(waf.evaluate(get('192.0.2.11')).action, 'pass');
    assert.equal(waf.evaluate(get(a, '/index.php', 'curl/8.0')).action, 'pass');
    // static files are not counted, but a blocked client is blocked for them too
    assert.equal(waf.evaluate(get(a, '/logo.png')).action, 'block');
    c.advance(590);
    assert.equal(waf.evaluate(get(a)).action, 'block', 'still within dos_block_timeout');
    c.advance(15);
    assert.equal(waf.evaluate(get(a)).action, 'pass', 'the block expired with expirevar');
  });

  it('a burst counter expires: requests spread wider than the time slice never block', () => {
    const c = clock();
    const waf = createWaf({ paranoia: 1, mode: 'block', setup: DOS, now: c.now });
    for (let i = 0; i < 60; i++) {
      assert.equal(waf.evaluate(get('192.0.2.20')).action, 'pass', `request ${i + 1}`);
      // 5 requests make a burst; the next burst comes after the first one's counter expired
      c.advance(i % 5 === 4 ? 70 : 1);
    }
  });

  it('the reputation flag a scanner gets (913100) blocks its later requests when do_reput_block is on, until it expires', () => {
    const c = clock();
    const waf = createWaf({ paranoia: 1, mode: 'block', setup: { do_reput_block: 1, reput_block_duration: 300 }, now: c.now });
    const a = '198.51.100.7';
    const scan = waf.evaluate(get(a, '/', 'sqlmap/1.7.2#stable (https://sqlmap.org)'));
    assert.ok(ids(scan).includes(913100), `${ids(scan)}`);
    // a clean request from the same address and user agent: blocked by 910000
    const later = waf.evaluate(get(a, '/', 'sqlmap/1.7.2#stable (https://sqlmap.org)'));
    assert.ok(ids(later).includes(910000), `${ids(later)}`);
    c.advance(301);
    const store = waf.collections as MemoryCollectionStore;
    assert.ok(store.size >= 1);
    assert.equal(waf.evaluate(get(a, '/index.php', UA)).action, 'pass');
  });

  it('records written by one request are read by the next: IS_NEW, UPDATE_COUNTER, KEY, increments and deletes', () => {
    const c = clock();
    const waf = createWaf({
      paranoia: 1,
      mode: 'block',
      now: c.now,
      extraConfig: [
        'SecAction "id:10001,phase:1,pass,nolog,initcol:resource=%{request_filename},setvar:resource.hits=+1"',
        'SecRule RESOURCE:IS_NEW "@eq 0" "id:10002,phase:1,pass,log,msg:\'seen %{resource.key} %{resource.hits} %{resource.update_counter}\'"',
        'SecRule RESOURCE:HITS "@ge 3" "id:10003,phase:1,deny,status:429,log,setvar:!resource.hits"',
      ].join('\n'),
    });
    assert.deepEqual(waf.warnings, []);
    assert.deepEqual(ids(waf.evaluate(get('192.0.2.1', '/a.php'))), []);
    const second = waf.evaluate(get('192.0.2.2', '/a.php'));
    assert.deepEqual(ids(second), [10002]);
    assert.equal(second.matched[0].msg, 'seen /a.php 2 1');
    const third = waf.evaluate(get('192.0.2.3', '/a.php'));
    assert.equal(third.action, 'block');
    assert.equal(third.status, 429);
    // the delete reached the store: the count starts again
    assert.equal(waf.evaluate(get('192.0.2.4', '/a.php')).action, 'pass');
    assert.deepEqual(ids(waf.evaluate(get('192.0.2.4', '/b.php'))), []);
  });

  it('deprecatevar lowers a counter per elapsed period; a record expires after its TIMEOUT', () => {
    const c = clock();
    const waf = createWaf({
      paranoia: 1,
      mode: 'block',
      now: c.now,
      extraConfig: [
        'SecCollectionTimeout 100',
        'SecAction "id:10001,phase:1,pass,nolog,initcol:ip=%{remote_addr},deprecatevar:ip.score=10/60"',
        'SecRule ARGS:add "@rx ^\\d+$" "id:10002,phase:1,pass,nolog,setvar:ip.score=+%{matched_var}"',
        'SecRule IP:SCORE "@ge 0" "id:10003,phase:1,pass,log,msg:\'score %{ip.score}\'"',
      ].join('\n'),
    });
    assert.deepEqual(waf.warnings, []);
    const score = (uri: string): string => waf.evaluate(get('192.0.2.9', uri)).matched.find((m) => m.id === 10003)?.msg ?? 'none';
    assert.equal(score('/?add=35'), 'score 35');
    c.advance(61);
    assert.equal(score('/?add=0'), 'score 25', 'one period: 10 less');
    c.advance(99);
    assert.equal(score('/'), 'score 15', 'written 99 s ago: one more period, and the record lives (TIMEOUT 100)');
    c.advance(101);
    assert.equal(score('/'), 'none', 'not written for longer than its TIMEOUT: the record is gone');
  });

  it('the memory store is bounded: past maxRecords the least recently written records go', () => {
    const c = clock();
    const store = new MemoryCollectionStore({ maxRecords: 100 });
    const waf = createWaf({ paranoia: 1, mode: 'block', setup: DOS, now: c.now, collections: store });
    for (let i = 0; i < 300; i++) waf.evaluate(get(`10.0.${i >> 8}.${i & 255}`));
    assert.ok(store.size <= 100, `${store.size}`);
    assert.ok(store.evicted >= 200, `${store.evicted}`);
  });

  it('initcol on a collection that does not persist, or a malformed expirevar, is a warning at load', () => {
    const waf = createWaf({
      paranoia: 1,
      mode: 'block',
      extraConfig: [
        'SecAction "id:10001,phase:1,pass,nolog,initcol:tx=x"',
        'SecAction "id:10002,phase:1,pass,nolog,expirevar:ip.x"',
        'SecAction "id:10003,phase:1,pass,nolog,expirevar:tx.y=10"',
      ].join('\n'),
    });
    const w = waf.warnings.join('\n');
    assert.match(w, /initcol:tx=x: not a persistent collection/);
    assert.match(w, /expirevar:ip\.x: expected collection\.variable=seconds/);
    assert.match(w, /expirevar:tx\.y=10: only variables of persistent collections expire/);
  });

  it('setenv is honoured (the ENV collection), append/prepend are load warnings, never silent', () => {
    const waf = createWaf({
      paranoia: 1,
      mode: 'block',
      extraConfig: [
        'SecAction "id:10001,phase:1,pass,nolog,setenv:palisade_seen=yes"',
        'SecRule ENV:palisade_seen "@streq yes" "id:10002,phase:1,pass,log,msg:\'env set\'"',
        'SecAction "id:10003,phase:4,pass,nolog,append:<p>x</p>"',
      ].join('\n'),
    });
    assert.match(waf.warnings.join('\n'), /append: the engine does not change response bodies; ignored/);
    assert.deepEqual(ids(waf.evaluate(get('192.0.2.1'))), [10002]);
  });
});
