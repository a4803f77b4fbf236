/**
 * sFlow v5 (sflow.org/sflow_version_5.txt): a datagram header naming the agent, then samples, each
 * {format, length} so anything unknown is skipped by length. Flow samples (1, expanded 3) become
 * one FlowView each, weighted by their sampling rate; the raw packet header record goes through
 * decode/ (decodeFrame), so every packet field works on a sample. Counter samples (2, expanded 4)
 * with generic interface counters become a CounterView with link utilisation.
 *
 * The exporter is the agent address in the datagram (not the UDP source: relays forward sFlow) and
 * the domain its sub-agent id. Datagram sequence gaps are lost datagrams; each source's sample
 * sequence gives lost samples and its drop counter the packets the agent could not sample.
 */
import { Link } from '../../decode/view.js';
import { u32, u64 } from './bytes.js';
import { configureDomain } from './data-set.js';
import { type Domain, ExporterAddr } from './domains.js';
import type { DecodeEnv } from './env.js';
import { type CounterView, FlowKind, type FlowView } from './record-view.js';
import { decodeSampledHeader } from './sampled-header.js';
import { sequenceAdvance, sequenceGap } from './sequence.js';

/** A sample or record count above this cannot fit a datagram of at most 64 KiB: absurd. */
const MAX_COUNT = 8192;
/** Most AS path entries kept (FlowView.asPath); longer paths keep their first entries. */
const MAX_AS_PATH = 32;

const agent = new ExporterAddr();

/** Decode one sFlow v5 datagram at b[off, end). Returns false when something in it was malformed. */
export function decodeSflow(env: DecodeEnv, b: Uint8Array, off: number, end: number, nowMs: number): boolean {
  const stats = env.stats;
  let p = off + 4; // version
  if (end - p < 8) return false;
  const addrType = u32(b, p);
  p += 4;
  if (addrType === 1) {
    if (end - p < 4) return false;
    agent.set4(u32(b, p));
    p += 4;
  } else if (addrType === 2) {
    if (end - p < 16) return false;
    agent.set6(b, p);
    p += 16;
  } else return false;
  if (end - p < 16) return false;
  const subAgent = u32(b, p);
  const seq = u32(b, p + 4);
  const uptime = u32(b, p + 8);
  const samples = u32(b, p + 12);
  p += 16;
  if (samples > MAX_COUNT) return false;
  const d = env.domains.get(FlowKind.SFLOW5, agent, subAgent);
  if (env.domains.created) configureDomain(env, d);
  const gap = sequenceGap(d, seq);
  if (gap > 0) stats.lostSflowDatagrams += gap;
  else if (gap === -1) stats.sequenceReordered++;
  else if (gap === -2) stats.sequenceResets++;
  if (gap !== -1) sequenceAdvance(d, seq, 1);

  const v = env.view;
  v.kind = FlowKind.SFLOW5;
  v.exporterVersion = agent.version;
  v.exporter4 = agent.v4;
  v.exporter6.set(agent.v6);
  v.domain = subAgent;
  v.buf = b;
  let ok = true;
  for (let i = 0; i < samples; i++) {
    if (end - p < 8) {
      stats.malformedSamples++;
      return false;
    }
    const format = u32(b, p);
    const len = u32(b, p + 4);
    p += 8;
    // XDR pads everything to 4 bytes: a length that is not a multiple of 4 is not sFlow.
    if (len > end - p || (len & 3) !== 0) {
      stats.malformedSamples++;
      return false;
    }
    const sEnd = p + len;
    switch (format) {
      case 1:
        if (!flowSample(env, d, b, p, sEnd, false, nowMs)) ok = false;
        break;
      case 3:
        if (!flowSample(env, d, b, p, sEnd, true, nowMs)) ok = false;
        break;
      case 2:
        if (!counterSample(env, d, b, p, sEnd, false, nowMs, uptime)) ok = false;
        break;
      case 4:
        if (!counterSample(env, d, b, p, sEnd, true, nowMs, uptime)) ok = false;
        break;
      default:
        stats.unknownSampleFormats++;
    }
    p = sEnd;
  }
  return ok;
}

