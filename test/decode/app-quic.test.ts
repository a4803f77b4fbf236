/**
 * QUIC v1 client Initials: key derivation against RFC 9001 Appendix A, the ClientHello of both
 * corpus QUIC captures against tshark (which also decrypts Initials), and JA4 'q' values; what an
 * Initial flood can cost (the per-second budget, once per DCID) and the counters that say so.
 */
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import { ja3 } from '../../src/decode/ja3.js';
import { ja4 } from '../../src/decode/ja4.js';
import { clientInitialKeys, decodeQuic, QUIC_BUDGET_PER_SECOND, quicStats, resetQuic } from '../../src/decode/quic.js';
import { tlsAlpn, tlsSni } from '../../src/decode/tls.js';
import { App, PacketView } from '../../src/decode/view.js';
import { prng } from '../helpers/prng.js';
import { decode, samples } from './app-payloads.js';

test('QUIC: client Initial keys for the RFC 9001 Appendix A connection ID', () => {
  const k = clientInitialKeys(Buffer.from('8394c8f03e515708', 'hex'));
  assert.equal(k.key.toString('hex'), '1f369613dd76d5467730efcbe3b1a22d');
  assert.equal(k.iv.toString('hex'), 'fa044b2f42a3fd3b46fb255c');
  assert.equal(k.hp.toString('hex'), '9f50449e04a0e810283a1e9933adedd2');
});

test('QUIC: SNI, ALPN and JA3 of the corpus Initials match tshark; JA4 q-prefix values', () => {
  const ja4s: string[] = [];
  for (const f of ['edge/quic_chromium-115.0.5790.110-api-cirrus-com.pcap', 'edge/quic_firefox-102.13.0esr-blog-cloudflare-com.pcap']) {
    const hellos = new Map<number, string[]>();
    for (const s of samples(f, 'tls.handshake.type == 1', ['tls.handshake.extensions_server_name', 'tls.handshake.extensions_alpn_str', 'tls.handshake.ja3']))
      hellos.set(s.frame, s.fields);
    assert.equal(hellos.size, 1, f);
    let found = 0;
    for (const s of samples(f, 'udp')) {
      const v = decode(s);
      const want = hellos.get(s.frame);
      if (want === undefined) {
        // Server Initials, Handshake and 1-RTT packets: not client hellos.
        assert.notEqual(v.app, App.TLS_CLIENT_HELLO, `${f} frame ${s.frame}`);
        continue;
      }
      assert.equal(v.app, App.TLS_CLIENT_HELLO, `${f} frame ${s.frame}`);
      assert.equal(v.tlsQuic, true);
      assert.equal(tlsSni(v), want[0]);
      assert.equal(tlsAlpn(v), want[1]);
      assert.equal(ja3(v), want[2]);
      assert.equal(v.tlsMaxVersion, 0x0304);
      ja4s.push(ja4(v));
      // The packet bytes are not modified by decryption (other consumers see the capture as is).
      assert.deepEqual(s.bytes, samples(f, `frame.number == ${s.frame}`)[0]?.bytes);
      found++;
    }
    assert.equal(found, 1, f);
  }
  // Chromium 115 (a resumed session: pre_shared_key makes 11 extensions), hand-checked with
  // sha256sum over tshark's extension and signature-algorithm lists.
  assert.equal(ja4s[0], 'q13d0311h3_55b375c5d22e_3512bcbbc9ec');
  // Firefox 102: the value uQUIC publishes for its Firefox preset.
  assert.equal(ja4s[1], 'q13d0314h3_55b375c5d22e_2d2a40a25571');
});

