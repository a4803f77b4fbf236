import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatPrefix, parseV4Bytes, parseV6Bytes } from '../../src/core/net/prefix.js';
import { PacketView } from '../../src/decode/view.js';
import { detectFormat, IpList, ListSet, ListVerdict, parseList } from '../../src/mitigate/lists.js';

function v4(s: string): number {
  const b = parseV4Bytes(s) as Uint8Array;
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

function view4(src: string, dst = '192.0.2.1'): PacketView {
  const v = new PacketView();
  v.ipVersion = 4;
  v.src4 = v4(src);
  v.dst4 = v4(dst);
  return v;
}

function view6(src: string): PacketView {
  const v = new PacketView();
  v.ipVersion = 6;
  v.buf = new Uint8Array(40);
  v.buf.set(parseV6Bytes(src) as Uint8Array, 8);
  v.src6Off = 8;
  v.dst6Off = 24;
  return v;
}

const prefixes = (text: string, opts = {}): string[] => parseList(text, opts).entries.map((e) => formatPrefix(e.prefix));

describe('list importers', () => {
  it('plain: comments, blank lines, notes, ranges, bad lines with line numbers', () => {
    const text = '# my list\n\n192.0.2.0/24   # docs\n198.51.100.7 some note\n2001:db8::/32 ; v6\n10.0.0.1-10.0.0.2\nnot-an-ip\n10.9.9.9/8\r\n';
    const r = parseList(text);
    assert.equal(r.format, 'plain');
    assert.deepEqual(
      r.entries.map((e) => [formatPrefix(e.prefix), e.line, e.note ?? null]),
      [
        ['192.0.2.0/24', 3, 'docs'],
        ['198.51.100.7', 4, 'some note'],
        ['2001:db8::/32', 5, 'v6'],
        ['10.0.0.1', 6, null],
        ['10.0.0.2', 6, null],
        ['10.0.0.0/8', 8, null],
      ],
    );
    assert.deepEqual(
      r.problems.map((p) => [p.line, p.severity]),
      [
        [7, 'error'],
        [8, 'warning'],
      ],
    );
    assert.match(r.problems[0]?.message ?? '', /not-an-ip/);
  });

  it('Spamhaus DROP / EDROP: prefix ; SBL id, comment lines', () => {
    const text = '; Spamhaus DROP List 2024/01/01 - (c) 2024 The Spamhaus Project\n; Last-Modified: Mon, 01 Jan 2024\n1.10.16.0/20 ; SBL256894\n2.56.192.0/22 ; SBL459831\n';
    assert.equal(detectFormat(text), 'spamhaus');
    const r = parseList(text);
    assert.equal(r.format, 'spamhaus');
    assert.deepEqual(
      r.entries.map((e) => [formatPrefix(e.prefix), e.note, e.line]),
      [
        ['1.10.16.0/20', 'SBL256894', 3],
        ['2.56.192.0/22', 'SBL459831', 4],
      ],
    );
    assert.deepEqual(r.problems, []);
  });

  it('FireHOL netset: one entry per line; anything else on the line is an error', () => {
    const text = '#\n# firehol_level1\n#\n0.0.0.0/8\n1.19.0.0/16\n5.0.0.0/8 extra\n';
    const r = parseList(text, {}, 'firehol_level1.netset');
    assert.equal(r.format, 'firehol');
    assert.deepEqual(
      r.entries.map((e) => formatPrefix(e.prefix)),
      ['0.0.0.0/8', '1.19.0.0/16'],
    );
    assert.deepEqual(
      r.problems.map((p) => p.line),
      [6],
    );
  });

  it('CSV: column by index or header name, quoted fields, weight column, delimiter detection', () => {
    const text = 'ip,first_seen,"score"\n"192.0.2.1",2024-01-01,80\n198.51.100.0/24,"2024-01-02, noon",20\n2001:db8::1,x,abc\n,2024,3\n';
    const r = parseList(text, {
      format: 'csv',
      column: 'ip',
      weightColumn: 'score',
    });
    assert.deepEqual(
      r.entries.map((e) => [formatPrefix(e.prefix), e.weight, e.line]),
      [
        ['192.0.2.1', 80, 2],
        ['198.51.100.0/24', 20, 3],
      ],
    );
    assert.deepEqual(
      r.problems.map((p) => p.line),
      [4, 5],
    );
    assert.deepEqual(prefixes('a;b\nx;10.0.0.0/8\n', { format: 'csv', column: 1 }), ['10.0.0.0/8']);
    assert.deepEqual(prefixes('10.0.0.0/8\t1\n11.0.0.0/8\t2\n', { format: 'csv', column: 0 }), ['10.0.0.0/8', '11.0.0.0/8']);
    assert.throws(() => parseList('a,b\n1,2\n', { format: 'csv', column: 'c' }), /not in the header/);
  });

  it('JSON: array of strings, objects with a known field, wrapped arrays, NDJSON (Spamhaus drop_v4.json)', () => {
    assert.deepEqual(prefixes('["192.0.2.0/24", "2001:db8::/48"]'), ['192.0.2.0/24', '2001:db8::/48']);
    assert.deepEqual(prefixes('{"prefixes":[{"ip_prefix":"3.5.140.0/22"}],"ipv6_prefixes":[{"ipv6_prefix":"2600:1f14::/35"}]}'), ['3.5.140.0/22', '2600:1f14::/35']);
    const nd =
      '{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}\n{"cidr":"2.56.192.0/22","sblid":"SBL459831","rir":"ripencc"}\n{"type":"metadata","timestamp":1700000000,"size":2}\n';
    const r = parseList(nd, {}, 'drop_v4.json');
    assert.deepEqual(
      r.entries.map((e) => [formatPrefix(e.prefix), e.note, e.line]),
      [
        ['1.10.16.0/20', 'SBL256894', 1],
        ['2.56.192.0/22', 'SBL459831', 2],
      ],
    );
    assert.deepEqual(r.problems, []);
    const w = parseList('[\n {"addr": "192.0.2.9", "w": 30},\n {"addr": "bogus", "w": 1},\n {"x": 1}\n]', { field: 'addr', weightField: 'w' });
    assert.deepEqual(
      w.entries.map((e) => [formatPrefix(e.prefix), e.weight, e.line]),
      [['192.0.2.9', 30, 2]],
    );
    assert.deepEqual(
      w.problems.map((p) => p.line),
      [3, 4],
    );
  });
});

describe('IpList and ListSet', () => {
  it('allow lists win over block lists; src/dst/either matching; IPv6', () => {
    const block = new IpList({ name: 'drop', kind: 'block' }).addText('10.0.0.0/8\n2001:db8::/32\n');
    const allow = new IpList({ name: 'office', kind: 'allow' }).addText('10.1.0.0/16\n');
    const dst = new IpList({
      name: 'victims',
      kind: 'block',
      match: 'dst',
    }).addText('203.0.113.0/24\n');
    const set = new ListSet().add(block).add(allow).add(dst);
    assert.equal(set.verdict(view4('10.2.3.4')), ListVerdict.BLOCK);
    assert.equal(set.verdict(view4('10.1.3.4')), ListVerdict.ALLOW);
    assert.equal(set.blockedBy(view4('10.1.3.4')), null);
    assert.equal(set.blockedBy(view4('10.2.3.4'))?.name, 'drop');
    assert.equal(set.verdict(view4('11.0.0.1')), ListVerdict.NONE);
    assert.equal(set.verdict(view4('11.0.0.1', '203.0.113.9')), ListVerdict.BLOCK);
    assert.equal(set.verdict(view6('2001:db8::5')), ListVerdict.BLOCK);
    assert.equal(set.verdict(view6('2001:db9::5')), ListVerdict.NONE);
    assert.throws(() => set.add(new IpList({ name: 'drop' })), /twice/);
    assert.throws(() => new IpList({ name: 'Bad-Name' }), /lowercase/);
  });

  it('reputation: per-list and per-entry weights, summed and capped at 100', () => {
    const tor = new IpList({
      name: 'tor',
      kind: 'reputation',
      weight: 40,
    }).addText('192.0.2.0/24\n');
    const scored = new IpList({ name: 'scored', kind: 'reputation' }).addText('ip,score\n192.0.2.7,70\n198.51.100.1,15\n', {
      format: 'csv',
      column: 'ip',
      weightColumn: 'score',
    });
    const set = new ListSet().add(tor).add(scored);
    assert.equal(set.reputation4(v4('192.0.2.1')), 40);
    assert.equal(set.reputation4(v4('192.0.2.7')), 100);
    assert.equal(set.reputation4(v4('198.51.100.1')), 15);
    assert.equal(set.reputation4(v4('203.0.113.1')), 0);
    assert.equal(set.reputationSrc(view4('192.0.2.1')), 40);
  });

  it('cover(): nested prefixes collapse to the outermost, same coverage', () => {
    const l = new IpList({ name: 'x' }).addText('10.0.0.0/8\n10.1.0.0/16\n10.1.2.3\n11.0.0.1\n2001:db8::/32\n2001:db8:1::/48\n');
    const c = l.cover();
    assert.deepEqual(c.v4.map(formatPrefix), ['10.0.0.0/8', '11.0.0.1']);
    assert.deepEqual(c.v6.map(formatPrefix), ['2001:db8::/32']);
  });

  it('addFile reads a file; a missing file is an input error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-lists-'));
    try {
      const f = join(dir, 'drop.txt');
      writeFileSync(f, '192.0.2.0/24 ; SBL1\n');
      const l = new IpList({ name: 'drop', kind: 'block' }).addFile(f);
      assert.equal(l.size, 1);
      assert.ok(l.has4(v4('192.0.2.200')));
      assert.throws(() => new IpList({ name: 'y' }).addFile(join(dir, 'nope.txt')), /no such file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
