/**
 * The labelled scenario generator: merges a scenario's components by packet time, writes every
 * frame into a classic pcap and the ground truth beside it (`X.pcap` → `X.truth.json`).
 *
 * Ground truth: per attack its vector, victim, first/last packet times, packet and byte counts;
 * and per packet a label (0 benign, k = attacks[k-1]) as base64 of one byte per packet in file
 * order — exact, and small next to the capture.
 */
import { writeFileSync } from 'node:fs';
import type { Vector } from '../model/attack.js';
import { PcapWriter } from '../sources/capture/pcap-writer.js';
import { type AttackSpec, AttackTraffic, makeAttack, type Victim } from './attacks.js';
import { BenignTraffic, Population, ResearchScanners } from './benign.js';
import type { Component } from './component.js';
import { Emitter, EPOCH_SEC } from './emitter.js';
import { HTTP_PACKET_VECTORS, makeHttpAttack, WebVisitors } from './http-traffic.js';
import { Rng } from './prng.js';
import { activeSeconds, findScenario, SCENARIOS } from './scenarios.js';

export interface TruthAttack {
  /** 1-based; the per-packet label of this attack's packets. */
  label: number;
  vector: Vector;
  victim: Victim;
  start: string;
  end: string;
  packets: number;
  bytes: number;
  sources: { kind: 'spoofed' | 'few' | 'reflectors' | 'botnet'; count: number };
}

export interface Truth {
  scenario: string;
  seed: number;
  packets: number;
  bytes: number;
  start: string;
  end: string;
  link_type: 'EN10MB';
  ts_resolution: 'ns' | 'us';
  attacks: TruthAttack[];
  benign: { packets: number; bytes: number };
  events: Array<{ kind: string; victim: string; start: string; end: string }>;
  /** One byte per packet in file order: 0 benign, k → attacks[k-1]. */
  labels: { encoding: 'base64-u8'; data: string };
}

export interface GenerateOptions {
  packets: number;
  seed: number;
  /** Microsecond timestamps instead of nanoseconds. */
  micro?: boolean;
  /** Do not write X.truth.json. */
  noTruth?: boolean;
}

export function truthPath(pcapPath: string): string {
  return `${pcapPath.replace(/\.pcap$/i, '')}.truth.json`;
}

function iso(ns: number): string {
  const sec = Math.floor(ns / 1e9);
  const frac = Math.round(ns - sec * 1e9);
  return `${new Date((EPOCH_SEC + sec) * 1000).toISOString().slice(0, 19)}.${String(frac).padStart(9, '0')}Z`;
}

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}

/** The generator's root rng, the scenario plan's rng and the shared population of a seed. */
function roots(seed: number): { root: Rng; planRng: Rng; pop: Population } {
  const root = new Rng(seed);
  const planRng = root.fork(1);
  return { root, planRng, pop: new Population(root.fork(2)) };
}

/** The benign hosts a scenario of this seed draws its everyday clients from (for tests). */
export function population(seed: number): Population {
  return roots(seed).pop;
}