/** Build a protected client Initial carrying `crypto` frames (RFC 9001 section 5). */
function initial(dcid: Buffer, frames: Buffer): Buffer {
  const k = clientInitialKeys(dcid);
  const pnLen = 2;
  const pn = 7;
  const payload = Buffer.concat([frames, Buffer.alloc(Math.max(0, 1200 - frames.length))]);
  const len = pnLen + payload.length + 16;
  const header = Buffer.concat([Buffer.from([0xc0 | (pnLen - 1), 0, 0, 0, 1, dcid.length]), dcid, Buffer.from([0, 0, 0x40 | (len >> 8), len & 0xff, 0, pn])]);
  const nonce = Buffer.from(k.iv);
  nonce[11] = (nonce[11] as number) ^ pn;
  const gcm = createCipheriv('aes-128-gcm', k.key, nonce);
  gcm.setAAD(header);
  const ct = Buffer.concat([gcm.update(payload), gcm.final(), gcm.getAuthTag()]);
  const pnOff = header.length - pnLen;
  const ecb = createCipheriv('aes-128-ecb', k.hp, null);
  ecb.setAutoPadding(false);
  const sample = ct.subarray(4 - pnLen, 4 - pnLen + 16);
  const mask = ecb.update(sample);
  header[0] = (header[0] as number) ^ ((mask[0] as number) & 0x0f);
  for (let i = 0; i < pnLen; i++) header[pnOff + i] = (header[pnOff + i] as number) ^ (mask[1 + i] as number);
  return Buffer.concat([header, ct]);
}

function hello(sni: string): Buffer {
  const name = Buffer.from(sni, 'latin1');
  const sniExt = Buffer.concat([Buffer.from([0, 0, 0, name.length + 5, 0, name.length + 3, 0, 0, name.length]), name]);
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32, 9), Buffer.from([0, 0, 2, 0x13, 0x01, 1, 0, 0, sniExt.length]), sniExt]);
  return Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
}

const crypto = (at: number, data: Buffer) => Buffer.concat([Buffer.from([0x06, 0x40 | (at >> 8), at & 0xff, 0x40 | (data.length >> 8), data.length & 0xff]), data]);

test('QUIC: CRYPTO frames out of order are reassembled; bad tags and short packets are ignored', () => {
  const h = hello('split.example');
  const frames = Buffer.concat([Buffer.from([0x02, 0, 0, 0, 0]), crypto(20, h.subarray(20)), Buffer.from([0x01, 0x00]), crypto(0, h.subarray(0, 20))]);
  const pkt = initial(Buffer.from('0011223344556677', 'hex'), frames);
  const v = decode({ proto: 17, sport: 50000, dport: 8443, tcpFlags: 0, bytes: new Uint8Array(pkt) });
  assert.equal(v.app, App.TLS_CLIENT_HELLO);
  assert.equal(tlsSni(v), 'split.example');
  assert.ok(ja4(v).startsWith('q'));
  // Only the second half present: no stream prefix, not reported.
  const half = initial(Buffer.from('0011223344556677', 'hex'), crypto(20, h.subarray(20)));
  assert.equal(decode({ proto: 17, sport: 50000, dport: 443, tcpFlags: 0, bytes: new Uint8Array(half) }).app, App.NONE);
  // One flipped ciphertext bit fails authentication.
  const bad = Buffer.from(pkt);
  bad[bad.length - 40] = (bad[bad.length - 40] as number) ^ 1;
  assert.equal(decode({ proto: 17, sport: 50000, dport: 443, tcpFlags: 0, bytes: new Uint8Array(bad) }).app, App.NONE);
  // Under 1200 bytes: not a client Initial, not even tried.
  assert.equal(decode({ proto: 17, sport: 50000, dport: 443, tcpFlags: 0, bytes: new Uint8Array(pkt.subarray(0, 1100)) }).app, App.NONE);
});

