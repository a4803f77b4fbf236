/**
 * The scenario catalogue. A scenario is a timeline of parts (benign background, flash crowds,
 * attacks), each with a relative rate `weight` and an interval in seconds; the generator scales
 * the weights so the whole file holds the requested number of packets.
 */
import type { Vector } from '../model/attack.js';
import { host4, host6 } from './addresses.js';
import { type AttackTarget, L34_VECTORS } from './attacks.js';
import type { FlashKind } from './benign.js';
import type { Pulse } from './component.js';
import { HTTP_SCENARIOS } from './http-scenarios.js';
import type { Rng } from './prng.js';

export type Part =
  | { kind: 'benign'; weight: number; t0: number; t1: number }
  | {
      /** Extra benign load on one server: a flash crowd (with an event) or a busy service. */
      kind: 'flash';
      weight: number;
      t0: number;
      t1: number;
      ramp: number;
      target: number;
      /** What the crowd does (default 'flash': HTTP(S) with short responses). */
      flavor?: FlashKind;
      /** false: the everyday clients, not a population of new ones (a busy service, no crowd). */
      fresh?: boolean;
    }
  | {
      /** Browsers visiting the site on one server over cleartext HTTP (http-traffic.ts). */
      kind: 'web';
      weight: number;
      t0: number;
      t1: number;
      target: number;
    }
  | {
      kind: 'attack';
      weight: number;
      t0: number;
      t1: number;
      vector: Vector;
      target: AttackTarget;
      ramp?: number;
      /** A pulse wave: traffic only in the on-phases between t0 and t1 (one attack, one label). */
      pulse?: Pulse;
    };

/** Seconds a part sends traffic (a pulse wave's on-phases only). */
export function activeSeconds(p: Part): number {
  if (p.kind !== 'attack' || !p.pulse) return p.t1 - p.t0;
  const period = p.pulse.on + p.pulse.off;
  let s = 0;
  for (let a = p.t0; a < p.t1; a += period) s += Math.min(p.pulse.on, p.t1 - a);
  return s;
}

export interface ScenarioPlan {
  /** Nominal length in seconds (benign traffic continues past it only if packets remain). */
  duration: number;
  parts: Part[];
  /** Events that are not attacks but that tests care about (flash crowds). */
  events?: Array<{
    kind: 'flash_crowd';
    victim: string;
    t0: number;
    t1: number;
  }>;
}

export interface Scenario {
  name: string;
  description: string;
  plan(rng: Rng): ScenarioPlan;
}

/** The default victim of each vector (the protected host that would plausibly be hit). */
function victimFor(v: Vector): number {
  if (v === 'dns_random_subdomain') return host4(53);
  if (v.startsWith('tcp_')) return host4(10);
  if (v.endsWith('_amplification') || v === 'udp_reflection') return host4(20);
  return host4(25);
}

function vectorScenario(v: Vector): Scenario {
  return {
    name: v,
    description: `benign background with one ${v} attack from 6 s to 16 s`,
    plan: () => ({
      duration: 20,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 20 },
        {
          kind: 'attack',
          weight: 8,
          t0: 6,
          t1: 16,
          vector: v,
          target: { victim: victimFor(v) },
        },
      ],
    }),
  };
}

