/**
 * Datagram sessions of the benign mix: request/response pairs (DNS, NTP, ICMP echo) and
 * bidirectional flows (a game client and its server, an RTP call, a WireGuard tunnel, an IPsec
 * ESP security association pair). Each flow writes its protocol's real header per packet into a
 * session-owned buffer and takes the encrypted or encoded rest from a random stretch of a noise
 * blob, so a packet allocates nothing.
 */
import type { Session } from './component.js';
import type { Addr, Emitter } from './emitter.js';
import type { PayloadBlob } from './frames.js';
import type { Rng } from './prng.js';
import type { GreTunnel } from './tunnel.js';

/** A UDP or ICMP request/response pair (DNS, NTP, echo), optionally inside a GRE tunnel. */
export class PairSession implements Session {
  private i = 0;

  constructor(
    private readonly kind: 'udp' | 'icmp',
    private readonly c: Addr,
    private readonly s: Addr,
    private readonly cport: number,
    private readonly sport: number,
    private readonly cttl: number,
    private readonly sttl: number,
    private readonly req: Uint8Array,
    private readonly resp: Uint8Array,
    private readonly id: number,
    private readonly gre: GreTunnel | null = null,
  ) {}

  step(e: Emitter, t: number): boolean {
    const p = e.p.reset();
    const fromClient = this.i === 0;
    p.src = fromClient ? this.c : this.s;
    p.dst = fromClient ? this.s : this.c;
    p.ttl = fromClient ? this.cttl : this.sttl;
    p.ipId = this.id + this.i;
    p.pay = fromClient ? this.req : this.resp;
    p.payLen = p.pay.length;
    if (this.kind === 'udp') {
      p.sport = fromClient ? this.cport : this.sport;
      p.dport = fromClient ? this.sport : this.cport;
      if (this.gre) this.gre.emit(e, t, 17, fromClient);
      else e.udp(t);
    } else {
      const v6 = typeof this.c !== 'number';
      p.icmpType = fromClient ? (v6 ? 128 : 8) : v6 ? 129 : 0;
      p.icmpRest = ((this.id & 0xffff) << 16) | (this.cport & 0xffff);
      e.icmp(t);
    }
    this.i++;
    return this.i >= 2;
  }
}

export const enum Flow {
  GAME = 0,
  RTP = 1,
  WIREGUARD = 2,
  ESP = 3,
}

/**
 * Game datagram lengths (UDP payload): clients send input commands (mostly 45-110 bytes, now and
 * then voice up to 300), the server sends snapshots (80-300). The UDP flood from a botnet draws
 * its lengths from the client side of this.
 */
export function gameLen(r: Rng, fromClient: boolean): number {
  if (fromClient) return r.chance(0.85) ? r.int(45, 110) : r.int(110, 300);
  return r.chance(0.7) ? r.int(80, 220) : r.int(220, 300);
}

/** Payload of a WireGuard transport message carrying an inner packet of n bytes (MTU 1420). */
function wgLen(n: number): number {
  const padded = Math.min(1420, (n + 15) & ~15);
  return 16 + padded + 16;
}

/** An ESP packet (RFC 4303, AES-GCM: 8-byte IV, 16-byte ICV) carrying n bytes of inner packet. */
function espLen(n: number): number {
  return 8 + 8 + ((n + 2 + 3) & ~3) + 16;
}

/**
 * A bidirectional datagram flow. Game: Source-engine-style netchannel datagrams (sequence and
 * acknowledged sequence, little-endian, flags, checksum; the sequence starts low, as after a
 * connect). RTP (RFC 3550): G.711 at 20 ms, 12-byte header + 160 bytes, both ways, own SSRC and
 * sequence per direction. WireGuard: handshake initiation (148 bytes) and response (92), then
 * transport data (type 4, receiver index, 64-bit counter). ESP: SPI and sequence per direction.
 */
export class FlowSession implements Session {
  private i = 0;
  private readonly head = new Uint8Array(16);
  private cSeq: number;
  private sSeq: number;
  private cId: number;
  private sId: number;
  private readonly cTag: number;
  private readonly sTag: number;
  /** The side that sends the bulk of a tunnel's bytes. */
  private readonly downFromServer: boolean;

  constructor(
    private readonly rng: Rng,
    private readonly kind: Flow,
    private readonly c: Addr,
    private readonly s: Addr,
    private readonly cport: number,
    private readonly sport: number,
    private readonly cttl: number,
    private readonly sttl: number,
    private readonly noise: PayloadBlob,
    private readonly count: number,
  ) {
    // A game's sequence numbers start low after a connect (here 512-4000, sessions are short):
    // their bytes then never read as an RTCP, OSI CLTP or QUIC v1 header to a dissector's
    // heuristics (byte 1 is 2-17: never 0, 1 as pathport's 0xed01 magic, nor 0x40-0x4f).
    this.cSeq = kind === Flow.GAME ? rng.int(512, 4000) : rng.int(0, 65535);
    this.sSeq = kind === Flow.GAME ? rng.int(512, 4000) : rng.int(0, 65535);
    if (kind === Flow.ESP) this.cSeq = this.sSeq = rng.int(1, 5000);
    this.cId = rng.int(0, 65535);
    this.sId = rng.int(0, 65535);
    this.cTag = rng.u32();
    this.sTag = rng.u32();
    this.downFromServer = rng.chance(0.7);
  }