function flowSample(env: DecodeEnv, d: Domain, b: Uint8Array, p: number, end: number, expanded: boolean, nowMs: number): boolean {
  const stats = env.stats;
  const v = env.view;
  const head = expanded ? 44 : 32;
  if (end - p < head) {
    stats.malformedSamples++;
    return false;
  }
  v.reset();
  v.sampleSeq = u32(b, p);
  let q = p + 4;
  if (expanded) {
    const type = u32(b, q);
    const index = u32(b, q + 4);
    v.sourceId = ((type & 0xff) << 24) | (index & 0xffffff);
    q += 8;
  } else {
    v.sourceId = u32(b, q);
    q += 4;
  }
  const rate = u32(b, q);
  v.samplingRate = rate > 0 ? rate : d.configuredRate > 0 ? d.configuredRate : 1;
  v.samplePool = u32(b, q + 4);
  v.drops = u32(b, q + 8);
  q += 12;
  if (expanded) {
    v.inputIf = u32(b, q + 4);
    v.outputIfFormat = u32(b, q + 8);
    v.outputIf = u32(b, q + 12);
    q += 16;
  } else {
    v.inputIf = u32(b, q) & 0x3fffffff;
    const out = u32(b, q + 4);
    v.outputIfFormat = out >>> 30;
    v.outputIf = out & 0x3fffffff;
    q += 8;
  }
  const records = u32(b, q);
  q += 4;
  if (records > MAX_COUNT) {
    stats.malformedSamples++;
    return false;
  }
  trackSource(env, d, v.sourceId >>> 0, v.sampleSeq, v.drops);
  v.startMs = nowMs;
  v.endMs = nowMs;
  let ok = true;
  for (let i = 0; i < records; i++) {
    if (end - q < 8) {
      stats.malformedSamples++;
      ok = false;
      break;
    }
    const format = u32(b, q);
    const len = u32(b, q + 4);
    q += 8;
    if (len > end - q || (len & 3) !== 0) {
      stats.malformedSamples++;
      ok = false;
      break;
    }
    if (!flowRecord(env, v, b, q, q + len, format, nowMs)) ok = false;
    q += len;
  }
  if (expanded) stats.expandedFlowSamples++;
  stats.flowSamples++;
  env.onFlow(v);
  return ok;
}

/** One flow record inside a flow sample. Returns false when its body is too short for its format. */
function flowRecord(env: DecodeEnv, v: FlowView, b: Uint8Array, p: number, end: number, format: number, nowMs: number): boolean {
  const len = end - p;
  switch (format) {
    case 1: {
      // Raw packet header: protocol, frame length, stripped, header length, header bytes.
      if (len < 16) return bad(env);
      const proto = u32(b, p);
      const frameLen = u32(b, p + 4);
      const hlen = u32(b, p + 12);
      if (hlen > len - 16) return bad(env);
      v.headerProtocol = proto;
      v.stripped = u32(b, p + 8);
      v.packets = 1;
      v.bytes = frameLen;
      if (env.decodeHeaders) {
        const link = proto === 1 ? Link.ETHERNET : proto === 11 ? Link.IPV4 : proto === 12 ? Link.IPV6 : -1;
        if (link >= 0) decodeSampledHeader(v, b, p + 16, p + 16 + hlen, link, frameLen, nowMs);
      }
      return true;
    }
    case 3: {
      // Sampled IPv4: length, protocol, src, dst, ports, TCP flags, TOS.
      if (len < 32) return bad(env);
      if (!v.hasPacket || v.ipVersion === 0) {
        v.packets = 1;
        if (v.headerProtocol < 0) v.bytes = u32(b, p);
        v.ipVersion = 4;
        v.proto = u32(b, p + 4) & 0xff;
        v.src4 = u32(b, p + 8);
        v.dst4 = u32(b, p + 12);
        v.srcPort = u32(b, p + 16) & 0xffff;
        v.dstPort = u32(b, p + 20) & 0xffff;
        v.tcpFlags = u32(b, p + 24) & 0xff;
        v.tos = u32(b, p + 28) & 0xff;
      }
      return true;
    }
    case 4: {
      if (len < 56) return bad(env);
      if (!v.hasPacket || v.ipVersion === 0) {
        v.packets = 1;
        if (v.headerProtocol < 0) v.bytes = u32(b, p);
        v.ipVersion = 6;
        v.proto = u32(b, p + 4) & 0xff;
        v.src6Off = p + 8;
        v.dst6Off = p + 24;
        v.srcPort = u32(b, p + 40) & 0xffff;
        v.dstPort = u32(b, p + 44) & 0xffff;
        v.tcpFlags = u32(b, p + 48) & 0xff;
        v.tos = u32(b, p + 52) & 0xff;
      }
      return true;
    }
    case 2: // Ethernet frame data: the raw header says more.
      return len >= 24 || bad(env);
    case 1001: // extended switch: source VLAN, priority, destination VLAN, priority
      if (len < 16) return bad(env);
      v.srcVlan = u32(b, p) & 0xfff;
      v.dstVlan = u32(b, p + 8) & 0xfff;
      return true;
    case 1002: {
      // extended router: next hop, source and destination prefix lengths
      if (len < 8) return bad(env);
      const t = u32(b, p);
      if (t === 1 && len >= 16) v.nextHop4 = u32(b, p + 4);
      return true;
    }
    case 1003:
      return gateway(env, v, b, p, end);
    default:
      env.stats.unknownRecordFormats++;
      return true;
  }
}