const BASE: Scenario[] = [
  {
    name: 'demo',
    description: 'benign traffic with a SYN flood and a DNS amplification (small)',
    plan: () => ({
      duration: 30,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 30 },
        {
          kind: 'attack',
          weight: 8,
          t0: 8,
          t1: 18,
          vector: 'tcp_syn_flood',
          target: { victim: host4(10), spoof: 'spoofed' },
        },
        {
          kind: 'attack',
          weight: 4,
          t0: 14,
          t1: 24,
          vector: 'dns_amplification',
          target: { victim: host4(20) },
        },
      ],
    }),
  },
  {
    name: 'bench',
    description: 'large capture for benchmarks: benign mix, a spoofed SYN flood and a DNS amplification',
    plan: () => ({
      duration: 60,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 60 },
        {
          kind: 'attack',
          weight: 1.5,
          t0: 10,
          t1: 50,
          vector: 'tcp_syn_flood',
          target: { victim: host4(10), spoof: 'spoofed' },
        },
        {
          kind: 'attack',
          weight: 0.2,
          t0: 20,
          t1: 40,
          vector: 'dns_amplification',
          target: { victim: host4(20) },
        },
      ],
    }),
  },
  {
    name: 'benign',
    description: 'benign traffic only',
    plan: () => ({
      duration: 60,
      parts: [{ kind: 'benign', weight: 1, t0: 0, t1: 60 }],
    }),
  },
  {
    name: 'flash-crowd',
    description: 'benign traffic, then a flash crowd: many new clients completing HTTP(S) requests to one server (no attack)',
    plan: () => ({
      duration: 40,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 40 },
        {
          kind: 'flash',
          weight: 6,
          t0: 10,
          t1: 30,
          ramp: 4,
          target: host4(10),
        },
      ],
      events: [{ kind: 'flash_crowd', victim: '203.0.113.10', t0: 10, t1: 30 }],
    }),
  },
  {
    name: 'carpet',
    description: 'carpet bombing: one attack spread over every address of 203.0.113.0/24',
    plan: (rng) => ({
      duration: 30,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 30 },
        {
          kind: 'attack',
          weight: 8,
          t0: 8,
          t1: 20,
          vector: rng.pick<Vector>(['dns_amplification', 'udp_flood', 'ntp_amplification']),
          target: { victim: host4(0), carpet: true },
        },
      ],
    }),
  },
  {
    name: 'scanner',
    description: 'benign traffic with a TCP SYN port scan of one server (every port, one or two scanning hosts)',
    plan: () => ({
      duration: 30,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 30 },
        { kind: 'attack', weight: 2, t0: 8, t1: 20, vector: 'scanner', target: { victim: host4(10) } },
      ],
    }),
  },
  {
    name: 'scanner_udp',
    description: 'benign traffic with a UDP port scan of one server (empty datagrams to every port, one or two scanning hosts)',
    plan: () => ({
      duration: 30,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 30 },
        { kind: 'attack', weight: 2, t0: 8, t1: 20, vector: 'scanner', target: { victim: host4(25), scan: 'udp' } },
      ],
    }),
  },
  {
    name: 'concurrent',
    description: 'three overlapping attacks on different victims and vectors (one over IPv6)',
    plan: () => ({
      duration: 40,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 40 },
        {
          kind: 'attack',
          weight: 6,
          t0: 8,
          t1: 25,
          vector: 'tcp_syn_flood',
          target: { victim: host4(10) },
        },
        {
          kind: 'attack',
          weight: 4,
          t0: 12,
          t1: 30,
          vector: 'ntp_amplification',
          target: { victim: host4(20) },
        },
        {
          kind: 'attack',
          weight: 3,
          t0: 15,
          t1: 28,
          vector: 'icmp_flood',
          target: { victim: host6(0x20) },
        },
      ],
    }),
  },
];

/**
 * Shares of the benign mix's packets (benign.ts MIX, measured on a 200k-packet `benign` capture):
 * HTTPS with 203.0.113.10, everything with .10, the game server .25:27015, DNS with .53. The
 * scenarios below size crowds and floods against them.
 */
const HTTPS_10 = 0.14;
const ALL_10 = 0.2;
const GAME_25 = 0.03;
const DNS_53 = 0.017;

/**
 * Traffic habits the vector scenarios do not test: flash crowds of each kind, floods from real
 * hosts, a GRE flood whose inner packets do not name the victim, several vectors on one victim, a
 * pulse wave, a flood that mimics the clients, IPv6 floods, extreme attack/benign ratios, QUIC
 * junk on UDP/443, and the QUIC benchmark capture.
 */
