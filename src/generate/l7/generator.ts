/**
 * The labelled L7 generator: merges a scenario's actors by log time and writes the same requests
 * twice, `X.log` in NGINX_FORMAT and `X.jsonl` as HttpRequest records, with the ground truth in
 * `X.truth.json`: per attack its vector, victim host, first/last line times, line count and every
 * attacking address; the legitimate addresses a detector must leave alone (crawlers, monitors,
 * carrier-NAT egresses); and one label byte per line (0 legitimate, k → attacks[k-1]).
 *
 * The log runs as long as the requested number of lines needs: per-client rates are fixed by the
 * plan, so the length is lines / expected lines per second, and baseline traffic fills the end.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { Rng } from '../prng.js';
import { type Actor, type Ctx, meanRate, type Profile } from './actor.js';
import { flood, type L7Vector, scanners, slowloris, stuffing } from './attacks.js';
import { baseline, FLASH_VISIT_LINES, flashCrowd, type LegitIps, STEADY_RATE } from './benign.js';
import { L7_EPOCH_SEC, Line, LineFormat, NGINX_FORMAT } from './line.js';
import { AddressBook } from './networks.js';
import { findL7Scenario, type Group, L7_SCENARIOS } from './scenarios.js';

export interface L7TruthAttack {
  /** 1-based; the per-line label of this attack's lines. */
  label: number;
  vector: L7Vector;
  /** Which kind of the vector: flood, busy or slow stuffing, fast or slow scanner, slowloris. */
  group: 'flood' | 'stuffing_busy' | 'stuffing_slow' | 'scanner_fast' | 'scanner_slow' | 'slowloris';
  victim: { host: string };
  start: string;
  end: string;
  lines: number;
  /** Every address that sent a line of this attack, sorted. */
  ips: string[];
  /** The plan's parameters (bots, rates, UAs, header timeout …), for tests and reports. */
  params: Record<string, unknown>;
}

export interface L7Truth {
  scenario: string;
  seed: number;
  lines: number;
  start: string;
  end: string;
  duration_s: number;
  formats: { log: string; jsonl: 'HttpRequest' };
  attacks: L7TruthAttack[];
  benign: { lines: number };
  events: Array<{ kind: 'flash_crowd'; victim: { host: string }; path: string; start: string; end: string; lines: number; nat_egresses: string[] }>;
  /** Legitimate addresses a detector must not flag. */
  legit: { crawlers: string[]; monitors: string[]; nat_egresses: string[] };
  /** One byte per line in file order: 0 legitimate, k → attacks[k-1]. */
  labels: { encoding: 'base64-u8'; data: string };
}

export interface L7Options {
  lines: number;
  seed: number;
  noTruth?: boolean;
  /** Do not write X.jsonl (a benchmark's multi-million-line log needs only the nginx file). */
  noJson?: boolean;
}

export function isL7Scenario(name: string): boolean {
  return findL7Scenario(name) !== undefined;
}

export function l7ScenarioList(): Array<{ name: string; description: string }> {
  return L7_SCENARIOS.map((s) => ({ name: s.name, description: s.description }));
}

/** `X.log` → `X.jsonl` and `X.truth.json`. */
export function l7Paths(log: string): { jsonl: string; truth: string } {
  const base = log.replace(/\.log$/i, '');
  return { jsonl: `${base}.jsonl`, truth: `${base}.truth.json` };
}

function iso(sec: number): string {
  return new Date(Math.round((L7_EPOCH_SEC + sec) * 1000)).toISOString();
}

/** Lines per second a group adds while active, and lines it makes whatever the length. */
function groupLoad(g: Group, baselineRate: number): { rate: number; fixed: number } {
  switch (g.kind) {
    case 'flood':
      return { rate: (g.bots * (g.minRate + g.maxRate)) / 2, fixed: 0 };
    case 'stuffing':
      return g.slow ? { rate: 0, fixed: g.ips * 3 } : { rate: g.ips * g.rate * (g.formFirst ? 1.1 : 1), fixed: 0 };
    case 'scanner':
      return { rate: g.slow ? g.ips / g.rate : g.ips * g.rate, fixed: 0 };
    case 'slowloris':
      return { rate: (g.ips * g.conns) / g.timeout, fixed: 0 };
    case 'flash':
      return { rate: g.peakFactor * baselineRate * 0.8, fixed: 0 };
  }
}

const GROUP_NAME = {
  flood: () => 'flood',
  stuffing: (g: { slow: boolean }) => (g.slow ? 'stuffing_slow' : 'stuffing_busy'),
  scanner: (g: { slow: boolean }) => (g.slow ? 'scanner_slow' : 'scanner_fast'),
  slowloris: () => 'slowloris',
} as const;

