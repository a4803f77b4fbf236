/**
 * The scenarios of issue 13 (traffic habits the vector scenarios do not test) and the benign mix
 * they run in: each capture is read back with an independent reader (capture.ts), tshark and our
 * own QUIC decoder, and held to what its description promises — flash crowds that complete their
 * handshakes, bots with real stacks that never ACK, a GRE flood whose inner packets do not name
 * the victim, pulses, a flood no header field separates from the clients, and so on.
 *
 * PALISADE_GEN_SEEDS=1,2,… tries other seeds (default 1-5 for the attacks, 1-3 for the crowds).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { host6 } from '../../src/generate/addresses.js';
import { EPOCH_SEC } from '../../src/generate/emitter.js';
import { generate, population, type Truth, truthLabels } from '../../src/generate/generator.js';
import { STACKS } from '../../src/generate/stacks.js';
import { readCapture } from '../../src/sources/capture/capture.js';
import { tsharkFields } from '../helpers/tshark.js';
import { type Frame, ip6Text, readFrames } from './capture.js';

const dir = mkdtempSync(join(tmpdir(), 'palisade-broad-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ENV_SEEDS = process.env.PALISADE_GEN_SEEDS?.split(',').map(Number);
const SEEDS = ENV_SEEDS ?? [1, 2, 3, 4, 5];
const FEW = ENV_SEEDS ?? [1, 2, 3];
const PACKETS = 30_000;
const S = 1e9;

const NET = '203.0.113.';
const V10 = `${NET}10`;

interface Run {
  name: string;
  seed: number;
  file: string;
  truth: Truth;
  labels: Uint8Array;
  frames: Frame[];
  buf: Buffer;
}

const runs = new Map<string, Run>();

function run(name: string, seed: number, packets = PACKETS): Run {
  const key = `${name}/${seed}/${packets}`;
  let r = runs.get(key);
  if (!r) {
    const file = join(dir, `${name}-${seed}-${packets}.pcap`);
    const truth = generate(name, file, { packets, seed });
    const cap = readFrames(file);
    r = { name, seed, file, truth, labels: truthLabels(truth), frames: cap.frames, buf: cap.buf };
    runs.set(key, r);
    assert.equal(truth.packets, packets, `${key}: packets`);
    assert.equal(r.labels.length, packets, `${key}: one label per packet`);
    assert.equal(r.frames.length, packets, `${key}: frames in the file`);
  }
  return r;
}

function labelled(r: Run, label: number): Frame[] {
  return r.frames.filter((f) => r.labels[f.i] === label);
}

function benign(r: Run): Frame[] {
  return labelled(r, 0);
}

/** A truth timestamp (ISO 8601 with nanoseconds) as ns from the scenario start. */
function isoNs(iso: string): number {
  return (Date.parse(`${iso.slice(0, 19)}Z`) / 1000 - EPOCH_SEC) * S + Number(iso.slice(20, 29));
}

function eventWindow(r: Run): [number, number] {
  const e = r.truth.events[0];
  assert.ok(e, `${r.name}: a flash_crowd event`);
  assert.equal(e.kind, 'flash_crowd');
  return [isoNs(e.start), isoNs(e.end)];
}

/** Packets per second of `frames` matching `f` in [t0, t1). */
function rate(frames: Frame[], t0: number, t1: number, f: (x: Frame) => boolean): number {
  let n = 0;
  for (const x of frames) if (x.t >= t0 && x.t < t1 && f(x)) n++;
  return n / ((t1 - t0) / S);
}

const has = (f: Frame, host: string, port?: number): boolean =>
  (f.src === host && (port === undefined || f.sport === port)) || (f.dst === host && (port === undefined || f.dport === port));
const inNet = (a: string): boolean => a.startsWith(NET);

/** Every SYN a benign IPv4 client stack can send: TTL (initial less 3-18 hops), window, options. */
const CLIENT_SYNS = new Set<string>();
for (const s of STACKS) for (let h = 3; h <= 18; h++) CLIENT_SYNS.add(`${s.ttl - h}/${s.win}/${Buffer.from(s.opts).toString('hex')}`);
const STACK_KEYS = new Set(STACKS.map((s) => `${s.win}/${Buffer.from(s.opts).toString('hex')}`));
const synKey = (f: Frame): string => `${f.ttl}/${f.win}/${f.opts}`;

/** Benign clients' IPv4 SYNs to .10:443 (not the research scanners', whose TTL starts at 255). */
function clientSyns(r: Run): Frame[] {
  return benign(r).filter((f) => f.flags === 0x02 && f.dst === V10 && f.dport === 443 && f.v === 4 && f.ttl < 200);
}

/** TCP connections client→server keyed by "client:port>server:port", in the order they start. */
interface Conn {
  syn: number;
  /** TTL of the SYN. */
  ttl: number;
  synAck: boolean;
  ack: boolean;
  serverBytes: number;
  serverFin: boolean;
  clientPsh: number;
  client: string;
}

