/**
 * The scenario catalogue. A scenario is a timeline of parts (benign background, flash crowd,
 * attacks), each with a relative rate `weight` and an interval in seconds; the generator scales
 * the weights so the whole file holds the requested number of packets.
 */
import type { Vector } from '../model/attack.js';
import { host4, host6 } from './addresses.js';
import { type AttackTarget, L34_VECTORS } from './attacks.js';
import type { Rng } from './prng.js';

export type Part =
  | { kind: 'benign'; weight: number; t0: number; t1: number }
  | {
      kind: 'flash';
      weight: number;
      t0: number;
      t1: number;
      ramp: number;
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
    };

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

export const SCENARIOS: Scenario[] = [...BASE, ...L34_VECTORS.map(vectorScenario)];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
