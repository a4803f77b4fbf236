/**
 * Per-exporter state: one Domain for each (protocol, exporter address, observation domain / source
 * id / sFlow sub-agent / v5 engine). Templates, sampling, sequence numbers and sFlow per-source
 * figures live on it.
 *
 * The table is open addressing over typed arrays, looked up once per datagram without allocating
 * (a Map keyed by a string of the address would build that string every time). It holds at most
 * `capacity` domains; past that the least recently seen one is evicted (counted) for the new one.
 */
import { ALL_MODES } from './sequence.js';
import type { Template } from './template-cache.js';

/** The exporter of the datagram being decoded: the UDP source, or the sFlow agent address. */
export class ExporterAddr {
  version = 4;
  v4 = 0;
  readonly v6 = new Uint8Array(16);
  /** UDP source port: part of an IPFIX transport session (RFC 7011 §8), 0 when unknown. */
  port = 0;

  set4(a: number): void {
    this.version = 4;
    this.v4 = a >>> 0;
  }

  set6(b: Uint8Array, off: number): void {
    this.version = 6;
    this.v4 = 0;
    for (let i = 0; i < 16; i++) this.v6[i] = b[off + i] as number;
  }
}

/** sFlow: what one data source (source id) of an agent last said. */
export interface SflowSourceState {
  lastSeq: number;
  lastDrops: number;
}

/** sFlow: the previous generic counters of one interface, for utilisation. */
export interface IfCounterState {
  uptimeMs: number;
  inOctets: number;
  outOctets: number;
}

export class Domain {
  readonly exporterVersion: number;
  readonly exporter4: number;
  readonly exporter6 = new Uint8Array(16);
  readonly templates = new Map<number, Template>();

  /** Sequence tracking (sequence.ts): the number the next datagram should carry. */
  seqKnown = false;
  nextSeq = 0;
  /** IPFIX: the previous message's sequence number, and how this exporter counts (sequence.ts). */
  prevSeq = 0;
  prevAll = 0;
  prevFlow = 0;
  seqModes = ALL_MODES;

  /** Sampling rate announced by options data for the whole domain (0: none yet). */
  optionsRate = 0;
  /** Per sampler / selector id, from options data carrying a sampler id. */
  readonly samplerRates = new Map<number, number>();
  /** The rate of the only sampler options data named, 0 when none or several. */
  soleSamplerRate = 0;
  /** Configured for this exporter (FlowDecoderOptions.samplingRates), 0 when not. */
  configuredRate = 0;
  /** IPFIX systemInitTimeMilliseconds from options data: the zero of flowStart/EndSysUpTime. */
  systemInitMs = 0;

  /** sFlow per-source and per-interface state (bounded by the decoder). */
  readonly sflowSources = new Map<number, SflowSourceState>();
  readonly ifCounters = new Map<number, IfCounterState>();

  constructor(
    readonly kind: number,
    exp: ExporterAddr,
    readonly domainId: number,
  ) {
    this.exporterVersion = exp.version;
    this.exporter4 = exp.v4;
    if (exp.version === 6) this.exporter6.set(exp.v6);
  }
}

const STRIDE = 6;

function hash(k0: number, k1: number, k2: number, k3: number, k4: number, k5: number): number {
  let h = Math.imul(k0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ k1, 0xc2b2ae35);
  h = Math.imul(h ^ k2, 0x85ebca6b);
  h = Math.imul(h ^ k3, 0xc2b2ae35);
  h = Math.imul(h ^ k4, 0x85ebca6b);
  h = Math.imul(h ^ k5, 0xc2b2ae35);
  return h ^ (h >>> 15);
}

export class DomainTable {
  private readonly keys: Uint32Array;
  /** Hash slot → domain index, -1 when empty. */
  private readonly slots: Int32Array;
  /** Domain index → its hash slot, and when it was last looked up (a counter). */
  private readonly slotOf: Int32Array;
  private readonly used: Float64Array;
  private tick = 0;
  private readonly mask: number;
  readonly domains: Domain[] = [];
  /** Set by `get`: whether the domain it returned was made just now. */
  created = false;
  /**
   * Called with a domain about to be dropped to make room (the table is full and a new exporter
   * came): the owner frees what hangs on it (templates, held data, per-domain state).
   */
  onEvict: ((d: Domain) => void) | null = null;

