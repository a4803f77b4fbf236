/**
 * NetFlow v9 (RFC 3954): a 20-byte header, then flowsets — 0 templates, 1 options templates,
 * 256 and up data. Templates are per (exporter, source id). The header's sequence number counts
 * export packets, so a gap is lost datagrams.
 */
import { u16, u32 } from './bytes.js';
import { configureDomain, decodeDataSet, holdDataSet, learnt, releaseLearnt, setExporter } from './data-set.js';
import type { Domain, ExporterAddr } from './domains.js';
import type { DecodeEnv } from './env.js';
import { FlowKind } from './record-view.js';
import { sequenceAdvance, sequenceGap } from './sequence.js';

export const NETFLOW9_HEADER = 20;

/** Decode one v9 datagram at b[off, end). Returns false when it was malformed (counted once by the caller). */
export function decodeNetflow9(env: DecodeEnv, b: Uint8Array, off: number, end: number, exp: ExporterAddr): boolean {
  const stats = env.stats;
  if (end - off < NETFLOW9_HEADER) return false;
  const sysUptime = u32(b, off + 4);
  const unixSecs = u32(b, off + 8);
  const seq = u32(b, off + 12);
  const sourceId = u32(b, off + 16);
  const d = env.domains.get(FlowKind.NETFLOW9, exp, sourceId);
  if (env.domains.created) configureDomain(env, d);
  const gap = sequenceGap(d, seq);
  if (gap > 0) stats.lostNetflow9Datagrams += gap;
  else if (gap === -1) stats.sequenceReordered++;
  else if (gap === -2) stats.sequenceResets++;
  if (gap !== -1) sequenceAdvance(d, seq, 1);

  const c = env.clock;
  c.exportSecs = unixSecs;
  c.sysUptimeMs = sysUptime;
  setExporter(env.view, d, FlowKind.NETFLOW9);
  let ok = true;
  let p = off + NETFLOW9_HEADER;
  while (end - p >= 4) {
    const id = u16(b, p);
    const len = u16(b, p + 2);
    if (len < 4 || p + len > end) {
      stats.malformedSets++;
      ok = false;
      break;
    }
    const body = p + 4;
    const setEnd = p + len;
    if (id === 0) {
      if (!templates(env, d, b, body, setEnd)) ok = false;
    } else if (id === 1) {
      if (!optionsTemplates(env, d, b, body, setEnd)) ok = false;
    } else if (id >= 256) {
      const t = d.templates.get(id);
      if (t !== undefined) decodeDataSet(env, d, t, b, body, setEnd, 0);
      else holdDataSet(env, d, id, b, body, setEnd);
    } else stats.unknownSets++;
    p = setEnd;
  }
  if (env.learnt.length > 0) releaseLearnt(env, FlowKind.NETFLOW9);
  return ok;
}

/** A template flowset: {id, field count, (type, length) × count} repeated; the tail is padding. */
function templates(env: DecodeEnv, d: Domain, b: Uint8Array, p: number, end: number): boolean {
  const s = env.scratch;
  while (end - p >= 4) {
    const id = u16(b, p);
    const count = u16(b, p + 2);
    if (id === 0 && count === 0) return true; // zero padding
    p += 4;
    if (id < 256 || count === 0 || p + count * 4 > end) {
      env.stats.malformedTemplates++;
      return false;
    }
    s.count = count;
    s.scopeCount = 0;
    for (let i = 0; i < count; i++, p += 4) {
      s.ies[i] = u16(b, p);
      s.pens[i] = 0;
      s.lens[i] = u16(b, p + 2);
    }
    const t = env.cache.put(d, id, false, s, true);
    if (t !== null) learnt(env, t);
  }
  return true;
}

/**
 * An options template flowset: {id, scope length, options length} then the scope fields and the
 * option fields (each 4 bytes), then padding to 4 bytes.
 */
function optionsTemplates(env: DecodeEnv, d: Domain, b: Uint8Array, p: number, end: number): boolean {
  const s = env.scratch;
  while (end - p >= 6) {
    const id = u16(b, p);
    const scopeLen = u16(b, p + 2);
    const optLen = u16(b, p + 4);
    if (id === 0 && scopeLen === 0 && optLen === 0) return true;
    p += 6;
    const count = (scopeLen + optLen) >> 2;
    if (id < 256 || scopeLen % 4 !== 0 || optLen % 4 !== 0 || count === 0 || p + scopeLen + optLen > end) {
      env.stats.malformedTemplates++;
      return false;
    }
    s.count = count;
    s.scopeCount = scopeLen >> 2;
    for (let i = 0; i < count; i++, p += 4) {
      s.ies[i] = u16(b, p);
      s.pens[i] = 0;
      s.lens[i] = u16(b, p + 2);
    }
    const t = env.cache.put(d, id, true, s, true);
    if (t !== null) learnt(env, t);
  }
  return true;
}
