/**
 * The collector's small parts on their own: listener addresses as users type them, the rows of
 * /proc/net/udp, the rebuilt IP/UDP headers of `-w` (lengths and checksums verified the way a
 * receiver does), and the exporter table's merging of IPv4-mapped addresses.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { PalisadeError } from '../../../src/core/errors.js';
import { parseListenAddress } from '../../../src/sources/flow-listen/address.js';
import { ExporterTable } from '../../../src/sources/flow-listen/exporters.js';
import { DatagramPcap, newEndpoint } from '../../../src/sources/flow-listen/pcap-udp.js';
import { parseProcUdp } from '../../../src/sources/flow-listen/proc-udp.js';

describe('listener addresses', () => {
  test('HOST:PORT, [IPV6]:PORT and :PORT', () => {
    assert.deepEqual(parseListenAddress('netflow', ':2055'), { kind: 'netflow', text: ':2055', host: '::', port: 2055, family: 6 });
    assert.deepEqual(parseListenAddress('ipfix', '127.0.0.1:4739'), { kind: 'ipfix', text: '127.0.0.1:4739', host: '127.0.0.1', port: 4739, family: 4 });
    assert.deepEqual(parseListenAddress('sflow', '[::1]:6343'), { kind: 'sflow', text: '[::1]:6343', host: '::1', port: 6343, family: 6 });
    assert.equal(parseListenAddress('sflow', '[2001:db8::7]:9').host, '2001:db8::7');
  });

  test('what is refused, and the hint given (usage errors)', () => {
    const message = (text: string): string => {
      try {
        parseListenAddress('netflow', text);
      } catch (err) {
        assert.ok(err instanceof PalisadeError && err.code === 'E_USAGE');
        return err.message;
      }
      assert.fail(`${text} accepted`);
    };
    assert.match(message('2055'), /did you mean :2055/);
    assert.match(message('::1:2055'), /IPv6 address goes in brackets/);
    assert.match(message(':0'), /port must be from 1 to 65535/);
    assert.match(message(':70000'), /port must be from 1 to 65535/);
    assert.match(message('localhost:2055'), /not an IP address \(host names are not resolved/);
    assert.match(message('1.2.3:2055'), /not an IP address/);
    assert.match(message('[zz::1]:2055'), /not an IP address/);
  });
});

test('/proc/net/udp and udp6 rows: port, inode, receive queue, drops', () => {
  const udp = [
    '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    '  123: 0100007F:0807 00000000:0000 07 00000000:00001A00 00:00000000 00000000     0        0 4242 2 0000000000000000 17',
    '  124: 00000000:18EB 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4243 2 0000000000000000 0',
  ].join('\n');
  assert.deepEqual(parseProcUdp(udp), [
    { port: 2055, inode: 4242, rxQueue: 0x1a00, drops: 17 },
    { port: 6379, inode: 4243, rxQueue: 0, drops: 0 },
  ]);
  const udp6 = [
    '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    '  9: 00000000000000000000000001000000:1283 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 99 2 0000000000000000 3',
  ].join('\n');
  assert.deepEqual(parseProcUdp(udp6), [{ port: 4739, inode: 99, rxQueue: 0, drops: 3 }]);
  assert.deepEqual(parseProcUdp(''), []);
});

/** One's-complement sum of 16-bit words, folded: 0xffff over a span whose checksum is right. */
function onesSum(words: number[]): number {
  let s = words.reduce((a, w) => a + w, 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}
function wordsOf(b: Uint8Array, off: number, end: number): number[] {
  const w: number[] = [];
  for (let i = off; i < end; i += 2) w.push(((b[i] as number) << 8) | (i + 1 < end ? (b[i + 1] as number) : 0));
  return w;
}

describe('-w: datagrams as IPv4/IPv6 + UDP frames under LINKTYPE_RAW', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-pcap-udp-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('lengths, checksums (odd payload length too), timestamps', () => {
    const file = join(dir, 'a.pcap');
    const w = new DatagramPcap(file);
    const payload = Uint8Array.from({ length: 333 }, (_, i) => (i * 7 + 3) & 0xff);
    w.write(newEndpoint('192.0.2.7', 40000), newEndpoint('127.0.0.1', 2055), payload, 1_700_000_000_123.456);
    w.write(newEndpoint('2001:db8::7', 40001), newEndpoint('::1', 4739), payload.subarray(0, 100), 1_700_000_001_000);
    w.write(newEndpoint('::ffff:10.1.2.3', 1), newEndpoint('0.0.0.0', 6343), new Uint8Array(0), 1_700_000_002_000);
    w.close();
    assert.equal(w.packets, 3);
    const b = readFileSync(file);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    assert.equal(dv.getUint32(0, true), 0xa1b23c4d, 'nanosecond pcap');
    assert.equal(dv.getUint32(20, true), 101, 'LINKTYPE_RAW');
    let p = 24;
    const frames: Uint8Array[] = [];
    const times: Array<[number, number]> = [];
    while (p < b.length) {
      const caplen = dv.getUint32(p + 8, true);
      assert.equal(dv.getUint32(p + 12, true), caplen);
      times.push([dv.getUint32(p, true), dv.getUint32(p + 4, true)]);
      frames.push(b.subarray(p + 16, p + 16 + caplen));
      p += 16 + caplen;
    }
    assert.equal(frames.length, 3);
    assert.deepEqual(times[0], [1_700_000_000, 123_456_000]);

    // IPv4: header checksum and UDP checksum over the pseudo-header verify to 0xffff.
    const f4 = frames[0] as Uint8Array;
    assert.equal(f4[0], 0x45);
    assert.equal((f4[2] as number) * 256 + (f4[3] as number), 20 + 8 + 333);
    assert.equal(onesSum(wordsOf(f4, 0, 20)), 0xffff);
    const udpLen4 = 8 + 333;
    assert.equal(onesSum([...wordsOf(f4, 12, 20), 17, udpLen4, ...wordsOf(f4, 20, 20 + udpLen4)]), 0xffff);
    assert.deepEqual([...f4.subarray(12, 16)], [192, 0, 2, 7]);
    assert.deepEqual([...f4.subarray(28)], [...payload]);

    // IPv6: payload length, next header, UDP checksum with the IPv6 pseudo-header.
    const f6 = frames[1] as Uint8Array;
    assert.equal(f6[0], 0x60);
    const udpLen6 = 8 + 100;
    assert.equal((f6[4] as number) * 256 + (f6[5] as number), udpLen6);
    assert.equal(f6[6], 17);
    assert.equal(onesSum([...wordsOf(f6, 8, 40), 17, udpLen6, ...wordsOf(f6, 40, 40 + udpLen6)]), 0xffff);

    // An IPv4-mapped source is written as IPv4; an empty payload is a valid 8-byte UDP datagram.
    const fm = frames[2] as Uint8Array;
    assert.equal(fm[0], 0x45);
    assert.deepEqual([...fm.subarray(12, 16)], [10, 1, 2, 3]);
    assert.equal(fm.length, 28);
    assert.notEqual((fm[26] as number) * 256 + (fm[27] as number), 0, 'a computed checksum, never "none"');
  });
});

test('exporters: one entry per address, however the socket spelled it; bounded', () => {
  const t = new ExporterTable(2);
  const a = t.get('127.0.0.1');
  assert.equal(t.get('::ffff:127.0.0.1'), a);
  assert.equal(a.shown, '127.0.0.1');
  const b = t.get('2001:0db8:0:0::1');
  assert.equal(b.shown, '2001:db8::1');
  assert.equal(t.get('192.0.2.1'), t.overflow, 'past the bound, new exporters share the overflow entry');
  assert.equal(t.size, 2);
});