const BROAD: Scenario[] = [
  {
    name: 'flash-crowd-https',
    description: 'flash crowd: ~8x the usual HTTPS to 203.0.113.10 from >= 20,000 new clients, full TLS handshakes, 20-300 KB responses (no attack)',
    plan: () => ({
      duration: 40,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 40 },
        { kind: 'flash', flavor: 'https', weight: 7 * HTTPS_10, t0: 10, t1: 30, ramp: 3, target: host4(10) },
      ],
      events: [{ kind: 'flash_crowd', victim: '203.0.113.10', t0: 10, t1: 30 }],
    }),
  },
  {
    name: 'flash-crowd-game',
    description: 'flash crowd: a game launch, >= 10,000 new clients exchanging UDP with 203.0.113.25:27015, ~10x for 15 s (no attack)',
    plan: () => ({
      duration: 35,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 35 },
        { kind: 'flash', flavor: 'game', weight: 9 * GAME_25, t0: 10, t1: 25, ramp: 2, target: host4(25) },
      ],
      events: [{ kind: 'flash_crowd', victim: '203.0.113.25', t0: 10, t1: 25 }],
    }),
  },
  {
    name: 'flash-crowd-dns',
    description: 'flash crowd: a TTL expiry, >= 2,000 resolvers re-asking 203.0.113.53 for popular example.com names, ~10x for 10 s, all answered (no attack)',
    plan: () => ({
      duration: 30,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 30 },
        { kind: 'flash', flavor: 'dns', weight: 9 * DNS_53, t0: 10, t1: 20, ramp: 0.5, target: host4(53) },
      ],
      events: [{ kind: 'flash_crowd', victim: '203.0.113.53', t0: 10, t1: 20 }],
    }),
  },
  {
    name: 'syn-botnet',
    description: 'SYN flood on 203.0.113.10:443 from 300-600 real hosts (real stacks, retransmitted SYNs, never an ACK) while its HTTPS is busy',
    plan: () => ({
      duration: 30,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 30 },
        { kind: 'flash', flavor: 'https', fresh: false, weight: 0.3, t0: 0, t1: 30, ramp: 0, target: host4(10) },
        { kind: 'attack', weight: 4 * (ALL_10 + 0.3), t0: 8, t1: 22, vector: 'tcp_syn_flood', target: { victim: host4(10), port: 443, variant: 'botnet' } },
      ],
    }),
  },
  {
    name: 'udp-botnet',
    description: 'UDP flood on the game server 203.0.113.25:27015 from 300-600 real hosts, datagram lengths as the game clients send',
    plan: () => ({
      duration: 30,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 30 },
        { kind: 'flash', flavor: 'game', fresh: false, weight: 2 * GAME_25, t0: 0, t1: 30, ramp: 0, target: host4(25) },
        { kind: 'attack', weight: 1.5, t0: 8, t1: 22, vector: 'udp_flood', target: { victim: host4(25), port: 27015, variant: 'botnet' } },
      ],
    }),
  },
  {
    name: 'gre-flood-inner',
    description: 'GRE flood on 203.0.113.30 (outer destination) whose inner packets go from and to random addresses; benign GRE tunnels elsewhere',
    plan: () => ({
      duration: 20,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 20 },
        { kind: 'attack', weight: 8, t0: 6, t1: 16, vector: 'gre_flood', target: { victim: host4(30), spoof: 'spoofed', variant: 'gre-inner' } },
      ],
    }),
  },
  {
    name: 'same-victim',
    description: 'a SYN flood and a UDP/443 flood on 203.0.113.10, an NTP amplification on its neighbour 203.0.113.11',
    plan: () => ({
      duration: 30,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 30 },
        { kind: 'attack', weight: 6, t0: 6, t1: 22, vector: 'tcp_syn_flood', target: { victim: host4(10), port: 443, spoof: 'spoofed' } },
        { kind: 'attack', weight: 4, t0: 9, t1: 25, vector: 'udp_flood', target: { victim: host4(10), port: 443, spoof: 'spoofed' } },
        { kind: 'attack', weight: 4, t0: 12, t1: 24, vector: 'ntp_amplification', target: { victim: host4(11) } },
      ],
    }),
  },
  {
    name: 'pulse',
    description: 'pulse wave: a UDP or SYN flood 2 s on, 3 s off, five pulses (one attack)',
    plan: (rng) => {
      const udp = rng.chance(0.5);
      return {
        duration: 32,
        parts: [
          { kind: 'benign', weight: 1, t0: 0, t1: 32 },
          {
            kind: 'attack',
            weight: 8,
            t0: 6,
            t1: 6 + 5 * 5 - 3,
            pulse: { on: 2, off: 3 },
            vector: udp ? 'udp_flood' : 'tcp_syn_flood',
            target: udp ? { victim: host4(25), spoof: 'spoofed' } : { victim: host4(10), port: 443, spoof: 'spoofed' },
          },
        ],
      };
    },
  },
  {
    name: 'mimic',
    description: "spoofed SYN flood on 203.0.113.10:443 whose TTL, window, options and length follow the benign clients' exactly",
    plan: () => ({
      duration: 20,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 20 },
        { kind: 'attack', weight: 8, t0: 6, t1: 16, vector: 'tcp_syn_flood', target: { victim: host4(10), port: 443, variant: 'mimic' } },
      ],
    }),
  },
  {
    name: 'ipv6-floods',
    description: 'overlapping IPv6 floods: SYN on [2001:db8:1::10]:443, UDP on 2001:db8:1::20',
    plan: () => ({
      duration: 30,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 30 },
        { kind: 'attack', weight: 6, t0: 8, t1: 20, vector: 'tcp_syn_flood', target: { victim: host6(0x10), port: 443, spoof: 'spoofed' } },
        { kind: 'attack', weight: 4, t0: 12, t1: 24, vector: 'udp_flood', target: { victim: host6(0x20) } },
      ],
    }),
  },
  {
    name: 'ratio-low',
    description: 'a UDP flood on 203.0.113.25 at half the total benign rate',
    plan: () => ({
      duration: 20,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 20 },
        { kind: 'attack', weight: 0.5, t0: 6, t1: 16, vector: 'udp_flood', target: { victim: host4(25) } },
      ],
    }),
  },
  {
    name: 'ratio-high',
    description: 'a SYN flood on 203.0.113.10 at 100x the total benign rate',
    plan: () => ({
      duration: 20,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 20 },
        { kind: 'attack', weight: 100, t0: 6, t1: 16, vector: 'tcp_syn_flood', target: { victim: host4(10), spoof: 'spoofed' } },
      ],
    }),
  },
  {
    name: 'udp443-junk',
    description: 'UDP/443 junk flood of undecryptable QUIC v1 long headers on 203.0.113.10, whose real QUIC is in the benign mix',
    plan: () => ({
      duration: 20,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 20 },
        { kind: 'attack', weight: 6, t0: 6, t1: 16, vector: 'udp_flood', target: { victim: host4(10), port: 443, spoof: 'spoofed', variant: 'quic-junk' } },
      ],
    }),
  },
  {
    name: 'bench-quic',
    description: 'large capture for benchmarks: benign mix (~8% QUIC), a spoofed SYN flood and a UDP/443 QUIC junk flood',
    plan: () => ({
      duration: 60,
      parts: [
        { kind: 'benign', weight: 1, t0: 0, t1: 60 },
        { kind: 'attack', weight: 1.5, t0: 10, t1: 50, vector: 'tcp_syn_flood', target: { victim: host4(10), spoof: 'spoofed' } },
        { kind: 'attack', weight: 0.5, t0: 20, t1: 40, vector: 'udp_flood', target: { victim: host4(10), port: 443, spoof: 'spoofed', variant: 'quic-junk' } },
      ],
    }),
  },
];

export const SCENARIOS: Scenario[] = [...BASE, ...BROAD, ...L34_VECTORS.map(vectorScenario), ...HTTP_SCENARIOS];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