/** Extended gateway: next hop, the router's AS, source AS, source peer AS, the AS path segments. */
function gateway(env: DecodeEnv, v: FlowView, b: Uint8Array, p: number, end: number): boolean {
  if (end - p < 8) return bad(env);
  const t = u32(b, p);
  p += 4;
  if (t === 1) {
    v.nextHop4 = u32(b, p);
    p += 4;
  } else if (t === 2) p += 16;
  else return bad(env);
  if (end - p < 16) return bad(env);
  v.srcAs = u32(b, p + 4);
  const segments = u32(b, p + 12);
  p += 16;
  if (segments > MAX_COUNT) return bad(env);
  let n = 0;
  let last = 0;
  for (let s = 0; s < segments; s++) {
    if (end - p < 8) return bad(env);
    const count = u32(b, p + 4);
    p += 8;
    if (count > (end - p) / 4) return bad(env);
    for (let i = 0; i < count; i++, p += 4) {
      last = u32(b, p);
      if (n < MAX_AS_PATH) v.asPath[n++] = last;
    }
  }
  v.asPathLen = n;
  // The destination AS is the path's last (origin) AS; an empty path means the router's own AS.
  if (n > 0) v.dstAs = last;
  return true;
}

function bad(env: DecodeEnv): false {
  env.stats.malformedSamples++;
  return false;
}

/** Per source: sample sequence gaps (lost samples) and the growth of the drop counter. */
function trackSource(env: DecodeEnv, d: Domain, sourceId: number, seq: number, drops: number): void {
  const stats = env.stats;
  const s = d.sflowSources.get(sourceId);
  if (s === undefined) {
    if (d.sflowSources.size < env.maxSourcesPerAgent && env.stateEntries < env.maxStateEntries) {
      d.sflowSources.set(sourceId, { lastSeq: seq, lastDrops: drops });
      env.stateEntries++;
    }
    return;
  }
  const gap = (seq - s.lastSeq - 1) >>> 0;
  if (gap > 0 && gap < 1_000_000) stats.lostSflowSamples += gap;
  const grew = (drops - s.lastDrops) >>> 0;
  if (grew > 0 && grew < 0x80000000) stats.sflowDrops += grew;
  s.lastSeq = seq;
  s.lastDrops = drops;
}

