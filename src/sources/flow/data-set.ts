/**
 * Data sets of NetFlow v9 and IPFIX: records of a data template go to the callback with their
 * sampling rate; records of an options template update the domain (sampling, init time) instead.
 * Also the hold for sets whose template has not come yet, and the replay of that hold when it does.
 */
import { formatIpv4, formatIpv6 } from '../../core/net/ip.js';
import type { Domain } from './domains.js';
import type { DecodeEnv } from './env.js';
import { FlowFlag, type FlowKind, type FlowView } from './record-view.js';
import { decodeRecord, statedRate } from './records.js';
import { decodeSampledHeader } from './sampled-header.js';
import type { Template } from './template-cache.js';

/** Most sampler ids remembered per domain (options data could otherwise grow the map without end). */
const MAX_SAMPLERS = 256;

/** Copy the datagram-level fields of a domain into the view (once per datagram, not per record). */
export function setExporter(v: FlowView, d: Domain, kind: FlowKind): void {
  v.kind = kind;
  v.exporterVersion = d.exporterVersion;
  v.exporter4 = d.exporter4;
  v.exporter6.set(d.exporter6);
  v.domain = d.domainId;
}

/** The configured rate of a new domain's exporter (text made once per domain, not per datagram). */
export function configureDomain(env: DecodeEnv, d: Domain): void {
  const text = d.exporterVersion === 6 ? formatIpv6(d.exporter6) : formatIpv4(d.exporter4);
  d.configuredRate = env.configuredRate(text);
}

function rateFor(d: Domain, v: FlowView): number {
  const own = statedRate(v);
  if (own > 0) return own;
  if (v.samplerId >= 0) {
    const r = d.samplerRates.get(v.samplerId);
    if (r !== undefined) return r;
  }
  if (d.optionsRate > 0) return d.optionsRate;
  // Options data named a sampler but the records do not say which: with one sampler there is no doubt.
  if (d.soleSamplerRate > 0) return d.soleSamplerRate;
  if (d.configuredRate > 0) return d.configuredRate;
  return 1;
}

function applyOptions(env: DecodeEnv, d: Domain, v: FlowView): void {
  const rate = statedRate(v);
  if (rate > 0) {
    if (v.samplerId >= 0) {
      if (d.samplerRates.has(v.samplerId)) d.samplerRates.set(v.samplerId, rate);
      else if (d.samplerRates.size < MAX_SAMPLERS && env.stateEntries < env.maxStateEntries) {
        d.samplerRates.set(v.samplerId, rate);
        env.stateEntries++;
      }
      // Kept aside so records that name no sampler do not iterate the map (an allocation per record).
      if (d.samplerRates.size !== 1) d.soleSamplerRate = 0;
      else if (d.samplerRates.get(v.samplerId) === rate) d.soleSamplerRate = rate;
    } else d.optionsRate = rate;
  }
  if (v.systemInitMs > 0) d.systemInitMs = v.systemInitMs;
}

/**
 * Decode the records of b[p, end) with template t. Returns the records read; a record that runs
 * past the set stops the set (counted as malformed). What is left shorter than a record is padding.
 */
export function decodeDataSet(env: DecodeEnv, d: Domain, t: Template, b: Uint8Array, p: number, end: number, flags: number): number {
  const v = env.view;
  const stats = env.stats;
  v.buf = b;
  env.clock.systemInitMs = d.systemInitMs;
  const min = t.minLen;
  let n = 0;
  while (end - p >= min) {
    v.reset();
    v.templateId = t.id;
    const q = decodeRecord(t, b, p, end, v, env.clock);
    if (q < 0) {
      stats.malformedRecords++;
      break;
    }
    p = q;
    n++;
    if (t.options) {
      applyOptions(env, d, v);
      stats.optionsRecords++;
    } else {
      v.flags |= flags;
      v.samplingRate = rateFor(d, v);
      // A sampled frame and no addresses of its own (akvorado's datalink templates): read them from the frame.
      if (v.sectionLen > 0 && v.ipVersion === 0 && env.decodeHeaders)
        decodeSampledHeader(v, b, v.sectionOff, v.sectionOff + v.sectionLen, v.sectionLink, v.sectionFrameSize, v.startMs);
      stats.flowRecords++;
      if (flags & FlowFlag.FROM_PENDING) stats.pendingRecords++;
      env.onFlow(v);
    }
  }
  return n;
}

/** Keep a data set whose template is unknown, counting what the bounded hold had to drop. */
export function holdDataSet(env: DecodeEnv, d: Domain, tid: number, b: Uint8Array, p: number, end: number): void {
  const c = env.clock;
  env.stats.pendingHeld++;
  env.stats.pendingDropped += env.pending.hold(d, tid, b, p, end, c.exportSecs, c.sysUptimeMs);
}

/** A template just arrived: if data waits, decode it once the datagram is read (releaseHeld). */
export function learnt(env: DecodeEnv, t: Template): void {
  if (env.pending.size > 0 && env.pending.has(t.domain)) env.learnt.push(t);
}

/** At a datagram's end: decode what was held for the templates it brought, each with its own header times. */
export function releaseLearnt(env: DecodeEnv, kind: FlowKind): void {
  for (let i = 0; i < env.learnt.length; i++) {
    const t = env.learnt[i] as Template;
    if (t.live) releaseHeld(env, t.domain, t, kind);
  }
  env.learnt.length = 0;
}

function releaseHeld(env: DecodeEnv, d: Domain, t: Template, kind: FlowKind): void {
  const held = env.pending.take(d, t.id);
  if (held === null) return;
  const c = env.clock;
  const exportSecs = c.exportSecs;
  const uptime = c.sysUptimeMs;
  for (const h of held) {
    c.exportSecs = h.exportSecs;
    c.sysUptimeMs = h.sysUptimeMs;
    setExporter(env.view, d, kind);
    decodeDataSet(env, d, t, h.bytes, 0, h.bytes.length, FlowFlag.FROM_PENDING);
    env.stats.pendingDecodedSets++;
  }
  c.exportSecs = exportSecs;
  c.sysUptimeMs = uptime;
}