function connections(frames: Frame[], server: string, port: number): Map<string, Conn> {
  const out = new Map<string, Conn>();
  for (const f of frames) {
    if (f.proto !== 6) continue;
    if (f.dst === server && f.dport === port) {
      const k = `${f.src}:${f.sport}`;
      if (f.flags === 0x02) {
        if (!out.has(k)) out.set(k, { syn: f.t, ttl: f.ttl, synAck: false, ack: false, serverBytes: 0, serverFin: false, clientPsh: 0, client: f.src });
        continue;
      }
      const c = out.get(k);
      if (!c) continue;
      if (c.synAck && f.flags === 0x10) c.ack = true;
      if (f.pay > 0 && f.flags & 0x08) c.clientPsh++;
    } else if (f.src === server && f.sport === port) {
      const c = out.get(`${f.dst}:${f.dport}`);
      if (!c) continue;
      if (f.flags === 0x12) c.synAck = true;
      c.serverBytes += f.pay;
      if (f.flags & 0x01) c.serverFin = true;
    }
  }
  return out;
}

describe('the benign mix', () => {
  test('packet shares per kind, every kind of session present (100k packets)', () => {
    const r = run('benign', 1, 100_000);
    const kinds = new Map<string, number>();
    const add = (k: string): void => {
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
    };
    for (const f of r.frames) {
      const port = (p: number): boolean => f.sport === p || f.dport === p;
      if (f.proto === 6) add('tcp');
      else if (f.proto === 17 && port(443)) add('quic');
      else if (f.proto === 17 && port(53)) add('dns');
      else if (f.proto === 17 && port(123)) add('ntp');
      else if (f.proto === 17 && port(27015)) add('game');
      else if (f.proto === 17 && port(51820)) add('wireguard');
      else if (f.proto === 17 && f.pay === 172) add('rtp');
      else if (f.proto === 1 || f.proto === 58) add('icmp');
      else if (f.proto === 50) add('esp');
      else if (f.proto === 47) add('gre');
      else add(`other ${f.proto}/${f.sport}/${f.dport}`);
    }
    const share = (k: string): number => (kinds.get(k) ?? 0) / r.frames.length;
    const want: Array<[string, number, number]> = [
      ['tcp', 0.65, 0.75],
      ['quic', 0.07, 0.09],
      ['dns', 0.045, 0.065],
      ['ntp', 0.01, 0.02],
      ['icmp', 0.01, 0.02],
      ['game', 0.02, 0.04],
      ['rtp', 0.02, 0.04],
      ['wireguard', 0.015, 0.035],
      ['esp', 0.01, 0.03],
      ['gre', 0.02, 0.04],
    ];
    for (const [k, lo, hi] of want) assert.ok(share(k) >= lo && share(k) <= hi, `${k}: ${(100 * share(k)).toFixed(2)}% not in [${100 * lo}, ${100 * hi}]`);
    assert.deepEqual(
      [...kinds.keys()].filter((k) => k.startsWith('other')),
      [],
    );
    const b = r.buf;
    // RTP: 172-byte G.711 packets both ways between a protected host and a carrier, even ports 16384-32767.
    const rtp = r.frames.filter(
      (f) => f.proto === 17 && f.pay === 172 && !has(f, `${NET}25`, 27015) && f.sport >= 16384 && f.sport <= 32767 && f.dport >= 16384 && f.dport <= 32767,
    );
    assert.ok(rtp.some((f) => inNet(f.src)) && rtp.some((f) => inNet(f.dst)), 'RTP both ways');
    assert.ok(
      rtp.every((f) => b[f.payAt] === 0x80 && f.sport % 2 === 0),
      'RTP version 2, even ports',
    );
    // The busy resolver .54 answers clients and asks authoritative servers itself.
    assert.ok(r.frames.filter((f) => f.src === `${NET}54` && f.sport === 53).length > 200, 'the resolver answers');
    assert.ok(
      r.frames.some((f) => f.src === `${NET}54` && f.dport === 53),
      'the resolver asks authoritative servers',
    );
    // The NTP server .123 answers mode 3 with mode 4.
    const ntp = r.frames.filter((f) => f.src === `${NET}123` && f.sport === 123);
    // (it also polls upstream servers itself, as one of the protected hosts)
    assert.ok(ntp.filter((f) => ((b[f.payAt] as number) & 7) === 4).length > 50, 'mode 4 answers');
    // WireGuard both ways with handshake initiation, response and transport data.
    const wg = r.frames.filter((f) => f.proto === 17 && (f.sport === 51820 || f.dport === 51820));
    assert.ok(wg.some((f) => f.src === `${NET}5`) && wg.some((f) => f.dst === `${NET}5`), 'WireGuard both ways');
    assert.deepEqual(new Set(wg.map((f) => b[f.payAt])), new Set([1, 2, 4]));
    // ESP both ways, one SPI per direction and security association.
    const esp = r.frames.filter((f) => f.proto === 50);
    assert.ok(esp.some((f) => f.src === `${NET}6`) && esp.some((f) => f.dst === `${NET}6`), 'ESP both ways');
    // GRE tunnels to and from the protected router, carrying inner TCP and UDP between 10/8 hosts.
    const gre = r.frames.filter((f) => f.proto === 47);
    assert.ok(
      gre.every((f) => (f.src === `${NET}1` || f.dst === `${NET}1`) && f.inner && f.inner.src.startsWith('10.') && f.inner.dst.startsWith('10.')),
      'GRE between the protected router and 10/8 hosts',
    );
    assert.ok(gre.some((f) => f.inner?.proto === 6) && gre.some((f) => f.inner?.proto === 17), 'inner TCP and UDP');
    assert.ok(gre.some((f) => f.src === `${NET}1`) && gre.some((f) => f.dst === `${NET}1`), 'GRE both ways');
    // Game traffic with the game server both ways, 40-300-byte datagrams.
    const game = r.frames.filter((f) => f.proto === 17 && has(f, `${NET}25`, 27015));
    assert.ok(game.some((f) => f.src === `${NET}25`) && game.some((f) => f.dst === `${NET}25`), 'game both ways');
    assert.ok(
      game.every((f) => f.pay >= 40 && f.pay <= 300),
      'game datagrams of 40-300 bytes',
    );
    // Research scanners: two hosts, SYNs to 443 and 22 across the /24, a few per second.
    const probes = r.frames.filter((f) => f.proto === 6 && f.flags === 0x02 && (f.dport === 22 || f.dport === 443) && (f.win === 1024 || f.ipId === 54321));
    const duration = ((r.frames.at(-1) as Frame).t - (r.frames[0] as Frame).t) / S;
    assert.equal(new Set(probes.map((f) => f.src)).size, 2);
    assert.deepEqual(new Set(probes.map((f) => f.dport)), new Set([22, 443]));
    assert.ok(new Set(probes.map((f) => f.dst)).size > 50, 'probes sweep the /24');
    assert.ok(probes.length / duration <= 3.5, `${probes.length} probes in ${duration} s`);
    // Long-lived HTTP/2 connections (dozens of requests) and bulk transfers (hundreds of full segments).
    let h2 = 0;
    for (const server of ['10', '11', '20']) for (const c of connections(r.frames, `${NET}${server}`, 443).values()) if (c.clientPsh >= 12) h2++;
    assert.ok(h2 > 0, 'an HTTP/2 connection with a dozen requests');
    const full = new Map<string, number>();
    for (const f of r.frames)
      if (f.proto === 6 && f.pay >= 1400 && (inNet(f.src) || inNet(f.dst)))
        full.set(`${f.src}:${f.sport}>${f.dst}:${f.dport}`, (full.get(`${f.src}:${f.sport}>${f.dst}:${f.dport}`) ?? 0) + 1);
    const bulk = [...full].filter(([, n]) => n >= 200).map(([k]) => k);
    assert.ok(
      bulk.some((k) => k.startsWith(NET)),
      'a protected host sending hundreds of full-size segments',
    );
    assert.ok(
      bulk.some((k) => k.split('>')[1]?.startsWith(NET)),
      'a protected host receiving hundreds of full-size segments',
    );
  });

  for (const seed of [1, 2]) {
    test(`QUIC: every connection's client Initial is real QUIC v1 that our decoder and tshark read the SNI of (seed ${seed})`, async () => {
      const r = run('benign', seed);
      const b = r.buf;
      // Client Initials: long header, type Initial, version 1, a datagram of >= 1200 bytes to 443.
      const initials = r.frames.filter((f) => f.proto === 17 && f.dport === 443 && f.pay >= 1200 && ((b[f.payAt] as number) & 0xf0) === 0xc0 && b.readUInt32BE(f.payAt + 1) === 1);
      const firstOf = new Map<string, number>();
      for (const f of initials) {
        const dl = b[f.payAt + 5] as number;
        assert.equal(dl, 8, 'an 8-byte DCID');
        const dcid = b.subarray(f.payAt + 6, f.payAt + 6 + dl).toString('hex');
        if (!firstOf.has(dcid)) firstOf.set(dcid, f.i);
      }
      assert.ok(firstOf.size > 20, `${firstOf.size} QUIC connections`);
      // One fresh DCID per connection: as many DCIDs as client ports.
      assert.equal(firstOf.size, new Set(initials.map((f) => `${f.src}:${f.sport}`)).size);
      const decoded = new Map<number, string>();
      let i = 0;
      await readCapture(r.file, (v) => {
        if (v.tlsQuic && v.tlsSniOff >= 0) decoded.set(i, Buffer.from(v.tlsBuf.subarray(v.tlsSniOff, v.tlsSniOff + v.tlsSniLen)).toString());
        i++;
      });
      assert.deepEqual(
        [...decoded.keys()].sort((x, y) => x - y),
        [...firstOf.values()].sort((x, y) => x - y),
      );
      for (const sni of decoded.values()) assert.match(sni, /\.example\.com$/);
      const rows = tsharkFields(r.file, ['frame.number', 'tls.handshake.extensions_server_name', 'tls.handshake.extensions_alpn_str']);
      for (const at of firstOf.values()) {
        const row = rows[at] as string[];
        assert.equal(row[1], decoded.get(at), `frame ${at + 1}: tshark's SNI`);
        assert.equal(row[2], 'h3', `frame ${at + 1}: ALPN`);
      }
    });
  }
});