test('QUIC: 3000 validly encrypted Initials with mutated frames decode without throwing', () => {
  const rnd = prng(0x9001);
  const h = hello('fuzz.example');
  const base = Buffer.concat([Buffer.from([0x02, 0, 0, 0, 0]), crypto(30, h.subarray(30)), crypto(0, h.subarray(0, 30))]);
  const v = new PacketView();
  let hellos = 0;
  for (let i = 0; i < 3000; i++) {
    const frames = Buffer.from(base);
    for (let k = 0, n = 1 + Math.floor(rnd() * 6); k < n; k++) {
      const at = Math.floor(rnd() * frames.length);
      frames[at] = rnd() < 0.5 ? (frames[at] as number) ^ (1 << Math.floor(rnd() * 8)) : ([0x00, 0x06, 0x40, 0x7f, 0xc0, 0xff][Math.floor(rnd() * 6)] as number);
    }
    // A DCID of its own each: a DCID already tried is a repeat, not decrypted again.
    const dcid = Buffer.from('0102030400000000', 'hex');
    dcid.writeUInt32BE(i, 4);
    const pkt = new Uint8Array(initial(dcid, frames.subarray(0, Math.floor(rnd() * frames.length) + 1)));
    v.resetL4();
    v.buf = pkt;
    v.tsSec = i;
    decodeQuic(v, 0, pkt.length);
    if (v.tlsHelloOff >= 0) {
      hellos++;
      assert.ok(v.tlsHelloOff + v.tlsHelloLen <= v.tlsBuf.length);
      if (v.tlsSniOff >= 0) assert.ok(v.tlsSniOff + v.tlsSniLen <= v.tlsHelloOff + v.tlsHelloLen);
      assert.match(ja4(v), /^q/);
    }
  }
  assert.ok(hellos > 100, `${hellos} hellos`);
});

/** A datagram that looks like a client Initial (long header, v1, >= 1200 bytes) around random bytes. */
function junk(rnd: () => number, dcid: Uint8Array, size: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(rnd() * 256);
  b[0] = 0xc0 | ((b[0] as number) & 0x0f);
  b.set([0, 0, 0, 1, dcid.length], 1);
  b.set(dcid, 6);
  let p = 6 + dcid.length;
  b[p++] = 8; // SCID length, then 8 random bytes
  p += 8;
  b[p++] = 0; // no token
  const len = size - p - 2;
  b[p++] = 0x40 | (len >> 8);
  b[p++] = len & 0xff;
  return b;
}

/** Feed one datagram to the decoder as the UDP decoder would, at capture time sec.nsec. */
function feed(v: PacketView, pkt: Uint8Array, sec: number, nsec = 0): boolean {
  v.resetL4();
  v.buf = pkt;
  v.tsSec = sec;
  v.tsNsec = nsec;
  return decodeQuic(v, 0, pkt.length);
}

const counters = () => ({ ...quicStats });

test('QUIC: a flood of distinct junk Initials is bounded by the per-second budget, and counted', () => {
  resetQuic();
  const rnd = prng(0x51f1);
  const v = new PacketView();
  const perSecond = [3000, 500, 2600];
  const dcid = new Uint8Array(8);
  let n = 0;
  for (const [s, count] of perSecond.entries()) {
    const before = counters();
    for (let i = 0; i < count; i++) {
      new DataView(dcid.buffer).setUint32(4, n++);
      const pkt = junk(rnd, dcid, 1200 + Math.floor(rnd() * 300));
      assert.equal(feed(v, pkt, 1_700_000_000 + s, i * 1000), false);
    }
    const tried = quicStats.opened + quicStats.unreadable - (before.opened + before.unreadable);
    assert.equal(tried, Math.min(count, QUIC_BUDGET_PER_SECOND), `second ${s}`);
    assert.equal(quicStats.overBudget - before.overBudget, Math.max(0, count - QUIC_BUDGET_PER_SECOND), `second ${s}`);
  }
  assert.deepEqual(counters(), { initials: n, opened: 0, repeats: 0, overBudget: 1000 + 600, unreadable: n - 1600 });
  // A real Initial that comes after the budget is spent is not decrypted; the next second it is.
  const real = new Uint8Array(initial(Buffer.from('c0ffee00c0ffee00', 'hex'), crypto(0, hello('late.example'))));
  assert.equal(feed(v, real, 1_700_000_002, 999_000_000), false);
  assert.equal(quicStats.overBudget, 1601);
  assert.equal(feed(v, real, 1_700_000_003), true);
  assert.equal(tlsSni(v), 'late.example');
  assert.equal(quicStats.opened, 1);
  assert.equal(quicStats.initials, quicStats.opened + quicStats.unreadable + quicStats.repeats + quicStats.overBudget);
});

