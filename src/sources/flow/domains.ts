/**
 * Per-exporter state: one Domain for each (protocol, exporter address, observation domain / source
 * id / sFlow sub-agent / v5 engine). Templates, sampling, sequence numbers and sFlow per-source
 * figures live on it.
 *
 * The table is open addressing over typed arrays, looked up once per datagram without allocating
 * (a Map keyed by a string of the address would build that string every time). It never shrinks:
 * exporters are few and long-lived; past `capacity` new ones are refused and counted.
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
    this.exporter6.set(exp.v6);
  }
}

const STRIDE = 6;

export class DomainTable {
  private readonly keys: Uint32Array;
  private readonly slots: Int32Array;
  private readonly mask: number;
  readonly domains: Domain[] = [];

  constructor(readonly capacity = 16384) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.mask = size - 1;
    this.keys = new Uint32Array(size * STRIDE);
    this.slots = new Int32Array(size).fill(-1);
  }

  /**
   * The domain for this exporter, created on first sight; null when the table is full. `port` is
   * the exporter's UDP source port where the protocol scopes templates by transport session
   * (IPFIX), 0 where it does not (NetFlow v9 keys by address and source id, RFC 3954 §5.1).
   */
  get(kind: number, exp: ExporterAddr, domainId: number, port = 0): Domain | null {
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
    let h = Math.imul(k0 ^ 0x9e3779b9, 0x85ebca6b);
    h = Math.imul(h ^ k1, 0xc2b2ae35);
    h = Math.imul(h ^ k2, 0x85ebca6b);
    h = Math.imul(h ^ k3, 0xc2b2ae35);
    h = Math.imul(h ^ k4, 0x85ebca6b);
    h = Math.imul(h ^ k5, 0xc2b2ae35);
    h ^= h >>> 15;
    const keys = this.keys;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const s = this.slots[i] as number;
      if (s < 0) {
        if (this.domains.length >= this.capacity) return null;
        const d = new Domain(kind, exp, domainId);
        const o = i * STRIDE;
        keys[o] = k0;
        keys[o + 1] = k1;
        keys[o + 2] = k2;
        keys[o + 3] = k3;
        keys[o + 4] = k4;
        keys[o + 5] = k5;
        this.slots[i] = this.domains.length;
        this.domains.push(d);
        return d;
      }
      const o = i * STRIDE;
      if (keys[o] === k0 && keys[o + 1] === k1 && keys[o + 2] === k2 && keys[o + 3] === k3 && keys[o + 4] === k4 && keys[o + 5] === k5) {
        return this.domains[s] as Domain;
      }
    }
  }
}

function word(a: Uint8Array, o: number): number {
  return (((a[o] as number) << 24) | ((a[o + 1] as number) << 16) | ((a[o + 2] as number) << 8) | (a[o + 3] as number)) >>> 0;
}