/** tshark reads each new scenario with checksums verified and no error, except random-payload floods. */
const NEW = [
  'flash-crowd-https',
  'flash-crowd-game',
  'flash-crowd-dns',
  'syn-botnet',
  'udp-botnet',
  'gre-flood-inner',
  'same-victim',
  'pulse',
  'mimic',
  'ipv6-floods',
  'ratio-low',
  'ratio-high',
  'udp443-junk',
  'bench-quic',
];
/** Attacks whose bytes are random by design, which tshark's port guesses may call malformed. */
const QUIC_JUNK: Record<string, number> = { 'udp443-junk': 1, 'bench-quic': 2 };
const ERROR = 0x00800000;

describe('tshark reads every new scenario', () => {
  for (const name of NEW) {
    test(name, () => {
      const r = run(name, 1);
      const rows = tsharkFields(
        r.file,
        ['frame.number', '_ws.expert.severity', 'frame.protocols', 'ip.checksum.status', 'tcp.checksum.status', 'udp.checksum.status'],
        ['-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'],
      );
      assert.equal(rows.length, r.truth.packets);
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as string[];
        for (let k = 3; k < 6; k++) {
          const st = (row[k] ?? '').split(',')[0];
          assert.ok(st === '' || st === '1' || (k === 5 && st === '3'), `${name} frame ${i + 1}: checksum status ${st}`);
        }
        const l = r.labels[i] as number;
        const vector = l === 0 ? 'benign' : r.truth.attacks[l - 1]?.vector;
        const random = (vector === 'udp_flood' && QUIC_JUNK[name] !== l) || vector === 'gre_flood';
        if (random) continue;
        const sev = (row[1] ?? '').split(',').filter(Boolean).map(Number);
        assert.ok(!sev.some((x) => x >= ERROR), `${name} frame ${i + 1} (${vector}): ${row[2]}`);
      }
    });
  }
});