test('QUIC: an Initial repeated under one DCID is opened once; reading the same packets again gives the same result', () => {
  resetQuic();
  const real = new Uint8Array(initial(Buffer.from('5eed5eed5eed5eed', 'hex'), crypto(0, hello('once.example'))));
  const v = new PacketView();
  const run = () => {
    const got: boolean[] = [];
    for (let k = 0; k < 50; k++) got.push(feed(v, real, 1_700_000_000 + Math.floor(k / 10), (k % 10) * 1000));
    return got;
  };
  const first = run();
  assert.deepEqual(first, [true, ...new Array(49).fill(false)]);
  assert.deepEqual(counters(), { initials: 50, opened: 1, repeats: 49, overBudget: 0, unreadable: 0 });
  // A second pass over the same capture (a report or a replay after the analysis): the packet
  // that opened carries the time stored with its DCID, so it opens again; the repeats do not.
  assert.deepEqual(run(), first);
  assert.deepEqual(counters(), { initials: 100, opened: 2, repeats: 98, overBudget: 0, unreadable: 0 });
  // The same packet decoded twice at one time (two looks at one record) opens both times.
  resetQuic();
  assert.equal(feed(v, real, 5), true);
  assert.equal(feed(v, real, 5), true);
  // A junk Initial is remembered too: its repeats (a server's Initials, a replayed packet) cost a probe.
  const rnd = prng(3);
  const bad = junk(rnd, Buffer.from('0badc0de0badc0de', 'hex'), 1300);
  for (let k = 0; k < 10; k++) feed(v, bad, 10 + k);
  assert.deepEqual(counters(), { initials: 12, opened: 2, repeats: 9, overBudget: 0, unreadable: 1 });
});

test('QUIC: the table of tried DCIDs is bounded: a DCID is remembered for the next 8,192 tries, then forgotten', () => {
  resetQuic();
  const rnd = prng(9);
  const v = new PacketView();
  const dcid = new Uint8Array(8);
  const first = junk(rnd, dcid, 1200);
  feed(v, first, 0);
  let t = 0;
  const other = (i: number) => {
    new DataView(dcid.buffer).setUint32(0, i);
    t++;
    feed(v, junk(rnd, dcid, 1200), Math.floor(t / 1000), t); // within the budget
  };
  for (let i = 1; i < 8192; i++) other(i);
  feed(v, first, 100);
  assert.equal(quicStats.repeats, 1, 'remembered after 8,191 other DCIDs');
  other(8192);
  feed(v, first, 101);
  assert.equal(quicStats.repeats, 1, 'forgotten after 8,192');
  assert.equal(quicStats.unreadable, 8194);
});

