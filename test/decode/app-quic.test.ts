/**
 * QUIC v1 client Initials: key derivation against RFC 9001 Appendix A, the ClientHello of both
 * corpus QUIC captures against tshark (which also decrypts Initials), and JA4 'q' values.
 */
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import { ja3 } from '../../src/decode/ja3.js';
import { ja4 } from '../../src/decode/ja4.js';
import { clientInitialKeys, decodeQuic } from '../../src/decode/quic.js';
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

test('QUIC: the per-second budget bounds decryption work in an Initial flood', () => {
  const pkt = new Uint8Array(initial(Buffer.from('a1a2a3a4a5a6a7a8', 'hex'), crypto(0, hello('flood.example'))));
  const v = new PacketView();
  let opened = 0;
  for (let i = 0; i < 2500; i++) {
    v.resetL4();
    v.buf = pkt;
    v.tsSec = 1_700_000_000;
    if (decodeQuic(v, 0, pkt.length)) opened++;
  }
  assert.equal(opened, 2000);
  v.resetL4();
  v.tsSec = 1_700_000_001;
  assert.equal(decodeQuic(v, 0, pkt.length), true);
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
    const pkt = new Uint8Array(initial(Buffer.from('0102030405060708', 'hex'), frames.subarray(0, Math.floor(rnd() * frames.length) + 1)));
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