describe('flash crowds', () => {
  for (const seed of FEW) {
    test(`flash-crowd-https: ~8x HTTPS to .10 from new clients, handshakes complete, 20-300 KB responses (seed ${seed})`, () => {
      const r = run('flash-crowd-https', seed, 40_000);
      assert.deepEqual(r.truth.attacks, []);
      const [t0, t1] = eventWindow(r);
      assert.equal(r.truth.events[0]?.victim, V10);
      const https10 = (f: Frame): boolean => f.proto === 6 && has(f, V10, 443);
      const ratio = rate(r.frames, t0 + 3 * S, t1, https10) / rate(r.frames, 0, t0, https10);
      assert.ok(ratio >= 5.5 && ratio <= 11, `HTTPS to .10 during the crowd: ${ratio.toFixed(1)}x`);
      // The crowd: neither the everyday clients, nor CDN nodes, nor research scanners (TTL 255 less hops).
      const pop = population(seed);
      const known = new Set([...pop.clients.texts(), ...[...pop.cdnNodes].map((a) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`)]);
      const conns = [...connections(r.frames, V10, 443).values()].filter((c) => c.ttl < 200);
      const crowd = conns.filter((c) => !known.has(c.client));
      assert.ok(
        crowd.every((c) => c.syn >= t0 && c.syn < t1),
        'crowd connections start during the event',
      );
      assert.ok(crowd.length >= 40, `${crowd.length} crowd connections`);
      // Each new client arrives once, from a population of its own.
      assert.equal(new Set(crowd.map((c) => c.client)).size, crowd.length);
      const done = crowd.filter((c) => c.synAck && c.ack).length;
      assert.ok(done / crowd.length >= 0.95, `${done}/${crowd.length} handshakes completed`);
      const finished = crowd.filter((c) => c.serverFin);
      assert.ok(finished.length >= 10, 'connections that finished');
      for (const c of finished) assert.ok(c.serverBytes >= 20_000 && c.serverBytes <= 2 * 300_000 + 10_000, `server bytes ${c.serverBytes}`);
      // ClientHello, Finished + first request, and on some connections a second request.
      assert.ok(
        finished.every((c) => c.clientPsh >= 2),
        'ClientHello and a request on each',
      );
      assert.ok(
        finished.some((c) => c.clientPsh >= 3),
        'a keep-alive second request',
      );
    });

    test(`flash-crowd-game: ~10x UDP with .25:27015 from new clients, both ways, 40-300 bytes (seed ${seed})`, () => {
      const r = run('flash-crowd-game', seed);
      assert.deepEqual(r.truth.attacks, []);
      const [t0, t1] = eventWindow(r);
      const game = (f: Frame): boolean => f.proto === 17 && has(f, `${NET}25`, 27015);
      const ratio = rate(r.frames, t0 + 2 * S, t1, game) / rate(r.frames, 0, t0, game);
      assert.ok(ratio >= 7 && ratio <= 14, `game traffic during the crowd: ${ratio.toFixed(1)}x`);
      const during = r.frames.filter((f) => game(f) && f.t >= t0 && f.t < t1);
      assert.ok(
        during.every((f) => f.pay >= 40 && f.pay <= 300),
        'datagrams of 40-300 bytes',
      );
      const clients = new Set(during.filter((f) => f.dst === `${NET}25`).map((f) => f.src));
      const served = new Set(during.filter((f) => f.src === `${NET}25`).map((f) => f.dst));
      const everyday = population(seed).clients.texts();
      const fresh = [...clients].filter((c) => !everyday.has(c));
      assert.ok(fresh.length >= 30, `${fresh.length} new clients`);
      assert.ok(fresh.filter((c) => served.has(c)).length >= 0.9 * fresh.length, 'the server answers the new clients');
    });

    test(`flash-crowd-dns: ~10x queries to .53 from many resolvers, every one answered (seed ${seed})`, () => {
      const r = run('flash-crowd-dns', seed);
      assert.deepEqual(r.truth.attacks, []);
      const [t0, t1] = eventWindow(r);
      const q = (f: Frame): boolean => f.proto === 17 && f.dst === `${NET}53` && f.dport === 53;
      const ratio = rate(r.frames, t0 + 0.5 * S, t1, q) / rate(r.frames, 0, t0, q);
      assert.ok(ratio >= 7 && ratio <= 14, `queries during the crowd: ${ratio.toFixed(1)}x`);
      const b = r.buf;
      const asked = new Set<string>();
      const answered = new Set<string>();
      for (const f of r.frames) {
        if (f.proto !== 17) continue;
        if (q(f)) asked.add(`${f.src}:${f.sport}/${b.readUInt16BE(f.payAt)}`);
        else if (f.src === `${NET}53` && f.sport === 53) answered.add(`${f.dst}:${f.dport}/${b.readUInt16BE(f.payAt)}`);
      }
      const unanswered = [...asked].filter((k) => !answered.has(k));
      assert.ok(unanswered.length <= 2, `${unanswered.length} queries unanswered`);
      const resolvers = new Set(r.frames.filter((f) => q(f) && f.t >= t0 && f.t < t1).map((f) => f.src));
      assert.ok(resolvers.size >= 300, `${resolvers.size} resolvers`);
    });
  }
});

describe('attack scenarios', () => {
  for (const seed of SEEDS) {
    test(`syn-botnet: real stacks, retransmitted SYNs, never an ACK, disjoint from the clients (seed ${seed})`, () => {
      const r = run('syn-botnet', seed);
      const a = r.truth.attacks[0];
      assert.ok(a && r.truth.attacks.length === 1, 'one attack');
      assert.equal(a.vector, 'tcp_syn_flood');
      assert.deepEqual(a.victim, { ip: V10, protocol: 'tcp', port: 443 });
      assert.equal(a.sources.kind, 'botnet');
      assert.ok(a.sources.count >= 300 && a.sources.count <= 600, '300-600 bots');
      const syns = labelled(r, 1);
      assert.ok(
        syns.every((f) => f.proto === 6 && f.dst === V10 && f.dport === 443 && f.flags === 0x02 && f.df && f.pay === 0),
        'bare SYNs with DF to .10:443',
      );
      const bots = new Set(syns.map((f) => f.src));
      assert.ok(bots.size <= a.sources.count && bots.size >= 0.9 * a.sources.count, `${bots.size} bots of ${a.sources.count}`);
      assert.ok(!r.frames.some((f) => bots.has(f.src) && f.flags & 0x10), 'a bot sent an ACK');
      assert.ok(!benign(r).some((f) => bots.has(f.src) || bots.has(f.dst)), 'a bot is also a benign host');
      const everyday = population(seed).clients.texts();
      assert.ok(![...bots].some((b) => everyday.has(b)), 'a bot is one of the benign clients');
      // Each bot one stack and one distance; every stack of the clients among the bots.
      const ttl = new Map<string, Set<number>>();
      for (const f of syns) ttl.set(f.src, (ttl.get(f.src) ?? new Set()).add(f.ttl));
      assert.ok(
        [...ttl.values()].every((s) => s.size === 1),
        'one TTL per bot',
      );
      assert.ok(
        syns.every((f) => CLIENT_SYNS.has(synKey(f))),
        "bots' SYNs are the clients' stacks",
      );
      assert.deepEqual(new Set(syns.map((f) => `${f.win}/${f.opts}`)), STACK_KEYS);
      const benignSyns = clientSyns(r);
      assert.deepEqual(new Set(benignSyns.map((f) => `${f.win}/${f.opts}`)), STACK_KEYS);
      assert.ok(
        benignSyns.every((f) => CLIENT_SYNS.has(synKey(f))),
        "the clients' SYNs are the stacks'",
      );
      // Retransmissions: the same port and sequence number again 1 s, then 2 s later.
      const tries = new Map<string, Frame[]>();
      for (const f of syns) tries.set(`${f.src}:${f.sport}`, [...(tries.get(`${f.src}:${f.sport}`) ?? []), f]);
      const three = [...tries.values()].filter((x) => x.length === 3);
      assert.ok(
        [...tries.values()].every((x) => x.length <= 3),
        'at most two retransmissions',
      );
      assert.ok(three.length > 0.1 * tries.size, `${three.length} of ${tries.size} connections retransmitted twice`);
      for (const [x, y, z] of three as [Frame, Frame, Frame][]) {
        assert.ok(x.seq === y.seq && y.seq === z.seq, 'retransmissions keep the sequence number');
        assert.ok(y.t - x.t >= S && y.t - x.t < 1.1 * S, `first retransmission after ${(y.t - x.t) / S} s`);
        assert.ok(z.t - y.t >= 2 * S && z.t - y.t < 2.1 * S, `second retransmission after ${(z.t - y.t) / S} s`);
      }
      // The flood is 3-5x the victim's own traffic, which is busy HTTPS.
      const victimBenign = rate(benign(r), 8 * S, 22 * S, (f) => has(f, V10));
      const flood = rate(syns, 8 * S, 22 * S, () => true);
      assert.ok(flood / victimBenign >= 3 && flood / victimBenign <= 5, `flood ${(flood / victimBenign).toFixed(2)}x the victim's traffic`);
    });

    test(`udp-botnet: real hosts, game-client datagram lengths, disjoint from the clients (seed ${seed})`, () => {
      const r = run('udp-botnet', seed);
      const a = r.truth.attacks[0];
      assert.ok(a && r.truth.attacks.length === 1, 'one attack');
      assert.equal(a.vector, 'udp_flood');
      assert.deepEqual(a.victim, { ip: `${NET}25`, protocol: 'udp', port: 27015 });
      assert.equal(a.sources.kind, 'botnet');
      assert.ok(a.sources.count >= 300 && a.sources.count <= 600, '300-600 bots');
      const flood = labelled(r, 1);
      assert.ok(
        flood.every((f) => f.proto === 17 && f.dst === `${NET}25` && f.dport === 27015),
        'UDP to .25:27015',
      );
      const bots = new Set(flood.map((f) => f.src));
      assert.ok(bots.size <= a.sources.count && bots.size >= 0.9 * a.sources.count, 'most bots send');
      assert.ok(!benign(r).some((f) => bots.has(f.src) || bots.has(f.dst)), 'bots are not benign hosts');
      const everyday = population(seed).clients.texts();
      assert.ok(![...bots].some((b) => everyday.has(b)), 'bots are not everyday clients');
      const ttl = new Map<string, Set<number>>();
      for (const f of flood) ttl.set(f.src, (ttl.get(f.src) ?? new Set()).add(f.ttl));
      assert.ok(
        [...ttl.values()].every((s) => s.size === 1),
        'one TTL per bot',
      );
      assert.ok(
        flood.every((f) => (f.ttl >= 46 && f.ttl <= 61) || (f.ttl >= 110 && f.ttl <= 125)),
        'TTLs of real stacks 3-18 hops away',
      );
      // Lengths as the game's clients send them.
      const clients = benign(r).filter((f) => f.proto === 17 && f.dst === `${NET}25` && f.dport === 27015);
      const mean = (xs: Frame[]): number => xs.reduce((s, f) => s + f.pay, 0) / xs.length;
      assert.ok(
        flood.every((f) => f.pay >= 45 && f.pay <= 300),
        "lengths of the clients' datagrams",
      );
      assert.ok(Math.abs(mean(flood) - mean(clients)) / mean(clients) < 0.08, `mean ${mean(flood)} vs ${mean(clients)}`);
      const small = (xs: Frame[]): number => xs.filter((f) => f.pay <= 110).length / xs.length;
      assert.ok(Math.abs(small(flood) - small(clients)) < 0.05, `share <= 110 bytes ${small(flood)} vs ${small(clients)}`);
    });

    test(`gre-flood-inner: outer destination the victim, inner packets to random addresses (seed ${seed})`, () => {
      const r = run('gre-flood-inner', seed);
      const a = r.truth.attacks[0];
      assert.ok(a && r.truth.attacks.length === 1, 'one attack');
      assert.equal(a.vector, 'gre_flood');
      assert.deepEqual(a.victim, { ip: `${NET}30`, protocol: 'gre' });
      const flood = labelled(r, 1);
      assert.ok(
        flood.every((f) => f.proto === 47 && f.dst === `${NET}30` && f.inner !== null),
        'GRE to .30 carrying IPv4',
      );
      const inner = flood.map((f) => f.inner as Frame);
      assert.ok(
        inner.every((x) => x.dst !== `${NET}30` && !inNet(x.dst) && !inNet(x.src) && (x.proto === 6 || x.proto === 17)),
        'inner packets neither to nor from the protected /24',
      );
      assert.ok(new Set(inner.map((x) => x.dst)).size > 0.9 * inner.length, 'inner destinations random');
      assert.ok(new Set(flood.map((f) => f.src)).size > 0.9 * flood.length, 'outer sources spoofed');
      // Benign GRE elsewhere: the tunnels to the protected router.
      const tunnels = benign(r).filter((f) => f.proto === 47);
      assert.ok(tunnels.length > 0 && tunnels.every((f) => has(f, `${NET}1`) && f.inner?.dst.startsWith('10.')), 'benign tunnels end at .1 and carry 10/8');
    });

    test(`pulse: five 2 s pulses 3 s apart, one label (seed ${seed})`, () => {
      const r = run('pulse', seed);
      const a = r.truth.attacks[0];
      assert.ok(a && r.truth.attacks.length === 1, 'one attack');
      assert.ok(a.vector === 'udp_flood' || a.vector === 'tcp_syn_flood', 'a UDP or SYN flood');
      const flood = labelled(r, 1);
      const per = [0, 0, 0, 0, 0];
      for (const f of flood) {
        const k = Math.floor((f.t - 6 * S) / (5 * S));
        assert.ok(k >= 0 && k < 5 && f.t - 6 * S - k * 5 * S < 2 * S, `packet at ${f.t / S} s outside a pulse`);
        per[k] = (per[k] as number) + 1;
      }
      const mean = flood.length / 5;
      assert.ok(
        per.every((n) => Math.abs(n - mean) < 0.1 * mean),
        `pulses ${per}`,
      );
      assert.equal(a.packets, flood.length);
      assert.equal(isoNs(a.start), (flood[0] as Frame).t, 'start = the first packet');
      assert.equal(isoNs(a.end), (flood.at(-1) as Frame).t, 'end = the last packet');
    });

    test(`mimic: no SYN field separates the flood from the clients (seed ${seed})`, () => {
      const r = run('mimic', seed);
      const a = r.truth.attacks[0];
      assert.ok(a && a.vector === 'tcp_syn_flood' && a.sources.kind === 'spoofed', 'a spoofed SYN flood');
      const flood = labelled(r, 1);
      const clients = clientSyns(r);
      assert.ok(clients.length > 30, 'clients.length > 30');
      for (const xs of [flood, clients]) {
        assert.ok(
          xs.every((f) => CLIENT_SYNS.has(synKey(f)) && f.df && f.pay === 0 && f.sport >= 32768 && f.sport <= 60999),
          "the clients' SYN fields",
        );
      }
      // Stacks and distances in the clients' proportions: each stack a fifth, hops uniform.
      for (const k of STACK_KEYS) {
        const share = flood.filter((f) => `${f.win}/${f.opts}` === k).length / flood.length;
        assert.ok(Math.abs(share - 1 / STACK_KEYS.size) < 0.02, `${k}: ${share}`);
      }
      const hops = (f: Frame): number => (f.ttl > 64 ? 128 : 64) - f.ttl;
      const meanHops = flood.reduce((s, f) => s + hops(f), 0) / flood.length;
      assert.ok(Math.abs(meanHops - 10.5) < 0.3, `mean hops ${meanHops}`);
    });

    test(`udp443-junk: QUIC v1 long headers no key opens, against .10 whose real QUIC is benign (seed ${seed})`, async () => {
      const r = run('udp443-junk', seed);
      const a = r.truth.attacks[0];
      assert.ok(a && a.vector === 'udp_flood', 'a UDP flood');
      assert.deepEqual(a.victim, { ip: V10, protocol: 'udp', port: 443 });
      const b = r.buf;
      const junk = labelled(r, 1);
      for (const f of junk) {
        const p = f.payAt;
        assert.ok(f.proto === 17 && f.dst === V10 && f.dport === 443 && f.pay >= 1200, '>= 1200 bytes to .10:443');
        assert.ok((b[p] as number) >= 0xc0 && (b[p] as number) <= 0xcf && b.readUInt32BE(p + 1) === 1, 'QUIC v1 long header');
        const dl = b[p + 5] as number;
        assert.ok(dl >= 8 && dl <= 20, 'DCID of 8-20 bytes');
        const sl = b[p + 6 + dl] as number;
        assert.ok(sl <= 20 && b[p + 7 + dl + sl] === 0, 'no token');
        const len = b.readUInt16BE(p + 8 + dl + sl) & 0x3fff;
        assert.equal(p + 10 + dl + sl + len, f.payAt + f.pay, 'Length runs to the end');
      }
      assert.ok(new Set(junk.map((f) => f.src)).size > 0.9 * junk.length, 'spoofed sources');
      const isJunk = new Set(junk.map((f) => f.i));
      let i = 0;
      let real = 0;
      await readCapture(r.file, (v) => {
        if (v.tlsQuic) {
          assert.ok(!isJunk.has(i), `junk frame ${i + 1} decoded`);
          real++;
        }
        i++;
      });
      assert.ok(real > 0 && benign(r).some((f) => f.proto === 17 && f.dst === V10 && f.dport === 443), 'real QUIC to .10:443 in the mix');
    });
  }

  for (const seed of FEW) {
    test(`same-victim: SYN and UDP/443 floods on .10, NTP amplification on .11 (seed ${seed})`, () => {
      const r = run('same-victim', seed);
      const got = r.truth.attacks.map((a) => [a.vector, a.victim.ip, a.vector === 'ntp_amplification' ? 'any' : a.victim.port]);
      assert.deepEqual(got, [
        ['tcp_syn_flood', V10, 443],
        ['udp_flood', V10, 443],
        ['ntp_amplification', `${NET}11`, 'any'],
      ]);
      const windows = [
        [6, 22],
        [9, 25],
        [12, 24],
      ];
      r.truth.attacks.forEach((a, k) => {
        const xs = labelled(r, a.label);
        const [t0, t1] = windows[k] as [number, number];
        assert.ok((xs[0] as Frame).t >= t0 * S && (xs[0] as Frame).t < (t0 + 0.1) * S, 'starts on time');
        assert.ok((xs.at(-1) as Frame).t <= t1 * S && (xs.at(-1) as Frame).t > (t1 - 0.1) * S, 'ends on time');
      });
    });

    test(`ipv6-floods: SYN on [..::10]:443 and UDP on ..::20, overlapping (seed ${seed})`, () => {
      const r = run('ipv6-floods', seed);
      const [syn, udp] = r.truth.attacks;
      assert.ok(syn && udp && syn.vector === 'tcp_syn_flood' && udp.vector === 'udp_flood', 'a SYN and a UDP flood');
      assert.equal(syn.victim.port, 443);
      const s = labelled(r, 1);
      const u = labelled(r, 2);
      assert.ok(
        s.every((f) => f.v === 6 && f.dst === ip6Text(host6(0x10)) && f.dport === 443 && f.flags & 0x02),
        'SYNs to [::10]:443',
      );
      assert.ok(
        u.every((f) => f.v === 6 && f.dst === ip6Text(host6(0x20)) && f.proto === 17),
        'UDP to ::20',
      );
      assert.ok((u[0] as Frame).t < (s.at(-1) as Frame).t, 'the floods overlap');
    });

    test(`ratio-low and ratio-high: 0.5x and 100x the benign rate (seed ${seed})`, () => {
      for (const [name, want] of [
        ['ratio-low', 0.5],
        ['ratio-high', 100],
      ] as const) {
        const r = run(name, seed);
        const att = rate(labelled(r, 1), 6 * S, 16 * S, () => true);
        const ben = rate(benign(r), 6 * S, 16 * S, () => true);
        assert.ok(Math.abs(att / ben - want) / want < 0.15, `${name}: ${(att / ben).toFixed(2)}x`);
      }
    });
  }

  test('bench-quic: the SYN flood, the QUIC junk flood, ~8% of the benign packets QUIC', () => {
    const r = run('bench-quic', 1, 40_000);
    assert.deepEqual(
      r.truth.attacks.map((a) => [a.vector, a.victim.ip, a.victim.port === 443 || a.vector === 'tcp_syn_flood']),
      [
        ['tcp_syn_flood', V10, true],
        ['udp_flood', V10, true],
      ],
    );
    const b = benign(r);
    const quic = b.filter((f) => f.proto === 17 && (f.sport === 443 || f.dport === 443)).length / b.length;
    assert.ok(quic >= 0.07 && quic <= 0.09, `QUIC ${(100 * quic).toFixed(1)}% of the benign packets`);
  });
});