function counterSample(env: DecodeEnv, d: Domain, b: Uint8Array, p: number, end: number, expanded: boolean, nowMs: number, uptime: number): boolean {
  const stats = env.stats;
  const head = expanded ? 16 : 12;
  if (end - p < head) {
    stats.malformedSamples++;
    return false;
  }
  const c = env.counters;
  c.sampleSeq = u32(b, p);
  c.sourceId = expanded ? (((u32(b, p + 4) & 0xff) << 24) | (u32(b, p + 8) & 0xffffff)) >>> 0 : u32(b, p + 4);
  const records = u32(b, p + head - 4);
  let q = p + head;
  if (records > MAX_COUNT) {
    stats.malformedSamples++;
    return false;
  }
  stats.counterSamples++;
  if (expanded) stats.expandedCounterSamples++;
  for (let i = 0; i < records; i++) {
    if (end - q < 8) return bad(env);
    const format = u32(b, q);
    const len = u32(b, q + 4);
    q += 8;
    if (len > end - q || (len & 3) !== 0) return bad(env);
    if (format === 1) {
      if (len < 88) return bad(env);
      genericCounters(env, d, c, b, q, nowMs, uptime);
    } else if (format >>> 12 !== 0) stats.unknownRecordFormats++;
    q += len;
  }
  return true;
}

function genericCounters(env: DecodeEnv, d: Domain, c: CounterView, b: Uint8Array, p: number, nowMs: number, uptime: number): void {
  const v = env.view;
  c.exporterVersion = v.exporterVersion;
  c.exporter4 = v.exporter4;
  c.exporter6.set(v.exporter6);
  c.domain = v.domain;
  c.timeMs = nowMs;
  c.uptimeMs = uptime;
  c.ifIndex = u32(b, p);
  c.ifType = u32(b, p + 4);
  c.ifSpeed = u64(b, p + 8);
  c.ifDirection = u32(b, p + 16);
  c.ifStatus = u32(b, p + 20);
  c.inOctets = u64(b, p + 24);
  c.inUcastPkts = u32(b, p + 32);
  c.inMulticastPkts = u32(b, p + 36);
  c.inBroadcastPkts = u32(b, p + 40);
  c.inDiscards = u32(b, p + 44);
  c.inErrors = u32(b, p + 48);
  c.inUnknownProtos = u32(b, p + 52);
  c.outOctets = u64(b, p + 56);
  c.outUcastPkts = u32(b, p + 64);
  c.outMulticastPkts = u32(b, p + 68);
  c.outBroadcastPkts = u32(b, p + 72);
  c.outDiscards = u32(b, p + 76);
  c.outErrors = u32(b, p + 80);
  c.promiscuous = u32(b, p + 84);
  c.intervalMs = Number.NaN;
  c.inBps = Number.NaN;
  c.outBps = Number.NaN;
  c.inUtilisation = Number.NaN;
  c.outUtilisation = Number.NaN;
  const prev = d.ifCounters.get(c.ifIndex);
  if (prev !== undefined) {
    const dt = (uptime - prev.uptimeMs) >>> 0;
    // Counters that went backwards (agent restart, 64-bit wrap) give no figure for this interval.
    if (dt > 0 && dt < 0x80000000 && c.inOctets >= prev.inOctets && c.outOctets >= prev.outOctets) {
      c.intervalMs = dt;
      c.inBps = ((c.inOctets - prev.inOctets) * 8000) / dt;
      c.outBps = ((c.outOctets - prev.outOctets) * 8000) / dt;
      if (c.ifSpeed > 0) {
        c.inUtilisation = c.inBps / c.ifSpeed;
        c.outUtilisation = c.outBps / c.ifSpeed;
      }
    }
    prev.uptimeMs = uptime;
    prev.inOctets = c.inOctets;
    prev.outOctets = c.outOctets;
  } else if (d.ifCounters.size < env.maxSourcesPerAgent && env.stateEntries < env.maxStateEntries) {
    d.ifCounters.set(c.ifIndex, { uptimeMs: uptime, inOctets: c.inOctets, outOctets: c.outOctets });
    env.stateEntries++;
  }
  env.stats.interfaceCounters++;
  if (env.onCounters !== null) env.onCounters(c);
}
