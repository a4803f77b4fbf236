/**
 * IPFIX (RFC 7011): a 16-byte message header, then sets — 2 templates, 3 options templates, 256 and
 * up data. Templates belong to the transport session (exporter address and UDP source port) and
 * observation domain, as RFC 7011 §8 says and tshark keys them. Template records with a field count of 0 withdraw (id 2 / 3: all of the domain's
 * templates / options templates). Enterprise elements carry bit 15 and a 4-byte PEN. The header's
 * sequence number counts data records sent before this message, so a gap is lost records.
 */
import { u16, u32 } from './bytes.js';
import { configureDomain, decodeDataSet, holdDataSet, learnt, releaseLearnt, setExporter } from './data-set.js';
import type { Domain, ExporterAddr } from './domains.js';
import type { DecodeEnv } from './env.js';
import { FlowKind } from './record-view.js';
import { ipfixSequence } from './sequence.js';
import { MAX_TEMPLATE_FIELDS } from './template-cache.js';

export const IPFIX_HEADER = 16;

/** Decode one IPFIX message at b[off, end). Returns false when it was malformed. */
export function decodeIpfix(env: DecodeEnv, b: Uint8Array, off: number, end: number, exp: ExporterAddr): boolean {
  const stats = env.stats;
  if (end - off < IPFIX_HEADER) return false;
  const length = u16(b, off + 2);
  let ok = true;
  if (length < IPFIX_HEADER) return false;
  // The message ends where its header says; a shorter datagram is read as far as it goes.
  if (off + length < end) end = off + length;
  else if (off + length > end) ok = false;
  const exportSecs = u32(b, off + 4);
  const seq = u32(b, off + 8);
  const domainId = u32(b, off + 12);
  const d = env.domains.get(FlowKind.IPFIX, exp, domainId, exp.port);
  if (env.domains.created) configureDomain(env, d);

  const c = env.clock;
  c.exportSecs = exportSecs;
  c.sysUptimeMs = -1;
  setExporter(env.view, d, FlowKind.IPFIX);
  let records = 0;
  const flowsBefore = stats.flowRecords;
  let held = false;
  let p = off + IPFIX_HEADER;
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
    if (id === 2 || id === 3) {
      if (!templates(env, d, b, body, setEnd, id === 3)) ok = false;
    } else if (id >= 256) {
      const t = d.templates.get(id);
      if (t !== undefined) records += decodeDataSet(env, d, t, b, body, setEnd, 0);
      else {
        holdDataSet(env, d, id, b, body, setEnd);
        held = true;
      }
    } else stats.unknownSets++;
    p = setEnd;
  }
  if (env.learnt.length > 0) releaseLearnt(env, FlowKind.IPFIX);
  if (held) {
    // Records held for a template are not counted yet: the next message starts the count afresh.
    d.seqKnown = false;
    d.prevSeq = seq;
  } else {
    const gap = ipfixSequence(d, seq, records, stats.flowRecords - flowsBefore);
    if (gap > 0) stats.lostIpfixRecords += gap;
    else if (gap === -1) stats.sequenceReordered++;
    else if (gap === -2) stats.sequenceResets++;
  }
  return ok;
}

/**
 * A template or options template set. Each record: {id, field count[, scope field count]}, then
 * per field {element id (bit 15: enterprise), length[, PEN]}. Field count 0 withdraws.
 */
function templates(env: DecodeEnv, d: Domain, b: Uint8Array, p: number, end: number, options: boolean): boolean {
  const s = env.scratch;
  const stats = env.stats;
  while (end - p >= 4) {
    const id = u16(b, p);
    const count = u16(b, p + 2);
    if (count === 0) {
      p += 4;
      if (id === 0) return true; // zero padding
      if (id === (options ? 3 : 2)) env.cache.withdrawAll(d, options);
      else if (id >= 256) env.cache.withdraw(d, id);
      else {
        stats.malformedTemplates++;
        return false;
      }
      continue;
    }
    let scope = 0;
    if (options) {
      if (end - p < 6) {
        stats.malformedTemplates++;
        return false;
      }
      scope = u16(b, p + 4);
      p += 6;
    } else p += 4;
    if (id < 256 || count > MAX_TEMPLATE_FIELDS || (options && (scope === 0 || scope > count))) {
      stats.malformedTemplates++;
      return false;
    }
    s.scopeCount = scope;
    for (let i = 0; i < count; i++) {
      if (end - p < 4) {
        stats.malformedTemplates++;
        return false;
      }
      const raw = u16(b, p);
      s.lens[i] = u16(b, p + 2);
      p += 4;
      if (raw & 0x8000) {
        if (end - p < 4) {
          stats.malformedTemplates++;
          return false;
        }
        s.ies[i] = raw & 0x7fff;
        s.pens[i] = u32(b, p);
        p += 4;
      } else {
        s.ies[i] = raw;
        s.pens[i] = 0;
      }
    }
    s.count = count;
    const t = env.cache.put(d, id, options, s, false);
    if (t !== null) learnt(env, t);
  }
  return true;
}