test('QUIC: the DCID table agrees with a model (the last 8,192 DCIDs tried) under churn', () => {
  resetQuic();
  const rnd = prng(0x7ab1e);
  const v = new PacketView();
  const recent: string[] = [];
  const live = new Map<string, number>(); // DCID -> times in `recent`
  let want = 0;
  const pkt = junk(rnd, new Uint8Array(20), 1300);
  for (let i = 0; i < 60_000; i++) {
    // Short DCIDs collide often, long ones rarely; a third are recent ones again.
    const len = [0, 1, 2, 4, 8, 20][Math.floor(rnd() * 6)] as number;
    let id: string;
    if (rnd() < 0.33 && recent.length > 0) id = recent[Math.max(0, recent.length - 1 - Math.floor(rnd() * 12_000))] as string;
    else
      id = Array.from({ length: len }, () =>
        Math.floor(rnd() * 256)
          .toString(16)
          .padStart(2, '0'),
      ).join('');
    const d = Buffer.from(id, 'hex');
    const b = new Uint8Array(1300);
    b.set(pkt.subarray(0, 5));
    b[5] = d.length;
    b.set(d, 6);
    b.set(pkt.subarray(6, 1300 - d.length), 6 + d.length);
    if (live.has(id)) want++;
    else {
      recent.push(id);
      live.set(id, 1);
      if (recent.length > 8192) live.delete(recent[recent.length - 8193] as string);
    }
    feed(v, b, Math.floor(i / 1000), i);
    assert.equal(quicStats.repeats, want, `step ${i}`);
  }
  assert.ok(want > 10_000, `${want} repeats`);
});

test('QUIC: the corpus Initials still give SNI, ALPN and JA4 among junk, and their repeats are skipped', () => {
  resetQuic();
  const rnd = prng(0xbeef);
  const v = new PacketView();
  const want = ['api.cirrus-ci.com', 'blog.cloudflare.com'];
  const reals = ['edge/quic_chromium-115.0.5790.110-api-cirrus-com.pcap', 'edge/quic_firefox-102.13.0esr-blog-cloudflare-com.pcap'].map(
    (f) => samples(f, 'frame.number == 1')[0]?.bytes as Uint8Array,
  );
  const dcid = new Uint8Array(8);
  for (let i = 0; i < 1500; i++) {
    new DataView(dcid.buffer).setUint32(4, i);
    feed(v, junk(rnd, dcid, 1250), 7, i);
    if (i === 700 || i === 1400) {
      const r = i === 700 ? 0 : 1;
      assert.equal(feed(v, reals[r] as Uint8Array, 7, i), true);
      assert.equal(tlsSni(v), want[r]);
      assert.equal(tlsAlpn(v), 'h3');
      assert.match(ja4(v), /^q13d/);
    }
  }
  for (const r of reals) assert.equal(feed(v, r, 8), false);
  assert.deepEqual(counters(), { initials: 1504, opened: 2, repeats: 2, overBudget: 0, unreadable: 1500 });
});

test('QUIC: 5000 Initials with mutated headers (lengths, token, DCID) decode without throwing, counters add up', () => {
  resetQuic();
  const rnd = prng(0x4ead);
  const v = new PacketView();
  const base = initial(Buffer.from('8899aabbccddeeff', 'hex'), crypto(0, hello('hdr.example')));
  let hellos = 0;
  for (let i = 0; i < 5000; i++) {
    const pkt = new Uint8Array(base);
    // Mutate within the first 40 bytes (first byte, DCID length and bytes, SCID, token and length varints).
    for (let k = 0, n = 1 + Math.floor(rnd() * 3); k < n; k++) {
      const at = 5 + Math.floor(rnd() * 35);
      pkt[at] = rnd() < 0.5 ? (pkt[at] as number) ^ (1 << Math.floor(rnd() * 8)) : ([0x00, 0x14, 0x15, 0x40, 0x7f, 0xc0, 0xff][Math.floor(rnd() * 7)] as number);
    }
    const cut = rnd() < 0.2 ? 1200 + Math.floor(rnd() * (pkt.length - 1200)) : pkt.length;
    if (feed(v, pkt.subarray(0, cut), i)) {
      hellos++;
      assert.equal(tlsSni(v), 'hdr.example');
    }
  }
  // The header is authenticated data and the DCID makes the keys: a mutated header does not open.
  assert.equal(hellos, 0);
  const s = quicStats;
  assert.equal(s.initials, 5000);
  assert.equal(s.initials, s.opened + s.unreadable + s.repeats + s.overBudget);
  assert.ok(s.repeats > 0 && s.unreadable > 0, JSON.stringify(s));
});