const VECTOR: Record<'flood' | 'stuffing' | 'scanner' | 'slowloris', L7Vector> = {
  flood: 'http_flood',
  stuffing: 'credential_stuffing',
  scanner: 'scanner',
  slowloris: 'slowloris',
};

/**
 * A file written through one reused buffer. Lines are ASCII, so latin1 is their exact encoding and
 * the cheapest: no rope of a megabyte of concatenated strings to flatten, no garbage per flush.
 */
class Out {
  private readonly buf = Buffer.allocUnsafe(1 << 22);
  private off = 0;

  constructor(private readonly fd: number) {}

  put(s: string): void {
    if (this.off + s.length > this.buf.length) this.flush();
    this.off += this.buf.write(s, this.off, 'latin1');
  }

  flush(): void {
    let done = 0;
    while (done < this.off) done += writeSync(this.fd, this.buf, done, this.off - done);
    this.off = 0;
  }
}

/**
 * A binary min-heap of actors on `next`. The keys live in a typed array beside the actors: the
 * actors are of many classes, and reading `next` off each while sifting would be a megamorphic
 * load per level; here it is read once per step.
 */
class Merge {
  readonly acts: Actor[] = [];
  keys = new Float64Array(1024);

  push(x: Actor): void {
    const key = x.next;
    if (key === Number.POSITIVE_INFINITY) return;
    const a = this.acts;
    if (a.length === this.keys.length) {
      const k = new Float64Array(this.keys.length * 2);
      k.set(this.keys);
      this.keys = k;
    }
    const keys = this.keys;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((keys[p] as number) <= key) break;
      a[i] = a[p] as Actor;
      keys[i] = keys[p] as number;
      i = p;
    }
    a[i] = x;
    keys[i] = key;
  }

  /** The root's `next` changed: restore the order (removing it when it is done). */
  fixRoot(): void {
    const a = this.acts;
    const keys = this.keys;
    let x = a[0] as Actor;
    let key = x.next;
    if (key === Number.POSITIVE_INFINITY) {
      const last = a.pop() as Actor;
      if (a.length === 0) return;
      key = keys[a.length] as number;
      x = last;
    }
    const n = a.length;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && (keys[c + 1] as number) < (keys[c] as number)) c++;
      if ((keys[c] as number) >= key) break;
      a[i] = a[c] as Actor;
      keys[i] = keys[c] as number;
      i = c;
    }
    a[i] = x;
    keys[i] = key;
  }
}

