/**
 * Flow records for the rule engine (engine.ts RecordModel): a ruleset written for packets runs on
 * NetFlow/IPFIX records and sFlow samples through the flow scheme, whose fields carry the packet
 * names. One record stands for its packets and bytes scaled by its sampling rate, at the time of
 * its last packet, spread back over its duration for rate limits.
 */
import { compileRuleFor } from '../rules/packet-ir.js';
import { flowScheme, flowWeight } from '../scheme/flow.js';
import type { Field } from '../scheme/types.js';
import type { FlowView } from '../sources/flow/record-view.js';
import type { RecordModel } from './engine.js';
import type { IpList } from './lists.js';
import type { RateKey } from './ruleset.js';

/** The record names its addresses (as the flow scheme's ip.src decides). */
function family(v: FlowView): number {
  if (v.ipVersion === 4) return 4;
  return v.ipVersion === 6 && v.src6Off >= 0 && v.dst6Off >= 0 ? 6 : 0;
}

function inAddr(l: IpList, v: FlowView, src: boolean): boolean {
  const fam = family(v);
  if (fam === 4) return l.has4(src ? v.src4 : v.dst4);
  if (fam === 6) return l.has6(v.buf, src ? v.src6Off : v.dst6Off);
  return false;
}

function read32(b: Uint8Array, o: number): number {
  return (((b[o] as number) << 24) | ((b[o + 1] as number) << 16) | ((b[o + 2] as number) << 8) | (b[o + 3] as number)) >>> 0;
}

/** Rate-limit key fields, read with the flow scheme's own accessors (NaN: missing). */
const KEY_INTS = new Map<string, (v: FlowView) => number>(
  ['ip.proto.num', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'icmp.type'].map((n) => [
    n,
    (flowScheme.fields.get(n) as Field<FlowView>).int as (v: FlowView) => number,
  ]),
);

const endMs = (v: FlowView): number => Math.max(v.endMs, v.startMs);

export const FLOW_MODEL: RecordModel<FlowView> = {
  kind: 'flow',
  compile: (expression, lists) => compileRuleFor(flowScheme, expression, lists),
  inList: (l, v) => (l.match === 'src' ? inAddr(l, v, true) : l.match === 'dst' ? inAddr(l, v, false) : inAddr(l, v, true) || inAddr(l, v, false)),
  sec: (v) => Math.floor(endMs(v) / 1000),
  nsec: (v) => (endMs(v) - Math.floor(endMs(v) / 1000) * 1000) * 1e6,
  spanNs: (v) => Math.max(0, v.endMs - v.startMs) * 1e6,
  packets: (v) => v.packets * flowWeight(v),
  bytes: (v) => v.bytes * flowWeight(v),
  // NetFlow and IPFIX count IP bytes; an sFlow sample's frame length includes the link header,
  // so its decoded packet's IP length is used when there is one.
  ipBytes: (v) => (v.hasPacket && v.packet.ipVersion !== 0 ? v.packet.ipLen : v.bytes) * flowWeight(v),
  ipVersion: family,
  addrWords(v, src, out) {
    const fam = family(v);
    if (fam === 4) {
      out.fill(0);
      out[0] = src ? v.src4 : v.dst4;
      return true;
    }
    if (fam !== 6) return false;
    const off = src ? v.src6Off : v.dst6Off;
    for (let i = 0; i < 4; i++) out[i] = read32(v.buf, off + 4 * i);
    return true;
  },
  keyInt(field: RateKey, v) {
    const x = (KEY_INTS.get(field) as (v: FlowView) => number)(v);
    return Number.isNaN(x) ? -1 : x;
  },
};