export function generate(name: string, out: string, opts: GenerateOptions): Truth {
  const sc = findScenario(name);
  if (!sc) throw new RangeError(`unknown scenario "${name}" (palisade generate --list)`);
  const N = Math.floor(opts.packets);
  const { root, planRng, pop } = roots(opts.seed);
  const plan = sc.plan(planRng);
  let weightTotal = 0;
  for (const p of plan.parts) weightTotal += p.weight * activeSeconds(p);
  const scale = N / weightTotal;
  const comps: Component[] = [];
  const specs: TruthAttack[] = [];
  let label = 0;
  let salt = 10;
  for (const part of plan.parts) {
    const rng = root.fork(salt++);
    const pps = part.weight * scale;
    if (part.kind === 'benign') {
      // Background never stops early: if Poisson arrivals fall short, it fills the remainder.
      comps.push(new BenignTraffic(rng, pop, pps, part.t0, Number.POSITIVE_INFINITY, { kind: 'mix' }));
      // Research scanners sweep the /24 at a few packets per second (a sliver of a small capture).
      comps.push(new ResearchScanners(rng.fork(7), Math.min(3, 0.01 * pps), part.t0, Number.POSITIVE_INFINITY, pop.web4));
    } else if (part.kind === 'flash') {
      comps.push(new BenignTraffic(rng, pop, pps, part.t0, part.t1, { kind: part.flavor ?? 'flash', rampS: part.ramp, target: part.target, fresh: part.fresh !== false }));
    } else if (part.kind === 'web') {
      comps.push(new WebVisitors(rng, pop, pps, part.t0, part.t1, part.target));
    } else {
      label++;
      // HTTP floods and slowloris are conversations with per-client timing (http-traffic.ts).
      const http = HTTP_PACKET_VECTORS.has(part.vector) ? makeHttpAttack(part.vector, rng.fork(1), label, part.target, pop, pps, part.t0, part.t1) : null;
      const spec = http?.info ?? makeAttack(part.vector, rng.fork(1), part.target, pop);
      comps.push(http ?? new AttackTraffic(rng, label, spec as AttackSpec, pps, part.t0, part.t1, part.ramp ?? 0, part.pulse));
      specs.push({
        label,
        vector: spec.vector,
        victim: spec.victim,
        start: '',
        end: '',
        packets: 0,
        bytes: 0,
        sources: { kind: spec.sources, count: spec.sourceCount },
      });
    }
  }
  if (label > 254) throw new RangeError('too many attacks for one-byte labels');

  const writer = new PcapWriter(out, { nano: !opts.micro });
  const em = new Emitter(writer);
  const labels = new Uint8Array(N);
  const first = new Float64Array(label + 1).fill(-1);
  const last = new Float64Array(label + 1);
  const pk = new Float64Array(label + 1);
  const by = new Float64Array(label + 1);
  const nc = comps.length;
  let n = 0;
  let t0 = -1;
  let tEnd = 0;
  try {
    while (n < N) {
      let best = 0;
      let bt = (comps[0] as Component).next;
      for (let i = 1; i < nc; i++) {
        const t = (comps[i] as Component).next;
        if (t < bt) {
          bt = t;
          best = i;
        }
      }
      if (bt === Number.POSITIVE_INFINITY) break;
      const c = comps[best] as Component;
      const l = c.label;
      c.emit(em);
      labels[n++] = l;
      if (first[l] === -1) first[l] = bt;
      last[l] = bt;
      pk[l]++;
      by[l] += em.lastLen;
      if (t0 < 0) t0 = bt;
      tEnd = bt;
    }
  } finally {
    writer.close();
  }
  for (const s of specs) {
    const l = s.label;
    s.packets = pk[l] as number;
    s.bytes = by[l] as number;
    s.start = pk[l] ? iso(first[l] as number) : '';
    s.end = pk[l] ? iso(last[l] as number) : '';
  }
  const truth: Truth = {
    scenario: name,
    seed: opts.seed,
    packets: n,
    bytes: writer.bytes,
    start: iso(Math.max(t0, 0)),
    end: iso(tEnd),
    link_type: 'EN10MB',
    ts_resolution: opts.micro ? 'us' : 'ns',
    attacks: specs,
    benign: { packets: pk[0] as number, bytes: by[0] as number },
    events: (plan.events ?? []).map((e) => ({
      kind: e.kind,
      victim: e.victim,
      start: iso(e.t0 * 1e9),
      end: iso(e.t1 * 1e9),
    })),
    labels: {
      encoding: 'base64-u8',
      data: Buffer.from(labels.buffer, 0, n).toString('base64'),
    },
  };
  if (!opts.noTruth) writeFileSync(truthPath(out), `${JSON.stringify(truth, null, 1)}\n`);
  return truth;
}

/** Decode the per-packet labels of a truth record. */
export function truthLabels(t: Truth): Uint8Array {
  return new Uint8Array(Buffer.from(t.labels.data, 'base64'));
}