  constructor(readonly capacity = 16384) {
    capacity = Math.max(1, capacity);
    this.capacity = capacity;
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.keys = new Uint32Array(size * STRIDE);
    this.slots = new Int32Array(size).fill(-1);
    this.slotOf = new Int32Array(capacity);
    this.used = new Float64Array(capacity);
  }

  /**
   * The domain for this exporter, created on first sight. `port` is the exporter's UDP source port
   * where the protocol scopes templates by transport session (IPFIX), 0 where it does not (NetFlow
   * v9 keys by address and source id, RFC 3954 §5.1). When the table is full the least recently
   * seen domain makes room: a flood of made-up exporters cannot lock real ones out, and those that
   * keep sending keep their place.
   */
  get(kind: number, exp: ExporterAddr, domainId: number, port = 0): Domain {
    const k0 = ((port << 16) | (kind << 8) | exp.version) >>> 0;
    let k1: number;
    let k2: number;
    let k3: number;
    let k4: number;
    if (exp.version === 6) {
      const a = exp.v6;
      k1 = word(a, 0);
      k2 = word(a, 4);
      k3 = word(a, 8);
      k4 = word(a, 12);
    } else {
      k1 = exp.v4;
      k2 = 0;
      k3 = 0;
      k4 = 0;
    }
    const k5 = domainId >>> 0;
    const keys = this.keys;
    for (let i = hash(k0, k1, k2, k3, k4, k5) & this.mask; ; i = (i + 1) & this.mask) {
      const s = this.slots[i] as number;
      if (s >= 0) {
        const o = i * STRIDE;
        if (keys[o] === k0 && keys[o + 1] === k1 && keys[o + 2] === k2 && keys[o + 3] === k3 && keys[o + 4] === k4 && keys[o + 5] === k5) {
          this.used[s] = ++this.tick;
          this.created = false;
          return this.domains[s] as Domain;
        }
        continue;
      }
      // Not here. Full: evict first (its deletion may shift entries, so insert probes afresh).
      const index = this.domains.length < this.capacity ? this.domains.length : this.evictOldest();
      return this.insert(kind, exp, domainId, index, k0, k1, k2, k3, k4, k5);
    }
  }

  private insert(kind: number, exp: ExporterAddr, domainId: number, index: number, k0: number, k1: number, k2: number, k3: number, k4: number, k5: number): Domain {
    let i = hash(k0, k1, k2, k3, k4, k5) & this.mask;
    while ((this.slots[i] as number) >= 0) i = (i + 1) & this.mask;
    const o = i * STRIDE;
    const keys = this.keys;
    keys[o] = k0;
    keys[o + 1] = k1;
    keys[o + 2] = k2;
    keys[o + 3] = k3;
    keys[o + 4] = k4;
    keys[o + 5] = k5;
    const d = new Domain(kind, exp, domainId);
    this.slots[i] = index;
    this.slotOf[index] = i;
    this.used[index] = ++this.tick;
    if (index === this.domains.length) this.domains.push(d);
    else this.domains[index] = d;
    this.created = true;
    return d;
  }

  /** Drop the least recently seen domain (a scan: only when the table is full). Returns its index, now free. */
  private evictOldest(): number {
    let victim = 0;
    for (let j = 1; j < this.domains.length; j++) if ((this.used[j] as number) < (this.used[victim] as number)) victim = j;
    if (this.onEvict !== null) this.onEvict(this.domains[victim] as Domain);
    this.remove(this.slotOf[victim] as number);
    return victim;
  }

  /** Linear-probing deletion by backward shift: no tombstones, so lookups stay short. */
  private remove(i: number): void {
    const keys = this.keys;
    const mask = this.mask;
    this.slots[i] = -1;
    for (let j = (i + 1) & mask; (this.slots[j] as number) >= 0; j = (j + 1) & mask) {
      const o = j * STRIDE;
      const home = hash(keys[o] as number, keys[o + 1] as number, keys[o + 2] as number, keys[o + 3] as number, keys[o + 4] as number, keys[o + 5] as number) & mask;
      // Entry j may move to the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      keys.copyWithin(i * STRIDE, o, o + STRIDE);
      const s = this.slots[j] as number;
      this.slots[i] = s;
      this.slotOf[s] = i;
      this.slots[j] = -1;
      i = j;
    }
  }
}

function word(a: Uint8Array, o: number): number {
  return (((a[o] as number) << 24) | ((a[o + 1] as number) << 16) | ((a[o + 2] as number) << 8) | (a[o + 3] as number)) >>> 0;
}
