/**
 * NetFlow v5: a 24-byte header and `count` fixed 48-byte records. The header's flow sequence
 * counts flows exported before this datagram (a gap is lost flows); its sampling field holds the
 * mode in the top 2 bits and the interval in the low 14. The engine type and id make the domain.
 */
import { u16, u32 } from './bytes.js';
import { configureDomain, setExporter } from './data-set.js';
import type { ExporterAddr } from './domains.js';
import type { DecodeEnv } from './env.js';
import { FlowKind } from './record-view.js';
import { sequenceAdvance, sequenceGap } from './sequence.js';

export const NETFLOW5_HEADER = 24;
export const NETFLOW5_RECORD = 48;
/** Cisco's limit on records per v5 datagram. */
export const NETFLOW5_MAX_COUNT = 30;

/** Decode one v5 datagram at b[off, end). Returns false when it was malformed. */
export function decodeNetflow5(env: DecodeEnv, b: Uint8Array, off: number, end: number, exp: ExporterAddr): boolean {
  const stats = env.stats;
  if (end - off < NETFLOW5_HEADER) return false;
  let count = u16(b, off + 2);
  let ok = true;
  if (count === 0 || count > NETFLOW5_MAX_COUNT) return false;
  if (off + NETFLOW5_HEADER + count * NETFLOW5_RECORD > end) {
    // Fewer records than the header claims: read the whole ones there are.
    count = Math.floor((end - off - NETFLOW5_HEADER) / NETFLOW5_RECORD);
    ok = false;
  }
  const sysUptime = u32(b, off + 4);
  const secs = u32(b, off + 8);
  const nsecs = u32(b, off + 12);
  const seq = u32(b, off + 16);
  const engine = u16(b, off + 20);
  const interval = u16(b, off + 22) & 0x3fff;
  const d = env.domains.get(FlowKind.NETFLOW5, exp, engine);
  if (env.domains.created) configureDomain(env, d);
  const gap = sequenceGap(d, seq);
  if (gap > 0) stats.lostNetflow5Flows += gap;
  else if (gap === -1) stats.sequenceReordered++;
  else if (gap === -2) stats.sequenceResets++;
  if (gap !== -1) sequenceAdvance(d, seq, count);

  const rate = interval > 0 ? interval : d.configuredRate > 0 ? d.configuredRate : 1;
  // First/last are sysUpTime milliseconds: the header's clock makes them absolute.
  const bootMs = secs * 1000 + Math.floor(nsecs / 1e6) - sysUptime;
  const v = env.view;
  setExporter(v, d, FlowKind.NETFLOW5);
  v.buf = b;
  for (let i = 0, p = off + NETFLOW5_HEADER; i < count; i++, p += NETFLOW5_RECORD) {
    v.reset();
    v.ipVersion = 4;
    v.src4 = u32(b, p);
    v.dst4 = u32(b, p + 4);
    v.nextHop4 = u32(b, p + 8);
    v.inputIf = u16(b, p + 12);
    v.outputIf = u16(b, p + 14);
    v.packets = u32(b, p + 16);
    v.bytes = u32(b, p + 20);
    v.startMs = bootMs + u32(b, p + 24);
    v.endMs = bootMs + u32(b, p + 28);
    v.srcPort = u16(b, p + 32);
    v.dstPort = u16(b, p + 34);
    v.tcpFlags = b[p + 37] as number;
    v.proto = b[p + 38] as number;
    v.tos = b[p + 39] as number;
    v.srcAs = u16(b, p + 40);
    v.dstAs = u16(b, p + 42);
    v.samplingRate = rate;
    stats.flowRecords++;
    env.onFlow(v);
  }
  return ok;
}