  step(e: Emitter, t: number): boolean {
    const r = this.rng;
    const kind = this.kind;
    const h = this.head;
    let fromClient: boolean;
    let len: number;
    let hl: number;
    if (kind === Flow.GAME) {
      fromClient = r.chance(0.5);
      len = gameLen(r, fromClient);
      const seq = fromClient ? this.cSeq++ : this.sSeq++;
      const ack = fromClient ? this.sSeq - 1 : this.cSeq - 1;
      h[0] = seq & 255;
      h[1] = (seq >>> 8) & 255;
      h[2] = (seq >>> 16) & 255;
      h[3] = 0;
      h[4] = ack & 255;
      h[5] = (ack >>> 8) & 255;
      h[6] = (ack >>> 16) & 255;
      h[7] = 0;
      h[8] = r.int(0, 3);
      h[9] = r.u32() & 255;
      h[10] = r.u32() & 255;
      hl = 11;
    } else if (kind === Flow.RTP) {
      fromClient = (this.i & 1) === 0;
      len = 172;
      const seq = fromClient ? this.cSeq++ : this.sSeq++;
      const ts = ((seq * 160) >>> 0) ^ (fromClient ? this.cTag : this.sTag);
      h[0] = 0x80;
      h[1] = this.i < 2 ? 0x80 : 0; // marker on each side's first packet, PT 0 (PCMU)
      h[2] = (seq >>> 8) & 255;
      h[3] = seq & 255;
      h[4] = ts >>> 24;
      h[5] = (ts >>> 16) & 255;
      h[6] = (ts >>> 8) & 255;
      h[7] = ts & 255;
      const ssrc = fromClient ? this.cTag : this.sTag;
      h[8] = ssrc >>> 24;
      h[9] = (ssrc >>> 16) & 255;
      h[10] = (ssrc >>> 8) & 255;
      h[11] = ssrc & 255;
      hl = 12;
    } else if (kind === Flow.WIREGUARD) {
      if (this.i < 2) {
        fromClient = this.i === 0;
        len = fromClient ? 148 : 92;
        h[0] = fromClient ? 1 : 2;
        h[1] = h[2] = h[3] = 0;
        const sender = fromClient ? this.cTag : this.sTag;
        h[4] = sender & 255;
        h[5] = (sender >>> 8) & 255;
        h[6] = (sender >>> 16) & 255;
        h[7] = sender >>> 24;
        hl = 8;
        if (!fromClient) {
          const recv = this.cTag;
          h[8] = recv & 255;
          h[9] = (recv >>> 8) & 255;
          h[10] = (recv >>> 16) & 255;
          h[11] = recv >>> 24;
          hl = 12;
        }
      } else {
        const down = r.chance(0.6);
        fromClient = down !== this.downFromServer;
        len = wgLen(down ? (r.chance(0.75) ? 1420 : r.int(60, 1420)) : r.chance(0.8) ? 52 : r.int(0, 600));
        const recv = fromClient ? this.sTag : this.cTag;
        const ctr = fromClient ? this.cSeq++ : this.sSeq++;
        h[0] = 4;
        h[1] = h[2] = h[3] = 0;
        h[4] = recv & 255;
        h[5] = (recv >>> 8) & 255;
        h[6] = (recv >>> 16) & 255;
        h[7] = recv >>> 24;
        h[8] = ctr & 255;
        h[9] = (ctr >>> 8) & 255;
        h[10] = (ctr >>> 16) & 255;
        h[11] = ctr >>> 24;
        h[12] = h[13] = h[14] = h[15] = 0;
        hl = 16;
      }
    } else {
      const down = r.chance(0.6);
      fromClient = down !== this.downFromServer;
      len = espLen(down ? (r.chance(0.75) ? 1400 : r.int(60, 1400)) : r.chance(0.8) ? 52 : r.int(40, 600));
      const spi = fromClient ? this.cTag : this.sTag;
      const seq = fromClient ? this.cSeq++ : this.sSeq++;
      h[0] = spi >>> 24;
      h[1] = (spi >>> 16) & 255;
      h[2] = (spi >>> 8) & 255;
      h[3] = spi & 255;
      h[4] = seq >>> 24;
      h[5] = (seq >>> 16) & 255;
      h[6] = (seq >>> 8) & 255;
      h[7] = seq & 255;
      hl = 8;
    }
    const p = e.p.reset();
    p.src = fromClient ? this.c : this.s;
    p.dst = fromClient ? this.s : this.c;
    p.ttl = fromClient ? this.cttl : this.sttl;
    p.ipId = fromClient ? this.cId++ : this.sId++;
    p.df = kind !== Flow.GAME;
    p.head = h;
    p.headLen = hl;
    const noise = this.noise;
    p.blob = noise;
    p.payLen = len - hl;
    p.blobOff = 2 * Math.floor(r.float() * (((noise.bytes.length - p.payLen) >> 1) + 1));
    this.i++;
    if (kind === Flow.ESP) {
      p.proto = 50;
      e.raw(t);
    } else {
      p.sport = fromClient ? this.cport : this.sport;
      p.dport = fromClient ? this.sport : this.cport;
      e.udp(t);
    }
    return this.i >= this.count;
  }
}