export function generateL7(name: string, out: string, opts: L7Options): L7Truth {
  const sc = findL7Scenario(name);
  if (!sc) throw new RangeError(`unknown L7 scenario "${name}" (palisade generate --list)`);
  const N = Math.floor(opts.lines);
  const root = new Rng(opts.seed);
  const plan = sc.plan(root.fork(1));
  let rate = plan.baseline + STEADY_RATE;
  let fixed = 0;
  for (const g of plan.groups) {
    const load = groupLoad(g, plan.baseline);
    rate += load.rate * (g.f1 - g.f0);
    fixed += load.fixed;
  }
  const duration = Math.max(10, (N - fixed) / rate);

  const pending: Actor[] = [];
  const ctx: Ctx = { book: new AddressBook(root.fork(2)), spawn: (a) => pending.push(a) };
  const legit: LegitIps = { crawlers: new Set(), monitors: new Set(), natEgresses: new Set() };
  const merge = new Merge();
  // Background runs past the nominal end if the arrivals fall short of N lines.
  for (const a of baseline(root.fork(3), ctx, plan.baseline, Number.POSITIVE_INFINITY, legit)) merge.push(a);
  const attacks: L7TruthAttack[] = [];
  const events: L7Truth['events'] = [];
  let salt = 10;
  for (const g of plan.groups) {
    const rng = root.fork(salt++);
    const t0 = g.f0 * duration;
    const t1 = g.f1 * duration;
    if (g.kind === 'flash') {
      const span = t1 - t0;
      const profile: Profile = { t0, t1, peak: (g.peakFactor * plan.baseline) / FLASH_VISIT_LINES, up: span * 0.15, down: span * 0.3 };
      const flashLines = meanRate(profile) * span * FLASH_VISIT_LINES;
      // Enough egresses that each carries hundreds of requests, as a carrier's NAT does.
      const egresses = Math.max(4, Math.min(60, Math.round((g.natShare * flashLines) / 500)));
      merge.push(flashCrowd(rng, ctx, { profile, landing: g.landing, egresses, natShare: g.natShare, tag: events.length + 1 }, legit));
      events.push({ kind: 'flash_crowd', victim: { host: g.host }, path: g.landing.path, start: '', end: '', lines: 0, nat_egresses: [] });
      continue;
    }
    const label = attacks.length + 1;
    let actors: Actor[];
    const { kind, f0: _f0, f1: _f1, ...params } = g;
    if (g.kind === 'flood') actors = flood(rng, ctx, label, { ...g, t0, t1 });
    else if (g.kind === 'stuffing') actors = stuffing(rng, ctx, label, { ...g, t0, t1 });
    else if (g.kind === 'scanner') actors = scanners(rng, ctx, label, { ...g, t0, t1 });
    else actors = slowloris(rng, ctx, label, { ...g, t0, t1 });
    for (const a of actors) merge.push(a);
    attacks.push({
      label,
      vector: VECTOR[kind],
      group: GROUP_NAME[kind](g as { slow: boolean }) as L7TruthAttack['group'],
      victim: { host: g.host },
      start: '',
      end: '',
      lines: 0,
      ips: [],
      params,
    });
  }
  if (attacks.length > 254) throw new RangeError('too many attacks for one-byte labels');

  const { jsonl, truth: truthFile } = l7Paths(out);
  const logFd = openSync(out, 'w');
  const jsonFd = opts.noJson ? -1 : openSync(jsonl, 'w');
  const fmt = new LineFormat();
  const line = new Line();
  const labels = new Uint8Array(N);
  const ips = attacks.map(() => new Set<string>());
  const first = new Float64Array(attacks.length + 1).fill(-1);
  const last = new Float64Array(attacks.length + 1);
  const count = new Float64Array(attacks.length + 1);
  const evFirst = new Float64Array(events.length + 1).fill(-1);
  const evLast = new Float64Array(events.length + 1);
  const evCount = new Float64Array(events.length + 1);
  const egressSeen = new Set<string>();
  const logOut = new Out(logFd);
  const jsonOut = jsonFd < 0 ? null : new Out(jsonFd);
  let n = 0;
  let tFirst = -1;
  let tLast = 0;
  try {
    const acts = merge.acts;
    while (n < N && acts.length > 0) {
      const a = acts[0] as Actor;
      const t = merge.keys[0] as number;
      line.t = t;
      const wrote = a.step(line, ctx);
      merge.fixRoot();
      for (const p of pending) merge.push(p);
      pending.length = 0;
      if (!wrote) continue;
      const lab = a.label;
      labels[n++] = lab;
      if (first[lab] === -1) first[lab] = t;
      last[lab] = t;
      count[lab]++;
      if (lab > 0) (ips[lab - 1] as Set<string>).add(line.from.addr.ip);
      if (a.tag > 0) {
        if (evFirst[a.tag] === -1) evFirst[a.tag] = t;
        evLast[a.tag] = t;
        evCount[a.tag]++;
        if (legit.natEgresses.has(line.from.addr.ip)) egressSeen.add(line.from.addr.ip);
      }
      if (tFirst < 0) tFirst = t;
      tLast = t;
      logOut.put(fmt.nginx(line));
      jsonOut?.put(fmt.json(line));
    }
    logOut.flush();
    jsonOut?.flush();
  } finally {
    closeSync(logFd);
    if (jsonFd >= 0) closeSync(jsonFd);
  }
  for (const s of attacks) {
    const l = s.label;
    s.lines = count[l] as number;
    s.start = s.lines ? iso(first[l] as number) : '';
    s.end = s.lines ? iso(last[l] as number) : '';
    s.ips = [...(ips[l - 1] as Set<string>)].sort();
  }
  events.forEach((e, i) => {
    const k = i + 1;
    e.lines = evCount[k] as number;
    e.start = e.lines ? iso(evFirst[k] as number) : '';
    e.end = e.lines ? iso(evLast[k] as number) : '';
    e.nat_egresses = [...egressSeen].sort();
  });
  const truth: L7Truth = {
    scenario: name,
    seed: opts.seed,
    lines: n,
    start: iso(Math.max(tFirst, 0)),
    end: iso(tLast),
    duration_s: Math.round(duration * 1000) / 1000,
    formats: { log: NGINX_FORMAT, jsonl: 'HttpRequest' },
    attacks,
    benign: { lines: count[0] as number },
    events,
    legit: { crawlers: [...legit.crawlers].sort(), monitors: [...legit.monitors].sort(), nat_egresses: [...egressSeen].sort() },
    labels: { encoding: 'base64-u8', data: Buffer.from(labels.buffer, 0, n).toString('base64') },
  };
  if (!opts.noTruth) writeFileSync(truthFile, `${JSON.stringify(truth, null, 1)}\n`);
  return truth;
}

/** Decode the per-line labels of a truth record. */
export function l7TruthLabels(t: L7Truth): Uint8Array {
  return new Uint8Array(Buffer.from(t.labels.data, 'base64'));
}
